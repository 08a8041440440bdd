//! The keys of a profile typed as text in the editor (Enter opens a prompt with the value,
//! `d` removes the key): the program (`command`, `binaries`, `desktop_file`, `extends`,
//! `description`), `[limits]`, `[[binds]]` and the system bus names. The rest of the
//! schema has rows of its own (choices, switches, shares, session bus names, variables).
//! What is typed is parsed here; whether the profile is still valid is the editor's check.

use toml_edit::{Array, ArrayOfTables, Item, Table, TableLike, Value};

use super::{set_value, sub_table, Draft, EditError};
use crate::profile::schema::{Access, Bind, Share};
use crate::profile::validate::{check_share_path, normalize_relative};
use crate::profile::Profile;
use crate::tui::prompt::split_args;

/// A key edited as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Command,
    Binaries,
    Description,
    DesktopFile,
    Extends,
    Memory,
    Cpu,
    Pids,
    Binds,
    SystemBus,
}

impl Field {
    pub const ALL: [Field; 10] = [
        Field::Command,
        Field::Binaries,
        Field::Description,
        Field::DesktopFile,
        Field::Extends,
        Field::Memory,
        Field::Cpu,
        Field::Pids,
        Field::Binds,
        Field::SystemBus,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Command => "Command",
            Field::Binaries => "Binaries",
            Field::Description => "Description",
            Field::DesktopFile => "Menu entry id",
            Field::Extends => "Extends",
            Field::Memory => "Memory limit",
            Field::Cpu => "CPU limit",
            Field::Pids => "Process limit",
            Field::Binds => "Binds",
            Field::SystemBus => "System D-Bus",
        }
    }

    /// The key as the file writes it.
    pub fn key(self) -> &'static str {
        match self {
            Field::Command => "command",
            Field::Binaries => "binaries",
            Field::Description => "description",
            Field::DesktopFile => "desktop_file",
            Field::Extends => "extends",
            Field::Memory => "limits.memory",
            Field::Cpu => "limits.cpu",
            Field::Pids => "limits.pids",
            Field::Binds => "binds",
            Field::SystemBus => "dbus.system_talk",
        }
    }

    /// What to type, under the prompt.
    pub fn hint(self) -> &'static str {
        match self {
            Field::Command => "program and arguments, quoted as in a shell; Tab completes",
            Field::Binaries => "where the program may be installed: absolute paths",
            Field::Description => "one line; empty removes it",
            Field::DesktopFile => "the app's .desktop id; Tab completes installed apps",
            Field::Extends => "a profile this one starts from; empty removes it",
            Field::Memory => "e.g. 2G or 512M; empty: no limit",
            Field::Cpu => "CPU cores, e.g. 1.5; empty: no limit",
            Field::Pids => "processes and threads, e.g. 512; empty: no limit",
            Field::Binds => "PATH[:ro|:rw][?] each, absolute; ? when it may be missing",
            Field::SystemBus => "system bus names the app may talk to",
        }
    }

    /// The effective value as text, as it is typed back.
    pub fn text(self, profile: &Profile) -> String {
        match self {
            Field::Command => join_words(&profile.command),
            Field::Binaries => join_words(&profile.binaries),
            Field::Description => profile.description.clone(),
            Field::DesktopFile => profile.desktop_file.clone().unwrap_or_default(),
            Field::Extends => profile.extends.clone().unwrap_or_default(),
            Field::Memory => profile
                .limits
                .memory_bytes
                .map(memory_text)
                .unwrap_or_default(),
            Field::Cpu => profile
                .limits
                .cpu
                .map(|c| c.to_string())
                .unwrap_or_default(),
            Field::Pids => profile
                .limits
                .pids
                .map(|p| p.to_string())
                .unwrap_or_default(),
            Field::Binds => {
                let words: Vec<String> = profile.binds.iter().map(bind_text).collect();
                join_words(&words)
            }
            Field::SystemBus => join_words(&profile.dbus.system_talk),
        }
    }
}

impl Draft {
    /// Sets `field` from what was typed; an empty input removes the key.
    pub fn set_field(&mut self, field: Field, input: &str) -> Result<(), EditError> {
        let input = input.trim();
        let bad = |message: String| EditError::Value {
            what: field.key().to_string(),
            message,
        };
        let words = || split_args(input).map_err(bad);
        if input.is_empty() {
            return self.remove_field(field);
        }
        let value: Item = match field {
            Field::Description | Field::DesktopFile | Field::Extends | Field::Memory => {
                Item::Value(Value::from(input))
            }
            Field::Command | Field::Binaries | Field::SystemBus => {
                Item::Value(Value::Array(words()?.iter().collect::<Array>()))
            }
            Field::Cpu => {
                let cores: f64 = input
                    .parse()
                    .map_err(|_| bad(format!("'{input}' is not a number of cores")))?;
                Item::Value(Value::from(cores))
            }
            Field::Pids => {
                let pids: u32 = input
                    .parse()
                    .map_err(|_| bad(format!("'{input}' is not a whole number")))?;
                Item::Value(Value::from(i64::from(pids)))
            }
            Field::Binds => {
                let mut tables = ArrayOfTables::new();
                for word in words()? {
                    tables.push(bind_table(&parse_bind(&word).map_err(bad)?));
                }
                Item::ArrayOfTables(tables)
            }
        };
        let file = self.file.clone();
        let (table, key): (&mut dyn TableLike, &str) = match field.key().split_once('.') {
            Some((outer, key)) => (sub_table(&mut self.doc, outer, &file)?, key),
            None => (self.doc.as_table_mut(), field.key()),
        };
        match value {
            Item::Value(value) => set_value(table, key, value),
            other => {
                table.insert(key, other);
            }
        }
        Ok(())
    }

    /// Whether this file itself sets the key (else it is inherited or unset).
    pub fn owns_field(&self, field: Field) -> bool {
        match field.key().split_once('.') {
            Some((outer, key)) => self
                .doc
                .get(outer)
                .and_then(Item::as_table_like)
                .is_some_and(|table| table.contains_key(key)),
            None => self.doc.contains_key(field.key()),
        }
    }

    /// Removes the key from this file (what it extends may still set it).
    fn remove_field(&mut self, field: Field) -> Result<(), EditError> {
        let removed = match field.key().split_once('.') {
            Some((outer, key)) => self
                .doc
                .get_mut(outer)
                .and_then(Item::as_table_like_mut)
                .and_then(|table| table.remove(key)),
            None => self.doc.remove(field.key()),
        };
        removed.map(drop).ok_or_else(|| EditError::Inherited {
            what: field.label().to_string(),
        })
    }
}

impl Draft {
    /// Adds `[[home.share]]` with its flags; escaping paths are refused, and sensitive
    /// ones unless `force` is set.
    pub fn add_share_with(&mut self, share: &Share) -> Result<(), EditError> {
        check_share_path(&share.path, share.force)
            .map_err(|(message, hint)| EditError::SharePath { message, hint })?;
        let share = Share {
            path: normalize_relative(&share.path),
            ..share.clone()
        };
        if self.owns_share(&share.path) {
            return Err(EditError::Duplicate {
                what: format!("a share of ~/{}", share.path),
            });
        }
        self.push_share(&share)
    }
}

/// A share as the editor's prompt takes it: `PATH[:ro|:rw][+create][+force]`
/// (`Documents:rw+create`); read-only unless `:rw`.
pub fn parse_share(input: &str) -> Result<Share, String> {
    let mut rest = input.trim();
    let (mut create, mut force) = (false, false);
    loop {
        if let Some(before) = rest.strip_suffix("+create") {
            (rest, create) = (before, true);
        } else if let Some(before) = rest.strip_suffix("+force") {
            (rest, force) = (before, true);
        } else {
            break;
        }
    }
    let (path, mode) = match rest.rsplit_once(':') {
        Some((path, "ro")) => (path, Access::Ro),
        Some((path, "rw")) => (path, Access::Rw),
        Some((_, other)) => return Err(format!("'{other}' is no mode: write :ro or :rw")),
        None => (rest, Access::Ro),
    };
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        return Err("type a folder of your home".into());
    }
    Ok(Share {
        path: path.to_string(),
        mode,
        create,
        force,
    })
}

/// `/media:ro`, `/opt/app:rw?`: a path, its mode (read-only unless `:rw`), and `?` when
/// it may be missing on the host.
fn parse_bind(word: &str) -> Result<Bind, String> {
    let (word, optional) = match word.strip_suffix('?') {
        Some(rest) => (rest, true),
        None => (word, false),
    };
    let (path, mode) = match word.rsplit_once(':') {
        Some((path, "ro")) => (path, Access::Ro),
        Some((path, "rw")) => (path, Access::Rw),
        Some((_, other)) => {
            return Err(format!("'{other}' is no mode: write :ro or :rw"));
        }
        None => (word, Access::Ro),
    };
    Ok(Bind {
        path: path.to_string(),
        mode,
        optional,
    })
}

fn bind_table(bind: &Bind) -> Table {
    let mut table = Table::new();
    table.insert("path", Item::Value(Value::from(bind.path.as_str())));
    table.insert("mode", Item::Value(Value::from(bind.mode.as_str())));
    if bind.optional {
        table.insert("optional", Item::Value(Value::from(true)));
    }
    table
}

fn bind_text(bind: &Bind) -> String {
    let optional = if bind.optional { "?" } else { "" };
    format!("{}:{}{optional}", bind.path, bind.mode.as_str())
}

/// Bytes as a limit is written: `2G`, `512M`, `64K`, or bytes.
fn memory_text(bytes: u64) -> String {
    for (unit, size) in [("G", 1u64 << 30), ("M", 1 << 20), ("K", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    bytes.to_string()
}

/// Words as they are typed back: quoted when they hold a space or a quote.
pub fn join_words(words: &[String]) -> String {
    words
        .iter()
        .map(|word| {
            let plain = !word.is_empty()
                && !word
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '\'' | '"' | '\\'));
            if plain {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
