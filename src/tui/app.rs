//! The TUI's whole state and the one function that changes it, `App::update`. Nothing
//! here knows the terminal: drawing reads this state (`ui`), and the event loop (`mod.rs`)
//! turns keys, ticks and file events into actions.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use ratatui::layout::Rect;

use crate::atomic::write_atomic;
use crate::instance::status::{State, Status};
use crate::paths::Paths;
use crate::profile::risk::{self, Grant, Risk};
use crate::profile::schema::{Access, Audio, Display, Network, Share};
use crate::profile::validate::{is_valid_name, normalize_relative};
use crate::profile::{Profile, ProfileSet, Source};

use super::action::{Action, Move};
use super::backend::{Backend, EntryState, LaunchResult};
use super::edit::{self, BusList, Draft};
use super::event::{Event, EventSender};
use super::follow::LogView;
use super::keymap::{self, Context};
use super::prompt::{self, Prompt, PromptKind};
use super::ui::layout;
use super::Config;

/// Where the arrow keys go on the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Profiles,
    Instances,
}

/// What one profile row knows.
#[derive(Debug, Clone)]
pub enum RowState {
    Ok(Profile),
    /// The file cannot be used, and no good version of it was seen.
    Broken(String),
    /// The file was changed into something invalid: the last good version is kept.
    Stale {
        profile: Profile,
        error: String,
    },
}

#[derive(Debug, Clone)]
pub struct ProfileRow {
    pub name: String,
    pub source: Source,
    /// As shown to the user: a path, or `bundled:NAME.toml`.
    pub file: String,
    pub path: Option<PathBuf>,
    pub state: RowState,
    pub installed: bool,
    pub entries: EntryState,
    pub grants: Vec<Grant>,
}

impl ProfileRow {
    pub fn profile(&self) -> Option<&Profile> {
        match &self.state {
            RowState::Ok(profile) | RowState::Stale { profile, .. } => Some(profile),
            RowState::Broken(_) => None,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match &self.state {
            RowState::Ok(_) => None,
            RowState::Broken(error) | RowState::Stale { error, .. } => Some(error),
        }
    }

    pub fn highest(&self) -> Option<Risk> {
        self.grants.first().map(|grant| grant.risk)
    }

    pub fn description(&self) -> &str {
        self.profile()
            .map_or("", |profile| profile.description.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// A one-line message in the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    pub text: String,
    /// The profile it is about: a fix of that profile clears it.
    pub about: Option<String>,
}

/// One editable line of the profile editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditRow {
    Display,
    Audio,
    Network,
    Gpu,
    Webcam,
    Userns,
    Ephemeral,
    Share {
        share: Share,
        own: bool,
    },
    AddShare,
    Bus {
        list: BusList,
        name: String,
        own: bool,
    },
    AddBus(BusList),
    Env {
        name: String,
        value: String,
        own: bool,
    },
    AddEnv,
}

/// The profile editor: a draft of the file and the effective profile it gives.
#[derive(Debug, Clone)]
pub struct EditorState {
    pub draft: Draft,
    /// The effective profile as saved, to show how the risk changes.
    pub saved: Profile,
    pub preview: Profile,
    pub rows: Vec<EditRow>,
    pub selected: usize,
    pub offset: usize,
    /// The last change and what it grants now.
    pub last_change: Option<(String, Option<Grant>)>,
    /// Why the last change was refused.
    pub error: Option<String>,
}

impl EditorState {
    pub fn grant_for(&self, row: &EditRow) -> Option<Grant> {
        grant_for(&risk::summarize(&self.preview), row)
    }
}

/// The grant of the risk summary an editor row stands for.
pub fn grant_for(grants: &[Grant], row: &EditRow) -> Option<Grant> {
    let wanted = |grant: &&Grant| match row {
        EditRow::Display => grant.what.starts_with("Display:"),
        EditRow::Audio => grant.what.starts_with("Audio:"),
        EditRow::Network => grant.what.starts_with("Network:"),
        EditRow::Gpu => grant.what == "GPU",
        EditRow::Webcam => grant.what == "Webcam",
        EditRow::Userns => grant.what == "Nested user namespaces",
        EditRow::Share { share, .. } => {
            let mode = match share.mode {
                Access::Ro => "read-only",
                Access::Rw => "read-write",
            };
            grant.what == format!("~/{} ({mode})", normalize_relative(&share.path))
        }
        EditRow::Bus { list, name, .. } => {
            grant.what == format!("D-Bus (session): {} {name}", list.verb())
        }
        _ => false,
    };
    grants.iter().find(wanted).cloned()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    DeleteProfile {
        name: String,
        path: PathBuf,
        /// The private home, with its size in bytes.
        home: Option<(PathBuf, u64)>,
        /// Instances of it still running.
        live: usize,
        reverts_to_bundled: bool,
    },
    DiscardChanges,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    Prompt(Prompt),
    Confirm(Question),
}

#[derive(Debug, Clone)]
pub enum Screen {
    Main,
    Editor(Box<EditorState>),
    Logs(LogView),
}

/// A launch that has ended: the profile, and the instance id or why it failed.
type Finished = (String, LaunchResult);

/// Something the event loop must do outside the TUI: the terminal is handed to another
/// program and taken back when it exits.
#[derive(Debug)]
pub struct External {
    pub command: Command,
    /// Shown on the plain terminal while the program runs.
    pub note: String,
    /// Whether a failing exit status is worth reporting (an editor's is; a shell's is
    /// only the last command's).
    pub check_status: bool,
}

pub struct App {
    pub(crate) paths: Paths,
    pub(crate) config: Config,
    backend: Box<dyn Backend>,
    load: Box<dyn Fn() -> ProfileSet + Send>,
    set: ProfileSet,
    pub(crate) rows: Vec<ProfileRow>,
    pub(crate) filter: String,
    pub(crate) filtering: bool,
    /// Index into the visible (filtered) rows.
    pub(crate) selected: usize,
    pub(crate) profiles_offset: usize,
    pub(crate) detail_scroll: u16,
    pub(crate) focus: Focus,
    pub(crate) instances: Vec<Status>,
    pub(crate) instances_error: Option<String>,
    /// State files that could not be read at the last refresh, as the backend says them.
    pub(crate) unreadable: Vec<String>,
    /// CPU percent of each instance over the last minute, oldest first.
    pub(crate) history: HashMap<String, VecDeque<u64>>,
    pub(crate) instance_selected: usize,
    pub(crate) instances_offset: usize,
    pub(crate) screen: Screen,
    pub(crate) dialog: Option<Dialog>,
    /// The help's scroll position, when it is shown.
    pub(crate) help: Option<u16>,
    pub(crate) message: Option<Message>,
    pub(crate) size: Rect,
    quit: bool,
    external: Option<External>,
    /// Launches report here when they end (`Backend::launch` may run in the background).
    launched: (Sender<Finished>, Receiver<Finished>),
    /// Wakes the event loop when a launch has ended; `None` in tests.
    wake: Option<EventSender>,
}

impl App {
    /// The TUI over the profiles on disk (bundled and the user's).
    pub fn new(paths: Paths, config: Config, backend: Box<dyn Backend>) -> Self {
        let user_dir = paths.user_profiles();
        Self::with_loader(
            paths,
            config,
            backend,
            Box::new(move || ProfileSet::load(&user_dir)),
        )
    }

    /// The TUI over the profiles `load` returns each time they are (re)loaded.
    pub fn with_loader(
        paths: Paths,
        config: Config,
        backend: Box<dyn Backend>,
        load: Box<dyn Fn() -> ProfileSet + Send>,
    ) -> Self {
        let mut app = Self {
            paths,
            config,
            backend,
            load,
            set: ProfileSet::default(),
            rows: Vec::new(),
            filter: String::new(),
            filtering: false,
            selected: 0,
            profiles_offset: 0,
            detail_scroll: 0,
            focus: Focus::Profiles,
            instances: Vec::new(),
            instances_error: None,
            unreadable: Vec::new(),
            history: HashMap::new(),
            instance_selected: 0,
            instances_offset: 0,
            screen: Screen::Main,
            dialog: None,
            help: None,
            message: None,
            size: Rect::new(0, 0, 80, 24),
            quit: false,
            external: None,
            launched: std::sync::mpsc::channel(),
            wake: None,
        };
        app.reload_profiles(true);
        app.refresh_instances();
        app
    }

    /// Where to send `Event::Launched` when a background launch ends.
    pub fn set_wake(&mut self, wake: EventSender) {
        self.wake = Some(wake);
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The program to hand the terminal to, if an action asked for one.
    pub fn take_external(&mut self) -> Option<External> {
        self.external.take()
    }

    /// What the keys mean now.
    pub fn context(&self) -> Context {
        if self.help.is_some() {
            return Context::Help;
        }
        match (&self.dialog, &self.screen) {
            (Some(Dialog::Prompt(_)), _) => Context::Prompt,
            (Some(Dialog::Confirm(_)), _) => Context::Confirm,
            (None, Screen::Editor(_)) => Context::Editor,
            (None, Screen::Logs(_)) => Context::Logs,
            (None, Screen::Main) if self.filtering => Context::Filter,
            (None, Screen::Main) => match self.focus {
                Focus::Profiles => Context::Profiles,
                Focus::Instances => Context::Instances,
            },
        }
    }

    /// A key press, through the key map, as the event loop and the tests feed it.
    pub fn on_key(&mut self, key: crossterm::event::KeyEvent) {
        if let Some(action) = keymap::action_for_key(self.context(), key) {
            self.update(action);
        }
    }

    /// The banner: the latest message, else the first profile kept at its last good
    /// version, else the first trouble with instances.
    pub fn banner(&self) -> Option<Message> {
        self.message
            .clone()
            .or_else(|| {
                self.rows.iter().find_map(|row| match &row.state {
                    RowState::Stale { error, .. } => Some(Message {
                        level: Level::Error,
                        text: format!("{}: keeping the last good version; {error}", row.name),
                        about: Some(row.name.clone()),
                    }),
                    _ => None,
                })
            })
            .or_else(|| {
                super::problems::banner_text(&self.unreadable, &self.instances).map(|text| {
                    Message {
                        level: Level::Error,
                        text,
                        about: None,
                    }
                })
            })
    }

    /// Where each pane is on the terminal, as drawn.
    pub fn areas(&self) -> layout::Areas {
        layout::areas(
            self.size,
            super::ui::banner::height(self.banner().as_ref(), self.size.width),
        )
    }

    /// Indices into `rows` of the profiles the filter lets through.
    pub fn visible(&self) -> Vec<usize> {
        let filter = self.filter.to_lowercase();
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, row)| {
                filter.is_empty()
                    || row.name.to_lowercase().contains(&filter)
                    || row.description().to_lowercase().contains(&filter)
            })
            .map(|(index, _)| index)
            .collect()
    }

    pub fn selected_row(&self) -> Option<&ProfileRow> {
        self.visible()
            .get(self.selected)
            .map(|&index| &self.rows[index])
    }

    pub fn selected_instance(&self) -> Option<&Status> {
        self.instances.get(self.instance_selected)
    }

    /// Running (or starting, or paused) instances of a profile.
    pub fn live_count(&self, profile: &str) -> usize {
        self.instances
            .iter()
            .filter(|status| status.profile == profile && status.state.is_live())
            .count()
    }

    /// How many CPU samples make a minute at the refresh interval.
    fn history_len(&self) -> usize {
        let refresh = self.config.refresh.max(Duration::from_millis(100));
        (Duration::from_secs(60).as_millis() / refresh.as_millis()).clamp(2, 600) as usize
    }

    pub fn update(&mut self, action: Action) {
        match action {
            Action::Quit => self.quit = true,
            Action::Resize { width, height } => self.size = Rect::new(0, 0, width, height),
            Action::Tick => self.on_tick(),
            Action::LaunchFinished => self.finish_launches(),
            Action::ProfilesChanged => self.reload_profiles(false),
            Action::Resumed { outcome } => self.on_resumed(outcome),
            Action::Click { column, row } => self.on_click(column, row),
            Action::Wheel { column, row, down } => self.on_wheel(column, row, down),
            action if self.help.is_some() => self.on_help(action),
            action if self.dialog.is_some() => self.on_dialog(action),
            action => match self.screen {
                Screen::Editor(_) => self.on_editor(action),
                Screen::Logs(_) => self.on_logs(action),
                Screen::Main => self.on_main(action),
            },
        }
        self.fix_scroll();
    }

    fn on_tick(&mut self) {
        self.refresh_instances();
        if let Screen::Logs(view) = &mut self.screen {
            view.read_new();
        }
    }

    fn on_main(&mut self, action: Action) {
        match action {
            Action::ToggleHelp => self.help = Some(0),
            Action::Back => {
                if self.filtering {
                    self.filtering = false;
                    self.filter.clear();
                } else if self.message.is_some() {
                    self.message = None;
                } else if !self.filter.is_empty() {
                    self.filter.clear();
                }
            }
            Action::FocusNext => {
                self.focus = match self.focus {
                    Focus::Profiles => Focus::Instances,
                    Focus::Instances => Focus::Profiles,
                };
            }
            Action::Move(movement) => match self.focus {
                Focus::Profiles => self.move_profile(movement),
                Focus::Instances => {
                    let page = self.areas().instance_rows();
                    self.instance_selected =
                        moved(self.instance_selected, self.instances.len(), page, movement);
                }
            },
            Action::ScrollDetail(lines) => {
                self.detail_scroll = self.detail_scroll.saturating_add_signed(lines);
            }
            Action::StartFilter => {
                self.filtering = true;
                self.focus = Focus::Profiles;
            }
            Action::Input(c) if self.filtering => {
                self.filter.push(c);
                self.selected = 0;
            }
            Action::Backspace if self.filtering => {
                self.filter.pop();
                self.selected = 0;
            }
            Action::ClearInput if self.filtering => self.filter.clear(),
            Action::Submit if self.filtering => self.filtering = false,
            Action::Launch => self.launch(Vec::new()),
            Action::LaunchWithArgs => {
                if let Some(row) = self.selected_row() {
                    let profile = row.name.clone();
                    self.open_prompt(PromptKind::LaunchArgs { profile });
                }
            }
            Action::EditProfile => self.open_editor(),
            Action::EditInEditor => self.edit_in_editor(),
            Action::NewProfile => self.open_prompt(PromptKind::NewProfile { from: None }),
            Action::ToggleDesktopEntry => self.toggle_entry(false),
            Action::ToggleAutostart => self.toggle_entry(true),
            Action::NewFromSelected => {
                if let Some(row) = self.selected_row() {
                    let from = Some(row.name.clone());
                    self.open_prompt(PromptKind::NewProfile { from });
                }
            }
            Action::DeleteProfile => self.ask_delete(),
            Action::Stop => self.on_instance("stop", |backend, id| backend.stop(id)),
            Action::Kill => self.on_instance("kill", |backend, id| backend.kill(id)),
            Action::TogglePause => {
                let paused = self
                    .selected_instance()
                    .is_some_and(|status| status.state == State::Paused);
                if paused {
                    self.on_instance("resume", |backend, id| backend.resume(id));
                } else {
                    self.on_instance("pause", |backend, id| backend.pause(id));
                }
            }
            Action::OpenLogs => self.open_logs(),
            Action::EnterShell => self.enter_shell(),
            _ => {}
        }
    }

    fn move_profile(&mut self, movement: Move) {
        let count = self.visible().len();
        let page = self.areas().profile_rows();
        let before = self.selected;
        self.selected = moved(self.selected, count, page, movement);
        if before != self.selected {
            self.detail_scroll = 0;
        }
    }

    fn on_help(&mut self, action: Action) {
        let Some(scroll) = self.help else { return };
        let page = self.areas().main.height.saturating_sub(2);
        self.help = match action {
            Action::ToggleHelp | Action::Back | Action::Quit => None,
            Action::Move(Move::Up) => Some(scroll.saturating_sub(1)),
            Action::Move(Move::Down) => Some(scroll.saturating_add(1)),
            Action::Move(Move::PageUp) => Some(scroll.saturating_sub(page)),
            Action::Move(Move::PageDown) => Some(scroll.saturating_add(page)),
            Action::Move(Move::First) => Some(0),
            Action::Move(Move::Last) => Some(u16::MAX),
            _ => Some(scroll),
        };
        if let Some(scroll) = &mut self.help {
            let most = super::ui::help::line_count().saturating_sub(page as usize) as u16;
            *scroll = (*scroll).min(most);
        }
    }

    // ---- profiles -------------------------------------------------------------------

    /// Reads every profile again. A profile whose file turned invalid keeps its last good
    /// version (shown with the error); one never seen valid is listed as broken.
    fn reload_profiles(&mut self, first: bool) {
        let set = (self.load)();
        let selected = self.selected_row().map(|row| row.name.clone());
        let previous: HashMap<String, ProfileRow> = std::mem::take(&mut self.rows)
            .into_iter()
            .map(|row| (row.name.clone(), row))
            .collect();
        let mut rows = Vec::new();
        let mut new_errors = Vec::new();
        for entry in set.entries() {
            let before = previous.get(&entry.name);
            let state = match set.resolve(&entry.name) {
                Ok(profile) => RowState::Ok(profile),
                Err(err) => {
                    let error = tilde_in(&err.to_string(), &self.paths.home);
                    if before.and_then(ProfileRow::error) != Some(error.as_str()) {
                        new_errors.push((entry.name.clone(), error.clone()));
                    }
                    match before.and_then(ProfileRow::profile) {
                        Some(profile) => RowState::Stale {
                            profile: profile.clone(),
                            error,
                        },
                        None => RowState::Broken(error),
                    }
                }
            };
            rows.push(self.row(
                entry.name.clone(),
                entry.source,
                &entry.file,
                entry.path.clone(),
                state,
            ));
        }
        for problem in set.problems() {
            let path = PathBuf::from(&problem.file);
            let name = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .unwrap_or(&problem.file)
                .to_string();
            let path = path.is_absolute().then_some(path);
            let state = RowState::Broken(tilde_in(&problem.to_string(), &self.paths.home));
            rows.push(self.row(name, Source::User, &problem.file, path, state));
        }
        self.rows = rows;
        self.set = set;
        if !first {
            if let Some((name, error)) = new_errors.into_iter().next() {
                let stale = matches!(
                    self.rows
                        .iter()
                        .find(|row| row.name == name)
                        .map(|row| &row.state),
                    Some(RowState::Stale { .. })
                );
                let text = if stale {
                    format!("{name}: keeping the last good version; {error}")
                } else {
                    error
                };
                self.message = Some(Message {
                    level: Level::Error,
                    text,
                    about: Some(name),
                });
            }
        }
        // A message about a profile that is fine now has served its purpose.
        if let Some(about) = self
            .message
            .as_ref()
            .and_then(|message| message.about.clone())
        {
            let fixed = self
                .rows
                .iter()
                .any(|row| row.name == about && matches!(row.state, RowState::Ok(_)));
            if fixed
                && self
                    .message
                    .as_ref()
                    .is_some_and(|m| m.level == Level::Error)
            {
                self.message = None;
            }
        }
        if let Some(name) = selected {
            self.select_profile(&name);
        }
    }

    fn row(
        &self,
        name: String,
        source: Source,
        file: &str,
        path: Option<PathBuf>,
        state: RowState,
    ) -> ProfileRow {
        let (installed, grants) = match &state {
            RowState::Ok(profile) | RowState::Stale { profile, .. } => {
                (self.backend.is_installed(profile), risk::summarize(profile))
            }
            RowState::Broken(_) => (false, Vec::new()),
        };
        ProfileRow {
            entries: self.backend.entry_state(&name),
            name,
            source,
            file: file.to_string(),
            path,
            state,
            installed,
            grants,
        }
    }

    fn select_profile(&mut self, name: &str) {
        if let Some(position) = self
            .visible()
            .iter()
            .position(|&index| self.rows[index].name == name)
        {
            self.selected = position;
        }
    }

    /// Adds or removes the selected profile's menu entry (or autostart entry).
    fn toggle_entry(&mut self, autostart: bool) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let name = row.name.clone();
        let Some(profile) = row.profile().cloned() else {
            let text = format!("{name} has an error: fix it before adding entries for it");
            self.error(text, Some(name));
            return;
        };
        let result = if autostart {
            self.backend.toggle_autostart(&profile)
        } else {
            self.backend.toggle_desktop_entry(&profile)
        };
        match result {
            Ok(text) => self.info(text),
            Err(why) => self.error(why, Some(name.clone())),
        }
        let entries = self.backend.entry_state(&name);
        if let Some(row) = self.rows.iter_mut().find(|row| row.name == name) {
            row.entries = entries;
        }
    }

    fn launch(&mut self, args: Vec<String>) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let name = row.name.clone();
        if let RowState::Broken(error) = &row.state {
            let text = format!("cannot launch {name}: {error}");
            self.error(text, Some(name));
            return;
        }
        self.info(format!("starting {name}…"));
        let finished = self.launched.0.clone();
        let wake = self.wake.clone();
        let profile = name.clone();
        self.backend.launch(
            &name,
            &args,
            Box::new(move |result| {
                let _ = finished.send((profile, result));
                if let Some(wake) = wake {
                    let _ = wake.send(Event::Launched);
                }
            }),
        );
        // A backend that answered at once (the tests') is heard now.
        self.finish_launches();
    }

    /// Shows how the launches that ended since the last look went.
    fn finish_launches(&mut self) {
        while let Ok((name, result)) = self.launched.1.try_recv() {
            match result {
                Ok(outcome) => {
                    let id = outcome.id().to_string();
                    if let crate::launch::Outcome::Joined { .. } = outcome {
                        // A profile whose private home a running sandbox holds runs in it.
                        self.info(format!("{name} already runs as {id}: launched again in it"));
                    } else {
                        self.info(format!("launched {name} ({id})"));
                    }
                    self.refresh_instances();
                    if let Some(position) = self.instances.iter().position(|s| s.id == id) {
                        self.instance_selected = position;
                    }
                }
                // The message and, when the launch said it, its kind.
                Err(failure) => self.error(format!("cannot launch {name}: {failure}"), None),
            }
        }
    }

    fn edit_in_editor(&mut self) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let name = row.name.clone();
        let path = match (&row.path, row.source) {
            (Some(path), _) => path.clone(),
            (None, _) => {
                // A bundled profile: the user's copy becomes an override, as `boxtop edit` does.
                let Some(entry) = self.set.get(&name) else {
                    return;
                };
                let path = edit::target_path(entry, &self.paths.user_profiles());
                let text = entry.text.clone().unwrap_or_default();
                if let Err(err) = write_atomic(&path, text.as_bytes()) {
                    self.error(format!("cannot write {}: {err}", path.display()), None);
                    return;
                }
                path
            }
        };
        let editor = std::env::var("VISUAL")
            .ok()
            .filter(|editor| !editor.trim().is_empty())
            .or_else(|| std::env::var("EDITOR").ok())
            .filter(|editor| !editor.trim().is_empty())
            .unwrap_or_else(|| "vi".into());
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(&path);
        self.external = Some(External {
            command,
            note: format!("boxtop: editing {} with {editor}", path.display()),
            check_status: true,
        });
        self.message = Some(Message {
            level: Level::Info,
            text: format!("edited {}", tilde(&path, &self.paths.home)),
            about: Some(name),
        });
    }

    fn ask_delete(&mut self) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let name = row.name.clone();
        let Some(path) = row.path.clone().filter(|_| row.source != Source::Bundled) else {
            let text = format!("{name} is bundled with boxtop and cannot be deleted; edit it to make your own version");
            self.error(text, None);
            return;
        };
        let reverts_to_bundled = row.source == Source::Override;
        // A name that cannot name a home (none can, from a loaded profile) has no home.
        let home = self
            .paths
            .private_home(&name)
            .ok()
            .filter(|home| home.is_dir())
            .map(|home| {
                let size = tree_size(&home);
                (home, size)
            });
        let live = self.live_count(&name);
        self.dialog = Some(Dialog::Confirm(Question::DeleteProfile {
            name,
            path,
            home,
            live,
            reverts_to_bundled,
        }));
    }

    fn delete_profile(&mut self, name: &str, path: &Path, home: Option<&Path>) {
        if let Err(err) = std::fs::remove_file(path) {
            self.error(format!("cannot delete {}: {err}", path.display()), None);
            return;
        }
        let mut text = format!("deleted {}", tilde(path, &self.paths.home));
        match home {
            Some(home) => match std::fs::remove_dir_all(home) {
                Ok(()) => text.push_str(&format!(" and {}", tilde(home, &self.paths.home))),
                Err(err) => {
                    self.reload_profiles(false);
                    self.error(
                        format!("{text}, but not its home {}: {err}", home.display()),
                        None,
                    );
                    return;
                }
            },
            None => {
                if let Some(kept) = self.paths.private_home(name).ok().filter(|h| h.is_dir()) {
                    text.push_str(&format!(
                        "; its home {} is kept",
                        tilde(&kept, &self.paths.home)
                    ));
                }
            }
        }
        self.reload_profiles(false);
        self.info(text);
    }

    fn create_profile(&mut self, name: &str, from: Option<&str>) -> Result<(), String> {
        if !is_valid_name(name) {
            return Err(format!(
                "'{name}' is not a valid name: use lowercase letters, digits, '-', '_' or '.'"
            ));
        }
        if self.rows.iter().any(|row| row.name == name) {
            return Err(format!("a profile named '{name}' already exists"));
        }
        let path = self.paths.user_profiles().join(format!("{name}.toml"));
        if path.exists() {
            return Err(format!("{} already exists", path.display()));
        }
        let text = match from {
            Some(from) => format!(
                "# {name}: based on the '{from}' profile. Keys set here replace its keys;\n\
                 # shares, binds and D-Bus names add to its own.\n\
                 name = \"{name}\"\n\
                 extends = \"{from}\"\n"
            ),
            None => template(name),
        };
        write_atomic(&path, text.as_bytes())
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        self.filter.clear();
        self.reload_profiles(false);
        self.select_profile(name);
        self.info(format!("wrote {}", tilde(&path, &self.paths.home)));
        self.open_editor();
        Ok(())
    }

    // ---- instances ------------------------------------------------------------------

    fn refresh_instances(&mut self) {
        let selected = self.selected_instance().map(|status| status.id.clone());
        match self.backend.instances() {
            Ok(mut list) => {
                list.sort_by(|a, b| {
                    b.state
                        .is_live()
                        .cmp(&a.state.is_live())
                        .then_with(|| match a.state.is_live() {
                            true => a.started_at.cmp(&b.started_at),
                            false => b.ended_at.cmp(&a.ended_at),
                        })
                        .then_with(|| a.id.cmp(&b.id))
                });
                let keep = self.history_len();
                self.history
                    .retain(|id, _| list.iter().any(|status| &status.id == id));
                for status in &list {
                    let samples = self.history.entry(status.id.clone()).or_default();
                    if status.state.is_live() {
                        samples.push_back(status.cpu_percent.max(0.0).round() as u64);
                    }
                    while samples.len() > keep {
                        samples.pop_front();
                    }
                }
                self.instances = list;
                self.instances_error = None;
                self.unreadable = self.backend.unreadable();
            }
            Err(err) => {
                self.instances.clear();
                self.instances_error = Some(err);
            }
        }
        if let Some(id) = selected {
            if let Some(position) = self.instances.iter().position(|status| status.id == id) {
                self.instance_selected = position;
            }
        }
    }

    fn on_instance(
        &mut self,
        verb: &str,
        act: impl FnOnce(&mut dyn Backend, &str) -> Result<(), String>,
    ) {
        let Some(status) = self.selected_instance() else {
            return;
        };
        let (id, profile) = (status.id.clone(), status.profile.clone());
        if !status.state.is_live() {
            self.error(format!("{profile} ({id}) has already ended"), None);
            return;
        }
        match act(self.backend.as_mut(), &id) {
            Ok(()) => self.info(format!("{verb}: {profile} ({id})")),
            Err(why) => self.error(format!("cannot {verb} {profile} ({id}): {why}"), None),
        }
        self.refresh_instances();
    }

    fn open_logs(&mut self) {
        let Some(status) = self.selected_instance() else {
            return;
        };
        let title = format!("{} ({})", status.profile, status.id);
        let Some(path) = self.backend.log_path(&status.id) else {
            self.error(format!("no log is kept for {title}"), None);
            return;
        };
        let mut view = LogView::new(title, path);
        view.read_new();
        self.screen = Screen::Logs(view);
    }

    fn enter_shell(&mut self) {
        let Some(status) = self.selected_instance() else {
            return;
        };
        let label = format!("{} ({})", status.profile, status.id);
        if status.state != State::Running {
            self.error(format!("{label} is not running"), None);
            return;
        }
        match self.backend.enter_command(&status.id) {
            Some(command) => {
                self.external = Some(External {
                    command,
                    note: format!("boxtop: a shell inside {label}; exit it to return"),
                    check_status: false,
                });
                self.info(format!("left the shell of {label}"));
            }
            None => self.error(format!("cannot open a shell inside {label}"), None),
        }
    }

    fn on_resumed(&mut self, outcome: Result<(), String>) {
        if let Err(why) = outcome {
            self.error(why, None);
        }
        self.reload_profiles(false);
        self.refresh_instances();
    }

    fn on_logs(&mut self, action: Action) {
        let height = self.areas().main.height.saturating_sub(2) as usize;
        let Screen::Logs(view) = &mut self.screen else {
            return;
        };
        let page = height.max(1) as isize;
        match action {
            Action::Back | Action::Quit => self.screen = Screen::Main,
            Action::ToggleHelp => self.help = Some(0),
            Action::Move(Move::Up) => view.scroll(-1, height),
            Action::Move(Move::Down) => view.scroll(1, height),
            Action::Move(Move::PageUp) => view.scroll(-page, height),
            Action::Move(Move::PageDown) => view.scroll(page, height),
            Action::Move(Move::First) => view.to_start(),
            Action::Move(Move::Last) => view.follow(),
            _ => {}
        }
    }

    // ---- the editor -----------------------------------------------------------------

    fn open_editor(&mut self) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let name = row.name.clone();
        let saved = match &row.state {
            RowState::Ok(profile) => profile.clone(),
            RowState::Broken(error) | RowState::Stale { error, .. } => {
                let text = format!("{error}; press E to fix the file in your editor");
                self.error(text, Some(name));
                return;
            }
        };
        let Some(entry) = self.set.get(&name) else {
            self.error(format!("{name} has no file to edit here; press E"), None);
            return;
        };
        match Draft::open(entry, &self.paths.user_profiles()) {
            Ok(draft) => {
                let mut editor = EditorState {
                    draft,
                    preview: saved.clone(),
                    saved,
                    rows: Vec::new(),
                    selected: 0,
                    offset: 0,
                    last_change: None,
                    error: None,
                };
                editor.rows = editor_rows(&editor.draft, &editor.preview);
                self.screen = Screen::Editor(Box::new(editor));
            }
            Err(err) => self.error(err.to_string(), Some(name)),
        }
    }

    fn on_editor(&mut self, action: Action) {
        let page = self.areas().editor_rows();
        let Screen::Editor(editor) = &mut self.screen else {
            return;
        };
        let Some(row) = editor.rows.get(editor.selected).cloned() else {
            return;
        };
        match action {
            Action::Move(movement) => {
                editor.selected = moved(editor.selected, editor.rows.len(), page, movement);
            }
            Action::ToggleHelp => self.help = Some(0),
            Action::Back | Action::Quit => {
                if editor.draft.is_changed() {
                    self.dialog = Some(Dialog::Confirm(Question::DiscardChanges));
                } else {
                    self.screen = Screen::Main;
                }
            }
            Action::Cycle(forward) => self.change(&row, forward),
            Action::Activate => match row {
                EditRow::AddShare => self.open_prompt(PromptKind::SharePath),
                EditRow::AddBus(list) => self.open_prompt(PromptKind::BusName(list)),
                EditRow::AddEnv => self.open_prompt(PromptKind::EnvVar),
                EditRow::Env { .. } => {}
                row => self.change(&row, true),
            },
            Action::Add => match row {
                EditRow::Bus { list, .. } | EditRow::AddBus(list) => {
                    self.open_prompt(PromptKind::BusName(list))
                }
                EditRow::Env { .. } | EditRow::AddEnv => self.open_prompt(PromptKind::EnvVar),
                _ => self.open_prompt(PromptKind::SharePath),
            },
            Action::Remove => match row {
                EditRow::Share { share, .. } => self.apply(
                    format!("removed the share of ~/{}", normalize_relative(&share.path)),
                    &EditRow::AddShare,
                    |draft| draft.remove_share(&share.path),
                ),
                EditRow::Bus { list, name, .. } => self.apply(
                    format!("removed D-Bus {} {name}", list.verb()),
                    &EditRow::AddBus(list),
                    |draft| draft.remove_bus_name(list, &name),
                ),
                EditRow::Env { name, .. } => self.apply(
                    format!("removed the variable {name}"),
                    &EditRow::AddEnv,
                    |draft| draft.remove_env(&name),
                ),
                _ => {}
            },
            Action::Save => self.save_editor(),
            _ => {}
        }
    }

    /// Cycles or toggles the value of a row.
    fn change(&mut self, row: &EditRow, forward: bool) {
        let Screen::Editor(editor) = &self.screen else {
            return;
        };
        let profile = &editor.preview;
        match row {
            EditRow::Display => {
                const ALL: [Display; 4] =
                    [Display::None, Display::Wayland, Display::X11, Display::Auto];
                let next = cycle(&ALL, profile.display, forward);
                let (from, to) = (display_str(profile.display), display_str(next));
                self.apply(format!("display {from} → {to}"), row, |draft| {
                    draft.set_choice("display", to);
                    Ok(())
                });
            }
            EditRow::Audio => {
                const ALL: [Audio; 4] =
                    [Audio::None, Audio::Pulseaudio, Audio::Pipewire, Audio::Auto];
                let next = cycle(&ALL, profile.audio, forward);
                let (from, to) = (audio_str(profile.audio), audio_str(next));
                self.apply(format!("audio {from} → {to}"), row, |draft| {
                    draft.set_choice("audio", to);
                    Ok(())
                });
            }
            EditRow::Network => {
                const ALL: [Network; 3] = [Network::None, Network::Host, Network::Isolated];
                let next = cycle(&ALL, profile.network, forward);
                let (from, to) = (network_str(profile.network), network_str(next));
                self.apply(format!("network {from} → {to}"), row, |draft| {
                    draft.set_choice("network", to);
                    Ok(())
                });
            }
            EditRow::Gpu | EditRow::Webcam | EditRow::Userns => {
                let (key, label, value) = match row {
                    EditRow::Gpu => ("gpu", "GPU", profile.gpu),
                    EditRow::Webcam => ("webcam", "webcam", profile.webcam),
                    _ => (
                        "allow_userns",
                        "nested user namespaces",
                        profile.allow_userns,
                    ),
                };
                let next = !value;
                self.apply(format!("{label} {}", on_off(next)), row, |draft| {
                    draft.set_flag(key, next);
                    Ok(())
                });
            }
            EditRow::Ephemeral => {
                let next = !profile.home.ephemeral;
                let what = if next {
                    "private home: forgotten at exit"
                } else {
                    "private home: kept between runs"
                };
                self.apply(what.into(), row, |draft| draft.set_ephemeral(next));
            }
            EditRow::Share { share, .. } => {
                let mode = match share.mode {
                    Access::Ro => Access::Rw,
                    Access::Rw => Access::Ro,
                };
                let changed = Share {
                    mode,
                    ..share.clone()
                };
                let what = format!(
                    "~/{} {} → {}",
                    normalize_relative(&share.path),
                    share.mode.as_str(),
                    mode.as_str()
                );
                let new_row = EditRow::Share {
                    share: changed,
                    own: true,
                };
                let share = share.clone();
                self.apply(what, &new_row, |draft| draft.set_share_mode(&share, mode));
            }
            _ => {}
        }
    }

    /// Applies a change to a copy of the draft; keeps it only when the result is a valid
    /// profile. `row` is the row to select afterwards (and whose grant is shown).
    fn apply(
        &mut self,
        what: String,
        row: &EditRow,
        change: impl FnOnce(&mut Draft) -> Result<(), edit::EditError>,
    ) {
        let Screen::Editor(editor) = &mut self.screen else {
            return;
        };
        let mut draft = editor.draft.clone();
        if let Err(err) = change(&mut draft) {
            editor.error = Some(err.to_string());
            return;
        }
        let text = draft.text();
        match edit::resolve_text(&self.set, &draft.name, &draft.file, &text) {
            Ok(preview) => {
                editor.draft = draft;
                editor.preview = preview;
                editor.rows = editor_rows(&editor.draft, &editor.preview);
                editor.error = None;
                let target = row_key(row);
                if let Some(position) = editor.rows.iter().position(|r| row_key(r) == target) {
                    editor.selected = position;
                }
                editor.selected = editor.selected.min(editor.rows.len().saturating_sub(1));
                let grant = editor
                    .rows
                    .get(editor.selected)
                    .and_then(|row| editor.grant_for(row))
                    .filter(|_| row_key(row) == row_key(&editor.rows[editor.selected]));
                editor.last_change = Some((what, grant));
            }
            Err(err) => editor.error = Some(format!("refused: {err}")),
        }
    }

    fn save_editor(&mut self) {
        let Screen::Editor(editor) = &mut self.screen else {
            return;
        };
        if !editor.draft.is_changed() && !editor.draft.creates_override {
            self.screen = Screen::Main;
            return;
        }
        let name = editor.draft.name.clone();
        let override_note = editor.draft.creates_override;
        match editor.draft.save() {
            Ok(()) => {
                let path = tilde(&editor.draft.target, &self.paths.home);
                self.screen = Screen::Main;
                self.reload_profiles(false);
                self.select_profile(&name);
                self.info(if override_note {
                    format!("saved {name} as your override {path}")
                } else {
                    format!("saved {path}")
                });
            }
            Err(err) => editor.error = Some(err.to_string()),
        }
    }

    // ---- dialogs --------------------------------------------------------------------

    fn open_prompt(&mut self, kind: PromptKind) {
        let mut prompt = Prompt::new(kind);
        if prompt.kind == PromptKind::SharePath {
            prompt.candidates = prompt::share_candidates(&self.paths.home, "");
        }
        self.dialog = Some(Dialog::Prompt(prompt));
    }

    fn on_dialog(&mut self, action: Action) {
        match self.dialog.take() {
            Some(Dialog::Prompt(prompt)) => self.on_prompt(prompt, action),
            Some(Dialog::Confirm(question)) => self.on_confirm(question, action),
            None => {}
        }
    }

    fn on_prompt(&mut self, mut prompt: Prompt, action: Action) {
        match action {
            Action::Back | Action::Quit => return,
            Action::Input(c) => prompt.input.push(c),
            Action::Backspace => {
                prompt.input.pop();
            }
            Action::ClearInput => prompt.input.clear(),
            Action::Complete if prompt.kind == PromptKind::SharePath => {
                prompt.input = prompt::complete(&prompt.input, &prompt.candidates);
            }
            Action::Submit => {
                if let Err(why) = self.submit(&prompt) {
                    prompt.error = Some(why);
                    self.dialog = Some(Dialog::Prompt(prompt));
                }
                return;
            }
            _ => {}
        }
        prompt.error = None;
        if prompt.kind == PromptKind::SharePath {
            prompt.candidates = prompt::share_candidates(&self.paths.home, &prompt.input);
            if !prompt.input.is_empty() {
                let path = prompt.input.trim_end_matches('/');
                if let Err((message, hint)) =
                    crate::profile::validate::check_share_path(path, false)
                {
                    prompt.error = Some(format!("{message} ({hint})"));
                }
            }
        }
        self.dialog = Some(Dialog::Prompt(prompt));
    }

    /// Acts on an accepted prompt; the error keeps the prompt open with the reason.
    fn submit(&mut self, prompt: &Prompt) -> Result<(), String> {
        let input = prompt.input.trim();
        match &prompt.kind {
            PromptKind::LaunchArgs { profile } => {
                let args = prompt::split_args(input)?;
                self.select_profile(profile);
                self.launch(args);
                Ok(())
            }
            PromptKind::NewProfile { from } => self.create_profile(input, from.as_deref()),
            PromptKind::SharePath => {
                let path = normalize_relative(input);
                if input.is_empty() {
                    return Err("type a folder of your home".into());
                }
                let row = EditRow::Share {
                    share: Share {
                        path: path.clone(),
                        mode: Access::Ro,
                        create: false,
                        force: false,
                    },
                    own: true,
                };
                self.apply_or_fail(format!("shared ~/{path} (read-only)"), &row, |draft| {
                    draft.add_share(input, Access::Ro)
                })
            }
            PromptKind::BusName(list) => {
                let list = *list;
                let row = EditRow::Bus {
                    list,
                    name: input.to_string(),
                    own: true,
                };
                self.apply_or_fail(
                    format!("D-Bus: may {} {input}", list.verb()),
                    &row,
                    |draft| draft.add_bus_name(list, input),
                )
            }
            PromptKind::EnvVar => {
                let (name, value) = input
                    .split_once('=')
                    .ok_or_else(|| "write NAME=VALUE".to_string())?;
                let row = EditRow::Env {
                    name: name.trim().to_string(),
                    value: value.to_string(),
                    own: true,
                };
                self.apply_or_fail(format!("set {}={value}", name.trim()), &row, |draft| {
                    draft.set_env(name.trim(), value)
                })
            }
        }
    }

    /// `apply` for prompts: a refused change keeps the prompt open with the reason.
    fn apply_or_fail(
        &mut self,
        what: String,
        row: &EditRow,
        change: impl FnOnce(&mut Draft) -> Result<(), edit::EditError>,
    ) -> Result<(), String> {
        self.apply(what, row, change);
        match &mut self.screen {
            Screen::Editor(editor) => match editor.error.take() {
                Some(error) => Err(error),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn on_confirm(&mut self, question: Question, action: Action) {
        let answer = match action {
            Action::Answer(answer) => answer,
            Action::Back | Action::Quit => 'n',
            _ => {
                self.dialog = Some(Dialog::Confirm(question));
                return;
            }
        };
        match (question, answer) {
            (Question::DeleteProfile { name, path, .. }, 'y') => {
                self.delete_profile(&name, &path, None)
            }
            (
                Question::DeleteProfile {
                    name,
                    path,
                    home: Some((home, _)),
                    live,
                    ..
                },
                'h',
            ) => {
                if live > 0 {
                    self.error(
                        format!("{name} is running: stop it before deleting its home"),
                        None,
                    );
                } else {
                    self.delete_profile(&name, &path, Some(&home));
                }
            }
            (Question::DiscardChanges, 'y') => self.screen = Screen::Main,
            (question @ Question::DeleteProfile { .. }, 'h') => {
                self.dialog = Some(Dialog::Confirm(question));
            }
            _ => {}
        }
    }

    // ---- mouse ----------------------------------------------------------------------

    fn on_click(&mut self, column: u16, row: u16) {
        let areas = self.areas();
        if let Some(action) = super::ui::footer::button_at(self, areas.footer, column, row) {
            self.update(action);
            return;
        }
        if let Some(Dialog::Confirm(question)) = &self.dialog {
            if let Some(answer) =
                super::ui::dialog::answer_at(self, question, areas.main, column, row)
            {
                self.update(Action::Answer(answer));
            }
            return;
        }
        if self.dialog.is_some() || self.help.is_some() {
            return;
        }
        match &mut self.screen {
            Screen::Editor(editor) => {
                let list = areas.editor_list();
                if contains(list, column, row) {
                    let index = editor.offset + usize::from(row - list.y);
                    if index < editor.rows.len() {
                        editor.selected = index;
                    }
                }
            }
            Screen::Logs(_) => {}
            Screen::Main => {
                let profiles = areas.profile_list();
                let instances = areas.instance_list();
                if contains(areas.profiles, column, row) {
                    self.focus = Focus::Profiles;
                    if contains(profiles, column, row) {
                        let index = self.profiles_offset + usize::from(row - profiles.y);
                        if index < self.visible().len() {
                            if index != self.selected {
                                self.detail_scroll = 0;
                            }
                            self.selected = index;
                        }
                    }
                } else if contains(areas.instances, column, row) {
                    self.focus = Focus::Instances;
                    if contains(instances, column, row) {
                        let index = self.instances_offset + usize::from(row - instances.y);
                        if index < self.instances.len() {
                            self.instance_selected = index;
                        }
                    }
                }
            }
        }
    }

    fn on_wheel(&mut self, column: u16, row: u16, down: bool) {
        let areas = self.areas();
        let movement = if down { Move::Down } else { Move::Up };
        if self.help.is_some() {
            self.on_help(Action::Move(movement));
            return;
        }
        if self.dialog.is_some() {
            return;
        }
        match &self.screen {
            Screen::Editor(_) => self.on_editor(Action::Move(movement)),
            Screen::Logs(_) => {
                for _ in 0..3 {
                    self.on_logs(Action::Move(movement));
                }
            }
            Screen::Main => {
                if contains(areas.detail, column, row) {
                    self.detail_scroll =
                        self.detail_scroll
                            .saturating_add_signed(if down { 3 } else { -3 });
                } else if contains(areas.instances, column, row) {
                    self.focus = Focus::Instances;
                    self.on_main(Action::Move(movement));
                } else if contains(areas.profiles, column, row) {
                    self.focus = Focus::Profiles;
                    self.on_main(Action::Move(movement));
                }
            }
        }
    }

    /// Keeps each list's selection inside its range and on screen.
    fn fix_scroll(&mut self) {
        let areas = self.areas();
        let count = self.visible().len();
        self.selected = self.selected.min(count.saturating_sub(1));
        self.profiles_offset =
            layout::offset_for(self.profiles_offset, self.selected, areas.profile_rows());
        self.instance_selected = self
            .instance_selected
            .min(self.instances.len().saturating_sub(1));
        self.instances_offset = layout::offset_for(
            self.instances_offset,
            self.instance_selected,
            areas.instance_rows(),
        );
        if let Screen::Editor(editor) = &mut self.screen {
            editor.selected = editor.selected.min(editor.rows.len().saturating_sub(1));
            editor.offset = layout::offset_for(editor.offset, editor.selected, areas.editor_rows());
        }
    }

    fn info(&mut self, text: String) {
        self.message = Some(Message {
            level: Level::Info,
            text,
            about: None,
        });
    }

    fn error(&mut self, text: String, about: Option<String>) {
        self.message = Some(Message {
            level: Level::Error,
            text,
            about,
        });
    }
}

/// The rows of the editor: the grants, then the lists with an "add" row each.
fn editor_rows(draft: &Draft, profile: &Profile) -> Vec<EditRow> {
    let mut rows = vec![
        EditRow::Display,
        EditRow::Audio,
        EditRow::Network,
        EditRow::Gpu,
        EditRow::Webcam,
        EditRow::Userns,
        EditRow::Ephemeral,
    ];
    for share in &profile.home.share {
        rows.push(EditRow::Share {
            own: draft.owns_share(&share.path),
            share: share.clone(),
        });
    }
    rows.push(EditRow::AddShare);
    for list in BusList::ALL {
        let names = match list {
            BusList::Talk => &profile.dbus.talk,
            BusList::Own => &profile.dbus.own,
            BusList::See => &profile.dbus.see,
        };
        for name in names {
            rows.push(EditRow::Bus {
                list,
                name: name.clone(),
                own: draft.owns_bus_name(list, name),
            });
        }
        rows.push(EditRow::AddBus(list));
    }
    for (name, value) in &profile.env {
        rows.push(EditRow::Env {
            name: name.clone(),
            value: value.clone(),
            own: draft.owns_env(name),
        });
    }
    rows.push(EditRow::AddEnv);
    rows
}

/// What identifies a row across changes (a share keeps its row when its mode changes).
fn row_key(row: &EditRow) -> String {
    match row {
        EditRow::Share { share, .. } => format!("share:{}", normalize_relative(&share.path)),
        EditRow::Bus { list, name, .. } => format!("bus:{}:{name}", list.key()),
        EditRow::Env { name, .. } => format!("env:{name}"),
        other => format!("{other:?}"),
    }
}

fn cycle<T: Copy + PartialEq>(all: &[T], current: T, forward: bool) -> T {
    let index = all.iter().position(|value| *value == current).unwrap_or(0);
    let next = if forward {
        (index + 1) % all.len()
    } else {
        (index + all.len() - 1) % all.len()
    };
    all[next]
}

pub fn display_str(display: Display) -> &'static str {
    match display {
        Display::None => "none",
        Display::Wayland => "wayland",
        Display::X11 => "x11",
        Display::Auto => "auto",
    }
}

pub fn audio_str(audio: Audio) -> &'static str {
    match audio {
        Audio::None => "none",
        Audio::Pulseaudio => "pulseaudio",
        Audio::Pipewire => "pipewire",
        Audio::Auto => "auto",
    }
}

pub fn network_str(network: Network) -> &'static str {
    match network {
        Network::None => "none",
        Network::Host => "host",
        Network::Isolated => "isolated",
    }
}

pub fn on_off(value: bool) -> &'static str {
    if value {
        "on"
    } else {
        "off"
    }
}

/// A selection after a movement in a list of `count` rows, `page` of them on screen.
fn moved(selected: usize, count: usize, page: usize, movement: Move) -> usize {
    let last = count.saturating_sub(1);
    let page = page.max(1);
    match movement {
        Move::Up => selected.saturating_sub(1),
        Move::Down => (selected + 1).min(last),
        Move::PageUp => selected.saturating_sub(page),
        Move::PageDown => (selected + page).min(last),
        Move::First => 0,
        Move::Last => last,
    }
}

fn contains(area: Rect, column: u16, row: u16) -> bool {
    column >= area.x && column < area.right() && row >= area.y && row < area.bottom()
}

/// `~/x` for paths in the home folder.
pub fn tilde(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) => format!("~/{}", rest.display()),
        Err(_) => path.display().to_string(),
    }
}

/// `text` with the home folder written `~`, as in paths shown to the user.
pub fn tilde_in(text: &str, home: &Path) -> String {
    let home = format!("{}/", home.display());
    if home.len() <= 2 {
        return text.to_string();
    }
    text.replace(&home, "~/")
}

/// The bytes of the files below `path`, not following symbolic links.
fn tree_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.filter_map(Result::ok) {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// The text of a new profile written from the TUI's template.
fn template(name: &str) -> String {
    format!(
        "# {name}: a profile made in boxtop. Say what the app is below.\n\
         name = \"{name}\"\n\
         description = \"\"\n\
         # The program to run, then its fixed arguments.\n\
         command = [\"{name}\"]\n\
         # Windows: none, wayland, x11 or auto (wayland when the session has it).\n\
         display = \"wayland\"\n\
         # Sound: none, pulseaudio, pipewire or auto.\n\
         audio = \"none\"\n\
         # Network: none, host or isolated.\n\
         network = \"none\"\n\
         \n\
         [home]\n\
         # false keeps the app's private home between runs; true forgets it at exit.\n\
         ephemeral = false\n"
    )
}
