//! `autostart enable` and `autostart disable`: `boxtop-NAME.desktop` in the user's
//! autostart folder (XDG Autostart), which starts a profile at login with the arguments
//! the app's own autostart file uses. A user's file of that name that boxtop did not
//! write (such as a `Hidden=true` override) is never touched.

use std::path::PathBuf;

use super::desktop_file::MAIN_GROUP;
use super::error::EntriesError;
use super::footprint::{ensure_dir, remove_file, settle, write_if_changed};
use super::install::{app_entry, entry_file_name};
use super::render::{autostart_args, render_autostart};
use super::xdg::{find_autostart, is_hidden, marker, read_desktop_file, Env};
use crate::profile::validate::is_valid_name;
use crate::profile::Profile;

/// What `enable` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enabled {
    pub path: PathBuf,
    /// The app's own autostart file, whose arguments are kept.
    pub app_autostart: Option<PathBuf>,
    /// Those arguments, as written in `Exec`.
    pub args: Vec<String>,
    /// The app's own autostart file that still starts it, unsandboxed, at login.
    pub also_unsandboxed: Option<PathBuf>,
    pub warnings: Vec<String>,
}

/// What `disable` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disabled {
    Removed(PathBuf),
    /// There was no autostart file for the profile.
    NotEnabled,
    /// The user's own `Hidden=true` file already turns it off; it is left alone.
    HiddenByUser(PathBuf),
}

fn user_file(env: &Env, name: &str) -> PathBuf {
    env.autostart_dir().join(entry_file_name(name))
}

/// Writes the autostart file of `profile`.
pub fn enable(env: &Env, profile: &Profile) -> Result<Enabled, EntriesError> {
    let path = user_file(env, &profile.name);
    if path.exists() {
        let existing = read_desktop_file(&path).ok();
        let owner = existing.as_ref().and_then(marker);
        if owner.as_deref() != Some(&profile.name) {
            if existing.as_ref().is_some_and(is_hidden) {
                return Err(EntriesError::HiddenOverride {
                    path,
                    profile: profile.name.clone(),
                });
            }
            return Err(EntriesError::NotOurs {
                path,
                hint: format!(
                    "move it away, then run `boxtop autostart enable {}` again",
                    profile.name
                ),
            });
        }
    }
    let mut warnings: Vec<String> = env.boxtop_path_warning().into_iter().collect();
    let (id, original) = app_entry(env, profile, &mut warnings)?;
    let app_autostart = match &id {
        Some(id) => find_autostart(env, id).unwrap_or_else(|err| {
            warnings.push(format!("the app's autostart file is left aside: {err}"));
            None
        }),
        None => None,
    };
    let original_file = original.as_ref().map(|found| &found.file);
    let app_autostart_file = app_autostart.as_ref().map(|found| &found.file);
    // Enabling turns it on: the switches of an earlier file are not kept.
    let text = render_autostart(
        profile,
        original_file,
        app_autostart_file,
        None,
        &env.boxtop,
    )?;
    let dir = env.autostart_dir();
    ensure_dir(env, &dir)?;
    write_if_changed(&path, &text)?;
    Ok(Enabled {
        path,
        args: autostart_args(original_file, app_autostart_file)
            .iter()
            .filter_map(|arg| arg.as_text())
            .collect(),
        app_autostart: app_autostart.map(|found| found.path),
        also_unsandboxed: id.and_then(|id| active_autostart(env, &id)),
        warnings,
    })
}

/// Removes the autostart file of profile `name` (which may be gone already).
pub fn disable(env: &Env, name: &str) -> Result<Disabled, EntriesError> {
    if !is_valid_name(name) {
        return Err(EntriesError::BadName {
            name: name.to_string(),
        });
    }
    let path = user_file(env, name);
    if !path.exists() {
        return Ok(Disabled::NotEnabled);
    }
    let existing = read_desktop_file(&path).ok();
    if existing.as_ref().and_then(marker).as_deref() == Some(name) {
        remove_file(&path)?;
        settle(env, &env.autostart_dir(), false)?;
        return Ok(Disabled::Removed(path));
    }
    if existing.as_ref().is_some_and(is_hidden) {
        return Ok(Disabled::HiddenByUser(path));
    }
    Err(EntriesError::NotOurs {
        path,
        hint: "it is your own autostart file: delete it or set Hidden=true in it to turn it off"
            .into(),
    })
}

/// The file of id `id` that desktops use at login when it starts the app: the first in
/// the autostart folders, unless it is hidden or turned off.
fn active_autostart(env: &Env, id: &str) -> Option<PathBuf> {
    let path = env
        .autostart_dirs()
        .into_iter()
        .map(|dir| dir.join(id))
        .find(|path| path.is_file())?;
    let file = read_desktop_file(&path).ok()?;
    let is_off = is_hidden(&file)
        || file.boolean(MAIN_GROUP, "X-GNOME-Autostart-enabled") == Some(false)
        || marker(&file).is_some();
    (!is_off).then_some(path)
}
