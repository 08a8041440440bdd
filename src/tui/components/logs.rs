//! The log view of one instance: follows new lines unless scrolled up.

use std::path::PathBuf;

use crate::tui::action::{Action, Move};
use crate::tui::follow::LogView;

/// What the log view asks of the app after an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogsStep {
    Stay,
    Close,
    Help,
}

#[derive(Debug, Clone)]
pub struct Logs {
    pub view: LogView,
}

impl Logs {
    /// The log at `path`, read up to now.
    pub fn open(title: String, path: PathBuf) -> Self {
        let mut view = LogView::new(title, path);
        view.read_new();
        Self { view }
    }

    /// Reads the lines written since the last look.
    pub fn tick(&mut self) {
        self.view.read_new();
    }

    /// `height` is the number of log lines on screen.
    pub fn update(&mut self, action: Action, height: usize) -> LogsStep {
        let view = &mut self.view;
        let page = height.max(1) as isize;
        match action {
            Action::Back | Action::Quit => return LogsStep::Close,
            Action::ToggleHelp => return LogsStep::Help,
            Action::Move(Move::Up) => view.scroll(-1, height),
            Action::Move(Move::Down) => view.scroll(1, height),
            Action::Move(Move::PageUp) => view.scroll(-page, height),
            Action::Move(Move::PageDown) => view.scroll(page, height),
            Action::Move(Move::First) => view.to_start(),
            Action::Move(Move::Last) => view.follow(),
            _ => {}
        }
        LogsStep::Stay
    }
}
