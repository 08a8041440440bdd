//! Whole screens on a test terminal, driven by key presses through the key map and
//! `App::update`, as a user drives them; the backend is a recording fake.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

use super::action::Action;
use super::app::{App, Dialog, Level, Question, RowState, Screen};
use super::backend::{Backend, EntryState, LaunchDone, LaunchFailure, Presence};
use super::Config;
use crate::instance::status::{Origin, State, Status};
use crate::launch::{ErrorKind, Failure, Outcome};
use crate::paths::Paths;
use crate::profile::{Profile, ProfileSet, Source};

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
        let paths = Paths {
            config: home.join(".config/boxtop"),
            data: home.join(".local/share/boxtop"),
            state: home.join(".local/state/boxtop"),
            runtime: None,
            xdg_runtime_dir: None,
            home: home.clone(),
        };
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
    for _ in 0..app.rows.len() {
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

#[test]
fn main_screen() {
    let fixture = Fixture::new().with_instances();
    let app = fixture.app();
    insta::assert_snapshot!("main_screen", screen(&app));
}

#[test]
fn detail_of_a_high_risk_profile() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    select(&mut app, "ssh-keys");
    insta::assert_snapshot!("detail_critical", screen(&app));
    select(&mut app, "firefox");
    press(&mut app, &["J"]);
    insta::assert_snapshot!("detail_firefox_scrolled", screen(&app));
}

#[test]
fn filter_narrows_the_list() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    press(&mut app, &["/"]);
    type_text(&mut app, "edit");
    let names: Vec<_> = app
        .visible()
        .iter()
        .map(|&i| app.rows[i].name.clone())
        .collect();
    assert_eq!(names, ["mousepad"], "matches the description 'Text editor'");
    press(&mut app, &["Enter", "j"]);
    assert_eq!(app.filter, "edit", "Enter keeps the filter");
    press(&mut app, &["Esc"]);
    assert_eq!(app.visible().len(), 5);
}

#[test]
fn editor_shows_the_new_risk_before_saving() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "mousepad");
    press(&mut app, &["e"]);
    assert!(matches!(app.screen, Screen::Editor(_)));
    // Display wayland -> x11 (high), network none -> host, webcam on.
    press(&mut app, &["Right", "j", "j", "Right", "j", "j", "Space"]);
    insta::assert_snapshot!("editor", screen(&app));
    let before = std::fs::read_to_string(fixture.profile_file("mousepad")).unwrap();
    assert_eq!(before, MOUSEPAD, "nothing is written before saving");
    press(&mut app, &["s"]);
    assert!(matches!(app.screen, Screen::Main));
    let after = std::fs::read_to_string(fixture.profile_file("mousepad")).unwrap();
    assert_eq!(
        after,
        MOUSEPAD.replace(
            "display = \"wayland\"",
            "display = \"x11\"\nnetwork = \"host\"\nwebcam = true"
        ),
    );
    let row = app.selected_row().unwrap();
    assert_eq!(row.name, "mousepad");
    assert_eq!(row.highest(), Some(crate::profile::risk::Risk::High));
}

#[test]
fn editor_shares_with_completion_and_refusal() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "firefox");
    press(&mut app, &["e"]);
    // Down to the "add a folder" row, after the 7 settings and the one share.
    press(&mut app, &["j", "j", "j", "j", "j", "j", "j", "j", "Enter"]);
    assert!(matches!(app.dialog, Some(Dialog::Prompt(_))));
    type_text(&mut app, "../etc");
    press(&mut app, &["Enter"]);
    let Some(Dialog::Prompt(prompt)) = &app.dialog else {
        panic!("the prompt stays open")
    };
    assert!(prompt
        .error
        .as_deref()
        .unwrap()
        .contains("leaves the home folder"));
    press(&mut app, &["C-u"]);
    type_text(&mut app, "Mu");
    press(&mut app, &["Tab"]);
    let Some(Dialog::Prompt(prompt)) = &app.dialog else {
        panic!("prompt")
    };
    assert_eq!(prompt.input, "Music/");
    insta::assert_snapshot!("editor_share_prompt", screen(&app));
    press(&mut app, &["Enter"]);
    assert!(app.dialog.is_none());
    // The new share is selected: Space makes it read-write; d removes Downloads.
    press(&mut app, &["Space", "k", "d"]);
    press(&mut app, &["C-s"]);
    let text = std::fs::read_to_string(fixture.profile_file("firefox")).unwrap();
    assert!(
        text.starts_with("# Firefox, the way I like it.\n"),
        "{text}"
    );
    assert!(
        text.contains("display = \"auto\"   # X11 when there is no Wayland"),
        "{text}"
    );
    assert!(text.contains("path = \"Music\"\nmode = \"rw\""), "{text}");
    assert!(!text.contains("Downloads"), "{text}");
}

#[test]
fn editor_asks_before_discarding_changes() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "calc");
    press(&mut app, &["e", "j", "j", "Right", "Esc"]);
    assert!(matches!(
        app.dialog,
        Some(Dialog::Confirm(Question::DiscardChanges))
    ));
    press(&mut app, &["n"]);
    assert!(matches!(app.screen, Screen::Editor(_)));
    press(&mut app, &["q", "y"]);
    assert!(matches!(app.screen, Screen::Main));
    assert_eq!(
        std::fs::read_to_string(fixture.profile_file("calc")).unwrap(),
        CALC
    );
}

#[test]
fn instances_pane_with_live_rows() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    for cpu in [5.0, 20.0, 45.0, 80.0, 100.0, 60.0, 30.0, 10.0] {
        fixture.fake.state().instances[0].cpu_percent = cpu;
        app.update(Action::Tick);
    }
    press(&mut app, &["Tab"]);
    insta::assert_snapshot!("instances", screen(&app));
    press(&mut app, &["j", "j", "j"]);
    insta::assert_snapshot!("instances_failed_reason", screen(&app));
}

#[test]
fn instance_keys_reach_the_backend() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    press(&mut app, &["Tab", "s", "X", "p", "j", "p", "j", "s"]);
    assert_eq!(
        fixture.fake.calls(),
        [
            "stop f1e2d3c4",
            "kill f1e2d3c4",
            "pause f1e2d3c4",
            "resume a9b8c7d6"
        ]
    );
    let message = app.banner().unwrap();
    assert!(message.text.contains("has already ended"), "{message:?}");
    press(&mut app, &["k", "k", "t"]);
    let external = app.take_external().expect("a shell to run");
    let args: Vec<_> = external.command.get_args().collect();
    assert_eq!(args, ["enter", "f1e2d3c4"]);
}

/// An unreadable state file and a log that cannot be written are said in the banner,
/// not hidden (issue 14, items 5 and 6).
#[test]
fn instance_troubles_are_shown_in_the_banner() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    assert!(app.banner().is_none(), "{:?}", app.banner());
    fixture.fake.state().instances[0].log_problem =
        Some("cannot write the log /l/x.log (No space left on device): 12 bytes".into());
    fixture.fake.state().unreadable = vec!["instance state file /r/b-1.json is unreadable".into()];
    app.update(Action::Tick);
    let banner = app.banner().expect("a banner");
    assert_eq!(banner.level, Level::Error);
    assert!(
        banner
            .text
            .starts_with("instance state file /r/b-1.json is unreadable (and 1 more"),
        "{banner:?}"
    );
    fixture.fake.state().unreadable.clear();
    app.update(Action::Tick);
    let banner = app.banner().expect("a banner");
    assert!(
        banner.text.contains("No space left on device") && banner.text.contains("12 bytes"),
        "{banner:?}"
    );
    // Ended, it is no longer a banner; selected, its trouble is shown under the list.
    fixture.fake.state().instances[0].state = State::Exited { code: 0 };
    app.update(Action::Tick);
    assert!(app.banner().is_none(), "{:?}", app.banner());
    press(&mut app, &["Tab"]);
    for _ in 0..app.instances.len() {
        if app.selected_instance().unwrap().log_problem.is_some() {
            break;
        }
        press(&mut app, &["j"]);
    }
    assert!(
        screen(&app).contains("No space left on device"),
        "{}",
        screen(&app)
    );
}

#[test]
fn logs_follow_new_lines() {
    let fixture = Fixture::new().with_instances();
    let log = fixture.paths.state.join("logs/f1e2d3c4.log");
    let lines: String = (1..=30).map(|n| format!("line {n}\n")).collect();
    std::fs::write(&log, lines).unwrap();
    let mut app = fixture.app();
    press(&mut app, &["Tab", "l"]);
    let Screen::Logs(view) = &app.screen else {
        panic!("logs open")
    };
    assert_eq!(view.lines.len(), 30);
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        writeln!(file, "a new line").unwrap();
    }
    app.update(Action::Tick);
    insta::assert_snapshot!("logs", screen(&app));
    press(&mut app, &["k"]);
    let Screen::Logs(view) = &app.screen else {
        panic!("logs open")
    };
    assert!(!view.following);
    press(&mut app, &["End", "Esc"]);
    assert!(matches!(app.screen, Screen::Main));
}

#[test]
fn menu_and_autostart_entries_toggle_from_the_profiles_pane() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "firefox");
    press(&mut app, &["m", "A"]);
    select(&mut app, "broken");
    press(&mut app, &["m"]);
    assert_eq!(
        fixture.fake.calls(),
        ["menu entry firefox", "autostart firefox"],
        "a broken profile gets no entries"
    );
    let text = screen(&app);
    assert!(text.contains("fix it before adding entries"), "{text}");
}

#[test]
fn launch_with_arguments_and_a_failed_launch() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "firefox");
    press(&mut app, &["a"]);
    type_text(&mut app, "--new-window 'https://example.org/a b'");
    press(&mut app, &["Enter"]);
    assert_eq!(
        fixture.fake.calls(),
        [r#"launch firefox ["--new-window", "https://example.org/a b"]"#]
    );
    assert_eq!(app.live_count("firefox"), 1);
    assert!(screen(&app).contains("launched firefox (firenew1)"));
    press(&mut app, &["Enter"]);
    assert_eq!(app.live_count("firefox"), 1);
    assert!(
        screen(&app).contains("firefox already runs as firenew1: launched again in it"),
        "{}",
        screen(&app)
    );
    fixture.fake.state().launch_error =
        Some("the app is not installed here (looked for /usr/bin/mousepad)".into());
    select(&mut app, "mousepad");
    press(&mut app, &["Enter"]);
    insta::assert_snapshot!("launch_failed", screen(&app));
    select(&mut app, "broken");
    press(&mut app, &["Enter"]);
    assert_eq!(
        fixture.fake.calls().len(),
        3,
        "a broken profile is not launched"
    );
}

/// A launch that failed in boxtop shows its message and what kind of failure it was.
#[test]
fn a_typed_launch_failure_shows_its_message_and_kind() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    fixture.fake.state().launch_error = Some(LaunchFailure::from(Failure {
        kind: ErrorKind::AppNotInstalled,
        message: "profile 'mousepad': the app is not installed here (looked for \
                  /usr/bin/mousepad)"
            .into(),
        exit_code: 1,
    }));
    select(&mut app, "mousepad");
    press(&mut app, &["Enter"]);
    let text = screen(&app);
    assert!(
        text.contains("cannot launch mousepad: profile 'mousepad': the app is not installed"),
        "{text}"
    );
    assert!(text.contains("(app not installed)"), "{text}");
    assert_eq!(app.live_count("mousepad"), 0);
    insta::assert_snapshot!("launch_failed_typed", text);
}

#[test]
fn the_tui_stays_usable_while_a_launch_is_under_way() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    fixture.fake.state().defer_launches = true;
    select(&mut app, "firefox");
    press(&mut app, &["Enter"]);
    assert!(
        screen(&app).contains("starting firefox…"),
        "{}",
        screen(&app)
    );
    assert_eq!(app.live_count("firefox"), 0);
    // Keys work meanwhile.
    select(&mut app, "mousepad");
    assert_eq!(app.selected_row().unwrap().name, "mousepad");
    let done = fixture.fake.state().deferred.pop().unwrap();
    fixture.fake.state().instances.push(status(
        "firenew1",
        "firefox",
        State::Running,
        0.0,
        10 << 20,
        0,
    ));
    done(Ok(Outcome::Started {
        id: "firenew1".into(),
    }));
    app.update(Action::LaunchFinished);
    assert!(
        screen(&app).contains("launched firefox (firenew1)"),
        "{}",
        screen(&app)
    );
    assert_eq!(app.live_count("firefox"), 1);
    assert_eq!(app.selected_instance().unwrap().id, "firenew1");

    press(&mut app, &["Enter"]);
    let done = fixture.fake.state().deferred.pop().unwrap();
    done(Err("the app is not installed here".into()));
    app.update(Action::LaunchFinished);
    assert!(
        screen(&app).contains("cannot launch mousepad: the app is not installed here"),
        "{}",
        screen(&app)
    );
}

#[test]
fn help_lists_every_key() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    press(&mut app, &["?"]);
    insta::assert_snapshot!("help", screen(&app));
    press(&mut app, &["Space"]);
    insta::assert_snapshot!("help_page_2", screen(&app));
    press(&mut app, &["Esc"]);
    assert!(app.help.is_none());
}

#[test]
fn an_invalid_edit_outside_shows_a_banner_and_keeps_the_last_good_version() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    select(&mut app, "firefox");
    std::fs::write(
        fixture.profile_file("firefox"),
        FIREFOX.replace("network = \"host\"", "network = \"everywhere\""),
    )
    .unwrap();
    app.update(Action::ProfilesChanged);
    let row = app.selected_row().unwrap();
    assert!(matches!(row.state, RowState::Stale { .. }));
    assert_eq!(
        row.profile().unwrap().network,
        crate::profile::Network::Host
    );
    insta::assert_snapshot!("error_banner", screen(&app));
    // Fixed outside: the banner goes, the new version is shown.
    std::fs::write(
        fixture.profile_file("firefox"),
        FIREFOX.replace("network = \"host\"", "network = \"none\""),
    )
    .unwrap();
    app.update(Action::ProfilesChanged);
    assert!(app.banner().is_none());
    let row = app.selected_row().unwrap();
    assert_eq!(
        row.profile().unwrap().network,
        crate::profile::Network::None
    );
}

#[test]
fn new_profile_from_the_template_and_from_another() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    press(&mut app, &["n"]);
    type_text(&mut app, "Bad Name");
    press(&mut app, &["Enter"]);
    assert!(
        matches!(app.dialog, Some(Dialog::Prompt(_))),
        "refused, still asking"
    );
    press(&mut app, &["C-u"]);
    type_text(&mut app, "gimp");
    press(&mut app, &["Enter"]);
    assert!(
        matches!(app.screen, Screen::Editor(_)),
        "the new profile opens in the editor"
    );
    press(&mut app, &["Esc"]);
    assert!(fixture.profile_file("gimp").is_file());
    assert_eq!(app.selected_row().unwrap().name, "gimp");
    select(&mut app, "firefox");
    press(&mut app, &["c"]);
    type_text(&mut app, "firefox-work");
    press(&mut app, &["Enter", "Esc"]);
    let row = app
        .rows
        .iter()
        .find(|row| row.name == "firefox-work")
        .unwrap();
    assert_eq!(
        row.profile().unwrap().network,
        crate::profile::Network::Host,
        "extends firefox"
    );
}

#[test]
fn deleting_asks_and_keeps_the_private_home_unless_asked() {
    let fixture = Fixture::new();
    let home = fixture.paths.private_home("mousepad").unwrap();
    std::fs::create_dir_all(home.join(".config")).unwrap();
    std::fs::write(home.join(".config/settings"), vec![b'x'; 3000]).unwrap();
    let mut app = fixture.app();
    select(&mut app, "mousepad");
    press(&mut app, &["D"]);
    insta::assert_snapshot!("delete_question", screen(&app));
    press(&mut app, &["n"]);
    assert!(fixture.profile_file("mousepad").exists());
    press(&mut app, &["D", "y"]);
    assert!(!fixture.profile_file("mousepad").exists());
    assert!(home.join(".config/settings").exists(), "the home is kept");
    assert!(app.rows.iter().all(|row| row.name != "mousepad"));

    select(&mut app, "calc");
    std::fs::create_dir_all(fixture.paths.private_home("calc").unwrap()).unwrap();
    press(&mut app, &["D", "h"]);
    assert!(!fixture.profile_file("calc").exists());
    assert!(!fixture.paths.private_home("calc").unwrap().exists());
}

#[test]
fn mouse_selects_rows_and_presses_buttons() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    // Profiles list rows start under the border and the column header.
    app.update(Action::Click { column: 5, row: 6 });
    assert_eq!(app.selected_row().unwrap().name, "mousepad");
    // The second instance row.
    let instances_top = app.areas().instance_list().y;
    app.update(Action::Click {
        column: 10,
        row: instances_top + 1,
    });
    assert_eq!(app.selected_instance().unwrap().profile, "mousepad");
    // The footer's help button.
    let screen = screen(&app);
    let footer = screen.lines().last().unwrap();
    let column = footer.find("? help").unwrap() as u16 - 1; // the opening quote
    let column = footer[..column as usize + 1].chars().count() as u16 - 1;
    app.update(Action::Click { column, row: 23 });
    assert!(app.help.is_some(), "{footer}");
}

#[test]
fn a_bundled_profile_saved_from_the_editor_becomes_an_override() {
    let fixture = Fixture::new();
    let dir = fixture.paths.user_profiles();
    for entry in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let mut app = super::app::App::new(
        fixture.paths.clone(),
        Config::default(),
        Box::new(fixture.fake.clone()),
    );
    let row = app
        .rows
        .iter()
        .find(|row| matches!(row.state, RowState::Ok(_)))
        .expect("a usable bundled profile");
    let name = row.name.clone();
    assert_eq!(row.source, Source::Bundled);
    select(&mut app, &name);
    press(&mut app, &["e"]);
    press(&mut app, &["j", "j", "j", "Space", "s"]);
    let row = app.rows.iter().find(|row| row.name == name).unwrap();
    assert_eq!(row.source, Source::Override);
    assert!(fixture.profile_file(&name).is_file());
}

#[test]
fn no_color_draws_no_colour() {
    let fixture = Fixture::new().with_instances();
    let colored = fixture.app();
    let plain = fixture.app_with(Config {
        color: false,
        ..Config::default()
    });
    let colors = |app: &App| {
        let terminal = draw(app, 80, 24);
        let buffer = terminal.backend().buffer().clone();
        buffer
            .content()
            .iter()
            .filter(|cell| cell.fg != Color::Reset || cell.bg != Color::Reset)
            .count()
    };
    assert!(colors(&colored) > 0);
    assert_eq!(colors(&plain), 0);
    assert_eq!(
        screen(&colored),
        screen(&plain),
        "the same words either way"
    );
}

/// Non-blank cells whose text has the colour of their background.
fn unreadable_cells(app: &App) -> Vec<(u16, u16, String)> {
    let terminal = draw(app, app.size.width, app.size.height);
    let buffer = terminal.backend().buffer().clone();
    let mut unreadable = Vec::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            let cell = &buffer[(x, y)];
            if cell.symbol().trim().is_empty() || cell.fg == Color::Reset {
                continue;
            }
            if cell.fg == cell.bg {
                unreadable.push((x, y, cell.symbol().to_string()));
            }
        }
    }
    unreadable
}

#[test]
fn selected_rows_of_the_list_without_focus_stay_readable() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    // The ended calc instance selected, the instances pane left: its state is dim text
    // on the grey bar of an unfocused selection.
    press(&mut app, &["Tab", "j", "j", "Tab"]);
    assert_eq!(app.selected_instance().unwrap().profile, "calc");
    assert_eq!(unreadable_cells(&app), vec![]);
    // The same for the profiles pane: calc's "none" badge is dim.
    select(&mut app, "calc");
    press(&mut app, &["Tab"]);
    assert_eq!(unreadable_cells(&app), vec![]);
}

#[test]
fn any_size_draws_without_panicking() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    for (width, height) in [
        (0, 0),
        (1, 1),
        (10, 4),
        (20, 8),
        (40, 12),
        (80, 24),
        (200, 60),
    ] {
        app.update(Action::Resize { width, height });
        draw(&app, width, height);
        press(&mut app, &["?"]);
        draw(&app, width, height);
        press(&mut app, &["Esc"]);
    }
    app.update(Action::Resize {
        width: 120,
        height: 30,
    });
    insta::assert_snapshot!("wide_screen", screen(&app));
}

#[test]
fn quitting_stops_nothing() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    press(&mut app, &["q"]);
    assert!(app.should_quit());
    assert!(fixture.fake.calls().is_empty());
}

#[test]
fn config_defaults_and_no_color() {
    use std::ffi::OsStr;
    assert_eq!(Config::default().refresh, Duration::from_secs(1));
    assert!(Config::default().color);
    assert!(super::color_allowed(None));
    assert!(super::color_allowed(Some(OsStr::new(""))));
    assert!(!super::color_allowed(Some(OsStr::new("1"))));
}

#[test]
fn editor_adds_dbus_names_and_variables_and_refuses_bad_ones() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "mousepad");
    press(&mut app, &["e"]);
    // Rows: 7 settings, ~/Documents, add share, then "add a name" for talk.
    for _ in 0..9 {
        press(&mut app, &["j"]);
    }
    press(&mut app, &["a"]);
    type_text(&mut app, "nodots");
    press(&mut app, &["Enter"]);
    let Some(Dialog::Prompt(prompt)) = &app.dialog else {
        panic!("refused, the prompt stays")
    };
    assert!(
        prompt
            .error
            .as_deref()
            .unwrap()
            .contains("is not a D-Bus name"),
        "{prompt:?}"
    );
    press(&mut app, &["C-u"]);
    type_text(&mut app, "org.freedesktop.portal.Flatpak");
    press(&mut app, &["Enter"]);
    let Screen::Editor(editor) = &app.screen else {
        panic!("editor")
    };
    let (what, grant) = editor.last_change.clone().unwrap();
    assert!(what.contains("org.freedesktop.portal.Flatpak"), "{what}");
    assert_eq!(
        grant.unwrap().risk,
        crate::profile::risk::Risk::Critical,
        "shown before saving"
    );
    press(&mut app, &["d", "G", "a"]);
    type_text(&mut app, "GTK_THEME=Adwaita:dark");
    press(&mut app, &["Enter", "s"]);
    let text = std::fs::read_to_string(fixture.profile_file("mousepad")).unwrap();
    assert!(!text.contains("Flatpak"), "removed again: {text}");
    assert!(
        text.ends_with("[env]\nGTK_THEME = \"Adwaita:dark\"\n"),
        "{text}"
    );
}

#[test]
fn external_editor_on_a_bundled_profile_copies_it_first() {
    let fixture = Fixture::new();
    let mut app = super::app::App::new(
        fixture.paths.clone(),
        Config::default(),
        Box::new(fixture.fake.clone()),
    );
    let name = app
        .rows
        .iter()
        .find(|row| row.source == Source::Bundled)
        .map(|row| row.name.clone())
        .expect("bundled profiles");
    select(&mut app, &name);
    press(&mut app, &["E"]);
    let external = app.take_external().expect("an editor to run");
    let path = fixture.profile_file(&name);
    assert!(
        path.is_file(),
        "the override is written before the editor opens"
    );
    let args: Vec<_> = external.command.get_args().collect();
    assert_eq!(args.last().unwrap(), &path.as_os_str());
    app.update(Action::Resumed { outcome: Ok(()) });
    let row = app.rows.iter().find(|row| row.name == name).unwrap();
    assert_eq!(row.source, Source::Override);
}

/// ratatui drops control characters from the text it draws (`Buffer::set_stringn`,
/// `Span::styled_graphemes`), so names, paths and values with escape sequences reach the
/// terminal as plain text; this holds boxtop to it if a widget or ratatui changes.
#[test]
fn escape_sequences_in_profiles_and_instances_never_reach_the_screen() {
    let fixture = Fixture::new();
    std::fs::write(
        fixture.profile_file("loud"),
        "name = \"loud\"\ndescription = \"\\u001b[2Jwiped \\u009b31m\"\n\
         command = [\"/bin/\\u001b]0;title\\u0007x\"]\n",
    )
    .unwrap();
    std::fs::write(fixture.profile_file("a\x1b[31mb"), CALC).unwrap();
    fixture.fake.state().instances = vec![status(
        "loud-000001",
        "loud",
        State::Failed {
            reason: "cannot run /bin/\x1b]0;title\x07x".into(),
        },
        0.0,
        0,
        0,
    )];
    let mut app = fixture.app();
    let mut screens = vec![draw(&app, 100, 30)];
    select(&mut app, "loud");
    screens.push(draw(&app, 100, 30));
    press(&mut app, &["Tab"]);
    screens.push(draw(&app, 100, 30));
    for terminal in &screens {
        let cells = terminal.backend().buffer().content();
        let raw: Vec<&str> = cells
            .iter()
            .map(|cell| cell.symbol())
            .filter(|symbol| symbol.contains(char::is_control))
            .collect();
        assert!(raw.is_empty(), "raw controls drawn: {raw:?}");
    }
    let text = screens[1].backend().to_string();
    assert!(text.contains("wiped"), "{text}");
}
