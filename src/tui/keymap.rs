//! Which key does what, where. The bindings are data: the same table maps keys to actions,
//! is what `?` shows, and gives the footer its buttons, so neither the help nor the
//! footer can disagree with the keys.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use ratatui::layout::Rect;

use super::action::Action;

/// Where the keyboard is: what the keys mean depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Keys that work in both lists.
    Lists,
    Profiles,
    Instances,
    /// Typing a filter for the profiles list.
    Filter,
    Editor,
    Prompt,
    /// A yes/no question.
    Confirm,
    Logs,
    /// The detail view of a running instance.
    Instance,
    Help,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Lists => "Both lists",
            Context::Profiles => "Profiles",
            Context::Instances => "Instances",
            Context::Filter => "Filter",
            Context::Editor => "Profile editor",
            Context::Prompt => "Text input",
            Context::Confirm => "Questions",
            Context::Logs => "Log view",
            Context::Instance => "Instance view",
            Context::Help => "This help",
        }
    }
}

/// One key (with Ctrl or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn key(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

pub struct Binding {
    pub context: Context,
    pub keys: &'static [Key],
    /// The keys as the help shows them.
    pub label: &'static str,
    pub what: &'static str,
    pub action: Action,
    /// Its button in the footer, if it has one.
    pub footer: Option<Button>,
}

/// A footer button: the key as shown on it, in short, and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Button {
    pub key: &'static str,
    pub what: &'static str,
    /// Only shown where the keyboard is in this context (a key of both lists that says
    /// where it goes).
    pub only_in: Option<Context>,
}

impl Binding {
    /// With a footer button.
    const fn footer(mut self, key: &'static str, what: &'static str) -> Self {
        self.footer = Some(Button {
            key,
            what,
            only_in: None,
        });
        self
    }

    /// With a footer button shown only in `context`.
    const fn footer_in(mut self, context: Context, key: &'static str, what: &'static str) -> Self {
        self.footer = Some(Button {
            key,
            what,
            only_in: Some(context),
        });
        self
    }
}

const fn bind(
    context: Context,
    keys: &'static [Key],
    label: &'static str,
    what: &'static str,
    action: Action,
) -> Binding {
    Binding {
        context,
        keys,
        label,
        what,
        action,
        footer: None,
    }
}

mod table;
pub use table::BINDINGS;
use Context as C;

/// The contexts whose bindings apply, most specific first.
fn layers(context: Context) -> &'static [Context] {
    match context {
        C::Profiles => &[C::Profiles, C::Lists],
        C::Instances => &[C::Instances, C::Lists],
        C::Lists => &[C::Lists],
        C::Filter => &[C::Filter],
        C::Editor => &[C::Editor],
        C::Prompt => &[C::Prompt],
        C::Confirm => &[C::Confirm],
        C::Logs => &[C::Logs],
        C::Instance => &[C::Instance],
        C::Help => &[C::Help],
    }
}

/// The action of a key press in a context, if any.
pub fn action_for_key(context: Context, event: KeyEvent) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let pressed = Key {
        code: match event.code {
            // Some terminals report Shift+letter as a lowercase letter with SHIFT.
            KeyCode::Char(c) if event.modifiers.contains(KeyModifiers::SHIFT) => {
                KeyCode::Char(c.to_ascii_uppercase())
            }
            code => code,
        },
        ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
    };
    let bound = layers(context).iter().find_map(|layer| {
        BINDINGS
            .iter()
            .filter(|binding| binding.context == *layer)
            .find(|binding| binding.keys.contains(&pressed))
            .map(|binding| binding.action.clone())
    });
    if bound.is_some() {
        return bound;
    }
    match (context, pressed) {
        (
            C::Filter | C::Prompt,
            Key {
                code: KeyCode::Char(c),
                ctrl: false,
            },
        ) => Some(Action::Input(c)),
        // Ctrl-C quits from anywhere but a running editor's own prompt.
        (_, key) if key == ctrl('c') => Some(Action::Quit),
        _ => None,
    }
}

/// The action of a mouse event: left clicks select, the wheel scrolls.
pub fn action_for_mouse(event: MouseEvent) -> Option<Action> {
    let (column, row) = (event.column, event.row);
    match event.kind {
        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click { column, row }),
        MouseEventKind::ScrollDown => Some(Action::Wheel {
            column,
            row,
            down: true,
        }),
        MouseEventKind::ScrollUp => Some(Action::Wheel {
            column,
            row,
            down: false,
        }),
        _ => None,
    }
}

/// The bindings of one context, for the help and the footer.
pub fn bindings(context: Context) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(move |binding| binding.context == context)
}

/// The footer's buttons where the keyboard is: those of the bindings that apply, most
/// specific first, in the table's order.
pub fn footer_buttons(context: Context) -> Vec<(Button, Action)> {
    // Both lists' keys are never the keyboard's place on their own; they show as the
    // profiles pane's.
    let context = match context {
        C::Lists => C::Profiles,
        other => other,
    };
    layers(context)
        .iter()
        .flat_map(|layer| bindings(*layer))
        .filter_map(|binding| {
            binding
                .footer
                .filter(|button| button.only_in.is_none_or(|only| only == context))
                .map(|button| (button, binding.action.clone()))
        })
        .collect()
}

/// The footer buttons that fit on the line `area`, with the column each starts at and
/// its width. Drawing and clicks both use it, so a click presses the button drawn there.
pub fn footer_placed(context: Context, area: Rect) -> Vec<(u16, u16, Button, Action)> {
    let mut x = area.x + 1;
    let mut placed = Vec::new();
    for (button, action) in footer_buttons(context) {
        let width = (button.key.chars().count() + 1 + button.what.chars().count()) as u16;
        if x + width > area.right() {
            break;
        }
        placed.push((x, width, button, action));
        x += width + 1;
    }
    placed
}

/// The action of the footer button under a click, if any.
pub fn footer_button_at(context: Context, area: Rect, column: u16, row: u16) -> Option<Action> {
    if row != area.y {
        return None;
    }
    footer_placed(context, area)
        .into_iter()
        .find(|(x, width, _, _)| column >= *x && column < x + width)
        .map(|(_, _, _, action)| action)
}

/// The keys the help lists, by context, in order.
pub const HELP_ORDER: &[Context] = &[
    C::Profiles,
    C::Instances,
    C::Lists,
    C::Filter,
    C::Editor,
    C::Prompt,
    C::Confirm,
    C::Logs,
    C::Help,
];

#[cfg(test)]
mod tests;
