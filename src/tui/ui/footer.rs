//! The bottom line: buttons for the main keys of where the user is. A click on one does
//! what its key does.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::tui::action::{Action, Move};
use crate::tui::app::App;
use crate::tui::keymap::Context;

/// One button: the key as shown, what it does, the action it sends.
type Button = (&'static str, &'static str, Action);

fn buttons(context: Context) -> Vec<Button> {
    match context {
        Context::Profiles | Context::Lists => vec![
            ("⏎", "launch", Action::Launch),
            ("a", "args", Action::LaunchWithArgs),
            ("e", "edit", Action::EditProfile),
            ("E", "$EDITOR", Action::EditInEditor),
            ("n", "new", Action::NewProfile),
            ("c", "copy", Action::NewFromSelected),
            ("D", "delete", Action::DeleteProfile),
            ("/", "filter", Action::StartFilter),
            ("?", "help", Action::ToggleHelp),
            ("q", "quit", Action::Quit),
        ],
        Context::Instances => vec![
            ("s", "stop", Action::Stop),
            ("X", "kill", Action::Kill),
            ("p", "pause/resume", Action::TogglePause),
            ("l", "logs", Action::OpenLogs),
            ("t", "shell", Action::EnterShell),
            ("Tab", "profiles", Action::FocusNext),
            ("?", "help", Action::ToggleHelp),
            ("q", "quit", Action::Quit),
        ],
        Context::Filter => vec![
            ("⏎", "keep filter", Action::Submit),
            ("Esc", "clear", Action::Back),
        ],
        Context::Editor => vec![
            ("←→", "change", Action::Cycle(true)),
            ("␣", "toggle", Action::Activate),
            ("a", "add", Action::Add),
            ("d", "remove", Action::Remove),
            ("s", "save", Action::Save),
            ("?", "help", Action::ToggleHelp),
            ("Esc", "close", Action::Back),
        ],
        Context::Prompt => vec![
            ("⏎", "accept", Action::Submit),
            ("Tab", "complete", Action::Complete),
            ("Esc", "cancel", Action::Back),
        ],
        Context::Confirm => vec![
            ("y", "yes", Action::Answer('y')),
            ("n", "no", Action::Answer('n')),
        ],
        Context::Logs => vec![
            ("↑↓", "scroll", Action::Move(Move::Up)),
            ("End", "follow", Action::Move(Move::Last)),
            ("Esc", "close", Action::Back),
        ],
        Context::Help => vec![("Esc", "close", Action::ToggleHelp)],
    }
}

/// The buttons that fit on the line, with the column each starts at.
fn placed(context: Context, area: Rect) -> Vec<(u16, u16, Button)> {
    let mut x = area.x + 1;
    let mut placed = Vec::new();
    for button in buttons(context) {
        let width = (button.0.chars().count() + 1 + button.1.chars().count()) as u16;
        if x + width > area.right() {
            break;
        }
        placed.push((x, width, button));
        x += width + 1;
    }
    placed
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let mut spans = vec![Span::raw(" ")];
    for (_, _, (key, what, _)) in placed(app.context(), area) {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {what} ")));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

/// The action of the button under a click, if any.
pub fn button_at(app: &App, area: Rect, column: u16, row: u16) -> Option<Action> {
    if row != area.y {
        return None;
    }
    placed(app.context(), area)
        .into_iter()
        .find(|(x, width, _)| column >= *x && column < x + width)
        .map(|(_, _, (_, _, action))| action)
}
