//! The seccomp filter seen from inside: each filtered call is made with arguments the kernel
//! itself refuses (a bad descriptor, address 1, unknown flags), so that without the filter
//! it fails with EBADF, EFAULT or EINVAL and changes nothing, and with the filter it fails
//! with the filter's errno.

use libc::{c_int, c_long};
use nix::errno::Errno;
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use crate::args::{exact, Usage};
use crate::report::{errno_text, Outcome, Report};

/// An address in the never-mapped first page: a kernel that reads it answers EFAULT.
const BAD_POINTER: c_long = 1;
/// Every bit set: unknown flags, modes or commands, which the kernel answers with EINVAL.
const ALL_BITS: c_long = -1;
const BAD_FD: c_long = -1;
/// An unknown `syslog`, `keyctl`, `mbind` or `bpf` command or mode.
const BAD_COMMAND: c_long = 0xffff;
/// A socket type above SOCK_MAX: every family the kernel has answers EINVAL and opens
/// nothing, those it lacks answer EAFNOSUPPORT.
const BAD_SOCKET_TYPE: c_long = 15;
/// CLONE_THREAD without CLONE_SIGHAND is always EINVAL, checked before any namespace is
/// made or child created: added to a namespace flag, clone fails without the filter too.
const CLONE_INVALID: c_long = libc::CLONE_THREAD as c_long;
/// The persona an app may keep, and another (PER_LINUX32) it may not take.
const PER_LINUX: c_long = 0;
const PER_LINUX32: c_long = 0x0008;
/// `personality(0xffffffff)` asks for the current persona and changes nothing.
const PERSONALITY_QUERY: c_long = 0xffff_ffff;
/// `ioctl`'s request is 32 bits to the kernel; a filter that compares all 64 must still match.
const HIGH_BITS: c_long = 0x1_0000_0000;

/// What the sandbox must answer.
#[derive(Clone, Copy)]
enum Expect {
    Errno(Errno),
    Success,
}

/// What to undo when a call that should have been refused went through.
#[derive(Clone, Copy, PartialEq)]
enum Cleanup {
    Nothing,
    CloseFd,
    ReapChild,
    RestorePersonality,
}

/// One system call to try.
struct Call {
    name: &'static str,
    nr: c_long,
    args: [c_long; 6],
    expect: Expect,
    /// allow_userns lifts the refusal: `syscalls-userns` passes anything but EPERM.
    lifted_by_userns: bool,
    cleanup: Cleanup,
    /// The call returns a C int that the kernel zero-extends (modify_ldt): -22 comes back
    /// as 4294967274.
    returns_int: bool,
}

impl Call {
    const fn new<const N: usize>(
        name: &'static str,
        nr: c_long,
        given: [c_long; N],
        expect: Expect,
    ) -> Call {
        // Evaluated at compile time: a call given more than six arguments fails the build.
        let mut args = [0; 6];
        let mut index = 0;
        while index < N {
            args[index] = given[index];
            index += 1;
        }
        Call {
            name,
            nr,
            args,
            expect,
            lifted_by_userns: false,
            cleanup: Cleanup::Nothing,
            returns_int: false,
        }
    }

    const fn lifted_by_userns(self) -> Call {
        Call {
            lifted_by_userns: true,
            ..self
        }
    }

    const fn cleanup(self, cleanup: Cleanup) -> Call {
        Call { cleanup, ..self }
    }

    const fn returns_int(self) -> Call {
        Call {
            returns_int: true,
            ..self
        }
    }
}

const fn eperm<const N: usize>(name: &'static str, nr: c_long, args: [c_long; N]) -> Call {
    Call::new(name, nr, args, Expect::Errno(Errno::EPERM))
}

const fn enosys<const N: usize>(name: &'static str, nr: c_long, args: [c_long; N]) -> Call {
    Call::new(name, nr, args, Expect::Errno(Errno::ENOSYS))
}

const fn refused_family(name: &'static str, family: c_int) -> Call {
    Call::new(
        name,
        libc::SYS_socket,
        [family as c_long, BAD_SOCKET_TYPE, 0],
        Expect::Errno(Errno::EAFNOSUPPORT),
    )
    .cleanup(Cleanup::CloseFd)
}

/// `clone(flags | CLONE_THREAD)`: s390 takes the stack first and the flags second.
const fn clone_namespace(name: &'static str, flag: c_int) -> Call {
    let flags = flag as c_long | CLONE_INVALID;
    let args = if cfg!(target_arch = "s390x") {
        [0, flags]
    } else {
        [flags, 0]
    };
    eperm(name, libc::SYS_clone, args)
        .lifted_by_userns()
        .cleanup(Cleanup::ReapChild)
}

/// Refused with EPERM, in the order of the filter's policy.
const REFUSED: &[Call] = &[
    eperm("syslog", libc::SYS_syslog, [BAD_COMMAND, 0, 0]),
    eperm("acct", libc::SYS_acct, [BAD_POINTER]),
    // The quota type is the low byte of the command: 0xff is no type.
    eperm(
        "quotactl",
        libc::SYS_quotactl,
        [ALL_BITS, BAD_POINTER, 0, BAD_POINTER],
    ),
    eperm(
        "add_key",
        libc::SYS_add_key,
        [BAD_POINTER, BAD_POINTER, 0, 0, 0],
    ),
    eperm("keyctl", libc::SYS_keyctl, [BAD_COMMAND, 0, 0, 0, 0]),
    eperm(
        "request_key",
        libc::SYS_request_key,
        [BAD_POINTER, BAD_POINTER, 0, 0],
    ),
    eperm(
        "move_pages",
        libc::SYS_move_pages,
        [0, 1, BAD_POINTER, 0, BAD_POINTER, ALL_BITS],
    ),
    eperm("mbind", libc::SYS_mbind, [0, 0, BAD_COMMAND, 0, 0, 0]),
    eperm(
        "get_mempolicy",
        libc::SYS_get_mempolicy,
        [0, 0, 0, 0, ALL_BITS],
    ),
    eperm(
        "set_mempolicy",
        libc::SYS_set_mempolicy,
        [BAD_COMMAND, 0, 0],
    ),
    // A node count above PAGE_SIZE * 8 is EINVAL before any page moves.
    eperm(
        "migrate_pages",
        libc::SYS_migrate_pages,
        [0, ALL_BITS, BAD_POINTER, BAD_POINTER],
    ),
    eperm("unshare", libc::SYS_unshare, [ALL_BITS]).lifted_by_userns(),
    eperm("setns", libc::SYS_setns, [BAD_FD, 0]).lifted_by_userns(),
    eperm(
        "mount",
        libc::SYS_mount,
        [BAD_POINTER, BAD_POINTER, BAD_POINTER, 0, BAD_POINTER],
    ),
    eperm("umount2", libc::SYS_umount2, [BAD_POINTER, ALL_BITS]),
    eperm(
        "pivot_root",
        libc::SYS_pivot_root,
        [BAD_POINTER, BAD_POINTER],
    ),
    eperm("chroot", libc::SYS_chroot, [BAD_POINTER]).lifted_by_userns(),
    clone_namespace("clone-newuser", libc::CLONE_NEWUSER),
    clone_namespace("clone-newns", libc::CLONE_NEWNS),
    clone_namespace("clone-newnet", libc::CLONE_NEWNET),
    clone_namespace("clone-newpid", libc::CLONE_NEWPID),
    eperm(
        "ioctl-tiocsti",
        libc::SYS_ioctl,
        [BAD_FD, libc::TIOCSTI as c_long, BAD_POINTER],
    ),
    eperm(
        "ioctl-tiocsti-highbits",
        libc::SYS_ioctl,
        [BAD_FD, HIGH_BITS | libc::TIOCSTI as c_long, BAD_POINTER],
    ),
    eperm(
        "ioctl-tioclinux",
        libc::SYS_ioctl,
        [BAD_FD, libc::TIOCLINUX as c_long, BAD_POINTER],
    ),
    eperm(
        "perf_event_open",
        libc::SYS_perf_event_open,
        [BAD_POINTER, 0, -1, -1, 0],
    ),
    // Pid 0 is no process: ESRCH.
    eperm(
        "ptrace",
        libc::SYS_ptrace,
        [libc::PTRACE_PEEKDATA as c_long, 0, 0, 0],
    ),
    eperm(
        "process_vm_readv",
        libc::SYS_process_vm_readv,
        [0, 0, 0, 0, 0, ALL_BITS],
    ),
    eperm(
        "process_vm_writev",
        libc::SYS_process_vm_writev,
        [0, 0, 0, 0, 0, ALL_BITS],
    ),
    // No argument makes this one fail by itself: unfiltered, the old persona is restored.
    eperm("personality-other", libc::SYS_personality, [PER_LINUX32])
        .cleanup(Cleanup::RestorePersonality),
    eperm("bpf", libc::SYS_bpf, [BAD_COMMAND, 0, 0]),
    // Taking another process's descriptor (init's status pipe, a joined command's terminal).
    eperm("pidfd_getfd", libc::SYS_pidfd_getfd, [BAD_FD, 0, ALL_BITS]),
    eperm(
        "process_madvise",
        libc::SYS_process_madvise,
        [BAD_FD, BAD_POINTER, 1, 0, ALL_BITS],
    ),
    eperm("userfaultfd", libc::SYS_userfaultfd, [ALL_BITS]),
    eperm("kexec_load", libc::SYS_kexec_load, [0, 0, 0, ALL_BITS]),
    eperm(
        "kexec_file_load",
        libc::SYS_kexec_file_load,
        [BAD_FD, BAD_FD, 0, 0, ALL_BITS],
    ),
    // Shorter than an ELF header: ENOEXEC.
    eperm(
        "init_module",
        libc::SYS_init_module,
        [BAD_POINTER, 0, BAD_POINTER],
    ),
    eperm(
        "finit_module",
        libc::SYS_finit_module,
        [BAD_FD, BAD_POINTER, ALL_BITS],
    ),
    eperm("delete_module", libc::SYS_delete_module, [BAD_POINTER, 0]),
    // Without the magic numbers reboot is EINVAL.
    eperm("reboot", libc::SYS_reboot, [0, 0, 0, 0]),
    eperm("swapon", libc::SYS_swapon, [BAD_POINTER, ALL_BITS]),
    eperm("swapoff", libc::SYS_swapoff, [BAD_POINTER]),
    eperm(
        "settimeofday",
        libc::SYS_settimeofday,
        [BAD_POINTER, BAD_POINTER],
    ),
    eperm(
        "clock_settime",
        libc::SYS_clock_settime,
        [libc::CLOCK_REALTIME as c_long, BAD_POINTER],
    ),
    eperm("sethostname", libc::SYS_sethostname, [BAD_POINTER, -1]),
    eperm("setdomainname", libc::SYS_setdomainname, [BAD_POINTER, -1]),
    eperm(
        "open_by_handle_at",
        libc::SYS_open_by_handle_at,
        [BAD_FD, BAD_POINTER, 0],
    ),
];

/// Refused with EPERM, for calls only x86_64 has.
#[cfg(target_arch = "x86_64")]
const REFUSED_ON_THIS_ARCH: &[Call] = &[
    eperm("uselib", libc::SYS_uselib, [BAD_POINTER]),
    // Writing an LDT entry of 0 bytes is EINVAL.
    eperm("modify_ldt", libc::SYS_modify_ldt, [1, 0, 0]).returns_int(),
    eperm("iopl", libc::SYS_iopl, [4]),
    // An empty port range is EINVAL.
    eperm("ioperm", libc::SYS_ioperm, [0, 0, 0]),
];

#[cfg(not(target_arch = "x86_64"))]
const REFUSED_ON_THIS_ARCH: &[Call] = &[];

/// Refused with ENOSYS (so that libraries fall back to older calls) or EAFNOSUPPORT, and
/// the one persona allowed.
const OTHERS: &[Call] = &[
    // A size below the first version of clone_args is EINVAL.
    enosys("clone3", libc::SYS_clone3, [0, 0]),
    enosys(
        "open_tree",
        libc::SYS_open_tree,
        [BAD_FD, BAD_POINTER, ALL_BITS],
    ),
    enosys(
        "move_mount",
        libc::SYS_move_mount,
        [BAD_FD, BAD_POINTER, BAD_FD, BAD_POINTER, ALL_BITS],
    ),
    enosys("fsopen", libc::SYS_fsopen, [BAD_POINTER, ALL_BITS]),
    enosys("fsconfig", libc::SYS_fsconfig, [BAD_FD, ALL_BITS, 0, 0, 0]),
    enosys("fsmount", libc::SYS_fsmount, [BAD_FD, ALL_BITS, 0]),
    enosys("fspick", libc::SYS_fspick, [BAD_FD, BAD_POINTER, ALL_BITS]),
    enosys(
        "mount_setattr",
        libc::SYS_mount_setattr,
        [BAD_FD, BAD_POINTER, ALL_BITS, BAD_POINTER, 0],
    ),
    enosys("io_uring_setup", libc::SYS_io_uring_setup, [0, BAD_POINTER]),
    enosys(
        "io_uring_enter",
        libc::SYS_io_uring_enter,
        [BAD_FD, 0, 0, ALL_BITS, 0, 0],
    ),
    enosys(
        "io_uring_register",
        libc::SYS_io_uring_register,
        [BAD_FD, 0, 0, 0],
    ),
    refused_family("socket-packet", libc::AF_PACKET),
    refused_family("socket-bluetooth", libc::AF_BLUETOOTH),
    refused_family("socket-alg", libc::AF_ALG),
    refused_family("socket-vsock", libc::AF_VSOCK),
    refused_family("socket-family-100", 100),
    Call::new(
        "personality-linux",
        libc::SYS_personality,
        [PER_LINUX],
        Expect::Success,
    ),
    Call::new(
        "personality-query",
        libc::SYS_personality,
        [PERSONALITY_QUERY],
        Expect::Success,
    ),
];

/// `syscalls`: one result per call.
pub fn syscalls(args: &[String], report: &mut Report) -> Result<(), Usage> {
    try_all(args, report, false)
}

/// `syscalls-userns`: as `syscalls`, but the namespace calls may be refused by anything but
/// the filter's EPERM, or succeed.
pub fn syscalls_userns(args: &[String], report: &mut Report) -> Result<(), Usage> {
    try_all(args, report, true)
}

fn try_all(args: &[String], report: &mut Report, allow_userns: bool) -> Result<(), Usage> {
    exact::<0>(args)?;
    for call in REFUSED.iter().chain(REFUSED_ON_THIS_ARCH).chain(OTHERS) {
        let result = make(call);
        report.item(call.name, judge(call, allow_userns, result));
    }
    Ok(())
}

/// A call that went through, and what was undone after it.
struct Made {
    value: c_long,
    undone: &'static str,
}

fn make(call: &Call) -> Result<Made, Errno> {
    let [a0, a1, a2, a3, a4, a5] = call.args;
    // SAFETY: every call of the tables passes only integers, NULL or the never-mapped
    // address 1: the kernel writes no memory of the probe, and the arguments are ones it
    // refuses. The calls that can still go through unfiltered are undone below.
    let value = unsafe { libc::syscall(call.nr, a0, a1, a2, a3, a4, a5) };
    if value == -1 {
        return Err(Errno::last());
    }
    // The low 32 bits are the answer; the truncation is the point.
    let value = if call.returns_int {
        c_long::from(value as u32 as i32)
    } else {
        value
    };
    if (-4095..0).contains(&value) {
        return Err(Errno::from_raw(i32::try_from(-value).unwrap_or(0)));
    }
    let undone = match call.cleanup {
        Cleanup::Nothing => "",
        Cleanup::CloseFd => {
            if let Ok(fd) = c_int::try_from(value) {
                // SAFETY: the call just returned this descriptor, which nothing else owns.
                unsafe { libc::close(fd) };
            }
            ", a descriptor, closed"
        }
        Cleanup::ReapChild if value == 0 => {
            // SAFETY: this is the child of a clone that returned here: it leaves at once,
            // through exit(2) for its own task only, touching nothing of the parent.
            unsafe {
                libc::syscall(libc::SYS_exit, 0 as c_long);
                libc::_exit(0)
            }
        }
        Cleanup::ReapChild => {
            reap(Pid::from_raw(c_int::try_from(value).unwrap_or(0)));
            ", a child, reaped"
        }
        Cleanup::RestorePersonality => {
            // SAFETY: personality takes an integer and touches no memory; this sets back the
            // persona the previous call returned.
            unsafe { libc::syscall(libc::SYS_personality, value) };
            ", the old persona, restored"
        }
    };
    Ok(Made { value, undone })
}

fn reap(child: Pid) {
    if child.as_raw() <= 0 {
        return;
    }
    while let Err(Errno::EINTR) = waitpid(child, None) {}
}

fn judge(call: &Call, allow_userns: bool, result: Result<Made, Errno>) -> Outcome {
    if allow_userns && call.lifted_by_userns {
        return match result {
            Err(Errno::EPERM) => {
                Err("EPERM, expected any other result: allow_userns lifts the refusal".to_string())
            }
            _ => Ok(()),
        };
    }
    match (call.expect, result) {
        (Expect::Errno(expected), Err(errno)) if errno == expected => Ok(()),
        (Expect::Errno(expected), Err(errno)) => {
            Err(format!("{}, expected {expected:?}", errno_text(errno)))
        }
        (Expect::Errno(expected), Ok(made)) => Err(format!(
            "succeeded (returned {}{}), expected {expected:?}",
            made.value, made.undone
        )),
        (Expect::Success, Ok(_)) => Ok(()),
        (Expect::Success, Err(errno)) => Err(format!("{}, expected success", errno_text(errno))),
    }
}
