//! The bottom line: buttons for the main keys of where the user is, from the key table
//! (`keymap::footer_placed`). A click on one does what its key does.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::tui::keymap::{footer_placed, Context};

pub fn render(context: Context, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let mut spans = vec![Span::raw(" ")];
    for (_, _, button, _) in footer_placed(context, area) {
        spans.push(Span::styled(button.key, theme.key()));
        spans.push(Span::raw(format!(" {} ", button.what)));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}
