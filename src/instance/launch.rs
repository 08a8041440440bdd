//! Launching an instance and supervising it: its state file from start to end, its
//! cgroup, and for detached instances a supervisor process of its own that captures
//! the app's output into the log and records how the app ended.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use nix::sys::resource::Resource;

use super::cgroup::{self, LimitKind};
use super::join::HomeLock;
use super::keeper::{Keeper, Say};
use super::logs::{self, LogWriter, LOG_CAP};
use super::record::{now, Phase, ProcRef, Record, Store, StoreError};
use super::status::Origin;
use super::systemd;
use crate::paths::Paths;
use crate::profile::Limits;
use crate::sandbox::helpers::{self, LockedDir};
use crate::sandbox::init::{self, Ended};
use crate::sandbox::plan::Namespace;
use crate::sandbox::process::{self, DetachError, Detached};
use crate::sandbox::report::{Failure, Report};
use crate::sandbox::spawn::{self, Prepared, SpawnError, StartOptions, Started};
use crate::sys::procfs;
use crate::sys::{SingleThreaded, ThreadsError};

/// What a launch needs besides the prepared sandbox.
pub struct Launch<'a> {
    pub paths: &'a Paths,
    pub id: String,
    pub profile: String,
    pub origin: Origin,
    /// The lock on the profile's private home the launch holds, if any: a detached
    /// supervisor lets go of it once its sandbox has ended.
    pub home_lock: Option<&'a HomeLock>,
}

/// How long a foreground `boxtop run` goes on trying to record the end of its instance
/// after the quick retries failed: the user waits for it.
const FOREGROUND_PATIENCE: Duration = Duration::from_secs(2);

/// How long a foreground run goes before its keeper's thread starts (see
/// `Keeper::watch`): runs this short never start one.
const WATCH_AFTER: Duration = Duration::from_millis(100);

/// How long a detached supervisor goes on trying to record the end of its instance (a
/// full runtime folder may be cleared meanwhile); `boxtop ps` lists the instance as
/// stopping during that time, then as lost.
const DETACHED_PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Spawn(#[from] SpawnError),
    #[error("{0}")]
    Dir(#[from] crate::paths::PrivateDirError),
    #[error("{0}")]
    Name(#[from] crate::paths::BadName),
    #[error("cannot start the supervisor: {0}")]
    Supervisor(String),
    /// A detached launch that failed, as its supervisor reported it.
    #[error("{reason}")]
    Failed { reason: String, code: u8 },
    #[error("{0}")]
    Threads(#[from] ThreadsError),
    #[error("cannot start the supervisor: {0}")]
    Detach(#[from] DetachError),
}

impl LaunchError {
    /// See `Failure::exit_code`; a detached launch's as its supervisor reported it.
    pub fn exit_code(&self) -> u8 {
        match self {
            LaunchError::Failed { code, .. } => *code,
            _ => self.failure().exit_code(),
        }
    }

    /// The kind of failure, as a report says it.
    pub fn failure(&self) -> Failure {
        match self {
            LaunchError::Spawn(err) => err.failure(),
            LaunchError::Failed { code, .. } if *code == Failure::Exec.exit_code() => Failure::Exec,
            _ => Failure::Setup,
        }
    }
}

/// The state-file folder for these paths: `$XDG_RUNTIME_DIR/boxtop`, else a private
/// folder under /tmp.
pub fn store(paths: &Paths) -> Store {
    Store::new(paths.runtime.clone().unwrap_or_else(|| {
        PathBuf::from(format!("/tmp/boxtop-{}", nix::unistd::getuid().as_raw()))
    }))
}

pub fn log_dir(paths: &Paths) -> PathBuf {
    paths.state.join("logs")
}

/// Where an instance runs: its cgroup when the user has a delegated subtree, the limits
/// that fall back to rlimits, and a note for each limit not applied as asked. The
/// fallbacks: memory caps each process's data (`RLIMIT_DATA`: heap and private writable
/// mappings, not the address-space reservations browsers make by the terabyte); pids
/// caps the user's processes in the sandbox's user namespace (`RLIMIT_NPROC` is counted
/// per user namespace); a CPU share has no rlimit.
struct Placement {
    cgroup: Option<PathBuf>,
    /// The systemd scope to make for the sandbox (its cgroup is known once it is made).
    scope: Option<String>,
    rlimits: Vec<(Resource, u64)>,
    notes: Vec<String>,
}

fn place(id: &str, profile: &str, limits: &Limits, folder: &Path) -> Placement {
    let all = [
        (LimitKind::Memory, limits.memory_bytes.is_some()),
        (LimitKind::Cpu, limits.cpu.is_some()),
        (LimitKind::Pids, limits.pids.is_some()),
    ];
    let every = |why: String| -> Vec<(LimitKind, String)> {
        all.iter()
            .filter(|(_, on)| *on)
            .map(|(k, _)| (*k, why.clone()))
            .collect()
    };
    let (cgroup, scope, failed) = if systemd::is_likely_running() {
        // The manager sets the limits on the scope; those whose controller its subtree
        // lacks (not delegated to the user, or a hybrid host's v1 hierarchies) are not
        // enforced, and fall back as without a cgroup.
        let offered = scope_controllers();
        let failed = all
            .iter()
            .filter(|(kind, on)| *on && !offered.1.iter().any(|c| c == kind.name()))
            .map(|(kind, _)| {
                (
                    *kind,
                    format!(
                        "the systemd user manager's cgroup {} offers no {} controller",
                        offered.0,
                        kind.name()
                    ),
                )
            })
            .collect();
        (None, Some(systemd::unit_name(profile, id)), failed)
    } else {
        match cgroup::find() {
            Ok(delegation) => match note_cgroup(folder, &delegation.base.join(id))
                .and_then(|()| delegation.create(id, limits))
            {
                Ok((dir, failed)) => (Some(dir), None, failed),
                Err(err) => (
                    None,
                    None,
                    every(format!(
                        "cannot create a cgroup in {}: {err}",
                        delegation.base.display()
                    )),
                ),
            },
            Err(why) => (None, None, every(format!("no delegated cgroup: {why}"))),
        }
    };
    let (rlimits, notes) = fall_back(limits, failed);
    Placement {
        cgroup,
        scope,
        rlimits,
        notes,
    }
}

/// The controllers this process's cgroup offers (what the user manager passes down to
/// its units), with the folder's name for a note.
fn scope_controllers() -> (String, Vec<String>) {
    let Some(own) = cgroup::cgroup2_mount().and_then(|m| cgroup::own_cgroup(&m).ok()) else {
        return ("(unknown)".into(), Vec::new());
    };
    let offered = std::fs::read_to_string(own.join("cgroup.controllers")).unwrap_or_default();
    (
        own.display().to_string(),
        offered.split_whitespace().map(str::to_string).collect(),
    )
}

/// The rlimits standing in for the limits a cgroup cannot hold, and a note for each.
fn fall_back(
    limits: &Limits,
    failed: Vec<(LimitKind, String)>,
) -> (Vec<(Resource, u64)>, Vec<String>) {
    let mut rlimits = Vec::new();
    let mut notes = Vec::new();
    for (kind, why) in failed {
        let instead = match kind {
            LimitKind::Memory => limits
                .memory_bytes
                .map(|v| (Resource::RLIMIT_DATA, v, "RLIMIT_DATA, per process")),
            LimitKind::Pids => limits
                .pids
                .map(|v| (Resource::RLIMIT_NPROC, u64::from(v), "RLIMIT_NPROC")),
            LimitKind::Cpu => None,
        };
        match instead {
            Some((resource, value, name)) => {
                rlimits.push((resource, value));
                notes.push(format!(
                    "{} limit applied as {name} instead ({why}); see `boxtop doctor`",
                    kind.name()
                ));
            }
            None => notes.push(format!(
                "{} limit not applied ({why}); see `boxtop doctor`",
                kind.name()
            )),
        }
    }
    (rlimits, notes)
}

/// The file of an instance's folder that names its cgroup, for `remove_abandoned`.
const CGROUP_NOTE: &str = "cgroup";

/// Names the cgroup `dir` in the instance's `folder`, before it is made.
fn note_cgroup(folder: &Path, dir: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::fs::write(folder.join(CGROUP_NOTE), dir.as_os_str().as_bytes())
}

/// Removes what launches that were killed (SIGKILL, or the machine's power) left in
/// `instances`: each instance folder whose lock no process holds (see `LockedDir`), after
/// the cgroup it names. A cgroup not yet empty (its processes still being reaped) keeps
/// its folder for the next launch to try again.
fn remove_abandoned(instances: &Path) {
    use std::os::unix::ffi::OsStringExt;
    for folder in helpers::take_abandoned(instances, "") {
        let noted = std::fs::read(folder.path().join(CGROUP_NOTE))
            .ok()
            .map(|bytes| PathBuf::from(std::ffi::OsString::from_vec(bytes)));
        // Only the instance's own cgroup: named after it, in a cgroup.
        let cgroup = noted.filter(|dir| {
            dir.file_name() == folder.path().file_name()
                && dir
                    .parent()
                    .is_some_and(|parent| parent.join("cgroup.procs").exists())
        });
        match cgroup.map(std::fs::remove_dir) {
            Some(Err(err)) if err.kind() != std::io::ErrorKind::NotFound => folder.keep(),
            _ => drop(folder),
        }
    }
}

/// Starts the sandbox and writes its state file; on failure the file says why. Returns
/// with the instance's folder (`instances/ID`), locked until it is dropped once the
/// sandbox has ended and its cgroup is removed.
fn start_recorded(
    single: &SingleThreaded,
    launch: &Launch,
    prepared: &Prepared,
    store: &Store,
    detached: bool,
    log: Option<PathBuf>,
) -> Result<(Started, Record, LockedDir), LaunchError> {
    store.ensure()?;
    // Made first: what a launch killed from here on leaves, a later launch finds by
    // this folder's free lock and removes (`remove_abandoned`).
    let folder =
        LockedDir::create(&launch.paths.instance_dir(&launch.id)?).map_err(SpawnError::from)?;
    let plan = prepared.plan();
    let Placement {
        cgroup,
        scope,
        rlimits,
        notes: limit_notes,
    } = place(&launch.id, &launch.profile, &plan.limits, folder.path());
    let mut record = Record {
        id: launch.id.clone(),
        profile: launch.profile.clone(),
        origin: launch.origin,
        detached,
        supervisor: ProcRef::of(std::process::id() as i32).unwrap_or(ProcRef {
            pid: std::process::id() as i32,
            start: 0,
        }),
        init: None,
        pid_ns: None,
        namespaces: Vec::new(),
        own_network: plan.namespaces.contains(&Namespace::Net),
        cgroup: cgroup.clone(),
        unit: None,
        ended_by: None,
        limit_notes,
        log,
        log_problem: None,
        env: plan.env.clone(),
        cwd: plan.cwd.clone(),
        allow_userns: plan.seccomp.allow_userns,
        landlock: prepared.landlock().cloned(),
        started_at: now(),
        ended_at: None,
        phase: Phase::Starting,
    };
    // A detached launch is listed as starting at once; a foreground one is recorded
    // when its app runs (or fails), one write fewer on the way to the app.
    if detached {
        store.save(&record)?;
    }
    // Recorded as running while pid 1 builds the sandbox, off the launch's path; a
    // launch that fails after all is recorded as failed below.
    let mut saved = Ok(());
    // The scope, made while pid 1 waits: its cgroup, or why there is none.
    let placed: std::cell::RefCell<Option<Result<PathBuf, String>>> = Default::default();
    // Forked before the sandbox, it connects to the manager while pid 1 sets up.
    let mut starter = scope.as_ref().map(|unit| {
        systemd::ScopeStarter::fork(
            single,
            &systemd::ScopeSpec {
                unit: unit.clone(),
                description: format!("boxtop sandbox of {} ({})", launch.profile, launch.id),
                pids: Vec::new(),
                limits: plan.limits.clone(),
            },
        )
    });
    let mut make_scope = |child: nix::unistd::Pid| -> Result<(), String> {
        let (Some(unit), Some(starter)) = (&scope, starter.take()) else {
            return Ok(());
        };
        match starter?.start(child.as_raw() as u32) {
            systemd::Forked::Done => {
                let dir = cgroup::cgroup2_mount()
                    .and_then(|mount| systemd::cgroup_of(child.as_raw(), &mount))
                    .ok_or_else(|| format!("cannot read the cgroup of the sandbox in {unit}"))?;
                *placed.borrow_mut() = Some(Ok(dir));
                Ok(())
            }
            // No manager after all: the sandbox runs without a cgroup of its own, and
            // nothing is written into the manager's subtree.
            systemd::Forked::Absent(why) => {
                *placed.borrow_mut() = Some(Err(why));
                Ok(())
            }
            systemd::Forked::Failed(why) => Err(why),
        }
    };
    let mut on_building = |building: spawn::Building| {
        match placed.borrow_mut().take() {
            Some(Ok(dir)) => {
                record.cgroup = Some(dir);
                record.unit = scope.clone();
            }
            Some(Err(why)) => record
                .limit_notes
                .push(format!("no systemd scope, and no cgroup of its own: {why}")),
            None => {}
        }
        record.init = ProcRef::of(building.init.as_raw());
        // pid 1 is not dumpable once it builds: the namespaces are those it reported.
        record.pid_ns = building
            .namespaces
            .iter()
            .find(|(name, _)| name == "pid")
            .map(|(_, inode)| *inode);
        record.namespaces = building.namespaces.to_vec();
        record.phase = Phase::Running;
        saved = store.save(&record);
        // Old ended instances are forgotten here too, off the launch's path, and what
        // launches that were killed left is removed.
        remove_abandoned(&launch.paths.instances());
        store.prune();
    };
    let started = spawn::start(
        single,
        prepared,
        &StartOptions { cgroup, rlimits },
        scope
            .is_some()
            .then_some(&mut make_scope as &mut dyn FnMut(_) -> _),
        &mut on_building,
    );
    match started {
        Ok(started) => {
            saved?;
            Ok((started, record, folder))
        }
        Err(err) => {
            record.phase = Phase::Failed {
                reason: err.to_string(),
            };
            record.ended_at = Some(now());
            store.save(&record)?;
            clean_up(own_cgroup(&record));
            Err(err.into())
        }
    }
}

/// Records how the instance ended (and, for a detached one, what its log could not
/// hold); on failure the keeper goes on trying.
fn record_end(
    keeper: &Keeper,
    ended: Result<Ended, SpawnError>,
    log_problem: Option<String>,
    ended_by: Option<String>,
) -> Result<(), String> {
    let phase = match ended {
        Ok(Ended::Exited(code)) => Phase::Exited { code },
        Ok(Ended::Killed(signal)) => Phase::Killed { signal },
        Err(err) => Phase::Failed {
            reason: err.to_string(),
        },
    };
    keeper.update(|record| {
        record.phase = phase;
        record.ended_at = Some(now());
        if ended_by.is_some() {
            record.ended_by = ended_by;
        }
        if log_problem.is_some() {
            record.log_problem = log_problem;
        }
    })
}

/// The instance's cgroup when boxtop made it: a scope's is the manager's to remove.
fn own_cgroup(record: &Record) -> Option<&Path> {
    record.cgroup.as_deref().filter(|_| record.unit.is_none())
}

/// Removes the ended instance's cgroup. (Old ended instances are forgotten when a
/// launch starts, while its pid 1 builds the sandbox.)
fn clean_up(cgroup: Option<&Path>) {
    if let Some(dir) = cgroup {
        cgroup::remove(dir);
    }
}

/// Runs an instance in the foreground: its output goes to the terminal, boxtop waits
/// for it (forwarding termination signals) and returns the app's exit code.
pub fn run_foreground(launch: &Launch, prepared: &Prepared) -> Result<i32, LaunchError> {
    let single = SingleThreaded::check()?;
    let store = store(launch.paths);
    init::hold_forwarded_signals().map_err(SpawnError::Wait)?;
    let (started, record, folder) = start_recorded(&single, launch, prepared, &store, false, None)?;
    for note in &record.limit_notes {
        crate::errln!("boxtop: {}: {note}", launch.id);
    }
    let id = launch.id.clone();
    let say: Say = Box::new(move |text| crate::errln!("boxtop: {id}: {text}"));
    let cgroup = own_cgroup(&record).map(Path::to_path_buf);
    let mut keeper = Keeper::start(store, record, say);
    process::test_pause_at("running");
    let forwarding = init::forward_signals_to(started.init).map_err(SpawnError::Wait);
    // pid 1 reports the app's end once every other process of the sandbox has ended,
    // before it tears the namespaces down: the end is recorded then. Only a cgroup to
    // empty and remove needs pid 1 gone; otherwise the teardown (the kernel's, of mounts
    // no process uses) is not waited for, as bubblewrap does not.
    let reported = forwarding
        .is_ok()
        .then(|| {
            // The keeper's thread, for a run that lasts (see `Keeper::watch`).
            if !started.report_within(WATCH_AFTER) {
                keeper.watch();
            }
            started.report()
        })
        .flatten();
    if let Some(ended) = reported {
        process::test_pause_at("ended");
        let _ = record_end(&keeper, Ok(ended), None, None);
    }
    let ended = match reported {
        Some(ended) if cgroup.is_none() => Ok(ended),
        _ => forwarding.and_then(|()| started.wait_ended()),
    };
    let code = ended
        .as_ref()
        .map(|e| e.code())
        .unwrap_or(i32::from(Failure::Setup.exit_code()));
    if reported.is_none() {
        process::test_pause_at("ended");
        let _ = record_end(&keeper, ended, None, None);
    }
    process::test_pause_at("recorded");
    clean_up(cgroup.as_deref());
    drop(started);
    drop(folder);
    if let Err(why) = keeper.finish(FOREGROUND_PATIENCE) {
        crate::errln!(
            "boxtop: {}: its end could not be recorded ({why}); `boxtop ps --all` lists it \
             as lost",
            launch.id
        );
    }
    Ok(code)
}

/// Launches an instance that outlives this boxtop: a supervisor process is forked off,
/// starts the sandbox with the app's output going to the log, and reports back. Returns
/// the instance id once the app runs, or why it could not start.
pub fn run_detached(launch: &Launch, prepared: &Prepared) -> Result<String, LaunchError> {
    let single = SingleThreaded::check()?;
    let store = store(launch.paths);
    store.ensure()?;
    crate::paths::ensure_private_dir(&launch.paths.state)?;
    let log_dir = log_dir(launch.paths);
    let log_path = logs::log_path(&log_dir, &launch.id);
    let report = process::fork_detached_reporting(&single, |report| {
        let code = supervise(&single, launch, prepared, &store, &log_path, report);
        // The logs of instances still running are kept: their supervisors write them.
        let mut keep: Vec<String> = store
            .load_all()
            .0
            .into_iter()
            .filter(|record| !record.has_ended())
            .map(|record| record.id)
            .collect();
        keep.push(launch.id.clone());
        logs::prune(&log_dir, &keep);
        code
    })?;
    match report {
        Detached::Said(Report::Started) => Ok(launch.id.clone()),
        Detached::Said(Report::Failed { failure, reason }) => Err(LaunchError::Failed {
            reason,
            code: failure.exit_code(),
        }),
        Detached::Said(Report::Ended(ended)) => Err(LaunchError::Supervisor(format!(
            "it reported an end ({ended:?}) instead of a start; see {}",
            log_path.display()
        ))),
        Detached::Silent => Err(LaunchError::Supervisor(format!(
            "it ended without a word; see {}",
            log_path.display()
        ))),
    }
}

/// The log of a detached instance, written by the supervisor's pump and by its keeper.
type SharedLog = Arc<Mutex<LogWriter>>;

fn lock_log(log: &SharedLog) -> std::sync::MutexGuard<'_, LogWriter> {
    log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The detached supervisor: runs until the sandbox has ended and its end is recorded.
fn supervise(
    single: &SingleThreaded,
    launch: &Launch,
    prepared: &Prepared,
    store: &Store,
    log_path: &std::path::Path,
    report: OwnedFd,
) -> i32 {
    process::test_pause_at("supervisor");
    let say = |report_now: Report| {
        let _ = nix::unistd::write(&report, &report_now.encode());
    };
    let failed = |text: String| Report::failed(Failure::Setup, text);
    let mut log = match LogWriter::create(log_path, LOG_CAP) {
        Ok(log) => log,
        Err(err) => {
            say(failed(format!(
                "cannot open the log {}: {err}",
                log_path.display()
            )));
            return 1;
        }
    };
    // The app's stdout and stderr: a pipe this process drains into the log.
    let (out_read, out_write) = match nix::unistd::pipe2(OFlag::O_CLOEXEC) {
        Ok(pair) => pair,
        Err(errno) => {
            say(failed(format!("cannot create a pipe: {errno}")));
            return 1;
        }
    };
    if let Err(errno) = process::redirect_stdio(Some(&out_write)) {
        say(failed(format!(
            "cannot redirect output to the log: {errno}"
        )));
        return 1;
    }
    drop(out_write);
    log.note(&format!(
        "{} started from {} at {}",
        launch.id,
        launch.origin.label(),
        now()
    ));
    let started = start_recorded(
        single,
        launch,
        prepared,
        store,
        true,
        Some(log_path.to_path_buf()),
    );
    // From here the pipe's write ends are the sandbox's (and its helpers').
    let _ = process::redirect_stdio(None);
    let (started, record, folder) = match started {
        Ok(pair) => pair,
        Err(err) => {
            log.note(&format!("failed to start: {err}"));
            drain(&out_read, &mut log);
            say(Report::failed(err.failure(), err.to_string()));
            return 1;
        }
    };
    for note in &record.limit_notes {
        log.note(note);
    }
    let log: SharedLog = Arc::new(Mutex::new(log));
    let log_for_keeper = Arc::clone(&log);
    let cgroup = own_cgroup(&record).map(Path::to_path_buf);
    let mut keeper = Keeper::start(
        store.clone(),
        record,
        Box::new(move |text| lock_log(&log_for_keeper).note(text)),
    );
    keeper.watch();
    // Threads may start now: this process forks no more.
    let scope_watch = keeper.record().unit.and_then(|unit| {
        systemd::StopWatch::start(&unit)
            .map_err(|err| lock_log(&log).note(&format!("cannot watch its scope: {err}")))
            .ok()
    });
    let mut watch = LogWatch::default();
    watch.check(&log, &keeper);
    say(Report::Started);
    drop(report);
    process::test_pause_at("running");
    // A TERM for the supervisor goes to the app, so that its end is still recorded.
    let _ = init::forward_signals_to(started.init);
    pump(&started, &out_read, &log, &keeper, &mut watch);
    let ended = started.wait_ended();
    let mut log_now = lock_log(&log);
    drain(&out_read, &mut log_now);
    match &ended {
        Ok(Ended::Exited(code)) => log_now.note(&format!("exited with code {code}")),
        Ok(Ended::Killed(signal)) => log_now.note(&format!("killed by signal {signal}")),
        Err(err) => log_now.note(&format!("lost: {err}")),
    }
    let log_problem = log_now.problem();
    let by_signal = matches!(ended, Ok(Ended::Killed(_)));
    let ended_by = scope_watch.as_ref().and_then(|w| w.verdict(by_signal));
    if let Some(by) = &ended_by {
        log_now.note(by);
    }
    drop(log_now);
    process::test_pause_at("ended");
    let recorded = record_end(&keeper, ended, log_problem, ended_by);
    process::test_pause_at("recorded");
    clean_up(cgroup.as_deref());
    // The helpers stop before their folder goes.
    drop(started);
    drop(folder);
    if recorded.is_err() {
        // Trying again for a while: a new launch of the profile need not wait for that.
        if let Some(lock) = launch.home_lock {
            lock.release();
        }
    }
    if let Err(why) = keeper.finish(DETACHED_PATIENCE) {
        lock_log(&log).note(&format!(
            "its end could not be recorded ({why}); `boxtop ps --all` lists it as lost"
        ));
    }
    0
}

/// Whether the log's trouble is in the record yet: it is written there when output is
/// first lost (the end's record says how much in all).
#[derive(Default)]
struct LogWatch {
    recorded: bool,
}

impl LogWatch {
    fn check(&mut self, log: &SharedLog, keeper: &Keeper) {
        if self.recorded {
            return;
        }
        // Not under the log's lock: the keeper takes it to say a write failed.
        let problem = lock_log(log).problem();
        if let Some(problem) = problem {
            self.recorded = true;
            let _ = keeper.update(|record| record.log_problem = Some(problem));
        }
    }
}

/// Copies output into the log until the sandbox's pid 1 exits.
fn pump(started: &Started, out: &OwnedFd, log: &SharedLog, keeper: &Keeper, watch: &mut LogWatch) {
    let pidfd = process::pidfd_open(started.init).ok();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out_open = true;
    loop {
        let mut fds = Vec::new();
        if out_open {
            fds.push(PollFd::new(out.as_fd(), PollFlags::POLLIN));
        }
        if let Some(pidfd) = &pidfd {
            fds.push(PollFd::new(pidfd.as_fd(), PollFlags::POLLIN));
        }
        // Without a pidfd (Linux < 5.3), look every half second.
        let timeout = if pidfd.is_some() {
            PollTimeout::NONE
        } else {
            PollTimeout::from(500u16)
        };
        match nix::poll::poll(&mut fds, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return,
        }
        let ready = |i: usize| {
            fds.get(i)
                .and_then(|fd| fd.revents())
                .is_some_and(|r| !r.is_empty())
        };
        let out_ready = out_open && ready(0);
        let init_done = match &pidfd {
            Some(_) => ready(usize::from(out_open)),
            None => !procfs::Stat::read(started.init.as_raw()).is_ok_and(|s| s.state != 'Z'),
        };
        if out_ready {
            match nix::unistd::read(out, &mut buf) {
                Ok(0) => out_open = false,
                Ok(n) => {
                    let _ = lock_log(log).write(&buf[..n]);
                    watch.check(log, keeper);
                }
                Err(Errno::EINTR) | Err(Errno::EAGAIN) => {}
                Err(_) => out_open = false,
            }
        }
        if init_done {
            return;
        }
    }
}

/// Reads what is left in the pipe without waiting for writers that may linger.
fn drain(out: &OwnedFd, log: &mut LogWriter) {
    let _ = nix::fcntl::fcntl(out, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = nix::unistd::read(out, &mut buf) {
        if n == 0 {
            break;
        }
        let _ = log.write(&buf[..n]);
    }
}
