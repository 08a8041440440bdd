//! Every place on disk boxtop reads or writes, resolved once through the XDG base
//! directories (the `directories` crate honours `XDG_*_HOME` and falls back to the spec's
//! defaults).

use std::path::{Path, PathBuf};

use directories::BaseDirs;

/// Where boxtop keeps its files for the current user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The user's real home folder (`$HOME`).
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME/boxtop`: user profiles live in `profiles/` below it.
    pub config: PathBuf,
    /// `$XDG_DATA_HOME/boxtop`: private homes live in `homes/` below it.
    pub data: PathBuf,
    /// `$XDG_STATE_HOME/boxtop`: logs.
    pub state: PathBuf,
    /// `$XDG_RUNTIME_DIR/boxtop`, when the session has a runtime folder.
    pub runtime: Option<PathBuf>,
    /// `$XDG_RUNTIME_DIR` itself.
    pub xdg_runtime_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    #[error("cannot find your home folder: set $HOME to an absolute path")]
    NoHome,
}

impl Paths {
    /// Resolves every location from the environment.
    pub fn from_env() -> Result<Self, PathsError> {
        let base = BaseDirs::new().ok_or(PathsError::NoHome)?;
        let home = base.home_dir().to_path_buf();
        if !home.is_absolute() {
            return Err(PathsError::NoHome);
        }
        let state = base
            .state_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| home.join(".local/state"));
        let xdg_runtime_dir = base.runtime_dir().map(Path::to_path_buf);
        Ok(Self {
            config: base.config_dir().join("boxtop"),
            data: base.data_dir().join("boxtop"),
            state: state.join("boxtop"),
            runtime: xdg_runtime_dir.as_ref().map(|dir| dir.join("boxtop")),
            xdg_runtime_dir,
            home,
        })
    }

    /// The locations of a user whose home is `home`, with the XDG defaults under it and
    /// no runtime folder: what unit tests give the code they test.
    #[cfg(test)]
    pub fn under_home(home: PathBuf) -> Self {
        Self {
            config: home.join(".config/boxtop"),
            data: home.join(".local/share/boxtop"),
            state: home.join(".local/state/boxtop"),
            runtime: None,
            xdg_runtime_dir: None,
            home,
        }
    }

    /// Folder of the user's own profiles.
    pub fn user_profiles(&self) -> PathBuf {
        self.config.join("profiles")
    }

    /// A folder private to one running instance, for its helpers' sockets:
    /// `$XDG_RUNTIME_DIR/boxtop/instances/ID`, or under `/tmp` without a runtime folder.
    pub fn instance_dir(&self, id: &str) -> Result<PathBuf, BadName> {
        child(&self.instances(), id)
    }

    /// The folder of every instance's helper folder (see `instance_dir`).
    pub fn instances(&self) -> PathBuf {
        let base = self.runtime.clone().unwrap_or_else(|| {
            PathBuf::from(format!("/tmp/boxtop-{}", nix::unistd::getuid().as_raw()))
        });
        base.join("instances")
    }

    /// The folder of every persistent private home.
    pub fn private_homes(&self) -> PathBuf {
        self.data.join("homes")
    }

    /// The persistent private home of a profile.
    pub fn private_home(&self, profile: &str) -> Result<PathBuf, BadName> {
        child(&self.private_homes(), profile)
    }
}

/// A name that cannot name a file inside one of boxtop's folders.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{}' cannot name a file in {}: {why}", crate::escape::controls(.name), crate::escape::controls(&.dir.display().to_string()))]
pub struct BadName {
    pub name: String,
    pub dir: PathBuf,
    pub why: &'static str,
}

/// The longest file name Linux file systems take, in bytes.
const NAME_MAX: usize = 255;

/// Why `name` is not one plain file name, or `None` when it is: not empty, `.` or `..`,
/// no `/`, no NUL or other control character, at most 255 bytes.
pub fn file_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name == "." || name == ".." {
        Some("'.' and '..' name folders, not files")
    } else if name.contains('/') {
        Some("it holds a '/'")
    } else if name.chars().any(char::is_control) {
        Some("it holds a control character")
    } else if name.len() > NAME_MAX {
        Some("it is longer than 255 bytes")
    } else {
        None
    }
}

/// `dir/name`, when `name` is one plain file name, so that the path stays in `dir`.
pub fn child(dir: &Path, name: &str) -> Result<PathBuf, BadName> {
    match file_name_problem(name) {
        None => Ok(dir.join(name)),
        Some(why) => Err(BadName {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            why,
        }),
    }
}

/// Why one of boxtop's own folders cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PrivateDirError {
    #[error("cannot create the folder {}: {source}", .path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} belongs to uid {owner}, not to you (uid {uid}), or is not a folder; remove it", .path.display())]
    Foreign { path: PathBuf, owner: u32, uid: u32 },
    #[error("cannot make the folder {} private to you (mode 0700): {source}", .path.display())]
    Tighten {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Creates the folder `dir` of boxtop's own files (state files, logs, sockets, private
/// homes) private to the user. Folders it creates, `dir` and missing parents alike, get
/// mode 0700 at creation (which the umask can only narrow), so none is ever open to others
/// even for a moment; `dir` found open to others (made by an older boxtop, or by hand) is
/// narrowed to 0700; `dir` owned by someone else, or not a folder, is refused.
pub fn ensure_private_dir(dir: &Path) -> Result<(), PrivateDirError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| PrivateDirError::Create {
            path: dir.to_path_buf(),
            source,
        })?;
    let meta = std::fs::symlink_metadata(dir).map_err(|source| PrivateDirError::Create {
        path: dir.to_path_buf(),
        source,
    })?;
    let uid = nix::unistd::getuid().as_raw();
    if meta.uid() != uid || !meta.is_dir() {
        return Err(PrivateDirError::Foreign {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            uid,
        });
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
            |source| PrivateDirError::Tighten {
                path: dir.to_path_buf(),
                source,
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn names_that_leave_their_folder_make_no_path() {
        let dir = Path::new("/data/homes");
        assert_eq!(child(dir, "firefox").unwrap(), dir.join("firefox"));
        assert_eq!(child(dir, "a..b").unwrap(), dir.join("a..b"));
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "/etc",
            "../x",
            "a\0b",
            "a\x1b[31m",
            "a\nb",
        ] {
            assert!(child(dir, bad).is_err(), "{bad:?}");
        }
        assert!(child(dir, &"a".repeat(255)).is_ok());
        let err = child(dir, &"a".repeat(256)).unwrap_err();
        assert!(err.to_string().contains("longer than 255"), "{err}");
        let err = child(dir, "x\x1b]0;t\x07").unwrap_err().to_string();
        assert!(
            !err.contains('\x1b') && err.contains("x\\e]0;t\\x07"),
            "{err}"
        );
    }

    #[test]
    fn private_dirs_are_made_0700_with_their_parents_and_tightened_when_found_open() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state/boxtop/logs");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("state/boxtop")), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let file = root.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            ensure_private_dir(&file),
            Err(PrivateDirError::Create { .. } | PrivateDirError::Foreign { .. })
        ));
    }
}
