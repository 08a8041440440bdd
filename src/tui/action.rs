//! Everything that can change the TUI's state. Keys, mouse clicks, ticks, the profile
//! watcher and signals all become an `Action`, and `App::update` is the only place that
//! acts on one.

/// Where the user is moving in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    // Anywhere.
    Quit,
    ToggleHelp,
    /// Esc: close what is open, dismiss the message, clear the filter.
    Back,
    FocusNext,
    Move(Move),
    /// Scrolls the detail pane by this many lines (negative: up).
    ScrollDetail(i16),

    // The profiles pane.
    StartFilter,
    Launch,
    LaunchWithArgs,
    EditProfile,
    EditInEditor,
    NewProfile,
    NewFromSelected,
    /// Lists the installed apps that have no profile, to make one.
    AppsWithoutProfile,
    /// Lists every ended instance, or only the latest again.
    ToggleAllEnded,
    DeleteProfile,
    ToggleDesktopEntry,
    ToggleAutostart,

    // The instances pane.
    Stop,
    Kill,
    TogglePause,
    OpenLogs,
    EnterShell,
    /// The detail view of the selected instance: its grants now, and live changes.
    OpenInstance,

    // The instance view.
    ShareLive,
    UnshareLive,
    ToggleNetwork,
    SaveLive,
    OpenFile,

    // The profile editor.
    /// Cycles the selected grant's value backwards or forwards.
    Cycle(bool),
    /// Toggles, cycles forward, or adds, depending on the selected row.
    Activate,
    Add,
    Remove,
    Save,

    // Text input (filter and prompts).
    Input(char),
    Backspace,
    ClearInput,
    Complete,
    Submit,

    // A question (delete, discard changes).
    Answer(char),

    // Mouse.
    Click {
        column: u16,
        row: u16,
    },
    Wheel {
        column: u16,
        row: u16,
        down: bool,
    },

    // Events.
    Resize {
        width: u16,
        height: u16,
    },
    /// The refresh interval passed: instances, stats and followed logs are read again.
    Tick,
    /// A file in the user profiles folder changed.
    ProfilesChanged,
    /// A launch running in the background has ended.
    LaunchFinished,
    /// The editor or shell the TUI was suspended for has ended.
    Resumed {
        outcome: Result<(), String>,
    },
}
