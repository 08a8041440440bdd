//! The router: `App` holds the components (`components/`), sends each action to the one
//! where the user is, and carries what crosses them (launches, profile files, the
//! terminal handed to another program). Nothing here knows the terminal: drawing reads
//! the components (`ui`), and the event loop (`mod.rs`) turns keys, ticks and file events
//! into actions.

mod dialogs;
mod files;
mod mouse;

use std::sync::mpsc::{Receiver, Sender};

use ratatui::layout::Rect;

use crate::entries::installed::InstalledApp;
use crate::instance::status::Status;
use crate::paths::Paths;
use crate::profile::{ops, ProfileSet};

use super::action::Action;
use super::backend::{Backend, LaunchResult};
use super::components::detail::Detail;
use super::components::dialog::{Dialog, Question};
use super::components::editor::{EditorState, EditorStep};
use super::components::help::Help;
use super::components::instance_view::{InstanceStep, InstanceView};
use super::components::instances::Instances;
use super::components::logs::{Logs, LogsStep};
use super::components::messages::{self, Message, Messages};
use super::components::profiles::{ProfileRow, Profiles, RowState};
use super::components::Focus;
use super::event::{Event, EventSender};
use super::keymap::{self, Context};
use super::layout;
use super::prompt::PromptKind;
use super::text::tilde;
use super::Config;

pub use super::components::External;

#[derive(Debug, Clone)]
pub enum Screen {
    Main,
    Editor(Box<EditorState>),
    Logs(Logs),
    Instance(Box<InstanceView>),
}

/// A launch that has ended: the profile, and the instance id or why it failed.
type Finished = (String, LaunchResult);

pub struct App {
    pub(crate) paths: Paths,
    pub(crate) config: Config,
    backend: Box<dyn Backend>,
    pub(crate) profiles: Profiles,
    pub(crate) detail: Detail,
    pub(crate) instances: Instances,
    pub(crate) focus: Focus,
    pub(crate) screen: Screen,
    pub(crate) dialog: Option<Dialog>,
    pub(crate) help: Help,
    pub(crate) messages: Messages,
    pub(crate) size: Rect,
    quit: bool,
    external: Option<External>,
    /// Launches report here when they end (`Backend::launch` may run in the background).
    launched: (Sender<Finished>, Receiver<Finished>),
    /// Wakes the event loop when a launch has ended; `None` in tests.
    wake: Option<EventSender>,
    /// The installed apps with a menu entry, read through the backend at start and
    /// when they are listed (never while drawing).
    pub(crate) apps: Vec<InstalledApp>,
    /// The folder boxtop was started in: relative paths typed in the TUI mean it.
    pub(crate) start_dir: std::path::PathBuf,
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
            instances: Instances::new(config.refresh),
            paths,
            config,
            backend,
            profiles: Profiles::new(load),
            detail: Detail::default(),
            focus: Focus::Profiles,
            screen: Screen::Main,
            dialog: None,
            help: Help::default(),
            messages: Messages::default(),
            size: Rect::new(0, 0, 80, 24),
            quit: false,
            external: None,
            launched: std::sync::mpsc::channel(),
            wake: None,
            apps: Vec::new(),
            start_dir: std::path::PathBuf::new(),
        };
        app.start_dir = std::env::current_dir().unwrap_or_else(|_| app.paths.home.clone());
        app.reload_profiles(true);
        app.refresh_instances();
        app.apps = app.backend.installed_apps();
        app.offer_apps();
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
        if self.help.is_open() {
            return Context::Help;
        }
        match (&self.dialog, &self.screen) {
            (Some(Dialog::Prompt(_)), _) => Context::Prompt,
            (Some(Dialog::Confirm(_)), _) => Context::Confirm,
            (None, Screen::Editor(_)) => Context::Editor,
            (None, Screen::Logs(_)) => Context::Logs,
            (None, Screen::Instance(_)) => Context::Instance,
            (None, Screen::Main) if self.profiles.filtering => Context::Filter,
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

    /// The banner's message, if there is one to show.
    pub fn banner(&self) -> Option<Message> {
        self.messages.banner(
            &self.profiles.rows,
            &self.instances.unreadable,
            &self.instances.list,
        )
    }

    /// Where each pane is on the terminal, as drawn.
    pub fn areas(&self) -> layout::Areas {
        layout::areas(
            self.size,
            messages::banner_height(self.banner().as_ref(), self.size.width),
        )
    }

    pub fn selected_row(&self) -> Option<&ProfileRow> {
        self.profiles.selected_row()
    }

    pub fn selected_instance(&self) -> Option<&Status> {
        self.instances.selected()
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
            action if self.help.is_open() => self.on_help(action),
            action if self.dialog.is_some() => self.on_dialog(action),
            action => match self.screen {
                Screen::Editor(_) => self.on_editor(action),
                Screen::Logs(_) => self.on_logs(action),
                Screen::Instance(_) => self.on_instance_view(action),
                Screen::Main => self.on_main(action),
            },
        }
        self.fix_scroll();
    }

    fn on_tick(&mut self) {
        self.refresh_instances();
        match &mut self.screen {
            Screen::Logs(logs) => logs.tick(),
            Screen::Instance(view) => view.reload(self.backend.as_mut()),
            _ => {}
        }
    }

    fn on_main(&mut self, action: Action) {
        if self.profiles.on_filter(&action) {
            return;
        }
        match action {
            Action::ToggleHelp => self.help.open(),
            Action::Back => {
                if self.profiles.filtering {
                    self.profiles.filtering = false;
                    self.profiles.filter.clear();
                } else if !self.messages.dismiss() {
                    self.profiles.filter.clear();
                }
            }
            Action::FocusNext => {
                self.focus = match self.focus {
                    Focus::Profiles => Focus::Instances,
                    Focus::Instances => Focus::Profiles,
                };
            }
            Action::Move(movement) => {
                let areas = self.areas();
                match self.focus {
                    Focus::Profiles => {
                        if (self.profiles).move_selection(movement, areas.profile_rows()) {
                            self.detail.reset();
                        }
                    }
                    Focus::Instances => {
                        (self.instances).move_selection(movement, areas.instance_rows())
                    }
                }
            }
            Action::ScrollDetail(lines) => self.detail.scroll_by(lines),
            Action::StartFilter => {
                self.profiles.filtering = true;
                self.focus = Focus::Profiles;
            }
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
            Action::AppsWithoutProfile => {
                self.apps = self.backend.installed_apps();
                if self.apps_without_profile().is_empty() {
                    self.info("every installed app with a menu entry has a profile".into());
                } else {
                    self.open_prompt(PromptKind::AppWithoutProfile);
                }
            }
            Action::NewFromSelected => {
                if let Some(row) = self.selected_row() {
                    let from = Some(row.name.clone());
                    self.open_prompt(PromptKind::NewProfile { from });
                }
            }
            Action::DeleteProfile => self.ask_delete(),
            Action::ToggleDesktopEntry => self.toggle_entry(false),
            Action::ToggleAutostart => self.toggle_entry(true),
            action => match self.on_instance(action) {
                Some(Ok(text)) => self.info(text),
                Some(Err(why)) => self.error(why, None),
                None => {}
            },
        }
    }

    /// The keys of the instances pane; the message to show, if any.
    fn on_instance(&mut self, action: Action) -> Option<Result<String, String>> {
        let backend = self.backend.as_mut();
        match action {
            Action::Stop => (self.instances).act(backend, "stop", |backend, id| backend.stop(id)),
            Action::Kill => (self.instances).act(backend, "kill", |backend, id| backend.kill(id)),
            Action::TogglePause => self.instances.toggle_pause(backend),
            Action::ToggleAllEnded => Some(Ok(self.instances.toggle_all_ended(backend))),
            Action::OpenLogs => match self.instances.open_logs(backend)? {
                Ok(logs) => {
                    self.screen = Screen::Logs(logs);
                    None
                }
                Err(why) => Some(Err(why)),
            },
            Action::OpenInstance => {
                let status = self.instances.selected()?;
                let label = format!("{} ({})", status.profile, status.id);
                if !status.state.is_live() {
                    return Some(Err(format!("{label} has ended: nothing to change live")));
                }
                let (id, profile) = (status.id.clone(), status.profile.clone());
                let view = InstanceView::open(backend, &id, &profile);
                self.screen = Screen::Instance(Box::new(view));
                None
            }
            Action::EnterShell => {
                let (external, text) = match self.instances.shell(backend)? {
                    Ok(shell) => shell,
                    Err(why) => return Some(Err(why)),
                };
                self.external = Some(external);
                Some(Ok(text))
            }
            _ => None,
        }
    }

    fn on_help(&mut self, action: Action) {
        let page = self.areas().main.height.saturating_sub(2);
        self.help.update(action, page);
    }

    fn on_logs(&mut self, action: Action) {
        let height = self.areas().main.height.saturating_sub(2) as usize;
        let Screen::Logs(logs) = &mut self.screen else {
            return;
        };
        match logs.update(action, height) {
            LogsStep::Stay => {}
            LogsStep::Close => self.screen = Screen::Main,
            LogsStep::Help => self.help.open(),
        }
    }

    fn on_instance_view(&mut self, action: Action) {
        let page = self.areas().main.height.saturating_sub(2) as usize;
        let Screen::Instance(view) = &mut self.screen else {
            return;
        };
        let home = self.paths.home.clone();
        let step = view.update(
            action,
            page,
            self.backend.as_mut(),
            &self.profiles.set,
            &home,
        );
        match step {
            InstanceStep::Stay => {}
            InstanceStep::Close => {
                self.screen = Screen::Main;
                self.refresh_instances();
            }
            InstanceStep::Help => self.help.open(),
            InstanceStep::Prompt(kind) => self.open_prompt(kind),
            InstanceStep::Said(Ok(text)) => self.info(text),
            InstanceStep::Said(Err(why)) => self.error(why, None),
        }
    }

    // ---- launches -------------------------------------------------------------------

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
                    if let Some(position) = self.instances.list.iter().position(|s| s.id == id) {
                        self.instances.selected = position;
                    }
                }
                // The message and, when the launch said it, its kind.
                Err(failure) => self.error(format!("cannot launch {name}: {failure}"), None),
            }
        }
    }

    // ---- profiles and their files ---------------------------------------------------

    /// Reads every profile again, with the message about one that newly went wrong.
    fn reload_profiles(&mut self, first: bool) {
        let message = self
            .profiles
            .reload(self.backend.as_ref(), &self.paths.home, first);
        if message.is_some() {
            self.messages.current = message;
        }
        self.messages.forget_fixed(&self.profiles.rows);
    }

    fn on_resumed(&mut self, outcome: Result<(), String>) {
        if let Err(why) = outcome {
            self.error(why, None);
        }
        self.reload_profiles(false);
        self.refresh_instances();
    }

    fn refresh_instances(&mut self) {
        self.instances.refresh(self.backend.as_mut());
    }

    // ---- the editor -----------------------------------------------------------------

    fn open_editor(&mut self) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let user_dir = self.paths.user_profiles();
        match EditorState::open(row, &self.profiles.set, &user_dir) {
            Ok(editor) => self.screen = Screen::Editor(Box::new(editor)),
            Err((text, about)) => self.error(text, about),
        }
    }

    fn on_editor(&mut self, action: Action) {
        let page = self.areas().editor_rows();
        let Screen::Editor(editor) = &mut self.screen else {
            return;
        };
        match editor.update(action, page, &self.profiles.set, self.backend.as_mut()) {
            EditorStep::Stay => {}
            EditorStep::Close => self.screen = Screen::Main,
            EditorStep::AskDiscard => {
                self.dialog = Some(Dialog::Confirm(Question::DiscardChanges));
            }
            EditorStep::Prompt(kind) => {
                // A key typed as text starts from its value.
                let text = match (&kind, &self.screen) {
                    (PromptKind::Field(field), Screen::Editor(editor)) => {
                        Some(field.text(&editor.preview))
                    }
                    _ => None,
                };
                self.open_prompt(kind);
                if let (Some(text), Some(Dialog::Prompt(prompt))) = (text, &mut self.dialog) {
                    prompt.input = text;
                }
            }
            EditorStep::Help => self.help.open(),
            EditorStep::Saved {
                name,
                path,
                created_override,
                how,
            } => {
                let path = tilde(&path, &self.paths.home);
                self.screen = Screen::Main;
                self.reload_profiles(false);
                self.profiles.select(&name);
                // An override is kept as its changes, so later fixes of the bundled
                // profile still reach it; say when it could not be.
                let kept = match how {
                    ops::Saved::AsWritten => "",
                    ops::Saved::Delta => " (only what you changed: `extends` the bundled one)",
                    ops::Saved::Whole => {
                        " (whole: it removes a grant of the bundled one, which a delta cannot say)"
                    }
                };
                self.info(if created_override {
                    format!("saved {name} as your override {path}{kept}")
                } else {
                    format!("saved {path}{kept}")
                });
            }
        }
    }

    /// Keeps each list's selection inside its range and on screen.
    fn fix_scroll(&mut self) {
        let areas = self.areas();
        self.profiles.fix_scroll(areas.profile_rows());
        self.instances.fix_scroll(areas.instance_rows());
        if let Screen::Editor(editor) = &mut self.screen {
            editor.fix_scroll(areas.editor_rows());
        }
    }

    fn info(&mut self, text: String) {
        self.messages.info(text);
    }

    fn error(&mut self, text: String, about: Option<String>) {
        self.messages.error(text, about);
    }
}
