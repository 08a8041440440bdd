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

    /// Folder of the user's own profiles.
    pub fn user_profiles(&self) -> PathBuf {
        self.config.join("profiles")
    }

    /// A folder private to one running instance, for its helpers' sockets:
    /// `$XDG_RUNTIME_DIR/boxtop/instances/ID`, or under `/tmp` without a runtime folder.
    pub fn instance_dir(&self, id: &str) -> PathBuf {
        let base = self.runtime.clone().unwrap_or_else(|| {
            PathBuf::from(format!("/tmp/boxtop-{}", nix::unistd::getuid().as_raw()))
        });
        base.join("instances").join(id)
    }

    /// The persistent private home of a profile.
    pub fn private_home(&self, profile: &str) -> PathBuf {
        self.data.join("homes").join(profile)
    }
}
