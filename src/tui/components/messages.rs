//! The banner's one message: the latest confirmation or error, else the trouble that
//! stays (a profile kept at its last good version, instances that cannot be read).

use crate::instance::status::Status;

use super::profiles::{ProfileRow, RowState};
use crate::tui::text::{fit, wrap};

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

/// The latest message; trouble that stays is worked out when the banner is drawn.
#[derive(Debug, Clone, Default)]
pub struct Messages {
    pub current: Option<Message>,
}

impl Messages {
    pub fn info(&mut self, text: String) {
        self.current = Some(Message {
            level: Level::Info,
            text,
            about: None,
        });
    }

    pub fn error(&mut self, text: String, about: Option<String>) {
        self.current = Some(Message {
            level: Level::Error,
            text,
            about,
        });
    }

    /// Esc: forgets the message; false when there was none.
    pub fn dismiss(&mut self) -> bool {
        self.current.take().is_some()
    }

    /// Forgets an error about a profile that is fine now: it has served its purpose.
    pub fn forget_fixed(&mut self, rows: &[ProfileRow]) {
        let Some(message) = &self.current else {
            return;
        };
        let fixed = message.about.as_ref().is_some_and(|about| {
            rows.iter()
                .any(|row| &row.name == about && matches!(row.state, RowState::Ok(_)))
        });
        if fixed && message.level == Level::Error {
            self.current = None;
        }
    }

    /// The banner: the latest message, else the first profile kept at its last good
    /// version, else the first trouble with instances.
    pub fn banner(
        &self,
        rows: &[ProfileRow],
        unreadable: &[String],
        instances: &[Status],
    ) -> Option<Message> {
        self.current
            .clone()
            .or_else(|| {
                rows.iter().find_map(|row| match &row.state {
                    RowState::Stale { error, .. } => Some(Message {
                        level: Level::Error,
                        text: format!("{}: keeping the last good version; {error}", row.name),
                        about: Some(row.name.clone()),
                    }),
                    _ => None,
                })
            })
            .or_else(|| {
                crate::tui::problems::banner_text(unreadable, instances).map(|text| Message {
                    level: Level::Error,
                    text,
                    about: None,
                })
            })
    }
}

/// The most lines a message takes.
const MAX_LINES: usize = 3;

/// The banner's lines for `message` at `width`: up to three, so that a reason (why a
/// launch failed, where a profile is wrong) is read whole.
pub fn banner_lines(message: &Message, width: u16) -> Vec<String> {
    let mark = match message.level {
        Level::Error => "✖",
        Level::Info => "✓",
    };
    let width = (width as usize).saturating_sub(4).max(1);
    let mut lines = wrap(&message.text, width);
    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES);
        let last = &mut lines[MAX_LINES - 1];
        *last = fit(&format!("{last} …"), width);
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(index, text)| {
            let lead = if index == 0 { mark } else { " " };
            format!(" {lead} {text}")
        })
        .collect()
}

/// How many lines the banner needs at this width (0 without a message).
pub fn banner_height(message: Option<&Message>, width: u16) -> u16 {
    message.map_or(0, |message| banner_lines(message, width).len() as u16)
}
