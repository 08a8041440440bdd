//! Running a piece of code in a forked child and reading how the child ended: for calls that
//! may kill the process, or that must not touch the probe itself.

use std::io::Write;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};

/// How a child ended.
pub enum Ending {
    Exited(i32),
    Killed(Signal),
}

/// Forks, runs `body` in the child and exits with what it returns, then waits for the child.
pub fn run_in_child(body: fn() -> i32) -> Result<Ending, String> {
    // Lines still buffered would be printed twice, once by each process.
    let _ = std::io::stdout().flush();
    // SAFETY: the probe is single-threaded, so the child has a consistent copy of the
    // process; it runs `body`, which only makes system calls, then leaves by `_exit`.
    match unsafe { fork() } {
        Err(errno) => Err(format!(
            "fork failed with {}",
            crate::report::errno_text(errno)
        )),
        Ok(ForkResult::Child) => {
            let code = body();
            // SAFETY: `_exit` ends the child without running the parent's atexit handlers or
            // flushing its copy of the parent's buffers.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => return Ok(Ending::Exited(code)),
                Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(Ending::Killed(signal)),
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(errno) => {
                    return Err(format!(
                        "waitpid failed with {}",
                        crate::report::errno_text(errno)
                    ))
                }
            }
        },
    }
}
