//! The banner under the title: the message `components::messages` chose, on the lines it
//! wraps it to.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::fit;
use super::theme::Theme;
use crate::tui::components::messages::{banner_lines, Level, Message};

pub fn render(message: &Message, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let style = match message.level {
        Level::Error => theme.error_banner(),
        Level::Info => theme.info_banner(),
    };
    for (index, text) in banner_lines(message, area.width)
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
