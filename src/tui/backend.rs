//! The boundary between the TUI and running sandboxes: listing, launching, stopping,
//! logs and shells. The TUI only talks to a `Backend`; `CommandBackend` drives the boxtop
//! binary itself, tests use a recording fake.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::instance::status::Status;
use crate::paths::Paths;
use crate::profile::Profile;

/// Whether something is set up on the host, as far as the backend knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Presence {
    /// The backend cannot tell (not wired yet).
    #[default]
    Unknown,
    Yes,
    No,
}

impl Presence {
    pub fn label(self) -> &'static str {
        match self {
            Presence::Unknown => "unknown",
            Presence::Yes => "yes",
            Presence::No => "no",
        }
    }
}

/// A profile's desktop integration: its menu entry and its autostart entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryState {
    pub desktop_entry: Presence,
    pub autostart: Presence,
}

/// What the TUI needs from the instance machinery. Errors are one line for the user.
pub trait Backend: Send {
    /// Every running and recently ended instance.
    fn instances(&mut self) -> Result<Vec<Status>, String>;
    /// Starts `profile` detached, with `args` added to its command; returns the new id.
    fn launch(&mut self, profile: &str, args: &[String]) -> Result<String, String>;
    fn stop(&mut self, id: &str) -> Result<(), String>;
    fn kill(&mut self, id: &str) -> Result<(), String>;
    fn pause(&mut self, id: &str) -> Result<(), String>;
    fn resume(&mut self, id: &str) -> Result<(), String>;
    /// The file an instance's output goes to.
    fn log_path(&self, id: &str) -> Option<PathBuf>;
    /// A command that runs an interactive shell inside the instance.
    fn enter_command(&self, id: &str) -> Option<Command>;
    /// Menu and autostart entries of a profile.
    fn entry_state(&self, _profile: &str) -> EntryState {
        EntryState::default()
    }
    /// Whether the profile's program is installed on this host.
    fn is_installed(&self, profile: &Profile) -> bool {
        crate::sandbox::host::is_installed(profile)
    }
}

/// Runs the boxtop binary itself: `ps --json`, `run --detach`, `stop`, `kill`, `pause`,
/// `resume`, `enter`. Its output never reaches the screen: stdout and stderr are captured.
pub struct CommandBackend {
    exe: PathBuf,
    logs: PathBuf,
}

impl CommandBackend {
    /// Uses the running executable, or `boxtop` from `$PATH` when it cannot be found.
    pub fn new(paths: &Paths) -> Self {
        Self {
            exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("boxtop")),
            logs: paths.state.join("logs"),
        }
    }

    /// Uses another boxtop executable (tests, or a development build).
    pub fn with_exe(exe: PathBuf, paths: &Paths) -> Self {
        Self {
            exe,
            logs: paths.state.join("logs"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs to completion; stdout on success, the reason on failure.
    fn output(&self, mut command: Command, what: &str) -> Result<String, String> {
        let output = command
            .output()
            .map_err(|err| format!("{what}: cannot run {}: {err}", self.exe.display()))?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .map(|line| line.trim().trim_start_matches("boxtop: "))
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        Err(if reason.is_empty() {
            format!("{what}: {}", output.status)
        } else {
            format!("{what}: {reason}")
        })
    }

    fn simple(&self, verb: &str, id: &str) -> Result<(), String> {
        self.output(self.command(&[verb, id]), &format!("{verb} {id}"))
            .map(drop)
    }
}

impl Backend for CommandBackend {
    fn instances(&mut self) -> Result<Vec<Status>, String> {
        let text = self.output(self.command(&["ps", "--json"]), "boxtop ps")?;
        serde_json::from_str(&text).map_err(|err| format!("boxtop ps: unreadable output: {err}"))
    }

    fn launch(&mut self, profile: &str, args: &[String]) -> Result<String, String> {
        let mut command = self.command(&["run", "--detach", profile, "--"]);
        command.args(args);
        // Its own process group: a signal meant for the TUI never reaches the launcher.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let id = self.output(command, &format!("launching '{profile}'"))?;
        let id = id.trim();
        if id.is_empty() {
            return Err(format!("launching '{profile}': no instance id was printed"));
        }
        Ok(id.to_string())
    }

    fn stop(&mut self, id: &str) -> Result<(), String> {
        self.simple("stop", id)
    }

    fn kill(&mut self, id: &str) -> Result<(), String> {
        self.simple("kill", id)
    }

    fn pause(&mut self, id: &str) -> Result<(), String> {
        self.simple("pause", id)
    }

    fn resume(&mut self, id: &str) -> Result<(), String> {
        self.simple("resume", id)
    }

    fn log_path(&self, id: &str) -> Option<PathBuf> {
        Some(self.logs.join(format!("{id}.log")))
    }

    fn enter_command(&self, id: &str) -> Option<Command> {
        let mut command = Command::new(&self.exe);
        command.arg("enter").arg(id);
        Some(command)
    }
}
