//! One-line text inputs: what is being asked, the text typed so far, live validation,
//! and folder-name completion from the real home for share paths.

use std::path::{Component, Path};

use super::edit::{BusList, Field};
use crate::entries::installed::InstalledApp;

/// What a prompt asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// Extra arguments for launching a profile.
    LaunchArgs { profile: String },
    /// The name of a new profile, from the template or based on another profile. Without
    /// `from`, the installed apps are offered: picking one starts from its menu entry.
    NewProfile { from: Option<String> },
    /// An installed app that has no profile yet, to make one for.
    AppWithoutProfile,
    /// A folder of the home to share with the profile being edited.
    SharePath,
    /// A folder of the home to share with the running instance `id` now.
    LiveShare { id: String },
    /// A file to open in the running instance `id`.
    OpenFile { id: String },
    /// A D-Bus name for one of the `[dbus]` lists.
    BusName(BusList),
    /// `NAME=VALUE` for `[env]`.
    EnvVar,
    /// A key typed as text (the command, a limit, the binds...).
    Field(Field),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    /// Why the input cannot be accepted as it is.
    pub error: Option<String>,
    /// Folder names that complete the input (share paths only).
    pub candidates: Vec<String>,
    /// The apps offered (new profiles only): those matching the input are listed.
    pub apps: Vec<InstalledApp>,
    /// The listed app ↑↓ moved to, as an index into `matching_apps`; `None` until then.
    pub picked: Option<usize>,
}

impl Prompt {
    pub fn new(kind: PromptKind) -> Self {
        Self {
            kind,
            input: String::new(),
            error: None,
            candidates: Vec::new(),
            apps: Vec::new(),
            picked: None,
        }
    }

    /// Whether this prompt offers installed apps.
    pub fn offers_apps(&self) -> bool {
        matches!(
            self.kind,
            PromptKind::NewProfile { from: None } | PromptKind::AppWithoutProfile
        )
    }

    /// The offered apps whose profile name, title or id holds the input.
    pub fn matching_apps(&self) -> Vec<&InstalledApp> {
        let wanted = self.input.trim().to_lowercase();
        self.apps
            .iter()
            .filter(|app| {
                wanted.is_empty()
                    || app.profile_name.contains(&wanted)
                    || app.title.to_lowercase().contains(&wanted)
                    || app.id.to_lowercase().contains(&wanted)
            })
            .collect()
    }

    /// The app Enter makes a profile for: the one ↑↓ picked, the one whose profile name
    /// is typed, or (in the list of apps without a profile) the first that matches.
    /// `None`: the input is the name of a profile from the template.
    pub fn chosen_app(&self) -> Option<&InstalledApp> {
        let matching = self.matching_apps();
        if let Some(picked) = self.picked {
            return matching.get(picked).copied();
        }
        let typed = self.input.trim();
        if let Some(app) = matching.iter().find(|app| app.profile_name == typed) {
            return Some(app);
        }
        match self.kind {
            PromptKind::AppWithoutProfile => matching.first().copied(),
            _ => None,
        }
    }

    /// ↑↓ through the listed apps.
    pub fn pick(&mut self, down: bool) {
        let count = self.matching_apps().len();
        if count == 0 {
            self.picked = None;
            return;
        }
        self.picked = Some(match (self.picked, down) {
            (None, true) => 0,
            (None, false) => count - 1,
            (Some(at), true) => (at + 1).min(count - 1),
            (Some(at), false) => at.saturating_sub(1),
        });
    }

    pub fn title(&self) -> String {
        match &self.kind {
            PromptKind::LaunchArgs { profile } => format!("Launch {profile} with arguments"),
            PromptKind::NewProfile { from: None } => {
                "New profile: pick an installed app, or type a name".into()
            }
            PromptKind::AppWithoutProfile => {
                format!("Installed apps with no profile ({})", self.apps.len())
            }
            PromptKind::NewProfile { from: Some(from) } => format!("New profile based on {from}"),
            PromptKind::SharePath => "Share a folder of your home".into(),
            PromptKind::LiveShare { id } => format!("Share a folder of your home with {id}, now"),
            PromptKind::OpenFile { id } => format!("Open a file in {id}"),
            PromptKind::BusName(list) => format!("D-Bus name the app may {}", list.verb()),
            PromptKind::EnvVar => "Environment variable".into(),
            PromptKind::Field(field) => format!("{} ({})", field.label(), field.key()),
        }
    }

    /// A line under the input saying what to type.
    pub fn hint(&self) -> &'static str {
        match &self.kind {
            PromptKind::LaunchArgs { .. } => "added to the command; quote with ' or \"",
            PromptKind::NewProfile { from: None } => {
                "↑↓ pick an app, Tab completes; a name that is no app uses the template"
            }
            PromptKind::NewProfile { .. } => "lowercase letters, digits, '-', '_' or '.'",
            PromptKind::AppWithoutProfile => {
                "type to narrow, ↑↓ pick; Enter writes the profile boxtop suggests for it"
            }
            PromptKind::SharePath => {
                "relative to ~, then :rw +create +force if wanted; Tab completes"
            }
            PromptKind::LiveShare { .. } => {
                "relative to ~, then ' ro' for read-only; Tab completes"
            }
            PromptKind::OpenFile { .. } => {
                "a file of your home (~/..., or relative to where boxtop started); Tab completes"
            }
            PromptKind::BusName(_) => "e.g. org.freedesktop.Notifications, or org.mpris.*",
            PromptKind::EnvVar => "NAME=VALUE",
            PromptKind::Field(field) => field.hint(),
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

/// An argument of "launch with arguments" as a shell would pass it to the app: `~` and
/// `~/...` are the home, and a relative path (one with a `/`, or naming something in the
/// folder boxtop was started in) is made absolute from that folder, since the app starts
/// elsewhere. Options (`-x`) and URLs are left as they are.
pub fn expand_arg(arg: &str, home: &Path, start: &Path) -> String {
    if arg == "~" {
        return home.display().to_string();
    }
    if let Some(rest) = arg.strip_prefix("~/") {
        return home.join(rest).display().to_string();
    }
    let is_path_like = !arg.is_empty()
        && !arg.starts_with('-')
        && !arg.starts_with('/')
        && !arg.contains("://")
        && (arg.contains('/') || start.join(arg).exists());
    if is_path_like {
        return start.join(arg).display().to_string();
    }
    arg.to_string()
}

/// Paths that complete the last word of a launch's arguments, written as typed (`~/no`
/// gives `~/notes/`): files and folders (these end in `/`), hidden ones only when asked
/// for with a dot. Relative words are looked up in the folder boxtop was started in.
pub fn path_candidates(word: &str, home: &Path, start: &Path) -> Vec<String> {
    let (dir_typed, prefix) = match word.rfind('/') {
        Some(slash) => word.split_at(slash + 1),
        None => ("", word),
    };
    let dir = match dir_typed {
        "" => start.to_path_buf(),
        "/" => std::path::PathBuf::from("/"),
        typed => std::path::PathBuf::from(expand_arg(typed.trim_end_matches('/'), home, start)),
    };
    let Ok(read) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = read
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let wanted =
                name.starts_with(prefix) && (prefix.starts_with('.') || !name.starts_with('.'));
            wanted.then(|| {
                let slash = if entry.path().is_dir() { "/" } else { "" };
                format!("{dir_typed}{name}{slash}")
            })
        })
        .collect();
    names.sort();
    names
}

/// Programs a command may start whose name begins with `prefix`: the executables of
/// `$PATH`, and the programs of the installed apps whose name, title or id holds it
/// (`text` finds mousepad through "Text Editor"). At most 200, sorted.
pub fn program_candidates(prefix: &str, apps: &[InstalledApp]) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let wanted = prefix.to_lowercase();
    for app in apps {
        let about = format!("{} {} {}", app.profile_name, app.title, app.id).to_lowercase();
        if !wanted.is_empty() && about.contains(&wanted) {
            names.insert(app.program.clone());
        }
    }
    if prefix.contains('/') {
        return names.into_iter().collect();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.filter_map(Result::ok) {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let executable = || {
                entry
                    .metadata()
                    .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
            };
            if name.starts_with(prefix) && executable() {
                names.insert(name);
            }
        }
    }
    names.into_iter().take(200).collect()
}

/// The launch arguments after Tab: the last word completed as a path (the one
/// candidate, or the longest prefix all share).
pub fn complete_last_word(input: &str, candidates: &[String]) -> String {
    let start = input.rfind(char::is_whitespace).map_or(0, |at| at + 1);
    let (head, word) = input.split_at(start);
    let completed = match candidates {
        [only] => only.clone(),
        _ => complete(word, candidates),
    };
    format!("{head}{completed}")
}

/// The last word of a line of arguments (what Tab completes).
pub fn last_word(input: &str) -> &str {
    input
        .rfind(char::is_whitespace)
        .map_or(input, |at| &input[at + 1..])
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
