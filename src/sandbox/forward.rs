//! File forwarding: the arguments of a launch that name files or folders the sandbox
//! would not see are found on the host with the rules of shares (no symlink anywhere, no
//! secrets, not the home, nothing of boxtop's) and become binds at their own path; an
//! argument relative to the caller's folder is rewritten to its absolute path, and the
//! app starts in the caller's folder when the sandbox sees it.

use std::os::fd::AsFd;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::stat::SFlag;

use super::host::{HostEntry, ResolvedShare};
use crate::profile::validate::{check_bind_path, is_same_or_inside, SENSITIVE};
use crate::profile::Bind;
use crate::sys::beneath::{self, BeneathError};

/// A file or folder an argument names, to be bound at `path` inside, read-write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The argument as given.
    pub arg: String,
    /// Where the sandbox sees it: the path as the user has it (the home as `$HOME` says).
    pub path: PathBuf,
    /// The host path with no symlink, checked now and pinned at the start.
    pub real: PathBuf,
    pub is_dir: bool,
}

/// What the arguments of a launch turn into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// The arguments for the app: relative and `~/` paths made absolute.
    pub args: Vec<String>,
    /// What to bind (empty when the profile turns forwarding off).
    pub forwards: Vec<Forward>,
    /// Arguments naming a path the sandbox will not see, left alone because the profile
    /// says `forward_files = false`.
    pub not_forwarded: Vec<PathBuf>,
    /// Arguments naming a system folder the sandbox has its own of, left alone: why.
    pub system: Vec<String>,
    /// The caller's folder, when the sandbox sees it: the app starts there.
    pub cwd: Option<PathBuf>,
}

/// What the sandbox will see of the host, and what must never be forwarded.
pub struct Visible<'a> {
    /// `$HOME` as the user has it.
    pub home: &'a Path,
    pub shares: &'a [ResolvedShare],
    pub binds: &'a [Bind],
    pub top_level: &'a [(String, HostEntry)],
    /// boxtop's own folders: configuration, private homes, state, runtime.
    pub boxtop: &'a [PathBuf],
}

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("argument '{arg}': {path} is your home folder, which is never shared with a sandbox; name the files or folders the app needs")]
    Home { arg: String, path: PathBuf },
    #[error("argument '{arg}': {path} contains your home folder, which is never shared with a sandbox; name the files or folders the app needs")]
    AboveHome { arg: String, path: PathBuf },
    #[error("argument '{arg}': {path} is or contains '~/{secret}', which holds secrets or can change what runs outside the sandbox: it is not shared (add a home.share with force = true to the profile if you really mean it)")]
    Secret {
        arg: String,
        path: PathBuf,
        secret: String,
    },
    #[error("argument '{arg}': {path} is or holds boxtop's own folder {folder} (profiles, private homes, state): it is never shared")]
    Boxtop {
        arg: String,
        path: PathBuf,
        folder: PathBuf,
    },
    #[error("argument '{arg}': {link} is a symlink (to {target}); boxtop shares no path through a symlink, which an app could have planted: name the real file")]
    Symlink {
        arg: String,
        link: PathBuf,
        target: PathBuf,
    },
    /// A path of the system folders the sandbox has its own of (`/etc`, `/tmp`...): the
    /// argument then means the sandbox's own, and is left alone.
    #[error("{path} is not shared: {hint}")]
    System { path: PathBuf, hint: String },
    #[error("argument '{arg}': {path} cannot be shared: {reason}")]
    Refused {
        arg: String,
        path: PathBuf,
        reason: String,
    },
}

/// Turns the arguments of a launch into what the app gets and what is bound for it.
/// `cwd` is the caller's folder (with no symlink, as `getcwd` gives it); `forward` is the
/// profile's `forward_files`.
pub fn forward(
    args: &[String],
    visible: &Visible<'_>,
    cwd: Option<&Path>,
    forward: bool,
) -> Result<Forwarding, ForwardError> {
    let real_home = std::fs::canonicalize(visible.home).unwrap_or_else(|_| visible.home.into());
    let mut out = Forwarding::default();
    for arg in args {
        let Some(named) = named_path(arg, visible.home, cwd) else {
            out.args.push(arg.clone());
            continue;
        };
        // The app gets an absolute path for a relative or `~/` one; a URI stays a URI.
        out.args.push(if named.rewrite {
            named.path.display().to_string()
        } else {
            arg.clone()
        });
        if sees(visible, &real_home, &named.path, &out.forwards) {
            continue;
        }
        if !forward {
            out.not_forwarded.push(named.path);
            continue;
        }
        let found = match check(arg, &named.path, visible, &real_home) {
            Ok(found) => found,
            Err(error @ ForwardError::System { .. }) => {
                // /proc, /dev and /sys are the sandbox's own interfaces: nothing to say.
                let quiet = ["/proc", "/dev", "/sys"]
                    .iter()
                    .any(|dir| named.path.starts_with(dir));
                if !quiet {
                    out.system.push(error.to_string());
                }
                continue;
            }
            Err(error) => return Err(error),
        };
        if !out.forwards.iter().any(|known| known.path == found.path) {
            out.forwards.push(found);
        }
    }
    out.cwd = cwd
        .map(|cwd| inside_path(cwd, visible.home, &real_home))
        .filter(|cwd| sees(visible, &real_home, cwd, &out.forwards));
    Ok(out)
}

/// A path an argument names, normalized, and whether the argument is rewritten to it.
struct Named {
    path: PathBuf,
    rewrite: bool,
}

/// The existing file or folder `arg` names: an absolute path, `~` or `~/...`, a
/// `file://` URI, or a path relative to `cwd`; `None` for anything else (an option, a
/// word, a web address, a path that does not exist).
fn named_path(arg: &str, home: &Path, cwd: Option<&Path>) -> Option<Named> {
    if arg.is_empty() || arg.starts_with('-') {
        return None;
    }
    let (path, rewrite) = if let Some(rest) = arg.strip_prefix("file://") {
        // `file:///path` or `file://localhost/path`; another host is not ours.
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        if !rest.starts_with('/') {
            return None;
        }
        (PathBuf::from(percent_decode(rest)?), false)
    } else if arg == "~" {
        (home.to_path_buf(), true)
    } else if let Some(rest) = arg.strip_prefix("~/") {
        (home.join(rest), true)
    } else if arg.starts_with('/') {
        (PathBuf::from(arg), false)
    } else if arg.contains("://") {
        return None;
    } else {
        (cwd?.join(arg), true)
    };
    let path = normalize(&path);
    std::fs::symlink_metadata(&path).ok()?;
    let rewrite = rewrite || path.as_os_str() != arg;
    Some(Named {
        path,
        rewrite: rewrite && !arg.starts_with("file://"),
    })
}

/// The absolute path a path argument of the CLI means (`~/...`, absolute, or relative
/// to `cwd`), `.` and `..` resolved without looking at the file system.
pub fn spelled_path(arg: &str, home: &Path, cwd: &Path) -> PathBuf {
    let path = if arg == "~" {
        home.to_path_buf()
    } else if let Some(rest) = arg.strip_prefix("~/") {
        home.join(rest)
    } else {
        cwd.join(arg)
    };
    normalize(&path)
}

/// `%XX` escapes of a URI's path decoded; `None` when one is malformed or the result is
/// not UTF-8 (it would not name the same file).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = text.get(at + 1..at + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `path` with `.` and `..` resolved without looking at the file system: what is bound
/// is then checked component by component, with no symlink allowed.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// The path relative to the home, when `path` is in it (by `$HOME` or by its real path).
fn home_rel<'p>(path: &'p Path, home: &Path, real_home: &Path) -> Option<&'p Path> {
    path.strip_prefix(home)
        .or_else(|_| path.strip_prefix(real_home))
        .ok()
}

/// `path` as the sandbox names it: a path of the real home by `$HOME`.
fn inside_path(path: &Path, home: &Path, real_home: &Path) -> PathBuf {
    match home_rel(path, home, real_home) {
        Some(rel) if rel.as_os_str().is_empty() => home.to_path_buf(),
        Some(rel) => home.join(rel),
        None => path.to_path_buf(),
    }
}

/// Whether the sandbox sees the host's `path` at the same path: in a share, a bind, the
/// system folders, or something already forwarded. The home itself is the private one.
fn sees(visible: &Visible<'_>, real_home: &Path, path: &Path, forwards: &[Forward]) -> bool {
    let inside = inside_path(path, visible.home, real_home);
    if forwards
        .iter()
        .any(|known| (known.is_dir && inside.starts_with(&known.path)) || known.path == inside)
    {
        return true;
    }
    if let Some(rel) = home_rel(path, visible.home, real_home) {
        let rel = rel.to_string_lossy();
        return !rel.is_empty()
            && visible
                .shares
                .iter()
                .any(|share| is_same_or_inside(&rel, &share.rel));
    }
    path.starts_with("/usr")
        || visible.top_level.iter().any(|(name, _)| {
            path.strip_prefix("/")
                .is_ok_and(|rel| rel.starts_with(name))
        })
        || visible
            .binds
            .iter()
            .any(|bind| path.starts_with(&bind.path))
}

/// Checks that `path` may be forwarded and finds it with no symlink.
fn check(
    arg: &str,
    path: &Path,
    visible: &Visible<'_>,
    real_home: &Path,
) -> Result<Forward, ForwardError> {
    let refused = |reason: String| ForwardError::Refused {
        arg: arg.to_string(),
        path: path.to_path_buf(),
        reason,
    };
    let rel = home_rel(path, visible.home, real_home);
    if rel.is_some_and(|rel| rel.as_os_str().is_empty()) {
        return Err(ForwardError::Home {
            arg: arg.to_string(),
            path: path.to_path_buf(),
        });
    }
    if rel.is_none() && (real_home.starts_with(path) || visible.home.starts_with(path)) {
        return Err(ForwardError::AboveHome {
            arg: arg.to_string(),
            path: path.to_path_buf(),
        });
    }
    for folder in visible.boxtop {
        let real = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.clone());
        let inside = [folder, &real]
            .iter()
            .any(|folder| path.starts_with(folder) || folder.starts_with(path));
        if inside {
            return Err(ForwardError::Boxtop {
                arg: arg.to_string(),
                path: path.to_path_buf(),
                folder: folder.clone(),
            });
        }
    }
    let (base, rel) = match rel {
        Some(rel) => {
            let text = rel.to_string_lossy();
            if let Some(secret) = SENSITIVE
                .iter()
                .find(|secret| is_same_or_inside(&text, secret) || is_same_or_inside(secret, &text))
            {
                return Err(ForwardError::Secret {
                    arg: arg.to_string(),
                    path: path.to_path_buf(),
                    secret: secret.to_string(),
                });
            }
            (real_home.to_path_buf(), rel.to_path_buf())
        }
        None => {
            let text = path
                .to_str()
                .ok_or_else(|| refused("the path is not UTF-8".into()))?;
            check_bind_path(text).map_err(|(_, hint)| ForwardError::System {
                path: path.to_path_buf(),
                hint,
            })?;
            (
                PathBuf::from("/"),
                path.strip_prefix("/").unwrap_or(path).to_path_buf(),
            )
        }
    };
    let base_fd = nix::fcntl::open(
        &base,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|errno| refused(format!("cannot open {}: {}", base.display(), errno.desc())))?;
    let fd = beneath::open(base_fd.as_fd(), &rel, OFlag::O_PATH).map_err(|error| match error {
        BeneathError::Symlink { at, target } => ForwardError::Symlink {
            arg: arg.to_string(),
            link: inside_path(&base.join(at), visible.home, real_home),
            target,
        },
        error => refused(format!("{error} in {}", base.display())),
    })?;
    let kind = nix::sys::stat::fstat(&fd)
        .map(|stat| SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT)
        .map_err(|errno| refused(errno.desc().into()))?;
    let is_dir = match kind {
        SFlag::S_IFDIR => true,
        SFlag::S_IFREG => false,
        _ => return Err(refused("it is neither a file nor a folder".into())),
    };
    Ok(Forward {
        arg: arg.to_string(),
        path: inside_path(path, visible.home, real_home),
        real: base.join(&rel),
        is_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Access;
    use std::os::unix::fs::symlink;

    struct Fixture {
        _tmp: tempfile::TempDir,
        home: PathBuf,
        shares: Vec<ResolvedShare>,
        boxtop: Vec<PathBuf>,
    }

    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let home = std::fs::canonicalize(tmp.path()).unwrap().join("home");
        for dir in [
            "Documents",
            "notes",
            ".ssh",
            ".local/share/boxtop/homes/ed",
            "real",
        ] {
            std::fs::create_dir_all(home.join(dir)).unwrap();
        }
        for file in [
            "notes/todo.txt",
            "notes/other.txt",
            ".ssh/id_rsa",
            "Documents/a",
        ] {
            std::fs::write(home.join(file), "x").unwrap();
        }
        let shares = vec![ResolvedShare {
            rel: "Documents".into(),
            real: home.join("Documents"),
            access: Access::Rw,
            is_dir: true,
        }];
        let boxtop = vec![
            home.join(".local/share/boxtop"),
            home.join(".config/boxtop"),
        ];
        Fixture {
            _tmp: tmp,
            home,
            shares,
            boxtop,
        }
    }

    fn run(fx: &Fixture, args: &[&str], cwd: &Path) -> Result<Forwarding, ForwardError> {
        let visible = Visible {
            home: &fx.home,
            shares: &fx.shares,
            binds: &[],
            top_level: &[],
            boxtop: &fx.boxtop,
        };
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        forward(&args, &visible, Some(cwd), true)
    }

    #[test]
    fn every_spelling_of_a_file_outside_the_shares_is_forwarded_once() {
        let fx = fixture();
        let todo = fx.home.join("notes/todo.txt");
        let uri = format!("file://{}", fx.home.join("notes/todo.txt").display());
        let out = run(
            &fx,
            &[
                "todo.txt",
                "~/notes/todo.txt",
                todo.to_str().unwrap(),
                &uri,
                "--x",
                "word",
            ],
            &fx.home.join("notes"),
        )
        .unwrap();
        let abs = todo.display().to_string();
        assert_eq!(out.args, [&abs, &abs, &abs, &uri, "--x", "word"]);
        assert_eq!(out.forwards.len(), 1, "{:?}", out.forwards);
        assert_eq!(out.forwards[0].path, todo);
        assert_eq!(out.forwards[0].real, todo);
        assert!(!out.forwards[0].is_dir);
        // The caller's folder is not seen inside: only the file is.
        assert_eq!(out.cwd, None);
    }

    #[test]
    fn what_a_share_shows_is_not_forwarded_and_its_folder_is_the_cwd() {
        let fx = fixture();
        let out = run(&fx, &["a", "../notes"], &fx.home.join("Documents")).unwrap();
        assert_eq!(
            out.args[0],
            fx.home.join("Documents/a").display().to_string()
        );
        assert_eq!(out.forwards.len(), 1);
        assert_eq!(out.forwards[0].path, fx.home.join("notes"));
        assert!(out.forwards[0].is_dir);
        assert_eq!(
            out.cwd.as_deref(),
            Some(fx.home.join("Documents").as_path())
        );
        let uri = format!("file://{}/notes/to%64o.txt", fx.home.display());
        let out = run(&fx, &[&uri], &fx.home).unwrap();
        assert_eq!(out.forwards[0].path, fx.home.join("notes/todo.txt"));
    }

    #[test]
    fn secrets_the_home_boxtop_and_symlinks_are_refused() {
        let fx = fixture();
        symlink("../.ssh", fx.home.join("real/link")).unwrap();
        for (arg, want) in [
            ("~/.ssh/id_rsa", "secrets"),
            (".ssh", "secrets"),
            ("~", "your home folder"),
            (".", "your home folder"),
            ("/", "contains your home"),
            ("~/.local/share/boxtop/homes/ed", "boxtop's own folder"),
            ("real/link/id_rsa", "is a symlink (to ../.ssh)"),
        ] {
            let err = run(&fx, &[arg], &fx.home).unwrap_err().to_string();
            assert!(err.contains(want), "{arg}: {err}");
            assert!(err.contains(&format!("argument '{arg}'")), "{arg}: {err}");
        }
        // A system folder the sandbox has its own of: the argument means that one.
        let out = run(&fx, &["/etc/hostname", "/dev/null"], &fx.home).unwrap();
        assert!(out.forwards.is_empty());
        assert_eq!(out.args, ["/etc/hostname", "/dev/null"]);
        assert_eq!(out.system.len(), 1, "{:?}", out.system);
        assert!(out.system[0].contains("own /etc"), "{:?}", out.system);
    }

    #[test]
    fn words_options_and_web_addresses_are_left_alone() {
        let fx = fixture();
        let args = [
            "hello",
            "-n",
            "https://example.org/a",
            "file://host/etc",
            "%zz",
        ];
        let out = run(&fx, &args, &fx.home).unwrap();
        assert_eq!(out.args, args);
        assert!(out.forwards.is_empty());
        assert_eq!(percent_decode("a%2"), None);
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
    }
}
