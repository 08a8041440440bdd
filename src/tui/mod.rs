//! The terminal UI (`boxtop` with no command): profiles with their risks, a permission
//! editor, and the live instances, in the gitui/bottom model. Input becomes an `Action`,
//! `App::update` changes the state, `ui` draws the state and does no I/O, and every event
//! source (terminal, ticks, profile watcher, signals) feeds one channel that this event
//! loop blocks on. Instances are reached through a `Backend`.

pub mod action;
pub mod app;
pub mod backend;
pub mod components;
pub mod edit;
pub mod event;
pub mod follow;
pub mod foreground;
pub mod keymap;
pub mod layout;
pub mod problems;
pub mod prompt;
pub mod text;
pub mod ui;

#[cfg(test)]
mod tests;

use std::io::{IsTerminal, Stdout};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use crate::paths::Paths;
use action::Action;
use app::{App, External};
use backend::{Backend, LocalBackend};
use event::{Event, Input, ProfileWatcher, Signals};

/// How the TUI runs; the command line may set these (`--refresh`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// How often instances and their stats are read again.
    pub refresh: Duration,
    /// False when NO_COLOR is set: meaning is then carried by words and emphasis only.
    pub color: bool,
    /// Quit as soon as the first frame is on the terminal. Only for timing the start
    /// (`scripts/bench.sh tui`), set by `BOXTOP_TUI_EXIT_AFTER_FIRST_FRAME=1`.
    pub exit_after_first_frame: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            refresh: Duration::from_secs(1),
            color: true,
            exit_after_first_frame: false,
        }
    }
}

impl Config {
    /// The defaults, with colour off when `NO_COLOR` is set to anything but "".
    pub fn from_env() -> Self {
        Self {
            color: color_allowed(std::env::var_os("NO_COLOR").as_deref()),
            exit_after_first_frame: std::env::var_os(EXIT_AFTER_FIRST_FRAME)
                .is_some_and(|value| value == "1"),
            ..Self::default()
        }
    }
}

/// The benchmark's hook: the TUI starts, draws once and quits, so that the whole run
/// (from exec to exit) bounds the time to the first frame from above.
const EXIT_AFTER_FIRST_FRAME: &str = "BOXTOP_TUI_EXIT_AFTER_FIRST_FRAME";

/// Colour is on unless NO_COLOR is set to a non-empty value (no-color.org).
fn color_allowed(no_color: Option<&std::ffi::OsStr>) -> bool {
    no_color.is_none_or(|value| value.is_empty())
}

/// Opens the TUI over the user's profiles, driving instances through the boxtop binary.
pub fn run(paths: &Paths, refresh: Option<Duration>) -> anyhow::Result<()> {
    let mut config = Config::from_env();
    if let Some(refresh) = refresh {
        config.refresh = refresh;
    }
    run_with(paths, config, Box::new(LocalBackend::new(paths)))
}

/// Opens the TUI with a given configuration and instance backend. Returns when the user
/// quits or a signal asks to; running sandboxes are left running.
pub fn run_with(paths: &Paths, config: Config, backend: Box<dyn Backend>) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        bail!("the terminal UI needs a terminal; in scripts use `boxtop list`, `boxtop show NAME` or `boxtop run NAME`");
    }
    let (tx, rx) = event::channel();
    let signals = Signals::spawn(tx.clone()).context("handling signals")?;
    let mut app = App::new(paths.clone(), config.clone(), backend);
    app.set_wake(tx.clone());
    let hook = PanicHook::install();
    let result = (|| {
        let mut tui = Tui::enter().context("setting up the terminal")?;
        let size = tui.terminal.size()?;
        app.update(Action::Resize {
            width: size.width,
            height: size.height,
        });
        let mut input = Input::spawn(tx.clone()).context("reading the terminal")?;
        event::spawn_ticks(tx.clone(), config.refresh)?;
        let mut watcher = ProfileWatcher::new(paths.user_profiles(), tx.clone())?;
        watcher.ensure();
        event_loop(&mut app, &mut tui, &rx, &mut input, &mut watcher)
    })();
    restore_terminal();
    hook.uninstall();
    signals.close();
    result
}

fn event_loop(
    app: &mut App,
    tui: &mut Tui,
    rx: &std::sync::mpsc::Receiver<Event>,
    input: &mut Input,
    watcher: &mut ProfileWatcher,
) -> anyhow::Result<()> {
    loop {
        tui.terminal
            .draw(|frame| frame.render_widget(&*app, frame.area()))?;
        if app.config.exit_after_first_frame {
            return Ok(());
        }
        // Sleep until something happens, then take everything that is waiting, so that a
        // burst (a paste, several ticks after a suspend) draws once.
        let first = rx.recv().context("the event sources stopped")?;
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        handle_batch(app, batch, watcher, false)?;
        while let Some(external) = app.take_external() {
            let outcome = run_external(tui, input, external);
            // Ctrl-C or Ctrl-\ typed in the program reached boxtop too: not for us.
            handle_batch(app, rx.try_iter().collect(), watcher, true)?;
            app.update(Action::Resumed { outcome });
        }
        if app.should_quit() {
            return Ok(());
        }
    }
}

fn handle_batch(
    app: &mut App,
    batch: Vec<Event>,
    watcher: &mut ProfileWatcher,
    after_external: bool,
) -> anyhow::Result<()> {
    let mut ticked = false;
    let mut changed = false;
    for event in batch {
        match event {
            Event::Terminal(crossterm::event::Event::Key(key)) => app.on_key(key),
            Event::Terminal(crossterm::event::Event::Mouse(mouse)) => {
                if let Some(action) = keymap::action_for_mouse(mouse) {
                    app.update(action);
                }
            }
            Event::Terminal(crossterm::event::Event::Resize(width, height)) => {
                app.update(Action::Resize { width, height })
            }
            Event::Terminal(crossterm::event::Event::Paste(text)) => {
                if matches!(
                    app.context(),
                    keymap::Context::Prompt | keymap::Context::Filter
                ) {
                    for c in text.chars().filter(|c| !c.is_control()) {
                        app.update(Action::Input(c));
                    }
                }
            }
            Event::Terminal(_) => {}
            Event::Tick => ticked = true,
            Event::ProfilesChanged => changed = true,
            Event::Launched => app.update(Action::LaunchFinished),
            Event::Signal(signal)
                if after_external
                    && (signal == signal_hook::consts::SIGINT
                        || signal == signal_hook::consts::SIGQUIT) => {}
            Event::Signal(_) => app.update(Action::Quit),
            Event::InputFailed(why) => bail!("{why}"),
        }
    }
    if changed {
        app.update(Action::ProfilesChanged);
    }
    if ticked {
        watcher.ensure();
        app.update(Action::Tick);
    }
    Ok(())
}

/// Hands the terminal to another program and takes it back when it exits.
fn run_external(tui: &mut Tui, input: &mut Input, external: External) -> Result<(), String> {
    let External {
        command,
        note,
        check_status,
    } = external;
    input.pause();
    restore_terminal();
    crate::outln!("{note}");
    let program = command.get_program().to_string_lossy().into_owned();
    let outcome = match foreground::run(command) {
        Ok(foreground::Ended::Exited(0)) => Ok(()),
        Ok(_) if !check_status => Ok(()),
        Ok(ended) => Err(format!("{note}: {ended}")),
        Err(err) => Err(format!("cannot start {program}: {err}")),
    };
    // Whatever the program did with the terminal (a job-control shell inside it that
    // was killed leaves it to a group that is gone), it is the TUI's again.
    let taken = foreground::take_back();
    if let Err(err) = taken.and_then(|()| tui.reenter()) {
        return Err(format!("cannot take the terminal back: {err}"));
    }
    input.resume();
    outcome
}

/// The terminal in TUI mode: raw, alternate screen, mouse reports.
struct Tui {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Tui {
    fn enter() -> std::io::Result<Self> {
        setup_terminal()?;
        let terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
        Ok(Self { terminal })
    }

    fn reenter(&mut self) -> std::io::Result<()> {
        setup_terminal()?;
        self.terminal.clear()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn setup_terminal() -> std::io::Result<()> {
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        crossterm::event::EnableBracketedPaste,
        crossterm::cursor::Hide
    )
}

/// Puts the terminal back as the shell had it. Safe to call more than once, from a panic
/// hook or a signal thread.
pub(crate) fn restore_terminal() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = crossterm::terminal::disable_raw_mode();
}

type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Restores the terminal before a panic message is printed, so that it can be read.
struct PanicHook {
    previous: Arc<Hook>,
}

impl PanicHook {
    fn install() -> Self {
        let previous: Arc<Hook> = Arc::new(std::panic::take_hook());
        let chained = Arc::clone(&previous);
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            chained(info);
        }));
        Self { previous }
    }

    /// Puts the hook that was there before back.
    fn uninstall(self) {
        let previous = self.previous;
        std::panic::set_hook(Box::new(move |info| previous(info)));
    }
}
