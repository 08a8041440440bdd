//! Reads a Firejail profile the way Firejail does: `#` starts a comment anywhere on a
//! line, `include`s are followed (a missing `.local` file is skipped, as Firejail skips
//! it), `ignore` drops the matching commands read after it, and `?CONDITION:` lines
//! apply when the condition holds with Firejail's default settings. The result is the
//! flat list of commands that apply, each with the file and line it came from.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// Includes nested deeper than this are refused, as Firejail refuses them.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Where a command was written: a file and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: Arc<str>,
    pub line: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", crate::escape::controls(&self.file), self.line)
    }
}

/// One Firejail command that applies: `whitelist ${HOME}/.mozilla` is the name
/// `whitelist` and the argument `${HOME}/.mozilla`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    pub arg: String,
    pub at: Place,
}

impl Command {
    /// The command as written, for reports.
    pub fn text(&self) -> String {
        if self.arg.is_empty() {
            self.name.clone()
        } else {
            format!("{} {}", self.name, self.arg)
        }
    }
}

/// A profile read with everything it includes.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub file: PathBuf,
    /// From a `# Description:` line of the profile, or of the first included profile
    /// that has one (redirect profiles such as `firefox-esr` have none of their own).
    pub description: Option<String>,
    pub commands: Vec<Command>,
    /// How many files were read, the profile included.
    pub files_read: usize,
}

/// Why a Firejail profile could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FirejailError {
    #[error("{}: cannot read the Firejail profile: {why}", crate::escape::controls(&.path.display().to_string()))]
    Read { path: PathBuf, why: String },
    #[error("{at}: {message} ({hint})")]
    Bad {
        at: Place,
        message: String,
        hint: String,
    },
    #[error("{at}: `include {name}`: no such file in {searched} (a missing file is only skipped when its name ends in .local)")]
    MissingInclude {
        at: Place,
        name: String,
        searched: String,
    },
    #[error("{at}: the includes loop: {chain} (remove the `include` that closes the loop)")]
    IncludeLoop { at: Place, chain: String },
    #[error(
        "{at}: includes are nested more than {MAX_INCLUDE_DEPTH} deep (Firejail refuses that too)"
    )]
    TooDeep { at: Place },
}

impl FirejailError {
    fn bad(at: &Place, message: impl Into<String>, hint: impl Into<String>) -> Self {
        FirejailError::Bad {
            at: at.clone(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// One file's lines, comments and blanks gone: (line number, text).
#[derive(Debug)]
struct Source {
    lines: Vec<(usize, String)>,
    description: Option<String>,
}

/// Reads profiles, keeping each file it read: `--all` reads the same includes for every
/// profile of a folder.
pub struct Reader {
    home: PathBuf,
    /// `~/.config/firejail`, searched first, as Firejail does.
    user_dir: PathBuf,
    /// Firejail's own folder, searched last.
    system_dir: PathBuf,
    cache: HashMap<PathBuf, Rc<Source>>,
}

/// What is true while one profile is read.
#[derive(Default)]
struct State {
    ignores: Vec<String>,
    /// The files being read, outermost first, to find include loops.
    stack: Vec<PathBuf>,
    nosound: bool,
    net: bool,
    private: bool,
    x11: bool,
    dbus_restricted: bool,
    files_read: usize,
    description: Option<String>,
}

/// Commands that mean nothing without an argument.
const NEEDS_ARGUMENT: &[&str] = &[
    "whitelist",
    "nowhitelist",
    "blacklist",
    "blacklist-nolog",
    "noblacklist",
    "mkdir",
    "mkfile",
    "read-only",
    "read-write",
    "noexec",
    "net",
    "dbus-user",
    "dbus-system",
    "dbus-user.talk",
    "dbus-user.own",
    "dbus-user.see",
    "dbus-user.call",
    "dbus-user.broadcast",
    "dbus-system.talk",
    "dbus-system.own",
    "dbus-system.see",
    "dbus-system.call",
    "dbus-system.broadcast",
    "protocol",
    "env",
    "rmenv",
    "caps.keep",
    "hostname",
    "join-or-start",
    "ignore",
];

impl Reader {
    /// A reader for the user whose home is `home`; `system_dir` is Firejail's folder
    /// (`/etc/firejail`).
    pub fn new(home: &Path, system_dir: &Path) -> Self {
        Reader {
            home: home.to_path_buf(),
            user_dir: home.join(".config/firejail"),
            system_dir: system_dir.to_path_buf(),
            cache: HashMap::new(),
        }
    }

    /// The profile file of a Firejail profile name: the user's own first, then
    /// Firejail's, as Firejail looks them up.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        if crate::paths::file_name_problem(name).is_some() {
            return None;
        }
        [&self.user_dir, &self.system_dir]
            .into_iter()
            .map(|dir| dir.join(format!("{name}.profile")))
            .find(|path| path.is_file())
    }

    /// The folders a profile name is looked up in, for messages.
    pub fn searched(&self) -> String {
        format!(
            "{} and {}",
            self.user_dir.display(),
            self.system_dir.display()
        )
    }

    /// Reads `file` and everything it includes.
    pub fn read(&mut self, file: &Path) -> Result<Parsed, FirejailError> {
        let mut state = State::default();
        let mut commands = Vec::new();
        self.read_into(file, None, &mut state, &mut commands)?;
        Ok(Parsed {
            file: file.to_path_buf(),
            description: state.description,
            commands,
            files_read: state.files_read,
        })
    }

    fn load(&mut self, path: &Path) -> Result<Rc<Source>, FirejailError> {
        if let Some(source) = self.cache.get(path) {
            return Ok(source.clone());
        }
        let read_error = |why: String| FirejailError::Read {
            path: path.to_path_buf(),
            why,
        };
        let bytes = std::fs::read(path).map_err(|err| read_error(err.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|err| {
            let line = err.as_bytes()[..err.utf8_error().valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            read_error(format!("line {line} is not UTF-8 text"))
        })?;
        let source = Rc::new(parse_source(&text));
        self.cache.insert(path.to_path_buf(), source.clone());
        Ok(source)
    }

    fn read_into(
        &mut self,
        path: &Path,
        from: Option<&Place>,
        state: &mut State,
        out: &mut Vec<Command>,
    ) -> Result<(), FirejailError> {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(at) = from {
            if state.stack.contains(&real) {
                let mut chain: Vec<String> = state
                    .stack
                    .iter()
                    .skip_while(|seen| **seen != real)
                    .map(|seen| file_label(seen))
                    .collect();
                chain.push(file_label(&real));
                return Err(FirejailError::IncludeLoop {
                    at: at.clone(),
                    chain: chain.join(" -> "),
                });
            }
            if state.stack.len() >= MAX_INCLUDE_DEPTH {
                return Err(FirejailError::TooDeep { at: at.clone() });
            }
        }
        let source = self.load(path)?;
        state.files_read += 1;
        if state.description.is_none() {
            state.description = source.description.clone();
        }
        state.stack.push(real);
        let file: Arc<str> = Arc::from(path.display().to_string());
        for (line, text) in &source.lines {
            let at = Place {
                file: file.clone(),
                line: *line,
            };
            self.line(path, text, &at, state, out)?;
        }
        state.stack.pop();
        Ok(())
    }

    fn line(
        &mut self,
        path: &Path,
        text: &str,
        at: &Place,
        state: &mut State,
        out: &mut Vec<Command>,
    ) -> Result<(), FirejailError> {
        if text == "quiet" {
            return Ok(());
        }
        if let Some(name) = text.strip_prefix("include") {
            if name.is_empty() || name.starts_with(' ') {
                if is_ignored(&state.ignores, text) {
                    return Ok(());
                }
                return self.include(path, name.trim(), at, state, out);
            }
        }
        let text = match text.strip_prefix('?') {
            Some(conditional) => match condition(conditional, at, state)? {
                Some(rest) => rest,
                None => return Ok(()),
            },
            None => text,
        };
        // `whitelist-ro PATH` is Firejail's shorthand for a whitelist and a read-only.
        if let Some(rest) = text.strip_prefix("whitelist-ro ") {
            self.line(path, &format!("whitelist {rest}"), at, state, out)?;
            return self.line(path, &format!("read-only {rest}"), at, state, out);
        }
        if is_ignored(&state.ignores, text) {
            return Ok(());
        }
        let (name, arg) = text.split_once(' ').unwrap_or((text, ""));
        if !is_command_word(name) {
            return Err(FirejailError::bad(
                at,
                format!(
                    "'{}' is not a Firejail command",
                    crate::escape::controls(name)
                ),
                "a line is a command such as `whitelist ${HOME}/Documents` or `net none`",
            ));
        }
        if arg.is_empty() && NEEDS_ARGUMENT.contains(&name) {
            return Err(FirejailError::bad(
                at,
                format!("`{name}` needs an argument"),
                "see `man firejail-profile` for what it takes",
            ));
        }
        match name {
            "ignore" => {
                state.ignores.push(arg.to_string());
                return Ok(());
            }
            "dbus-user" | "dbus-system" if !matches!(arg, "filter" | "none") => {
                return Err(FirejailError::bad(
                    at,
                    format!(
                        "`{name} {}`: the policy is `filter` or `none`",
                        crate::escape::controls(arg)
                    ),
                    "write `filter` with the names it may use, or `none`",
                ));
            }
            "dbus-user" | "dbus-system" | "nodbus" => state.dbus_restricted = true,
            "nosound" => state.nosound = true,
            "net" => state.net = true,
            "private" => state.private = true,
            "x11" => state.x11 = true,
            _ => {}
        }
        out.push(Command {
            name: name.to_string(),
            arg: arg.to_string(),
            at: at.clone(),
        });
        Ok(())
    }

    fn include(
        &mut self,
        path: &Path,
        name: &str,
        at: &Place,
        state: &mut State,
        out: &mut Vec<Command>,
    ) -> Result<(), FirejailError> {
        if name.is_empty() {
            return Err(FirejailError::bad(
                at,
                "`include` needs a file",
                "write `include NAME.inc` or `include NAME.profile`",
            ));
        }
        let expanded = name
            .replace("${HOME}", &self.home.display().to_string())
            .replace("${CFG}", &self.system_dir.display().to_string());
        let here = path.parent().unwrap_or(Path::new("."));
        let candidates: Vec<PathBuf> = if expanded.contains('/') {
            vec![here.join(&expanded)]
        } else {
            // Firejail looks in the user's folder, then its own; the including file's
            // folder comes between, so a folder of profiles can be read on its own.
            vec![
                self.user_dir.join(&expanded),
                here.join(&expanded),
                self.system_dir.join(&expanded),
            ]
        };
        match candidates.iter().find(|candidate| candidate.is_file()) {
            Some(found) => self.read_into(&found.clone(), Some(at), state, out),
            None if expanded.ends_with(".local") => Ok(()),
            None => Err(FirejailError::MissingInclude {
                at: at.clone(),
                name: crate::escape::controls(name).into_owned(),
                searched: {
                    let mut dirs: Vec<String> = Vec::new();
                    for dir in candidates.iter().filter_map(|candidate| candidate.parent()) {
                        let dir = dir.display().to_string();
                        if !dirs.contains(&dir) {
                            dirs.push(dir);
                        }
                    }
                    dirs.join(", ")
                },
            }),
        }
    }
}

/// A file's name, for loop messages.
fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The lines of a file as Firejail reads them: everything from `#` on is a comment,
/// spaces and tabs collapse to one space.
fn parse_source(text: &str) -> Source {
    let mut lines = Vec::new();
    let mut description = None;
    for (index, raw) in text.lines().enumerate() {
        if description.is_none() {
            if let Some(rest) = raw.trim().strip_prefix("# Description:") {
                let rest = rest.trim();
                if !rest.is_empty() {
                    description = Some(rest.to_string());
                }
            }
        }
        let code = raw.split('#').next().unwrap_or("");
        let words: Vec<&str> = code.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
        if !words.is_empty() {
            lines.push((index + 1, words.join(" ")));
        }
    }
    Source { lines, description }
}

/// Whether an `ignore` read earlier drops this line: it is the ignored text, whole or
/// followed by a space (`ignore net` drops `net none`, not `netfilter`).
fn is_ignored(ignores: &[String], text: &str) -> bool {
    ignores.iter().any(|ignored| {
        text.strip_prefix(ignored.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
    })
}

fn is_command_word(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
}

/// `?NAME: LINE`: the line when the condition holds with Firejail's default settings and
/// what was read so far, `None` when it does not.
fn condition<'a>(
    text: &'a str,
    at: &Place,
    state: &State,
) -> Result<Option<&'a str>, FirejailError> {
    let Some((name, rest)) = text.split_once(':') else {
        return Err(FirejailError::bad(
            at,
            "a conditional line needs a ':' after its condition",
            "write `?CONDITION: command`",
        ));
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(FirejailError::bad(
            at,
            format!(
                "`?{}:` has no command after it",
                crate::escape::controls(name)
            ),
            "write `?CONDITION: command`",
        ));
    }
    if rest.starts_with("include") || rest.starts_with("quiet") {
        return Err(FirejailError::bad(
            at,
            "`include` and `quiet` cannot be conditional",
            "Firejail refuses them after `?CONDITION:` too",
        ));
    }
    let holds = match name.trim() {
        // firejail.config's defaults: browser-disable-u2f yes, browser-allow-drm no,
        // allow-tray no; the others depend on options given to firejail, not used here.
        "BROWSER_DISABLE_U2F" => true,
        "BROWSER_ALLOW_DRM" | "ALLOW_TRAY" | "HAS_APPIMAGE" => false,
        "HAS_NET" => state.net,
        "HAS_NODBUS" => state.dbus_restricted,
        "HAS_NOSOUND" => state.nosound,
        "HAS_PRIVATE" => state.private,
        "HAS_X11" => state.x11,
        other => {
            return Err(FirejailError::bad(
                at,
                format!("unknown condition '{}'", crate::escape::controls(other)),
                "Firejail knows HAS_APPIMAGE, HAS_NET, HAS_NODBUS, HAS_NOSOUND, HAS_PRIVATE, \
                 HAS_X11, BROWSER_DISABLE_U2F, BROWSER_ALLOW_DRM and ALLOW_TRAY",
            ))
        }
    };
    Ok(holds.then_some(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn read(dir: &tempfile::TempDir, name: &str) -> Result<Parsed, FirejailError> {
        let home = dir.path().join("home");
        Reader::new(&home, &dir.path().join("no-system")).read(&dir.path().join(name))
    }

    fn texts(parsed: &Parsed) -> Vec<String> {
        parsed.commands.iter().map(Command::text).collect()
    }

    #[test]
    fn comments_spaces_and_includes_are_read_as_firejail_reads_them() {
        let dir = folder(&[
            (
                "app.profile",
                "# Firejail profile for app\n# Description: An app\ninclude app.local\n\
                 include common.inc   # trailing comment\nnet\tnone\n\n",
            ),
            ("common.inc", "whitelist ${HOME}/Documents\ncaps.drop all\n"),
        ]);
        let parsed = read(&dir, "app.profile").unwrap();
        assert_eq!(
            texts(&parsed),
            ["whitelist ${HOME}/Documents", "caps.drop all", "net none"]
        );
        assert_eq!(parsed.description.as_deref(), Some("An app"));
        assert_eq!(parsed.files_read, 2);
        assert_eq!(parsed.commands[0].at.line, 1);
        assert!(parsed.commands[0].at.file.ends_with("common.inc"));
        assert_eq!(parsed.commands[2].at.line, 5);
    }

    #[test]
    fn ignore_drops_later_matching_commands_by_whole_word() {
        let dir = folder(&[
            (
                "app.profile",
                "ignore net none\nignore include extra.inc\nignore dbus-user\ninclude base.inc\n",
            ),
            (
                "base.inc",
                "net none\nnetfilter\ndbus-user none\ninclude extra.inc\nnosound\n",
            ),
        ]);
        let parsed = read(&dir, "app.profile").unwrap();
        assert_eq!(texts(&parsed), ["netfilter", "nosound"]);
    }

    #[test]
    fn conditionals_follow_firejail_defaults_and_whitelist_ro_is_two_commands() {
        let dir = folder(&[(
            "app.profile",
            "?BROWSER_DISABLE_U2F: nou2f\n?ALLOW_TRAY: dbus-user.talk org.kde.StatusNotifierWatcher\n\
             nosound\n?HAS_NOSOUND: novideo\nwhitelist-ro ${HOME}/.config/mpv\n",
        )]);
        let parsed = read(&dir, "app.profile").unwrap();
        assert_eq!(
            texts(&parsed),
            [
                "nou2f",
                "nosound",
                "novideo",
                "whitelist ${HOME}/.config/mpv",
                "read-only ${HOME}/.config/mpv"
            ]
        );
    }

    #[test]
    fn broken_lines_name_file_and_line() {
        for (text, needle) in [
            ("nosound\nnet\n", "`net` needs an argument"),
            ("dbus-user maybe\n", "the policy is `filter` or `none`"),
            ("Whitelist /x\n", "'Whitelist' is not a Firejail command"),
            ("?NOPE: nosound\n", "unknown condition 'NOPE'"),
            ("?HAS_NET nosound\n", "needs a ':'"),
            ("include\n", "`include` needs a file"),
        ] {
            let dir = folder(&[("bad.profile", text)]);
            let err = read(&dir, "bad.profile").unwrap_err().to_string();
            let line = text.lines().count();
            assert!(err.contains(&format!("bad.profile:{line}: ")), "{err}");
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn a_missing_include_is_an_error_unless_it_is_a_local_file() {
        let dir = folder(&[("app.profile", "include mine.local\ninclude gone.inc\n")]);
        let err = read(&dir, "app.profile").unwrap_err().to_string();
        assert!(
            err.contains("app.profile:2: `include gone.inc`: no such file"),
            "{err}"
        );
    }

    #[test]
    fn include_loops_are_named_but_a_file_included_twice_is_fine() {
        let dir = folder(&[
            ("a.profile", "include b.inc\ninclude c.inc\ninclude c.inc\n"),
            ("b.inc", "nosound\n"),
            ("c.inc", "no3d\n"),
            ("loop.profile", "include x.inc\n"),
            ("x.inc", "nosound\ninclude y.inc\n"),
            ("y.inc", "include x.inc\n"),
        ]);
        assert_eq!(texts(&read(&dir, "a.profile").unwrap()).len(), 3);
        let err = read(&dir, "loop.profile").unwrap_err().to_string();
        assert!(
            err.contains("y.inc:1: the includes loop: x.inc -> y.inc -> x.inc"),
            "{err}"
        );
    }

    #[test]
    fn a_file_including_itself_loops() {
        let dir = folder(&[("self.profile", "include self.profile\n")]);
        let err = read(&dir, "self.profile").unwrap_err().to_string();
        assert!(err.contains("self.profile -> self.profile"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_utf8_says_which_line() {
        let dir = folder(&[]);
        std::fs::write(dir.path().join("bin.profile"), b"nosound\n\xff\n").unwrap();
        let err = read(&dir, "bin.profile").unwrap_err().to_string();
        assert!(err.contains("line 2 is not UTF-8"), "{err}");
    }
}
