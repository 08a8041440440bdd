//! Passing termination signals on to one child: a handler that only touches atomics and
//! calls `kill(2)`, and the signals held while there is no child yet.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::Pid;

static FORWARD_TO: AtomicI32 = AtomicI32::new(0);

/// Signals that arrived before there was a child to forward them to, one bit per
/// signal number.
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

fn install(signals: &[Signal]) -> Result<(), Errno> {
    let action = SigAction::new(
        SigHandler::Handler(forward),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in signals {
        // SAFETY: the handler only touches atomics and calls kill(2), both
        // async-signal-safe.
        unsafe { sigaction(*signal, &action) }?;
    }
    Ok(())
}

/// Catches `signals` and keeps those that arrive until `forward_to` names a child.
pub fn hold(signals: &[Signal]) -> Result<(), Errno> {
    install(signals)
}

/// Drops the signals held so far.
pub fn forget_held() {
    PENDING.store(0, Ordering::SeqCst);
}

/// From now on `signals` received by this process go to `child`; those held go to it now.
pub fn forward_to(child: Pid, signals: &[Signal]) -> Result<(), Errno> {
    FORWARD_TO.store(child.as_raw(), Ordering::SeqCst);
    install(signals)?;
    let pending = PENDING.swap(0, Ordering::SeqCst);
    for signal in signals {
        if pending & (1 << (*signal as i32)) != 0 {
            let _ = nix::sys::signal::kill(child, *signal);
        }
    }
    Ok(())
}
