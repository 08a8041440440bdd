//! The table of every key binding: which key does what in which context, what the help
//! says of it, and the footer button it has. `keymap` reads it for keys, help and footer.

use crossterm::event::KeyCode;

use super::{bind, ch, ctrl, key, Binding, Context};
use crate::tui::action::{Action, Move};

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
