//! Where desktop entries and autostart files live (XDG Base Directory and Desktop Entry
//! specs), as one explicit value so that everything below it can be tested without
//! touching the process environment; and finding an app's own files by desktop file id.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::desktop_file::{DesktopFile, MAIN_GROUP};
use super::error::EntriesError;
use crate::paths::Paths;

/// The key that marks a file boxtop wrote; its value is the profile's name.
pub const MARKER_KEY: &str = "X-Boxtop-Profile";
/// The format of boxtop's files, so that a later boxtop can tell older ones apart.
pub const VERSION_KEY: &str = "X-Boxtop-Version";
pub const FORMAT_VERSION: u32 = 1;

/// Every location this module reads or writes, and boxtop's own path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    /// `$XDG_DATA_HOME`: entries go to `applications/` below it.
    pub data_home: PathBuf,
    /// `$XDG_CONFIG_HOME`: autostart files go to `autostart/` below it.
    pub config_home: PathBuf,
    /// `$XDG_DATA_DIRS`, most important first.
    pub data_dirs: Vec<PathBuf>,
    /// `$XDG_CONFIG_DIRS`, most important first.
    pub config_dirs: Vec<PathBuf>,
    /// The absolute path of the boxtop program the entries start.
    pub boxtop: PathBuf,
    /// boxtop's data folder, where it notes the folders and caches it created.
    pub state_dir: PathBuf,
    /// `update-desktop-database`, when it is installed.
    pub update_desktop_database: Option<PathBuf>,
}

impl Env {
    /// The locations of this process's environment, and this program's path.
    pub fn from_process(paths: &Paths) -> Result<Self, EntriesError> {
        let boxtop = std::env::current_exe().map_err(|source| EntriesError::OwnPath { source })?;
        Ok(Self::from_vars(paths, boxtop, |name| {
            std::env::var_os(name)
        }))
    }

    /// The locations given by `var` (an environment lookup), with the spec's defaults.
    pub fn from_vars(
        paths: &Paths,
        boxtop: PathBuf,
        var: impl Fn(&str) -> Option<OsString>,
    ) -> Self {
        let parent_or = |dir: &Path, fallback: &str| {
            dir.parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| paths.home.join(fallback))
        };
        Self {
            data_home: parent_or(&paths.data, ".local/share"),
            config_home: parent_or(&paths.config, ".config"),
            data_dirs: dir_list(var("XDG_DATA_DIRS"), "/usr/local/share:/usr/share"),
            config_dirs: dir_list(var("XDG_CONFIG_DIRS"), "/etc/xdg"),
            boxtop,
            state_dir: paths.data.clone(),
            update_desktop_database: var("PATH")
                .and_then(|path| find_program(&path, "update-desktop-database")),
        }
    }

    /// What the files cannot help about boxtop's path: a `%` is written `%%` as the spec
    /// says, but GLib (GNOME, Xfce) looks for the program before it reads `%%`, and then
    /// ignores the entry.
    pub fn boxtop_path_warning(&self) -> Option<String> {
        let path = self.boxtop.to_str()?;
        path.contains('%').then(|| {
            format!(
                "boxtop's path {path} holds '%': GNOME and Xfce ignore an entry whose program path has one; move boxtop to a path without '%', then run `boxtop desktop sync`"
            )
        })
    }

    /// `$XDG_DATA_HOME/applications`: the user's entries.
    pub fn applications_dir(&self) -> PathBuf {
        self.data_home.join("applications")
    }

    /// `$XDG_CONFIG_HOME/autostart`: the user's autostart files.
    pub fn autostart_dir(&self) -> PathBuf {
        self.config_home.join("autostart")
    }

    /// The `applications` folders, most important first: the user's, then the system's.
    pub fn application_dirs(&self) -> Vec<PathBuf> {
        std::iter::once(&self.data_home)
            .chain(&self.data_dirs)
            .map(|dir| dir.join("applications"))
            .collect()
    }

    /// The `autostart` folders, most important first.
    pub fn autostart_dirs(&self) -> Vec<PathBuf> {
        std::iter::once(&self.config_home)
            .chain(&self.config_dirs)
            .map(|dir| dir.join("autostart"))
            .collect()
    }
}

/// A colon-separated list of folders; relative ones are ignored, as the spec says, and an
/// unset or empty variable means the default.
fn dir_list(value: Option<OsString>, default: &str) -> Vec<PathBuf> {
    let value = value
        .and_then(|value| value.into_string().ok())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| default.to_string());
    let mut dirs: Vec<PathBuf> = Vec::new();
    for dir in value.split(':').map(PathBuf::from) {
        if dir.is_absolute() && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

fn find_program(path_var: &std::ffi::OsStr, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A desktop entry read from disk.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: PathBuf,
    pub file: DesktopFile,
}

impl Found {
    pub fn read(path: &Path) -> Result<Self, EntriesError> {
        Ok(Self {
            path: path.to_path_buf(),
            file: read_desktop_file(path)?,
        })
    }

    /// The profile named by boxtop's marker, when boxtop wrote this file.
    pub fn marker(&self) -> Option<String> {
        marker(&self.file)
    }
}

/// The profile named by boxtop's marker.
pub fn marker(file: &DesktopFile) -> Option<String> {
    file.string(MAIN_GROUP, MARKER_KEY)
}

/// Whether a file says it is deleted (`Hidden=true`): desktops then ignore it and every
/// file of the same id with a lower precedence.
pub fn is_hidden(file: &DesktopFile) -> bool {
    file.boolean(MAIN_GROUP, "Hidden") == Some(true)
}

pub fn read_desktop_file(path: &Path) -> Result<DesktopFile, EntriesError> {
    let bytes = std::fs::read(path).map_err(|source| EntriesError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| EntriesError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    DesktopFile::parse(&text).map_err(|err| EntriesError::Syntax {
        path: path.to_path_buf(),
        line: err.line,
        message: err.message,
    })
}

/// Checks a desktop file id from a profile and adds `.desktop` when it is left out.
pub fn normalize_id(id: &str) -> Option<String> {
    let id = if id.ends_with(".desktop") {
        id.to_string()
    } else {
        format!("{id}.desktop")
    };
    crate::profile::validate::is_valid_desktop_id(&id).then_some(id)
}

/// The files of `dir` (and its subfolders) whose desktop file id is `id`: the id is the
/// path below `dir` with `/` written `-`, so `debian-xterm.desktop` can be
/// `debian-xterm.desktop` or `debian/xterm.desktop`.
pub fn paths_for_id(dir: &Path, id: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let direct = dir.join(id);
    if direct.is_file() {
        found.push(direct);
    }
    for (index, _) in id.match_indices('-') {
        let (folder, rest) = (&id[..index], &id[index + 1..]);
        // A part `..` would climb out of `dir` (ids from profiles are checked; these
        // are not only theirs).
        let is_folder_name = !matches!(folder, "" | "." | "..");
        let sub = dir.join(folder);
        if is_folder_name && !rest.is_empty() && sub.is_dir() {
            found.extend(paths_for_id(&sub, rest));
        }
    }
    found
}

/// Where the app's own entry of id `id` is, as desktops find it: the first file of that
/// id in the user's folder, then in `$XDG_DATA_DIRS`. Files boxtop wrote (its
/// replacements) are skipped, so the original is found under them. `Hidden=true` means
/// the app is deleted: no entry.
pub fn find_entry(env: &Env, id: &str) -> Result<Option<Found>, EntriesError> {
    for dir in env.application_dirs() {
        for path in paths_for_id(&dir, id) {
            let found = Found::read(&path)?;
            if found.marker().is_some() {
                continue;
            }
            if is_hidden(&found.file) {
                return Ok(None);
            }
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The app's own autostart file of id `id`, if one has a command: the user's first,
/// then `$XDG_CONFIG_DIRS`. Files boxtop wrote and user overrides that only hide the
/// app (`Hidden=true`, with no `Exec`) are skipped.
pub fn find_autostart(env: &Env, id: &str) -> Result<Option<Found>, EntriesError> {
    for dir in env.autostart_dirs() {
        let path = dir.join(id);
        if !path.is_file() {
            continue;
        }
        let found = Found::read(&path)?;
        if found.marker().is_some() || found.file.raw(MAIN_GROUP, "Exec").is_none() {
            continue;
        }
        return Ok(Some(found));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_lists_default_and_skip_relative_entries() {
        assert_eq!(
            dir_list(None, "/usr/local/share:/usr/share"),
            vec![
                PathBuf::from("/usr/local/share"),
                PathBuf::from("/usr/share")
            ]
        );
        assert_eq!(
            dir_list(Some("".into()), "/etc/xdg"),
            vec![PathBuf::from("/etc/xdg")]
        );
        assert_eq!(
            dir_list(Some("/a:relative:/b:/a".into()), "/x"),
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
    }

    #[test]
    fn ids_get_their_suffix_and_bad_ids_are_refused() {
        assert_eq!(normalize_id("firefox").as_deref(), Some("firefox.desktop"));
        assert_eq!(
            normalize_id("org.xfce.mousepad.desktop").as_deref(),
            Some("org.xfce.mousepad.desktop")
        );
        for bad in [
            "",
            ".desktop",
            "../evil",
            "a/b.desktop",
            ".hidden",
            "a-..-..-etc-x.desktop",
            "x\x1b[31m",
        ] {
            assert_eq!(normalize_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn dashes_in_ids_map_to_subfolders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("kde4/games")).unwrap();
        std::fs::write(dir.path().join("kde4/games/mines.desktop"), "").unwrap();
        std::fs::write(dir.path().join("kde4-games-mines.desktop"), "").unwrap();
        let found = paths_for_id(dir.path(), "kde4-games-mines.desktop");
        assert_eq!(
            found,
            vec![
                dir.path().join("kde4-games-mines.desktop"),
                dir.path().join("kde4/games/mines.desktop"),
            ]
        );
        assert!(paths_for_id(dir.path(), "kde4-other.desktop").is_empty());
        // `..` parts never climb out of the folder.
        let apps = dir.path().join("apps");
        std::fs::create_dir_all(apps.join("a")).unwrap();
        std::fs::write(dir.path().join("outside.desktop"), "").unwrap();
        assert!(paths_for_id(&apps, "a-..-..-outside.desktop").is_empty());
    }
}
