//! What an import says to the user: the written profile's text with a comment on each
//! key, the Firejail commands with no boxtop equivalent (in the file and on the
//! terminal), and the tally of an `--all` run.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use super::convert::{Conversion, Keyed};
use crate::escape;

/// What names the new profile.
pub struct Header<'a> {
    pub name: &'a str,
    /// The command, and where it comes from.
    pub command: &'a [String],
    pub command_why: &'a str,
    pub binaries: &'a [String],
    pub desktop_file: Option<&'a str>,
    pub description: Option<&'a str>,
    pub source: &'a Path,
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A comment line's text: one line, with no control character.
fn comment(text: &str) -> String {
    escape::controls(text).into_owned()
}

fn list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|value| quote(value)).collect();
    format!("[{}]", quoted.join(", "))
}

fn key<T>(out: &mut String, name: &str, keyed: &Keyed<T>, value: &str) {
    let _ = writeln!(out, "# {}", comment(&keyed.why));
    let _ = writeln!(out, "{name} = {value}");
}

fn enum_value<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => quote(&text),
        _ => "\"none\"".into(),
    }
}

/// The text of the new profile.
pub fn render(header: &Header, conv: &Conversion) -> String {
    let mut out = String::new();
    let source = header.source.display().to_string();
    let _ = writeln!(
        out,
        "# {}: written by `boxtop import firejail` from {}.",
        header.name,
        comment(&source)
    );
    let _ = writeln!(
        out,
        "# The notes at the end say what Firejail did that this profile does not; \
         `boxtop show {}` lists what it grants.",
        header.name
    );
    let _ = writeln!(out, "name = {}", quote(header.name));
    let _ = writeln!(
        out,
        "description = {}",
        quote(header.description.unwrap_or(""))
    );
    if let Some(id) = header.desktop_file {
        let _ = writeln!(out, "desktop_file = {}", quote(id));
    }
    let _ = writeln!(out, "# {}", comment(header.command_why));
    if !header.binaries.is_empty() {
        let _ = writeln!(out, "binaries = {}", list(header.binaries));
    }
    let _ = writeln!(out, "command = {}", list(header.command));
    key(
        &mut out,
        "display",
        &conv.display,
        &enum_value(&conv.display.value),
    );
    key(
        &mut out,
        "audio",
        &conv.audio,
        &enum_value(&conv.audio.value),
    );
    key(&mut out, "gpu", &conv.gpu, &conv.gpu.value.to_string());
    key(
        &mut out,
        "webcam",
        &conv.webcam,
        &conv.webcam.value.to_string(),
    );
    key(
        &mut out,
        "network",
        &conv.network,
        &enum_value(&conv.network.value),
    );
    key(
        &mut out,
        "allow_userns",
        &conv.allow_userns,
        &conv.allow_userns.value.to_string(),
    );
    out.push_str("\n[home]\n");
    if let Some(ephemeral) = &conv.ephemeral {
        key(
            &mut out,
            "ephemeral",
            ephemeral,
            &ephemeral.value.to_string(),
        );
    }
    for share in &conv.shares {
        let _ = writeln!(out, "\n# {}", comment(&share.why));
        out.push_str("[[home.share]]\n");
        let _ = writeln!(out, "path = {}", quote(&share.path));
        let _ = writeln!(out, "mode = {}", quote(share.mode.as_str()));
        if share.create {
            out.push_str("create = true\n");
        }
    }
    if !conv.absent.is_empty() {
        out.push_str(
            "\n# Firejail also shares these, which are not in your home now (a share of a missing\n\
             # path stops the launch): add a [[home.share]] for one once it exists.\n",
        );
        for line in wrap(&conv.absent, 86) {
            let _ = writeln!(out, "#   {}", comment(&line));
        }
    }
    for bind in &conv.binds {
        let _ = writeln!(out, "\n# {}", comment(&bind.why));
        out.push_str("[[binds]]\n");
        let _ = writeln!(out, "path = {}", quote(&bind.path));
        out.push_str("mode = \"ro\"\noptional = true\n");
    }
    let lists = [
        ("talk", &conv.talk),
        ("own", &conv.own),
        ("see", &conv.see),
        ("system_talk", &conv.system_talk),
    ];
    if lists.iter().any(|(_, names)| !names.is_empty()) {
        out.push_str("\n# D-Bus names, from the Firejail profile's dbus-user and dbus-system lines.\n[dbus]\n");
        for (name, names) in lists {
            if !names.is_empty() {
                let _ = writeln!(out, "{name} = {}", list(names));
            }
        }
    }
    if !conv.env.is_empty() {
        out.push_str("\n# From the Firejail profile's env lines.\n[env]\n");
        for (name, value) in &conv.env {
            let _ = writeln!(out, "{} = {}", quote(name), quote(value));
        }
    }
    out.push('\n');
    for line in notes(conv) {
        let _ = writeln!(out, "# {}", comment(&line));
    }
    out
}

/// `items` joined by ", " into lines of at most about `width` characters.
fn wrap(items: &[String], width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for item in items {
        if !line.is_empty() && line.len() + item.len() + 2 > width {
            lines.push(std::mem::take(&mut line) + ",");
        }
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(item);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The notes of a conversion, one per line: differences in meaning, commands with no
/// equivalent, and what boxtop does anyway.
pub fn notes(conv: &Conversion) -> Vec<String> {
    let mut lines = Vec::new();
    if !conv.notes.is_empty() {
        lines.push("Different in boxtop:".to_string());
        for note in &conv.notes {
            lines.push(format!("  {note}"));
        }
    }
    if !conv.absent.is_empty() {
        lines.push(format!(
            "Not shared: {} paths Firejail shares are not in your home now (listed in the file).",
            conv.absent.len()
        ));
    }
    let groups = untranslated_groups(conv);
    if !groups.is_empty() {
        lines.push(format!(
            "Firejail commands with no boxtop equivalent ({}):",
            conv.untranslated.len()
        ));
        lines.extend(groups.into_iter().map(|line| format!("  {line}")));
    }
    if !conv.always.is_empty() {
        lines.push(format!(
            "What boxtop does for every app, so nothing here says it: {}.",
            conv.always.join("; ")
        ));
    }
    lines
}

/// One line per command and reason; a reason shared by many lines (the hundreds of
/// blacklists of Firejail's common includes) is one line with their count.
fn untranslated_groups(conv: &Conversion) -> Vec<String> {
    let mut groups: Vec<(String, &str, Vec<String>)> = Vec::new();
    for item in &conv.untranslated {
        let shown = format!("`{}` ({})", item.command.text(), item.command.at);
        match groups
            .iter_mut()
            .find(|(name, why, _)| *name == item.command.name && *why == item.why)
        {
            Some((_, _, shown_list)) => shown_list.push(shown),
            None => groups.push((item.command.name.clone(), &item.why, vec![shown])),
        }
    }
    groups
        .into_iter()
        .map(|(name, why, shown)| {
            if shown.len() <= 3 {
                format!("{}: {why}", shown.join(", "))
            } else {
                format!(
                    "{name}: {} lines, such as {}: {why}",
                    shown.len(),
                    shown[..2].join(", ")
                )
            }
        })
        .collect()
}

/// The tally of `--all`.
#[derive(Debug, Default)]
pub struct Tally {
    pub total: usize,
    pub converted: usize,
    /// Not written because a profile of that name is there (no `--force`).
    pub kept: Vec<String>,
    /// Written into the profile folder under the name of a bundled profile.
    pub overriding: Vec<String>,
    pub failed: Vec<String>,
    /// Per command with no equivalent: how many converted profiles use it.
    pub untranslated: BTreeMap<String, usize>,
}

impl Tally {
    pub fn add_untranslated(&mut self, conv: &Conversion) {
        let mut names: Vec<&str> = conv
            .untranslated
            .iter()
            .map(|item| item.command.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            *self.untranslated.entry(name.to_string()).or_default() += 1;
        }
    }

    /// The summary lines: the count and share converted, then the most common commands
    /// with no equivalent.
    pub fn summary(&self, folder: &Path, output: &Path) -> Vec<String> {
        let percent = if self.total == 0 {
            0.0
        } else {
            self.converted as f64 * 100.0 / self.total as f64
        };
        let mut lines = vec![format!(
            "converted {} of {} Firejail profiles ({percent:.1}%) from {} into {}",
            self.converted,
            self.total,
            folder.display(),
            output.display()
        )];
        if !self.kept.is_empty() {
            lines.push(format!(
                "kept {} existing profiles (--force replaces them)",
                self.kept.len()
            ));
        }
        if !self.overriding.is_empty() {
            lines.push(format!(
                "{} of them override the bundled profiles of their name: {}",
                self.overriding.len(),
                self.overriding.join(", ")
            ));
        }
        if !self.failed.is_empty() {
            lines.push(format!("{} could not be converted", self.failed.len()));
        }
        let mut common: Vec<(&String, &usize)> = self.untranslated.iter().collect();
        common.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        if !common.is_empty() {
            lines.push(
                "most common Firejail commands with no boxtop equivalent (profiles using them):"
                    .into(),
            );
            for (name, count) in common.into_iter().take(10) {
                lines.push(format!("  {count:>5}  {name}"));
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_are_toml_strings() {
        for text in ["plain", "a \"b\" \\ c", "tab\there", "esc\x1b[31m", "é名"] {
            let doc = format!("v = {}\n", quote(text));
            let parsed: toml::Table = toml::from_str(&doc).unwrap();
            assert_eq!(parsed["v"].as_str(), Some(text));
        }
    }

    #[test]
    fn the_tally_orders_commands_by_use() {
        let mut tally = Tally {
            total: 4,
            converted: 3,
            ..Tally::default()
        };
        tally.untranslated.insert("apparmor".into(), 2);
        tally.untranslated.insert("blacklist".into(), 3);
        let lines = tally.summary(Path::new("/etc/firejail"), Path::new("/out"));
        assert_eq!(
            lines[0],
            "converted 3 of 4 Firejail profiles (75.0%) from /etc/firejail into /out"
        );
        assert!(lines[2].ends_with("blacklist") && lines[3].ends_with("apparmor"));
    }
}
