//! Process plumbing around a sandbox: detaching a supervisor from the terminal, pidfds,
//! and entering a running sandbox's namespaces (`boxtop enter`) under the same hardening
//! as its app.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use nix::unistd::{ForkResult, Pid};

use super::caps;
use super::init;
use super::seccomp::{self, SeccompPolicy};
use super::spawn;

/// What a detached process said on its report pipe: `O` once it is under way, or another
/// kind byte and why it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Started,
    Failed {
        kind: u8,
        reason: String,
    },
    /// It ended without a word.
    Silent,
}

/// Forks a process that leaves boxtop's session, so that closing the terminal or
/// killing the launching boxtop does not reach it. It runs `child`, which gets the write
/// end of a report pipe and returns the process's exit code. Returns in this process
/// once the child has reported: after `O` only that byte is read (the child may keep the
/// pipe open while it goes on); after any other kind, the reason up to the pipe's end.
pub fn fork_detached_reporting(child: impl FnOnce(OwnedFd) -> i32) -> Result<Report, Errno> {
    use std::io::Read;
    let (report_read, report_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    // SAFETY: boxtop's CLI is single-threaded when it launches; the child only runs
    // boxtop's own code, which allocates, as after any fork of a single-threaded process.
    match unsafe { nix::unistd::fork() }? {
        // The child lives on; it is re-parented when this process exits.
        ForkResult::Parent { .. } => {
            drop(report_write);
            let mut file = std::fs::File::from(report_read);
            let mut first = [0u8; 1];
            if !matches!(file.read(&mut first), Ok(1)) {
                return Ok(Report::Silent);
            }
            if first[0] == b'O' {
                return Ok(Report::Started);
            }
            let mut reason = Vec::new();
            let _ = file.read_to_end(&mut reason);
            Ok(Report::Failed {
                kind: first[0],
                reason: String::from_utf8_lossy(&reason).into_owned(),
            })
        }
        ForkResult::Child => {
            drop(report_read);
            let code = match nix::unistd::setsid() {
                Ok(_) => child(report_write),
                Err(_) => 1,
            };
            std::process::exit(code)
        }
    }
}

/// A pidfd for `pid` (Linux 5.3): readable once the process has exited.
pub fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just gave us this fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// What `boxtop enter` joins.
pub struct EnterTarget<'a> {
    /// The sandbox's pid 1 as seen from the host, and its start time, so that a reused
    /// pid is refused.
    pub init: Pid,
    pub init_start: u64,
    pub argv: &'a [String],
    pub env: &'a [(String, String)],
    pub cwd: &'a Path,
    pub allow_userns: bool,
    /// The sandbox's Landlock rules, as its state record holds them.
    pub landlock: Option<&'a super::landlock::Rules>,
    /// Called once the command has been executed, before waiting for it.
    pub on_started: Option<&'a dyn Fn()>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnterError {
    #[error("the sandbox has ended")]
    Gone,
    #[error("cannot open the sandbox's {ns} namespace: {errno}")]
    OpenNs { ns: &'static str, errno: Errno },
    #[error("cannot join the sandbox's {ns} namespace: {errno}")]
    Join { ns: &'static str, errno: Errno },
    #[error("the command holds a NUL byte")]
    Nul,
    #[error("building the seccomp filter failed: {0}")]
    Seccomp(#[from] seccomp::SeccompError),
    #[error("fork: {0}")]
    Fork(Errno),
    #[error("{0}")]
    Child(String),
    #[error("waiting for the command failed: {0}")]
    Wait(Errno),
}

/// The namespaces joined, user first (it gives the capabilities to join the others),
/// mount last but one, pid last (it applies to the child forked afterwards).
const JOINED: &[(&str, CloneFlags)] = &[
    ("user", CloneFlags::CLONE_NEWUSER),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("pid", CloneFlags::CLONE_NEWPID),
];

/// Runs a command inside a running sandbox: its namespaces, its environment, no
/// capabilities, no new privileges and its seccomp filter. Returns the command's exit
/// code. Must be called from a single-threaded process.
pub fn enter(target: &EnterTarget) -> Result<i32, EnterError> {
    let spawn::ExecArgs {
        argv,
        envp,
        path_var,
    } = spawn::ExecArgs::new(target.argv, target.env).map_err(|_| EnterError::Nul)?;
    let cwd = CString::new(target.cwd.as_os_str().as_bytes()).map_err(|_| EnterError::Nul)?;
    let bpf = seccomp::compile(&SeccompPolicy {
        allow_userns: target.allow_userns,
    })?;
    let last_cap = caps::last_cap();

    // A /proc/PID folder stays bound to the process it was opened for: after checking
    // the start time through it, a recycled pid cannot slip in.
    let proc_dir = nix::fcntl::open(
        &PathBuf::from(format!("/proc/{}", target.init)),
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|_| EnterError::Gone)?;
    let mut namespaces = Vec::new();
    for (name, flag) in JOINED {
        let theirs = nix::fcntl::openat(
            proc_dir.as_fd(),
            &PathBuf::from(format!("ns/{name}")),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| match errno {
            Errno::ESRCH | Errno::ENOENT => EnterError::Gone,
            errno => EnterError::OpenNs { ns: name, errno },
        })?;
        // A namespace the sandbox shares with boxtop (the host network) is not joined:
        // joining it would need privileges over the host's.
        let ours = std::fs::metadata(format!("/proc/self/ns/{name}")).ok();
        let same = match (nix::sys::stat::fstat(&theirs), ours) {
            (Ok(a), Some(b)) => {
                use std::os::unix::fs::MetadataExt;
                a.st_ino == b.ino() && a.st_dev == b.dev()
            }
            _ => false,
        };
        if !same {
            namespaces.push((*name, *flag, theirs));
        }
    }
    let stat = nix::fcntl::openat(
        proc_dir.as_fd(),
        "stat",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|_| EnterError::Gone)?;
    let mut file = std::fs::File::from(stat);
    let mut text = String::new();
    use std::io::Read;
    file.read_to_string(&mut text)
        .map_err(|_| EnterError::Gone)?;
    let start = crate::instance::procfs::Stat::parse(&text).map(|s| s.start_ticks);
    if start != Some(target.init_start) {
        return Err(EnterError::Gone);
    }
    for (name, flag, fd) in &namespaces {
        nix::sched::setns(fd, *flag).map_err(|errno| EnterError::Join { ns: name, errno })?;
    }
    drop(namespaces);
    let (error_read, error_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(EnterError::Fork)?;
    let keep_terminal = nix::unistd::isatty(std::io::stdin()).unwrap_or(false);
    // A termination signal from now on is held, then passed on to the command.
    init::hold_forwarded_signals().map_err(EnterError::Wait)?;
    // SAFETY: the caller is single-threaded; the child only runs the code below and
    // execve.
    match unsafe { nix::unistd::fork() }.map_err(EnterError::Fork)? {
        ForkResult::Child => {
            drop(error_read);
            let fail = |message: String| -> ! {
                let _ = nix::unistd::write(&error_write, message.as_bytes());
                // SAFETY: leaving the forked child without running the parent's cleanup.
                unsafe { libc::_exit(127) }
            };
            if nix::unistd::chdir(cwd.as_c_str()).is_err() {
                let _ = nix::unistd::chdir("/");
            }
            let program = spawn::find_program(&argv[0], &path_var).unwrap_or_else(|m| fail(m));
            // A command given a terminal keeps it (an interactive shell); the filter
            // refuses TIOCSTI, so it cannot push keystrokes into the user's shell.
            let keep = [error_write.as_raw_fd()];
            if let Err((what, errno)) =
                spawn::harden(&keep, !keep_terminal, last_cap, target.landlock, &bpf)
            {
                fail(format!("{what}: {errno}"));
            }
            let errno = nix::unistd::execve(&program, &argv, &envp)
                .err()
                .unwrap_or(Errno::UnknownErrno);
            fail(format!(
                "cannot execute {}: {}",
                program.to_string_lossy(),
                errno.desc()
            ))
        }
        ForkResult::Parent { child } => {
            drop(error_write);
            let mut report = Vec::new();
            let _ = std::fs::File::from(error_read).read_to_end(&mut report);
            if report.is_empty() {
                if let Some(started) = target.on_started {
                    started();
                }
            }
            let _ = init::forward_signals_to(child);
            let code = init::wait_for(child).map_err(EnterError::Wait)?;
            if !report.is_empty() {
                return Err(EnterError::Child(
                    String::from_utf8_lossy(&report).into_owned(),
                ));
            }
            Ok(code)
        }
    }
}

/// Sends `signal` to the process `pid` only if it is still the one that started at
/// `start` (clock ticks after boot): the pidfd pins the process between the check and
/// the signal. `ESRCH` when it is gone.
pub fn signal_checked(pid: Pid, start: u64, signal: nix::sys::signal::Signal) -> Result<(), Errno> {
    let pidfd = pidfd_open(pid)?;
    let now = crate::instance::procfs::Stat::read(pid.as_raw()).map_err(|_| Errno::ESRCH)?;
    if now.start_ticks != start {
        return Err(Errno::ESRCH);
    }
    // SAFETY: pidfd_send_signal with a pidfd we own, no siginfo, no flags.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// Takes an exclusive flock on `fd` without waiting: false when another open file holds
/// it. Unlike nix's `Flock`, nothing unlocks it on drop: the lock lasts until every
/// process sharing the open file (a forked supervisor) has closed it.
pub fn try_lock_exclusive(fd: BorrowedFd) -> Result<bool, Errno> {
    // SAFETY: flock on a descriptor the caller holds open.
    let ret = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if ret == 0 {
        return Ok(true);
    }
    match Errno::last() {
        Errno::EWOULDBLOCK => Ok(false),
        errno => Err(errno),
    }
}

/// Points stdout and stderr at `to`, or at /dev/null; stdin always reads /dev/null.
pub fn redirect_stdio(to: Option<&OwnedFd>) -> Result<(), Errno> {
    let null = nix::fcntl::open(
        "/dev/null",
        OFlag::O_RDWR | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    let target = to.map(|fd| fd.as_fd()).unwrap_or(null.as_fd());
    dup_onto(&null, 0)?;
    dup_onto(&target, 1)?;
    dup_onto(&target, 2)
}

fn dup_onto(from: &impl AsRawFd, to: i32) -> Result<(), Errno> {
    // SAFETY: dup2 onto a standard descriptor of this process.
    let ret = unsafe { libc::dup2(from.as_raw_fd(), to) };
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}
