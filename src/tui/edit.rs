//! Changes made to a profile file from the TUI. The file is edited as a toml_edit
//! document so that the user's comments, key order and layout survive. The backend
//! writes a draft (atomically); a bundled profile's draft becomes a user override.

mod fields;

pub use fields::{parse_share, Field};

use std::path::{Path, PathBuf};

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, TableLike, Value};

use crate::profile::schema::{Access, Share};
use crate::profile::validate::{check_share_path, normalize_relative};
use crate::profile::{Entry, Profile, ProfileError, ProfileSet, Source};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{file}: not valid TOML ({message}); press E to fix it in your editor")]
    Parse { file: String, message: String },
    #[error("{file}: `{key}` is not a table; press E to fix it in your editor")]
    NotATable { file: String, key: String },
    #[error("{message} ({hint})")]
    SharePath { message: String, hint: String },
    #[error("{what} comes from the profile this one extends: edit that profile to remove it")]
    Inherited { what: String },
    #[error("{what} is already there")]
    Duplicate { what: String },
    #[error("'{name}' is not a valid variable name (it cannot be empty or contain '=')")]
    EnvName { name: String },
    #[error("{what}: {message}")]
    Value { what: String, message: String },
}

/// The D-Bus name lists of the session bus a user can edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusList {
    Talk,
    Own,
    See,
}

impl BusList {
    pub const ALL: [BusList; 3] = [BusList::Talk, BusList::Own, BusList::See];

    /// The key in `[dbus]`.
    pub fn key(self) -> &'static str {
        match self {
            BusList::Talk => "talk",
            BusList::Own => "own",
            BusList::See => "see",
        }
    }

    /// As the risk summary words it (`D-Bus (session): talk to NAME`).
    pub fn verb(self) -> &'static str {
        match self {
            BusList::Talk => "talk to",
            BusList::Own => "own",
            BusList::See => "see",
        }
    }
}

pub use crate::profile::ops::target_path;

/// A profile file being edited, not yet saved.
#[derive(Debug, Clone)]
pub struct Draft {
    pub name: String,
    /// Where saving writes.
    pub target: PathBuf,
    /// The file as the user knows it (a path, or `bundled:NAME.toml`).
    pub file: String,
    /// Saving creates a user override of a bundled profile.
    pub creates_override: bool,
    doc: DocumentMut,
    saved: String,
}

impl Draft {
    /// Opens a known profile's file for editing.
    pub fn open(entry: &Entry, user_dir: &Path) -> Result<Self, EditError> {
        let text = entry.text.clone().unwrap_or_default();
        Self::from_text(
            &entry.name,
            &text,
            target_path(entry, user_dir),
            &entry.file,
            entry.source == Source::Bundled,
        )
    }

    pub fn from_text(
        name: &str,
        text: &str,
        target: PathBuf,
        file: &str,
        creates_override: bool,
    ) -> Result<Self, EditError> {
        let doc: DocumentMut =
            text.parse()
                .map_err(|err: toml_edit::TomlError| EditError::Parse {
                    file: file.to_string(),
                    message: err.message().trim().to_string(),
                })?;
        Ok(Self {
            name: name.to_string(),
            target,
            file: file.to_string(),
            creates_override,
            doc,
            saved: text.to_string(),
        })
    }

    /// The file's text with every change applied.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// Whether the text differs from what is on disk (or bundled).
    pub fn is_changed(&self) -> bool {
        self.text() != self.saved
    }

    /// Records that the text is now on disk at `target` (written through the backend,
    /// `profile::ops::save_text`): a bundled profile has become a user override.
    pub fn mark_saved(&mut self) {
        self.saved = self.text();
        self.creates_override = false;
        self.file = self.target.display().to_string();
    }

    /// Sets a top-level string key such as `display = "x11"`.
    pub fn set_choice(&mut self, key: &str, value: &str) {
        set_value(self.doc.as_table_mut(), key, Value::from(value));
    }

    /// Sets a top-level boolean key such as `gpu = true`.
    pub fn set_flag(&mut self, key: &str, value: bool) {
        set_value(self.doc.as_table_mut(), key, Value::from(value));
    }

    /// Sets `[home] ephemeral`.
    pub fn set_ephemeral(&mut self, value: bool) -> Result<(), EditError> {
        let file = self.file.clone();
        let home = sub_table(&mut self.doc, "home", &file)?;
        set_value(home, "ephemeral", Value::from(value));
        Ok(())
    }

    /// Whether this file itself lists a share of `path` (not only a parent profile).
    pub fn owns_share(&self, path: &str) -> bool {
        self.share_index(path).is_some()
    }

    /// Adds `[[home.share]]` for a path of the home folder; escaping paths are refused.
    pub fn add_share(&mut self, path: &str, mode: Access) -> Result<(), EditError> {
        check_share_path(path, false)
            .map_err(|(message, hint)| EditError::SharePath { message, hint })?;
        let path = normalize_relative(path);
        if self.owns_share(&path) {
            return Err(EditError::Duplicate {
                what: format!("a share of ~/{path}"),
            });
        }
        let share = Share {
            path,
            mode,
            create: false,
            force: false,
        };
        self.push_share(&share)
    }

    /// Switches a share between read-only and read-write. A share inherited from the
    /// profile this one extends gets an entry of its own here, which replaces the parent's.
    pub fn set_share_mode(&mut self, share: &Share, mode: Access) -> Result<(), EditError> {
        let file = self.file.clone();
        match self.share_index(&share.path) {
            Some(index) => {
                let mut list = share_list(&mut self.doc, &file)?;
                if let Some(entry) = list.get_mut(index) {
                    set_value(entry, "mode", Value::from(mode.as_str()));
                }
                Ok(())
            }
            None => self.push_share(&Share {
                mode,
                ..share.clone()
            }),
        }
    }

    /// Removes this file's share of `path`.
    pub fn remove_share(&mut self, path: &str) -> Result<(), EditError> {
        let file = self.file.clone();
        let index = self.share_index(path).ok_or_else(|| EditError::Inherited {
            what: format!("the share of ~/{}", normalize_relative(path)),
        })?;
        share_list(&mut self.doc, &file)?.remove(index);
        Ok(())
    }

    /// Whether this file itself lists `name` in `[dbus] <list>`.
    pub fn owns_bus_name(&self, list: BusList, name: &str) -> bool {
        self.doc
            .get("dbus")
            .and_then(|dbus| dbus.get(list.key()))
            .and_then(Item::as_array)
            .is_some_and(|array| array.iter().any(|value| value.as_str() == Some(name)))
    }

    pub fn add_bus_name(&mut self, list: BusList, name: &str) -> Result<(), EditError> {
        let name = name.trim();
        if self.owns_bus_name(list, name) {
            return Err(EditError::Duplicate {
                what: format!("D-Bus {} {name}", list.verb()),
            });
        }
        let file = self.file.clone();
        let dbus = sub_table(&mut self.doc, "dbus", &file)?;
        match dbus.get_mut(list.key()) {
            Some(item) => match item.as_array_mut() {
                Some(array) => array.push(name),
                None => {
                    return Err(EditError::NotATable {
                        file,
                        key: format!("dbus.{}", list.key()),
                    })
                }
            },
            None => {
                let mut array = Array::new();
                array.push(name);
                dbus.insert(list.key(), Item::Value(Value::Array(array)));
            }
        }
        Ok(())
    }

    pub fn remove_bus_name(&mut self, list: BusList, name: &str) -> Result<(), EditError> {
        let inherited = || EditError::Inherited {
            what: format!("D-Bus {} {name}", list.verb()),
        };
        let array = self
            .doc
            .get_mut("dbus")
            .and_then(|dbus| dbus.get_mut(list.key()))
            .and_then(Item::as_array_mut)
            .ok_or_else(inherited)?;
        let index = array
            .iter()
            .position(|value| value.as_str() == Some(name))
            .ok_or_else(inherited)?;
        array.remove(index);
        Ok(())
    }

    /// Whether this file itself sets `[env] name`.
    pub fn owns_env(&self, name: &str) -> bool {
        self.doc
            .get("env")
            .and_then(Item::as_table_like)
            .is_some_and(|env| env.contains_key(name))
    }

    pub fn set_env(&mut self, name: &str, value: &str) -> Result<(), EditError> {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(EditError::EnvName {
                name: name.to_string(),
            });
        }
        let file = self.file.clone();
        let env = sub_table(&mut self.doc, "env", &file)?;
        set_value(env, name, Value::from(value));
        Ok(())
    }

    pub fn remove_env(&mut self, name: &str) -> Result<(), EditError> {
        self.doc
            .get_mut("env")
            .and_then(Item::as_table_like_mut)
            .and_then(|env| env.remove(name))
            .map(drop)
            .ok_or_else(|| EditError::Inherited {
                what: format!("the variable {name}"),
            })
    }

    fn share_index(&self, path: &str) -> Option<usize> {
        let wanted = normalize_relative(path);
        let share = self.doc.get("home")?.get("share")?;
        let paths: Vec<Option<String>> = match share {
            Item::ArrayOfTables(tables) => tables
                .iter()
                .map(|table| table.get("path").and_then(Item::as_str).map(String::from))
                .collect(),
            Item::Value(Value::Array(array)) => array
                .iter()
                .map(|value| {
                    value
                        .as_inline_table()
                        .and_then(|table| table.get("path"))
                        .and_then(Value::as_str)
                        .map(String::from)
                })
                .collect(),
            _ => return None,
        };
        paths
            .iter()
            .position(|path| path.as_deref().map(normalize_relative).as_deref() == Some(&wanted))
    }

    fn push_share(&mut self, share: &Share) -> Result<(), EditError> {
        let file = self.file.clone();
        let mut fields: Vec<(&str, Value)> = vec![
            ("path", Value::from(share.path.as_str())),
            ("mode", Value::from(share.mode.as_str())),
        ];
        if share.create {
            fields.push(("create", Value::from(true)));
        }
        if share.force {
            fields.push(("force", Value::from(true)));
        }
        let home_is_inline = home_is_inline(&self.doc);
        let home = sub_table(&mut self.doc, "home", &file)?;
        match home.get_mut("share") {
            Some(Item::ArrayOfTables(tables)) => {
                let mut table = Table::new();
                for (key, value) in fields {
                    table.insert(key, Item::Value(value));
                }
                tables.push(table);
            }
            Some(Item::Value(Value::Array(array))) => {
                let mut table = InlineTable::new();
                for (key, value) in fields {
                    table.insert(key, value);
                }
                array.push(table);
            }
            Some(_) => {
                return Err(EditError::NotATable {
                    file,
                    key: "home.share".into(),
                })
            }
            None if home_is_inline => {
                let mut table = InlineTable::new();
                for (key, value) in fields {
                    table.insert(key, value);
                }
                let mut array = Array::new();
                array.push(table);
                home.insert("share", Item::Value(Value::Array(array)));
            }
            None => {
                let mut table = Table::new();
                for (key, value) in fields {
                    table.insert(key, Item::Value(value));
                }
                let mut tables = ArrayOfTables::new();
                tables.push(table);
                home.insert("share", Item::ArrayOfTables(tables));
            }
        }
        Ok(())
    }
}

fn home_is_inline(doc: &DocumentMut) -> bool {
    matches!(doc.get("home"), Some(Item::Value(Value::InlineTable(_))))
}

/// Replaces a key's value, keeping the comment after it; adds the key when missing.
fn set_value(table: &mut dyn TableLike, key: &str, value: Value) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            let decor = old.decor().clone();
            *old = value;
            *old.decor_mut() = decor;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

/// A top-level table (`[home]`, `[dbus]`, `[env]`), created when missing. A new table is
/// implicit: its header is written only once it holds keys of its own.
fn sub_table<'a>(
    doc: &'a mut DocumentMut,
    key: &str,
    file: &str,
) -> Result<&'a mut dyn TableLike, EditError> {
    if !doc.contains_key(key) {
        let mut table = Table::new();
        table.set_implicit(true);
        doc.insert(key, Item::Table(table));
    }
    doc.get_mut(key)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| EditError::NotATable {
            file: file.to_string(),
            key: key.to_string(),
        })
}

/// The entries of `home.share`, whichever way the file writes them.
enum ShareList<'a> {
    Tables(&'a mut ArrayOfTables),
    Inline(&'a mut Array),
}

impl ShareList<'_> {
    fn get_mut(&mut self, index: usize) -> Option<&mut dyn TableLike> {
        match self {
            ShareList::Tables(tables) => tables
                .get_mut(index)
                .map(|table| table as &mut dyn TableLike),
            ShareList::Inline(array) => array
                .get_mut(index)
                .and_then(Value::as_inline_table_mut)
                .map(|table| table as &mut dyn TableLike),
        }
    }

    fn remove(&mut self, index: usize) {
        match self {
            ShareList::Tables(tables) => {
                tables.remove(index);
            }
            ShareList::Inline(array) => {
                array.remove(index);
            }
        }
    }
}

fn share_list<'a>(doc: &'a mut DocumentMut, file: &str) -> Result<ShareList<'a>, EditError> {
    let not_a_list = || EditError::NotATable {
        file: file.to_string(),
        key: "home.share".into(),
    };
    let item = doc
        .get_mut("home")
        .and_then(|home| home.get_mut("share"))
        .ok_or_else(not_a_list)?;
    match item {
        Item::ArrayOfTables(tables) => Ok(ShareList::Tables(tables)),
        Item::Value(Value::Array(array)) => Ok(ShareList::Inline(array)),
        _ => Err(not_a_list()),
    }
}

/// The effective profile a draft's text gives, resolved against the other known profiles
/// as the loader resolves files on disk: every change is checked and its risk known
/// before it is saved.
// The profile module's own error type, returned once per change: its size does not matter.
#[allow(clippy::result_large_err)]
pub fn resolve_text(
    set: &ProfileSet,
    name: &str,
    file: &str,
    text: &str,
) -> Result<Profile, ProfileError> {
    set.resolve_text(name, file, text, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::load::parse;
    use std::os::unix::fs::MetadataExt;

    const COMMENTED: &str = "\
# My browser. Keep this comment.
name = \"web\"
command = [\"firefox\"]
display = \"x11\"   # old session
network = \"none\"

[home]
ephemeral = false # keep my settings

# Downloads, writable.
[[home.share]]
path = \"Downloads\"
mode = \"ro\"

[dbus]
talk = [\"org.freedesktop.Notifications\"]
";

    fn draft(text: &str) -> Draft {
        Draft::from_text(
            "web",
            text,
            PathBuf::from("/nonexistent/web.toml"),
            "web.toml",
            false,
        )
        .unwrap()
    }

    #[test]
    fn changes_keep_comments_order_and_layout() {
        let mut draft = draft(COMMENTED);
        draft.set_choice("display", "wayland");
        draft.set_choice("network", "host");
        draft.set_flag("gpu", true);
        let downloads = Share {
            path: "Downloads".into(),
            mode: Access::Ro,
            create: false,
            force: false,
        };
        draft.set_share_mode(&downloads, Access::Rw).unwrap();
        draft.add_share("Music", Access::Ro).unwrap();
        draft
            .add_bus_name(BusList::Own, "org.mpris.MediaPlayer2.web")
            .unwrap();
        draft.set_env("MOZ_ENABLE_WAYLAND", "1").unwrap();
        assert_eq!(
            draft.text(),
            "\
# My browser. Keep this comment.
name = \"web\"
command = [\"firefox\"]
display = \"wayland\"   # old session
network = \"host\"
gpu = true

[home]
ephemeral = false # keep my settings

# Downloads, writable.
[[home.share]]
path = \"Downloads\"
mode = \"rw\"

[[home.share]]
path = \"Music\"
mode = \"ro\"

[dbus]
talk = [\"org.freedesktop.Notifications\"]
own = [\"org.mpris.MediaPlayer2.web\"]

[env]
MOZ_ENABLE_WAYLAND = \"1\"
"
        );
        assert!(draft.is_changed());
        let raw = parse("web.toml", &draft.text()).expect("still a valid profile");
        assert_eq!(raw.home.unwrap().share.unwrap().len(), 2);
    }

    #[test]
    fn removing_entries_and_undoing_a_change_restore_the_text() {
        let mut draft = draft(COMMENTED);
        draft.set_choice("display", "auto");
        draft.set_choice("display", "x11");
        assert!(!draft.is_changed(), "{}", draft.text());
        draft.remove_share("./Downloads/").unwrap();
        draft
            .remove_bus_name(BusList::Talk, "org.freedesktop.Notifications")
            .unwrap();
        let text = draft.text();
        assert!(!text.contains("Downloads\""), "{text}");
        assert!(!text.contains("Notifications"), "{text}");
        assert!(
            text.contains("ephemeral = false # keep my settings"),
            "{text}"
        );
        assert!(matches!(
            draft.remove_share("Music"),
            Err(EditError::Inherited { .. })
        ));
        assert!(matches!(
            draft.remove_env("NOPE"),
            Err(EditError::Inherited { .. })
        ));
    }

    #[test]
    fn inline_tables_are_edited_in_their_own_style() {
        let text = "command = [\"x\"]\nhome = { share = [ { path = \"Music\" } ] }\n";
        let mut draft = draft(text);
        draft.add_share("Videos", Access::Rw).unwrap();
        let music = Share {
            path: "Music".into(),
            mode: Access::Ro,
            create: false,
            force: false,
        };
        draft.set_share_mode(&music, Access::Rw).unwrap();
        let out = draft.text();
        assert!(
            out.starts_with("command = [\"x\"]\nhome = { share = [ { path = \"Music\""),
            "{out}"
        );
        assert!(out.contains("mode = \"rw\""), "{out}");
        assert!(out.contains("path = \"Videos\""), "{out}");
        assert!(!out.contains("[[home.share]]"), "{out}");
        parse("t.toml", &out).expect("valid");
    }

    #[test]
    fn shares_that_escape_the_home_are_refused() {
        let mut draft = draft(COMMENTED);
        for path in [
            "../etc",
            "/etc",
            "~/x",
            "",
            ".",
            ".ssh",
            "Documents/../../x",
        ] {
            assert!(
                matches!(
                    draft.add_share(path, Access::Ro),
                    Err(EditError::SharePath { .. })
                ),
                "{path}"
            );
        }
        assert!(matches!(
            draft.add_share("Downloads/", Access::Ro),
            Err(EditError::Duplicate { .. })
        ));
        assert!(!draft.is_changed());
    }

    #[test]
    fn an_inherited_share_gets_its_own_entry_to_change_mode() {
        let mut draft = draft("name = \"web\"\nextends = \"base\"\n");
        let inherited = Share {
            path: "Pictures".into(),
            mode: Access::Ro,
            create: true,
            force: false,
        };
        assert!(!draft.owns_share("Pictures"));
        draft.set_share_mode(&inherited, Access::Rw).unwrap();
        assert_eq!(
            draft.text(),
            "name = \"web\"\nextends = \"base\"\n\n[[home.share]]\npath = \"Pictures\"\nmode = \"rw\"\ncreate = true\n"
        );
        assert!(draft.owns_share("Pictures"));
    }

    #[test]
    fn saving_is_atomic_and_keeps_the_file_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.toml");
        std::fs::write(&path, COMMENTED).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let before = std::fs::metadata(&path).unwrap().ino();
        let mut draft =
            Draft::from_text("web", COMMENTED, path.clone(), "web.toml", false).unwrap();
        draft.set_flag("webcam", true);
        crate::profile::ops::save_text(&draft.target, &draft.text()).unwrap();
        draft.mark_saved();
        let after = std::fs::metadata(&path).unwrap();
        assert_ne!(after.ino(), before, "a new file renamed over the old one");
        assert_eq!(after.mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), draft.text());
        assert!(!draft.is_changed());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["web.toml"], "no temporary file left");
    }

    #[test]
    fn saving_a_bundled_profile_writes_a_user_override() {
        let dir = tempfile::tempdir().unwrap();
        let user_dir = dir.path().join("profiles");
        let bundled = ProfileSet::bundled();
        let entry = bundled.entries().next().expect("boxtop bundles profiles");
        let mut draft = Draft::open(entry, &user_dir).unwrap();
        assert!(draft.creates_override);
        assert_eq!(draft.target, user_dir.join(format!("{}.toml", entry.name)));
        draft.set_flag("webcam", true);
        crate::profile::ops::save_text(&draft.target, &draft.text()).unwrap();
        draft.mark_saved();
        let set = ProfileSet::load(&user_dir);
        let saved = set.get(&entry.name).unwrap();
        assert_eq!(saved.source, Source::Override);
        assert!(set.resolve(&entry.name).unwrap().webcam);
        let original = entry.text.as_deref().unwrap();
        let written = saved.text.as_deref().unwrap();
        for comment in original
            .lines()
            .filter(|line| line.trim_start().starts_with('#'))
        {
            assert!(written.contains(comment), "{comment:?} kept");
        }
    }

    #[test]
    fn a_draft_resolves_with_extends_and_reports_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("base.toml"),
            "command = [\"x\"]\nnetwork = \"host\"\n",
        )
        .unwrap();
        let mut set = ProfileSet::default();
        set.add_user_dir(dir.path());
        let child = "name = \"child\"\nextends = \"base\"\ngpu = true\n";
        let profile = resolve_text(&set, "child", "child.toml", child).unwrap();
        assert!(profile.gpu);
        assert_eq!(profile.network, crate::profile::Network::Host);
        let bad = "name = \"child\"\nextends = \"nothing\"\n";
        let err = resolve_text(&set, "child", "child.toml", bad).unwrap_err();
        assert!(
            err.to_string().contains("no profile named 'nothing'"),
            "{err}"
        );
        assert_eq!(err.line, Some(2));
    }
}
