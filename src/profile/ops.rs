//! What the front ends do to profile files: the new-profile template, creating a profile
//! (validated before it is written), copying a bundled profile to the user's override,
//! saving an edited text, deleting a profile (and its private home only when asked), and
//! the editor a user's file opens in. The CLI and the TUI both call these, so the two
//! cannot drift apart.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::atomic::write_atomic;
use crate::paths::Paths;

use super::load::{Entry, ProfileSet, Source};
use super::validate::is_valid_name;

/// Why a profile operation failed; each says what and where, for the user.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("'{0}' is not a valid profile name: use lowercase letters, digits, '-', '_' or '.'")]
    BadName(String),
    #[error("{} already exists; edit it instead", .0.display())]
    Exists(PathBuf),
    #[error("no profile named '{0}' (see `boxtop list`)")]
    Unknown(String),
    #[error("the new profile '{name}' would not be valid: {reason}")]
    Invalid { name: String, reason: String },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a profile file of {}: only your own profiles can be deleted", .path.display(), .dir.display())]
    NotUserFile { path: PathBuf, dir: PathBuf },
    #[error("cannot delete {}: {source}", .path.display())]
    Delete {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("deleted {}, but not its private home {}: {source}", .file.display(), .home.display())]
    Home {
        file: PathBuf,
        home: PathBuf,
        source: std::io::Error,
    },
}

/// The text of a new profile: what every key means, nothing granted but a display.
pub fn template(name: &str) -> String {
    format!(
        "# {name}: describe the app here.\n\
         name = \"{name}\"\n\
         description = \"\"\n\
         # The program and its fixed arguments; `boxtop run {name} -- ARGS` adds more.\n\
         command = [\"{name}\"]\n\
         # Where the program may be installed; the first found is used.\n\
         # binaries = [\"/usr/bin/{name}\"]\n\
         # Display: none, wayland, x11 or auto.\n\
         display = \"auto\"\n\
         # Audio: none, pulseaudio, pipewire or auto.\n\
         audio = \"none\"\n\
         # Network: none, host or isolated.\n\
         network = \"none\"\n\
         \n\
         [home]\n\
         # false: a private home kept between runs; true: forgotten at exit.\n\
         ephemeral = false\n\
         \n\
         # Folders of your home the app may reach (ro or rw):\n\
         # [[home.share]]\n\
         # path = \"Documents\"\n\
         # mode = \"ro\"\n"
    )
}

/// The text of a new profile that extends `from` (whose description is `about`).
pub fn extending(name: &str, from: &str, about: &str) -> String {
    format!(
        "# {name}: based on the '{from}' profile ({about}); keys here override it.\n\
         name = \"{name}\"\n\
         extends = \"{from}\"\n"
    )
}

/// The user's file for a profile named `name`.
pub fn user_file(user_dir: &Path, name: &str) -> PathBuf {
    user_dir.join(format!("{name}.toml"))
}

/// The user file a profile is saved to: its own file, or a new override in the user's
/// folder for a bundled profile.
pub fn target_path(entry: &Entry, user_dir: &Path) -> PathBuf {
    match (&entry.path, entry.source) {
        (Some(path), Source::User | Source::Override) => path.clone(),
        _ => user_file(user_dir, &entry.name),
    }
}

/// Writes a new profile `name` in `user_dir`, from the template or extending `from`.
/// The text is resolved against `set` first: nothing is written unless it is valid.
pub fn create(
    set: &ProfileSet,
    user_dir: &Path,
    name: &str,
    from: Option<&str>,
) -> Result<PathBuf, OpsError> {
    if !is_valid_name(name) {
        return Err(OpsError::BadName(name.to_string()));
    }
    let text = match from {
        Some(from) => {
            let parent = set.resolve(from).map_err(|err| OpsError::Invalid {
                name: name.to_string(),
                reason: err.to_string(),
            })?;
            extending(name, from, &parent.description)
        }
        None => template(name),
    };
    create_with_text(set, user_dir, name, &text)
}

/// Writes a new profile `name` in `user_dir` with `text` (a suggestion from an app's
/// desktop entry, say), if it is valid and no file of that name exists.
pub fn create_with_text(
    set: &ProfileSet,
    user_dir: &Path,
    name: &str,
    text: &str,
) -> Result<PathBuf, OpsError> {
    if !is_valid_name(name) {
        return Err(OpsError::BadName(name.to_string()));
    }
    let path = user_file(user_dir, name);
    if path.exists() {
        return Err(OpsError::Exists(path));
    }
    let file = path.display().to_string();
    set.resolve_text(name, &file, text, Some(&path))
        .map_err(|err| OpsError::Invalid {
            name: name.to_string(),
            reason: err.to_string(),
        })?;
    save_text(&path, text)?;
    Ok(path)
}

/// The user's own file of a profile; a bundled one is first copied to the user's folder,
/// where it overrides the bundled original.
pub fn copy_to_override(entry: &Entry, user_dir: &Path) -> Result<PathBuf, OpsError> {
    if let (Some(path), Source::User | Source::Override) = (&entry.path, entry.source) {
        return Ok(path.clone());
    }
    let path = target_path(entry, user_dir);
    save_text(&path, entry.text.as_deref().unwrap_or_default())?;
    Ok(path)
}

/// How an edited profile was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// As written: the user's own profile.
    AsWritten,
    /// An override of a bundled profile, as `extends` its original plus the changes.
    Delta,
    /// An override of a bundled profile kept whole: it removes something the original
    /// grants (or extends another profile), which a delta cannot say.
    Whole,
}

/// Saves the edited `text` of profile `name` to `path`, atomically: an edit of a bundled
/// profile (a new override, or one already there) as a delta over the bundled original
/// when one gives the same profile (see `overrides::as_delta`), else as written. The
/// caller has validated `text`.
pub fn save_edit(set: &ProfileSet, name: &str, path: &Path, text: &str) -> Result<Saved, OpsError> {
    if set.bundled_original(name).is_none() {
        save_text(path, text)?;
        return Ok(Saved::AsWritten);
    }
    match super::overrides::as_delta(set, name, text) {
        Some(delta) => {
            save_text(path, &delta)?;
            Ok(Saved::Delta)
        }
        None => {
            save_text(path, text)?;
            Ok(Saved::Whole)
        }
    }
}

/// Replaces a profile file with `text`, atomically.
pub fn save_text(path: &Path, text: &str) -> Result<(), OpsError> {
    write_atomic(path, text.as_bytes()).map_err(|source| OpsError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// What a deletion removed, and the private home it left in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub file: PathBuf,
    /// The private home, when it was asked to go too.
    pub home_removed: Option<PathBuf>,
    /// The private home that is still there.
    pub home_kept: Option<PathBuf>,
}

/// Deletes the user's profile file `file` of `name`; its private home too only when
/// `with_home`. Only a file in the user's profiles folder is ever deleted.
pub fn delete(
    paths: &Paths,
    name: &str,
    file: &Path,
    with_home: bool,
) -> Result<Deleted, OpsError> {
    let dir = paths.user_profiles();
    if file.parent() != Some(dir.as_path()) {
        return Err(OpsError::NotUserFile {
            path: file.to_path_buf(),
            dir,
        });
    }
    std::fs::remove_file(file).map_err(|source| OpsError::Delete {
        path: file.to_path_buf(),
        source,
    })?;
    // A name that cannot name a home (none can, from a loaded profile) has no home.
    let home = paths.private_home(name).ok().filter(|home| home.is_dir());
    let mut deleted = Deleted {
        file: file.to_path_buf(),
        home_removed: None,
        home_kept: None,
    };
    match home {
        Some(home) if with_home => {
            std::fs::remove_dir_all(&home).map_err(|source| OpsError::Home {
                file: file.to_path_buf(),
                home: home.clone(),
                source,
            })?;
            deleted.home_removed = Some(home);
        }
        home => deleted.home_kept = home,
    }
    Ok(deleted)
}

/// A profile's private home and the bytes of its files, if it has one.
pub fn home_size(paths: &Paths, name: &str) -> Option<(PathBuf, u64)> {
    let home = paths.private_home(name).ok().filter(|home| home.is_dir())?;
    let size = tree_size(&home);
    Some((home, size))
}

/// The bytes of the files below `path`, not following symbolic links.
pub fn tree_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.filter_map(Result::ok) {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// The editor a user's file opens in: `$VISUAL`, then `$EDITOR`, then `vi`; a variable
/// set to nothing but blanks counts as unset.
pub fn editor_name(visual: Option<String>, editor: Option<String>) -> String {
    [visual, editor]
        .into_iter()
        .flatten()
        .find(|value| !value.trim().is_empty())
        .unwrap_or_else(|| "vi".into())
}

/// The editor's command line for `path`, through `sh -c` because `$EDITOR` may carry
/// arguments (`code --wait`); the path is passed as `$1`, never spliced into the line.
pub struct EditorCommand {
    pub command: Command,
    /// The editor as the user set it, for messages.
    pub editor: String,
}

/// The command that opens `path` in the user's editor.
pub fn editor_command(path: &Path) -> EditorCommand {
    let editor = editor_name(std::env::var("VISUAL").ok(), std::env::var("EDITOR").ok());
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path);
    EditorCommand { command, editor }
}

/// Adds `[[home.share]] path = REL, mode = ...` to the user's file of `profile` (a live
/// share kept: `boxtop share --save`, the TUI's instance view) with toml_edit, its
/// comments and layout kept, and only if the result is a valid profile. Says which file.
pub fn save_share(
    set: &ProfileSet,
    profile: &str,
    rel: &Path,
    mode: super::Access,
) -> Result<PathBuf, String> {
    let entry = set
        .get(profile)
        .ok_or_else(|| format!("no profile named '{profile}'"))?;
    let file = match (&entry.path, entry.source) {
        (Some(path), Source::User | Source::Override) => path.clone(),
        _ => {
            return Err(format!(
                "'{profile}' is a bundled profile with no file of yours; run `boxtop edit {profile}` once to make your override, then save again"
            ))
        }
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|err| format!("{}: {err}", file.display()))?;
    let home = doc
        .entry("home")
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
    let Some(home) = home.as_table_mut() else {
        return Err(format!("{}: `home` is not a table", file.display()));
    };
    let shares = home
        .entry("share")
        .or_insert_with(|| toml_edit::Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
    let Some(shares) = shares.as_array_of_tables_mut() else {
        return Err(format!(
            "{}: `home.share` is not a list of [[home.share]] tables",
            file.display()
        ));
    };
    let rel = rel.to_string_lossy().into_owned();
    shares.retain(|table| table.get("path").and_then(|p| p.as_str()) != Some(rel.as_str()));
    let mut table = toml_edit::Table::new();
    table.insert("path", toml_edit::value(rel.as_str()));
    table.insert("mode", toml_edit::value(mode.as_str()));
    shares.push(table);
    let new_text = doc.to_string();
    let shown = file.display().to_string();
    let raw = super::load::parse(&shown, &new_text)
        .map_err(|err| format!("the result would not load: {err}"))?;
    super::validate::check_raw(
        &raw,
        &super::validate::Origin {
            file: &shown,
            text: Some(&new_text),
        },
    )
    .map_err(|err| format!("the result would not be valid: {err}"))?;
    save_text(&file, &new_text).map_err(|err| err.to_string())?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(root: &Path) -> Paths {
        let home = root.join("home");
        Paths::under_home(home)
    }

    fn set(paths: &Paths) -> ProfileSet {
        let mut set = ProfileSet::default();
        set.add_user_dir(&paths.user_profiles());
        set
    }

    #[test]
    fn the_template_is_valid_and_asks_for_an_automatic_display() {
        let set = ProfileSet::default();
        let profile = set
            .resolve_text("gimp", "gimp.toml", &template("gimp"), None)
            .unwrap();
        assert_eq!(profile.display, crate::profile::Display::Auto);
        assert_eq!(profile.command, ["gimp"]);
    }

    #[test]
    fn create_refuses_bad_names_existing_files_and_unknown_parents() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let user = paths.user_profiles();
        let err = create(&set(&paths), &user, "Bad Name", None).unwrap_err();
        assert!(matches!(err, OpsError::BadName(_)), "{err}");
        let path = create(&set(&paths), &user, "gimp", None).unwrap();
        assert_eq!(path, user.join("gimp.toml"));
        let err = create(&set(&paths), &user, "gimp", None).unwrap_err();
        assert!(matches!(err, OpsError::Exists(_)), "{err}");
        let err = create(&set(&paths), &user, "work", Some("nothing")).unwrap_err();
        assert!(err.to_string().contains("nothing"), "{err}");
        assert!(!user.join("work.toml").exists(), "nothing written");
        create(&set(&paths), &user, "gimp-work", Some("gimp")).unwrap();
        let profile = set(&paths).resolve("gimp-work").unwrap();
        assert_eq!(profile.command, ["gimp"], "extends gimp");
    }

    #[test]
    fn delete_keeps_the_home_unless_asked_and_only_deletes_user_files() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let user = paths.user_profiles();
        let file = create(&set(&paths), &user, "calc", None).unwrap();
        let home = paths.private_home("calc").unwrap();
        std::fs::create_dir_all(home.join("a")).unwrap();
        std::fs::write(home.join("a/b"), [0u8; 100]).unwrap();
        assert_eq!(home_size(&paths, "calc"), Some((home.clone(), 100)));

        let outside = dir.path().join("calc.toml");
        std::fs::write(&outside, "x").unwrap();
        let err = delete(&paths, "calc", &outside, true).unwrap_err();
        assert!(matches!(err, OpsError::NotUserFile { .. }), "{err}");
        assert!(outside.exists() && home.exists());

        let deleted = delete(&paths, "calc", &file, false).unwrap();
        assert_eq!(deleted.home_kept.as_ref(), Some(&home));
        assert!(!file.exists() && home.exists());

        let file = create(&set(&paths), &user, "calc", None).unwrap();
        let deleted = delete(&paths, "calc", &file, true).unwrap();
        assert_eq!(deleted.home_removed.as_ref(), Some(&home));
        assert!(!file.exists() && !home.exists());
    }

    #[test]
    fn the_editor_is_visual_then_editor_then_vi_skipping_blank_ones() {
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            editor_name(some("code --wait"), some("nano")),
            "code --wait"
        );
        assert_eq!(editor_name(some(" "), some("nano")), "nano");
        assert_eq!(editor_name(None, some("nano")), "nano");
        assert_eq!(editor_name(None, some("")), "vi");
        assert_eq!(editor_name(None, None), "vi");
    }

    #[test]
    fn a_bundled_profile_is_copied_to_an_override_once() {
        let dir = tempfile::tempdir().unwrap();
        let paths = paths(dir.path());
        let user = paths.user_profiles();
        let mut set = ProfileSet::bundled();
        set.add_user_dir(&user);
        let entry = set
            .entries()
            .find(|entry| entry.source == Source::Bundled)
            .expect("bundled profiles");
        let path = copy_to_override(entry, &user).unwrap();
        assert_eq!(path, user.join(format!("{}.toml", entry.name)));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            entry.text.clone().unwrap()
        );
    }
}
