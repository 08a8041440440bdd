//! Finds and parses profiles: bundled ones embedded in the binary, user ones in
//! `$XDG_CONFIG_HOME/boxtop/profiles/`, which override bundled ones of the same name.
//! One broken file never hides the others: it is kept with its error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::{key_at, line_column, ProfileError};
use super::schema::{Profile, RawProfile};
use super::validate::{check_raw, finish, is_valid_name, Origin, NAME_RULE};
use crate::escape;

/// Where a profile file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Embedded in the binary.
    Bundled,
    /// A user file with no bundled profile of that name.
    User,
    /// A user file replacing a bundled profile.
    Override,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Bundled => "bundled",
            Source::User => "user",
            Source::Override => "override",
        }
    }
}

/// One profile file, parsed or not.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub source: Source,
    /// As shown to the user: a path, or `bundled:NAME.toml`.
    pub file: String,
    /// The file on disk, for user profiles.
    pub path: Option<PathBuf>,
    pub text: Option<String>,
    /// Parsed on first use: bundled profiles are named by their file, so a launch
    /// parses only the profiles it resolves.
    raw: std::cell::OnceCell<Result<RawProfile, ProfileError>>,
}

impl Entry {
    /// The parsed file, or why it could not be parsed.
    pub fn raw(&self) -> &Result<RawProfile, ProfileError> {
        self.raw.get_or_init(|| match &self.text {
            Some(text) => parse(&self.file, text),
            None => Err(ProfileError::file(
                self.file.clone(),
                "the file could not be read",
            )),
        })
    }

    fn with_raw(mut self, raw: Result<RawProfile, ProfileError>) -> Entry {
        self.raw = std::cell::OnceCell::from(raw);
        self
    }
}

/// Every profile boxtop knows, by name.
#[derive(Debug, Clone, Default)]
pub struct ProfileSet {
    /// The winning entry for each name, sorted by name.
    entries: BTreeMap<String, Entry>,
    /// Bundled entries hidden by a user override, for `extends = "<own name>"`.
    shadowed: BTreeMap<String, Entry>,
    /// Files that could not even be given a name (not UTF-8 names, duplicates...).
    problems: Vec<ProfileError>,
}

/// Parses one profile text. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<RawProfile, ProfileError> {
    let raw: RawProfile = toml::from_str(text).map_err(|err| {
        let (line, column, key) = match err.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                (Some(line), Some(column), key_at(text, span.start))
            }
            None => (None, None, None),
        };
        ProfileError {
            file: file.to_string(),
            line,
            column,
            key,
            message: err.message().trim().to_string(),
            hint: Some("see docs/profiles.md for every key and its values".into()),
        }
    })?;
    check_raw(
        &raw,
        &Origin {
            file,
            text: Some(text),
        },
    )?;
    Ok(raw)
}

/// A profile file without a valid `name` whose file name does not make one either.
fn stem_error(file: String, stem: &str) -> ProfileError {
    ProfileError::file(
        file,
        format!(
            "the file name makes the profile name '{}', which is not a valid profile name",
            escape::controls(stem)
        ),
    )
    .with_hint(format!(
        "rename the file to NAME.toml, or set name = \"NAME\" in it: {NAME_RULE}"
    ))
}

impl ProfileSet {
    /// The bundled profiles and the user's, as found on disk now.
    pub fn load(user_dir: &Path) -> Self {
        let mut set = Self::bundled();
        set.add_user_dir(user_dir);
        set
    }

    /// Only the profiles embedded in the binary.
    pub fn bundled() -> Self {
        let mut set = Self::default();
        for (file_name, text) in super::bundled::BUNDLED {
            let stem = file_name.trim_end_matches(".toml");
            let file = format!("bundled:{file_name}");
            set.insert_bundled(stem, file, text);
        }
        set
    }

    /// Adds every `*.toml` of a user folder (missing folder: nothing to add).
    pub fn add_user_dir(&mut self, dir: &Path) {
        let Ok(read) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = read
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            self.add_user_file(&path);
        }
    }

    /// Adds one user file.
    pub fn add_user_file(&mut self, path: &Path) {
        let file = path.display().to_string();
        let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) else {
            self.problems
                .push(ProfileError::file(file, "the file name is not UTF-8"));
            return;
        };
        let text = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|err| {
                let (line, column) = {
                    let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
                    let valid = std::str::from_utf8(valid).unwrap_or("");
                    line_column(valid, valid.len())
                };
                ProfileError {
                    file: file.clone(),
                    line: Some(line),
                    column: Some(column),
                    key: None,
                    message: "the file is not valid UTF-8".into(),
                    hint: Some("save it as UTF-8 text".into()),
                }
            }),
            Err(err) => Err(ProfileError::file(
                file.clone(),
                format!("cannot read: {err}"),
            )),
        };
        self.insert(Source::User, stem, file, Some(path.to_path_buf()), text);
    }

    /// A bundled profile: its name is its file's (a unit test holds them to it), so it is
    /// parsed only when resolved.
    fn insert_bundled(&mut self, stem: &str, file: String, text: &str) {
        self.entries.insert(
            stem.to_string(),
            Entry {
                name: stem.to_string(),
                source: Source::Bundled,
                file,
                path: None,
                text: Some(text.to_string()),
                raw: std::cell::OnceCell::new(),
            },
        );
    }

    fn insert(
        &mut self,
        source: Source,
        stem: &str,
        file: String,
        path: Option<PathBuf>,
        text: Result<String, ProfileError>,
    ) {
        let (text, raw) = match text {
            Ok(text) => {
                let raw = parse(&file, &text);
                (Some(text), raw)
            }
            Err(err) => (None, Err(err)),
        };
        let name = match &raw {
            Ok(RawProfile {
                name: Some(name), ..
            }) => name.clone(),
            _ => stem.to_string(),
        };
        if !is_valid_name(&name) {
            self.problems.push(stem_error(file, &name));
            return;
        }
        let mut entry = Entry {
            name: name.clone(),
            source,
            file,
            path,
            text,
            raw: std::cell::OnceCell::new(),
        }
        .with_raw(raw);
        if let Some(existing) = self.entries.get(&name) {
            match (existing.source, source) {
                (Source::Bundled, Source::User) => {
                    entry.source = Source::Override;
                    if let Some(old) = self.entries.remove(&name) {
                        self.shadowed.insert(name.clone(), old);
                    }
                }
                _ => {
                    let first = existing.file.clone();
                    self.problems.push(
                        ProfileError::file(
                            entry.file.clone(),
                            format!("the name '{name}' is already used by {first}"),
                        )
                        .with_hint("give each profile its own name"),
                    );
                    return;
                }
            }
        }
        self.entries.insert(name, entry);
    }

    /// Every profile, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// Errors that belong to no listed profile (duplicate names, bad file names).
    pub fn problems(&self) -> &[ProfileError] {
        &self.problems
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// The effective profile of `name`, after `extends`.
    pub fn resolve(&self, name: &str) -> Result<Profile, ProfileError> {
        let entry = self.entries.get(name).ok_or_else(|| self.unknown(name))?;
        self.resolve_entry(entry)
    }

    /// The effective profile of a file that is not part of the set (`run --profile-file`).
    pub fn resolve_file(&self, path: &Path) -> Result<Profile, ProfileError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|err| {
            ProfileError::file(file.clone(), format!("cannot read the profile: {err}"))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            ProfileError::file(file.clone(), "the file is not valid UTF-8")
                .with_hint("save it as UTF-8 text")
        })?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("profile")
            .to_string();
        self.resolve_text(&stem, &file, &text, Some(path))
    }

    /// The effective profile of a text (an unsaved edit, a file outside the set), named
    /// `name` unless it names itself, resolved against the set as files on disk are.
    pub fn resolve_text(
        &self,
        name: &str,
        file: &str,
        text: &str,
        path: Option<&Path>,
    ) -> Result<Profile, ProfileError> {
        let raw = parse(file, text)?;
        if raw.name.is_none() && !is_valid_name(name) {
            return Err(stem_error(file.to_string(), name));
        }
        let entry = Entry {
            name: raw.name.clone().unwrap_or_else(|| name.to_string()),
            source: Source::User,
            file: file.to_string(),
            path: path.map(Path::to_path_buf),
            text: Some(text.to_string()),
            raw: std::cell::OnceCell::new(),
        }
        .with_raw(Ok(raw));
        self.resolve_entry(&entry)
    }

    /// The effective bundled default of `name`, as if the user had not overridden it:
    /// `None` when no bundled profile has that name.
    pub fn resolve_bundled_original(&self, name: &str) -> Option<Result<Profile, ProfileError>> {
        self.bundled_original(name)
            .map(|entry| self.resolve_entry(entry))
    }

    /// Up to three profile names a mistyped `name` may mean, closest first: names a
    /// typo or two away (`firefx`, `fierfox`), then names containing it or contained in it.
    pub fn closest_names(&self, name: &str) -> Vec<&str> {
        // One edit per three letters, at least one: `vlc` -> `vl`, not `vlc` -> `xterm`.
        let allowed = (name.chars().count() / 3).max(1);
        let mut close: Vec<(usize, &str)> = self
            .entries
            .keys()
            .filter_map(|known| {
                let distance = strsim::damerau_levenshtein(name, known);
                if distance <= allowed {
                    Some((distance, known.as_str()))
                } else if known.contains(name) || name.contains(known.as_str()) {
                    Some((allowed + 1, known.as_str()))
                } else {
                    None
                }
            })
            .collect();
        close.sort();
        close.into_iter().map(|(_, known)| known).take(3).collect()
    }

    /// The bundled original of `name`: hidden by a user override, or still in place.
    pub fn bundled_original(&self, name: &str) -> Option<&Entry> {
        self.shadowed.get(name).or_else(|| {
            self.entries
                .get(name)
                .filter(|entry| entry.source == Source::Bundled)
        })
    }

    fn resolve_entry(&self, entry: &Entry) -> Result<Profile, ProfileError> {
        let mut raw = entry.raw().clone()?;
        let mut chain = vec![entry.name.clone()];
        let mut visited: Vec<&Entry> = vec![entry];
        let mut current = entry;
        while let Some(parent_name) = raw.extends.clone() {
            let parent = if parent_name == current.name {
                // `extends = "<own name>"` in an override means the bundled original.
                self.bundled_original(&parent_name)
            } else {
                self.entries.get(&parent_name)
            };
            let origin = Origin {
                file: &current.file,
                text: current.text.as_deref(),
            };
            let Some(parent) = parent else {
                return Err(ProfileError::at_key(
                    origin.file,
                    origin.text,
                    &super::error::key_path(&["extends"]),
                    if parent_name == current.name {
                        format!(
                            "'{parent_name}' extends itself, and no bundled profile of that name \
                             is there for it to override"
                        )
                    } else {
                        format!("no profile named '{parent_name}' to extend")
                    },
                )
                .with_hint("run `boxtop list` to see the profile names"));
            };
            if visited.iter().any(|seen| std::ptr::eq(*seen, parent)) {
                chain.push(parent.name.clone());
                return Err(ProfileError::at_key(
                    origin.file,
                    origin.text,
                    &super::error::key_path(&["extends"]),
                    format!("`extends` loops: {}", chain.join(" -> ")),
                )
                .with_hint("remove one of the `extends` keys in the loop"));
            }
            chain.push(parent.name.clone());
            visited.push(parent);
            let parent_raw = parent.raw().clone().map_err(|err| {
                ProfileError::file(
                    current.file.clone(),
                    format!("extends '{}', which is broken: {err}", parent.name),
                )
            })?;
            let extends = parent_raw.extends.clone();
            raw = RawProfile {
                extends,
                ..raw.over(parent_raw)
            };
            current = parent;
        }
        let origin = Origin {
            file: &entry.file,
            text: entry.text.as_deref(),
        };
        finish(raw, &entry.name, &origin)
    }

    fn unknown(&self, name: &str) -> ProfileError {
        let close = self.closest_names(name);
        let hint = if close.is_empty() {
            "run `boxtop list` to see the profiles, or `boxtop new NAME` to write one".to_string()
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        ProfileError::file(
            name.to_string(),
            format!("no profile named '{}'", escape::controls(name)),
        )
        .with_hint(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_name_suggests_the_closest_profiles() {
        let set = ProfileSet::bundled();
        assert_eq!(set.closest_names("firefx").first(), Some(&"firefox"));
        assert_eq!(set.closest_names("fierfox").first(), Some(&"firefox"));
        assert_eq!(set.closest_names("mousepda"), ["mousepad"]);
        assert!(set.closest_names("zzzzzz").is_empty());
        let err = set.resolve("firefx").unwrap_err().to_string();
        assert!(err.contains("did you mean firefox"), "{err}");
    }

    #[test]
    fn a_file_name_that_is_no_profile_name_is_refused_wherever_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let body = "command = [\"true\"]\n";
        for stem in [".", "..", "a\x1b[31mb", "Upper", &"x".repeat(64)] {
            let path = dir.path().join(format!("{stem}.toml"));
            std::fs::write(&path, body).unwrap();
            let set = ProfileSet::load(dir.path());
            let err = set.resolve_file(&path).unwrap_err().to_string();
            assert!(
                err.contains("the file name makes the profile name") && err.contains("1 to 63"),
                "{err}"
            );
            assert!(!err.contains('\x1b'), "{err}");
            assert!(set.entries().all(|entry| entry.name != stem));
            let problem = set.problems().iter().find(|p| p.file.ends_with(".toml"));
            assert!(problem.is_some(), "{stem:?} not reported");
            std::fs::remove_file(&path).unwrap();
        }
        // A valid `name` key names the profile whatever the file is called.
        let path = dir.path().join("..toml");
        std::fs::write(&path, format!("name = \"fine\"\n{body}")).unwrap();
        let set = ProfileSet::load(dir.path());
        assert_eq!(set.resolve_file(&path).unwrap().name, "fine");
        assert!(set.get("fine").is_some());
    }

    #[test]
    fn names_and_extends_with_control_characters_are_refused_and_shown_escaped() {
        let set = ProfileSet::bundled();
        for text in [
            "name = \"x\\u001b]0;t\\u0007\"\ncommand = [\"true\"]\n",
            "extends = \"x\\u001b[2J\"\n",
            "desktop_file = \"a-..-..-x\"\ncommand = [\"true\"]\n",
        ] {
            let err = set
                .resolve_text("ok", "ok.toml", text, None)
                .unwrap_err()
                .to_string();
            assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err}");
            assert!(err.contains("ok.toml"), "{err}");
        }
    }

    #[test]
    fn every_bundled_profile_is_named_by_its_file_and_resolves() {
        let set = ProfileSet::bundled();
        assert!(set.entries().count() >= 20);
        for (file_name, text) in super::super::bundled::BUNDLED {
            let raw = parse(file_name, text).unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(
                raw.name.as_deref(),
                Some(file_name.trim_end_matches(".toml")),
                "{file_name}: the loader names bundled profiles by their file without parsing them"
            );
        }
        for entry in set.entries() {
            set.resolve(&entry.name)
                .unwrap_or_else(|err| panic!("{}: {err}", entry.name));
        }
    }

    #[test]
    fn a_text_extending_its_own_name_gets_the_bundled_original() {
        let dir = tempfile::tempdir().unwrap();
        let set = ProfileSet::load(dir.path());
        let text = "name = \"xterm\"\nextends = \"xterm\"\ngpu = true\n";
        let profile = set.resolve_text("xterm", "xterm.toml", text, None).unwrap();
        assert!(profile.gpu);
        assert_eq!(profile.command, set.resolve("xterm").unwrap().command);

        // The same as a user override on disk: the original is then the shadowed one.
        std::fs::write(dir.path().join("xterm.toml"), text).unwrap();
        let set = ProfileSet::load(dir.path());
        assert_eq!(set.get("xterm").unwrap().source, Source::Override);
        assert!(set.resolve("xterm").unwrap().gpu);
    }

    #[test]
    fn a_profile_extending_itself_with_no_bundled_original_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let set = ProfileSet::load(dir.path());
        let text = "name = \"mine\"\nextends = \"mine\"\n";
        let err = set
            .resolve_text("mine", "mine.toml", text, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("'mine' extends itself"), "{err}");
        assert!(!err.contains("no profile named"), "{err}");
    }
}
