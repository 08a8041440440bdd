//! Grants changed while an instance runs: a folder or file of the home shared with it
//! (checked as a share of its profile would be at launch) or taken back, and the list of
//! those changes kept beside the instance, for what it has now. The mounts themselves
//! are made by `sandbox::live`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use super::control;
use super::record::Record;
use crate::paths::Paths;
use crate::profile::schema::{RawHome, RawProfile, Share};
use crate::profile::validate::{finish, Origin};
use crate::profile::Access;
use crate::sandbox::host::{self, CreateShares, HostError};
use crate::sandbox::live::{self, LiveError, Source};
use crate::sys::beneath;
use crate::sys::SingleThreaded;

/// How a share beyond the profile's came to an instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Added {
    /// `boxtop share` while it runs.
    #[default]
    Live,
    /// A file or folder a launch's arguments named (forwarded).
    Argument,
}

/// A share an instance has beyond its profile's: added while it runs, or forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveShare {
    /// Relative to the home, normalized (`notes`, `Music/live`); absolute for a file
    /// forwarded from outside the home.
    pub path: String,
    pub mode: Access,
    #[serde(default)]
    pub added: Added,
    /// boxtop made the mount point inside: `unshare` removes it again when empty.
    #[serde(default)]
    pub made_mount_point: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("instance {id} is not running")]
    NotRunning { id: String },
    #[error("{path} is not in your home {home}: only folders and files of the home are shared with a running sandbox")]
    OutsideHome { path: PathBuf, home: PathBuf },
    #[error("{path} is your home folder, which is never shared with a sandbox")]
    Home { path: PathBuf },
    #[error("{0}")]
    Refused(Box<HostError>),
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot open {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("instance {id}: {source}")]
    Namespaces {
        id: String,
        source: crate::sandbox::process::EnterError,
    },
    #[error("instance {id}: {source}")]
    Mount { id: String, source: LiveError },
    #[error("{path} was not shared with instance {id} while it ran (`boxtop show {id}` lists its live shares)")]
    NotShared { id: String, path: PathBuf },
    #[error("cannot record the change in {path}: {reason}")]
    Record { path: PathBuf, reason: String },
    #[error("{0}")]
    Run(Box<super::join::JoinError>),
}

/// The relative path of `path` (absolute, normalized) in the home.
fn home_rel(paths: &Paths, path: &Path) -> Result<String, ChangeError> {
    let real_home = std::fs::canonicalize(&paths.home).unwrap_or_else(|_| paths.home.clone());
    let rel = path
        .strip_prefix(&paths.home)
        .or_else(|_| path.strip_prefix(&real_home))
        .map_err(|_| ChangeError::OutsideHome {
            path: path.to_path_buf(),
            home: paths.home.clone(),
        })?;
    let rel = crate::profile::validate::normalize_relative(&rel.to_string_lossy());
    if rel.is_empty() {
        return Err(ChangeError::Home {
            path: path.to_path_buf(),
        });
    }
    Ok(rel)
}

/// Where the instance's shares beyond its profile are listed: `ID.shares` beside its
/// state file (the launch makes the instance's own folder itself, and it may not exist
/// before), removed with it.
fn changes_file(paths: &Paths, id: &str) -> Option<PathBuf> {
    crate::paths::child(super::launch::store(paths).dir(), &format!("{id}.shares")).ok()
}

/// The shares added to instance `id` while it runs (and not taken back).
pub fn live_shares(paths: &Paths, id: &str) -> Vec<LiveShare> {
    changes_file(paths, id)
        .and_then(|file| std::fs::read(file).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Records the files and folders a launch forwarded to its new instance `id`.
pub fn record_forwarded(
    paths: &Paths,
    id: &str,
    forwarded: &[(PathBuf, Access)],
) -> Result<(), ChangeError> {
    if forwarded.is_empty() {
        return Ok(());
    }
    let real_home = std::fs::canonicalize(&paths.home).unwrap_or_else(|_| paths.home.clone());
    let shares: Vec<LiveShare> = forwarded
        .iter()
        .map(|(path, mode)| LiveShare {
            path: path
                .strip_prefix(&paths.home)
                .or_else(|_| path.strip_prefix(&real_home))
                .unwrap_or(path)
                .to_string_lossy()
                .into_owned(),
            mode: *mode,
            added: Added::Argument,
            made_mount_point: false,
        })
        .collect();
    save_shares(paths, id, &shares)
}

fn save_shares(paths: &Paths, id: &str, shares: &[LiveShare]) -> Result<(), ChangeError> {
    let file = changes_file(paths, id).ok_or_else(|| ChangeError::Record {
        path: super::launch::store(paths).dir().to_path_buf(),
        reason: format!("'{id}' cannot name a folder"),
    })?;
    let error = |reason: String| ChangeError::Record {
        path: file.clone(),
        reason,
    };
    if let Some(dir) = file.parent() {
        crate::paths::ensure_private_dir(dir).map_err(|err| error(err.to_string()))?;
    }
    let text = serde_json::to_vec_pretty(shares).map_err(|err| error(err.to_string()))?;
    crate::atomic::write_atomic(&file, &text).map_err(|err| error(err.to_string()))
}

/// How long the change took, for `boxtop share` to report.
pub struct Changed {
    pub inside: PathBuf,
    pub took: Duration,
}

/// Shares `path` (absolute, normalized, in the home) with the running instance `record`,
/// read-only or read-write: refused as a share of its profile would be at launch (a
/// symlink anywhere, a secrets folder, the private homes), and bound from the very file
/// checked.
pub fn share(
    paths: &Paths,
    record: &Record,
    path: &Path,
    mode: Access,
    added: Added,
) -> Result<Changed, ChangeError> {
    let rel = home_rel(paths, path)?;
    // The rules of shares at launch, applied by the same code.
    let raw = RawProfile {
        command: Some(vec!["true".into()]),
        home: Some(RawHome {
            ephemeral: None,
            share: Some(vec![Share {
                path: rel.clone(),
                mode,
                create: false,
                force: false,
            }]),
        }),
        ..RawProfile::default()
    };
    let origin = Origin {
        file: "boxtop share",
        text: None,
    };
    let profile = finish(raw, &record.profile, &origin).map_err(|err| ChangeError::Invalid {
        path: path.to_path_buf(),
        reason: match err.hint {
            Some(hint) if !hint.contains("force = true") => format!("{}; {hint}", err.message),
            _ => err.message,
        },
    })?;
    let resolved = host::resolve_shares(
        &profile,
        &paths.home,
        &paths.private_homes(),
        CreateShares::DryRun,
        &mut Vec::new(),
    )
    .map_err(|err| ChangeError::Refused(Box::new(err)))?;
    let share = resolved
        .into_iter()
        .next()
        .ok_or_else(|| ChangeError::Open {
            path: path.to_path_buf(),
            reason: "it was not resolved".into(),
        })?;
    let (real_home, home_fd) = host::open_home(&paths.home).map_err(|err| ChangeError::Open {
        path: paths.home.clone(),
        reason: err.to_string(),
    })?;
    let pinned = beneath::open(
        std::os::fd::AsFd::as_fd(&home_fd),
        Path::new(&rel),
        OFlag::O_PATH,
    )
    .map_err(|err| ChangeError::Open {
        path: path.to_path_buf(),
        reason: err.to_string(),
    })?;
    let inside = paths.home.join(&rel);
    let single = single_threaded(record)?;
    let ns = namespaces(record)?;
    let start = Instant::now();
    let made = live::add(
        &single,
        ns,
        &Source {
            real_home: &real_home,
            rel: Path::new(&rel),
            pinned: &pinned,
            is_dir: share.is_dir,
        },
        &inside,
        mode,
    )
    .map_err(|source| ChangeError::Mount {
        id: record.id.clone(),
        source,
    })?;
    let took = start.elapsed();
    let mut shares = live_shares(paths, &record.id);
    shares.retain(|known| known.path != rel);
    shares.push(LiveShare {
        path: rel,
        mode,
        added,
        made_mount_point: made,
    });
    save_shares(paths, &record.id, &shares)?;
    Ok(Changed { inside, took })
}

/// Takes back a share of `path` from the running instance `record`: one added while it
/// runs, or one of its profile.
pub fn unshare(paths: &Paths, record: &Record, path: &Path) -> Result<Changed, ChangeError> {
    let rel = home_rel(paths, path)?;
    let inside = paths.home.join(&rel);
    let single = single_threaded(record)?;
    let ns = namespaces(record)?;
    let start = Instant::now();
    let made = live_shares(paths, &record.id)
        .iter()
        .any(|known| known.path == rel && known.made_mount_point);
    live::remove(&single, ns, &inside, made).map_err(|source| match source {
        LiveError::Child(message) if message.starts_with("nothing is mounted") => {
            ChangeError::NotShared {
                id: record.id.clone(),
                path: path.to_path_buf(),
            }
        }
        source => ChangeError::Mount {
            id: record.id.clone(),
            source,
        },
    })?;
    let took = start.elapsed();
    let mut shares = live_shares(paths, &record.id);
    shares.retain(|known| known.path != rel);
    save_shares(paths, &record.id, &shares)?;
    Ok(Changed { inside, took })
}

fn single_threaded(record: &Record) -> Result<SingleThreaded, ChangeError> {
    SingleThreaded::check().map_err(|err| ChangeError::Mount {
        id: record.id.clone(),
        source: LiveError::Threads(err),
    })
}

fn namespaces(record: &Record) -> Result<live::Namespaces, ChangeError> {
    let init = match record.init {
        Some(init) if control::is_running(record) => init,
        _ => {
            return Err(ChangeError::NotRunning {
                id: record.id.clone(),
            })
        }
    };
    crate::sandbox::process::mount_namespaces(
        Pid::from_raw(init.pid),
        init.start,
        &record.namespaces,
    )
    .map_err(|source| ChangeError::Namespaces {
        id: record.id.clone(),
        source,
    })
}

/// What `open_in` did.
pub struct Opened {
    /// The file was shared with the instance for it (it did not see it).
    pub shared: bool,
    pub argv: Vec<String>,
}

/// Opens `file` (absolute, normalized, in the home) in the running instance `record`
/// as a launch joining it does: shared with it read-write as a forwarded file unless a
/// share of `profile` or a live share shows it already, then `profile`'s command with
/// the file's path run in that sandbox, detached, its output in the instance's log.
pub fn open_in(
    paths: &Paths,
    record: &Record,
    profile: &crate::profile::Profile,
    file: &Path,
    origin: super::status::Origin,
) -> Result<Opened, ChangeError> {
    let rel = home_rel(paths, file)?;
    let live = live_shares(paths, &record.id);
    let inside = |base: &str| crate::profile::validate::is_same_or_inside(&rel, base);
    let visible = profile.home.share.iter().any(|share| inside(&share.path))
        || live.iter().any(|share| inside(&share.path));
    if !visible {
        share(paths, record, file, Access::Rw, Added::Argument)?;
    }
    let mut argv = profile.command.clone();
    argv.push(paths.home.join(&rel).display().to_string());
    super::join::run_detached_in(record, &argv, origin)
        .map_err(|err| ChangeError::Run(Box::new(err)))?;
    Ok(Opened {
        shared: !visible,
        argv,
    })
}
