//! The boundary between the TUI and running sandboxes: listing, launching, stopping,
//! logs and shells. The TUI only talks to a `Backend`; `LocalBackend` drives the real
//! instances, tests use a recording fake.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::instance::collect::Collector;
use crate::instance::control;
use crate::instance::launch;
use crate::instance::record::{Record, Store};
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
    /// Writes the profile's menu entry, or removes it when there is one; says which.
    fn toggle_desktop_entry(&mut self, profile: &Profile) -> Result<String, String> {
        Err(format!(
            "menu entries of '{}' cannot be changed here",
            profile.name
        ))
    }
    /// Writes the profile's autostart entry, or removes it when there is one; says which.
    fn toggle_autostart(&mut self, profile: &Profile) -> Result<String, String> {
        Err(format!(
            "autostart of '{}' cannot be changed here",
            profile.name
        ))
    }
    /// Whether the profile's program is installed on this host.
    fn is_installed(&self, profile: &Profile) -> bool {
        crate::sandbox::host::is_installed(profile)
    }
}

/// The real instances: status read in-process (a `Collector` keeps the CPU readings
/// between refreshes), kill, pause and resume done in-process, launches and stops run by
/// the boxtop binary itself (a launch forks a supervisor that must outlive the TUI; a
/// stop may wait for its timeout). Their output never reaches the screen.
pub struct LocalBackend {
    exe: PathBuf,
    store: Store,
    /// Where menu and autostart entries live; `None` when the session's folders cannot
    /// be found (entries then show as unknown).
    entries: Option<crate::entries::Env>,
    collector: Collector,
    /// `boxtop stop` processes still running, reaped on the next refresh.
    stopping: Vec<std::process::Child>,
}

impl LocalBackend {
    /// Uses the running executable, or `boxtop` from `$PATH` when it cannot be found.
    pub fn new(paths: &Paths) -> Self {
        Self::with_exe(
            std::env::current_exe().unwrap_or_else(|_| PathBuf::from("boxtop")),
            paths,
        )
    }

    /// Uses another boxtop executable (tests, or a development build).
    pub fn with_exe(exe: PathBuf, paths: &Paths) -> Self {
        Self {
            entries: crate::entries::Env::from_process(paths).ok(),
            exe,
            store: launch::store(paths),
            collector: Collector::new(),
            stopping: Vec::new(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group: a signal meant for the TUI never reaches it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command
    }

    fn record(&self, id: &str) -> Result<Record, String> {
        self.store.load(id).map_err(|err| err.to_string())
    }
}

/// Runs to completion; stdout on success, the reason on failure.
fn output(exe: &std::path::Path, mut command: Command, what: &str) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|err| format!("{what}: cannot run {}: {err}", exe.display()))?;
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

impl Backend for LocalBackend {
    fn instances(&mut self) -> Result<Vec<Status>, String> {
        self.stopping
            .retain_mut(|child| matches!(child.try_wait(), Ok(None)));
        Ok(self.collector.collect(&self.store).statuses)
    }

    fn launch(&mut self, profile: &str, args: &[String]) -> Result<String, String> {
        let mut command = self.command(&["run", "--detach", "--origin", "tui", profile, "--"]);
        command.args(args);
        let id = output(&self.exe, command, &format!("launching '{profile}'"))?;
        let id = id.trim();
        if id.is_empty() {
            return Err(format!("launching '{profile}': no instance id was printed"));
        }
        Ok(id.to_string())
    }

    fn stop(&mut self, id: &str) -> Result<(), String> {
        let mut command = self.command(&["stop", id]);
        command.stdout(Stdio::null()).stderr(Stdio::null());
        let child = command
            .spawn()
            .map_err(|err| format!("stop {id}: cannot run {}: {err}", self.exe.display()))?;
        self.stopping.push(child);
        Ok(())
    }

    fn kill(&mut self, id: &str) -> Result<(), String> {
        control::kill(&self.store, &self.record(id)?)
            .map(drop)
            .map_err(|err| err.to_string())
    }

    fn pause(&mut self, id: &str) -> Result<(), String> {
        control::pause(&self.record(id)?).map_err(|err| err.to_string())
    }

    fn resume(&mut self, id: &str) -> Result<(), String> {
        control::resume(&self.record(id)?).map_err(|err| err.to_string())
    }

    fn log_path(&self, id: &str) -> Option<PathBuf> {
        self.record(id).ok()?.log
    }

    fn enter_command(&self, id: &str) -> Option<Command> {
        let mut command = Command::new(&self.exe);
        command.arg("enter").arg(id);
        Some(command)
    }

    fn entry_state(&self, profile: &str) -> EntryState {
        let Some(env) = &self.entries else {
            return EntryState::default();
        };
        let presence = |path: PathBuf| {
            if crate::entries::inventory::is_ours(&path, profile) {
                Presence::Yes
            } else {
                Presence::No
            }
        };
        let file = crate::entries::install::entry_file_name(profile);
        EntryState {
            desktop_entry: presence(env.applications_dir().join(&file)),
            autostart: presence(env.autostart_dir().join(&file)),
        }
    }

    fn toggle_desktop_entry(&mut self, profile: &Profile) -> Result<String, String> {
        let env = self.entries.as_ref().ok_or("no applications folder")?;
        let name = &profile.name;
        if self.entry_state(name).desktop_entry == Presence::Yes {
            crate::entries::remove(env, name).map_err(|err| err.to_string())?;
            Ok(format!("removed the menu entry of {name}"))
        } else {
            let done =
                crate::entries::install(env, profile, false).map_err(|err| err.to_string())?;
            Ok(format!("menu entry for {name}: {}", done.entry.display()))
        }
    }

    fn toggle_autostart(&mut self, profile: &Profile) -> Result<String, String> {
        let env = self.entries.as_ref().ok_or("no autostart folder")?;
        let name = &profile.name;
        if self.entry_state(name).autostart == Presence::Yes {
            crate::entries::disable(env, name).map_err(|err| err.to_string())?;
            Ok(format!("{name} no longer starts at login"))
        } else {
            let done = crate::entries::enable(env, profile).map_err(|err| err.to_string())?;
            Ok(format!("{name} starts at login: {}", done.path.display()))
        }
    }
}
