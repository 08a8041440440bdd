//! `desktop install` and `desktop remove`: boxtop's menu entry for a profile and, with
//! `--replace`, an entry under the app's own id that shadows the app's. Nothing boxtop
//! did not write (no `X-Boxtop-Profile` key) is ever overwritten or removed.

use std::path::{Path, PathBuf};

use super::error::EntriesError;
use super::footprint::{ensure_dir, remove_file, settle, write_if_changed};
use super::render::{check_exec, render_entry, Role};
use super::xdg::{find_entry, marker, normalize_id, paths_for_id, read_desktop_file, Env, Found};
use crate::profile::validate::is_valid_name;
use crate::profile::Profile;

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// `boxtop-NAME.desktop`.
    pub entry: PathBuf,
    /// The app's entry the names, icon and MIME types come from.
    pub original: Option<PathBuf>,
    /// The entry written under the app's own id (`--replace`), with that id.
    pub replacement: Option<(String, PathBuf)>,
    /// Earlier replacements of this profile, removed (an install without `--replace`, or
    /// an app whose id changed).
    pub unreplaced: Vec<PathBuf>,
    pub warnings: Vec<String>,
}

/// What `remove` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    pub removed: Vec<PathBuf>,
    /// Files in boxtop's places that boxtop did not write, left alone.
    pub left: Vec<PathBuf>,
    pub warnings: Vec<String>,
}

/// The name of boxtop's menu entry for a profile.
pub fn entry_file_name(profile: &str) -> String {
    format!("boxtop-{profile}.desktop")
}

/// The app's own entry for a profile: its id, and the file when the app has one here.
/// A file that cannot be read is a warning, and the app gets the generic entry.
pub fn app_entry(
    env: &Env,
    profile: &Profile,
    warnings: &mut Vec<String>,
) -> Result<(Option<String>, Option<Found>), EntriesError> {
    let Some(id) = &profile.desktop_file else {
        return Ok((None, None));
    };
    let id = normalize_id(id).ok_or_else(|| EntriesError::BadId {
        profile: profile.name.clone(),
        id: id.clone(),
    })?;
    let found = match find_entry(env, &id) {
        Ok(found) => found,
        Err(err) => {
            warnings.push(format!("the app's entry is left aside: {err}"));
            None
        }
    };
    if let Some(found) = &found {
        if let Some(problem) = check_exec(&found.file) {
            warnings.push(format!(
                "{}: `Exec` cannot be read ({problem}); the entry passes no files to the app",
                found.path.display()
            ));
        }
    }
    Ok((Some(id), found))
}

/// Refuses when `path` exists and is not boxtop's file for `profile`.
fn check_ours(path: &Path, profile: &str, hint: &str) -> Result<(), EntriesError> {
    if !path.exists() {
        return Ok(());
    }
    match read_desktop_file(path).ok().as_ref().and_then(marker) {
        Some(owner) if owner == profile => Ok(()),
        _ => Err(EntriesError::NotOurs {
            path: path.to_path_buf(),
            hint: hint.to_string(),
        }),
    }
}

/// Writes boxtop's menu entry for `profile` and, with `replace`, the entry under the
/// app's own id. Everything is checked before anything is written.
pub fn install(env: &Env, profile: &Profile, replace: bool) -> Result<Installed, EntriesError> {
    let mut warnings: Vec<String> = env.boxtop_path_warning().into_iter().collect();
    let (id, original) = app_entry(env, profile, &mut warnings)?;
    let apps = env.applications_dir();
    let entry = apps.join(entry_file_name(&profile.name));
    check_ours(
        &entry,
        &profile.name,
        &format!(
            "move it away, then run `boxtop desktop install {}` again",
            profile.name
        ),
    )?;
    let replacement = if replace {
        let id = id.ok_or_else(|| EntriesError::NothingToReplace {
            profile: profile.name.clone(),
        })?;
        if id.starts_with("boxtop-") {
            return Err(EntriesError::BadId {
                profile: profile.name.clone(),
                id,
            });
        }
        // Any user file of that id, also in a subfolder, would compete with boxtop's.
        for path in paths_for_id(&apps, &id) {
            match read_desktop_file(&path).ok().as_ref().and_then(marker) {
                Some(owner) if owner == profile.name => {}
                Some(other) => {
                    return Err(EntriesError::ReplacedByOther { path, id, other });
                }
                None => {
                    return Err(EntriesError::NotOurs {
                        path,
                        hint: format!(
                            "it is your own entry for {id}; move it away to let boxtop replace it, or install without --replace"
                        ),
                    })
                }
            }
        }
        Some((id.clone(), apps.join(&id)))
    } else {
        None
    };
    let stale: Vec<PathBuf> = super::marked_files(&apps)
        .into_iter()
        .filter(|marked| marked.profile == profile.name && marked.path != entry)
        .map(|marked| marked.path)
        .filter(|path| Some(path) != replacement.as_ref().map(|(_, path)| path))
        .collect();

    let original_file = original.as_ref().map(|found| &found.file);
    let role = if replacement.is_some() {
        Role::MenuBehindReplacement
    } else {
        Role::Menu
    };
    let entry_text = render_entry(profile, original_file, &env.boxtop, role)?;
    let replacement_text = replacement
        .as_ref()
        .map(|_| render_entry(profile, original_file, &env.boxtop, Role::Replacement))
        .transpose()?;
    ensure_dir(env, &apps)?;
    write_if_changed(&entry, &entry_text)?;
    if let (Some((_, path)), Some(text)) = (&replacement, &replacement_text) {
        write_if_changed(path, text)?;
    }
    for path in &stale {
        remove_file(path)?;
    }
    warnings.extend(settle(env, &apps, true)?);
    Ok(Installed {
        entry,
        original: original.map(|found| found.path),
        replacement,
        unreplaced: stale,
        warnings,
    })
}

/// Removes boxtop's entries for profile `name` (it may be gone already), which restores
/// the app's own entry where boxtop replaced it.
pub fn remove(env: &Env, name: &str) -> Result<Removed, EntriesError> {
    if !is_valid_name(name) {
        return Err(EntriesError::BadName {
            name: name.to_string(),
        });
    }
    let apps = env.applications_dir();
    let entry = apps.join(entry_file_name(name));
    let mut report = Removed::default();
    let marked = super::marked_files(&apps);
    if entry.exists() && !marked.iter().any(|m| m.path == entry && m.profile == name) {
        report.left.push(entry.clone());
    }
    for marked in marked.into_iter().filter(|marked| marked.profile == name) {
        remove_file(&marked.path)?;
        report.removed.push(marked.path);
    }
    if !report.removed.is_empty() {
        report.warnings = settle(env, &apps, true)?;
    }
    Ok(report)
}

/// What `install_all` did, profile by profile.
#[derive(Debug, Default)]
pub struct InstalledAll {
    pub installed: Vec<(String, Installed)>,
    /// Profiles whose app is not installed here.
    pub not_installed: Vec<String>,
    /// Other profiles left without an entry, and why.
    pub skipped: Vec<(String, String)>,
}

/// A menu entry for every profile whose app is installed here, as Firejail's `firecfg`
/// does; `remove_all` undoes it. Profiles that do not resolve, or whose app is missing,
/// are skipped with the reason; entries already there are rewritten as `install` would.
/// Replacements of the apps' own entries are left as they are (`desktop install NAME
/// --replace` makes them, one app at a time).
pub fn install_all(env: &Env, profiles: &crate::profile::ProfileSet) -> InstalledAll {
    let mut done = InstalledAll::default();
    let names: Vec<String> = profiles.entries().map(|entry| entry.name.clone()).collect();
    for name in names {
        let profile = match profiles.resolve(&name) {
            Ok(profile) => profile,
            Err(err) => {
                done.skipped.push((name, err.to_string()));
                continue;
            }
        };
        if !crate::sandbox::host::is_installed(&profile) {
            done.not_installed.push(name);
            continue;
        }
        let replace = super::marked_files(&env.applications_dir())
            .iter()
            .any(|marked| {
                marked.profile == name
                    && marked.path.file_name() != Some(entry_file_name(&name).as_ref())
            });
        match install(env, &profile, replace) {
            Ok(installed) => done.installed.push((name, installed)),
            Err(err) => done.skipped.push((name, err.to_string())),
        }
    }
    done
}

/// Removes every menu entry and replacement boxtop wrote, for all profiles, which gives
/// back the apps' own entries. Autostart files stay (`autostart disable NAME`).
pub fn remove_all(env: &Env) -> Result<Vec<(String, Removed)>, EntriesError> {
    let mut names: Vec<String> = super::marked_files(&env.applications_dir())
        .into_iter()
        .map(|marked| marked.profile)
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| is_valid_name(name))
        .map(|name| remove(env, &name).map(|removed| (name, removed)))
        .collect()
}
