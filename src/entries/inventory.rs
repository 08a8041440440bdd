//! The files boxtop wrote, found by their marker: `desktop list` shows them, `desktop
//! sync` rewrites them for the current profiles and boxtop path and removes those whose
//! profile is gone.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::desktop_file::{DesktopFile, MAIN_GROUP};
use super::error::EntriesError;
use super::footprint::{remove_file, settle, write_if_changed};
use super::install::{app_entry, entry_file_name};
use super::render::{render_autostart, render_entry, Role};
use super::xdg::{find_autostart, find_entry, marker, Env, FORMAT_VERSION, VERSION_KEY};
use crate::profile::ProfileSet;

/// What a file of boxtop's is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `boxtop-NAME.desktop` in the applications folder.
    Menu,
    /// An entry under the app's own id (`desktop install --replace`).
    Replacement,
    /// `boxtop-NAME.desktop` in the autostart folder.
    Autostart,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Menu => "menu",
            Kind::Replacement => "replacement",
            Kind::Autostart => "autostart",
        }
    }
}

/// A file that carries boxtop's marker.
#[derive(Debug, Clone)]
pub struct Marked {
    pub path: PathBuf,
    pub profile: String,
    /// `X-Boxtop-Version`, when it is a number.
    pub version: Option<u32>,
    pub file: DesktopFile,
}

/// The `*.desktop` files directly in `dir` that boxtop wrote, sorted by path. A file
/// that cannot be read is not boxtop's (boxtop's files always can be).
pub fn marked_files(dir: &Path) -> Vec<Marked> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "desktop") && path.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let file = super::xdg::read_desktop_file(&path).ok()?;
            let profile = marker(&file)?;
            let version = file
                .string(MAIN_GROUP, VERSION_KEY)
                .and_then(|v| v.trim().parse().ok());
            Some(Marked {
                path,
                profile,
                version,
                file,
            })
        })
        .collect()
}

/// Whether `path` is a file boxtop wrote for `profile`.
pub fn is_ours(path: &Path, profile: &str) -> bool {
    super::xdg::read_desktop_file(path)
        .ok()
        .and_then(|file| marker(&file))
        .is_some_and(|marked| marked == profile)
}

fn kind_in_applications(marked: &Marked) -> Kind {
    let is_menu = marked
        .path
        .file_name()
        .is_some_and(|name| name.to_string_lossy() == entry_file_name(&marked.profile));
    if is_menu {
        Kind::Menu
    } else {
        Kind::Replacement
    }
}

/// One line of `desktop list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub kind: Kind,
    pub profile: String,
    /// Whether a profile of that name still exists.
    pub profile_exists: bool,
    pub path: PathBuf,
    /// For a replacement: the app's desktop file id it stands for.
    pub replaces: Option<String>,
}

/// Every file boxtop wrote: menu entries and replacements, then autostart files.
pub fn list(env: &Env, profiles: &ProfileSet) -> Vec<Listed> {
    let apps = marked_files(&env.applications_dir())
        .into_iter()
        .map(|marked| (kind_in_applications(&marked), marked));
    let autostart = marked_files(&env.autostart_dir())
        .into_iter()
        .map(|marked| (Kind::Autostart, marked));
    apps.chain(autostart)
        .map(|(kind, marked)| Listed {
            kind,
            profile_exists: profiles.get(&marked.profile).is_some(),
            replaces: (kind == Kind::Replacement).then(|| file_name(&marked.path)),
            profile: marked.profile,
            path: marked.path,
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What `sync` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synced {
    pub rewritten: Vec<PathBuf>,
    pub unchanged: Vec<PathBuf>,
    /// Files whose profile is gone.
    pub removed: Vec<PathBuf>,
    /// Files left as they are, and why (a broken profile, a newer boxtop's file...).
    pub skipped: Vec<(PathBuf, String)>,
    pub warnings: Vec<String>,
}

/// Rewrites every file boxtop wrote from the current profiles and boxtop path, and
/// removes those whose profile no longer exists.
pub fn sync(env: &Env, profiles: &ProfileSet) -> Result<Synced, EntriesError> {
    let mut report = Synced {
        warnings: env.boxtop_path_warning().into_iter().collect(),
        ..Synced::default()
    };
    let apps_dir = env.applications_dir();
    let apps = marked_files(&apps_dir);
    let mut apps_changed = false;
    for marked in &apps {
        let kind = kind_in_applications(marked);
        let step = rewrite(profiles, marked, &mut report, |profile, warnings| {
            let original = match kind {
                Kind::Replacement => find_entry(env, &file_name(&marked.path))?,
                _ => app_entry(env, profile, warnings)?.1,
            };
            let role = match kind {
                Kind::Replacement => Role::Replacement,
                _ if has_replacement(&apps, &profile.name) => Role::MenuBehindReplacement,
                _ => Role::Menu,
            };
            render_entry(
                profile,
                original.as_ref().map(|found| &found.file),
                &env.boxtop,
                role,
            )
        })?;
        apps_changed |= apply(&marked.path, step, &mut report)?;
    }
    let autostart_dir = env.autostart_dir();
    let mut autostart_changed = false;
    for marked in marked_files(&autostart_dir) {
        let step = rewrite(profiles, &marked, &mut report, |profile, warnings| {
            let (id, original) = app_entry(env, profile, warnings)?;
            let app_autostart = match &id {
                Some(id) => find_autostart(env, id)?,
                None => None,
            };
            render_autostart(
                profile,
                original.as_ref().map(|found| &found.file),
                app_autostart.as_ref().map(|found| &found.file),
                Some(&marked.file),
                &env.boxtop,
            )
        })?;
        autostart_changed |= apply(&marked.path, step, &mut report)?;
    }
    if apps_changed {
        report.warnings.extend(settle(env, &apps_dir, true)?);
    }
    if autostart_changed {
        report.warnings.extend(settle(env, &autostart_dir, false)?);
    }
    Ok(report)
}

fn has_replacement(apps: &[Marked], profile: &str) -> bool {
    apps.iter().any(|marked| {
        marked.profile == profile && kind_in_applications(marked) == Kind::Replacement
    })
}

/// What becomes of one of boxtop's files.
enum Step {
    Write(String),
    /// Its profile is gone: removed.
    Removed,
    /// Left as it is (noted in the report).
    Kept,
}

/// The new text of one of boxtop's files, or why it gets none.
fn rewrite(
    profiles: &ProfileSet,
    marked: &Marked,
    report: &mut Synced,
    render: impl FnOnce(&crate::profile::Profile, &mut Vec<String>) -> Result<String, EntriesError>,
) -> Result<Step, EntriesError> {
    if marked
        .version
        .is_none_or(|version| version > FORMAT_VERSION)
    {
        report.skipped.push((
            marked.path.clone(),
            "written by another version of boxtop (X-Boxtop-Version); left as it is".into(),
        ));
        return Ok(Step::Kept);
    }
    if profiles.get(&marked.profile).is_none() {
        remove_file(&marked.path)?;
        report.removed.push(marked.path.clone());
        return Ok(Step::Removed);
    }
    let profile = match profiles.resolve(&marked.profile) {
        Ok(profile) => profile,
        Err(err) => {
            report.skipped.push((
                marked.path.clone(),
                format!(
                    "profile '{}' is broken, left as it is: {err}",
                    marked.profile
                ),
            ));
            return Ok(Step::Kept);
        }
    };
    match render(&profile, &mut report.warnings) {
        Ok(text) => Ok(Step::Write(text)),
        Err(err) => {
            report
                .skipped
                .push((marked.path.clone(), format!("left as it is: {err}")));
            Ok(Step::Kept)
        }
    }
}

/// Carries out a step; says whether the folder changed.
fn apply(path: &Path, step: Step, report: &mut Synced) -> Result<bool, EntriesError> {
    let text = match step {
        Step::Write(text) => text,
        Step::Removed => return Ok(true),
        Step::Kept => return Ok(false),
    };
    let changed = write_if_changed(path, &text)?;
    if changed {
        report.rewritten.push(path.to_path_buf());
    } else {
        report.unchanged.push(path.to_path_buf());
    }
    Ok(changed)
}
