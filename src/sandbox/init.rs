//! Process supervision shared by the sandbox's pid 1 and by boxtop outside it: forwarding
//! termination signals to one child, reaping, and turning a wait status into an exit code;
//! and pid 1's own hardening, since every app of the sandbox can see it in `/proc`.

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

/// Makes the calling process non-dumpable: its `/proc/PID` files (`mem`, `environ`, `fd`,
/// `ns`, `maps`) become root's, and no process of the sandbox may ptrace it, read or write
/// its memory, or take its descriptors. boxtop outside keeps its access to the app's
/// processes, whose memory belongs to the sandbox's user namespace once they exec.
pub fn make_undumpable() -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments only.
    let ret = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    Errno::result(ret).map(drop)
}

/// pid 1's name inside the sandbox, for `ps` and `/proc/1/cmdline`.
const INIT_NAME: &[u8] = b"boxtop-init";

/// What pid 1 does once the app runs, before waiting for it: nothing of boxtop's own
/// process is left for the app to see or use. Standard input and output become
/// `/dev/null` (they were the user's terminal); the environment boxtop was started with is
/// cleared, and the memory the kernel shows as `/proc/1/environ` and `/proc/1/cmdline` is
/// overwritten; then no new privileges, no capability, and `filter`, which lets pid 1 do
/// only what its loop needs (wait, signal, write its report, exit).
pub fn harden_self(filter: &super::seccomp::BpfProgram, last_cap: u32) -> Result<(), String> {
    let null = nix::fcntl::open(
        "/dev/null",
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|errno| format!("opening /dev/null: {errno}"))?;
    for fd in 0..3 {
        // SAFETY: dup2 onto a standard descriptor of this process.
        if unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), fd) } < 0 {
            return Err(format!("redirecting fd {fd}: {}", Errno::last()));
        }
    }
    drop(null);
    wipe_process_strings();
    let _ = nix::sys::prctl::set_name(c"boxtop-init");
    super::caps::set_no_new_privs().map_err(|errno| format!("no_new_privs: {errno}"))?;
    super::caps::drop_all(last_cap).map_err(|errno| format!("dropping capabilities: {errno}"))?;
    super::seccomp::install(filter).map_err(|errno| format!("installing pid 1's filter: {errno}"))
}

/// Clears the environment and overwrites the argument and environment strings the
/// process was started with (the kernel reads `/proc/PID/cmdline` and `environ` from
/// those bytes of its memory), leaving `boxtop-init` as its command line.
fn wipe_process_strings() {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields 48 to 51 (after the command name, which may hold spaces): arg_start, arg_end,
    // env_start, env_end.
    let Some(rest) = stat.rsplit_once(") ").map(|(_, rest)| rest) else {
        return;
    };
    let fields: Vec<usize> = rest
        .split_whitespace()
        .skip(45)
        .take(4)
        .filter_map(|field| field.parse().ok())
        .collect();
    let [arg_start, arg_end, env_start, env_end] = fields[..] else {
        return;
    };
    // SAFETY: this process is single-threaded (pid 1 after the app's fork) and nothing
    // reads the environment afterwards; clearenv only resets libc's `environ`.
    unsafe { libc::clearenv() };
    for (start, end) in [(env_start, env_end), (arg_start, arg_end)] {
        if start == 0 || end <= start {
            continue;
        }
        // SAFETY: [start, end) is this process's own argument or environment area on its
        // initial stack, mapped read-write for the life of the process; `environ` no
        // longer points into it, and pid 1 does not read its arguments again.
        unsafe { std::ptr::write_bytes(start as *mut u8, 0, end - start) };
    }
    if arg_end > arg_start {
        let len = INIT_NAME.len().min(arg_end - arg_start - 1);
        // SAFETY: as above; `len` bytes fit before the area's last byte, which stays NUL.
        unsafe { std::ptr::copy_nonoverlapping(INIT_NAME.as_ptr(), arg_start as *mut u8, len) };
    }
}
