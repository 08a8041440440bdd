//! The supervisor's record of its instance, kept on disk for as long as the supervisor
//! lives: every write is retried when it fails (a full runtime folder), and a state file
//! found unreadable, changed or removed while the instance runs is written again from
//! the record held here, so that the instance stays listed and manageable.

use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::record::{Record, Store};

/// How often the keeper looks at the state file, and retries a write that failed.
const LOOK_EVERY: Duration = Duration::from_millis(500);

/// The pauses between the quick retries of a write that failed, before the caller is
/// told: a folder filled for a moment gets the write a moment later.
const QUICK_RETRIES: [Duration; 5] = [
    Duration::from_millis(20),
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
];

/// Where the keeper says what went wrong and what it did: the log of a detached
/// instance, the terminal of a foreground one.
pub type Say = Box<dyn Fn(&str) + Send + Sync>;

/// The state file as the keeper last wrote it: a file that differs was changed by
/// someone else (truncated, replaced, removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Written {
    inode: u64,
    size: u64,
    mtime_ns: i128,
}

impl Written {
    fn of(path: &std::path::Path) -> Option<Written> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Written {
            inode: meta.ino(),
            size: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        })
    }
}

struct Kept {
    record: Record,
    /// The file as last written; `None` while the record is not on disk as it is here.
    written: Option<Written>,
    /// Why the latest write failed, while writes fail.
    failing: Option<String>,
    /// The supervisor is done: the keeper stops once the record is written, or at this
    /// deadline.
    done_by: Option<Instant>,
}

struct Shared {
    store: Store,
    kept: Mutex<Kept>,
    wake: Condvar,
    say: Say,
}

/// Keeps one instance's state file in step with the supervisor's record, from a thread
/// of its own. Start it only once the process forks no more (after the sandbox started).
pub struct Keeper {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Keeper {
    /// Keeps `record`, which is on disk as it is now (or not at all, when its last write
    /// failed: the keeper retries it).
    pub fn start(store: Store, record: Record, say: Say) -> Keeper {
        let path = store.file(&record.id);
        let written = match store.load(&record.id) {
            Ok(on_disk) if on_disk == record => Written::of(&path),
            _ => None,
        };
        let shared = Arc::new(Shared {
            store,
            kept: Mutex::new(Kept {
                record,
                written,
                failing: None,
                done_by: None,
            }),
            wake: Condvar::new(),
            say,
        });
        Keeper {
            shared,
            thread: None,
        }
    }

    /// Starts the thread that looks after the state file while the instance runs
    /// (rewrites it if it was damaged, retries a failed write); once is enough. A
    /// launch starts it only for an instance that runs for more than a moment: a
    /// short run does not pay for a thread. Without it, writes are still made (and
    /// retried) by `update`.
    pub fn watch(&mut self) {
        if self.thread.is_some() {
            return;
        }
        let in_thread = Arc::clone(&self.shared);
        self.thread = std::thread::Builder::new()
            .name("state-keeper".into())
            .spawn(move || keep(&in_thread))
            .ok();
    }

    /// The record as kept.
    pub fn record(&self) -> Record {
        lock(&self.shared).record.clone()
    }

    /// Changes the record and writes it, retrying a few times; on failure, says why
    /// (once per streak of failures) and returns it, and the keeper goes on retrying.
    pub fn update(&self, change: impl FnOnce(&mut Record)) -> Result<(), String> {
        let mut kept = lock(&self.shared);
        change(&mut kept.record);
        kept.written = None;
        let mut result = write(&self.shared, &mut kept);
        for pause in QUICK_RETRIES {
            if result.is_ok() {
                break;
            }
            drop(kept);
            std::thread::sleep(pause);
            kept = lock(&self.shared);
            if kept.written.is_some() {
                // Written meanwhile by the keeper's thread.
                return Ok(());
            }
            result = write(&self.shared, &mut kept);
        }
        result
    }

    /// Stops keeping: waits up to `patience` for a write that is still failing, and
    /// returns why it failed if it never succeeded.
    pub fn finish(mut self, patience: Duration) -> Result<(), String> {
        {
            let mut kept = lock(&self.shared);
            kept.done_by = Some(Instant::now() + patience);
        }
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let kept = lock(&self.shared);
        match (&kept.written, &kept.failing) {
            (None, Some(why)) => Err(why.clone()),
            (None, None) => Err("it was never written".into()),
            (Some(_), _) => Ok(()),
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            lock(&self.shared).done_by = Some(Instant::now());
            self.shared.wake.notify_all();
            let _ = thread.join();
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, Kept> {
    // A panic elsewhere while holding it leaves a record that is still whole.
    shared
        .kept
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes the kept record; says the first failure of a streak and the end of one.
fn write(shared: &Shared, kept: &mut Kept) -> Result<(), String> {
    let path = shared.store.file(&kept.record.id);
    match shared.store.save(&kept.record) {
        Ok(()) => {
            kept.written = Written::of(&path);
            if let Some(why) = kept.failing.take() {
                (shared.say)(&format!(
                    "the state file {} is written again (it could not be: {why})",
                    path.display()
                ));
            }
            Ok(())
        }
        Err(err) => {
            let why = err.to_string();
            if kept.failing.is_none() {
                (shared.say)(&format!("{why}; retrying"));
            }
            kept.failing = Some(why.clone());
            Err(why)
        }
    }
}

/// The keeper's thread: retries a failed write, and writes the record again when its
/// file is no longer what was written, until the supervisor is done.
fn keep(shared: &Shared) {
    let mut kept = lock(shared);
    loop {
        let path = shared.store.file(&kept.record.id);
        match kept.written {
            None => {
                let _ = write(shared, &mut kept);
            }
            Some(written) if Written::of(&path) != Some(written) => {
                let found = match shared.store.load(&kept.record.id) {
                    Ok(record) if record == kept.record => None,
                    Ok(_) => Some("it held another record".to_string()),
                    Err(err) => Some(err.to_string()),
                };
                match found {
                    // Rewritten with the same content (the same record, saved again).
                    None => kept.written = Written::of(&path),
                    Some(why) => {
                        (shared.say)(&format!(
                            "the state file {} was changed from outside ({why}); writing it \
                             again from the supervisor's record",
                            path.display()
                        ));
                        let _ = write(shared, &mut kept);
                    }
                }
            }
            Some(_) => {}
        }
        if let Some(deadline) = kept.done_by {
            if kept.written.is_some() || Instant::now() >= deadline {
                return;
            }
        }
        kept = shared
            .wake
            .wait_timeout(kept, LOOK_EVERY)
            .map(|(guard, _)| guard)
            .unwrap_or_else(|poisoned| poisoned.into_inner().0);
    }
}
