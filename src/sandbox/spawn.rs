//! Starting a sandbox: everything that can be prepared is prepared in boxtop's own
//! process; then one `clone` creates the namespaces. The child becomes the sandbox's
//! pid 1: it builds the root filesystem from the plan, forks the app, and supervises it.
//! The app hardens itself in the documented order right before `execve`: close fds,
//! environment rebuilt, `setsid`, no_new_privs, capabilities dropped, Landlock, seccomp
//! last.

use crate::paths::ensure_private_dir;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::resource::Resource;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use super::exec::{close_fds_except, ExecArgs};
use super::helpers::{self, HelperError, ProxyProcess};
use super::init::{self, Ended};
use super::landlock::{self, Rules};
use super::mount::{self, Pinned};
use super::net::{self, HostGuard};
use super::plan::{Namespace, Plan, Step};
use super::report::{self, Failure, Report};
use super::seccomp::{self, BpfProgram, SeccompError};
use super::userns;
use crate::sys::app::Gate;
use crate::sys::beneath;
use crate::sys::caps;
use crate::sys::process::{self, ForkError, Forked};
use crate::sys::{SingleThreaded, ThreadsError};

mod app;

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("the private home: {0}")]
    PrivateHome(#[from] crate::paths::PrivateDirError),
    #[error("cannot resolve {path}: {reason}")]
    Pin { path: PathBuf, reason: String },
    #[error("building the seccomp filter failed: {0}")]
    Seccomp(#[from] SeccompError),
    #[error("the plan holds text with a NUL byte: {0:?}")]
    Nul(String),
    #[error("cannot create a pipe: {0}")]
    Pipe(Errno),
    #[error("cannot create the sandbox's namespaces: {errno}. {hint}")]
    Namespaces { errno: Errno, hint: String },
    #[error("setting up the sandbox failed: {0}")]
    Setup(String),
    #[error("{0}")]
    Exec(String),
    #[error("waiting for the sandbox failed: {0}")]
    Wait(Errno),
    #[error("{0}")]
    Helper(#[from] HelperError),
    #[error("{0}")]
    HostGuard(#[from] net::GuardError),
    #[error("{0}")]
    Threads(#[from] ThreadsError),
}

impl SpawnError {
    /// The exit code of `boxtop run` for this error (see `Failure::exit_code`).
    pub fn exit_code(&self) -> u8 {
        self.failure().exit_code()
    }

    /// The kind of failure, as a report says it.
    pub fn failure(&self) -> Failure {
        match self {
            SpawnError::Exec(_) => Failure::Exec,
            _ => Failure::Setup,
        }
    }
}

/// A plan turned into what the child needs, all allocated before `clone`.
pub struct Prepared {
    plan: Plan,
    argv: Vec<CString>,
    envp: Vec<CString>,
    path_var: String,
    cwd: PathBuf,
    bpf: BpfProgram,
    /// pid 1's own filter, stricter than the app's.
    init_bpf: BpfProgram,
    pinned: Vec<Pinned>,
    last_cap: u32,
    /// The user's umask, for the app (pid 1 builds the root with umask 0).
    umask: nix::sys::stat::Mode,
    /// The Landlock rules of the app, computed from the plan.
    landlock: Option<Rules>,
}

/// Where a sandbox starts, beyond its plan.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// A cgroup v2 folder (empty, writable) to put the sandbox in before anything runs
    /// in it.
    pub cgroup: Option<PathBuf>,
    /// Limits set as rlimits of the app: those the cgroup cannot hold (see `rlimits`).
    pub rlimits: Vec<(Resource, u64)>,
}

impl Prepared {
    /// Creates the private home if needed, compiles the seccomp filter (or reads it from
    /// `cache_dir`, see `seccomp::compile_cached`) and opens the sources that must not
    /// change between checking and mounting.
    pub fn new(plan: &Plan, cache_dir: Option<&Path>) -> Result<Self, SpawnError> {
        if let Some(home) = &plan.private_home {
            // The folder of every home first: it is the one others must not list.
            if let Some(homes) = home.parent() {
                ensure_private_dir(homes)?;
            }
            ensure_private_dir(home)?;
        }
        let mut pinned = Vec::new();
        let mut home = None;
        for step in &plan.steps {
            if let Step::Bind {
                src, pinned: true, ..
            } = step
            {
                pinned.push(pin(src, plan, &mut home)?);
            }
        }
        let ExecArgs {
            argv,
            envp,
            path_var,
        } = ExecArgs::new(&plan.argv, &plan.env).map_err(SpawnError::Nul)?;
        // The rules come from the plan as given; the tests' extra bind stays unknown to them.
        let landlock = landlock::for_launch(plan);
        #[allow(unused_mut)]
        let mut executed = plan.clone();
        #[cfg(debug_assertions)]
        landlock::add_test_extra_bind(&mut executed.steps);
        Ok(Self {
            plan: executed,
            argv,
            envp,
            path_var,
            cwd: plan.cwd.clone(),
            bpf: seccomp::compile_cached(&plan.seccomp, cache_dir)?,
            init_bpf: seccomp::compile_init_cached(cache_dir)?,
            pinned,
            last_cap: caps::last_cap(),
            umask: current_umask(),
            landlock,
        })
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The Landlock rules the app restricts itself with, for the state record.
    pub fn landlock(&self) -> Option<&Rules> {
        self.landlock.as_ref()
    }
}

/// The calling process's umask (reading it means setting it: it is set back at once).
fn current_umask() -> nix::sys::stat::Mode {
    use nix::sys::stat::{umask, Mode};
    let mask = umask(Mode::from_bits_truncate(0o077));
    umask(mask);
    mask
}

/// Opens a pinned source on the host. The private home is its own folder in boxtop's
/// folder of homes, which no app can write; a path of the home is opened beneath the
/// real home with no symlink at all (what an app can write must not redirect a bind);
/// anything else by its canonical path. `home` caches the fd of the real home.
fn pin(
    src: &Path,
    plan: &Plan,
    home: &mut Option<(PathBuf, OwnedFd)>,
) -> Result<Pinned, SpawnError> {
    let error = |reason: String| SpawnError::Pin {
        path: src.to_path_buf(),
        reason,
    };
    let flags = OFlag::O_PATH | OFlag::O_CLOEXEC;
    if plan.private_home.as_deref() == Some(src) {
        let (Some(homes), Some(name)) = (src.parent(), src.file_name()) else {
            return Err(error("not a folder of the private homes".into()));
        };
        let homes = std::fs::canonicalize(homes).map_err(|err| error(err.to_string()))?;
        let homes_fd = nix::fcntl::open(&homes, flags | OFlag::O_DIRECTORY, Mode::empty())
            .map_err(|errno| error(errno.desc().into()))?;
        let host = nix::fcntl::openat(
            &homes_fd,
            name,
            flags | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW,
            Mode::empty(),
        )
        .map_err(|errno| {
            error(format!(
                "{} (it must be a folder, not a symlink)",
                errno.desc()
            ))
        })?;
        return Ok(Pinned {
            src: src.to_path_buf(),
            real: homes.join(name),
            host,
        });
    }
    if home.is_none() {
        *home = Some(super::host::open_home(&plan.home).map_err(|err| {
            error(format!(
                "cannot open the home {}: {err}",
                plan.home.display()
            ))
        })?);
    }
    let Some((real_home, home_fd)) = home.as_ref() else {
        unreachable!("opened just above")
    };
    // Shares name their source by the real home, grants by the home as the user has it.
    if let Ok(rel) = src
        .strip_prefix(&plan.home)
        .or_else(|_| src.strip_prefix(real_home))
    {
        let host = beneath::open(home_fd.as_fd(), rel, OFlag::O_PATH).map_err(|err| {
            error(format!(
                "{err} in {}; boxtop binds no symlink of the home",
                plan.home.display()
            ))
        })?;
        return Ok(Pinned {
            src: src.to_path_buf(),
            real: real_home.join(rel),
            host,
        });
    }
    let real = std::fs::canonicalize(src).map_err(|err| error(err.to_string()))?;
    let host = nix::fcntl::open(&real, flags | OFlag::O_NOFOLLOW, Mode::empty())
        .map_err(|errno| error(errno.desc().into()))?;
    Ok(Pinned {
        src: src.to_path_buf(),
        real,
        host,
    })
}

/// A sandbox whose app has started (its `execve` succeeded).
#[derive(Debug)]
pub struct Started {
    /// The sandbox's pid 1, as seen from boxtop.
    pub init: Pid,
    /// D-Bus proxies and pasta serving the sandbox; they stop when this is dropped.
    proxies: Vec<ProxyProcess>,
    /// With pasta, what keeps the host's addresses unreachable; stops when dropped.
    host_guard: Option<HostGuard>,
    /// Where pid 1 writes how the app ended, just before it exits.
    status: Option<OwnedFd>,
    /// What was read from `status`.
    report: std::cell::OnceCell<Option<Ended>>,
    /// The inode of each of the sandbox's namespaces (`/proc/PID/ns/NAME`), as pid 1
    /// reported them before anything ran in it: a command joining the sandbox later goes through
    /// one of its processes and checks that it is in these very namespaces.
    pub namespaces: Vec<(String, u64)>,
}

impl Drop for Started {
    fn drop(&mut self) {
        self.proxies.clear();
        self.host_guard = None;
    }
}

impl Started {
    /// Waits for the sandbox to end, forwarding termination signals to it, and returns
    /// the app's exit code (128 + signal when it was killed).
    pub fn wait(&self) -> Result<i32, SpawnError> {
        init::forward_signals_to(self.init).map_err(SpawnError::Wait)?;
        self.wait_ended().map(Ended::code)
    }

    /// Waits for pid 1 to end and says how the app ended: as pid 1 reported it, or as
    /// pid 1 itself ended when it could not report (killed from outside).
    pub fn wait_ended(&self) -> Result<Ended, SpawnError> {
        let own = init::wait_ended(self.init).map_err(SpawnError::Wait)?;
        Ok(self.report().unwrap_or(own))
    }

    /// Whether pid 1's report (or its end) is there to read within `wait`.
    pub fn report_within(&self, wait: std::time::Duration) -> bool {
        if self.report.get().is_some() {
            return true;
        }
        self.status
            .as_ref()
            .is_none_or(|fd| helpers::wait_readable(fd, wait).is_ok())
    }

    /// How the app ended, as pid 1 reports it right before it exits, once every other
    /// process of the sandbox has ended: returns as soon as it has (while pid 1 still
    /// tears the namespaces down), or `None` when pid 1 ended without a report. Read
    /// once; `wait_ended` uses it too.
    pub fn report(&self) -> Option<Ended> {
        *self.report.get_or_init(|| {
            let fd = self.status.as_ref()?;
            let mut bytes = [0u8; 5];
            let mut len = 0;
            while len < bytes.len() {
                match nix::unistd::read(fd, &mut bytes[len..]) {
                    Ok(0) => break,
                    Ok(n) => len += n,
                    Err(Errno::EINTR) => continue,
                    Err(_) => break,
                }
            }
            match Report::decode(&bytes[..len]) {
                Ok(Report::Ended(ended)) => Some(ended),
                _ => None,
            }
        })
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), SpawnError> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(SpawnError::Pipe)
}

/// What is known of a sandbox while its pid 1 builds it.
pub struct Building<'a> {
    /// The sandbox's pid 1, as seen from boxtop.
    pub init: Pid,
    /// See `Started::namespaces`.
    pub namespaces: &'a [(String, u64)],
}

/// Clones the sandbox and returns once its app has been executed, or with the reason
/// it could not be. `place`, when given, puts pid 1 in its cgroup (as `options.cgroup`
/// does) while it waits, before it makes its cgroup namespace. `on_building` runs in this process while pid 1 builds the sandbox
/// (on another CPU): what the caller has to do meanwhile, such as recording the
/// instance, costs the launch nothing.
pub fn start(
    single: &SingleThreaded,
    prepared: &Prepared,
    options: &StartOptions,
    place: Option<&mut dyn FnMut(Pid) -> Result<(), String>>,
    on_building: &mut dyn FnMut(Building),
) -> Result<Started, SpawnError> {
    let plan = &prepared.plan;
    let mut proxies = Vec::new();
    for proxy in [&plan.dbus_proxy, &plan.system_dbus_proxy]
        .into_iter()
        .flatten()
    {
        match helpers::start_dbus_proxy(proxy) {
            Ok(process) => proxies.push(process),
            Err(err) => {
                drop(proxies);
                return Err(err.into());
            }
        }
    }
    super::process::test_pause_at("proxies");
    // Dropping it on an early return stops the proxies (the launch removes their folder).
    let mut started = Started {
        init: Pid::from_raw(0),
        proxies,
        host_guard: None,
        status: None,
        report: std::cell::OnceCell::new(),
        namespaces: Vec::new(),
    };
    // The sandbox shares none of the caller's keys: not even pid 1 has the user's session
    // keyring (its processes cannot call keyctl anyway; this is the second line).
    caps::join_new_session_keyring();
    let (sync_read, sync_write) = pipe()?;
    let (error_read, error_write) = pipe()?;
    let (status_read, status_write) = pipe()?;
    let (ready_read, ready_write) = pipe()?;
    // pid 1 writes its own maps and makes its network namespace, then says it is ready.
    // It waits for boxtop's go only when boxtop has something to do first: move it into
    // the instance's cgroup (before the cgroup namespace is made, so that the namespace's
    // root is that cgroup), or start pasta and the host guard (before the app runs).
    // Otherwise pid 1 goes on alone: a round trip between two processes costs more than
    // the work (the idle CPU of a virtual machine takes hundreds of microseconds to wake).
    let own_network = plan.namespaces.contains(&Namespace::Net);
    let wait_for_go = plan.pasta || options.cgroup.is_some() || place.is_some();
    let flags = prepared
        .plan
        .namespaces
        .iter()
        .filter(|ns| **ns != Namespace::Cgroup && **ns != Namespace::Net)
        .fold(0, |flags, ns| flags | ns.clone_flag().bits()) as libc::c_ulong;
    let cloned = match process::clone_into_namespaces(single, flags) {
        Ok(cloned) => cloned,
        Err(ForkError::Threads(err)) => return Err(err.into()),
        Err(ForkError::Failed(errno)) => {
            return Err(SpawnError::Namespaces {
                errno,
                hint: super::diagnosis::userns_hint(errno),
            })
        }
    };
    // The child runs `child_main`, which never returns.
    let child = match cloned {
        Forked::Parent { child } => child,
        Forked::Child => {
            drop(sync_write);
            drop(error_read);
            drop(status_read);
            drop(ready_read);
            let failed = |what: &str| -> ! { fail(error_write.as_raw_fd(), Failure::Setup, what) };
            // Die with boxtop; if it is already gone, the sync pipe has no writer left.
            caps::set_parent_death_signal();
            if !wait_for_go && has_no_writer(&sync_read) {
                failed("boxtop went away before the sandbox started");
            }
            if let Err(err) = userns::write_own_maps(plan.uid, plan.gid) {
                failed(&err.to_string());
            }
            // The creator of a user namespace has every capability in it, mapped or not.
            if own_network {
                if let Err(errno) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET) {
                    failed(&format!("creating the network namespace: {errno}"));
                }
            }
            let _ = nix::unistd::write(&ready_write, own_namespace_inodes().as_bytes());
            drop(ready_write);
            // pasta joins this process's namespaces, which it may only while this
            // process is dumpable: then the go comes first. A cgroup alone is waited for
            // once the root is built, right before the cgroup namespace and the app, so
            // that boxtop's work (a systemd scope) overlaps the build.
            let mut go = wait_for_go.then_some(sync_read);
            if plan.pasta {
                if let Some(sync_read) = go.take() {
                    let mut byte = [0u8; 1];
                    if !matches!(nix::unistd::read(&sync_read, &mut byte), Ok(1)) {
                        failed("boxtop went away before the sandbox started");
                    }
                }
            }
            super::process::test_delay_at("init");
            child_main(
                single,
                prepared,
                error_write,
                status_write,
                go,
                &options.rlimits,
            );
        }
    };
    drop(sync_read);
    drop(error_write);
    drop(status_write);
    drop(ready_write);
    super::process::test_pause_at("cloned");
    let abort = |err: SpawnError| {
        let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
        let _ = init::wait_for(child);
        // pid 1 builds meanwhile: when it failed first, its reason is the one to tell
        // (its pipe has no writer left once it is gone).
        let report = read_all(&error_read);
        if report.is_empty() {
            err
        } else {
            reported_failure(&report)
        }
    };
    // pid 1 is in all its namespaces but the cgroup one once it says so (or has failed).
    let ready = read_all(&ready_read);
    drop(ready_read);
    if ready.is_empty() {
        let _ = init::wait_for(child);
        return Err(reported_failure(&read_all(&error_read)));
    }
    started.namespaces = parse_namespace_inodes(&ready);
    if let Some(cgroup) = &options.cgroup {
        std::fs::write(cgroup.join("cgroup.procs"), child.to_string()).map_err(|err| {
            abort(SpawnError::Setup(format!(
                "cannot move the sandbox into its cgroup {}: {err}",
                cgroup.display()
            )))
        })?;
    }
    // Or the caller puts it somewhere (a systemd scope), as long as pid 1 waits.
    if let Some(place) = place {
        place(child).map_err(|why| abort(SpawnError::Setup(why)))?;
    }
    if plan.pasta {
        let pasta = helpers::start_pasta(child).map_err(|err| abort(err.into()))?;
        started.proxies.push(pasta);
        // Before the app runs: pasta's sockets would take it to the host's own addresses.
        let guard = net::start_host_guard(single, child).map_err(|err| abort(err.into()))?;
        started.host_guard = Some(guard);
        super::process::test_pause_at("network");
    }
    // Let pid 1 go on if it waits (see `wait_for_go`); it has checked the pipe already if
    // it does not.
    if wait_for_go {
        let _ = nix::unistd::write(&sync_write, b"1");
    }
    drop(sync_write);
    super::process::test_pause_at("building");
    on_building(Building {
        init: child,
        namespaces: &started.namespaces,
    });
    let report = read_all(&error_read);
    if !report.is_empty() {
        let _ = init::wait_for(child);
        return Err(reported_failure(&report));
    }
    started.init = child;
    started.status = Some(status_read);
    Ok(started)
}

/// pid 1's report of the inodes of its `/proc/self/ns/*`, for the namespaces a command
/// joins but the cgroup namespace, which it makes later (see `start`): a `NAME INODE`
/// line each.
fn own_namespace_inodes() -> String {
    use std::os::unix::fs::MetadataExt;
    super::process::JOINED
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| *name != "cgroup")
        .filter_map(|name| {
            let meta = std::fs::metadata(format!("/proc/self/ns/{name}")).ok()?;
            Some(format!("{name} {}\n", meta.ino()))
        })
        .collect()
}

/// Reads `own_namespace_inodes`' report, as `Started::namespaces` holds it.
fn parse_namespace_inodes(report: &[u8]) -> Vec<(String, u64)> {
    String::from_utf8_lossy(report)
        .lines()
        .filter_map(|line| {
            let (name, inode) = line.split_once(' ')?;
            Some((name.to_string(), inode.parse().ok()?))
        })
        .collect()
}

/// Whether every write end of `pipe` is closed: boxtop, which holds one until pid 1 has
/// said it is ready, has ended.
fn has_no_writer(pipe: &OwnedFd) -> bool {
    // Nothing is ever written to it: readable means end of file.
    helpers::wait_readable(pipe, std::time::Duration::ZERO).is_ok()
}

/// The error pid 1 or the app's process reported on the error pipe (see `fail`).
fn reported_failure(report: &[u8]) -> SpawnError {
    match Report::decode(report) {
        Ok(Report::Failed {
            failure: Failure::Exec,
            reason,
        }) => SpawnError::Exec(reason),
        Ok(Report::Failed {
            failure: Failure::Setup,
            reason,
        }) => SpawnError::Setup(reason),
        Ok(other) => SpawnError::Setup(format!("pid 1 said {other:?} instead of why it failed")),
        Err(err) => SpawnError::Setup(format!("pid 1 failed and sent {err}")),
    }
}

fn read_all(fd: &OwnedFd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(Errno::EINTR) => continue,
            Err(_) => return out,
        }
    }
}

/// Sends a failure to boxtop through the error pipe and exits with its code, without
/// running destructors or atexit handlers of the parent's state. Allocates: not for the
/// app's process once it has said it is ready (see `app`).
fn fail(error_fd: RawFd, failure: Failure, message: &str) -> ! {
    crate::sys::fd::write_raw(error_fd, &Report::failed(failure, message).encode());
    process::exit_now(i32::from(failure.exit_code()))
}

/// The sandbox's pid 1: builds the sandbox, starts the app, then supervises it.
fn child_main(
    single: &SingleThreaded,
    prepared: &Prepared,
    error_write: OwnedFd,
    status_write: OwnedFd,
    go: Option<OwnedFd>,
    rlimits: &[(Resource, u64)],
) -> ! {
    // Signals boxtop held before the clone are boxtop's to pass on, to this process.
    init::forget_held_signals();
    let keep = [error_write.as_raw_fd(), status_write.as_raw_fd()];
    let gate = match build_and_fork(single, prepared, &keep, go, rlimits) {
        Ok(gate) => gate,
        Err(message) => fail(error_write.as_raw_fd(), Failure::Setup, &message),
    };
    let app = gate.child;
    let _ = init::forward_signals_to(app);
    // Debug builds only: `BOXTOP_TEST_SLOW_INIT=1` makes pid 1 take its time before it
    // hardens itself, so that a test shows the app cannot run before that.
    #[cfg(debug_assertions)]
    if std::env::var_os("BOXTOP_TEST_SLOW_INIT").is_some_and(|v| v == "1") {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    // pid 1 needs no privilege from here on, and keeps nothing of boxtop's; failing
    // that, the sandbox ends (the app with pid 1) and boxtop says why.
    if let Err(message) = init::harden_self(single, &prepared.init_bpf, prepared.last_cap) {
        fail(
            error_write.as_raw_fd(),
            Failure::Setup,
            &format!("hardening pid 1: {message}"),
        );
    }
    // The app may execute: nothing of boxtop's is left in pid 1 for it to see. Only the
    // app holds the error pipe now: boxtop sees it close when the app executes.
    gate.open();
    drop(error_write);
    let ended = init::reap_until(app);
    init::end_the_rest();
    let _ = nix::unistd::write(&status_write, &report::encode_ended(ended));
    // The kernel kills whatever is left in the namespace.
    process::exit_now(ended.code())
}

/// Everything pid 1 does before the app runs; returns the app's process, ready to execute
/// once its gate is opened (see `app`).
/// `keep[0]` is the error pipe, `keep[1]` the status pipe.
fn build_and_fork(
    single: &SingleThreaded,
    prepared: &Prepared,
    keep: &[RawFd; 2],
    go: Option<OwnedFd>,
    rlimits: &[(Resource, u64)],
) -> Result<Gate, String> {
    let plan = &prepared.plan;
    // Before anything else runs in the sandbox: no process there may read this one's
    // memory (boxtop's environment, the plan), write it, or take its descriptors.
    init::make_undumpable().map_err(|errno| format!("PR_SET_DUMPABLE: {errno}"))?;
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    // Leave boxtop's process group: terminal signals reach boxtop, which forwards them.
    nix::unistd::setsid().map_err(|errno| format!("setsid: {errno}"))?;
    nix::unistd::sethostname(&plan.hostname)
        .map_err(|errno| format!("setting the hostname to '{}': {errno}", plan.hostname))?;
    if plan.namespaces.contains(&Namespace::Net) {
        net::loopback_up().map_err(|errno| format!("bringing up lo: {errno}"))?;
    }
    mount::build_root(&plan.steps, &prepared.pinned).map_err(|err| err.to_string())?;
    // boxtop's go, when it has work first: it has put this process in its cgroup (so
    // that the namespace made next is rooted there) and started pasta.
    if let Some(go) = go {
        let mut byte = [0u8; 1];
        if !matches!(nix::unistd::read(&go, &mut byte), Ok(1)) {
            return Err("boxtop went away before the sandbox started".into());
        }
    }
    if plan.namespaces.contains(&Namespace::Cgroup) {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP)
            .map_err(|errno| format!("creating the cgroup namespace: {errno}"))?;
    }
    close_fds_except(keep);
    app::spawn_app(single, prepared, keep[0], rlimits)
        .map_err(|errno| format!("starting the app: {errno}"))
}
