//! `boxtop import`: boxtop profiles written from another sandbox's profiles, Firejail's:
//! read (`firejail`), converted (`convert`, `home`), written with their notes (`report`).
//! The command itself (clap and printing) is the binary's `cli::import`.

pub mod convert;
pub mod firejail;
pub mod home;
pub mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::escape;
use crate::paths::Paths;
use crate::profile::validate::{is_valid_name, NAME_RULE};
use crate::profile::{ProfileError, ProfileSet};

use convert::Conversion;
use firejail::{FirejailError, Reader};
use report::{Header, Tally};

/// Where Firejail keeps its profiles.
pub const FIREJAIL_DIR: &str = "/etc/firejail";

/// Why a profile could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Firejail(#[from] FirejailError),
    #[error("no Firejail profile named '{}' in {searched} (give a file's path, or install Firejail's profiles: package firejail-profiles)", escape::controls(.name))]
    NotFound { name: String, searched: String },
    #[error("{}: '{}' makes no profile name ({NAME_RULE}); give one with --name", escape::controls(&.file.display().to_string()), escape::controls(.stem))]
    NoName { file: PathBuf, stem: String },
    #[error("'{}' is not a valid profile name: {NAME_RULE}", escape::controls(.0))]
    BadName(String),
    #[error("{}: the name '{name}' is taken by {} in this run; convert it alone with --name", escape::controls(&.file.display().to_string()), escape::controls(.other))]
    NameTaken {
        file: PathBuf,
        name: String,
        other: String,
    },
    #[error("{} exists; --force replaces it", escape::controls(&.0.display().to_string()))]
    Exists(PathBuf),
    #[error("{}: the converted profile is not valid, so it was not written: {error}", escape::controls(&.file.display().to_string()))]
    Invalid {
        file: PathBuf,
        error: Box<ProfileError>,
    },
    #[error("{}: cannot write: {source}", escape::controls(&.path.display().to_string()))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot list the folder: {source}", escape::controls(&.path.display().to_string()))]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where an import writes, and whether it replaces profiles already there.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The folder to write into; the user's profile folder when `None`.
    pub output: Option<PathBuf>,
    /// Replace a profile of the same name already in the output folder.
    pub force: bool,
}

/// One Firejail profile imported.
pub struct Imported {
    pub written: Written,
    /// The Firejail profile file it came from.
    pub source: PathBuf,
    /// Whether the new profile overrides a bundled profile of its name.
    pub overrides_bundled: bool,
}

/// A folder of Firejail profiles imported.
pub struct ImportedAll {
    /// Why each file that failed did, one message each, in the order met.
    pub failures: Vec<String>,
    /// What was converted, kept and failed, one line each.
    pub summary: Vec<String>,
    /// Every file was converted (and there was at least one).
    pub is_complete: bool,
}

/// Imports the Firejail profile `profile` (a name looked up in ~/.config/firejail, then
/// /etc/firejail, or a file), as `name` or the name its file gives.
pub fn import_one(
    paths: &Paths,
    profile: &str,
    name: Option<&str>,
    options: &Options,
) -> anyhow::Result<Imported> {
    Job::new(paths, options).one(profile, name)
}

/// Imports every `*.profile` file of `folder`.
pub fn import_all(paths: &Paths, folder: &Path, options: &Options) -> anyhow::Result<ImportedAll> {
    Job::new(paths, options).all(folder)
}

/// A profile written.
pub struct Written {
    pub path: PathBuf,
    pub name: String,
    pub conversion: Conversion,
    pub files_read: usize,
}

/// What an import run shares between its profiles.
struct Job {
    reader: Reader,
    set: ProfileSet,
    bundled: ProfileSet,
    home: PathBuf,
    output: PathBuf,
    /// Whether a name of a bundled profile written there overrides it.
    overrides_bundled: bool,
    force: bool,
}

impl Job {
    fn new(paths: &Paths, options: &Options) -> Job {
        let output = options
            .output
            .clone()
            .unwrap_or_else(|| paths.user_profiles());
        Job {
            reader: Reader::new(&paths.home, Path::new(FIREJAIL_DIR)),
            set: ProfileSet::load(&paths.user_profiles()),
            bundled: ProfileSet::bundled(),
            home: paths.home.clone(),
            overrides_bundled: output == paths.user_profiles(),
            output,
            force: options.force,
        }
    }

    fn one(&mut self, profile: &str, name: Option<&str>) -> anyhow::Result<Imported> {
        let file = if profile.contains('/') || profile.ends_with(".profile") {
            PathBuf::from(profile)
        } else {
            self.reader
                .find(profile)
                .ok_or_else(|| ImportError::NotFound {
                    name: profile.to_string(),
                    searched: self.reader.searched(),
                })?
        };
        let name = match name {
            Some(name) if is_valid_name(name) => name.to_string(),
            Some(name) => return Err(ImportError::BadName(name.to_string()).into()),
            None => name_of(&file)?,
        };
        let written = self.convert(&file, &name)?;
        Ok(Imported {
            written,
            source: file,
            overrides_bundled: self.overrides_bundled && self.bundled.get(&name).is_some(),
        })
    }

    fn all(&mut self, folder: &Path) -> anyhow::Result<ImportedAll> {
        let read = std::fs::read_dir(folder).map_err(|source| ImportError::ReadDir {
            path: folder.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = read
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "profile") && path.is_file())
            .collect();
        // Files already named as boxtop names them come first, so `Discord.profile` does
        // not take the name of `discord.profile`.
        files.sort_by_key(|file| (name_of(file).ok() != stem_of(file), file.clone()));
        if files.is_empty() {
            anyhow::bail!(
                "{}: no Firejail profile (*.profile file) in this folder",
                escape::controls(&folder.display().to_string())
            );
        }
        let mut tally = Tally {
            total: files.len(),
            ..Tally::default()
        };
        let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut failures = Vec::new();
        for file in &files {
            let result = name_of(file).and_then(|name| match names.get(&name) {
                Some(other) => Err(ImportError::NameTaken {
                    file: file.clone(),
                    name,
                    other: other.display().to_string(),
                }),
                None => {
                    names.insert(name.clone(), file.clone());
                    self.convert(file, &name)
                }
            });
            match result {
                Ok(written) => {
                    tally.converted += 1;
                    tally.add_untranslated(&written.conversion);
                    if self.overrides_bundled && self.bundled.get(&written.name).is_some() {
                        tally.overriding.push(written.name);
                    }
                }
                Err(ImportError::Exists(path)) => tally.kept.push(path.display().to_string()),
                Err(ImportError::Firejail(err)) => {
                    // The line at fault may be in a file it includes.
                    let shown = err.to_string();
                    if shown.starts_with(&file.display().to_string()) {
                        failures.push(shown);
                    } else {
                        failures.push(format!("{}: {shown}", file.display()));
                    }
                    tally.failed.push(file.display().to_string());
                }
                Err(err) => {
                    failures.push(err.to_string());
                    tally.failed.push(file.display().to_string());
                }
            }
        }
        Ok(ImportedAll {
            failures,
            summary: tally.summary(folder, &self.output),
            is_complete: tally.failed.is_empty() && tally.total > 0,
        })
    }

    /// Reads, converts, checks and writes one profile.
    fn convert(&mut self, file: &Path, name: &str) -> Result<Written, ImportError> {
        let path = self.output.join(format!("{name}.toml"));
        if !self.force && std::fs::symlink_metadata(&path).is_ok() {
            return Err(ImportError::Exists(path));
        }
        let parsed = self.reader.read(file)?;
        let conversion = convert::convert(&parsed, &self.home)?;
        // A bundled profile of this name knows the real program: Debian's
        // /usr/bin/chromium is a script reading /etc/chromium.d, which no sandbox has.
        let (command, binaries, desktop_file, command_why) = match self.bundled.resolve(name) {
            Ok(bundled) => (
                bundled.command,
                bundled.binaries,
                bundled.desktop_file,
                format!("The program as boxtop's bundled '{name}' profile runs it."),
            ),
            Err(_) => (
                vec![stem_of(file).unwrap_or_else(|| name.to_string())],
                Vec::new(),
                None,
                "The Firejail profile's name, as the program Firejail runs with it.".to_string(),
            ),
        };
        let text = report::render(
            &Header {
                name,
                command: &command,
                command_why: &command_why,
                binaries: &binaries,
                desktop_file: desktop_file.as_deref(),
                description: parsed.description.as_deref(),
                source: file,
            },
            &conversion,
        );
        // The same check as `boxtop check`: what is written always loads.
        self.set
            .resolve_text(name, &path.display().to_string(), &text, Some(&path))
            .map_err(|error| ImportError::Invalid {
                file: file.to_path_buf(),
                error: Box::new(error),
            })?;
        write_atomic(&path, text.as_bytes()).map_err(|source| ImportError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(Written {
            path,
            name: name.to_string(),
            conversion,
            files_read: parsed.files_read,
        })
    }
}

fn stem_of(file: &Path) -> Option<String> {
    Some(file.file_stem()?.to_str()?.to_string())
}

/// The boxtop name of a Firejail profile file: its name in lowercase, each character a
/// profile name cannot hold made a '-'.
fn name_of(file: &Path) -> Result<String, ImportError> {
    let stem = stem_of(file).unwrap_or_default();
    profile_name(&stem).ok_or_else(|| ImportError::NoName {
        file: file.to_path_buf(),
        stem,
    })
}

/// `tor-browser_en-US` becomes `tor-browser_en-us`; `None` when nothing valid is left.
pub fn profile_name(stem: &str) -> Option<String> {
    let mapped: String = stem
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name: String = mapped
        .trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
        .chars()
        .take(63)
        .collect();
    is_valid_name(&name).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_follow_boxtop_rules() {
        assert_eq!(profile_name("firefox-esr").as_deref(), Some("firefox-esr"));
        assert_eq!(profile_name("Discord").as_deref(), Some("discord"));
        assert_eq!(
            profile_name("tor-browser_en-US").as_deref(),
            Some("tor-browser_en-us")
        );
        assert_eq!(
            profile_name("com.github.johnfactotum.Foliate").as_deref(),
            Some("com.github.johnfactotum.foliate")
        );
        assert_eq!(profile_name("a+b").as_deref(), Some("a-b"));
        assert_eq!(profile_name("..x").as_deref(), Some("x"));
        assert_eq!(profile_name(&"y".repeat(80)).map(|n| n.len()), Some(63));
        assert_eq!(profile_name("..."), None);
        assert_eq!(profile_name("é"), None);
    }
}
