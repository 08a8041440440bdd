//! Acting on running instances: stop (close its windows, then TERM, then KILL after a
//! timeout), kill, pause and
//! resume (cgroup freezer, or SIGSTOP/SIGCONT without a cgroup), enter.

use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::cgroup;
use super::collect::pids_of;
use super::record::{is_valid_id, ProcRef, Record, Store, StoreError};
use super::systemd;
use super::windows;
use crate::escape;
use crate::profile::validate::NAME_RULE;
use crate::sandbox::process::{self, EnterError, EnterTarget};
use crate::sys::SingleThreaded;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("no instance or running profile named '{0}' (see `boxtop ps`)")]
    Unknown(String),
    #[error("'{}' is neither an instance id nor a profile name: ids are like firefox-1a2b3c (see `boxtop ps`), and {NAME_RULE}", escape::controls(.0))]
    BadTarget(String),
    #[error("instance {id} is not running: {state}")]
    NotRunning { id: String, state: String },
    #[error("instance {id}: {what}: {errno}")]
    Signal {
        id: String,
        what: &'static str,
        errno: Errno,
    },
    #[error("instance {id}: {what}: {source}")]
    Cgroup {
        id: String,
        what: &'static str,
        source: std::io::Error,
    },
    #[error(
        "instance {id}: its processes are gone, but its end could not be recorded in \
         {file}{why}: its supervisor goes on trying for a while, and `boxtop ps --all` \
         lists it as lost if it cannot"
    )]
    NotRecorded {
        id: String,
        file: String,
        /// Why, when it can be told: `, as its folder is full`.
        why: String,
    },
    #[error("instance {id}: {source}")]
    Scope {
        id: String,
        #[source]
        source: systemd::ManagerError,
    },
    #[error("instance {id} did not end within {secs} s after SIGKILL")]
    Stuck { id: String, secs: u64 },
    #[error("instance {id} is paused: resume it first (`boxtop resume {id}`)")]
    Paused { id: String },
    #[error("instance {id}: {source}")]
    Enter {
        id: String,
        #[source]
        source: EnterError,
    },
}

/// How long a command waits for an unreadable state file to be written again by its
/// instance's supervisor, which looks at it every half second (`instance::keeper`).
pub const REWRITE_WAIT: Duration = Duration::from_millis(1500);

/// The instances a name on the command line means: the instance with that id, else the
/// live instances of the profile with that name. An unreadable state file (which may be
/// the instance meant) is given the time its supervisor takes to write it again.
pub fn resolve(store: &Store, target: &str) -> Result<Vec<Record>, ControlError> {
    if !is_valid_id(target) {
        return Err(ControlError::BadTarget(target.to_string()));
    }
    let deadline = Instant::now() + REWRITE_WAIT;
    loop {
        let waiting = Instant::now() < deadline;
        match store.load(target) {
            Ok(record) => return Ok(vec![record]),
            Err(StoreError::Unknown(_)) => {}
            Err(StoreError::Bad(_)) if waiting => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(err) => return Err(err.into()),
        }
        let (records, unreadable) = store.load_all();
        let live: Vec<Record> = records
            .into_iter()
            .filter(|r| r.profile == target && is_running(r))
            .collect();
        if !live.is_empty() {
            return Ok(live);
        }
        if unreadable.is_empty() || !waiting {
            return Err(ControlError::Unknown(target.to_string()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The latest instance of profile `profile` that the store still lists, ended or not
/// (what `boxtop logs PROFILE` shows once the app has ended).
pub fn latest_of_profile(store: &Store, profile: &str) -> Option<Record> {
    let (records, _) = store.load_all();
    // Start times are in seconds: two launches of one second are told apart by when
    // their state files were last written.
    let written = |record: &Record| {
        std::fs::metadata(store.file(&record.id))
            .and_then(|meta| meta.modified())
            .ok()
    };
    records
        .into_iter()
        .filter(|r| r.profile == profile)
        .max_by_key(|r| (r.started_at, written(r)))
}

/// Whether the instance's pid 1 is alive and its end not recorded.
pub fn is_running(record: &Record) -> bool {
    !record.has_ended() && record.init.is_some_and(|i| i.is_alive())
}

/// Whether the instance has ended, or its pid 1 does within `timeout`.
pub fn ends_within(record: &Record, timeout: Duration) -> bool {
    !is_running(record) || record.init.is_some_and(|init| wait_gone(init, timeout))
}

fn init_of(record: &Record) -> Result<ProcRef, ControlError> {
    match record.init {
        Some(init) if !record.has_ended() && init.is_alive() => Ok(init),
        _ => Err(ControlError::NotRunning {
            id: record.id.clone(),
            state: describe_end(record),
        }),
    }
}

/// Frozen by its cgroup, or (without one) its init stopped by SIGSTOP.
fn is_paused(record: &Record, init: ProcRef) -> bool {
    match record.cgroup.as_deref().filter(|d| d.exists()) {
        Some(dir) => cgroup::is_frozen(dir),
        None => {
            crate::sys::procfs::Stat::read(init.pid).is_ok_and(|s| matches!(s.state, 'T' | 't'))
        }
    }
}

fn describe_end(record: &Record) -> String {
    use super::record::Phase;
    match &record.phase {
        Phase::Exited { code } => format!("it exited with code {code}"),
        Phase::Killed { signal } => format!("it was killed by signal {signal}"),
        Phase::Failed { reason } => format!("it failed to start: {reason}"),
        Phase::Starting => "it is still starting".into(),
        Phase::Running => "it is gone".into(),
        Phase::Lost => "it was lost: it ended without its end being recorded".into(),
    }
}

fn send(record: &Record, init: ProcRef, signal: Signal) -> Result<(), ControlError> {
    match process::signal_checked(Pid::from_raw(init.pid), init.start, signal) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(errno) => Err(ControlError::Signal {
            id: record.id.clone(),
            what: "sending a signal to the sandbox",
            errno,
        }),
    }
}

fn wait_gone(init: ProcRef, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while init.is_alive() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Waits (briefly) for the supervisor to write the end, and returns the final record.
fn wait_recorded(store: &Store, record: &Record) -> Record {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match store.load(&record.id) {
            Ok(now) if now.has_ended() || !now.supervisor.is_alive() => return now,
            // Unreadable for a moment: its supervisor writes it again.
            Ok(_) | Err(StoreError::Bad(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(now) => return now,
            Err(_) => return record.clone(),
        }
    }
}

/// Which step of a stop ended the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopStep {
    /// Its windows were asked to close (`WM_DELETE_WINDOW`), and the app ended.
    Closed { windows: usize },
    /// SIGTERM, forwarded to the app by the sandbox's pid 1.
    Terminated,
    /// SIGKILL to the whole sandbox, once the timeout had passed.
    Killed,
}

/// How a stop went: the final record, the step that ended it, and why the windows could
/// not be asked to close, when they could not.
#[derive(Debug, Clone)]
pub struct Stopped {
    pub record: Record,
    pub step: StopStep,
    pub windows_problem: Option<String>,
}

/// The share of a stop's timeout given to the app after its windows were asked to close,
/// before SIGTERM: time to save, or to show an unsaved-changes dialog.
const CLOSE_SHARE: u32 = 2;

/// Asks the app to end as the user would, then harder: its X11 windows are asked to close
/// (half of `timeout` to end), then SIGTERM (forwarded by the sandbox's pid 1), then the
/// whole sandbox gets SIGKILL once `timeout` has passed. Returns the final record.
pub fn stop(store: &Store, record: &Record, timeout: Duration) -> Result<Record, ControlError> {
    stop_by_steps(store, record, timeout).map(|stopped| stopped.record)
}

/// [`stop`], saying which step ended the sandbox.
pub fn stop_by_steps(
    store: &Store,
    record: &Record,
    timeout: Duration,
) -> Result<Stopped, ControlError> {
    let init = init_of(record)?;
    let deadline = Instant::now() + timeout;
    // A frozen app can neither close its windows nor act on SIGTERM.
    resume(record)?;
    let pids = pids_of(record);
    let (asked, windows_problem) = match windows::ask_to_close(record, &pids, None) {
        Ok(asked) => (asked, None),
        Err(error) => (Vec::new(), Some(error.to_string())),
    };
    let step = if !asked.is_empty() && closed_when_asked(record, init, &pids, &asked, timeout) {
        StopStep::Closed {
            windows: asked.len(),
        }
    } else {
        send(record, init, Signal::SIGTERM)?;
        if wait_gone(init, deadline.saturating_duration_since(Instant::now())) {
            StopStep::Terminated
        } else {
            kill_now(record, init)?;
            StopStep::Killed
        }
    };
    Ok(Stopped {
        record: recorded(store, wait_recorded(store, record))?,
        step,
        windows_problem,
    })
}

/// After the app's windows were asked to close: whether it ended within its share of
/// the timeout. An app still starting up may drop the request (mousepad does, within a
/// second of showing its window), so it is asked once more after a while, unless it
/// answered meanwhile by opening or closing a window (a dialog about unsaved work).
fn closed_when_asked(
    record: &Record,
    init: ProcRef,
    pids: &[i32],
    asked: &[u32],
    timeout: Duration,
) -> bool {
    let share = timeout / CLOSE_SHARE;
    let first = ASK_AGAIN_AFTER.min(share);
    if wait_gone(init, first) {
        return true;
    }
    let _ = windows::ask_to_close(record, pids, Some(asked));
    wait_gone(init, share.saturating_sub(first))
}

/// When an app that has not closed since its windows were asked is asked once more.
const ASK_AGAIN_AFTER: Duration = Duration::from_secs(2);

/// The final record of an instance whose processes are gone, or an error saying that
/// its end is not recorded: a command must not report an end it cannot confirm.
fn recorded(store: &Store, record: Record) -> Result<Record, ControlError> {
    if record.has_ended() {
        return Ok(record);
    }
    let full = nix::sys::statvfs::statvfs(store.dir())
        .is_ok_and(|stat| stat.blocks_available() == 0 || stat.files_available() == 0);
    Err(ControlError::NotRecorded {
        file: store.file(&record.id).display().to_string(),
        why: if full {
            format!(", as its folder {} is full", store.dir().display())
        } else {
            String::new()
        },
        id: record.id,
    })
}

/// Ends the sandbox at once: SIGKILL to its pid 1 (the kernel then kills every process
/// in its pid namespace), and `cgroup.kill` as well when it has a cgroup.
pub fn kill(store: &Store, record: &Record) -> Result<Record, ControlError> {
    let init = init_of(record)?;
    kill_now(record, init)?;
    recorded(store, wait_recorded(store, record))
}

fn kill_now(record: &Record, init: ProcRef) -> Result<(), ControlError> {
    send(record, init, Signal::SIGKILL)?;
    // Through the manager when the instance has a scope; its cgroup.kill otherwise (or
    // when the manager does not answer).
    let by_manager = record.unit.as_deref().is_some_and(|unit| {
        systemd::Manager::connect()
            .and_then(|manager| manager.kill(unit, Signal::SIGKILL as i32))
            .is_ok()
    });
    if let Some(dir) = record.cgroup.as_ref().filter(|_| !by_manager) {
        let _ = cgroup::kill(dir);
    }
    if !wait_gone(init, Duration::from_secs(5)) {
        return Err(ControlError::Stuck {
            id: record.id.clone(),
            secs: 5,
        });
    }
    Ok(())
}

/// Freezes every process of the sandbox.
pub fn pause(record: &Record) -> Result<(), ControlError> {
    freeze(record, true)
}

/// Thaws a paused sandbox (nothing to do when it is not paused).
pub fn resume(record: &Record) -> Result<(), ControlError> {
    freeze(record, false)
}

fn freeze(record: &Record, frozen: bool) -> Result<(), ControlError> {
    init_of(record)?;
    if let (Some(unit), Some(dir)) = (&record.unit, record.cgroup.as_deref()) {
        // The manager knows then (`systemctl --user` shows the unit frozen); one too old
        // to freeze (systemd < 246) leaves it to the scope's cgroup.freeze below.
        let asked = systemd::Manager::connect().and_then(|manager| manager.freeze(unit, frozen));
        match asked {
            Ok(true) => {
                return wait_frozen(dir, frozen).map_err(|source| ControlError::Cgroup {
                    id: record.id.clone(),
                    what: if frozen { "freezing" } else { "thawing" },
                    source,
                })
            }
            Ok(false) => {}
            Err(err) if err.is_absent() => {}
            Err(err) => {
                return Err(ControlError::Scope {
                    id: record.id.clone(),
                    source: err,
                })
            }
        }
    }
    if let Some(dir) = record.cgroup.as_deref().filter(|d| d.exists()) {
        return cgroup::freeze(dir, frozen).map_err(|source| ControlError::Cgroup {
            id: record.id.clone(),
            what: if frozen { "freezing" } else { "thawing" },
            source,
        });
    }
    let signal = if frozen {
        Signal::SIGSTOP
    } else {
        Signal::SIGCONT
    };
    // Without a cgroup: stop each process; a process forked meanwhile is caught by a
    // second pass.
    for _ in 0..2 {
        for pid in pids_of(record) {
            if let Some(proc_ref) = ProcRef::of(pid) {
                match process::signal_checked(Pid::from_raw(pid), proc_ref.start, signal) {
                    Ok(()) | Err(Errno::ESRCH) => {}
                    Err(errno) => {
                        return Err(ControlError::Signal {
                            id: record.id.clone(),
                            what: if frozen { "SIGSTOP" } else { "SIGCONT" },
                            errno,
                        })
                    }
                }
            }
        }
    }
    Ok(())
}

/// Waits (up to a second) until the cgroup's state is `frozen`.
fn wait_frozen(dir: &std::path::Path, frozen: bool) -> std::io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1);
    while cgroup::is_frozen(dir) != frozen {
        if Instant::now() >= deadline || !dir.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "{} did not report frozen={}",
                    dir.display(),
                    u8::from(frozen)
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Runs `argv` (a shell when empty) inside the running sandbox; returns its exit code.
pub fn enter(record: &Record, argv: &[String]) -> Result<i32, ControlError> {
    enter_then(record, argv, None)
}

/// [`enter`], calling `on_started` once the command runs.
pub fn enter_then(
    record: &Record,
    argv: &[String],
    on_started: Option<&dyn Fn()>,
) -> Result<i32, ControlError> {
    let single = SingleThreaded::check().map_err(|err| ControlError::Enter {
        id: record.id.clone(),
        source: err.into(),
    })?;
    let init = init_of(record)?;
    // A command joining a frozen cgroup would freeze with it, and one beside stopped
    // processes would wait for them: neither comes back.
    if is_paused(record, init) {
        return Err(ControlError::Paused {
            id: record.id.clone(),
        });
    }
    // The command counts as part of the instance: limits, stats, freeze, kill. A scope
    // takes it through its manager (its cgroup's parents are the manager's).
    if let Some(unit) = &record.unit {
        let pid = std::process::id();
        let _ = systemd::call_forked(&single, |manager| manager.attach(unit, pid));
    } else if let Some(dir) = record.cgroup.as_deref().filter(|d| d.exists()) {
        let _ = std::fs::write(dir.join("cgroup.procs"), std::process::id().to_string());
    }
    let shell = ["/bin/bash", "/bin/sh"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| vec![p.to_string()])
        .unwrap_or_else(|| vec!["sh".to_string()]);
    let argv = if argv.is_empty() { &shell[..] } else { argv };
    process::enter(
        &single,
        &EnterTarget {
            init: Pid::from_raw(init.pid),
            init_start: init.start,
            namespaces: &record.namespaces,
            argv,
            env: &record.env,
            cwd: &record.cwd,
            allow_userns: record.allow_userns,
            landlock: record.landlock.as_ref(),
            on_started,
        },
    )
    .map_err(|source| ControlError::Enter {
        id: record.id.clone(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entering_from_a_process_with_two_threads_is_refused_before_anything_is_done() {
        // A second thread for the whole call, whatever the harness runs on.
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel();
        let other = std::thread::spawn(move || {
            started.send(()).unwrap();
            let _ = stopped.recv();
        });
        running.recv().unwrap();
        let record = super::super::record::test_record(
            "editor-1a2b3c",
            super::super::record::Phase::Running,
            ProcRef::of(std::process::id() as i32).unwrap(),
            None,
        );
        let refused = enter(&record, &["true".to_string()]);
        stop.send(()).unwrap();
        other.join().unwrap();
        match &refused {
            Err(ControlError::Enter {
                source: EnterError::Threads(_),
                ..
            }) => {}
            other => panic!("not refused for its threads: {other:?}"),
        }
        let text = refused.unwrap_err().to_string();
        assert!(
            text.contains("instance editor-1a2b3c: this process runs")
                && text.contains("only sound in a process with one thread"),
            "{text}"
        );
    }

    #[test]
    fn targets_that_are_no_id_or_name_are_refused_before_any_path_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf());
        for bad in ["../x", "..", "", "a/b", "a\x1b[31m", &"a".repeat(200)] {
            match resolve(&store, bad) {
                Err(err @ ControlError::BadTarget(_)) => {
                    let text = err.to_string();
                    assert!(!text.contains('\x1b') && text.contains("1 to 63"), "{text}");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(matches!(
            resolve(&store, "firefox"),
            Err(ControlError::Unknown(_))
        ));
    }
}
