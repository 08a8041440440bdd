//! Paths in Firejail profiles (`${HOME}/.mozilla`, `${DOWNLOADS}`, `/opt/app`) and what
//! they become: shares of the home with their mode and `create`, read-only binds, or a
//! reason why neither.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use super::convert::{is_plain_path, BindOut, ShareOut, Untranslated};
use super::firejail::Command;
use crate::access::LOOK_AND_FEEL;
use crate::profile::validate::{check_bind_path, check_share_path, is_same_or_inside};
use crate::profile::Access;

/// Where a path of a Firejail profile points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Inside the home, relative (empty: the home itself); `usual` for the XDG user
    /// folders (`${DOWNLOADS}`...), which a share may create.
    Home { rel: String, usual: bool },
    /// Inside `$XDG_RUNTIME_DIR`.
    Runtime,
    /// Any other absolute path.
    Absolute(String),
}

/// Firejail's macros for the XDG user folders, and their keys in `user-dirs.dirs`.
const USER_DIRS: &[(&str, &str, &str)] = &[
    ("${DESKTOP}", "XDG_DESKTOP_DIR", "Desktop"),
    ("${DOCUMENTS}", "XDG_DOCUMENTS_DIR", "Documents"),
    ("${DOWNLOADS}", "XDG_DOWNLOAD_DIR", "Downloads"),
    ("${MUSIC}", "XDG_MUSIC_DIR", "Music"),
    ("${PICTURES}", "XDG_PICTURES_DIR", "Pictures"),
    ("${VIDEOS}", "XDG_VIDEOS_DIR", "Videos"),
];

/// Paths that are no secrets but that an app must not write: what it writes there acts
/// outside the sandbox. Read-only shares of them are kept.
const NOT_WRITABLE: &[(&str, &str)] = &[
    (".config/dconf", "the desktop's shared settings, custom shortcuts that run commands included; the app keeps its settings in its private home"),
    (".local/share/applications", "menu entries, whose commands run outside the sandbox"),
    (".config/mimeapps.list", "which program opens your files outside the sandbox"),
];

/// The XDG user folders as `~/.config/user-dirs.dirs` names them (English names when it
/// does not): macro -> path relative to the home, or absolute when outside it.
pub fn user_dirs(home: &Path) -> BTreeMap<&'static str, String> {
    let text = std::fs::read_to_string(home.join(".config/user-dirs.dirs")).unwrap_or_default();
    let mut dirs = BTreeMap::new();
    for (mac, key, default) in USER_DIRS {
        let value = text.lines().find_map(|line| {
            let value = line
                .trim()
                .strip_prefix(key)?
                .trim_start()
                .strip_prefix('=')?;
            let value = value.trim().trim_matches('"');
            if value == "$HOME" {
                return Some(String::new());
            }
            if let Some(rel) = value.strip_prefix("$HOME/") {
                return Some(rel.to_string());
            }
            value.starts_with('/').then(|| value.to_string())
        });
        dirs.insert(*mac, value.unwrap_or_else(|| (*default).to_string()));
    }
    dirs
}

/// Where `arg` points. Errors say why the path is refused: it leaves the home, or holds
/// `..`.
pub fn target(
    arg: &str,
    home: &Path,
    user_dirs: &BTreeMap<&'static str, String>,
) -> Result<Target, String> {
    let shown = crate::escape::controls(arg);
    if Path::new(arg)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err(if arg.starts_with("${HOME}") || arg.starts_with('~') {
            format!("'{shown}' leaves the home folder")
        } else {
            format!("'{shown}' holds '..'")
        });
    }
    let home_text = home.display().to_string();
    let (base, rest, usual) = if let Some(rest) = arg.strip_prefix("${HOME}") {
        (String::new(), rest, false)
    } else if arg == "~" || arg.starts_with("~/") {
        (String::new(), &arg[1..], false)
    } else if let Some((mac, rest)) = USER_DIRS
        .iter()
        .find_map(|(mac, _, _)| arg.strip_prefix(mac).map(|rest| (*mac, rest)))
    {
        let dir = user_dirs.get(mac).cloned().unwrap_or_default();
        if dir.starts_with('/') {
            return Ok(Target::Absolute(format!("{dir}{rest}")));
        }
        (dir, rest, true)
    } else if arg.starts_with("${RUNUSER}") {
        return Ok(Target::Runtime);
    } else if let Some(rest) = arg
        .strip_prefix(home_text.as_str())
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    {
        (String::new(), rest, false)
    } else if arg.starts_with('/') {
        return Ok(Target::Absolute(arg.to_string()));
    } else {
        return Err(format!(
            "'{shown}' is not an absolute path or a path of the home"
        ));
    };
    if !rest.is_empty() && !rest.starts_with('/') {
        return Err(format!("'{shown}' is not a path"));
    }
    // A user folder from user-dirs.dirs may hold `..` too: the joined path is checked.
    let joined = format!("{base}/{rest}");
    let mut parts = Vec::new();
    for component in Path::new(&joined).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                return Err(format!("'{shown}' leaves the home folder"));
            }
            _ => {}
        }
    }
    Ok(Target::Home {
        rel: parts.join("/"),
        usual,
    })
}

/// The path commands of a profile, in order, until all are read.
#[derive(Default)]
pub struct PathRules {
    rules: Vec<(Command, Target)>,
}

/// What the path commands become.
pub struct Finished {
    pub shares: Vec<ShareOut>,
    pub binds: Vec<BindOut>,
    pub untranslated: Vec<Untranslated>,
    pub always: Vec<&'static str>,
    /// Paths shared by Firejail that are not in the home now, as `path (mode)`: a share
    /// of a missing path would stop the launch, so they are only listed.
    pub absent: Vec<String>,
}

/// A path of the home some command names, with all it says of it.
struct Candidate {
    rel: String,
    usual: bool,
    whitelisted: bool,
    mkdir: bool,
    mkfile: bool,
    from: Vec<String>,
}

impl PathRules {
    pub fn add(&mut self, command: &Command, target: Target) {
        self.rules.push((command.clone(), target));
    }

    /// Whether a home path is whitelisted: without one, Firejail shows the whole home.
    pub fn has_home_whitelist(&self) -> bool {
        self.rules.iter().any(|(command, target)| {
            command.name == "whitelist" && matches!(target, Target::Home { .. })
        })
    }

    /// The shares, the binds, what has no equivalent, and what boxtop does anyway.
    pub fn finish(&self, home: &Path, has_display: bool) -> Finished {
        let mut absent = Vec::new();
        let mut untranslated = Vec::new();
        let mut always = Vec::new();
        let mut binds: Vec<BindOut> = Vec::new();
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut modes: Vec<(String, Access)> = Vec::new();
        let not_whitelisted: Vec<&Target> = self
            .rules
            .iter()
            .filter(|(command, _)| command.name == "nowhitelist")
            .map(|(_, target)| target)
            .collect();
        let mut skip = |command: &Command, why: &str| {
            untranslated.push(Untranslated {
                command: command.clone(),
                why: why.to_string(),
            })
        };
        for (command, target) in &self.rules {
            let name = command.name.as_str();
            match (name, target) {
                ("nowhitelist", _) => {}
                (_, Target::Home { .. }) if not_whitelisted.contains(&target) => {}
                ("read-only" | "read-write", Target::Home { rel, .. }) => {
                    let mode = if name == "read-only" {
                        Access::Ro
                    } else {
                        Access::Rw
                    };
                    modes.push((rel.clone(), mode));
                }
                (_, Target::Home { rel, usual }) => {
                    let from = format!("`{}` ({})", command.text(), command.at);
                    let index = match candidates.iter().position(|c| c.rel == *rel) {
                        Some(index) => index,
                        None => {
                            candidates.push(Candidate {
                                rel: rel.clone(),
                                usual: *usual,
                                whitelisted: false,
                                mkdir: false,
                                mkfile: false,
                                from: Vec::new(),
                            });
                            candidates.len() - 1
                        }
                    };
                    let candidate = &mut candidates[index];
                    candidate.from.push(from);
                    match name {
                        "whitelist" => candidate.whitelisted = true,
                        "mkdir" => candidate.mkdir = true,
                        _ => candidate.mkfile = true,
                    }
                }
                (_, Target::Runtime) => {
                    always.push("the runtime folder holds what the grants bring")
                }
                ("read-only", Target::Absolute(path)) if is_system(path) => {
                    always.push("all of /usr is read-only")
                }
                ("read-only", Target::Absolute(_)) => {
                    always.push("what is not shared or bound is not there at all")
                }
                ("whitelist", Target::Absolute(path)) if is_system(path) => skip(
                    command,
                    "boxtop shows all of /usr read-only; it does not pick what",
                ),
                ("whitelist", Target::Absolute(path)) => match bind_for(path, home) {
                    Ok(path) => {
                        if !binds.iter().any(|bind| bind.path == path) {
                            binds.push(BindOut {
                                why: format!(
                                    "`{}` ({}): boxtop shows no {} unless bound",
                                    command.text(),
                                    command.at,
                                    top_folder(&path)
                                ),
                                path,
                            });
                        }
                    }
                    Err(why) => skip(command, &why),
                },
                ("mkdir" | "mkfile", Target::Absolute(_)) => {
                    skip(command, "boxtop creates nothing outside your home")
                }
                (_, Target::Absolute(_)) => skip(
                    command,
                    "boxtop binds paths outside the home read-only, or not at all",
                ),
            }
        }
        let mut shares: Vec<ShareOut> = Vec::new();
        for candidate in &candidates {
            let from = candidate.from.join(", ");
            let first = self.command_for(candidate);
            if candidate.rel.is_empty() {
                skip(
                    first,
                    "boxtop shares folders of the home, never the whole home",
                );
                continue;
            }
            if !is_plain_path(&candidate.rel) {
                skip(
                    first,
                    "a pattern: boxtop shares literal paths; add a share for each match",
                );
                continue;
            }
            if is_look_and_feel(&candidate.rel) {
                if has_display {
                    always.push(
                        "look and feel (fonts, themes, toolkit settings) comes with the display",
                    );
                }
                continue;
            }
            let mode = mode_of(&candidate.rel, &modes);
            if let Err((message, _)) = check_share_path(&candidate.rel, false) {
                skip(first, &format!("{message}; boxtop shares it only with force = true: add the share yourself if you mean it"));
                continue;
            }
            if mode == Access::Rw {
                if let Some((_, why)) = NOT_WRITABLE
                    .iter()
                    .find(|(path, _)| is_same_or_inside(&candidate.rel, path))
                {
                    skip(first, &format!("not shared read-write: {why}"));
                    continue;
                }
            }
            let inside = shares.iter().find(|share| {
                is_same_or_inside(&candidate.rel, &share.path)
                    && (share.mode == Access::Rw || mode == Access::Ro)
            });
            if inside.is_some() {
                continue;
            }
            let create = candidate.mkdir || candidate.usual;
            match presence(home, &candidate.rel) {
                Presence::There => {}
                Presence::Missing if create && !candidate.mkfile => {}
                Presence::Missing => {
                    absent.push(format!("{} ({})", candidate.rel, mode.as_str()));
                    continue;
                }
                Presence::Symlink(link) => {
                    skip(first, &format!("{link} is a symlink, and boxtop shares no path through one: share the real folder instead"));
                    continue;
                }
            }
            shares.push(ShareOut {
                path: candidate.rel.clone(),
                mode,
                create: create && !candidate.mkfile,
                why: from,
            });
        }
        for (rel, _) in &modes {
            let covered = rel.is_empty()
                || candidates
                    .iter()
                    .any(|c| is_same_or_inside(&c.rel, rel) || is_same_or_inside(rel, &c.rel));
            if !covered {
                if let Some((command, _)) = self.rules.iter().find(|(command, target)| {
                    matches!(command.name.as_str(), "read-only" | "read-write")
                        && matches!(target, Target::Home { rel: r, .. } if r == rel)
                }) {
                    if command.name == "read-only" {
                        always.push("what is not shared or bound is not there at all");
                    } else {
                        skip(
                            command,
                            "marks a part of the home this profile does not share",
                        );
                    }
                }
            }
        }
        always.sort_unstable();
        always.dedup();
        Finished {
            shares,
            binds,
            untranslated,
            always,
            absent,
        }
    }

    fn command_for(&self, candidate: &Candidate) -> &Command {
        self.rules
            .iter()
            .find(|(_, target)| matches!(target, Target::Home { rel, .. } if *rel == candidate.rel))
            .map(|(command, _)| command)
            .expect("a candidate comes from a rule")
    }
}

/// The mode the most specific `read-only`/`read-write` covering `rel` gives it (read-write
/// without one: a whitelist is writable).
fn mode_of(rel: &str, modes: &[(String, Access)]) -> Access {
    modes
        .iter()
        .filter(|(path, _)| path.is_empty() || is_same_or_inside(rel, path))
        .max_by_key(|(path, _)| path.len())
        .map(|(_, mode)| *mode)
        .unwrap_or(Access::Rw)
}

fn is_look_and_feel(rel: &str) -> bool {
    LOOK_AND_FEEL
        .iter()
        .any(|look| is_same_or_inside(rel, look) || is_same_or_inside(look, rel))
}

/// `/usr` and the folders that link into it, which boxtop always shows read-only.
fn is_system(path: &str) -> bool {
    [
        "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    ]
    .iter()
    .any(|system| is_same_or_inside(path, system))
}

fn top_folder(path: &str) -> String {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    format!("/{first}")
}

/// The bind for a whitelisted path outside the home, or why there is none. Symlinks are
/// resolved as a launch resolves them: `/var/run` is `/run`, which a bind cannot show.
fn bind_for(path: &str, home: &Path) -> Result<String, String> {
    if !is_plain_path(path) {
        return Err("a pattern: boxtop binds literal paths".into());
    }
    check_bind_path(path).map_err(|(_, hint)| hint)?;
    if let Ok(real) = std::fs::canonicalize(path) {
        let real = real.display().to_string();
        if real != path {
            check_bind_path(&real).map_err(|(_, hint)| format!("it is {real} here: {hint}"))?;
        }
        if Path::new(&real).starts_with(home) {
            return Err(format!(
                "it is {real} on this machine, in your home: a share of it is what you want"
            ));
        }
    }
    Ok(path.to_string())
}

enum Presence {
    There,
    Missing,
    /// The first symlink on the way, relative to the home.
    Symlink(String),
}

/// Whether `rel` is in the home now, reached without a symlink, as a launch reaches it.
fn presence(home: &Path, rel: &str) -> Presence {
    let mut path = home.to_path_buf();
    let mut shown = String::new();
    for part in rel.split('/') {
        path.push(part);
        if !shown.is_empty() {
            shown.push('/');
        }
        shown.push_str(part);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Presence::Symlink(format!("~/{shown}"))
            }
            Ok(_) => {}
            Err(_) => return Presence::Missing,
        }
    }
    Presence::There
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> BTreeMap<&'static str, String> {
        user_dirs(Path::new("/nonexistent"))
    }

    #[test]
    fn home_paths_macros_and_escapes() {
        let home = Path::new("/home/u");
        let t = |arg| target(arg, home, &dirs());
        assert_eq!(
            t("${HOME}/.mozilla/"),
            Ok(Target::Home {
                rel: ".mozilla".into(),
                usual: false
            })
        );
        assert_eq!(
            t("~/a/./b"),
            Ok(Target::Home {
                rel: "a/b".into(),
                usual: false
            })
        );
        assert_eq!(
            t("${DOWNLOADS}"),
            Ok(Target::Home {
                rel: "Downloads".into(),
                usual: true
            })
        );
        assert_eq!(
            t("/home/u/x"),
            Ok(Target::Home {
                rel: "x".into(),
                usual: false
            })
        );
        assert_eq!(t("/home/ux"), Ok(Target::Absolute("/home/ux".into())));
        assert_eq!(
            t("${HOME}"),
            Ok(Target::Home {
                rel: String::new(),
                usual: false
            })
        );
        assert_eq!(t("${RUNUSER}/bus"), Ok(Target::Runtime));
        assert!(t("${HOME}/../../etc")
            .unwrap_err()
            .contains("leaves the home folder"));
        assert!(t("${HOME}/a/../../b")
            .unwrap_err()
            .contains("leaves the home folder"));
        assert!(t("/opt/../etc").unwrap_err().contains("'..'"));
        assert!(t("${HOMEX}/a").is_err());
        let mut odd = dirs();
        odd.insert("${MUSIC}", "../shared".into());
        let err = target("${MUSIC}/x", home, &odd).unwrap_err();
        assert!(err.contains("leaves the home folder"), "{err}");
        assert!(t("relative").is_err());
    }

    #[test]
    fn user_dirs_come_from_user_dirs_dirs() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".config")).unwrap();
        std::fs::write(
            home.path().join(".config/user-dirs.dirs"),
            "# comment\nXDG_DOWNLOAD_DIR=\"$HOME/Téléchargements\"\nXDG_MUSIC_DIR=\"/srv/music\"\n",
        )
        .unwrap();
        let dirs = user_dirs(home.path());
        assert_eq!(dirs["${DOWNLOADS}"], "Téléchargements");
        assert_eq!(dirs["${MUSIC}"], "/srv/music");
        assert_eq!(dirs["${VIDEOS}"], "Videos");
    }

    #[test]
    fn modes_take_the_most_specific_rule() {
        let modes = vec![
            (String::new(), Access::Ro),
            (".mozilla".to_string(), Access::Rw),
            (".mozilla/firefox/profiles.ini".to_string(), Access::Ro),
        ];
        assert_eq!(mode_of("Documents", &modes), Access::Ro);
        assert_eq!(mode_of(".mozilla/firefox", &modes), Access::Rw);
        assert_eq!(mode_of(".mozilla/firefox/profiles.ini", &modes), Access::Ro);
        assert_eq!(mode_of("x", &[]), Access::Rw);
    }

    #[test]
    fn binds_outside_the_home_resolve_symlinks_and_refuse_the_sandbox_own_folders() {
        let home = Path::new("/nonexistent-home");
        let bind = |path: &str| bind_for(path, home);
        assert_eq!(bind("/opt/app"), Ok("/opt/app".into()));
        assert!(bind("/etc/app").is_err());
        assert!(bind("/opt/app*").is_err());
        assert!(bind("/var/tmp").is_err());
        // A path whose real path is in the home is no bind (a home somewhere bindable).
        let err = bind_for("/usr/share/doc", Path::new("/usr/share")).unwrap_err();
        assert!(err.contains("in your home"), "{err}");
    }
}
