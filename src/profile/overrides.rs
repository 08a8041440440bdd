//! Overrides of bundled profiles as deltas: an edit of a bundled profile is saved as
//! `extends = "NAME"` (its own name: the bundled original) plus only the keys it changes,
//! so later fixes of the bundled profile still reach it; what an override changes can be
//! listed (`show`, `list`), and undone whole or one key at a time (`boxtop reset`).
//!
//! A delta can add and change but not remove (see docs/profiles.md, "How `extends`
//! merges"): an edit that removes an inherited share or name is kept whole, and every
//! delta is checked to give the very profile the whole edit gives before it is used.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use toml_edit::{DocumentMut, Item};

use super::load::{parse, ProfileSet, Source};
use super::schema::RawProfile;
use super::{Profile, ProfileError};
use crate::atomic::write_atomic;

/// Top-level keys whose value replaces the parent's whole.
const SCALARS: &[&str] = &[
    "description",
    "desktop_file",
    "binaries",
    "command",
    "display",
    "audio",
    "gpu",
    "webcam",
    "network",
    "allow_userns",
];

/// Tables whose keys each replace the parent's: (table, key).
const TABLE_SCALARS: &[(&str, &str)] = &[
    ("home", "ephemeral"),
    ("limits", "memory"),
    ("limits", "cpu"),
    ("limits", "pids"),
];

/// Lists whose entries add to the parent's: (table, key); `None` for a top-level list.
const LISTS: &[(Option<&str>, &str)] = &[
    (Some("home"), "share"),
    (None, "binds"),
    (Some("dbus"), "talk"),
    (Some("dbus"), "own"),
    (Some("dbus"), "see"),
    (Some("dbus"), "system_talk"),
];

/// Tables left out of a delta when nothing in them is kept.
const TABLES: &[&str] = &["home", "dbus", "env", "limits"];

/// Why an override could not be worked on.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("no profile named '{0}' (see `boxtop list`)")]
    Unknown(String),
    #[error(
        "'{0}' is not an override of a bundled profile: there is no bundled default to \
         reset it to (your own profile is deleted with `boxtop` TUI's `d`, or by removing its file)"
    )]
    NotOverride(String),
    #[error("{file}: not valid TOML: {reason}")]
    Toml { file: String, reason: String },
    #[error("{0}")]
    Profile(#[from] Box<ProfileError>),
    #[error(
        "the override of '{name}' does not change `{key}`; it changes: {}",
        if .changed.is_empty() { "nothing".to_string() } else { .changed.join(", ") }
    )]
    KeyUnchanged {
        name: String,
        key: String,
        changed: Vec<String>,
    },
    #[error(
        "the override of '{name}' cannot drop `{key}` alone: it removes what the bundled \
         profile grants, which only a whole copy can say; reset it whole (`boxtop reset {name}`)"
    )]
    NotDelta { name: String, key: String },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {}: {source}", .path.display())]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn json(raw: &RawProfile) -> Value {
    serde_json::to_value(raw).expect("a raw profile serializes")
}

/// The same profile, whatever it says it extends (a delta names its own name).
fn same_profile(a: &Profile, b: &Profile) -> bool {
    Profile {
        extends: None,
        ..a.clone()
    } == Profile {
        extends: None,
        ..b.clone()
    }
}

/// `text`, an edit of the bundled profile `name` (a whole copy, or already a delta), as a
/// delta over the bundled original: `None` when it cannot be one (it extends another
/// profile than the original does, or removes something the original grants) or when
/// `name` has no bundled original.
pub fn as_delta(set: &ProfileSet, name: &str, text: &str) -> Option<String> {
    let original = set.bundled_original(name)?;
    let bundled = original.raw().clone().ok()?;
    let file = format!("{name}.toml");
    let edited = parse(&file, text).ok()?;
    let is_delta_already = edited.extends.as_deref() == Some(name);
    if !is_delta_already && edited.extends != bundled.extends {
        return None;
    }
    let mut doc: DocumentMut = text.parse().ok()?;
    // A delta already holds only changes: the bundled keys it has are compared too.
    let base = json(&bundled);
    let mine = json(&edited);
    for key in SCALARS {
        if mine[key] == base[key] {
            doc.remove(key);
        }
    }
    for (table, key) in TABLE_SCALARS {
        if !mine[table][key].is_null() && mine[table][key] == base[table][key] {
            remove_in_table(&mut doc, table, key);
        }
    }
    for (table, key) in LISTS {
        let (mine, base) = match table {
            Some(table) => (&mine[table][key], &base[table][key]),
            None => (&mine[key], &base[key]),
        };
        let base = base.as_array().cloned().unwrap_or_default();
        let keep: Vec<bool> = mine
            .as_array()
            .map(|entries| entries.iter().map(|e| !base.contains(e)).collect())
            .unwrap_or_default();
        retain_list(&mut doc, *table, key, &keep);
    }
    if let Some(env) = mine["env"].as_object() {
        for (key, value) in env {
            if base["env"][key] == *value {
                remove_in_table(&mut doc, "env", key);
            }
        }
    }
    for table in TABLES {
        let empty = doc
            .get(table)
            .and_then(Item::as_table_like)
            .is_some_and(|t| t.is_empty());
        if empty {
            doc.remove(table);
        }
    }
    set_extends(&mut doc, name);
    let delta = doc.to_string();
    // Used only if it gives the very profile the whole edit gives.
    let path = PathBuf::from(&file);
    let whole = set.resolve_text(name, &file, text, Some(&path)).ok()?;
    let from_delta = set.resolve_text(name, &file, &delta, Some(&path)).ok()?;
    same_profile(&whole, &from_delta).then_some(delta)
}

fn set_extends(doc: &mut DocumentMut, name: &str) {
    if doc.contains_key("extends") {
        doc["extends"] = toml_edit::value(name);
        return;
    }
    doc.insert("extends", toml_edit::value(name));
    if let Some(mut key) = doc.key_mut("extends") {
        key.leaf_decor_mut().set_prefix(format!(
            "# Only what differs from the bundled '{name}' profile; `boxtop reset {name}` \
             undoes it.\n"
        ));
    }
}

fn remove_in_table(doc: &mut DocumentMut, table: &str, key: &str) {
    if let Some(table) = doc.get_mut(table).and_then(Item::as_table_like_mut) {
        table.remove(key);
    }
}

/// Keeps the entries of a list whose flag is set, as an array of tables or an inline
/// array, and removes the list when none is left.
fn retain_list(doc: &mut DocumentMut, table: Option<&str>, key: &str, keep: &[bool]) {
    let parent = match table {
        Some(table) => match doc.get_mut(table).and_then(Item::as_table_like_mut) {
            Some(parent) => parent,
            None => return,
        },
        None => doc.as_table_mut() as &mut dyn toml_edit::TableLike,
    };
    let Some(item) = parent.get_mut(key) else {
        return;
    };
    let mut index = 0;
    let mut flag = || {
        let kept = keep.get(index).copied().unwrap_or(true);
        index += 1;
        kept
    };
    let empty = match item {
        Item::ArrayOfTables(tables) => {
            tables.retain(|_| flag());
            tables.is_empty()
        }
        Item::Value(toml_edit::Value::Array(array)) => {
            array.retain(|_| flag());
            array.is_empty()
        }
        _ => false,
    };
    if empty {
        parent.remove(key);
    }
}

/// What the profile `name` changes of its bundled default, one entry per key: `display`,
/// `env.LANG`, `home.share[Documents]`, `dbus.talk[org.foo.Bar]`. `None` when `name` is
/// no override of a bundled profile, or either does not load.
pub fn changes(set: &ProfileSet, name: &str) -> Option<Vec<String>> {
    let entry = set.get(name)?;
    if entry.source != Source::Override {
        return None;
    }
    let bundled = set.resolve_bundled_original(name)?.ok()?;
    let current = set.resolve(name).ok()?;
    let mut out = Vec::new();
    let (a, b) = (
        serde_json::to_value(&bundled).ok()?,
        serde_json::to_value(&current).ok()?,
    );
    diff("", &a, &b, &mut out);
    out.retain(|key| key != "name" && key != "extends");
    Some(out)
}

/// The keys under which `a` and `b` differ: objects key by key, lists of tables by their
/// `path`, lists of names by name.
fn diff(prefix: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let none = Value::Null;
                diff(
                    &join(key),
                    a.get(key).unwrap_or(&none),
                    b.get(key).unwrap_or(&none),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) if is_keyed(a) && is_keyed(b) => {
            let key_of = |v: &Value| match v {
                Value::String(s) => s.clone(),
                v => v["path"].as_str().unwrap_or_default().to_string(),
            };
            let keys: BTreeSet<String> = a.iter().chain(b.iter()).map(key_of).collect();
            for key in keys {
                let find = |list: &[Value]| list.iter().find(|v| key_of(v) == key).cloned();
                if find(a) != find(b) {
                    out.push(format!("{prefix}[{key}]"));
                }
            }
        }
        (a, b) if a != b => out.push(prefix.to_string()),
        _ => {}
    }
}

/// A list merged by key: names, or tables with a `path`.
fn is_keyed(list: &[Value]) -> bool {
    list.iter()
        .all(|v| v.is_string() || v.get("path").is_some_and(Value::is_string))
}

/// What `reset` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reset {
    /// The override file was removed: the bundled profile applies again.
    Removed(PathBuf),
    /// The key was dropped from the override, which was saved.
    KeyDropped { file: PathBuf, left: Vec<String> },
}

/// Undoes the user's override of the bundled profile `name`: whole (its file removed), or
/// only `key` (a top-level key such as `display` or `binds`, or `TABLE.KEY` such as
/// `home.share`, `dbus.talk`, `env.LANG`, `limits.memory`), the file saved atomically and
/// removed when nothing is left of it. Comments of the file are kept.
pub fn reset(set: &ProfileSet, name: &str, key: Option<&str>) -> Result<Reset, OverrideError> {
    let entry = set
        .get(name)
        .ok_or_else(|| OverrideError::Unknown(name.to_string()))?;
    let path = match (&entry.path, entry.source) {
        (Some(path), Source::Override) => path.clone(),
        _ => return Err(OverrideError::NotOverride(name.to_string())),
    };
    let Some(key) = key else {
        std::fs::remove_file(&path).map_err(|source| OverrideError::Remove {
            path: path.clone(),
            source,
        })?;
        return Ok(Reset::Removed(path));
    };
    let file = path.display().to_string();
    let text = entry.text.clone().unwrap_or_default();
    // A whole copy is made a delta first: dropping a key of it must mean "as bundled".
    let delta = as_delta(set, name, &text).ok_or_else(|| OverrideError::NotDelta {
        name: name.to_string(),
        key: key.to_string(),
    })?;
    let mut doc: DocumentMut =
        delta
            .parse()
            .map_err(|err: toml_edit::TomlError| OverrideError::Toml {
                file: file.clone(),
                reason: err.to_string(),
            })?;
    let removed = match key.split_once('.') {
        Some((table, inner)) => {
            let removed = doc
                .get_mut(table)
                .and_then(Item::as_table_like_mut)
                .and_then(|t| t.remove(inner))
                .is_some();
            let empty = doc
                .get(table)
                .and_then(Item::as_table_like)
                .is_some_and(|t| t.is_empty());
            if empty {
                doc.remove(table);
            }
            removed
        }
        None if key == "name" || key == "extends" => false,
        None => doc.remove(key).is_some(),
    };
    if !removed {
        return Err(OverrideError::KeyUnchanged {
            name: name.to_string(),
            key: key.to_string(),
            changed: changes(set, name).unwrap_or_default(),
        });
    }
    let left: Vec<String> = doc
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| k != "name" && k != "extends")
        .collect();
    if left.is_empty() {
        std::fs::remove_file(&path).map_err(|source| OverrideError::Remove {
            path: path.clone(),
            source,
        })?;
        return Ok(Reset::Removed(path));
    }
    let text = doc.to_string();
    set.resolve_text(name, &file, &text, Some(&path))
        .map_err(Box::new)?;
    write_atomic(&path, text.as_bytes()).map_err(|source| OverrideError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(Reset::KeyDropped { file: path, left })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundled profiles with a user folder `dir`.
    fn set_with(dir: &std::path::Path) -> ProfileSet {
        let mut set = ProfileSet::bundled();
        set.add_user_dir(dir);
        set
    }

    fn bundled_text(name: &str) -> String {
        ProfileSet::bundled()
            .get(name)
            .and_then(|e| e.text.clone())
            .unwrap()
    }

    #[test]
    fn an_edited_copy_of_a_bundled_profile_becomes_extends_and_its_changes() {
        let dir = tempfile::tempdir().unwrap();
        let set = set_with(dir.path());
        let edited = bundled_text("mousepad")
            .replace("display = \"auto\"", "display = \"x11\"")
            .replace(
                "\"org.xfce.mousepad\",",
                "\"org.xfce.mousepad\",\n    \"org.example.Extra\",",
            )
            + "\n[[binds]]\n# Media, to open notes there.\npath = \"/media\"\n";
        let delta = as_delta(&set, "mousepad", &edited).expect("a delta");
        assert!(delta.contains("extends = \"mousepad\""), "{delta}");
        assert!(delta.contains("display = \"x11\""), "{delta}");
        // The comment of a kept key stays with it.
        assert!(delta.contains("# Display, Wayland when"), "{delta}");
        assert!(delta.contains("\"org.example.Extra\""), "{delta}");
        assert!(delta.contains("# Media, to open notes there."), "{delta}");
        for unchanged in [
            "command",
            "binaries",
            "network",
            "Documents",
            "GSETTINGS_BACKEND",
        ] {
            assert!(!delta.contains(unchanged), "{unchanged} kept:\n{delta}");
        }
        assert!(!delta.contains("\"org.xfce.mousepad\""), "{delta}");
        // An edit that changes nothing is a delta of nothing.
        let none = as_delta(&set, "mousepad", &bundled_text("mousepad")).unwrap();
        assert!(!none.contains("display"), "{none}");
    }

    #[test]
    fn an_edit_removing_a_grant_of_the_bundled_profile_cannot_be_a_delta() {
        let dir = tempfile::tempdir().unwrap();
        let set = set_with(dir.path());
        let edited = bundled_text("mousepad").replace(
            "[[home.share]]\npath = \"Documents\"\nmode = \"rw\"\ncreate = true\n",
            "",
        );
        assert!(!edited.contains("Documents\""), "{edited}");
        assert_eq!(as_delta(&set, "mousepad", &edited), None);
    }

    #[test]
    fn reset_drops_one_key_then_the_whole_file_and_changes_lists_what_differs() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mousepad.toml");
        // An old-style whole copy with two changes.
        let whole = bundled_text("mousepad")
            .replace("display = \"auto\"", "display = \"x11\"")
            .replace("network = \"none\"", "network = \"isolated\"");
        std::fs::write(&file, &whole).unwrap();
        let set = set_with(dir.path());
        assert_eq!(changes(&set, "mousepad").unwrap(), ["display", "network"]);
        let err = reset(&set, "mousepad", Some("gpu")).unwrap_err();
        assert!(
            err.to_string().contains("changes: display, network"),
            "{err}"
        );
        let done = reset(&set, "mousepad", Some("display")).unwrap();
        assert!(
            matches!(&done, Reset::KeyDropped { left, .. } if left == &["network"]),
            "{done:?}"
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("extends = \"mousepad\"") && !text.contains("display"),
            "{text}"
        );
        let set = set_with(dir.path());
        assert_eq!(changes(&set, "mousepad").unwrap(), ["network"]);
        assert_eq!(
            reset(&set, "mousepad", Some("network")).unwrap(),
            Reset::Removed(file.clone())
        );
        assert!(!file.exists());
        let set = set_with(dir.path());
        assert!(matches!(
            reset(&set, "mousepad", None),
            Err(OverrideError::NotOverride(_))
        ));
    }
}
