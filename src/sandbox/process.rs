//! Process plumbing around a sandbox: detaching a supervisor from the terminal, pidfds,
//! and entering a running sandbox's namespaces (`boxtop enter`) under the same hardening
//! as its app.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use super::exec;
use super::init;
use super::relay;
use super::report::{BadReport, Failure, Report};
use super::seccomp::{self, SeccompPolicy};
use crate::sys::caps;
use crate::sys::{
    self,
    process::{ForkError, Forked},
    SingleThreaded, ThreadsError,
};

/// What a detached process said on its report pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detached {
    /// A report (see `report`): `Started` once it is under way, or why it is not.
    Said(Report),
    /// It ended without a word.
    Silent,
}

#[derive(Debug, thiserror::Error)]
pub enum DetachError {
    #[error("{0}")]
    Fork(#[from] ForkError),
    #[error("cannot create its report pipe: {0}")]
    Pipe(Errno),
    #[error("it sent {0}")]
    Bad(#[from] BadReport),
}

/// Forks a process that leaves boxtop's session, so that closing the terminal or
/// killing the launching boxtop does not reach it. It runs `child`, which gets the write
/// end of a report pipe and returns the process's exit code. Returns in this process
/// once the child has reported (see `Report::read_from`: the child may keep the pipe
/// open after `Started`, while it goes on).
pub fn fork_detached_reporting(
    single: &SingleThreaded,
    child: impl FnOnce(OwnedFd) -> i32,
) -> Result<Detached, DetachError> {
    let (report_read, report_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(DetachError::Pipe)?;
    match sys::process::fork(single)? {
        // The child lives on; it is re-parented when this process exits.
        Forked::Parent { .. } => {
            drop(report_write);
            match Report::read_from(std::fs::File::from(report_read)) {
                None => Ok(Detached::Silent),
                Some(report) => Ok(Detached::Said(report?)),
            }
        }
        Forked::Child => {
            drop(report_read);
            let code = match nix::unistd::setsid() {
                Ok(_) => child(report_write),
                Err(_) => 1,
            };
            std::process::exit(code)
        }
    }
}

pub use crate::sys::process::{pidfd_kill, pidfd_open};

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
    Forking(ForkError),
    #[error("{0}")]
    Threads(#[from] ThreadsError),
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
                    crate::sys::procfs::Stat::read(*pid)
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

/// The user and mount namespaces of a running sandbox, opened through one of its
/// processes that is in exactly the namespaces recorded at launch (see
/// `open_namespaces`): what a change to its mounts joins.
pub fn mount_namespaces(
    init: Pid,
    init_start: u64,
    namespaces: &[(String, u64)],
) -> Result<super::live::Namespaces, EnterError> {
    let alive = crate::sys::procfs::Stat::read(init.as_raw())
        .is_ok_and(|stat| stat.start_ticks == init_start && stat.state != 'Z');
    if !alive {
        return Err(EnterError::Gone);
    }
    let target = EnterTarget {
        init,
        init_start,
        namespaces,
        argv: &[],
        env: &[],
        cwd: Path::new("/"),
        allow_userns: false,
        landlock: None,
        on_started: None,
    };
    let mut user = None;
    let mut mnt = None;
    for (name, _, fd) in open_namespaces(&target)? {
        match name {
            "user" => user = Some(fd),
            "mnt" => mnt = Some(fd),
            _ => {}
        }
    }
    match (user, mnt) {
        (Some(user), Some(mnt)) => Ok(super::live::Namespaces { user, mnt }),
        _ => Err(EnterError::NoMember),
    }
}

/// A process of the sandbox whose user and network namespaces are those recorded at
/// launch, with its start time: pid 1's own `/proc/1/ns` is closed to us (see
/// `open_namespaces`), so helpers joining the sandbox's network (pasta, the guard of the
/// host's addresses) are given this process's pid, and the caller checks afterwards that
/// it is still the same process (`network_member_is`), so that the namespaces opened
/// through its pid were the sandbox's.
pub fn network_member(
    init: Pid,
    init_start: u64,
    namespaces: &[(String, u64)],
) -> Result<(Pid, u64), EnterError> {
    let alive = crate::sys::procfs::Stat::read(init.as_raw())
        .is_ok_and(|stat| stat.start_ticks == init_start && stat.state != 'Z');
    if !alive {
        return Err(EnterError::Gone);
    }
    if namespaces.is_empty() {
        return Err(EnterError::Unrecorded);
    }
    for member in children_of(init) {
        let Ok(stat) = crate::sys::procfs::Stat::read(member.as_raw()) else {
            continue;
        };
        if network_member_is(member, stat.start_ticks, namespaces) {
            return Ok((member, stat.start_ticks));
        }
    }
    Err(EnterError::NoMember)
}

/// Whether `member` is still the process that started at `start`, in the user and
/// network namespaces recorded at launch.
pub fn network_member_is(member: Pid, start: u64, namespaces: &[(String, u64)]) -> bool {
    use std::os::unix::fs::MetadataExt;
    let same_process = crate::sys::procfs::Stat::read(member.as_raw())
        .is_ok_and(|stat| stat.start_ticks == start && stat.state != 'Z');
    same_process
        && ["user", "net"].iter().all(|name| {
            let recorded = namespaces
                .iter()
                .find(|(known, _)| known == name)
                .map(|(_, inode)| *inode);
            let theirs = std::fs::metadata(format!("/proc/{member}/ns/{name}"))
                .ok()
                .map(|meta| meta.ino());
            recorded.is_some() && theirs == recorded
        })
}

/// Runs a command inside a running sandbox: its namespaces, its environment, no
/// capabilities, no new privileges and its seccomp filter. Returns the command's exit
/// code. The command gets no descriptor of the caller's: a pty of the sandbox's own when
/// the caller's input is a terminal, pipes otherwise, relayed by this process, which
/// stays outside the sandbox's pid namespace. It forks: the process must have one
/// thread (the token).
pub fn enter(single: &SingleThreaded, target: &EnterTarget) -> Result<i32, EnterError> {
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
    let alive = crate::sys::procfs::Stat::read(target.init.as_raw())
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
    match sys::process::fork(single).map_err(EnterError::Forking)? {
        Forked::Child => {
            drop(error_read);
            exec::reset_signals();
            // Leaving the forked child without running the parent's cleanup.
            let fail = |failure: Failure, message: String| -> ! {
                let _ =
                    nix::unistd::write(&error_write, &Report::failed(failure, message).encode());
                sys::process::exit_now(i32::from(failure.exit_code()))
            };
            if let Err((what, errno)) = streams.attach() {
                fail(Failure::Setup, format!("{what}: {errno}"));
            }
            drop(streams);
            if nix::unistd::chdir(cwd.as_c_str()).is_err() {
                let _ = nix::unistd::chdir("/");
            }
            let program = exec::find_program(&argv[0], &path_var)
                .unwrap_or_else(|message| fail(Failure::Exec, message));
            // `attach` made the new session already.
            if let Err((what, errno)) = exec::harden(
                &[error_write.as_raw_fd()],
                false,
                last_cap,
                target.landlock,
                &bpf,
            ) {
                fail(Failure::Setup, format!("{what}: {errno}"));
            }
            let errno = nix::unistd::execve(&program, &argv, &envp)
                .err()
                .unwrap_or(Errno::UnknownErrno);
            fail(
                Failure::Exec,
                format!(
                    "cannot execute {}: {}",
                    program.to_string_lossy(),
                    errno.desc()
                ),
            )
        }
        Forked::Parent { child } => {
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
                return Err(EnterError::Child(match Report::decode(&report) {
                    Ok(Report::Failed { reason, .. }) => reason,
                    Ok(other) => format!("the command said {other:?} instead of why it failed"),
                    Err(err) => format!("the command failed and sent {err}"),
                }));
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
    let now = crate::sys::procfs::Stat::read(pid.as_raw()).map_err(|_| Errno::ESRCH)?;
    if now.start_ticks != start {
        return Err(Errno::ESRCH);
    }
    pidfd_kill(pidfd.as_fd(), signal)
}

pub use crate::sys::fd::{try_lock_exclusive, unlock};

/// Points stdout and stderr at `to`, or at /dev/null; stdin always reads /dev/null.
pub fn redirect_stdio(to: Option<&OwnedFd>) -> Result<(), Errno> {
    let null = nix::fcntl::open(
        "/dev/null",
        OFlag::O_RDWR | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    let target = to.map(|fd| fd.as_raw_fd()).unwrap_or(null.as_raw_fd());
    sys::fd::dup_onto(null.as_raw_fd(), 0)?;
    sys::fd::dup_onto(target, 1)?;
    sys::fd::dup_onto(target, 2)
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
