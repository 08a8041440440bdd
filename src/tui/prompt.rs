//! One-line text inputs: what is being asked, the text typed so far, live validation,
//! and folder-name completion from the real home for share paths.

use std::path::{Component, Path};

use super::edit::BusList;

/// What a prompt asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// Extra arguments for launching a profile.
    LaunchArgs { profile: String },
    /// The name of a new profile, from the template or based on another profile.
    NewProfile { from: Option<String> },
    /// A folder of the home to share with the profile being edited.
    SharePath,
    /// A D-Bus name for one of the `[dbus]` lists.
    BusName(BusList),
    /// `NAME=VALUE` for `[env]`.
    EnvVar,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    /// Why the input cannot be accepted as it is.
    pub error: Option<String>,
    /// Folder names that complete the input (share paths only).
    pub candidates: Vec<String>,
}

impl Prompt {
    pub fn new(kind: PromptKind) -> Self {
        Self {
            kind,
            input: String::new(),
            error: None,
            candidates: Vec::new(),
        }
    }

    pub fn title(&self) -> String {
        match &self.kind {
            PromptKind::LaunchArgs { profile } => format!("Launch {profile} with arguments"),
            PromptKind::NewProfile { from: None } => "New profile from the template".into(),
            PromptKind::NewProfile { from: Some(from) } => format!("New profile based on {from}"),
            PromptKind::SharePath => "Share a folder of your home".into(),
            PromptKind::BusName(list) => format!("D-Bus name the app may {}", list.verb()),
            PromptKind::EnvVar => "Environment variable".into(),
        }
    }

    /// A line under the input saying what to type.
    pub fn hint(&self) -> &'static str {
        match &self.kind {
            PromptKind::LaunchArgs { .. } => "added to the command; quote with ' or \"",
            PromptKind::NewProfile { .. } => "lowercase letters, digits, '-', '_' or '.'",
            PromptKind::SharePath => "relative to ~; Tab completes folder names",
            PromptKind::BusName(_) => "e.g. org.freedesktop.Notifications, or org.mpris.*",
            PromptKind::EnvVar => "NAME=VALUE",
        }
    }
}

/// Folders of the home whose path starts with `input` (`Doc` gives `Documents`,
/// `.config/mp` gives `.config/mpv`). Hidden folders only when asked for with a dot.
/// Nothing outside the home is ever listed.
pub fn share_candidates(home: &Path, input: &str) -> Vec<String> {
    if input.starts_with('/')
        || input.starts_with('~')
        || Path::new(input)
            .components()
            .any(|component| component == Component::ParentDir)
    {
        return Vec::new();
    }
    let (dir, prefix) = match input.rfind('/') {
        Some(slash) => input.split_at(slash + 1),
        None => ("", input),
    };
    let Ok(read) = std::fs::read_dir(home.join(dir)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = read
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| {
            name.starts_with(prefix) && (prefix.starts_with('.') || !name.starts_with('.'))
        })
        .map(|name| format!("{dir}{name}"))
        .collect();
    names.sort();
    names
}

/// The input after Tab: the one candidate (with a `/` to go on into it), or the longest
/// prefix all candidates share.
pub fn complete(input: &str, candidates: &[String]) -> String {
    match candidates {
        [] => input.to_string(),
        [only] => format!("{only}/"),
        [first, rest @ ..] => {
            let mut common = first.clone();
            for other in rest {
                let shared = common
                    .chars()
                    .zip(other.chars())
                    .take_while(|(a, b)| a == b)
                    .map(|(a, _)| a.len_utf8())
                    .sum();
                common.truncate(shared);
            }
            if common.len() > input.len() {
                common
            } else {
                input.to_string()
            }
        }
    }
}

/// Splits a line of arguments as a shell would for plain words and quotes:
/// `--new-window 'a b' "c d"` gives three arguments. No expansion of any kind.
pub fn split_args(line: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some(end) if end == c => break,
                        Some('\\') if c == '"' => match chars.next() {
                            Some(escaped) => current.push(escaped),
                            None => return Err("the line ends after a backslash".into()),
                        },
                        Some(other) => current.push(other),
                        None => return Err(format!("a {c} quote is not closed")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(escaped) => {
                    in_word = true;
                    current.push(escaped);
                }
                None => return Err("the line ends after a backslash".into()),
            },
            c if c.is_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        args.push(current);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_folder_names_from_the_home_only() {
        let home = tempfile::tempdir().unwrap();
        for dir in ["Documents", "Downloads", "Music", ".config/mpv", ".ssh"] {
            std::fs::create_dir_all(home.path().join(dir)).unwrap();
        }
        std::fs::write(home.path().join("Dfile"), "").unwrap();
        let found = share_candidates(home.path(), "Do");
        assert_eq!(found, ["Documents", "Downloads"]);
        assert_eq!(complete("Do", &found), "Do");
        let found = share_candidates(home.path(), "Doc");
        assert_eq!(complete("Doc", &found), "Documents/");
        assert_eq!(share_candidates(home.path(), ".config/m"), [".config/mpv"]);
        assert!(!share_candidates(home.path(), "").contains(&".ssh".to_string()));
        assert!(share_candidates(home.path(), "../").is_empty());
        assert!(share_candidates(home.path(), "/etc").is_empty());
        assert_eq!(complete("D", &share_candidates(home.path(), "D")), "Do");
    }

    #[test]
    fn splits_arguments_with_quotes() {
        assert_eq!(
            split_args(r#"--new-window 'a b' "c \"d\"" e\ f"#).unwrap(),
            ["--new-window", "a b", "c \"d\"", "e f"]
        );
        assert_eq!(split_args("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_args("''").unwrap(), [""]);
        assert!(split_args("'open").is_err());
    }
}
