//! Desktop integration: menu entries (`.desktop` files) that start apps in their sandbox,
//! entries that take over an app's own id (`--replace`), and XDG autostart files.
//!
//! Layers, from the bottom: `desktop_file` (the file format) and `exec` (the `Exec`
//! command line), `xdg` (where files live, found through an explicit [`Env`]), `render`
//! (pure: profile + the app's own files -> text), then the commands that touch the disk
//! (`install`, `autostart`, `inventory`). The `boxtop desktop` and `boxtop autostart`
//! commands (clap and printing) are in the binary's `cli::entries`.

pub mod autostart;
pub mod desktop_file;
pub mod error;
pub mod exec;
pub mod footprint;
pub mod install;
pub mod installed;
pub mod inventory;
pub mod render;
pub mod shims;
pub mod suggest;
pub mod xdg;

pub use autostart::{disable, enable, Disabled, Enabled};
pub use desktop_file::DesktopFile;
pub use error::EntriesError;
pub use install::{install, remove, Installed, Removed};
pub use inventory::{list, marked_files, sync, Kind, Listed, Marked, Synced};
pub use render::{render_autostart, render_entry, Role};
pub use xdg::Env;
