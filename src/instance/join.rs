//! One sandbox per persistent private home. Two sandboxes writing one home at once (two
//! browsers on one profile folder, two editors on one settings file) can corrupt it: apps
//! guard their profile with lock files naming a hostname and a pid, and a second sandbox
//! has the same hostname and pid numbers of its own, so the guard sees a stale lock.
//!
//! The process that waits for a sandbox with a persistent home (`boxtop run` in the
//! foreground, the supervisor of a detached one) holds an flock on the home's lock file
//! for as long as the sandbox lives. A launch that finds the lock taken runs its command
//! inside the sandbox holding it, as Bubblejail does: there the app's own single-instance
//! logic (a second `firefox URL` handing the page to the running browser) works as it
//! does outside a sandbox.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::control::{self, ControlError};
use super::record::{now, Record, Store, StoreError};
use super::status::Origin;
use crate::paths::BadName;
use crate::sandbox::process::{self, Detached};
use crate::sandbox::report::{Failure, Report};
use crate::sys::SingleThreaded;

/// How long a launch waits for the sandbox holding the home to be recorded as running.
pub const HOLDER_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "its private home is in use by a sandbox that is not running yet (or was started \
         by an older boxtop); try again, or start a separate sandbox with --new-instance"
    )]
    NoHolder,
    #[error("{0}")]
    Control(#[from] ControlError),
    #[error("{0}")]
    BadName(#[from] BadName),
    #[error("cannot start the command in {id}: {reason}")]
    Detached { id: String, reason: String },
}

/// The lock on a profile's persistent private home, held while its sandbox lives. It
/// is never unlocked explicitly: the lock belongs to the open file, which a detached
/// supervisor inherits, and goes when the last process holding the file closes it.
#[derive(Debug)]
pub struct HomeLock {
    file: File,
}

impl HomeLock {
    /// Lets go of the lock for every process sharing it, before the file is closed: a
    /// detached supervisor does once its sandbox has ended, if it has more to do.
    pub fn release(&self) {
        let _ = process::unlock(self.file.as_fd());
    }

    /// The lock file of `profile`'s home: in the state-file folder, gone at logout.
    pub fn path(store: &Store, profile: &str) -> Result<PathBuf, BadName> {
        crate::paths::child(&store.dir().join("homes"), &format!("{profile}.lock"))
    }

    /// The lock when no sandbox holds it, `None` when one does.
    pub fn try_take(store: &Store, profile: &str) -> Result<Option<HomeLock>, JoinError> {
        store.ensure()?;
        let path = Self::path(store, profile)?;
        let lock_err = |source| JoinError::Lock {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            crate::paths::ensure_private_dir(dir)
                .map_err(|err| lock_err(std::io::Error::other(err)))?;
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(lock_err)?;
        match process::try_lock_exclusive(file.as_fd()) {
            Ok(true) => Ok(Some(HomeLock { file })),
            Ok(false) => Ok(None),
            Err(errno) => Err(lock_err(std::io::Error::from(errno))),
        }
    }
}

/// What a launch of a profile with a persistent home gets.
#[derive(Debug)]
pub enum Claim {
    /// The home is free: the new sandbox holds it with this lock.
    Home(HomeLock),
    /// A running sandbox holds the home: the command is to run in it.
    Running(Box<Record>),
}

/// Takes the home's lock, or finds the running instance holding it. A sandbox that is
/// still starting, or ending (its supervisor still recording the end), holds the lock
/// without being listed as running; this waits up to `wait` for either to settle. The
/// newest instance if several run (others started with `--new-instance`).
pub fn claim(store: &Store, profile: &str, wait: Duration) -> Result<Claim, JoinError> {
    let started = Instant::now();
    loop {
        if let Some(lock) = HomeLock::try_take(store, profile)? {
            return Ok(Claim::Home(lock));
        }
        let (records, _) = store.load_all();
        let newest = records
            .into_iter()
            .filter(|r| r.profile == profile && r.init.is_some() && control::is_running(r))
            .max_by_key(|r| r.started_at);
        if let Some(record) = newest {
            return Ok(Claim::Running(Box::new(record)));
        }
        if started.elapsed() > wait {
            return Err(JoinError::NoHolder);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `argv` inside `record`'s sandbox from a process of its own that outlives this
/// one, its output appended to the instance's log. Returns once the command runs, or
/// with why it could not.
pub fn run_detached_in(record: &Record, argv: &[String], origin: Origin) -> Result<(), JoinError> {
    let failed = |reason: String| JoinError::Detached {
        id: record.id.clone(),
        reason,
    };
    let single = SingleThreaded::check().map_err(|err| failed(err.to_string()))?;
    let report =
        process::fork_detached_reporting(&single, |report| run_in(record, argv, origin, &report))
            .map_err(|e| failed(e.to_string()))?;
    match report {
        Detached::Said(Report::Started) => Ok(()),
        Detached::Said(Report::Failed { reason, .. }) => Err(failed(reason)),
        Detached::Said(Report::Ended(ended)) => Err(failed(format!(
            "it reported an end ({ended:?}) instead of a start"
        ))),
        Detached::Silent => Err(failed("it ended without a word".into())),
    }
}

/// The forked process of [`run_detached_in`]: reports `Started` once the command runs,
/// or why not, then waits for the command.
fn run_in(record: &Record, argv: &[String], origin: Origin, report: &OwnedFd) -> i32 {
    let say = |said: Report| {
        let _ = nix::unistd::write(report, &said.encode());
    };
    let log = record.log.as_ref().and_then(|path| {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .ok()
            .map(OwnedFd::from)
    });
    if let Some(log) = &log {
        let note = format!(
            "[boxtop] launched again from {} at {}: {} runs in this sandbox\n",
            origin.label(),
            now(),
            argv.join(" ")
        );
        let _ = nix::unistd::write(log.as_fd(), note.as_bytes());
    }
    if let Err(errno) = process::redirect_stdio(log.as_ref()) {
        let failure = Failure::Setup;
        say(Report::failed(
            failure,
            format!("cannot redirect its output: {errno}"),
        ));
        return i32::from(failure.exit_code());
    }
    drop(log);
    let started = || say(Report::Started);
    match control::enter_then(record, argv, Some(&started)) {
        Ok(code) => code,
        Err(err) => {
            say(Report::failed(Failure::Setup, err.to_string()));
            i32::from(Failure::Setup.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_lock_is_taken_once_and_released_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("boxtop"));
        let first = HomeLock::try_take(&store, "editor").unwrap();
        assert!(first.is_some());
        assert!(HomeLock::try_take(&store, "editor").unwrap().is_none());
        assert!(HomeLock::try_take(&store, "browser").unwrap().is_some());
        drop(first);
        assert!(HomeLock::try_take(&store, "editor").unwrap().is_some());
    }

    #[test]
    fn a_held_lock_without_a_running_instance_is_waited_for_then_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("boxtop"));
        let free = claim(&store, "editor", Duration::ZERO).unwrap();
        assert!(matches!(free, Claim::Home(_)));
        let wait = Duration::from_millis(200);
        let started = Instant::now();
        assert!(matches!(
            claim(&store, "editor", wait),
            Err(JoinError::NoHolder)
        ));
        assert!(started.elapsed() >= wait);
        // Released during the wait: the launch gets it.
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(free);
        });
        let again = claim(&store, "editor", Duration::from_secs(5)).unwrap();
        assert!(matches!(again, Claim::Home(_)));
        releaser.join().unwrap();
    }
}
