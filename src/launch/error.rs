//! Why a launch failed: one typed error whose message is what `boxtop run` prints, whose
//! kind a front end can show or act on, and whose exit code `boxtop run` exits with.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::instance::join::JoinError;
use crate::profile::ProfileError;

/// What kind of failure a launch met, for a front end to name it ("app not installed")
/// or to act on it; the message says the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No profile of that name, or no profile file at that path.
    ProfileNotFound,
    /// The profile does not load: bad TOML, a wrong value, a broken `extends`.
    ProfileInvalid,
    /// A share or bind of the profile cannot be used (missing, a symlink, outside home).
    ShareUnusable,
    /// None of the profile's `binaries` is installed here.
    AppNotInstalled,
    /// The host lacks what the profile is granted (no display, no audio server, ...).
    HostLacks,
    /// The profile's private home is held by a sandbox that cannot be joined yet.
    HomeBusy,
    /// A running sandbox of another profile owns a D-Bus name the profile owns.
    BusNameTaken,
    /// The launch could not be prepared: state folders, the plan, the sandbox's files.
    SetupFailed,
    /// The sandbox could not be built or supervised.
    SandboxFailed,
    /// The sandbox was built but its program could not be run (exit code 127).
    AppNotRunnable,
    /// The command could not be run in the sandbox already holding the private home.
    JoinFailed,
    /// The machine mode's request could not be read.
    BadRequest,
}

impl ErrorKind {
    /// A few words for the user, as the TUI shows them after a message.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::ProfileNotFound => "profile not found",
            ErrorKind::ProfileInvalid => "profile invalid",
            ErrorKind::ShareUnusable => "share unusable",
            ErrorKind::AppNotInstalled => "app not installed",
            ErrorKind::HostLacks => "host lacks a grant",
            ErrorKind::HomeBusy => "private home busy",
            ErrorKind::BusNameTaken => "D-Bus name taken",
            ErrorKind::SetupFailed => "setup failed",
            ErrorKind::SandboxFailed => "sandbox failed",
            ErrorKind::AppNotRunnable => "app could not run",
            ErrorKind::JoinFailed => "joining failed",
            ErrorKind::BadRequest => "bad request",
        }
    }
}

/// Why a launch failed. The message (`Display`) is the line `boxtop run` prints after
/// "boxtop: ", causes included, so it carries no separate `source`.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The profile could not be loaded; `found` says whether it exists at all.
    #[error("{error}")]
    Profile {
        error: Box<ProfileError>,
        found: bool,
    },
    #[error("profile '{profile}': {}", causes(.error))]
    Share {
        profile: String,
        error: Box<crate::sandbox::host::HostError>,
    },
    /// An argument names a file or folder that is never forwarded into a sandbox.
    #[error("profile '{profile}': {error}")]
    Forward {
        profile: String,
        error: Box<crate::sandbox::forward::ForwardError>,
    },
    /// A file an argument names could not be shared with the running sandbox joined.
    #[error("profile '{profile}': {error}")]
    LiveShare {
        profile: String,
        error: Box<crate::instance::live::ChangeError>,
    },
    #[error(
        "profile '{profile}': the app is not installed here (looked for {})",
        .looked_for.join(", ")
    )]
    AppNotInstalled {
        profile: String,
        looked_for: Vec<String>,
    },
    /// Granted things the host lacks, one line each (`GRANT grant: why`).
    #[error("profile '{profile}': {}", .missing.join("; "))]
    HostLacks {
        profile: String,
        missing: Vec<String>,
    },
    /// A running sandbox of another profile owns names the profile owns: the app would
    /// hand its work to that sandbox.
    #[error(
        "profile '{profile}': the running sandbox {id} of profile '{other_profile}' owns D-Bus \
         names that '{profile}' owns too ({names}): the app would find them taken and hand \
         its work to that sandbox, which has other grants. Stop it first (`boxtop stop {id}`), \
         or run the command there (`boxtop run {other_profile} -- ...`); --new-instance \
         does not help, a name has one owner per session bus. To run both at once, give \
         one profile other names to own (its [dbus] own) if the app can start without them",
        names = .names.join(", ")
    )]
    BusNameTaken {
        profile: String,
        other_profile: String,
        id: String,
        names: Vec<String>,
    },
    /// The private home could not be claimed, or the sandbox holding it not joined.
    #[error("profile '{profile}': {}", causes(.error))]
    Home {
        profile: String,
        error: Box<JoinError>,
    },
    /// Running the command in the sandbox already holding the private home failed.
    #[error("profile '{profile}': {}", causes(.error))]
    Join {
        profile: String,
        error: Box<JoinError>,
    },
    /// Running the command in the foreground in that sandbox failed.
    #[error("profile '{profile}': {}", causes(.error))]
    Enter {
        profile: String,
        error: Box<crate::instance::control::ControlError>,
    },
    /// The instance's folder or the plan: a name that cannot be a file name.
    #[error("{}", causes(&**.error))]
    Setup {
        error: Box<dyn std::error::Error + Send + Sync>,
    },
    /// What the sandbox needs could not be prepared before it starts.
    #[error("profile '{profile}': {}", causes(.error))]
    Prepare {
        profile: String,
        error: Box<crate::sandbox::spawn::SpawnError>,
    },
    /// The sandbox failed to start or to run; `log` is the detached instance's log.
    #[error("profile '{profile}': {error}{}", log_line(.log))]
    Sandbox {
        profile: String,
        error: Box<crate::instance::launch::LaunchError>,
        log: Option<PathBuf>,
    },
    /// The machine mode's request (JSON on standard input) could not be read.
    #[error("the launch request is not valid: {0}")]
    BadRequest(String),
}

impl LaunchError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            LaunchError::Profile { found: false, .. } => ErrorKind::ProfileNotFound,
            LaunchError::Profile { found: true, .. } => ErrorKind::ProfileInvalid,
            LaunchError::Share { .. }
            | LaunchError::Forward { .. }
            | LaunchError::LiveShare { .. } => ErrorKind::ShareUnusable,
            LaunchError::AppNotInstalled { .. } => ErrorKind::AppNotInstalled,
            LaunchError::HostLacks { .. } => ErrorKind::HostLacks,
            LaunchError::Home { .. } => ErrorKind::HomeBusy,
            LaunchError::BusNameTaken { .. } => ErrorKind::BusNameTaken,
            LaunchError::Join { .. } | LaunchError::Enter { .. } => ErrorKind::JoinFailed,
            LaunchError::Setup { .. } | LaunchError::Prepare { .. } => ErrorKind::SetupFailed,
            LaunchError::Sandbox { error, .. } if error.exit_code() == 127 => {
                ErrorKind::AppNotRunnable
            }
            LaunchError::Sandbox { .. } => ErrorKind::SandboxFailed,
            LaunchError::BadRequest(_) => ErrorKind::BadRequest,
        }
    }

    /// The exit code of `boxtop run`: 125 when the host lacks a grant or the sandbox
    /// could not be built, 127 when its program could not be run, 2 for a request that
    /// cannot be read, 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            LaunchError::HostLacks { .. } => 125,
            LaunchError::Sandbox { error, .. } => error.exit_code(),
            LaunchError::BadRequest(_) => 2,
            _ => 1,
        }
    }

    pub(super) fn setup(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        LaunchError::Setup {
            error: Box::new(error),
        }
    }
}

/// A launch error as data: what the machine mode writes and the TUI reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    pub exit_code: u8,
}

impl From<&LaunchError> for Failure {
    fn from(err: &LaunchError) -> Self {
        Failure {
            kind: err.kind(),
            message: err.to_string(),
            exit_code: err.exit_code(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.kind.label())
    }
}

/// An error and its causes, each after ": " (as `boxtop` always printed them).
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn log_line(log: &Option<PathBuf>) -> String {
    match log {
        Some(log) => format!("\nlog: {}", log.display()),
        None => String::new(),
    }
}
