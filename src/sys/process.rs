//! Making processes and signalling them: `fork` and the namespace-making `clone` (sound
//! only in a process with one thread, see `thread`), leaving a forked child, pidfds,
//! signal dispositions and the hooks run between a helper's fork and its `execve`.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::errno::Errno;
use nix::sys::signal::{SigHandler, Signal};
use nix::unistd::Pid;

use super::thread::{SingleThreaded, ThreadsError};

/// Which side of a fork the caller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    Parent { child: Pid },
    Child,
}

/// Why a fork did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForkError {
    #[error("{0}")]
    Threads(#[from] ThreadsError),
    #[error("{0}")]
    Failed(Errno),
}

/// `fork(2)`. The child may run any code of boxtop's: the process has one thread (the
/// token, checked again here), so no lock or allocator state is left half-taken in it.
pub fn fork(single: &SingleThreaded) -> Result<Forked, ForkError> {
    single.recheck()?;
    // SAFETY: the process has one thread (checked just above, and no other thread can
    // start meanwhile: this is the only one), so the child is a complete copy of it.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Parent { child }) => Ok(Forked::Parent { child }),
        Ok(nix::unistd::ForkResult::Child) => Ok(Forked::Child),
        Err(errno) => Err(ForkError::Failed(errno)),
    }
}

/// A `clone(2)` with no new stack, which behaves as `fork` but puts the child in the new
/// namespaces of `flags` (`CLONE_NEW*`); the child gets `SIGCHLD` as its exit signal.
pub fn clone_into_namespaces(
    single: &SingleThreaded,
    flags: libc::c_ulong,
) -> Result<Forked, ForkError> {
    single.recheck()?;
    let flags = flags | libc::SIGCHLD as libc::c_ulong;
    // SAFETY: with a null stack, clone uses the caller's stack copy-on-write, as fork
    // does; the process has one thread (checked above), so the child is a complete copy.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    match ret {
        0 => Ok(Forked::Child),
        pid if pid > 0 => Ok(Forked::Parent {
            child: Pid::from_raw(pid as i32),
        }),
        _ => Err(ForkError::Failed(Errno::last())),
    }
}

/// Ends the calling process at once with `code` (`_exit(2)`): no destructor, no atexit
/// handler, no buffer flushed. What a forked child does instead of returning into its
/// parent's code. Async-signal-safe.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit takes an integer and does not return; it is always sound.
    unsafe { libc::_exit(code) }
}

/// A pidfd for `pid` (Linux 5.3): readable once the process has exited.
pub fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just gave us this fd, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Sends `signal` to the process of `pidfd`, which cannot be another one of a reused pid.
pub fn pidfd_kill(pidfd: BorrowedFd, signal: Signal) -> Result<(), Errno> {
    // SAFETY: pidfd_send_signal with a pidfd the caller holds, no siginfo, no flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    Errno::result(ret).map(drop)
}

/// Puts back the default disposition of `signal`.
pub fn default_disposition(signal: Signal) {
    // SAFETY: SIG_DFL is no handler: no code of ours runs on a signal afterwards.
    let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) };
}

/// Makes the program `cmd` starts die with this process (`PR_SET_PDEATHSIG`), and stop
/// itself (`SIGSTOP`) before it executes when `pause` (see `sandbox::process::test_pause_at`).
pub fn die_with_parent(cmd: &mut Command, pause: bool) {
    // SAFETY: prctl and raise are async-signal-safe; the closure allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            super::caps::set_parent_death_signal();
            if pause {
                libc::raise(libc::SIGSTOP);
            }
            Ok(())
        });
    }
}

/// Makes `fd` the descriptor `to` of the program `cmd` starts (`dup2` between its fork
/// and its `execve`). `fd` must stay open until the program is started.
pub fn pass_fd(cmd: &mut Command, fd: RawFd, to: RawFd) {
    // SAFETY: dup2 is async-signal-safe and the closure allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(fd, to) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
