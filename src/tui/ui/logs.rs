//! The log view of one instance, following new lines unless scrolled up.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Widget};

use super::theme::Theme;
use crate::tui::follow::LogView;

pub fn render(view: &LogView, area: Rect, buf: &mut Buffer, theme: &Theme) {
    Clear.render(area, buf);
    let state = if view.following {
        "following"
    } else {
        "scrolled · End follows"
    };
    let block = Block::bordered()
        .title(Line::styled(
            format!(" Logs of {} · {state} ", view.title),
            theme.title(),
        ))
        .title_bottom(Line::styled(
            format!(" {} lines ", view.line_count()),
            theme.dim(),
        ))
        .border_style(theme.border(true));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 {
        return;
    }
    let mut y = inner.y;
    if let Some(error) = &view.error {
        buf.set_line(
            inner.x,
            y,
            &Line::styled(error.clone(), theme.error_text()),
            inner.width,
        );
        y += 1;
    } else if view.line_count() == 0 {
        buf.set_line(
            inner.x,
            y,
            &Line::styled("(empty so far)", theme.dim()),
            inner.width,
        );
    }
    let height = (inner.bottom() - y) as usize;
    let top = view.visible_top(inner.height as usize);
    for (index, line) in (top..view.line_count()).take(height).enumerate() {
        if let Some(text) = view.line(line) {
            buf.set_line(
                inner.x,
                y + index as u16,
                &Line::raw(text.to_string()),
                inner.width,
            );
        }
    }
}
