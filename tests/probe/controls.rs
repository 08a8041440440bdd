//! Ordinary operations that the sandbox must leave working, so that the refusals the other
//! checks see are the filter's doing and not a broken process.

use std::path::Path;
use std::process::{Command, Stdio};

use nix::errno::Errno;
use nix::sys::socket::{socket, AddressFamily, SockFlag, SockType};
use nix::unistd::getpid;

use crate::args::{exact, Usage};
use crate::child::{run_in_child, Ending};
use crate::report::{errno_text, io_text, Outcome, Report};

/// Where a `true` program may live.
const TRUE_PROGRAMS: [&str; 2] = ["/bin/true", "/usr/bin/true"];

/// `controls`: results `fork`, `exec`, `chmod-efault`, `socket-unix`, `socket-inet` and
/// `getpid-is-2-or-more`.
pub fn controls(args: &[String], report: &mut Report) -> Result<(), Usage> {
    exact::<0>(args)?;
    report.item("fork", forks());
    report.item("exec", execs_true());
    report.item("chmod-efault", chmod_faults());
    report.item(
        "socket-unix",
        opens_socket(AddressFamily::Unix, SockType::Stream),
    );
    report.item(
        "socket-inet",
        opens_socket(AddressFamily::Inet, SockType::Datagram),
    );
    report.item("getpid-is-2-or-more", is_not_init());
    Ok(())
}

fn forks() -> Outcome {
    match run_in_child(|| 0)? {
        Ending::Exited(0) => Ok(()),
        Ending::Exited(code) => Err(format!("the child exited with {code}, expected 0")),
        Ending::Killed(signal) => Err(format!("the child was killed by {signal}, expected exit 0")),
    }
}

fn execs_true() -> Outcome {
    let program = TRUE_PROGRAMS
        .iter()
        .find(|path| Path::new(path).exists())
        .ok_or_else(|| format!("none of {} exists", TRUE_PROGRAMS.join(", ")))?;
    let status = Command::new(program)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|error| format!("cannot run {program}: {}", io_text(&error)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{program} ended with {status}, expected exit 0"))
    }
}

/// A path argument at address 1, in the never-mapped first page.
const BAD_POINTER: libc::c_long = 1;

fn chmod_faults() -> Outcome {
    // SAFETY: the kernel reads the path from a bad address and fails with EFAULT before it
    // changes anything; no memory of the probe is touched.
    #[cfg(target_arch = "x86_64")]
    let result = unsafe { libc::syscall(libc::SYS_chmod, BAD_POINTER, 0o644 as libc::c_long) };
    // Newer architectures have no chmod: fchmodat from the working folder is the same call.
    // SAFETY: as above.
    #[cfg(not(target_arch = "x86_64"))]
    let result = unsafe {
        libc::syscall(
            libc::SYS_fchmodat,
            libc::AT_FDCWD as libc::c_long,
            BAD_POINTER,
            0o644 as libc::c_long,
        )
    };
    if result != -1 {
        return Err(format!("succeeded (returned {result}), expected EFAULT"));
    }
    match Errno::last() {
        Errno::EFAULT => Ok(()),
        errno => Err(format!("{}, expected EFAULT", errno_text(errno))),
    }
}

fn opens_socket(family: AddressFamily, kind: SockType) -> Outcome {
    socket(family, kind, SockFlag::SOCK_CLOEXEC, None)
        .map(drop)
        .map_err(|errno| {
            format!(
                "socket({family:?}, {kind:?}) failed with {}",
                errno_text(errno)
            )
        })
}

fn is_not_init() -> Outcome {
    let pid = getpid().as_raw();
    if pid >= 2 {
        Ok(())
    } else {
        Err(format!(
            "pid is {pid}, expected 2 or more: no init runs as pid 1"
        ))
    }
}
