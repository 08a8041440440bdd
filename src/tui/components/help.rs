//! `?`: every key, by where it works, straight from the key table; open or closed, and
//! how far it is scrolled.

use crate::tui::action::{Action, Move};
use crate::tui::keymap::{bindings, HELP_ORDER};

const MOUSE: &str = "Mouse: a click selects a row or presses a button; the wheel scrolls.";

/// One line of the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpLine {
    /// Where the keys below work.
    Title(&'static str),
    Key {
        label: &'static str,
        what: &'static str,
    },
    Blank,
    Note(&'static str),
}

/// The help's lines, from the key table.
pub fn lines() -> Vec<HelpLine> {
    let mut lines = Vec::new();
    for context in HELP_ORDER {
        lines.push(HelpLine::Title(context.title()));
        for binding in bindings(*context) {
            lines.push(HelpLine::Key {
                label: binding.label,
                what: binding.what,
            });
        }
    }
    lines.push(HelpLine::Blank);
    lines.push(HelpLine::Note(MOUSE));
    lines
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Help {
    /// The scroll position, when the help is shown.
    pub scroll: Option<u16>,
}

impl Help {
    pub fn is_open(&self) -> bool {
        self.scroll.is_some()
    }

    pub fn open(&mut self) {
        self.scroll = Some(0);
    }

    /// `page` is the number of help lines on screen.
    pub fn update(&mut self, action: Action, page: u16) {
        let Some(scroll) = self.scroll else { return };
        self.scroll = match action {
            Action::ToggleHelp | Action::Back | Action::Quit => None,
            Action::Move(Move::Up) => Some(scroll.saturating_sub(1)),
            Action::Move(Move::Down) => Some(scroll.saturating_add(1)),
            Action::Move(Move::PageUp) => Some(scroll.saturating_sub(page)),
            Action::Move(Move::PageDown) => Some(scroll.saturating_add(page)),
            Action::Move(Move::First) => Some(0),
            Action::Move(Move::Last) => Some(u16::MAX),
            _ => Some(scroll),
        };
        if let Some(scroll) = &mut self.scroll {
            let most = lines().len().saturating_sub(page as usize) as u16;
            *scroll = (*scroll).min(most);
        }
    }
}
