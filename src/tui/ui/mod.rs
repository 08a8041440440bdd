//! Drawing: `impl Widget for &App` lays out the panes and each module draws one of them
//! from its component's state alone. Nothing here reads a file or the clock, and nothing
//! in the components or the app imports from here.

pub mod banner;
pub mod detail;
pub mod dialog;
pub mod editor;
pub mod footer;
pub mod help;
pub mod instance_view;
pub mod instances;
pub mod logs;
pub mod profiles;
pub mod theme;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::app::{App, Screen};
use super::components::messages::banner_height;
use super::components::Focus;
use super::layout;
use theme::Theme;

/// Below this size the panes cannot be drawn; a note asks for a larger terminal.
pub const MIN_WIDTH: u16 = 30;
pub const MIN_HEIGHT: u16 = 8;

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = Theme {
            color: self.config.color,
        };
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let text = format!("boxtop needs {MIN_WIDTH}x{MIN_HEIGHT}");
            for (index, line) in wrap(&text, area.width as usize)
                .into_iter()
                .take(area.height as usize)
                .enumerate()
            {
                buf.set_line(area.x, area.y + index as u16, &Line::raw(line), area.width);
            }
            return;
        }
        let banner = self.banner();
        let areas = layout::areas(area, banner_height(banner.as_ref(), area.width));
        render_header(self, areas.header, buf, &theme);
        if let (Some(rect), Some(message)) = (areas.banner, banner) {
            banner::render(&message, rect, buf, &theme);
        }
        match &self.screen {
            Screen::Main => {
                let profiles_focused = self.focus == Focus::Profiles;
                profiles::render(
                    &self.profiles,
                    &self.instances,
                    profiles_focused,
                    areas.profiles,
                    buf,
                    &theme,
                );
                detail::render(
                    self.profiles.selected_row(),
                    self.detail.scroll,
                    &self.instances,
                    &self.paths.home,
                    areas.detail,
                    buf,
                    &theme,
                );
                instances::render(
                    &self.instances,
                    !profiles_focused,
                    areas.instances,
                    buf,
                    &theme,
                );
            }
            Screen::Editor(editor) => editor::render(editor, &self.paths.home, &areas, buf, &theme),
            Screen::Logs(logs) => logs::render(&logs.view, areas.main, buf, &theme),
            Screen::Instance(view) => instance_view::render(view, areas.main, buf, &theme),
        }
        if let Some(dialog) = &self.dialog {
            dialog::render(dialog, &self.paths.home, areas.main, buf, &theme);
        }
        if let Some(scroll) = self.help.scroll {
            help::render(scroll, areas.main, buf, &theme);
        }
        footer::render(self.context(), areas.footer, buf, &theme);
    }
}

fn render_header(app: &App, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let counts = app.instances.counts();
    let (live, paused) = (counts.running, counts.paused);
    let broken = app
        .profiles
        .rows
        .iter()
        .filter(|row| row.error().is_some())
        .count();
    let mut spans = vec![
        Span::styled(" boxtop ", theme.header()),
        Span::raw(format!(" {} profiles", app.profiles.rows.len())),
    ];
    if broken > 0 {
        spans.push(Span::raw(", "));
        spans.push(Span::styled(
            format!("{broken} with errors"),
            theme.error_text(),
        ));
    }
    spans.push(Span::raw(format!(" · {live} running")));
    if paused > 0 {
        spans.push(Span::raw(format!(", {paused} paused")));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

pub use crate::tui::text::{fit, fit_right, wrap};

pub use crate::instance::status::{human_bytes, human_duration};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_helpers() {
        assert_eq!(fit("firefox", 4), "fir…");
        assert_eq!(fit("ab", 4), "ab  ");
        assert_eq!(fit_right("7", 3), "  7");
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(human_bytes(512), "512B");
        assert_eq!(human_bytes(3 << 20), "3.0M");
        assert_eq!(human_bytes(300 << 20), "300M");
        assert_eq!(human_duration(65), "1m05s");
        assert_eq!(human_duration(3 * 3600 + 120), "3h02m");
    }
}
