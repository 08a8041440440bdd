//! Foreign system call ABIs: an x86_64 process that makes an x32 or an i386 call must be
//! killed by SIGSYS, as the filter cannot check their numbers against its policy.

use crate::args::{exact, Usage};
use crate::report::Report;

/// `foreign-abi-killed`: results `x32` and `i386`, each call made in a child of its own.
pub fn foreign_abi_killed(args: &[String], report: &mut Report) -> Result<(), Usage> {
    exact::<0>(args)?;
    checks::run(report);
    Ok(())
}

#[cfg(target_arch = "x86_64")]
mod checks {
    use nix::errno::Errno;
    use nix::sys::signal::Signal;
    use nix::unistd::getpid;

    use crate::child::{run_in_child, Ending};
    use crate::report::{Outcome, Report};

    /// The x32 ABI: x86_64 numbers with bit 30 set.
    const X32_SYSCALL_BIT: libc::c_long = 0x4000_0000;
    /// getpid in the i386 table.
    const I386_GETPID: i32 = 20;

    pub fn run(report: &mut Report) {
        report.item("x32", is_killed_by_sigsys(x32_getpid));
        report.item("i386", is_killed_by_sigsys(i386_getpid));
    }

    /// The child's exit code when the call returned: 0 when it answered the pid, the errno
    /// when it failed, 255 for anything else.
    fn exit_code(returned: libc::c_long) -> i32 {
        if returned == libc::c_long::from(getpid().as_raw()) {
            0
        } else if (-4095..0).contains(&returned) {
            i32::try_from(-returned).map_or(255, |errno| errno.min(255))
        } else {
            255
        }
    }

    fn x32_getpid() -> i32 {
        // SAFETY: getpid takes no arguments and touches no memory, in any ABI.
        let returned = unsafe { libc::syscall(X32_SYSCALL_BIT | libc::SYS_getpid) };
        // glibc's syscall() turns a failure into -1 and errno.
        exit_code(if returned == -1 {
            -libc::c_long::from(Errno::last_raw())
        } else {
            returned
        })
    }

    fn i386_getpid() -> i32 {
        let mut eax = I386_GETPID;
        // SAFETY: `int 0x80` enters the i386 system call table; getpid takes no arguments,
        // touches no memory and answers in eax. The compat entry may clear r8-r11.
        unsafe {
            core::arch::asm!(
                "int 0x80",
                inout("eax") eax,
                out("r8") _,
                out("r9") _,
                out("r10") _,
                out("r11") _,
            );
        }
        exit_code(libc::c_long::from(eax))
    }

    fn is_killed_by_sigsys(body: fn() -> i32) -> Outcome {
        match run_in_child(body)? {
            Ending::Killed(Signal::SIGSYS) => Ok(()),
            Ending::Killed(signal) => {
                Err(format!("the child was killed by {signal}, expected SIGSYS"))
            }
            Ending::Exited(0) => {
                Err("the call ran and answered the pid, expected death by SIGSYS".to_string())
            }
            Ending::Exited(255) => {
                Err("the call returned an unexpected value, expected death by SIGSYS".to_string())
            }
            Ending::Exited(code) => Err(format!(
                "the call failed with {}, expected death by SIGSYS",
                crate::report::errno_text(Errno::from_raw(code))
            )),
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod checks {
    use crate::report::Report;

    pub fn run(report: &mut Report) {
        report.whole(Err(
            "only x86_64 has foreign ABIs this check knows how to call".to_string(),
        ));
    }
}
