//! `boxtop desktop` and `boxtop autostart`: the commands as clap reads them, and what they
//! print; the work is done by the library's `entries`.

use std::path::Path;
use std::process::ExitCode;

use boxtop::entries::install::{install_all, remove_all};
use boxtop::entries::shims;
use boxtop::entries::{disable, enable, install, list, remove, sync, Disabled, EntriesError, Env};
use boxtop::escape;
use boxtop::json_output::Schema;
use boxtop::paths::Paths;
use boxtop::profile::ProfileSet;
use boxtop::{errln, outln};

/// `boxtop desktop ...`
#[derive(Debug, clap::Subcommand)]
pub enum DesktopCommand {
    /// Add a menu entry that starts an app in its sandbox, with the name and icon of the
    /// app's own entry (which app opens a file type changes only with --replace).
    Install {
        /// The profile's name.
        #[arg(required_unless_present = "all", add = super::complete::profile_names())]
        name: Option<String>,
        /// Also take over the app's own entry, so that menus, xdg-open and file managers
        /// start the app sandboxed (`boxtop desktop remove` gives it back).
        #[arg(long, conflicts_with = "all")]
        replace: bool,
        /// A menu entry for every profile whose app is installed here
        /// (`boxtop desktop remove --all` removes them all).
        #[arg(long, conflicts_with = "name")]
        all: bool,
        /// Also write ~/.local/bin/NAME wrappers, so that typing the app's name in a
        /// terminal starts it sandboxed too (removed with the entries; a file there
        /// that boxtop did not write is left alone).
        #[arg(long)]
        shims: bool,
    },
    /// Remove boxtop's menu entries (and shims) for a profile, giving back the app's own entry.
    Remove {
        /// The profile's name.
        #[arg(required_unless_present = "all", add = super::complete::profile_names())]
        name: Option<String>,
        /// Every menu entry boxtop wrote, for all profiles (autostart files stay).
        #[arg(long, conflicts_with = "name")]
        all: bool,
    },
    /// List the menu entries and autostart files boxtop wrote.
    List {
        /// Print JSON instead of a table (schema `boxtop.desktop-list`, documented in
        /// docs/json.md).
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
        #[arg(add = super::complete::profile_names())]
        name: String,
    },
    /// Stop starting an app at login.
    Disable {
        /// The profile's name.
        #[arg(add = super::complete::profile_names())]
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

/// Writes the shims of `names` and says what it did; why they may not run goes to
/// `warnings`.
fn install_shims(paths: &Paths, env: &Env, names: &[String], warnings: &mut Vec<String>) {
    let dir = shims::bin_dir(&paths.home);
    let done = shims::install(&dir, &env.boxtop, names);
    for path in &done.written {
        outln!("installed a shim: {}", show(path));
    }
    for (name, why) in &done.skipped {
        outln!("no shim for '{name}': {why}");
    }
    if !done.written.is_empty() {
        warnings.extend(shims::path_warning(
            &dir,
            std::env::var_os("PATH").as_deref(),
        ));
    }
}

/// Runs a `boxtop desktop` command and prints what it did.
pub fn run_desktop(cmd: DesktopCommand, paths: &Paths) -> anyhow::Result<ExitCode> {
    let env = Env::from_process(paths)?;
    let profiles = ProfileSet::load(&paths.user_profiles());
    match cmd {
        DesktopCommand::Install {
            all: true, shims, ..
        } => {
            let done = install_all(&env, &profiles);
            for (name, installed) in &done.installed {
                outln!(
                    "installed a menu entry for '{name}': {}",
                    show(&installed.entry)
                );
            }
            if !done.not_installed.is_empty() {
                outln!(
                    "no entry for {} profiles whose app is not installed here: {}",
                    done.not_installed.len(),
                    done.not_installed.join(", ")
                );
            }
            for (name, why) in &done.skipped {
                outln!("skipped '{name}': {why}");
            }
            outln!(
                "{} menu entries installed; `boxtop desktop remove --all` removes them",
                done.installed.len()
            );
            let mut warnings: Vec<String> = Vec::new();
            for (_, installed) in &done.installed {
                for warning in &installed.warnings {
                    if !warnings.contains(warning) {
                        warnings.push(warning.clone());
                    }
                }
            }
            if shims {
                let names: Vec<String> = done.installed.iter().map(|(n, _)| n.clone()).collect();
                install_shims(paths, &env, &names, &mut warnings);
            }
            warn(&warnings);
            Ok(ExitCode::SUCCESS)
        }
        DesktopCommand::Remove { all: true, .. } => {
            let done = remove_all(&env)?;
            let mut count = 0;
            for (_, removed) in &done {
                for path in &removed.removed {
                    outln!("removed {}", show(path));
                    count += 1;
                }
            }
            for path in shims::remove(&shims::bin_dir(&paths.home), None) {
                outln!("removed {}", show(&path));
                count += 1;
            }
            outln!("removed {count} files of {} profiles", done.len());
            Ok(ExitCode::SUCCESS)
        }
        DesktopCommand::Install {
            name: Some(name),
            replace,
            shims,
            ..
        } => {
            let profile = profiles.resolve(&name).map_err(EntriesError::from)?;
            let done = install(&env, &profile, replace)?;
            outln!("installed a menu entry for '{name}': {}", show(&done.entry));
            match (&done.original, &profile.desktop_file) {
                (Some(original), _) => outln!(
                    "  name and icon from the app's entry {} (its file types only with --replace)",
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
            if !boxtop::sandbox::host::is_installed(&profile) {
                errln!(
                    "boxtop: warning: the app of profile '{name}' is not installed here; the entry starts it once it is"
                );
            }
            let mut warnings = done.warnings.clone();
            if shims {
                install_shims(paths, &env, std::slice::from_ref(&name), &mut warnings);
            }
            warn(&warnings);
            Ok(ExitCode::SUCCESS)
        }
        DesktopCommand::Remove {
            name: Some(name), ..
        } => {
            let mut done = remove(&env, &name)?;
            done.removed
                .extend(shims::remove(&shims::bin_dir(&paths.home), Some(&name)));
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
        DesktopCommand::Install { name: None, .. } | DesktopCommand::Remove { name: None, .. } => {
            unreachable!("clap requires a name or --all")
        }
        DesktopCommand::List { json } => {
            let rows = list(&env, &profiles);
            if json {
                #[derive(serde::Serialize)]
                struct Entries<'a> {
                    entries: &'a [boxtop::entries::Listed],
                }
                escape::out_json(&Schema::DESKTOP_LIST.to_pretty(&Entries { entries: &rows })?);
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
