//! `boxtop import`: boxtop profiles written from another sandbox's profiles, Firejail's:
//! read (`firejail`), converted (`convert`, `home`), written with their notes (`report`).

pub mod convert;
pub mod firejail;
pub mod home;
pub mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::atomic::write_atomic;
use crate::paths::Paths;
use crate::profile::validate::{is_valid_name, NAME_RULE};
use crate::profile::{ProfileError, ProfileSet};
use crate::{errln, escape, outln};

use convert::Conversion;
use firejail::{FirejailError, Reader};
use report::{Header, Tally};

/// Where Firejail keeps its profiles.
pub const FIREJAIL_DIR: &str = "/etc/firejail";

/// `boxtop import ...`
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Write a boxtop profile from a Firejail profile, following its includes.
    ///
    /// Whitelisted folders of the home become shares, `net none` no network, `nosound`
    /// no audio, `dbus-user filter` names the [dbus] lists. What has no boxtop
    /// equivalent is listed, on the terminal and as comments at the end of the file.
    Firejail(FirejailArgs),
}

/// `boxtop import firejail`
#[derive(Debug, clap::Args)]
pub struct FirejailArgs {
    /// A Firejail profile name (looked up in ~/.config/firejail, then /etc/firejail), or
    /// a profile file.
    #[arg(
        value_name = "NAME|FILE",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub profile: Option<String>,
    /// Convert every *.profile file of this folder, e.g. /etc/firejail.
    #[arg(long, value_name = "FOLDER")]
    pub all: Option<PathBuf>,
    /// Write into this folder instead of your profile folder.
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace a profile of the same name already in the output folder.
    #[arg(long)]
    pub force: bool,
    /// The new profile's name (default: the Firejail profile's, in lowercase).
    #[arg(long, conflicts_with = "all")]
    pub name: Option<String>,
}

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

/// Runs `boxtop import`.
pub fn run(cmd: ImportCommand, paths: &Paths) -> anyhow::Result<ExitCode> {
    let ImportCommand::Firejail(args) = cmd;
    let output = args.output.clone().unwrap_or_else(|| paths.user_profiles());
    let mut job = Job {
        reader: Reader::new(&paths.home, Path::new(FIREJAIL_DIR)),
        set: ProfileSet::load(&paths.user_profiles()),
        bundled: ProfileSet::bundled(),
        home: paths.home.clone(),
        overrides_bundled: output == paths.user_profiles(),
        output,
        force: args.force,
    };
    match (&args.all, &args.profile) {
        (Some(folder), _) => job.all(folder),
        (None, Some(profile)) => job.one(profile, args.name.as_deref()),
        (None, None) => unreachable!("clap requires a profile or --all"),
    }
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
    fn one(&mut self, profile: &str, name: Option<&str>) -> anyhow::Result<ExitCode> {
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
        outln!(
            "wrote {} from {} ({} files read)",
            written.path.display(),
            file.display(),
            written.files_read
        );
        if self.overrides_bundled && self.bundled.get(&name).is_some() {
            outln!("  it overrides the bundled profile '{name}' (delete the file to use the bundled one again)");
        }
        for line in report::notes(&written.conversion) {
            outln!("{line}");
        }
        outln!("see what it grants with `boxtop show {name}`");
        Ok(ExitCode::SUCCESS)
    }

    fn all(&mut self, folder: &Path) -> anyhow::Result<ExitCode> {
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
                        errln!("boxtop: {shown}");
                    } else {
                        errln!("boxtop: {}: {shown}", file.display());
                    }
                    tally.failed.push(file.display().to_string());
                }
                Err(err) => {
                    errln!("boxtop: {err}");
                    tally.failed.push(file.display().to_string());
                }
            }
        }
        for line in tally.summary(folder, &self.output) {
            outln!("{line}");
        }
        Ok(if tally.failed.is_empty() && tally.total > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
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
