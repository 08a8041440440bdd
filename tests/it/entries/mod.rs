//! Desktop entries and autostart files, through the library API with explicit XDG
//! folders: the app fixtures of `tests/entries/` (read-only, as `$XDG_DATA_DIRS` and
//! `$XDG_CONFIG_DIRS`), a temporary user data and config home, every written file checked
//! by the real `desktop-file-validate`, and launch lines run by GLib's `gio launch`; and
//! the commands that manage them, as the test user runs them.

mod autostart;
mod cli;
mod desktop;
mod exec;
mod validate;
