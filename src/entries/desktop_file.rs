//! The Desktop Entry file format: groups, keys (`Key` and localized `Key[xx]`), comments
//! and blank lines, kept line by line so that a file read and written back is unchanged;
//! and the value escapes of the spec (`\s \n \t \r \\`, `\;` in lists).
//!
//! Reading is as lenient as GLib (which is what desktops use): a repeated key or group is
//! allowed and the last value wins. Lines GLib would refuse are errors here too.

use std::fmt;

/// The group every desktop entry, autostart file included, has.
pub const MAIN_GROUP: &str = "Desktop Entry";

/// A line that is none of a group, a key, a comment or a blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// A blank line or a comment, kept as written.
    Verbatim(String),
    Group {
        name: String,
        /// The header as written.
        text: String,
    },
    Entry {
        key: String,
        locale: Option<String>,
        /// As written in the file (escaped), without the whitespace around `=`.
        value: String,
        /// The whole line as written, so that an untouched entry is written back as is.
        text: String,
    },
}

/// A parsed desktop entry file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesktopFile {
    lines: Vec<Line>,
    /// Whether the text ended with a newline (files written here always do).
    ends_with_newline: bool,
}

/// One `Key[locale]=value` of a group, its value still escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    pub key: &'a str,
    pub locale: Option<&'a str>,
    pub raw: &'a str,
}

impl DesktopFile {
    /// An empty file, to be filled with [`DesktopFile::comment`] and [`DesktopFile::set`].
    pub fn new() -> Self {
        Self {
            lines: Vec::new(),
            ends_with_newline: true,
        }
    }

    pub fn parse(text: &str) -> Result<Self, SyntaxError> {
        let mut lines = Vec::new();
        let mut in_group = false;
        for (index, line) in text.lines().enumerate() {
            let error = |message: &str| SyntaxError {
                line: index + 1,
                message: message.to_string(),
            };
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                lines.push(Line::Verbatim(line.to_string()));
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let name = rest
                    .trim_end()
                    .strip_suffix(']')
                    .ok_or_else(|| error("a group header must end with ']'"))?;
                if name.is_empty()
                    || name.contains(['[', ']'])
                    || name.chars().any(char::is_control)
                {
                    return Err(error(
                        "a group name may not be empty or hold '[', ']' or control characters",
                    ));
                }
                in_group = true;
                lines.push(Line::Group {
                    name: name.to_string(),
                    text: line.to_string(),
                });
                continue;
            }
            let (key_part, value) = trimmed
                .split_once('=')
                .ok_or_else(|| error("the line is not a group, a key=value, a comment or blank"))?;
            if !in_group {
                return Err(error("a key comes before the first [group]"));
            }
            let (key, locale) = split_key(key_part.trim_end()).map_err(error)?;
            lines.push(Line::Entry {
                key: key.to_string(),
                locale: locale.map(str::to_string),
                value: value.trim_start_matches([' ', '\t']).to_string(),
                text: line.to_string(),
            });
        }
        Ok(Self {
            lines,
            ends_with_newline: text.is_empty() || text.ends_with('\n'),
        })
    }

    /// The group names, in order (a repeated group once).
    pub fn groups(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for line in &self.lines {
            if let Line::Group { name, .. } = line {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        names
    }

    pub fn has_group(&self, group: &str) -> bool {
        self.groups().contains(&group)
    }

    /// Every entry of a group, in file order.
    pub fn entries(&self, group: &str) -> Vec<Entry<'_>> {
        let mut current: Option<&str> = None;
        let mut out = Vec::new();
        for line in &self.lines {
            match line {
                Line::Group { name, .. } => current = Some(name),
                Line::Entry {
                    key, locale, value, ..
                } if current == Some(group) => out.push(Entry {
                    key,
                    locale: locale.as_deref(),
                    raw: value,
                }),
                _ => {}
            }
        }
        out
    }

    /// The escaped value of `key[locale]` (`locale` None: the plain key); the last one wins.
    pub fn raw_localized(&self, group: &str, key: &str, locale: Option<&str>) -> Option<&str> {
        self.entries(group)
            .into_iter()
            .rfind(|entry| entry.key == key && entry.locale == locale)
            .map(|entry| entry.raw)
    }

    /// The escaped value of a plain (not localized) key.
    pub fn raw(&self, group: &str, key: &str) -> Option<&str> {
        self.raw_localized(group, key, None)
    }

    /// A string value, unescaped.
    pub fn string(&self, group: &str, key: &str) -> Option<String> {
        self.raw(group, key).map(unescape)
    }

    /// A list value (`a;b;`), each item unescaped.
    pub fn list(&self, group: &str, key: &str) -> Option<Vec<String>> {
        self.raw(group, key).map(split_list)
    }

    /// A boolean value: `true` (or `1`, which GLib also takes) is true, anything else
    /// false.
    pub fn boolean(&self, group: &str, key: &str) -> Option<bool> {
        self.raw(group, key)
            .map(|value| matches!(value.trim_end(), "true" | "1"))
    }

    /// The `(locale, escaped value)` of every localized form of `key`, in file order.
    pub fn localized(&self, group: &str, key: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for entry in self.entries(group) {
            let Some(locale) = entry.locale else { continue };
            if entry.key != key {
                continue;
            }
            match out.iter_mut().find(|(seen, _)| seen == locale) {
                Some(slot) => slot.1 = entry.raw.to_string(),
                None => out.push((locale.to_string(), entry.raw.to_string())),
            }
        }
        out
    }

    /// Adds a comment line at the end.
    pub fn comment(&mut self, text: &str) {
        for line in text.lines() {
            self.lines
                .push(Line::Verbatim(format!("# {line}").trim_end().to_string()));
        }
    }

    /// Adds a blank line at the end.
    pub fn blank(&mut self) {
        self.lines.push(Line::Verbatim(String::new()));
    }

    /// Sets `key` to an already escaped value: in place when the key is there (its other
    /// occurrences removed), else at the end of the group (before the blank lines and
    /// comments that end it), adding the group at the end of the file when it is missing.
    pub fn set_raw(&mut self, group: &str, key: &str, locale: Option<&str>, raw: &str) {
        let text = match locale {
            Some(locale) => format!("{key}[{locale}]={raw}"),
            None => format!("{key}={raw}"),
        };
        let new_line = Line::Entry {
            key: key.to_string(),
            locale: locale.map(str::to_string),
            value: raw.to_string(),
            text,
        };
        let positions = self.positions(group, key, locale);
        if let Some((&first, rest)) = positions.split_first() {
            self.lines[first] = new_line;
            for &index in rest.iter().rev() {
                self.lines.remove(index);
            }
            return;
        }
        match self.group_end(group) {
            Some(end) => self.lines.insert(end, new_line),
            None => {
                self.lines.push(Line::Group {
                    name: group.to_string(),
                    text: format!("[{group}]"),
                });
                self.lines.push(new_line);
            }
        }
    }

    /// Sets a string value, escaping it.
    pub fn set(&mut self, group: &str, key: &str, value: &str) {
        self.set_raw(group, key, None, &escape(value));
    }

    /// Sets a list value, escaping each item, with the trailing `;` of the spec.
    pub fn set_list<S: AsRef<str>>(&mut self, group: &str, key: &str, items: &[S]) {
        self.set_raw(group, key, None, &join_list(items));
    }

    /// Removes every occurrence of `key[locale]`; says whether there was one.
    pub fn remove(&mut self, group: &str, key: &str, locale: Option<&str>) -> bool {
        let positions = self.positions(group, key, locale);
        for &index in positions.iter().rev() {
            self.lines.remove(index);
        }
        !positions.is_empty()
    }

    /// Indexes of the lines holding `key[locale]` in `group`.
    fn positions(&self, group: &str, key: &str, locale: Option<&str>) -> Vec<usize> {
        let mut current: Option<&str> = None;
        let mut out = Vec::new();
        for (index, line) in self.lines.iter().enumerate() {
            match line {
                Line::Group { name, .. } => current = Some(name),
                Line::Entry {
                    key: k, locale: l, ..
                } if current == Some(group) && k == key && l.as_deref() == locale => {
                    out.push(index)
                }
                _ => {}
            }
        }
        out
    }

    /// Where a new key of the last `group` goes: after its last entry.
    fn group_end(&self, group: &str) -> Option<usize> {
        let start = self
            .lines
            .iter()
            .rposition(|line| matches!(line, Line::Group { name, .. } if name == group))?;
        let mut end = start + 1;
        for (index, line) in self.lines.iter().enumerate().skip(start + 1) {
            match line {
                Line::Group { .. } => break,
                Line::Entry { .. } => end = index + 1,
                Line::Verbatim(_) => {}
            }
        }
        Some(end)
    }
}

impl fmt::Display for DesktopFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, line) in self.lines.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            match line {
                Line::Verbatim(text) | Line::Group { text, .. } | Line::Entry { text, .. } => {
                    f.write_str(text)?
                }
            }
        }
        if self.ends_with_newline && !self.lines.is_empty() {
            f.write_str("\n")?;
        }
        Ok(())
    }
}

/// `Name[de_DE@euro]` -> (`Name`, `de_DE@euro`).
fn split_key(text: &str) -> Result<(&str, Option<&str>), &'static str> {
    let (key, locale) = match text.split_once('[') {
        Some((key, rest)) => {
            let locale = rest
                .strip_suffix(']')
                .filter(|locale| !locale.is_empty() && !locale.contains(['[', ']']))
                .ok_or("a localized key must look like Key[locale]")?;
            (key, Some(locale))
        }
        None => (text, None),
    };
    if key.is_empty() {
        return Err("the line has no key before '='");
    }
    if key.contains([']', ' ', '\t']) {
        return Err("a key may hold only letters, digits and '-'");
    }
    Ok((key, locale))
}

/// A string value as the spec escapes it: `\\`, `\n`, `\t`, `\r`, and `\s` for a space
/// at either end (where a reader would trim it).
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (index, c) in value.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            ' ' if index == 0 || index == last => out.push_str("\\s"),
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape`]; an unknown escape (`\;` of lists, or a mistake) is kept.
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push(' '),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits an escaped list value on `;` that are not escaped, unescaping each item; an
/// empty last item (the trailing `;`) is not an item.
pub fn split_list(raw: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(';') => current.push(';'),
                Some(other) => {
                    current.push('\\');
                    current.push(other);
                }
                None => current.push('\\'),
            },
            ';' => items.push(unescape(&std::mem::take(&mut current))),
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        items.push(unescape(&current));
    }
    items
}

/// `a;b;` from items, each escaped (`;` as `\;`).
pub fn join_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|item| format!("{};", escape(item.as_ref()).replace(';', "\\;")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# a comment\n\n[Desktop Entry]  \nName=Chat\nName[de]=Plaudern\nComment = Talk\\sto people \n  # indented comment\nKeywords=talk;chat\\;room;\n\n[Desktop Action new]\nName=New\n";

    #[test]
    fn round_trips_byte_for_byte() {
        let file = DesktopFile::parse(SAMPLE).unwrap();
        assert_eq!(file.to_string(), SAMPLE);
        let no_newline = "[Desktop Entry]\nName=x";
        assert_eq!(
            DesktopFile::parse(no_newline).unwrap().to_string(),
            no_newline
        );
    }

    #[test]
    fn reads_keys_locales_lists_and_escapes() {
        let file = DesktopFile::parse(SAMPLE).unwrap();
        assert_eq!(file.groups(), vec![MAIN_GROUP, "Desktop Action new"]);
        assert_eq!(file.string(MAIN_GROUP, "Name").as_deref(), Some("Chat"));
        assert_eq!(
            file.raw_localized(MAIN_GROUP, "Name", Some("de")),
            Some("Plaudern")
        );
        assert_eq!(
            file.string(MAIN_GROUP, "Comment").as_deref(),
            Some("Talk to people ")
        );
        assert_eq!(
            file.list(MAIN_GROUP, "Keywords").unwrap(),
            vec!["talk", "chat;room"]
        );
        assert_eq!(
            file.string("Desktop Action new", "Name").as_deref(),
            Some("New")
        );
        assert_eq!(file.raw(MAIN_GROUP, "Missing"), None);
        assert_eq!(
            file.localized(MAIN_GROUP, "Name"),
            vec![("de".to_string(), "Plaudern".to_string())]
        );
    }

    #[test]
    fn the_last_of_repeated_keys_wins() {
        let file = DesktopFile::parse("[Desktop Entry]\nName=a\nName=b\n").unwrap();
        assert_eq!(file.raw(MAIN_GROUP, "Name"), Some("b"));
    }

    #[test]
    fn refuses_what_glib_refuses() {
        let cases = [
            ("Name=x\n", 1, "before the first [group]"),
            ("[Desktop Entry]\njust words\n", 2, "not a group"),
            ("[Desktop Entry\n", 1, "must end with ']'"),
            ("[Desktop Entry]\nName[de=x\n", 2, "Key[locale]"),
            ("[Desktop Entry]\n=x\n", 2, "no key"),
        ];
        for (text, line, needle) in cases {
            let err = DesktopFile::parse(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}");
            assert!(err.message.contains(needle), "{text:?}: {}", err.message);
        }
    }

    #[test]
    fn set_replaces_in_place_and_appends_to_the_right_group() {
        let mut file = DesktopFile::parse(SAMPLE).unwrap();
        file.set(MAIN_GROUP, "Name", "Talk");
        file.set(MAIN_GROUP, "Icon", "chat");
        file.set("Desktop Action new", "Exec", "chat --new");
        let text = file.to_string();
        assert!(
            text.contains("[Desktop Entry]  \nName=Talk\nName[de]=Plaudern\n"),
            "{text}"
        );
        assert!(
            text.contains("Keywords=talk;chat\\;room;\nIcon=chat\n\n[Desktop Action new]"),
            "{text}"
        );
        assert!(text.ends_with("Name=New\nExec=chat --new\n"), "{text}");
        assert!(text.starts_with("# a comment\n\n"), "{text}");
        assert!(file.remove(MAIN_GROUP, "Name", Some("de")));
        assert!(!file.to_string().contains("Plaudern"));
    }

    #[test]
    fn escapes_round_trip() {
        for value in [
            " lead",
            "trail ",
            "a\\b",
            "two\nlines",
            "tab\there",
            "plain",
            "",
        ] {
            assert_eq!(unescape(&escape(value)), value, "{value:?}");
        }
        assert_eq!(escape(" a b "), "\\sa b\\s");
        assert_eq!(unescape("C:\\\\x\\q"), "C:\\x\\q");
        let items = ["a;b", "c\\d", "e"];
        assert_eq!(join_list(&items), "a\\;b;c\\\\d;e;");
        assert_eq!(split_list(&join_list(&items)), items);
        assert_eq!(split_list("x;y"), vec!["x", "y"]);
    }
}
