//! Process supervision shared by the sandbox's pid 1 and by boxtop outside it: forwarding
//! termination signals to one child, reaping, and turning a wait status into an exit code.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

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

static FORWARD_TO: AtomicI32 = AtomicI32::new(0);

/// Forwarded signals that arrived before there was a child to forward them to, one bit
/// per signal number.
static PENDING: AtomicU64 = AtomicU64::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let pid = FORWARD_TO.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe and takes plain integers.
        unsafe { libc::kill(pid, signal) };
    } else if (0..64).contains(&signal) {
        PENDING.fetch_or(1 << signal, Ordering::SeqCst);
    }
}

fn install_forwarding() -> Result<(), Errno> {
    let action = SigAction::new(
        SigHandler::Handler(forward),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in FORWARDED {
        // SAFETY: the handler only touches atomics and calls kill(2).
        unsafe { sigaction(*signal, &action) }?;
    }
    Ok(())
}

/// Catches the forwarded signals before the child exists: one that arrives while the
/// sandbox is being built is kept, and passed on by `forward_signals_to`, instead of
/// killing this process (and the sandbox with it) before the app could see it.
pub fn hold_forwarded_signals() -> Result<(), Errno> {
    install_forwarding()
}

/// Drops the signals held so far (a child cloned from a holding process inherits them).
pub fn forget_held_signals() {
    PENDING.store(0, Ordering::SeqCst);
}

/// From now on, the forwarded signals received by this process go to `child`; those
/// held since `hold_forwarded_signals` go to it now.
pub fn forward_signals_to(child: Pid) -> Result<(), Errno> {
    FORWARD_TO.store(child.as_raw(), Ordering::SeqCst);
    install_forwarding()?;
    let pending = PENDING.swap(0, Ordering::SeqCst);
    for signal in FORWARDED {
        if pending & (1 << (*signal as i32)) != 0 {
            let _ = nix::sys::signal::kill(child, *signal);
        }
    }
    Ok(())
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

    /// Five bytes: `X` or `K`, then the code or signal (native endian), for the status
    /// pipe from the sandbox's pid 1 to its supervisor.
    pub fn encode(self) -> [u8; 5] {
        let (kind, value) = match self {
            Ended::Exited(code) => (b'X', code),
            Ended::Killed(signal) => (b'K', signal),
        };
        let mut out = [kind, 0, 0, 0, 0];
        out[1..].copy_from_slice(&value.to_ne_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Ended> {
        let value = i32::from_ne_bytes(bytes.get(1..5)?.try_into().ok()?);
        match bytes.first()? {
            b'X' => Some(Ended::Exited(value)),
            b'K' => Some(Ended::Killed(value)),
            _ => None,
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
