//! The boundary between the TUI and the world: running sandboxes (listing, launching,
//! stopping, logs and shells) and profile files (creating, saving, deleting, through
//! `profile::ops`). The TUI only talks to a `Backend`; `LocalBackend` drives the real
//! ones, tests use a recording fake.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::entries::installed::{self, InstalledApp};
use crate::instance::collect::Collector;
use crate::instance::control;
use crate::instance::grants::Grants;
use crate::instance::launch;
use crate::instance::record::{Record, Store};
use crate::instance::status::{Origin, Status};
use crate::launch::machine;
use crate::launch::{ErrorKind, Failure, Outcome, Request};
use crate::paths::Paths;
use crate::profile::ops::{self, Deleted, EditorCommand, OpsError};
use crate::profile::{Access, Entry, Network, Profile, ProfileSet};

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

/// How a launch ended: started or joined (the instance's id), or why the app could not
/// start.
pub type LaunchResult = Result<Outcome, LaunchFailure>;

/// Why a launch failed, as the TUI shows it: the message, and the kind of failure when
/// the launch said one (a launcher that could not run, or gave no answer, has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchFailure {
    pub message: String,
    pub kind: Option<ErrorKind>,
}

impl From<Failure> for LaunchFailure {
    fn from(failure: Failure) -> Self {
        LaunchFailure {
            message: failure.message,
            kind: Some(failure.kind),
        }
    }
}

/// A failure with no kind: what went wrong around the launch, not in it.
impl From<String> for LaunchFailure {
    fn from(message: String) -> Self {
        LaunchFailure {
            message,
            kind: None,
        }
    }
}

impl From<&str> for LaunchFailure {
    fn from(message: &str) -> Self {
        LaunchFailure::from(message.to_string())
    }
}

/// "MESSAGE (KIND)", or the message alone when it has no kind.
impl std::fmt::Display for LaunchFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        match self.kind {
            Some(kind) => write!(f, " ({})", kind.label()),
            None => Ok(()),
        }
    }
}

/// Told how a launch ended, from whichever thread saw it end.
pub type LaunchDone = Box<dyn FnOnce(LaunchResult) + Send>;

/// What the TUI needs from the instance machinery. Errors are one line for the user.
pub trait Backend: Send {
    /// Every running and recently ended instance.
    fn instances(&mut self) -> Result<Vec<Status>, String>;
    /// The state files the last `instances` could not read, one line each.
    fn unreadable(&self) -> Vec<String> {
        Vec::new()
    }
    /// Starts `profile` detached, with `args` added to its command, and tells `done` how
    /// it went once the app runs: started (the new instance's id), joined (the running
    /// instance holding the profile's private home), or the typed failure. May return
    /// before that.
    fn launch(&mut self, profile: &str, args: &[String], done: LaunchDone);
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
    /// Writes a new user profile `name`, from the template or extending `from`; nothing
    /// is written unless it resolves against `set`. Says where it went.
    fn create_profile(
        &mut self,
        set: &ProfileSet,
        name: &str,
        from: Option<&str>,
    ) -> Result<PathBuf, String>;
    /// The installed apps with a menu entry (`entries::installed`); none when unknown.
    fn installed_apps(&self) -> Vec<InstalledApp> {
        Vec::new()
    }
    /// Writes a new user profile `name` suggested from `app`'s menu entry; nothing is
    /// written unless it resolves against `set`. Says where it went.
    fn create_from_app(
        &mut self,
        _set: &ProfileSet,
        name: &str,
        app: &InstalledApp,
    ) -> Result<PathBuf, String> {
        Err(format!(
            "a profile '{name}' for {} cannot be made here",
            app.title
        ))
    }
    /// Replaces the file of profile `name` with an edited text: an edit of a bundled
    /// profile as its changes over the original when they say the same (see
    /// `ops::save_edit`).
    fn save_profile(
        &mut self,
        set: &ProfileSet,
        name: &str,
        path: &Path,
        text: &str,
    ) -> Result<ops::Saved, String>;
    /// The user's own file of a profile: a bundled one is copied to an override first.
    fn user_copy(&mut self, entry: &Entry) -> Result<PathBuf, String>;
    /// Deletes the user's profile file `file` of `name`; its private home too only when
    /// `with_home`.
    fn delete_profile(
        &mut self,
        name: &str,
        file: &Path,
        with_home: bool,
    ) -> Result<Deleted, OpsError>;
    /// A profile's private home and the bytes in it, if it has one.
    fn private_home(&self, name: &str) -> Option<(PathBuf, u64)>;
    /// The command that opens `path` in the user's editor.
    fn editor_command(&self, path: &Path) -> EditorCommand {
        ops::editor_command(path)
    }
    /// What instance `id` of `profile` may reach now (`instance::grants`).
    fn grants(&mut self, id: &str, profile: &str) -> Result<Grants, String> {
        Err(format!(
            "the grants of {profile} ({id}) cannot be read here"
        ))
    }
    /// Shares `path` (absolute, in the home) with the running instance `id`; says what
    /// was done.
    fn share_live(&mut self, id: &str, path: &Path, mode: Access) -> Result<String, String> {
        let _ = mode;
        Err(format!("cannot share {} with {id} here", path.display()))
    }
    /// Takes back a share of `path` from the running instance `id`.
    fn unshare_live(&mut self, id: &str, path: &Path) -> Result<String, String> {
        Err(format!("cannot unshare {} from {id} here", path.display()))
    }
    /// Switches the running instance `id` to `network` (`none` or `isolated`).
    fn set_network(&mut self, id: &str, network: Network) -> Result<String, String> {
        let _ = network;
        Err(format!("cannot switch the network of {id} here"))
    }
    /// Opens `path` (absolute) in the running instance `id`: shared with it if it does
    /// not see it, and its profile's command run there with it.
    fn open_in(&mut self, id: &str, path: &Path) -> Result<String, String> {
        Err(format!("cannot open {} in {id} here", path.display()))
    }
    /// Adds the share `rel` to the user's file of `profile` (`profile::ops::save_share`).
    fn save_share(
        &mut self,
        set: &ProfileSet,
        profile: &str,
        rel: &Path,
        mode: Access,
    ) -> Result<PathBuf, String> {
        ops::save_share(set, profile, rel, mode)
    }
}

/// The real instances: status read in-process (a `Collector` keeps the CPU readings
/// between refreshes), kill, pause and resume done in-process, launches and stops run by
/// the boxtop binary itself (a launch forks, which a multi-threaded TUI must not, and
/// leaves a supervisor that must outlive the TUI; a stop may wait for its timeout).
/// Their output never reaches the screen.
pub struct LocalBackend {
    exe: PathBuf,
    paths: Paths,
    store: Store,
    /// Where menu and autostart entries live; `None` when the session's folders cannot
    /// be found (entries then show as unknown).
    entries: Option<crate::entries::Env>,
    collector: Collector,
    /// `boxtop stop` processes still running, reaped on the next refresh.
    stopping: Vec<std::process::Child>,
    /// What the last refresh could not read.
    unreadable: Vec<String>,
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
            paths: paths.clone(),
            store: launch::store(paths),
            collector: Collector::new(),
            stopping: Vec::new(),
            unreadable: Vec::new(),
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

impl Backend for LocalBackend {
    fn instances(&mut self) -> Result<Vec<Status>, String> {
        self.stopping
            .retain_mut(|child| matches!(child.try_wait(), Ok(None)));
        let snapshot = self.collector.collect(&self.store);
        self.unreadable = snapshot.problems.iter().map(|p| p.to_string()).collect();
        Ok(snapshot.statuses)
    }

    fn unreadable(&self) -> Vec<String> {
        self.unreadable.clone()
    }

    /// `boxtop __machine run` (see `launch::machine`) in a thread of its own: it
    /// answers once the app runs, which takes a moment (helpers to start, a running
    /// instance to wait for), and the TUI stays responsive meanwhile.
    fn launch(&mut self, profile: &str, args: &[String], done: LaunchDone) {
        let mut command = self.command(&["__machine", "run"]);
        // Its warnings are for a terminal; the answer says what the TUI shows.
        command.stderr(Stdio::null());
        let request = Request::detached(profile, args, Origin::Tui);
        let what = format!("launching '{profile}'");
        // The thread owns `done`; if the thread cannot start, it is taken back from here.
        let done = Arc::new(Mutex::new(Some(done)));
        let done_in_thread = Arc::clone(&done);
        let finish = move |done: &Mutex<Option<LaunchDone>>, result: LaunchResult| {
            let taken = done.lock().map(|mut d| d.take()).unwrap_or(None);
            if let Some(done) = taken {
                done(result);
            }
        };
        let spawned = std::thread::Builder::new()
            .name("tui-launch".into())
            .spawn(move || {
                let result = match machine::ask(command, &request) {
                    Ok(answer) => answer.into_result().map_err(LaunchFailure::from),
                    Err(why) => Err(LaunchFailure::from(format!("{what}: {why}"))),
                };
                finish(&done_in_thread, result);
            });
        if let Err(err) = spawned {
            finish(
                &done,
                Err(LaunchFailure::from(format!(
                    "launching '{profile}': cannot start a thread: {err}"
                ))),
            );
        }
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

    fn create_profile(
        &mut self,
        set: &ProfileSet,
        name: &str,
        from: Option<&str>,
    ) -> Result<PathBuf, String> {
        ops::create(set, &self.paths.user_profiles(), name, from).map_err(|err| err.to_string())
    }

    fn installed_apps(&self) -> Vec<InstalledApp> {
        let Some(env) = &self.entries else {
            return Vec::new();
        };
        installed::scan(env, &std::env::var_os("PATH").unwrap_or_default())
    }

    fn create_from_app(
        &mut self,
        set: &ProfileSet,
        name: &str,
        app: &InstalledApp,
    ) -> Result<PathBuf, String> {
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        let suggested = installed::suggestion(app, name, &path_var, set)?;
        ops::create_with_text(set, &self.paths.user_profiles(), name, &suggested.text)
            .map_err(|err| err.to_string())
    }

    fn save_profile(
        &mut self,
        set: &ProfileSet,
        name: &str,
        path: &Path,
        text: &str,
    ) -> Result<ops::Saved, String> {
        ops::save_edit(set, name, path, text).map_err(|err| err.to_string())
    }

    fn user_copy(&mut self, entry: &Entry) -> Result<PathBuf, String> {
        ops::copy_to_override(entry, &self.paths.user_profiles()).map_err(|err| err.to_string())
    }

    fn delete_profile(
        &mut self,
        name: &str,
        file: &Path,
        with_home: bool,
    ) -> Result<Deleted, OpsError> {
        ops::delete(&self.paths, name, file, with_home)
    }

    fn private_home(&self, name: &str) -> Option<(PathBuf, u64)> {
        ops::home_size(&self.paths, name)
    }

    fn grants(&mut self, id: &str, profile: &str) -> Result<Grants, String> {
        let set = ProfileSet::load(&self.paths.user_profiles());
        Ok(crate::instance::grants::effective(
            &self.paths,
            &set,
            id,
            profile,
        ))
    }

    /// The change forks into the sandbox's namespaces, which this multi-threaded process
    /// must not: boxtop's own `share` runs `instance::live::share` in a process of its
    /// own.
    fn share_live(&mut self, id: &str, path: &Path, mode: Access) -> Result<String, String> {
        let path = path.to_string_lossy();
        let mut args = vec!["share", id, path.as_ref()];
        if mode == Access::Ro {
            args.push("--ro");
        }
        self.run_change(&args)
    }

    fn unshare_live(&mut self, id: &str, path: &Path) -> Result<String, String> {
        let path = path.to_string_lossy();
        self.run_change(&["unshare", id, path.as_ref()])
    }

    /// Forks too: `boxtop open` runs `instance::live::open_in`.
    fn open_in(&mut self, id: &str, path: &Path) -> Result<String, String> {
        let path = path.to_string_lossy();
        self.run_change(&["open", id, path.as_ref()])
    }

    /// Forks too (the keeper of pasta): `boxtop net` runs `instance::live_net`.
    fn set_network(&mut self, id: &str, network: Network) -> Result<String, String> {
        let name = match network {
            Network::None => "none",
            Network::Isolated => "isolated",
            Network::Host => return Err("a running sandbox cannot get the host's network".into()),
        };
        self.run_change(&["net", id, name])
    }
}

impl LocalBackend {
    /// Runs boxtop with `args` (a live change) and waits: its first line of output, or
    /// its error message.
    fn run_change(&self, args: &[&str]) -> Result<String, String> {
        let output = self
            .command(args)
            .output()
            .map_err(|err| format!("cannot run {}: {err}", self.exe.display()))?;
        let first = |bytes: &[u8]| {
            String::from_utf8_lossy(bytes)
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("boxtop: ")
                .to_string()
        };
        if output.status.success() {
            Ok(first(&output.stdout))
        } else {
            Err(first(&output.stderr))
        }
    }
}
