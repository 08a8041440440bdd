//! Colours and emphasis. With NO_COLOR set, nothing is coloured: meaning stays in the
//! words (risk badges are spelled out) and in bold and reversed text.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

use crate::profile::risk::Risk;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn pick(&self, colored: Style, plain: Style) -> Style {
        if self.color {
            colored
        } else {
            plain
        }
    }

    pub fn risk(&self, risk: Risk) -> Style {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        match risk {
            Risk::Low => self.pick(Style::new().fg(Color::Green), Style::new()),
            Risk::Medium => self.pick(Style::new().fg(Color::Yellow), Style::new()),
            Risk::High => self.pick(bold.fg(Color::LightRed), bold),
            Risk::Critical => self.pick(bold.fg(Color::White).bg(Color::Red), bold),
        }
    }

    pub fn broken(&self) -> Style {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        self.pick(bold.fg(Color::Magenta), bold)
    }

    pub fn error_text(&self) -> Style {
        self.pick(Style::new().fg(Color::LightRed), Style::new())
    }

    pub fn error_banner(&self) -> Style {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        self.pick(
            bold.fg(Color::White).bg(Color::Red),
            bold.add_modifier(Modifier::REVERSED),
        )
    }

    pub fn info_banner(&self) -> Style {
        self.pick(Style::new().fg(Color::Black).bg(Color::Green), Style::new())
    }

    pub fn dim(&self) -> Style {
        self.pick(Style::new().fg(Color::DarkGray), Style::new())
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn header(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    pub fn selected(&self, focused: bool) -> Style {
        if focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            self.pick(
                Style::new().bg(Color::DarkGray),
                Style::new().add_modifier(Modifier::BOLD),
            )
        }
    }

    /// A selected row. On the grey bar of an unfocused list, text in the dim grey (an
    /// ended instance's state, a profile's "none" badge) would vanish: it takes the
    /// terminal's text colour instead.
    pub fn highlight<'a>(&self, mut line: Line<'a>, focused: bool) -> Line<'a> {
        let style = self.selected(focused);
        if let Some(bar) = style.bg {
            for span in &mut line.spans {
                if span.style.fg == Some(bar) {
                    span.style.fg = None;
                }
            }
        }
        line.patch_style(style)
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.pick(
                Style::new().fg(Color::Cyan),
                Style::new().add_modifier(Modifier::BOLD),
            )
        } else {
            Style::new()
        }
    }

    pub fn key(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Black).bg(Color::Cyan),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }
}

/// The words of a risk badge, 8 wide.
pub fn badge(risk: Option<Risk>) -> &'static str {
    match risk {
        None => "  none  ",
        Some(Risk::Low) => "  LOW   ",
        Some(Risk::Medium) => " MEDIUM ",
        Some(Risk::High) => "  HIGH  ",
        Some(Risk::Critical) => "CRITICAL",
    }
}
