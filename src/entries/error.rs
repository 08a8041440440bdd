//! What can go wrong with desktop entries and autostart files, naming the file and what to
//! do about it.

use std::path::PathBuf;

use crate::profile::ProfileError;

#[derive(Debug, thiserror::Error)]
pub enum EntriesError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the file is not valid UTF-8, which desktop entries must be")]
    NotUtf8 { path: PathBuf },
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: `Exec` cannot be read: {message}")]
    Exec { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {path}: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot find boxtop's own path: {source}")]
    OwnPath { source: std::io::Error },
    #[error("boxtop's path {path} is not UTF-8, which a desktop entry cannot hold: move boxtop to a UTF-8 path")]
    NotUtf8Path { path: PathBuf },
    #[error(
        "boxtop's path {path} is not absolute: an entry must start boxtop by its absolute path"
    )]
    RelativePath { path: PathBuf },
    #[error("'{name}' is not a valid profile name (lowercase letters, digits, '-', '_', '.')")]
    BadName { name: String },
    #[error("profile '{profile}': desktop_file '{id}' is not a desktop file id (like org.example.App.desktop, with no '/')")]
    BadId { profile: String, id: String },
    #[error("profile '{profile}' has no desktop_file, so there is no app entry to replace: add desktop_file = \"ID.desktop\" to it, or install without --replace")]
    NothingToReplace { profile: String },
    #[error("{path} was not written by boxtop (it has no X-Boxtop-Profile key) and boxtop never overwrites such a file: {hint}")]
    NotOurs { path: PathBuf, hint: String },
    #[error("{path} already replaces {id} for profile '{other}': run `boxtop desktop remove {other}` first")]
    ReplacedByOther {
        path: PathBuf,
        id: String,
        other: String,
    },
    #[error("{path} turns off boxtop's autostart for '{profile}' (Hidden=true), and boxtop leaves your override alone: delete it, then run `boxtop autostart enable {profile}` again")]
    HiddenOverride { path: PathBuf, profile: String },
    #[error("{0}")]
    Profile(Box<ProfileError>),
}

impl From<ProfileError> for EntriesError {
    fn from(err: ProfileError) -> Self {
        EntriesError::Profile(Box::new(err))
    }
}
