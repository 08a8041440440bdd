//! `?`: every key, by where it works, straight from the key map.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use super::theme::Theme;
use crate::tui::keymap::{bindings, HELP_ORDER};

const MOUSE: &str = "Mouse: a click selects a row or presses a button; the wheel scrolls.";

fn lines<'a>(theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    for context in HELP_ORDER {
        lines.push(Line::styled(context.title(), theme.title()));
        for binding in bindings(*context) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<12}", binding.label), theme.header()),
                Span::raw(binding.what),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::raw(MOUSE));
    lines
}

/// How many lines the help has, to bound its scrolling.
pub fn line_count() -> usize {
    lines(&Theme { color: false }).len()
}

pub fn render(scroll: u16, area: Rect, buf: &mut Buffer, theme: &Theme) {
    Clear.render(area, buf);
    let block = Block::bordered()
        .title(Line::styled(" Keys · Esc closes ", theme.title()))
        .border_style(theme.border(true));
    let inner = block.inner(area);
    block.render(area, buf);
    Paragraph::new(lines(theme))
        .scroll((scroll, 0))
        .render(inner, buf);
}
