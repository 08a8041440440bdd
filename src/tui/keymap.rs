//! Which key does what, where. The bindings are data: the same table maps keys to actions,
//! is what `?` shows, and gives the footer its buttons, so neither the help nor the
//! footer can disagree with the keys.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use ratatui::layout::Rect;

use super::action::{Action, Move};

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

use Context as C;

/// Every key binding, in the order the help shows them.
pub const BINDINGS: &[Binding] = &[
    bind(
        C::Lists,
        &[key(KeyCode::Up), ch('k')],
        "↑ k",
        "previous row",
        Action::Move(Move::Up),
    ),
    bind(
        C::Lists,
        &[key(KeyCode::Down), ch('j')],
        "↓ j",
        "next row",
        Action::Move(Move::Down),
    ),
    bind(
        C::Lists,
        &[key(KeyCode::PageUp)],
        "PgUp",
        "page up",
        Action::Move(Move::PageUp),
    ),
    bind(
        C::Lists,
        &[key(KeyCode::PageDown)],
        "PgDn",
        "page down",
        Action::Move(Move::PageDown),
    ),
    bind(
        C::Lists,
        &[key(KeyCode::Home), ch('g')],
        "Home g",
        "first row",
        Action::Move(Move::First),
    ),
    bind(
        C::Lists,
        &[key(KeyCode::End), ch('G')],
        "End G",
        "last row",
        Action::Move(Move::Last),
    ),
    bind(
        C::Lists,
        &[key(KeyCode::Tab), key(KeyCode::BackTab)],
        "Tab",
        "switch between profiles and instances",
        Action::FocusNext,
    )
    .footer_in(C::Instances, "Tab", "profiles"),
    bind(
        C::Lists,
        &[ch('J')],
        "J",
        "scroll the details down",
        Action::ScrollDetail(3),
    ),
    bind(
        C::Lists,
        &[ch('K')],
        "K",
        "scroll the details up",
        Action::ScrollDetail(-3),
    ),
    bind(
        C::Lists,
        &[ch('?'), key(KeyCode::F(1))],
        "? F1",
        "show every key",
        Action::ToggleHelp,
    )
    .footer("?", "help"),
    bind(
        C::Lists,
        &[key(KeyCode::Esc)],
        "Esc",
        "dismiss the message, clear the filter",
        Action::Back,
    ),
    bind(
        C::Lists,
        &[ch('q'), ctrl('c')],
        "q Ctrl-C",
        "quit (sandboxes keep running)",
        Action::Quit,
    )
    .footer("q", "quit"),
    bind(
        C::Profiles,
        &[key(KeyCode::Enter)],
        "Enter",
        "launch the profile",
        Action::Launch,
    )
    .footer("⏎", "launch"),
    bind(
        C::Profiles,
        &[ch('a')],
        "a",
        "launch with extra arguments",
        Action::LaunchWithArgs,
    )
    .footer("a", "args"),
    bind(
        C::Profiles,
        &[ch('e')],
        "e",
        "edit the permissions here",
        Action::EditProfile,
    )
    .footer("e", "edit"),
    bind(
        C::Profiles,
        &[ch('E')],
        "E",
        "open the file in $VISUAL or $EDITOR",
        Action::EditInEditor,
    )
    .footer("E", "$EDITOR"),
    bind(
        C::Profiles,
        &[ch('n')],
        "n",
        "new profile: for an installed app, or from the template",
        Action::NewProfile,
    )
    .footer("n", "new"),
    bind(
        C::Profiles,
        &[ch('c')],
        "c",
        "new profile based on this one",
        Action::NewFromSelected,
    )
    .footer("c", "copy"),
    bind(
        C::Profiles,
        &[ch('i')],
        "i",
        "installed apps with no profile: make one",
        Action::AppsWithoutProfile,
    ),
    bind(
        C::Profiles,
        &[ch('D'), key(KeyCode::Delete)],
        "D Del",
        "delete a user profile (asks first)",
        Action::DeleteProfile,
    )
    .footer("D", "delete"),
    bind(
        C::Profiles,
        &[ch('m')],
        "m",
        "menu entry on/off (starts it sandboxed)",
        Action::ToggleDesktopEntry,
    ),
    bind(
        C::Profiles,
        &[ch('A')],
        "A",
        "start at login on/off",
        Action::ToggleAutostart,
    ),
    bind(
        C::Profiles,
        &[ch('/')],
        "/",
        "filter by name or description",
        Action::StartFilter,
    )
    .footer("/", "filter"),
    bind(
        C::Instances,
        &[ch('s')],
        "s",
        "stop (the app may save its work)",
        Action::Stop,
    )
    .footer("s", "stop"),
    bind(C::Instances, &[ch('X')], "X", "kill at once", Action::Kill).footer("X", "kill"),
    bind(
        C::Instances,
        &[ch('p')],
        "p",
        "pause or resume",
        Action::TogglePause,
    )
    .footer("p", "pause/resume"),
    bind(
        C::Instances,
        &[ch('l'), key(KeyCode::Enter)],
        "l Enter",
        "show the logs, following new lines",
        Action::OpenLogs,
    )
    .footer("l", "logs"),
    bind(
        C::Instances,
        &[ch('a')],
        "a",
        "all ended instances, or only the 5 latest",
        Action::ToggleAllEnded,
    ),
    bind(
        C::Instances,
        &[ch('t')],
        "t",
        "open a shell inside (the TUI comes back when it exits)",
        Action::EnterShell,
    )
    .footer("t", "shell"),
    bind(
        C::Instances,
        &[ch('i')],
        "i",
        "what it may reach now, and live changes (share, network)",
        Action::OpenInstance,
    )
    .footer("i", "grants"),
    bind(
        C::Filter,
        &[key(KeyCode::Enter)],
        "Enter",
        "keep the filter",
        Action::Submit,
    )
    .footer("⏎", "keep filter"),
    bind(
        C::Filter,
        &[key(KeyCode::Esc)],
        "Esc",
        "clear the filter",
        Action::Back,
    )
    .footer("Esc", "clear"),
    bind(
        C::Filter,
        &[key(KeyCode::Backspace)],
        "Backspace",
        "delete a character",
        Action::Backspace,
    ),
    bind(
        C::Filter,
        &[ctrl('u')],
        "Ctrl-U",
        "clear",
        Action::ClearInput,
    ),
    bind(
        C::Filter,
        &[key(KeyCode::Up)],
        "↑",
        "previous row",
        Action::Move(Move::Up),
    ),
    bind(
        C::Filter,
        &[key(KeyCode::Down)],
        "↓",
        "next row",
        Action::Move(Move::Down),
    ),
    bind(
        C::Editor,
        &[key(KeyCode::Up), ch('k')],
        "↑ k",
        "previous setting",
        Action::Move(Move::Up),
    ),
    bind(
        C::Editor,
        &[key(KeyCode::Down), ch('j')],
        "↓ j",
        "next setting",
        Action::Move(Move::Down),
    ),
    bind(
        C::Editor,
        &[key(KeyCode::PageUp)],
        "PgUp",
        "page up",
        Action::Move(Move::PageUp),
    ),
    bind(
        C::Editor,
        &[key(KeyCode::PageDown)],
        "PgDn",
        "page down",
        Action::Move(Move::PageDown),
    ),
    bind(
        C::Editor,
        &[key(KeyCode::Home), ch('g')],
        "Home g",
        "first setting",
        Action::Move(Move::First),
    ),
    bind(
        C::Editor,
        &[key(KeyCode::End), ch('G')],
        "End G",
        "last setting",
        Action::Move(Move::Last),
    ),
    bind(
        C::Editor,
        &[key(KeyCode::Left), ch('h')],
        "← h",
        "previous value",
        Action::Cycle(false),
    ),
    bind(
        C::Editor,
        &[key(KeyCode::Right), ch('l')],
        "→ l",
        "next value",
        Action::Cycle(true),
    )
    .footer("←→", "change"),
    bind(
        C::Editor,
        &[ch(' '), key(KeyCode::Enter)],
        "Space Enter",
        "toggle, or switch a share ro/rw",
        Action::Activate,
    )
    .footer("␣", "toggle"),
    bind(
        C::Editor,
        &[ch('a')],
        "a",
        "add a share, D-Bus name or variable",
        Action::Add,
    )
    .footer("a", "add"),
    bind(
        C::Editor,
        &[ch('d'), key(KeyCode::Delete)],
        "d Del",
        "remove the selected entry",
        Action::Remove,
    )
    .footer("d", "remove"),
    bind(
        C::Editor,
        &[ch('s'), ctrl('s')],
        "s Ctrl-S",
        "save (a bundled profile becomes your override)",
        Action::Save,
    )
    .footer("s", "save"),
    bind(
        C::Editor,
        &[ch('?'), key(KeyCode::F(1))],
        "? F1",
        "show every key",
        Action::ToggleHelp,
    )
    .footer("?", "help"),
    bind(
        C::Editor,
        &[key(KeyCode::Esc), ch('q')],
        "Esc q",
        "close (asks when there are unsaved changes)",
        Action::Back,
    )
    .footer("Esc", "close"),
    bind(
        C::Prompt,
        &[key(KeyCode::Enter)],
        "Enter",
        "accept",
        Action::Submit,
    )
    .footer("⏎", "accept"),
    bind(
        C::Prompt,
        &[key(KeyCode::Up)],
        "↑",
        "previous app (new profile)",
        Action::Move(Move::Up),
    ),
    bind(
        C::Prompt,
        &[key(KeyCode::Down)],
        "↓",
        "next app (new profile)",
        Action::Move(Move::Down),
    ),
    bind(
        C::Prompt,
        &[key(KeyCode::Tab)],
        "Tab",
        "complete a folder, a path or an app",
        Action::Complete,
    )
    .footer("Tab", "complete"),
    bind(
        C::Prompt,
        &[key(KeyCode::Backspace)],
        "Backspace",
        "delete a character",
        Action::Backspace,
    ),
    bind(
        C::Prompt,
        &[ctrl('u')],
        "Ctrl-U",
        "clear",
        Action::ClearInput,
    ),
    bind(
        C::Prompt,
        &[key(KeyCode::Esc)],
        "Esc",
        "cancel",
        Action::Back,
    )
    .footer("Esc", "cancel"),
    bind(C::Confirm, &[ch('y')], "y", "yes", Action::Answer('y')).footer("y", "yes"),
    bind(
        C::Confirm,
        &[ch('h')],
        "h",
        "delete the profile and its private home too",
        Action::Answer('h'),
    ),
    bind(
        C::Confirm,
        &[ch('n'), key(KeyCode::Esc)],
        "n Esc",
        "no",
        Action::Answer('n'),
    )
    .footer("n", "no"),
    bind(
        C::Logs,
        &[key(KeyCode::Up), ch('k')],
        "↑ k",
        "scroll up (stops following)",
        Action::Move(Move::Up),
    )
    .footer("↑↓", "scroll"),
    bind(
        C::Logs,
        &[key(KeyCode::Down), ch('j')],
        "↓ j",
        "scroll down",
        Action::Move(Move::Down),
    ),
    bind(
        C::Logs,
        &[key(KeyCode::PageUp)],
        "PgUp",
        "page up",
        Action::Move(Move::PageUp),
    ),
    bind(
        C::Logs,
        &[key(KeyCode::PageDown)],
        "PgDn",
        "page down",
        Action::Move(Move::PageDown),
    ),
    bind(
        C::Logs,
        &[key(KeyCode::Home), ch('g')],
        "Home g",
        "first line",
        Action::Move(Move::First),
    ),
    bind(
        C::Logs,
        &[key(KeyCode::End), ch('G'), ch('f')],
        "End G f",
        "last line, following new ones",
        Action::Move(Move::Last),
    )
    .footer("End", "follow"),
    bind(
        C::Logs,
        &[key(KeyCode::Esc), ch('q')],
        "Esc q",
        "close",
        Action::Back,
    )
    .footer("Esc", "close"),
    bind(
        C::Instance,
        &[key(KeyCode::Up), ch('k')],
        "↑ k",
        "previous row",
        Action::Move(Move::Up),
    ),
    bind(
        C::Instance,
        &[key(KeyCode::Down), ch('j')],
        "↓ j",
        "next row",
        Action::Move(Move::Down),
    ),
    bind(
        C::Instance,
        &[ch('+'), ch('a')],
        "+ a",
        "share a folder of your home with it now (Tab completes)",
        Action::ShareLive,
    )
    .footer("+", "share"),
    bind(
        C::Instance,
        &[ch('-'), ch('u')],
        "- u",
        "take the selected share back (a file it has open stays open to it)",
        Action::UnshareLive,
    )
    .footer("-", "unshare"),
    bind(
        C::Instance,
        &[ch('n')],
        "n",
        "network: none ⇄ isolated (its connections die when cut off)",
        Action::ToggleNetwork,
    )
    .footer("n", "network"),
    bind(
        C::Instance,
        &[ch('w')],
        "w",
        "save the selected live share into the profile (comments kept)",
        Action::SaveLive,
    )
    .footer("w", "save"),
    bind(
        C::Instance,
        &[ch('o')],
        "o",
        "open a file in this instance (shared with it if it does not see it)",
        Action::OpenFile,
    )
    .footer("o", "open file"),
    bind(
        C::Instance,
        &[key(KeyCode::Esc), ch('q')],
        "Esc q",
        "close",
        Action::Back,
    )
    .footer("Esc", "close"),
    bind(
        C::Help,
        &[key(KeyCode::Up), ch('k')],
        "↑ k",
        "scroll up",
        Action::Move(Move::Up),
    ),
    bind(
        C::Help,
        &[key(KeyCode::Down), ch('j')],
        "↓ j",
        "scroll down",
        Action::Move(Move::Down),
    ),
    bind(
        C::Help,
        &[key(KeyCode::PageUp)],
        "PgUp",
        "page up",
        Action::Move(Move::PageUp),
    ),
    bind(
        C::Help,
        &[key(KeyCode::PageDown), ch(' ')],
        "PgDn Space",
        "page down",
        Action::Move(Move::PageDown),
    ),
    bind(
        C::Help,
        &[key(KeyCode::Esc), ch('q'), ch('?')],
        "Esc q ?",
        "close",
        Action::ToggleHelp,
    )
    .footer("Esc", "close"),
];

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
