//! The banner under the title: the latest error or confirmation, on up to three lines so
//! that a reason (why a launch failed, where a profile is wrong) is read whole.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::theme::Theme;
use super::{fit, wrap};
use crate::tui::app::{Level, Message};

/// The most lines a message takes.
const MAX_LINES: usize = 3;

fn lines(message: &Message, width: u16) -> Vec<String> {
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
pub fn height(message: Option<&Message>, width: u16) -> u16 {
    message.map_or(0, |message| lines(message, width).len() as u16)
}

pub fn render(message: &Message, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let style = match message.level {
        Level::Error => theme.error_banner(),
        Level::Info => theme.info_banner(),
    };
    for (index, text) in lines(message, area.width)
        .into_iter()
        .take(area.height as usize)
        .enumerate()
    {
        let text = fit(&text, area.width as usize);
        buf.set_line(
            area.x,
            area.y + index as u16,
            &Line::styled(text, style),
            area.width,
        );
    }
}
