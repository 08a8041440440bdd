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
    for (index, text) in screen_rows(view, inner.width as usize, height)
        .into_iter()
        .enumerate()
    {
        buf.set_line(inner.x, y + index as u16, &Line::raw(text), inner.width);
    }
}

/// The rows on screen: long lines wrapped (nothing is cut), the newest at the bottom when
/// following, else from the top line scrolled to.
fn screen_rows(view: &LogView, width: usize, height: usize) -> Vec<String> {
    let count = view.line_count();
    let mut rows: Vec<String> = Vec::new();
    if view.following {
        for index in (0..count).rev() {
            let mut wrapped = wrap_chars(view.line(index).unwrap_or_default(), width);
            wrapped.reverse();
            rows.extend(wrapped);
            if rows.len() >= height {
                break;
            }
        }
        rows.truncate(height);
        rows.reverse();
    } else {
        for index in view.visible_top(height)..count {
            rows.extend(wrap_chars(view.line(index).unwrap_or_default(), width));
            if rows.len() >= height {
                break;
            }
        }
        rows.truncate(height);
    }
    rows
}

/// `text` cut into rows of `width` characters (an empty line is one empty row).
fn wrap_chars(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width.max(1))
        .map(|chunk| chunk.iter().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_and_the_newest_row_is_at_the_bottom_when_following() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, format!("first\n{}\nlast\n", "x".repeat(25))).unwrap();
        let mut view = LogView::new("t".into(), path);
        view.read_new();
        let rows = screen_rows(&view, 10, 4);
        assert_eq!(rows, ["xxxxxxxxxx", "xxxxxxxxxx", "xxxxx", "last"]);
        view.following = false;
        view.top = 0;
        let rows = screen_rows(&view, 10, 3);
        assert_eq!(rows, ["first", "xxxxxxxxxx", "xxxxxxxxxx"]);
    }
}
