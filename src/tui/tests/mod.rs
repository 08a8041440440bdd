//! Whole screens on a test terminal, driven by key presses through the key map and
//! `App::update`, as a user drives them; the backend is a recording fake whose profile
//! files live in a temporary home. The fixtures are here; the tests are grouped by the
//! component they exercise.

mod editor;
mod fields;
mod first_use;
mod instance_view;
mod instances;
mod profiles;
mod screens;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

use super::action::Action;
use super::app::{App, Screen};
use super::backend::{Backend, EntryState, LaunchDone, LaunchFailure, Presence};
use super::components::dialog::{Dialog, Question};
use super::components::messages::Level;
use super::components::profiles::RowState;
use super::Config;
use crate::entries::installed::InstalledApp;
use crate::instance::status::{Origin, State, Status};
use crate::launch::Outcome;
use crate::paths::Paths;
use crate::profile::ops::{self, Deleted, OpsError};
use crate::profile::{Entry, Profile, ProfileSet, Source};

const FIREFOX: &str = r#"# Firefox, the way I like it.
name = "firefox"
description = "Web browser"
command = ["firefox"]
display = "auto"   # X11 when there is no Wayland
audio = "pipewire"
network = "host"
gpu = true
allow_userns = true

[home]
ephemeral = false

# Where downloads land.
[[home.share]]
path = "Downloads"
mode = "rw"

[dbus]
talk = ["org.freedesktop.Notifications"]

[env]
MOZ_ENABLE_WAYLAND = "1"
"#;

const MOUSEPAD: &str = r#"name = "mousepad"
description = "Text editor"
command = ["mousepad"]
display = "wayland"

[[home.share]]
path = "Documents"
mode = "ro"
"#;

const KEYS: &str = r#"name = "ssh-keys"
description = "SSH key manager"
command = ["keys"]
display = "wayland"

[[home.share]]
path = ".ssh"
mode = "rw"
force = true

[dbus]
talk = ["org.freedesktop.secrets", "org.freedesktop.systemd1"]
"#;

const CALC: &str = "name = \"calc\"\ndescription = \"Calculator\"\ncommand = [\"calc\"]\n";

const BROKEN: &str = "command = [\"x\"]\nnetwork = \"internet\"\n";

#[derive(Default)]
struct FakeState {
    instances: Vec<Status>,
    calls: Vec<String>,
    launch_error: Option<LaunchFailure>,
    installed: Vec<String>,
    logs: PathBuf,
    /// When set, launches are answered later, by the test, as a slow launch would be.
    defer_launches: bool,
    deferred: Vec<LaunchDone>,
    unreadable: Vec<String>,
    /// Where profile files and private homes are: the fixture's temporary home.
    paths: Option<Paths>,
    /// The installed apps with a menu entry.
    apps: Vec<InstalledApp>,
    /// Shares added to each instance while it runs, and its network switched live.
    live_shares: std::collections::HashMap<String, Vec<crate::instance::live::LiveShare>>,
    live_network: std::collections::HashMap<String, crate::profile::Network>,
}

/// A backend that records every call and answers from `FakeState`.
#[derive(Clone, Default)]
struct Fake(Arc<Mutex<FakeState>>);

impl Fake {
    fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.0.lock().unwrap()
    }

    fn calls(&self) -> Vec<String> {
        self.state().calls.clone()
    }

    fn record(&self, call: String) {
        self.state().calls.push(call);
    }

    fn paths(&self) -> Paths {
        self.state()
            .paths
            .clone()
            .expect("the fixture sets the paths")
    }
}

impl Backend for Fake {
    fn instances(&mut self) -> Result<Vec<Status>, String> {
        Ok(self.state().instances.clone())
    }

    fn unreadable(&self) -> Vec<String> {
        self.state().unreadable.clone()
    }

    fn launch(&mut self, profile: &str, args: &[String], done: LaunchDone) {
        self.record(format!("launch {profile} {args:?}"));
        if self.state().defer_launches {
            return self.state().deferred.push(done);
        }
        if let Some(error) = self.state().launch_error.clone() {
            return done(Err(error));
        }
        let id = format!("{profile:.4}new1");
        // Launched again: it runs in the sandbox holding the profile's home, as boxtop does.
        if self.state().instances.iter().any(|s| s.id == id) {
            return done(Ok(Outcome::Joined { id }));
        }
        let mut launched = status(&id, profile, State::Running, 0.0, 10 << 20, 0);
        launched.origin = Origin::Tui;
        self.state().instances.push(launched);
        done(Ok(Outcome::Started { id }))
    }

    fn stop(&mut self, id: &str) -> Result<(), String> {
        self.record(format!("stop {id}"));
        Ok(())
    }

    fn kill(&mut self, id: &str) -> Result<(), String> {
        self.record(format!("kill {id}"));
        Ok(())
    }

    fn pause(&mut self, id: &str) -> Result<(), String> {
        self.record(format!("pause {id}"));
        Ok(())
    }

    fn resume(&mut self, id: &str) -> Result<(), String> {
        self.record(format!("resume {id}"));
        Ok(())
    }

    fn log_path(&self, id: &str) -> Option<PathBuf> {
        Some(self.state().logs.join(format!("{id}.log")))
    }

    fn enter_command(&self, id: &str) -> Option<Command> {
        let mut command = Command::new("boxtop");
        command.arg("enter").arg(id);
        Some(command)
    }

    fn toggle_desktop_entry(&mut self, profile: &Profile) -> Result<String, String> {
        self.record(format!("menu entry {}", profile.name));
        Ok(format!("menu entry for {}: toggled", profile.name))
    }

    fn toggle_autostart(&mut self, profile: &Profile) -> Result<String, String> {
        self.record(format!("autostart {}", profile.name));
        Err(format!("cannot enable autostart of {}", profile.name))
    }

    fn entry_state(&self, profile: &str) -> EntryState {
        if profile == "mousepad" {
            EntryState {
                desktop_entry: Presence::Yes,
                autostart: Presence::No,
            }
        } else {
            EntryState::default()
        }
    }

    fn is_installed(&self, profile: &Profile) -> bool {
        self.state().installed.contains(&profile.name)
    }

    fn create_profile(
        &mut self,
        set: &ProfileSet,
        name: &str,
        from: Option<&str>,
    ) -> Result<PathBuf, String> {
        self.record(format!("create {name} from {from:?}"));
        ops::create(set, &self.paths().user_profiles(), name, from).map_err(|err| err.to_string())
    }

    fn installed_apps(&self) -> Vec<InstalledApp> {
        self.state().apps.clone()
    }

    /// Writes what a suggestion would: the app's program and its desktop file id.
    fn create_from_app(
        &mut self,
        set: &ProfileSet,
        name: &str,
        app: &InstalledApp,
    ) -> Result<PathBuf, String> {
        self.record(format!("create {name} for app {}", app.id));
        let text = format!(
            "name = \"{name}\"\ndescription = \"{}\"\ndesktop_file = \"{}\"\ncommand = [\"{}\"]\ndisplay = \"auto\"\n",
            app.title, app.id, app.profile_name
        );
        ops::create_with_text(set, &self.paths().user_profiles(), name, &text)
            .map_err(|err| err.to_string())
    }

    fn save_profile(
        &mut self,
        set: &ProfileSet,
        name: &str,
        path: &Path,
        text: &str,
    ) -> Result<ops::Saved, String> {
        self.record(format!("save {}", path.display()));
        ops::save_edit(set, name, path, text).map_err(|err| err.to_string())
    }

    fn user_copy(&mut self, entry: &Entry) -> Result<PathBuf, String> {
        self.record(format!("copy {}", entry.name));
        ops::copy_to_override(entry, &self.paths().user_profiles()).map_err(|err| err.to_string())
    }

    fn delete_profile(
        &mut self,
        name: &str,
        file: &Path,
        with_home: bool,
    ) -> Result<Deleted, OpsError> {
        self.record(format!("delete {name} with_home={with_home}"));
        ops::delete(&self.paths(), name, file, with_home)
    }

    fn private_home(&self, name: &str) -> Option<(PathBuf, u64)> {
        ops::home_size(&self.paths(), name)
    }

    fn grants(
        &mut self,
        id: &str,
        profile: &str,
    ) -> Result<crate::instance::grants::Grants, String> {
        let paths = self.paths();
        let mut set = ProfileSet::default();
        set.add_user_dir(&paths.user_profiles());
        let state = self.state();
        Ok(crate::instance::grants::compose(
            id,
            profile,
            set.resolve(profile).map_err(|err| err.to_string()),
            state.live_shares.get(id).cloned().unwrap_or_default(),
            state.live_network.get(id).copied(),
        ))
    }

    fn share_live(
        &mut self,
        id: &str,
        path: &Path,
        mode: crate::profile::Access,
    ) -> Result<String, String> {
        let home = self.paths().home;
        let rel = path
            .strip_prefix(&home)
            .map_err(|_| format!("{} is not in your home", path.display()))?
            .to_string_lossy()
            .into_owned();
        self.record(format!("share {id} {rel} {}", mode.as_str()));
        let mut state = self.state();
        let shares = state.live_shares.entry(id.to_string()).or_default();
        shares.retain(|share| share.path != rel);
        shares.push(crate::instance::live::LiveShare {
            path: rel.clone(),
            mode,
            added: crate::instance::live::Added::Live,
            made_mount_point: false,
        });
        Ok(format!("shared ~/{rel} with {id}"))
    }

    fn unshare_live(&mut self, id: &str, path: &Path) -> Result<String, String> {
        let home = self.paths().home;
        let rel = path
            .strip_prefix(&home)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        self.record(format!("unshare {id} {rel}"));
        let mut state = self.state();
        if let Some(shares) = state.live_shares.get_mut(id) {
            shares.retain(|share| share.path != rel);
        }
        Ok(format!("unshared ~/{rel} from {id}"))
    }

    fn open_in(&mut self, id: &str, path: &Path) -> Result<String, String> {
        let home = self.paths().home;
        let shown = path
            .strip_prefix(&home)
            .unwrap_or(path)
            .display()
            .to_string();
        self.record(format!("open {id} {shown}"));
        Ok(format!("opened ~/{shown} in {id}"))
    }

    fn set_network(
        &mut self,
        id: &str,
        network: crate::profile::Network,
    ) -> Result<String, String> {
        self.record(format!("net {id} {network:?}"));
        let mut state = self.state();
        if network == crate::profile::Network::Isolated {
            state.live_network.insert(id.to_string(), network);
        } else {
            state.live_network.remove(id);
        }
        Ok(format!("{id} is now on network {network:?}"))
    }
}

fn status(id: &str, profile: &str, state: State, cpu: f64, memory: u64, uptime: u64) -> Status {
    Status {
        id: id.into(),
        profile: profile.into(),
        origin: Origin::Cli,
        ended_at: (!state.is_live()).then_some(1_700_010_000),
        state,
        pid: None,
        started_at: 1_700_010_000 - uptime,
        uptime_secs: uptime,
        cpu_percent: cpu,
        memory_bytes: memory,
        processes: 3,
        net_rx_bytes: None,
        net_tx_bytes: None,
        log_problem: None,
        unit: None,
        ended_by: None,
    }
}

/// A home with user profiles, a fake backend, and an app over them (bundled profiles
/// left out, so that the screens do not change when boxtop bundles more).
struct Fixture {
    _dir: tempfile::TempDir,
    paths: Paths,
    fake: Fake,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let paths = Paths::under_home(home.clone());
        let profiles = paths.user_profiles();
        std::fs::create_dir_all(&profiles).unwrap();
        for (name, text) in [
            ("firefox", FIREFOX),
            ("mousepad", MOUSEPAD),
            ("ssh-keys", KEYS),
            ("calc", CALC),
            ("broken", BROKEN),
        ] {
            std::fs::write(profiles.join(format!("{name}.toml")), text).unwrap();
        }
        for folder in ["Documents", "Downloads", "Music", "Pictures", ".config/mpv"] {
            std::fs::create_dir_all(home.join(folder)).unwrap();
        }
        std::fs::create_dir_all(paths.state.join("logs")).unwrap();
        let fake = Fake::default();
        {
            let mut state = fake.state();
            state.installed = vec!["firefox".into(), "mousepad".into()];
            state.logs = paths.state.join("logs");
            state.paths = Some(paths.clone());
        }
        Self {
            _dir: dir,
            paths,
            fake,
        }
    }

    fn with_instances(self) -> Self {
        let mut firefox = status("f1e2d3c4", "firefox", State::Running, 12.0, 350 << 20, 3725);
        firefox.net_rx_bytes = Some(12 << 20);
        firefox.net_tx_bytes = Some(800 << 10);
        let instances = vec![
            firefox,
            status("a9b8c7d6", "mousepad", State::Paused, 0.0, 42 << 20, 65),
            status("0c0c0c0c", "calc", State::Exited { code: 0 }, 0.0, 0, 12),
            status(
                "5e5e5e5e",
                "ssh-keys",
                State::Failed {
                    reason: "cannot find the program 'keys'".into(),
                },
                0.0,
                0,
                0,
            ),
        ];
        self.fake.state().instances = instances;
        self
    }

    fn app(&self) -> App {
        self.app_with(Config::default())
    }

    fn app_with(&self, config: Config) -> App {
        let dir = self.paths.user_profiles();
        let load = move || {
            let mut set = ProfileSet::default();
            set.add_user_dir(&dir);
            set
        };
        let mut app = App::with_loader(
            self.paths.clone(),
            config,
            Box::new(self.fake.clone()),
            Box::new(load),
        );
        app.update(Action::Resize {
            width: 80,
            height: 24,
        });
        app
    }

    fn profile_file(&self, name: &str) -> PathBuf {
        self.paths.user_profiles().join(format!("{name}.toml"))
    }
}

/// Presses keys named as in the help: `j`, `Enter`, `Esc`, `Tab`, `Space`, `Left`,
/// `C-s`...
fn press(app: &mut App, keys: &[&str]) {
    for key in keys {
        let (code, modifiers) = match *key {
            "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
            "Esc" => (KeyCode::Esc, KeyModifiers::NONE),
            "Tab" => (KeyCode::Tab, KeyModifiers::NONE),
            "Space" => (KeyCode::Char(' '), KeyModifiers::NONE),
            "Backspace" => (KeyCode::Backspace, KeyModifiers::NONE),
            "Up" => (KeyCode::Up, KeyModifiers::NONE),
            "Down" => (KeyCode::Down, KeyModifiers::NONE),
            "Left" => (KeyCode::Left, KeyModifiers::NONE),
            "Right" => (KeyCode::Right, KeyModifiers::NONE),
            "End" => (KeyCode::End, KeyModifiers::NONE),
            ctrl if ctrl.starts_with("C-") => (
                KeyCode::Char(ctrl.chars().nth(2).unwrap()),
                KeyModifiers::CONTROL,
            ),
            single if single.chars().count() == 1 => (
                KeyCode::Char(single.chars().next().unwrap()),
                KeyModifiers::NONE,
            ),
            other => panic!("unknown key {other}"),
        };
        app.on_key(KeyEvent::new(code, modifiers));
    }
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
}

fn select(app: &mut App, name: &str) {
    press(app, &["g"]);
    for _ in 0..app.profiles.rows.len() {
        if app.selected_row().map(|row| row.name.as_str()) == Some(name) {
            return;
        }
        press(app, &["j"]);
    }
    panic!("no profile {name}");
}

fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .unwrap();
    terminal
}

fn screen(app: &App) -> String {
    draw(app, app.size.width, app.size.height)
        .backend()
        .to_string()
}

/// `insta::assert_snapshot!` under the names the snapshots had when these tests were one
/// file (`src/tui/snapshots/boxtop__tui__tests__NAME.snap`), from whichever file runs it.
macro_rules! snapshot {
    ($name:literal, $value:expr) => {
        insta::with_settings!({
            prepend_module_to_snapshot => false,
            snapshot_path => "../snapshots",
        }, {
            insta::assert_snapshot!(concat!("boxtop__tui__tests__", $name), $value);
        })
    };
}
use snapshot;
