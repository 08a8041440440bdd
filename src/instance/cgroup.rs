//! cgroup v2 for an unprivileged user: a folder delegated to boxtop explicitly
//! (`BOXTOP_CGROUP_ROOT`), each instance a child of it with the profile's limits, and
//! reading, freezing and killing an instance's cgroup (a systemd scope's too). Where a
//! systemd user manager runs, instances are its scopes instead (`instance::systemd`);
//! without either boxtop falls back to `/proc`, signals and rlimits.

use std::path::{Path, PathBuf};

use crate::profile::Limits;

/// The environment variable naming a delegated cgroup v2 folder to use.
pub const ROOT_VAR: &str = "BOXTOP_CGROUP_ROOT";

/// The controllers boxtop enables for instances when it can.
const CONTROLLERS: &[&str] = &["cpu", "memory", "pids"];

/// Why instances get no cgroup of their own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoDelegation {
    #[error("this host has no cgroup v2 hierarchy mounted")]
    NoCgroup2,
    #[error("cannot tell which cgroup boxtop runs in: {0}")]
    OwnCgroup(String),
    #[error(
        "no systemd user manager answers and {ROOT_VAR} is not set (boxtop makes no \
         cgroup in a subtree systemd manages, such as user@UID.service, behind its back)"
    )]
    NotExplicit,
    #[error("{ROOT_VAR}={root}: {reason}")]
    BadRoot { root: PathBuf, reason: String },
}

impl NoDelegation {
    /// How to get a delegated subtree.
    pub fn hint(&self) -> &'static str {
        "log in through a systemd user session (boxtop then asks your systemd user manager \
         for a scope per instance), or have root create a cgroup v2 folder owned by you (mkdir; chown -R you of the \
         folder, its cgroup.procs, cgroup.subtree_control and cgroup.threads, as systemd \
         does), start your shell in a child of it and set BOXTOP_CGROUP_ROOT to the folder"
    }
}

/// Where instance cgroups are made: `BASE/ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    pub base: PathBuf,
}

/// The folder to make instance cgroups in: `BOXTOP_CGROUP_ROOT`, when set and usable.
/// Never the cgroup boxtop runs in or one above it: on a systemd host those belong to
/// the user manager, which must be the only one to write there.
pub fn find() -> Result<Delegation, NoDelegation> {
    let mount = cgroup2_mount().ok_or(NoDelegation::NoCgroup2)?;
    let own = own_cgroup(&mount)?;
    let uid = nix::unistd::getuid().as_raw();
    if let Some(root) = std::env::var_os(ROOT_VAR).filter(|v| !v.is_empty()) {
        let root = PathBuf::from(root);
        let bad = |reason: &str| NoDelegation::BadRoot {
            root: root.clone(),
            reason: reason.to_string(),
        };
        if !root.join("cgroup.procs").exists() {
            return Err(bad("not a cgroup v2 folder"));
        }
        if !is_owned(&root, uid) {
            return Err(bad("not owned by you"));
        }
        if !own.starts_with(&root) {
            return Err(bad(&format!(
                "boxtop runs in {}, outside it: start boxtop from a cgroup below it",
                own.display()
            )));
        }
        return Ok(Delegation { base: root });
    }
    Err(NoDelegation::NotExplicit)
}

fn is_owned(dir: &Path, uid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let owned = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| m.uid() == uid)
            .unwrap_or(false)
    };
    owned(dir) && owned(&dir.join("cgroup.procs"))
}

/// The cgroup v2 mount point: where systemd and most distributions mount it (checked by
/// its file system magic), else as `/proc/self/mountinfo` says.
pub fn cgroup2_mount() -> Option<PathBuf> {
    for dir in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
        if nix::sys::statfs::statfs(dir)
            .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        {
            return Some(PathBuf::from(dir));
        }
    }
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        Some(PathBuf::from(left.split_whitespace().nth(4)?))
    })
}

/// The cgroup v2 folder this process is in.
pub fn own_cgroup(mount: &Path) -> Result<PathBuf, NoDelegation> {
    let text = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|err| NoDelegation::OwnCgroup(err.to_string()))?;
    let relative = text
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .ok_or_else(|| NoDelegation::OwnCgroup("no cgroup v2 line in /proc/self/cgroup".into()))?;
    Ok(mount.join(relative.trim_start_matches('/')))
}

impl Delegation {
    /// Makes the instance's cgroup with the profile's limits. Returns its folder and the
    /// limits that could not be applied, with why.
    pub fn create(
        &self,
        id: &str,
        limits: &Limits,
    ) -> std::io::Result<(PathBuf, Vec<(LimitKind, String)>)> {
        std::fs::create_dir_all(&self.base)?;
        // Pass the controllers down as far as the delegation allows; each write may fail
        // (not offered by the parent, or the folder holds processes), which only means
        // that limit is not available.
        if let Some(parent) = self.base.parent() {
            if is_owned(parent, nix::unistd::getuid().as_raw()) {
                enable_controllers(parent);
            }
        }
        enable_controllers(&self.base);
        let dir = self.base.join(id);
        std::fs::create_dir(&dir)?;
        let failed = apply_limits(&dir, limits);
        Ok((dir, failed))
    }
}

fn enable_controllers(dir: &Path) {
    let offered = std::fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    let enabled = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    for controller in CONTROLLERS {
        let has = |text: &str| text.split_whitespace().any(|c| c == *controller);
        if has(&offered) && !has(&enabled) {
            let _ = std::fs::write(dir.join("cgroup.subtree_control"), format!("+{controller}"));
        }
    }
}

/// One of a profile's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Memory,
    Cpu,
    Pids,
}

impl LimitKind {
    pub fn name(self) -> &'static str {
        match self {
            LimitKind::Memory => "memory",
            LimitKind::Cpu => "cpu",
            LimitKind::Pids => "pids",
        }
    }
}

/// Writes the limits into an instance cgroup; returns those that could not be applied,
/// with why.
pub fn apply_limits(dir: &Path, limits: &Limits) -> Vec<(LimitKind, String)> {
    let mut failed = Vec::new();
    let mut set = |kind: LimitKind, file: &str, value: String| {
        let path = dir.join(file);
        if !path.exists() {
            failed.push((
                kind,
                format!(
                    "the {} controller is not enabled for {}",
                    kind.name(),
                    dir.display()
                ),
            ));
        } else if let Err(err) = std::fs::write(&path, &value) {
            failed.push((
                kind,
                format!("writing {value} to {}: {err}", path.display()),
            ));
        }
    };
    if let Some(bytes) = limits.memory_bytes {
        set(LimitKind::Memory, "memory.max", bytes.to_string());
    }
    if let Some(cpu) = limits.cpu {
        const PERIOD: u64 = 100_000;
        let quota = ((cpu * PERIOD as f64).round() as u64).max(1000);
        set(LimitKind::Cpu, "cpu.max", format!("{quota} {PERIOD}"));
    }
    if let Some(pids) = limits.pids {
        set(LimitKind::Pids, "pids.max", pids.to_string());
    }
    failed
}

/// What an instance cgroup says of its processes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub processes: u32,
    /// CPU time in microseconds (`cpu.stat` `usage_usec`, present without the cpu
    /// controller).
    pub cpu_usec: u64,
    /// `memory.current`, when the memory controller is enabled.
    pub memory_bytes: Option<u64>,
    pub frozen: bool,
}

/// Reads an instance cgroup; `None` once it is gone.
pub fn usage(dir: &Path) -> Option<Usage> {
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).ok()?;
    let cpu_usec = std::fs::read_to_string(dir.join("cpu.stat"))
        .ok()
        .and_then(|text| key_value(&text, "usage_usec"))
        .unwrap_or(0);
    let memory_bytes = std::fs::read_to_string(dir.join("memory.current"))
        .ok()
        .and_then(|text| text.trim().parse().ok());
    Some(Usage {
        processes: procs.lines().filter(|l| !l.is_empty()).count() as u32,
        cpu_usec,
        memory_bytes,
        frozen: is_frozen(dir),
    })
}

fn key_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

pub fn is_frozen(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("cgroup.events"))
        .ok()
        .and_then(|text| key_value(&text, "frozen"))
        == Some(1)
}

/// Freezes or thaws every process of the cgroup and waits (up to a second) until the
/// kernel says it is done.
pub fn freeze(dir: &Path, frozen: bool) -> std::io::Result<()> {
    std::fs::write(dir.join("cgroup.freeze"), if frozen { "1" } else { "0" })?;
    for _ in 0..100 {
        if is_frozen(dir) == frozen {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!(
            "{} did not report frozen={}",
            dir.display(),
            u8::from(frozen)
        ),
    ))
}

/// Kills every process in the cgroup (`cgroup.kill`, Linux 5.14).
pub fn kill(dir: &Path) -> std::io::Result<()> {
    std::fs::write(dir.join("cgroup.kill"), "1")
}

/// Removes an instance cgroup once its processes are gone.
pub fn remove(dir: &Path) {
    for _ in 0..50 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_on_a_folder_without_controllers_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pids.max"), "max").unwrap();
        let limits = Limits {
            memory_bytes: Some(1 << 30),
            cpu: Some(1.5),
            pids: Some(64),
        };
        let failed = apply_limits(dir.path(), &limits);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("pids.max")).unwrap(),
            "64"
        );
        let kinds: Vec<LimitKind> = failed.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(kinds, [LimitKind::Memory, LimitKind::Cpu], "{failed:?}");
        assert!(failed[0]
            .1
            .starts_with("the memory controller is not enabled"));
    }

    #[test]
    fn cpu_limit_is_a_quota_per_period() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cpu.max"), "max 100000").unwrap();
        let limits = Limits {
            cpu: Some(0.5),
            ..Limits::default()
        };
        assert!(apply_limits(dir.path(), &limits).is_empty());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("cpu.max")).unwrap(),
            "50000 100000"
        );
    }

    #[test]
    fn usage_reads_cgroup_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cgroup.procs"), "10\n11\n12\n").unwrap();
        std::fs::write(
            dir.path().join("cpu.stat"),
            "usage_usec 1500\nuser_usec 1000\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        let usage = usage(dir.path()).unwrap();
        assert_eq!(
            usage,
            Usage {
                processes: 3,
                cpu_usec: 1500,
                memory_bytes: None,
                frozen: true
            }
        );
        assert!(super::usage(&dir.path().join("gone")).is_none());
    }

    #[test]
    fn finds_the_cgroup2_mount_of_this_host() {
        // Every host CI runs on has a cgroup v2 hierarchy (unified or hybrid).
        let mount = cgroup2_mount().expect("a cgroup2 mount");
        assert!(mount.join("cgroup.procs").exists() || mount.join("cgroup.controllers").exists());
        let own = own_cgroup(&mount).unwrap();
        assert!(own.starts_with(&mount));
    }
}
