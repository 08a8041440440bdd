//! The apps installed on this host, as the desktop's menu knows them: the application
//! entries of the XDG data folders that a menu shows (`Type=Application`, not `NoDisplay`
//! or `Hidden`), whose program is installed. The TUI offers a profile for those no
//! profile names in `desktop_file` ("42 installed apps have no profile: make one?"), and
//! its new-profile prompt completes them.
//!
//! The scan reads each `.desktop` file once and looks the program up in `PATH`: a few
//! milliseconds for the hundreds of entries of a desktop system.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::desktop_file::{DesktopFile, MAIN_GROUP};
use super::suggest::{self, SuggestError, Suggestion};
use super::xdg::{self, Env};

/// An installed app with a menu entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledApp {
    /// The desktop file id (`org.xfce.mousepad.desktop`).
    pub id: String,
    /// The entry the desktop uses for that id.
    pub path: PathBuf,
    /// The app's `Name`.
    pub title: String,
    /// The profile name a suggestion takes (`mousepad`).
    pub profile_name: String,
    /// The program its entry starts, as a command names it (`mousepad`).
    pub program: String,
}

/// Every app the menus show whose program is installed, sorted by profile name; an id
/// found in several folders is the first folder's (the user's before the system's).
pub fn scan(env: &Env, path_var: &OsStr) -> Vec<InstalledApp> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut apps = Vec::new();
    for dir in env.application_dirs() {
        let mut files = Vec::new();
        collect(&dir, "", &mut files, 0);
        for (id, path) in files {
            if !seen.insert(id.clone()) {
                continue;
            }
            if let Some(app) = read_app(&id, &path, path_var) {
                apps.push(app);
            }
        }
    }
    apps.sort_by(|a, b| a.profile_name.cmp(&b.profile_name).then(a.id.cmp(&b.id)));
    apps
}

/// The `.desktop` files below `dir`, with their ids (a subfolder's name and `-` before
/// the file's). Symlinked folders are not followed; a few levels are enough.
fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>, depth: usize) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = read.filter_map(Result::ok).collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < 3 {
            collect(&entry.path(), &format!("{prefix}{name}-"), out, depth + 1);
        } else if name.ends_with(".desktop") && !kind.is_dir() {
            out.push((format!("{prefix}{name}"), entry.path()));
        }
    }
}

fn read_app(id: &str, path: &Path, path_var: &OsStr) -> Option<InstalledApp> {
    let file = xdg::read_desktop_file(path).ok()?;
    if !is_shown_app(&file) {
        return None;
    }
    // The program must be installed: the suggestion looks it up as it will be run.
    let profile_name = suggest::name_for(id)?;
    let suggested = suggest::suggest(&profile_name, id, path, &file, path_var).ok()?;
    let program = suggested
        .program
        .file_name()?
        .to_string_lossy()
        .into_owned();
    Some(InstalledApp {
        program,
        id: id.to_string(),
        path: path.to_path_buf(),
        title: file
            .string(MAIN_GROUP, "Name")
            .unwrap_or_else(|| profile_name.clone()),
        profile_name,
    })
}

/// An application entry a menu shows, and not one boxtop wrote.
fn is_shown_app(file: &DesktopFile) -> bool {
    file.string(MAIN_GROUP, "Type").as_deref() == Some("Application")
        && file.boolean(MAIN_GROUP, "NoDisplay") != Some(true)
        && !xdg::is_hidden(file)
        && xdg::marker(file).is_none()
}

/// The profile suggested for `app`, named `name`, from its entry as it is now; the
/// program is the one a bundled profile of the same app names, when the entry starts a
/// launcher script (see `suggest::suggest_knowing`).
pub fn suggestion(
    app: &InstalledApp,
    name: &str,
    path_var: &OsStr,
    set: &crate::profile::ProfileSet,
) -> Result<Suggestion, String> {
    let file = xdg::read_desktop_file(&app.path).map_err(|err| err.to_string())?;
    let known = suggest::bundled_binaries(set, &app.id);
    suggest::suggest_knowing(name, &app.id, &app.path, &file, path_var, &known)
        .map_err(|err: SuggestError| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::Paths;

    fn env(root: &Path) -> Env {
        let home = root.join("home");
        let paths = Paths::under_home(home);
        let system = root.join("system").display().to_string();
        Env::from_vars(&paths, PathBuf::from("/usr/bin/boxtop"), |name| {
            (name == "XDG_DATA_DIRS").then(|| system.clone().into())
        })
    }

    fn entry(exec: &str, extra: &str) -> String {
        format!("[Desktop Entry]\nType=Application\nName=App {exec}\nExec={exec} %F\n{extra}")
    }

    #[test]
    fn lists_installed_shown_apps_once_the_users_entry_first() {
        let root = tempfile::tempdir().unwrap();
        let env = env(root.path());
        let system = root.path().join("system/applications");
        let user = env.applications_dir();
        let bin = root.path().join("bin");
        for dir in [&system, &user, &bin, &system.join("kde")] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(bin.join("editor"), "").unwrap();
        std::fs::write(bin.join("viewer"), "").unwrap();
        let files = [
            (
                system.join("org.example.editor.desktop"),
                entry("editor", ""),
            ),
            (user.join("org.example.editor.desktop"), entry("viewer", "")),
            (system.join("kde/viewer.desktop"), entry("viewer", "")),
            (system.join("gone.desktop"), entry("not-installed", "")),
            (
                system.join("hidden.desktop"),
                entry("editor", "NoDisplay=true\n"),
            ),
            (
                system.join("deleted.desktop"),
                entry("editor", "Hidden=true\n"),
            ),
            (
                system.join("link.desktop"),
                "[Desktop Entry]\nType=Link\nURL=https://example.org\n".into(),
            ),
            (system.join("broken.desktop"), "not an entry".into()),
            (system.join("shell.desktop"), entry("sh -c editor", "")),
            (
                system.join("boxtop-editor.desktop"),
                entry("editor", "X-Boxtop-Profile=editor\n"),
            ),
        ];
        for (path, text) in files {
            std::fs::write(path, text).unwrap();
        }
        let apps = scan(&env, bin.as_os_str());
        let ids: Vec<(&str, &str, &str)> = apps
            .iter()
            .map(|app| {
                (
                    app.id.as_str(),
                    app.profile_name.as_str(),
                    app.title.as_str(),
                )
            })
            .collect();
        assert_eq!(
            ids,
            [
                ("org.example.editor.desktop", "editor", "App viewer"),
                ("kde-viewer.desktop", "kde-viewer", "App viewer"),
            ]
        );
        assert_eq!(apps[0].path, user.join("org.example.editor.desktop"));
        let suggested = suggestion(
            &apps[0],
            "mine",
            bin.as_os_str(),
            &crate::profile::ProfileSet::default(),
        )
        .unwrap();
        assert!(
            suggested.text.contains("name = \"mine\""),
            "{}",
            suggested.text
        );
        assert!(
            suggested
                .text
                .contains("desktop_file = \"org.example.editor.desktop\""),
            "{}",
            suggested.text
        );
    }

    /// The host's own menus and 400 more entries, timed: the TUI scans them at start.
    #[test]
    fn scanning_hundreds_of_entries_takes_milliseconds() {
        let root = tempfile::tempdir().unwrap();
        let mut env = env(root.path());
        let many = root.path().join("many");
        std::fs::create_dir_all(many.join("applications")).unwrap();
        for n in 0..400 {
            let text = entry(
                "true",
                &format!("Comment=app {n}\nCategories=Utility;TextEditor;\nMimeType=text/plain;\n"),
            );
            std::fs::write(
                many.join(format!("applications/org.example.app{n}.desktop")),
                text,
            )
            .unwrap();
        }
        env.data_dirs = vec![
            many,
            PathBuf::from("/usr/local/share"),
            PathBuf::from("/usr/share"),
        ];
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        let start = std::time::Instant::now();
        let apps = scan(&env, &path_var);
        let took = start.elapsed();
        eprintln!("{} installed apps found in {took:?}", apps.len());
        assert!(apps.len() >= 400, "{}", apps.len());
        assert!(took < std::time::Duration::from_millis(500), "{took:?}");
    }
}
