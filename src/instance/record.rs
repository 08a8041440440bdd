//! The state file of one instance, `$XDG_RUNTIME_DIR/boxtop/ID.json`, and the folder of
//! them: written atomically by the instance's supervisor, read by every boxtop process.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::status::Origin;
use crate::atomic::write_atomic_volatile;
use crate::escape;
use crate::paths::{ensure_private_dir, PrivateDirError};
use crate::profile::validate::is_valid_name;
use crate::sys::procfs;

/// A process named so that a reused pid is never mistaken for it: the pid and its start
/// time (clock ticks after boot, field 22 of `/proc/PID/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcRef {
    pub pid: i32,
    pub start: u64,
}

impl ProcRef {
    /// The process `pid` as it is now, if it exists.
    pub fn of(pid: i32) -> Option<ProcRef> {
        let stat = procfs::Stat::read(pid).ok()?;
        Some(ProcRef {
            pid,
            start: stat.start_ticks,
        })
    }

    /// Whether this very process still exists (a zombie counts as gone).
    pub fn is_alive(&self) -> bool {
        procfs::Stat::read(self.pid)
            .map(|stat| stat.start_ticks == self.start && stat.state != 'Z' && stat.state != 'X')
            .unwrap_or(false)
    }
}

/// What the supervisor has recorded of an instance's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "lowercase")]
pub enum Phase {
    Starting,
    Running,
    Exited {
        code: i32,
    },
    Killed {
        signal: i32,
    },
    Failed {
        reason: String,
    },
    /// Its supervisor and its sandbox were found gone without a recorded end (both
    /// killed, or the end could not be written): how the app ended is unknown, and
    /// `ended_at` is when boxtop found it so.
    Lost,
}

/// One instance, as its state file holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub profile: String,
    pub origin: Origin,
    /// Started with `--detach` (its output is in the log) or in a terminal.
    pub detached: bool,
    /// The boxtop process that waits for the sandbox and records its end.
    pub supervisor: ProcRef,
    /// The sandbox's pid 1, once it exists.
    pub init: Option<ProcRef>,
    /// The inode of the sandbox's pid namespace: every process in it belongs to it.
    pub pid_ns: Option<u64>,
    /// The inode of each of the sandbox's namespaces, as `boxtop enter` checks them.
    #[serde(default)]
    pub namespaces: Vec<(String, u64)>,
    /// Whether the sandbox has its own network namespace (byte counts make sense).
    pub own_network: bool,
    /// The instance's own cgroup v2 folder, when the user has a delegated subtree.
    pub cgroup: Option<PathBuf>,
    /// The systemd scope the instance runs in (`cgroup` is its cgroup then), when the
    /// user's systemd manager made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Who ended the instance from outside, when it was not the app or boxtop: the
    /// systemd manager stopping its scope (`systemctl --user stop`, systemd-oomd).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
    /// Limits that could not be applied, and why.
    #[serde(default)]
    pub limit_notes: Vec<String>,
    /// The app's output, for detached instances.
    pub log: Option<PathBuf>,
    /// Why some of the app's output could not be written to the log (a full folder...):
    /// said by `ps`, `logs` and the TUI, since the log itself cannot say it.
    #[serde(default)]
    pub log_problem: Option<String>,
    /// The sandbox's environment and working folder, for `boxtop enter`.
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub allow_userns: bool,
    /// The Landlock rules of the app, which `boxtop enter` applies too; `None` for
    /// instances started without them.
    #[serde(default)]
    pub landlock: Option<crate::sandbox::landlock::Rules>,
    /// Seconds since the Unix epoch.
    pub started_at: u64,
    pub ended_at: Option<u64>,
    pub phase: Phase,
}

impl Record {
    pub fn has_ended(&self) -> bool {
        matches!(
            self.phase,
            Phase::Exited { .. } | Phase::Killed { .. } | Phase::Failed { .. } | Phase::Lost
        )
    }
}

/// Why a state file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for BadRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "instance state file {} is unreadable ({}): a running instance's supervisor \
             rewrites its file within a second, so one that stays unreadable belongs to no \
             running instance and can be removed",
            escape::controls(&self.path.display().to_string()),
            escape::controls(&self.reason)
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the instance folder: {0}")]
    Dir(#[from] PrivateDirError),
    #[error("cannot write the instance state file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no instance '{0}' (see `boxtop ps`)")]
    Unknown(String),
    #[error("{0}")]
    Bad(BadRecord),
}

/// How many ended instances are kept listed.
pub const KEEP_ENDED: usize = 50;

/// The folder of state files.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Creates the folder, private to the user, refusing one that someone else made.
    pub fn ensure(&self) -> Result<(), StoreError> {
        Ok(ensure_private_dir(&self.dir)?)
    }

    /// Writes a record atomically (temporary file, then rename), in the folder made
    /// again if it went (a supervisor outlives a logout's cleaning, or a user's `rm`).
    pub fn save(&self, record: &Record) -> Result<(), StoreError> {
        self.ensure()?;
        let path = self.path(&record.id);
        let json = serde_json::to_vec_pretty(record).expect("a record serializes");
        write_atomic_volatile(&path, &json).map_err(|source| StoreError::Write { path, source })
    }

    pub fn load(&self, id: &str) -> Result<Record, StoreError> {
        if !is_valid_id(id) {
            return Err(StoreError::Unknown(id.to_string()));
        }
        let path = self.path(id);
        match std::fs::read(&path) {
            Ok(bytes) => parse(&path, &bytes).map_err(StoreError::Bad),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::Unknown(id.to_string()))
            }
            Err(err) => Err(StoreError::Bad(BadRecord {
                path,
                reason: err.to_string(),
            })),
        }
    }

    /// Every record, oldest first, and the files that could not be read.
    pub fn load_all(&self) -> (Vec<Record>, Vec<BadRecord>) {
        let mut records = Vec::new();
        let mut bad = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (records, bad);
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let path = entry.path();
            match std::fs::read(&path) {
                Ok(bytes) => match parse(&path, &bytes) {
                    Ok(record) => records.push(record),
                    Err(problem) => bad.push(problem),
                },
                // Removed between listing and reading: pruned by another boxtop.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => bad.push(BadRecord {
                    path,
                    reason: err.to_string(),
                }),
            }
        }
        records.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
        bad.sort_by(|a, b| a.path.cmp(&b.path));
        (records, bad)
    }

    /// The state file of instance `id`.
    pub fn file(&self, id: &str) -> PathBuf {
        self.path(id)
    }

    /// The folder of the instance's helpers' sockets (`Paths::instance_dir`), in this
    /// folder.
    pub fn instance_dir(&self, id: &str) -> PathBuf {
        self.dir.join("instances").join(id)
    }

    pub fn remove(&self, id: &str) {
        let _ = std::fs::remove_file(self.path(id));
    }

    /// Forgets an ended instance: its state file and what its helpers left in its
    /// folder (a supervisor killed with its sandbox could not remove it).
    pub fn forget(&self, id: &str) {
        self.remove(id);
        if is_valid_id(id) {
            let _ = std::fs::remove_dir_all(self.instance_dir(id));
            // What it had beyond its profile (`instance::live`).
            let _ = std::fs::remove_file(self.dir.join(format!("{id}.shares")));
            let _ = std::fs::remove_file(self.dir.join(format!("{id}.network")));
        }
    }

    /// Forgets the oldest ended instances beyond `KEEP_ENDED`, once there are twice as
    /// many state files: most calls only count the files. Removes the helpers' folders
    /// that ended instances left (their supervisor was killed before it could).
    pub fn prune(&self) {
        self.sweep_instance_dirs();
        self.sweep_temporary_files();
        let files = std::fs::read_dir(&self.dir)
            .map(|dir| {
                dir.flatten()
                    .filter(|e| e.file_name().to_str().is_some_and(|n| n.ends_with(".json")))
                    .count()
            })
            .unwrap_or(0);
        if files <= 2 * KEEP_ENDED {
            return;
        }
        let (records, _) = self.load_all();
        let mut ended: Vec<&Record> = records.iter().filter(|r| r.has_ended()).collect();
        ended.sort_by_key(|r| std::cmp::Reverse(r.ended_at.unwrap_or(r.started_at)));
        for record in ended.iter().skip(KEEP_ENDED) {
            self.forget(&record.id);
        }
    }

    /// Removes the folder of every instance that has ended and whose supervisor is gone.
    /// A folder without a state file is left: a foreground launch makes its folder
    /// before it first writes its record. So is a folder of the lock protocol, which the
    /// launch removes by its lock (`helpers::take_abandoned`) after the cgroup it names.
    fn sweep_instance_dirs(&self) {
        let Ok(entries) = std::fs::read_dir(self.dir.join("instances")) else {
            return;
        };
        for entry in entries.flatten() {
            let Some(id) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if let Ok(record) = self.load(&id) {
                let locked = crate::sandbox::helpers::is_locked_dir(&entry.path());
                if record.has_ended() && !record.supervisor.is_alive() && !locked {
                    let _ = std::fs::remove_dir_all(self.instance_dir(&id));
                }
            }
        }
    }

    /// Removes the temporary files of state writes whose writer was killed before its
    /// rename (`.ID.json.tmp-PID-N`, see `atomic`): nothing else would, and readers skip
    /// them.
    fn sweep_temporary_files(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let writer = name
                .strip_prefix('.')
                .and_then(|rest| rest.split_once(".json.tmp-"))
                .and_then(|(_, tail)| tail.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<i32>().ok());
            if writer.is_some_and(|pid| ProcRef::of(pid).is_none()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// A fresh id: the profile's name and six hex digits.
    pub fn new_id(&self, profile: &str) -> String {
        loop {
            let mut bytes = [0u8; 3];
            let random = std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
            if random.is_err() {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0)
                    ^ std::process::id();
                bytes.copy_from_slice(&nanos.to_le_bytes()[..3]);
            }
            let id = format!("{profile}-{:02x}{:02x}{:02x}", bytes[0], bytes[1], bytes[2]);
            if !self.path(&id).exists() {
                return id;
            }
        }
    }
}

/// Ids are profile names (letters, digits, `-`, `_`, `.`) and a suffix: nothing that
/// could name a path outside the folder (an id names the state file, the log, the
/// instance's folder and its cgroup) or drive a terminal.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A state file's record, with the names in it checked as a launch makes them: they
/// become paths and are printed, and a file in the folder may not be one boxtop wrote.
fn parse(path: &Path, bytes: &[u8]) -> Result<Record, BadRecord> {
    let bad = |reason: String| BadRecord {
        path: path.to_path_buf(),
        reason,
    };
    let record: Record = serde_json::from_slice(bytes).map_err(|err| bad(err.to_string()))?;
    let stem = path
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_suffix(".json"));
    if !is_valid_id(&record.id) || stem != Some(record.id.as_str()) {
        return Err(bad(format!(
            "its id '{}' is not the file's name or not an instance id",
            escape::controls(&record.id)
        )));
    }
    if !is_valid_name(&record.profile) {
        return Err(bad(format!(
            "its profile '{}' is not a profile name",
            escape::controls(&record.profile)
        )));
    }
    Ok(record)
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A detached instance's record of the CLI, for unit tests: started five seconds ago.
#[cfg(test)]
pub(crate) fn test_record(
    id: &str,
    phase: Phase,
    supervisor: ProcRef,
    init: Option<ProcRef>,
) -> Record {
    Record {
        id: id.into(),
        profile: "p".into(),
        origin: super::status::Origin::Cli,
        detached: true,
        supervisor,
        init,
        pid_ns: None,
        namespaces: Vec::new(),
        own_network: false,
        cgroup: None,
        unit: None,
        ended_by: None,
        limit_notes: Vec::new(),
        log: None,
        log_problem: None,
        env: Vec::new(),
        cwd: "/".into(),
        allow_userns: false,
        landlock: None,
        started_at: now() - 5,
        ended_at: None,
        phase,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn record(id: &str, phase: Phase) -> Record {
        Record {
            id: id.into(),
            profile: "xterm".into(),
            origin: Origin::Cli,
            detached: true,
            supervisor: ProcRef { pid: 1, start: 1 },
            init: None,
            pid_ns: None,
            namespaces: Vec::new(),
            own_network: true,
            cgroup: None,
            unit: None,
            ended_by: None,
            limit_notes: Vec::new(),
            log: None,
            log_problem: None,
            env: vec![("HOME".into(), "/home/u".into())],
            cwd: "/home/u".into(),
            allow_userns: false,
            landlock: None,
            started_at: 100,
            ended_at: None,
            phase,
        }
    }

    #[test]
    fn saves_and_loads_records_and_reports_corrupt_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("boxtop"));
        store.ensure().unwrap();
        let a = record("xterm-000001", Phase::Running);
        store.save(&a).unwrap();
        std::fs::write(store.dir().join("broken-1.json"), b"{ not json").unwrap();
        std::fs::write(store.dir().join(".tmp.json"), b"ignored").unwrap();
        let (records, bad) = store.load_all();
        assert_eq!(records, vec![a.clone()]);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].to_string().contains("broken-1.json"), "{}", bad[0]);
        assert_eq!(store.load("xterm-000001").unwrap(), a);
        assert!(matches!(store.load("nope"), Err(StoreError::Unknown(_))));
        assert!(matches!(store.load("../x"), Err(StoreError::Unknown(_))));
        assert!(matches!(store.load("broken-1"), Err(StoreError::Bad(_))));
    }

    #[test]
    fn prune_keeps_live_and_the_most_recent_ended() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf());
        store.save(&record("live", Phase::Running)).unwrap();
        for n in 0..(2 * KEEP_ENDED + 3) {
            let mut r = record(&format!("e{n:03}"), Phase::Exited { code: 0 });
            r.ended_at = Some(1000 + n as u64);
            store.save(&r).unwrap();
        }
        store.prune();
        let (records, _) = store.load_all();
        assert_eq!(records.len(), KEEP_ENDED + 1);
        assert!(records.iter().any(|r| r.id == "live"));
        let oldest_kept = format!("e{:03}", KEEP_ENDED + 3);
        assert!(records
            .iter()
            .filter(|r| r.id != "live")
            .all(|r| r.id >= oldest_kept));
        assert!(records.iter().any(|r| r.id == oldest_kept));
        // Below twice the limit, nothing is read or removed.
        store
            .save(&record("e999", Phase::Exited { code: 0 }))
            .unwrap();
        store.prune();
        assert_eq!(store.load_all().0.len(), KEEP_ENDED + 2);
    }

    /// Lost instances are pruned with the ended ones, and their helpers' folders with
    /// them (issue 14, item 4).
    #[test]
    fn prune_forgets_lost_instances_and_their_folders() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf());
        let mut live = record("live", Phase::Running);
        live.ended_at = None;
        store.save(&live).unwrap();
        std::fs::create_dir_all(store.instance_dir("live")).unwrap();
        for n in 0..(2 * KEEP_ENDED + 3) {
            let mut r = record(&format!("l{n:03}"), Phase::Lost);
            r.ended_at = Some(1000 + n as u64);
            store.save(&r).unwrap();
            std::fs::create_dir_all(store.instance_dir(&r.id)).unwrap();
        }
        store.prune();
        let (records, _) = store.load_all();
        assert_eq!(records.len(), KEEP_ENDED + 1);
        assert!(records
            .iter()
            .all(|r| r.id == "live" || r.id.as_str() >= "l053"));
        // Their supervisors are gone: every folder they left goes, the live one stays.
        let folders: Vec<_> = std::fs::read_dir(dir.path().join("instances"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(folders, ["live"]);
    }

    /// The folder an ended instance left is removed at the next prune, even below the
    /// count that forgets records; a folder without a record, or of an instance whose
    /// supervisor still runs, stays.
    #[test]
    fn prune_removes_the_folders_ended_instances_left() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf());
        let me = ProcRef::of(std::process::id() as i32).unwrap();
        let mut ended = record("ended-1", Phase::Exited { code: 0 });
        ended.ended_at = Some(200);
        let mut ending = ended.clone();
        ending.id = "ending-1".into();
        ending.supervisor = me;
        let running = record("running-1", Phase::Running);
        for r in [&ended, &ending, &running] {
            store.save(r).unwrap();
        }
        for id in ["ended-1", "ending-1", "running-1", "starting-1"] {
            std::fs::create_dir_all(store.instance_dir(id)).unwrap();
        }
        store.prune();
        assert!(!store.instance_dir("ended-1").exists());
        for id in ["ending-1", "running-1", "starting-1"] {
            assert!(store.instance_dir(id).exists(), "{id}");
        }
        assert_eq!(store.load_all().0.len(), 3);
    }

    #[test]
    fn prune_removes_temporary_files_whose_writer_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf());
        store.ensure().unwrap();
        let mine = format!(".a-1.json.tmp-{}-0", std::process::id());
        // Beyond the kernel's pid_max (4194304 at most): no such process.
        let gone = ".a-1.json.tmp-99999999-0";
        for name in [mine.as_str(), gone, ".other", ".a-1.json.tmp-x-0"] {
            std::fs::write(dir.path().join(name), b"{").unwrap();
        }
        store.prune();
        assert!(!dir.path().join(gone).exists());
        for name in [mine.as_str(), ".other", ".a-1.json.tmp-x-0"] {
            assert!(dir.path().join(name).exists(), "{name}");
        }
    }

    #[test]
    fn ids_are_fresh_and_safe() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf());
        let id = store.new_id("firefox");
        assert!(id.starts_with("firefox-") && id.len() == "firefox-".len() + 6);
        assert!(is_valid_id(&id));
        assert!(!is_valid_id("a/b") && !is_valid_id("..") && !is_valid_id(""));
    }

    #[test]
    fn records_naming_other_paths_or_holding_controls_are_bad() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf());
        store.ensure().unwrap();
        let forge = |file: &str, id: &str, profile: &str| {
            let mut r = record(id, Phase::Running);
            r.profile = profile.into();
            std::fs::write(dir.path().join(file), serde_json::to_vec(&r).unwrap()).unwrap();
        };
        forge("up.json", "../../x", "xterm");
        forge("other.json", "xterm-000001", "xterm");
        forge("esc.json", "esc", "a\x1b[31mb");
        forge("dots.json", "dots", "..");
        forge("good-1.json", "good-1", "xterm");
        let (records, bad) = store.load_all();
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0].id, "good-1");
        assert_eq!(bad.len(), 4, "{bad:?}");
        for problem in &bad {
            assert!(!problem.to_string().contains('\x1b'), "{problem}");
        }
        assert!(matches!(store.load("esc"), Err(StoreError::Bad(_))));
        assert!(!is_valid_id(&"a".repeat(129)));
    }

    #[test]
    fn a_reused_pid_is_not_the_same_process() {
        let me = ProcRef::of(std::process::id() as i32).unwrap();
        assert!(me.is_alive());
        let other = ProcRef {
            pid: me.pid,
            start: me.start + 1,
        };
        assert!(!other.is_alive());
    }
}
