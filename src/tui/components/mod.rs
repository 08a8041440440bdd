//! The TUI's parts, as gitui's components are: each owns its state and its update from
//! actions, and exposes what `ui` draws from. `App` holds them and routes actions by
//! where the user is; `ui` depends on them, never the reverse.

pub mod detail;
pub mod dialog;
pub mod editor;
pub mod help;
pub mod instance_view;
pub mod instances;
pub mod logs;
pub mod messages;
pub mod profiles;

use std::process::Command;

use ratatui::layout::Rect;

use crate::tui::action::Move;

/// Where the arrow keys go on the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Profiles,
    Instances,
}

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

/// A selection after a movement in a list of `count` rows, `page` of them on screen.
pub fn moved(selected: usize, count: usize, page: usize, movement: Move) -> usize {
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

/// Whether a click at `column`, `row` is inside `area`.
pub fn contains(area: Rect, column: u16, row: u16) -> bool {
    column >= area.x && column < area.right() && row >= area.y && row < area.bottom()
}
