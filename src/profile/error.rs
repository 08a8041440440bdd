//! Profile errors a user can act on: which file, which line and column, which key, what
//! was wrong and what to do.

use std::fmt;
use std::ops::Range;

use crate::escape;

/// One segment of a key path: `home.share[2].path` is `home`, `share`, `2`, `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySeg {
    Key(String),
    Index(usize),
}

/// A key path inside a profile file.
pub type KeyPath = Vec<KeySeg>;

/// Shorthand for a key path made of plain keys.
pub fn key_path(keys: &[&str]) -> KeyPath {
    keys.iter()
        .map(|key| KeySeg::Key((*key).to_string()))
        .collect()
}

/// Renders `home.share[2].path`.
pub fn key_path_string(path: &[KeySeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            KeySeg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            KeySeg::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// What went wrong with a profile, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    /// The file as the user knows it: a path, or `bundled:NAME.toml`.
    pub file: String,
    /// 1-based line and column, when the error has a place in the file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The key, dotted (`home.share[0].path`), when there is one.
    pub key: Option<String>,
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl ProfileError {
    /// An error about the whole file, with no position.
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            column: None,
            key: None,
            message: message.into(),
            hint: None,
        }
    }

    /// An error at a key, located in `source` when the key is written there.
    pub fn at_key(
        file: impl Into<String>,
        source: Option<&str>,
        key: &[KeySeg],
        message: impl Into<String>,
    ) -> Self {
        let position =
            source.and_then(|text| locate_key(text, key).map(|span| line_column(text, span.start)));
        Self {
            file: file.into(),
            line: position.map(|(line, _)| line),
            column: position.map(|(_, column)| column),
            key: (!key.is_empty()).then(|| key_path_string(key)),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Shown with its control characters escaped: the file's name and the values quoted in
/// the message come from the user's files.
impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", escape::controls(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "key `{}`: ", escape::controls(key))?;
        }
        write!(f, "{}", escape::message(&self.message))?;
        if let Some(hint) = &self.hint {
            write!(f, " ({})", escape::message(hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for ProfileError {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |pos| pos + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The byte span of a key's value in a TOML text (or of the key itself when the value
/// has no span), found with toml_edit, which keeps positions.
pub fn locate_key(text: &str, path: &[KeySeg]) -> Option<Range<usize>> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut item = doc.as_item();
    let mut key_span = None;
    for seg in path {
        let next = match seg {
            KeySeg::Key(key) => {
                key_span = item
                    .as_table_like()
                    .and_then(|table| table.get_key_value(key))
                    .and_then(|(key, _)| key.span());
                item.get(key.as_str())
            }
            KeySeg::Index(index) => item.get(*index),
        };
        match next {
            Some(next) => item = next,
            None => break,
        }
    }
    key_span.or_else(|| item.span())
}

/// The dotted key at a byte offset, from the nearest `[table]` header above it and the
/// `key =` on its line: serde errors from the toml crate carry a span but no key.
pub fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |pos| pos + 1);
    let line_end = text[offset..]
        .find('\n')
        .map_or(text.len(), |pos| offset + pos);
    let line = text[line_start..line_end].trim();
    let header = text[..line_start].lines().rev().find_map(|line| {
        let line = line.trim();
        line.starts_with('[').then(|| {
            line.trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
    });
    let own = if line.starts_with('[') {
        None
    } else {
        line.split('=').next().map(|key| key.trim().to_string())
    };
    match (header, own) {
        (Some(header), Some(own)) if !own.is_empty() => Some(format!("{header}.{own}")),
        (Some(header), _) => Some(header),
        (None, Some(own)) if !own.is_empty() => Some(own),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_keys_and_array_entries() {
        let text = "name = \"x\"\n[home]\nephemeral = true\n[[home.share]]\npath = \"a\"\n[[home.share]]\npath = \"../b\"\n";
        let path = vec![
            KeySeg::Key("home".into()),
            KeySeg::Key("share".into()),
            KeySeg::Index(1),
            KeySeg::Key("path".into()),
        ];
        let span = locate_key(text, &path).expect("found");
        assert_eq!(line_column(text, span.start), (7, 1));
        let inline = "home = { share = [ { path = \"a\" }, { path = \"..\" } ] }\n";
        let span = locate_key(inline, &path).expect("found");
        assert_eq!(line_column(inline, span.start).0, 1);
        assert_eq!(&inline[span.clone()], "path");
    }

    #[test]
    fn key_at_uses_the_table_header() {
        let text = "name = \"x\"\n[home]\nephemeral = 3\n";
        let offset = text.find('3').unwrap();
        assert_eq!(key_at(text, offset).as_deref(), Some("home.ephemeral"));
    }

    #[test]
    fn display_names_file_line_key_and_hint() {
        let err = ProfileError {
            file: "/p/x.toml".into(),
            line: Some(3),
            column: Some(1),
            key: Some("network".into()),
            message: "unknown value".into(),
            hint: Some("use none, host or isolated".into()),
        };
        assert_eq!(
            err.to_string(),
            "/p/x.toml:3:1: key `network`: unknown value (use none, host or isolated)"
        );
    }
}
