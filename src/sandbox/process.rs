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
use super::exec;
use super::init;
use super::relay;
use super::seccomp::{self, SeccompPolicy};

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
    /// The inodes of the sandbox's namespaces, recorded when it started (see
    /// `Started::namespaces`).
    pub namespaces: &'a [(String, u64)],
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
    #[error("the sandbox was started by an older boxtop, which did not record its namespaces; restart it to enter it")]
    Unrecorded,
    #[error("no process of the sandbox is in the namespaces it started with (an app that makes namespaces of its own may have moved them all)")]
    NoMember,
    #[error("cannot open the sandbox's {ns} namespace: {errno}")]
    OpenNs { ns: &'static str, errno: Errno },
    #[error("cannot join the sandbox's {ns} namespace: {errno}")]
    Join { ns: &'static str, errno: Errno },
    #[error("the command holds a NUL byte")]
    Nul,
    #[error("building the seccomp filter failed: {0}")]
    Seccomp(#[from] seccomp::SeccompError),
    #[error("cannot give the command its terminal or pipes: {0}")]
    Streams(Errno),
    #[error("fork: {0}")]
    Fork(Errno),
    #[error("{0}")]
    Child(String),
    #[error("waiting for the command failed: {0}")]
    Wait(Errno),
}

/// The namespaces joined, by their names under `/proc/PID/ns/`: user first (it gives the
/// capabilities to join the others), mount last but one, pid last (it applies to the
/// child forked afterwards).
pub const JOINED: &[(&str, CloneFlags)] = &[
    ("user", CloneFlags::CLONE_NEWUSER),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("pid", CloneFlags::CLONE_NEWPID),
];

/// The processes whose parent is `init`: the app, and orphans pid 1 adopted.
fn children_of(init: Pid) -> Vec<Pid> {
    let listed = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children"));
    if let Ok(text) = listed {
        return text
            .split_whitespace()
            .filter_map(|pid| pid.parse().ok())
            .map(Pid::from_raw)
            .collect();
    }
    // Kernels without CONFIG_PROC_CHILDREN: every process's parent, from its stat.
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
                .filter(|pid| {
                    crate::instance::procfs::Stat::read(*pid)
                        .is_ok_and(|stat| stat.ppid == init.as_raw())
                })
                .map(Pid::from_raw)
                .collect()
        })
        .unwrap_or_default()
}

/// Opens the namespaces of a process of the sandbox that is in exactly the namespaces
/// recorded at launch. pid 1 itself is not dumpable, so its `/proc/1/ns` is closed to
/// us; its children are the app's processes, whose namespace files boxtop may open as
/// the owner of the sandbox's user namespace. Comparing inodes means a process that made
/// namespaces of its own (an app allowed user namespaces) is never joined instead. The
/// namespaces the sandbox shares with this process (the host network) are left out.
fn open_namespaces(
    target: &EnterTarget,
) -> Result<Vec<(&'static str, CloneFlags, OwnedFd)>, EnterError> {
    use std::os::unix::fs::MetadataExt;
    if target.namespaces.is_empty() {
        return Err(EnterError::Unrecorded);
    }
    for member in children_of(target.init) {
        let Ok(proc_dir) = nix::fcntl::open(
            &PathBuf::from(format!("/proc/{member}")),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) else {
            continue;
        };
        let mut namespaces = Vec::new();
        let mut matches = true;
        for (name, flag) in JOINED {
            let recorded = target
                .namespaces
                .iter()
                .find(|(known, _)| known == name)
                .map(|(_, inode)| *inode);
            let opened = nix::fcntl::openat(
                proc_dir.as_fd(),
                &PathBuf::from(format!("ns/{name}")),
                OFlag::O_RDONLY | OFlag::O_CLOEXEC,
                Mode::empty(),
            );
            let Ok(theirs) = opened else {
                matches = false;
                break;
            };
            let inode = nix::sys::stat::fstat(&theirs).map(|st| st.st_ino).ok();
            // pid 1 makes the cgroup namespace after boxtop has read the others; a process
            // can only make a cgroup namespace of its own inside a user namespace of its
            // own, which the user namespace's inode rules out.
            let known = *name == "cgroup" || recorded.is_some();
            if !known || (recorded.is_some() && inode != recorded) {
                matches = false;
                break;
            }
            let ours = std::fs::metadata(format!("/proc/self/ns/{name}")).ok();
            if ours.is_some_and(|ours| Some(ours.ino()) == inode) {
                continue;
            }
            namespaces.push((*name, *flag, theirs));
        }
        if matches {
            return Ok(namespaces);
        }
    }
    Err(EnterError::NoMember)
}

/// Runs a command inside a running sandbox: its namespaces, its environment, no
/// capabilities, no new privileges and its seccomp filter. Returns the command's exit
/// code. The command gets no descriptor of the caller's: a pty of the sandbox's own when
/// the caller's input is a terminal, pipes otherwise, relayed by this process, which
/// stays outside the sandbox's pid namespace. Must be called from a single-threaded
/// process.
pub fn enter(target: &EnterTarget) -> Result<i32, EnterError> {
    let exec::ExecArgs {
        argv,
        envp,
        path_var,
    } = exec::ExecArgs::new(target.argv, target.env).map_err(|_| EnterError::Nul)?;
    let cwd = CString::new(target.cwd.as_os_str().as_bytes()).map_err(|_| EnterError::Nul)?;
    let bpf = seccomp::compile(&SeccompPolicy {
        allow_userns: target.allow_userns,
    })?;
    let last_cap = caps::last_cap();

    // pid 1 is the sandbox's as long as it is the process that started when recorded.
    let alive = crate::instance::procfs::Stat::read(target.init.as_raw())
        .is_ok_and(|stat| stat.start_ticks == target.init_start && stat.state != 'Z');
    if !alive {
        return Err(EnterError::Gone);
    }
    let namespaces = open_namespaces(target)?;
    // Nothing of this process is for the sandbox to read: the command forked below is
    // not dumpable until it executes (then it is the sandbox's own program).
    init::make_undumpable().map_err(EnterError::Fork)?;
    caps::join_new_session_keyring();
    for (name, flag, fd) in &namespaces {
        nix::sched::setns(fd, *flag).map_err(|errno| EnterError::Join { ns: name, errno })?;
    }
    drop(namespaces);
    // In the sandbox's mount namespace now: its devpts gives the command's terminal.
    let streams = relay::Streams::open(relay::wants_pty()).map_err(EnterError::Streams)?;
    let (error_read, error_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(EnterError::Fork)?;
    // A termination signal from now on is held, then passed on to the command.
    init::hold_forwarded_signals().map_err(EnterError::Wait)?;
    // SAFETY: the caller is single-threaded; the child only runs the code below and
    // execve.
    match unsafe { nix::unistd::fork() }.map_err(EnterError::Fork)? {
        ForkResult::Child => {
            drop(error_read);
            exec::reset_signals();
            let fail = |message: String| -> ! {
                let _ = nix::unistd::write(&error_write, message.as_bytes());
                // SAFETY: leaving the forked child without running the parent's cleanup.
                unsafe { libc::_exit(127) }
            };
            if let Err((what, errno)) = streams.attach() {
                fail(format!("{what}: {errno}"));
            }
            drop(streams);
            if nix::unistd::chdir(cwd.as_c_str()).is_err() {
                let _ = nix::unistd::chdir("/");
            }
            let program = exec::find_program(&argv[0], &path_var).unwrap_or_else(|m| fail(m));
            // `attach` made the new session already.
            if let Err((what, errno)) = exec::harden(
                &[error_write.as_raw_fd()],
                false,
                last_cap,
                target.landlock,
                &bpf,
            ) {
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
            let relay = streams.into_relay();
            let mut report = Vec::new();
            use std::io::Read;
            let _ = std::fs::File::from(error_read).read_to_end(&mut report);
            if report.is_empty() {
                if let Some(started) = target.on_started {
                    started();
                }
            }
            let _ = init::forward_signals_to(child);
            let relayed = relay.run(child);
            let code = init::wait_for(child).map_err(EnterError::Wait)?;
            if !report.is_empty() {
                return Err(EnterError::Child(
                    String::from_utf8_lossy(&report).into_owned(),
                ));
            }
            relayed.map_err(EnterError::Streams)?;
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
    pidfd_kill(pidfd.as_fd(), signal)
}

/// Sends `signal` to the process of `pidfd`, which cannot be another one of a reused pid.
pub fn pidfd_kill(pidfd: BorrowedFd, signal: nix::sys::signal::Signal) -> Result<(), Errno> {
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

/// Releases an flock taken on `fd`'s open file, for every descriptor that shares it.
pub fn unlock(fd: BorrowedFd) -> Result<(), Errno> {
    // SAFETY: flock on a descriptor the caller holds open.
    let ret = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_UN) };
    if ret == 0 {
        Ok(())
    } else {
        Err(Errno::last())
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

/// Debug builds only: `BOXTOP_TEST_PAUSE_AT=STEP[,STEP...]` stops the process that
/// reaches the launch step `STEP` (it sends itself SIGSTOP), so that a test can kill it
/// exactly there (tests/it/faults.rs). The steps, in order: `supervisor` (a detached
/// launch's supervisor, forked), `making` (the instance's folder made, not yet locked;
/// pasta's scratch folder too), `proxies` (D-Bus proxies ready), `cloned` (pid 1
/// cloned), `network` (pasta and the host guard ready), `building` (pid 1 let go, the
/// instance not yet recorded), `running` (the app executed and the launch reported),
/// `ended` (pid 1 gone, the end not yet recorded), `recorded` (the end recorded, not yet
/// cleaned up); `guard` and `pasta` stop the host guard and pasta just after they are
/// forked; and `init`, see `test_delay_at`. Read by boxtop; the sandbox's environment is
/// rebuilt from an allowlist without it.
pub fn test_pause_at(step: &str) {
    if is_test_pause(step) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
    }
}

/// Whether `test_pause_at(step)` stops: for a forked child that must not read the
/// environment, asked before the fork.
pub fn is_test_pause(step: &str) -> bool {
    #[cfg(debug_assertions)]
    return is_test_step(step);
    #[cfg(not(debug_assertions))]
    {
        let _ = step;
        false
    }
}

/// `test_pause_at` for the sandbox's pid 1, which cannot stop itself (the kernel drops
/// the signals a namespace's pid 1 sends itself without a handler): it waits a second
/// at `STEP` instead (`init`: once it has said its network namespace is made).
pub fn test_delay_at(step: &str) {
    #[cfg(debug_assertions)]
    if is_test_step(step) {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    #[cfg(not(debug_assertions))]
    let _ = step;
}

#[cfg(debug_assertions)]
fn is_test_step(step: &str) -> bool {
    std::env::var("BOXTOP_TEST_PAUSE_AT").is_ok_and(|steps| steps.split(',').any(|s| s == step))
}
