//! `?`: the help's lines (`components::help::lines`, from the key table) in a box.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use super::theme::Theme;
use crate::tui::components::help::{lines, HelpLine};

pub fn render(scroll: u16, area: Rect, buf: &mut Buffer, theme: &Theme) {
    Clear.render(area, buf);
    let block = Block::bordered()
        .title(Line::styled(" Keys · Esc closes ", theme.title()))
        .border_style(theme.border(true));
    let inner = block.inner(area);
    block.render(area, buf);
    let text: Vec<Line> = lines()
        .into_iter()
        .map(|line| match line {
            HelpLine::Title(title) => Line::styled(title, theme.title()),
            HelpLine::Key { label, what } => Line::from(vec![
                Span::styled(format!("  {label:<12}"), theme.header()),
                Span::raw(what),
            ]),
            HelpLine::Blank => Line::raw(""),
            HelpLine::Note(note) => Line::raw(note),
        })
        .collect();
    Paragraph::new(text).scroll((scroll, 0)).render(inner, buf);
}
