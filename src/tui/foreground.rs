//! Lending the terminal to another program (the in-sandbox shell, an editor) as a shell
//! does with a job: the program runs in a process group of its own that is the
//! terminal's foreground group, and afterwards the TUI's group takes the foreground back.
//! This holds whatever started the TUI (a job-control shell, tmux, a desktop terminal)
//! and whatever the program did with the terminal meanwhile: a group left in the
//! foreground would make the TUI's next terminal call stop it (SIGTTOU, "Stopped" in the
//! shell) or fail with EIO (no shell to continue it).

use std::fmt;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::errno::Errno;
use nix::sys::signal::{killpg, pthread_sigmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// How the program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    Signaled(Signal),
}

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ended::Exited(code) => write!(f, "exit status: {code}"),
            Ended::Signaled(signal) => write!(f, "killed by {signal}"),
        }
    }
}

/// Runs `command` in the foreground of the terminal on stdin and waits for it to end.
/// Stopped (it read the terminal before it was given it, or Ctrl-Z was typed in it), it
/// is given the terminal and continued: the TUI is no job-control shell, and a program
/// stopped for good would leave the user before a blank screen.
pub fn run(mut command: Command) -> std::io::Result<Ended> {
    command.process_group(0);
    let child = command.spawn()?;
    let pid = Pid::from_raw(child.id() as i32);
    // The child reaped here (waitpid), not by `Child::wait`: dropping `child` leaves it.
    drop(child);
    let _ = give_terminal_to(pid);
    loop {
        match waitpid(pid, Some(WaitPidFlag::WUNTRACED)) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(Ended::Exited(code)),
            Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(Ended::Signaled(signal)),
            Ok(WaitStatus::Stopped(..)) => {
                let _ = give_terminal_to(pid);
                let _ = killpg(pid, Signal::SIGCONT);
            }
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno.into()),
        }
    }
}

/// Makes the TUI's own process group the terminal's foreground group again.
pub fn take_back() -> std::io::Result<()> {
    give_terminal_to(nix::unistd::getpgrp())
}

/// `tcsetpgrp` on stdin with SIGTTOU blocked in this thread: called from a background
/// group, it would otherwise stop the TUI instead of giving it the terminal. A stdin that
/// is no terminal is left alone (there is no foreground to give).
fn give_terminal_to(group: Pid) -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let mut ttou = SigSet::empty();
    ttou.add(Signal::SIGTTOU);
    let mut previous = SigSet::empty();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&ttou), Some(&mut previous))?;
    let result = nix::unistd::tcsetpgrp(stdin.as_fd(), group);
    if !previous.contains(Signal::SIGTTOU) {
        let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&ttou), None);
    }
    match result {
        Ok(()) | Err(Errno::ENOTTY) => Ok(()),
        Err(errno) => Err(std::io::Error::from(errno)),
    }
}
