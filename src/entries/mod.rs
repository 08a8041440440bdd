//! Desktop integration: menu entries (`.desktop` files) that start apps in their sandbox,
//! entries that take over an app's own id (`--replace`), and XDG autostart files; the
//! `boxtop desktop` and `boxtop autostart` commands.
//!
//! Layers, from the bottom: `desktop_file` (the file format) and `exec` (the `Exec`
//! command line), `xdg` (where files live, found through an explicit [`Env`]), `render`
//! (pure: profile + the app's own files -> text), then the commands that touch the disk
//! (`install`, `autostart`, `inventory`), and the messages here.

pub mod autostart;
pub mod desktop_file;
pub mod error;
pub mod exec;
pub mod footprint;
pub mod install;
pub mod installed;
pub mod inventory;
pub mod render;
pub mod suggest;
pub mod xdg;

use std::path::Path;
use std::process::ExitCode;

pub use autostart::{disable, enable, Disabled, Enabled};
pub use desktop_file::DesktopFile;
pub use error::EntriesError;
pub use install::{install, remove, Installed, Removed};
pub use inventory::{list, marked_files, sync, Kind, Listed, Marked, Synced};
pub use render::{render_autostart, render_entry, Role};
pub use xdg::Env;

use crate::escape;
use crate::paths::Paths;
use crate::profile::ProfileSet;
use crate::{errln, outln};

/// `boxtop desktop ...`
#[derive(Debug, clap::Subcommand)]
pub enum DesktopCommand {
    /// Add a menu entry that starts an app in its sandbox, with the name, icon and file
    /// types of the app's own entry.
    Install {
        /// The profile's name.
        name: String,
        /// Also take over the app's own entry, so that menus, xdg-open and file managers
        /// start the app sandboxed (`boxtop desktop remove` gives it back).
        #[arg(long)]
        replace: bool,
    },
    /// Remove boxtop's menu entries for a profile, giving back the app's own entry.
    Remove {
        /// The profile's name.
        name: String,
    },
    /// List the menu entries and autostart files boxtop wrote.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Rewrite boxtop's menu entries and autostart files (after a profile changed or
    /// boxtop moved), and remove those whose profile is gone.
    Sync,
}

/// `boxtop autostart ...`
#[derive(Debug, clap::Subcommand)]
pub enum AutostartCommand {
    /// Start an app in its sandbox at login.
    Enable {
        /// The profile's name.
        name: String,
    },
    /// Stop starting an app at login.
    Disable {
        /// The profile's name.
        name: String,
    },
}

fn warn(warnings: &[String]) {
    for warning in warnings {
        errln!("boxtop: warning: {warning}");
    }
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

/// Runs a `boxtop desktop` command and prints what it did.
pub fn run_desktop(cmd: DesktopCommand, paths: &Paths) -> anyhow::Result<ExitCode> {
    let env = Env::from_process(paths)?;
    let profiles = ProfileSet::load(&paths.user_profiles());
    match cmd {
        DesktopCommand::Install { name, replace } => {
            let profile = profiles.resolve(&name).map_err(EntriesError::from)?;
            let done = install(&env, &profile, replace)?;
            outln!("installed a menu entry for '{name}': {}", show(&done.entry));
            match (&done.original, &profile.desktop_file) {
                (Some(original), _) => outln!(
                    "  name, icon and file types from the app's entry {}",
                    show(original)
                ),
                (None, Some(id)) => {
                    outln!("  the app's entry {id} is not on this machine: generic name and icon")
                }
                (None, None) => {
                    outln!("  the profile names no desktop_file: generic name and icon")
                }
            }
            if let Some((id, path)) = &done.replacement {
                outln!(
                    "  replaces {id} ({}): menus, xdg-open and file managers start '{name}' sandboxed;",
                    show(path)
                );
                outln!("  `boxtop desktop remove {name}` gives back the app's own entry");
            }
            for path in &done.unreplaced {
                outln!(
                    "  no longer replaces the app's entry: removed {}",
                    show(path)
                );
            }
            if !crate::sandbox::host::is_installed(&profile) {
                errln!(
                    "boxtop: warning: the app of profile '{name}' is not installed here; the entry starts it once it is"
                );
            }
            warn(&done.warnings);
            Ok(ExitCode::SUCCESS)
        }
        DesktopCommand::Remove { name } => {
            let done = remove(&env, &name)?;
            for path in &done.removed {
                outln!("removed {}", show(path));
            }
            for path in &done.left {
                outln!(
                    "left {} alone: boxtop did not write it (no X-Boxtop-Profile key)",
                    show(path)
                );
            }
            if done.removed.is_empty() && done.left.is_empty() {
                outln!("boxtop has no menu entry for '{name}': nothing to remove");
            }
            warn(&done.warnings);
            Ok(ExitCode::SUCCESS)
        }
        DesktopCommand::List { json } => {
            let rows = list(&env, &profiles);
            if json {
                escape::out_json(&serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                outln!("boxtop wrote no menu entries and no autostart files");
            } else {
                outln!("{:<12} {:<20} {:<8} FILE", "KIND", "PROFILE", "PROFILE?");
                for row in &rows {
                    let exists = if row.profile_exists { "yes" } else { "gone" };
                    outln!(
                        "{:<12} {:<20} {:<8} {}",
                        row.kind.as_str(),
                        row.profile,
                        exists,
                        show(&row.path)
                    );
                }
                if rows.iter().any(|row| !row.profile_exists) {
                    outln!("`boxtop desktop sync` removes the files whose profile is gone");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DesktopCommand::Sync => {
            let done = sync(&env, &profiles)?;
            for path in &done.rewritten {
                outln!("rewrote {}", show(path));
            }
            for path in &done.removed {
                outln!("removed {} (its profile is gone)", show(path));
            }
            for (path, why) in &done.skipped {
                errln!("boxtop: {}: {why}", show(path));
            }
            outln!(
                "{} rewritten, {} up to date, {} removed, {} left as they are",
                done.rewritten.len(),
                done.unchanged.len(),
                done.removed.len(),
                done.skipped.len()
            );
            warn(&done.warnings);
            Ok(if done.skipped.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// Runs a `boxtop autostart` command and prints what it did.
pub fn run_autostart(cmd: AutostartCommand, paths: &Paths) -> anyhow::Result<ExitCode> {
    let env = Env::from_process(paths)?;
    match cmd {
        AutostartCommand::Enable { name } => {
            let profiles = ProfileSet::load(&paths.user_profiles());
            let profile = profiles.resolve(&name).map_err(EntriesError::from)?;
            let done = enable(&env, &profile)?;
            outln!(
                "'{name}' starts sandboxed at login: {}",
                show(&done.path)
            );
            if let Some(from) = &done.app_autostart {
                if !done.args.is_empty() {
                    outln!(
                        "  with {}, as the app's own {}",
                        done.args.join(" "),
                        show(from)
                    );
                }
            }
            if let Some(path) = &done.also_unsandboxed {
                outln!(
                    "  note: {} also starts the app at login, outside the sandbox: turn that off in the app's settings",
                    show(path)
                );
            }
            warn(&done.warnings);
        }
        AutostartCommand::Disable { name } => match disable(&env, &name)? {
            Disabled::Removed(path) => {
                outln!("'{name}' no longer starts at login: removed {}", show(&path))
            }
            Disabled::NotEnabled => outln!("'{name}' was not set to start at login"),
            Disabled::HiddenByUser(path) => outln!(
                "'{name}' already does not start at login: your {} turns it off (Hidden=true); left alone",
                show(&path)
            ),
        },
    }
    Ok(ExitCode::SUCCESS)
}
