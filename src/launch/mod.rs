//! Launching a profile, for every front end: `plan` turns a request into the profile, the
//! host, the plan and the new instance's id; `launch` runs it in the foreground, detached,
//! or in the sandbox already holding the profile's private home, and says how it went as
//! an [`Outcome`] or a typed [`LaunchError`] that knows its exit code.
//!
//! The fork-based runtime must run in a single-threaded process: a multi-threaded front
//! end (the TUI) asks a fresh boxtop process through the machine mode ([`machine`]).

mod error;
pub mod machine;
pub mod oneoff;
mod plan;
mod run;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::instance::status::Origin;

pub use error::{ErrorKind, Failure, LaunchError};
pub use plan::{plan, Planned};
pub use run::launch;

/// Which profile to launch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A profile of the user's folder or a bundled one, by name.
    Name(String),
    /// A profile file outside the set (`run --profile-file`).
    File(PathBuf),
    /// No profile: the request's arguments are the command, its one-off flags the grants.
    Bare,
}

impl Target {
    /// The profile's name as the user gave it: the name, or the file's stem.
    pub fn name(&self) -> Option<String> {
        match self {
            Target::Name(name) => Some(name.clone()),
            Target::File(file) => Some(file.file_stem()?.to_string_lossy().into_owned()),
            Target::Bare => None,
        }
    }
}

/// A launch as a front end asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub target: Target,
    /// Added to the profile's command.
    #[serde(default)]
    pub args: Vec<String>,
    /// Who starts it (shown by `boxtop ps`).
    #[serde(default)]
    pub origin: Origin,
    /// Return once the app runs, leaving it to a supervisor of its own.
    #[serde(default)]
    pub detach: bool,
    /// A sandbox of its own even when one holds the profile's private home.
    #[serde(default)]
    pub new_instance: bool,
    /// Changes to the profile for this launch only (see [`oneoff`]).
    #[serde(default)]
    pub one_off: oneoff::OneOff,
}

impl Request {
    /// A detached launch of a profile by name (what the TUI asks for).
    pub fn detached(name: &str, args: &[String], origin: Origin) -> Self {
        Request {
            target: Target::Name(name.to_string()),
            args: args.to_vec(),
            origin,
            detach: true,
            new_instance: false,
            one_off: oneoff::OneOff::default(),
        }
    }
}

/// How a launch went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A detached sandbox started: its instance id.
    Started { id: String },
    /// The command runs in the sandbox that already held the profile's private home.
    Joined { id: String },
    /// The app ran in the foreground (in a new sandbox or a running one) and exited.
    Exited { id: String, code: i32 },
}

impl Outcome {
    /// The instance the command ran or runs in.
    pub fn id(&self) -> &str {
        match self {
            Outcome::Started { id } | Outcome::Joined { id } | Outcome::Exited { id, .. } => id,
        }
    }
}

#[cfg(test)]
mod tests;
