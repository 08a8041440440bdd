//! Process supervision shared by the sandbox's pid 1 and by boxtop outside it: forwarding
//! termination signals to one child, reaping, and turning a wait status into an exit code;
//! and pid 1's own hardening, since every app of the sandbox can see it in `/proc`.

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::sys::{signal, SingleThreaded};

/// Signals passed on to the app, so that closing a terminal, Ctrl-C or `kill` from
/// outside reach it through every layer.
pub const FORWARDED: &[Signal] = &[
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// Catches the forwarded signals before the child exists: one that arrives while the
/// sandbox is being built is kept, and passed on by `forward_signals_to`, instead of
/// killing this process (and the sandbox with it) before the app could see it.
pub fn hold_forwarded_signals() -> Result<(), Errno> {
    signal::hold(FORWARDED)
}

/// Drops the signals held so far (a child cloned from a holding process inherits them).
pub fn forget_held_signals() {
    signal::forget_held();
}

/// From now on, the forwarded signals received by this process go to `child`; those
/// held since `hold_forwarded_signals` go to it now.
pub fn forward_signals_to(child: Pid) -> Result<(), Errno> {
    signal::forward_to(child, FORWARDED)
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal.
    Killed(i32),
}

impl Ended {
    fn from_status(status: WaitStatus) -> Option<Ended> {
        match status {
            WaitStatus::Exited(_, code) => Some(Ended::Exited(code)),
            WaitStatus::Signaled(_, signal, _) => Some(Ended::Killed(signal as i32)),
            _ => None,
        }
    }

    /// The shell convention: the exit code, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            Ended::Exited(code) => code,
            Ended::Killed(signal) => 128 + signal,
        }
    }
}

/// Waits for `child` only, retrying on interruptions.
pub fn wait_for(child: Pid) -> Result<i32, Errno> {
    wait_ended(child).map(Ended::code)
}

/// Waits for `child` only and says how it ended.
pub fn wait_ended(child: Pid) -> Result<Ended, Errno> {
    loop {
        match waitpid(child, None) {
            Ok(status) => {
                if let Some(ended) = Ended::from_status(status) {
                    return Ok(ended);
                }
            }
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
        }
    }
}

/// pid 1's loop: reaps every process that ends (orphans are re-parented to it) until the
/// app itself ends, and says how it ended. When pid 1 exits, the kernel kills whatever
/// is left in the sandbox.
pub fn reap_until(app: Pid) -> Ended {
    loop {
        match waitpid(None::<Pid>, None) {
            Ok(status) if status.pid() == Some(app) => {
                if let Some(ended) = Ended::from_status(status) {
                    return ended;
                }
            }
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => return Ended::Exited(255),
        }
    }
}

/// Ends every other process of the sandbox and reaps them (pid 1, once the app has
/// ended): when pid 1 then reports the app's end, nothing of the sandbox runs any more
/// but pid 1 itself, which only exits. Processes a killed one leaves are re-parented to
/// pid 1 before it can reap their parent, so none is missed.
pub fn end_the_rest() {
    let _ = nix::sys::signal::kill(Pid::from_raw(-1), nix::sys::signal::Signal::SIGKILL);
    loop {
        match waitpid(None::<Pid>, None) {
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
}

pub use crate::sys::caps::make_undumpable;

/// pid 1's name inside the sandbox, for `ps` and `/proc/1/cmdline`.
const INIT_NAME: &[u8] = b"boxtop-init";

/// What pid 1 does once the app runs, before waiting for it: nothing of boxtop's own
/// process is left for the app to see or use. Standard input and output become
/// `/dev/null` (they were the user's terminal); the environment boxtop was started with is
/// cleared, and the memory the kernel shows as `/proc/1/environ` and `/proc/1/cmdline` is
/// overwritten; then no new privileges, no capability, and `filter`, which lets pid 1 do
/// only what its loop needs (wait, signal, write its report, exit).
pub fn harden_self(
    single: &SingleThreaded,
    filter: &super::seccomp::BpfProgram,
    last_cap: u32,
) -> Result<(), String> {
    let null = nix::fcntl::open(
        "/dev/null",
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|errno| format!("opening /dev/null: {errno}"))?;
    for fd in 0..3 {
        crate::sys::fd::dup_onto(std::os::fd::AsRawFd::as_raw_fd(&null), fd)
            .map_err(|errno| format!("redirecting fd {fd}: {errno}"))?;
    }
    drop(null);
    crate::sys::environ::wipe_process_strings(single, INIT_NAME);
    let _ = nix::sys::prctl::set_name(c"boxtop-init");
    crate::sys::caps::set_no_new_privs().map_err(|errno| format!("no_new_privs: {errno}"))?;
    crate::sys::caps::drop_all(last_cap)
        .map_err(|errno| format!("dropping capabilities: {errno}"))?;
    super::seccomp::install(filter).map_err(|errno| format!("installing pid 1's filter: {errno}"))
}
