//! Opening a path beneath a folder's fd without following any symlink, not even in its
//! last component: `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_MAGICLINKS` (Linux 5.6), and a component-by-component `openat(O_NOFOLLOW)`
//! walk where it is missing or fails, which also says which component is the symlink.
//! Used on the host for the paths of the home a sandbox gets, and by the executor for
//! every destination inside the new root.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{Mode, SFlag};

/// Why a path could not be opened; `at` is the path (relative to the folder) of the
/// component that stopped the walk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BeneathError {
    #[error("{} is a symlink (to {})", at.display(), target.display())]
    Symlink { at: PathBuf, target: PathBuf },
    #[error("{} does not exist", at.display())]
    Missing { at: PathBuf },
    #[error("{} is not a folder", at.display())]
    NotDir { at: PathBuf },
    #[error("{}: {}", at.display(), errno.desc())]
    Sys { at: PathBuf, errno: Errno },
}

impl BeneathError {
    /// The component that stopped the walk, relative to the folder.
    pub fn at(&self) -> &Path {
        match self {
            BeneathError::Symlink { at, .. }
            | BeneathError::Missing { at }
            | BeneathError::NotDir { at }
            | BeneathError::Sys { at, .. } => at,
        }
    }
}

/// Set once `openat2` answered ENOSYS: the walk does everything from then on.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// The normal components of `rel`; `..` or an absolute path is refused (nothing here is
/// meant to climb).
fn parts(rel: &Path) -> Result<Vec<&OsStr>, BeneathError> {
    let mut out = Vec::new();
    for component in rel.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => {
                return Err(BeneathError::Sys {
                    at: rel.to_path_buf(),
                    errno: Errno::EINVAL,
                })
            }
        }
    }
    Ok(out)
}

/// Opens `rel` beneath `dir` with `flags` (plus `O_CLOEXEC`), following no symlink:
/// `O_PATH` for an fd to bind or to start from, `O_RDONLY` to read a file.
pub fn open(dir: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Result<OwnedFd, BeneathError> {
    let parts = parts(rel)?;
    if parts.is_empty() {
        return reopen(dir, flags).map_err(|errno| BeneathError::Sys {
            at: PathBuf::new(),
            errno,
        });
    }
    match with_openat2(dir, rel, flags) {
        Some(Ok(fd)) => Ok(fd),
        // The walk finds which component stopped it, or succeeds where openat2 gave up
        // (EAGAIN after a concurrent rename).
        _ => walk(dir, &parts, flags, None, &mut Vec::new()),
    }
}

/// One `openat2` call for the whole path, `None` where the kernel lacks it; a symlink
/// opened itself (`O_PATH | O_NOFOLLOW`) is an error (`ELOOP`) like anywhere else.
fn with_openat2(dir: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Option<Result<OwnedFd, Errno>> {
    if NO_OPENAT2.load(Ordering::Relaxed) {
        return None;
    }
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .resolve(
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
        );
    match nix::fcntl::openat2(dir, rel, how) {
        Ok(fd) if !flags.contains(OFlag::O_PATH) || flags.contains(OFlag::O_DIRECTORY) => {
            Some(Ok(fd))
        }
        Ok(fd) if !is_symlink(&fd) => Some(Ok(fd)),
        Ok(_) => Some(Err(Errno::ELOOP)),
        Err(Errno::ENOSYS) => {
            NO_OPENAT2.store(true, Ordering::Relaxed);
            None
        }
        Err(errno) => Some(Err(errno)),
    }
}

/// Opens (`O_PATH`) the folder `rel` beneath `dir`, creating the missing folders with
/// `mode`, following no symlink. The folders this call made are added to `made`
/// (relative to `dir`, parents first), even when it then fails.
pub fn open_dir_creating(
    dir: BorrowedFd<'_>,
    rel: &Path,
    mode: Mode,
    made: &mut Vec<PathBuf>,
) -> Result<OwnedFd, BeneathError> {
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
    let parts = parts(rel)?;
    if parts.is_empty() {
        return open(dir, rel, flags);
    }
    match with_openat2(dir, rel, flags) {
        Some(Ok(fd)) => Ok(fd),
        _ => walk(dir, &parts, flags, Some(mode), made),
    }
}

fn reopen(dir: BorrowedFd<'_>, flags: OFlag) -> Result<OwnedFd, Errno> {
    nix::fcntl::openat(dir, ".", flags | OFlag::O_CLOEXEC, Mode::empty())
}

fn is_symlink(fd: &OwnedFd) -> bool {
    nix::sys::stat::fstat(fd)
        .is_ok_and(|stat| SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK)
}

/// One component at a time, each opened with `O_NOFOLLOW`; folders are created with
/// `create` when missing, and noted in `made`.
fn walk(
    dir: BorrowedFd<'_>,
    parts: &[&OsStr],
    flags: OFlag,
    create: Option<Mode>,
    made_here: &mut Vec<PathBuf>,
) -> Result<OwnedFd, BeneathError> {
    let mut current: Option<OwnedFd> = None;
    let mut at = PathBuf::new();
    // Below a folder made here, the rest is missing: each is made before it is opened.
    let mut made = false;
    for (index, part) in parts.iter().enumerate() {
        at.push(part);
        let last = index + 1 == parts.len();
        let parent = current.as_ref().map_or(dir, |fd| fd.as_fd());
        let part_flags = if last {
            flags
        } else {
            OFlag::O_PATH | OFlag::O_DIRECTORY
        };
        if let (Some(mode), true) = (create, made) {
            if make_dir(parent, part, mode, &at)? {
                made_here.push(at.clone());
            }
        }
        let (opened, created) = open_one(parent, part, part_flags, create, &at)?;
        if created {
            made_here.push(at.clone());
        }
        made |= created;
        current = Some(opened);
    }
    match current {
        Some(fd) => Ok(fd),
        None => reopen(dir, flags).map_err(|errno| BeneathError::Sys { at, errno }),
    }
}

/// `mkdirat`; true when this call made the folder (false: another did meanwhile).
fn make_dir(
    parent: BorrowedFd<'_>,
    name: &OsStr,
    mode: Mode,
    at: &Path,
) -> Result<bool, BeneathError> {
    match nix::sys::stat::mkdirat(parent, name, mode) {
        Ok(()) => Ok(true),
        Err(Errno::EEXIST) => Ok(false),
        Err(errno) => Err(BeneathError::Sys {
            at: at.to_path_buf(),
            errno,
        }),
    }
}

/// Opens `name` in `parent` without following it, making it a folder first when it is
/// missing and `create` says so; also says whether it was made.
fn open_one(
    parent: BorrowedFd<'_>,
    name: &OsStr,
    flags: OFlag,
    create: Option<Mode>,
    at: &Path,
) -> Result<(OwnedFd, bool), BeneathError> {
    let flags = flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut created = false;
    let mut tried_to_make = false;
    loop {
        match nix::fcntl::openat(parent, name, flags, Mode::empty()) {
            Ok(fd)
                if flags.contains(OFlag::O_PATH)
                    && !flags.contains(OFlag::O_DIRECTORY)
                    && is_symlink(&fd) =>
            {
                return Err(symlink_error(parent, name, at))
            }
            Ok(fd) => return Ok((fd, created)),
            Err(Errno::ENOENT) => match create {
                Some(mode) if !tried_to_make => {
                    tried_to_make = true;
                    created = make_dir(parent, name, mode, at)?;
                }
                _ => {
                    return Err(BeneathError::Missing {
                        at: at.to_path_buf(),
                    })
                }
            },
            Err(Errno::ENOTDIR | Errno::ELOOP) => {
                let kind =
                    nix::sys::stat::fstatat(parent, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
                        .map(|stat| SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT);
                return Err(match kind {
                    Ok(SFlag::S_IFLNK) => symlink_error(parent, name, at),
                    _ => BeneathError::NotDir {
                        at: at.to_path_buf(),
                    },
                });
            }
            Err(errno) => {
                return Err(BeneathError::Sys {
                    at: at.to_path_buf(),
                    errno,
                })
            }
        }
    }
}

fn symlink_error(parent: BorrowedFd<'_>, name: &OsStr, at: &Path) -> BeneathError {
    let target = nix::fcntl::readlinkat(parent, name)
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("?"));
    BeneathError::Symlink {
        at: at.to_path_buf(),
        target,
    }
}

/// `target` of a symlink at `link` (both relative to the same folder), resolved without
/// looking at the file system; `None` when it leaves that folder.
pub fn lexical_target(link: &Path, target: &Path) -> Option<PathBuf> {
    if target.is_absolute() {
        return None;
    }
    let mut out = PathBuf::new();
    for component in link
        .parent()
        .unwrap_or(Path::new(""))
        .join(target)
        .components()
    {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The canonical home and an `O_PATH` fd of it, from which the paths of the home a
/// sandbox gets are opened with no symlink (see `beneath`).
pub fn open_home(home: &Path) -> std::io::Result<(PathBuf, OwnedFd)> {
    let real = std::fs::canonicalize(home)?;
    let fd = nix::fcntl::open(
        &real,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    Ok((real, fd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn dir_fd(path: &Path) -> OwnedFd {
        nix::fcntl::open(path, OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()).unwrap()
    }

    #[test]
    fn symlinks_are_refused_wherever_they_are() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/file"), "x").unwrap();
        symlink("a", root.join("link")).unwrap();
        symlink("file", root.join("a/b/last")).unwrap();
        let fd = dir_fd(root);
        assert!(open(fd.as_fd(), Path::new("a/b/file"), OFlag::O_PATH).is_ok());
        assert_eq!(
            open(fd.as_fd(), Path::new("link/b/file"), OFlag::O_PATH).unwrap_err(),
            BeneathError::Symlink {
                at: "link".into(),
                target: "a".into()
            }
        );
        for flags in [OFlag::O_PATH, OFlag::O_RDONLY] {
            assert_eq!(
                open(fd.as_fd(), Path::new("a/b/last"), flags).unwrap_err(),
                BeneathError::Symlink {
                    at: "a/b/last".into(),
                    target: "file".into()
                }
            );
        }
        assert_eq!(
            open(fd.as_fd(), Path::new("a/none/x"), OFlag::O_PATH).unwrap_err(),
            BeneathError::Missing {
                at: "a/none".into()
            }
        );
        assert!(open(fd.as_fd(), Path::new("../x"), OFlag::O_PATH).is_err());
    }

    #[test]
    fn the_walk_alone_gives_the_same_answers() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        symlink("/etc", root.join("a/etc")).unwrap();
        let fd = dir_fd(root);
        let parts = [OsStr::new("a"), OsStr::new("etc"), OsStr::new("passwd")];
        assert_eq!(
            walk(fd.as_fd(), &parts, OFlag::O_PATH, None, &mut Vec::new()).unwrap_err(),
            BeneathError::Symlink {
                at: "a/etc".into(),
                target: "/etc".into()
            }
        );
        let parts = [OsStr::new("a"), OsStr::new("new"), OsStr::new("deeper")];
        let mut made = Vec::new();
        walk(
            fd.as_fd(),
            &parts,
            OFlag::O_PATH | OFlag::O_DIRECTORY,
            Some(Mode::from_bits_truncate(0o700)),
            &mut made,
        )
        .unwrap();
        assert!(root.join("a/new/deeper").is_dir());
        // `a` was there: only what the walk made is noted, parents first.
        assert_eq!(
            made,
            [PathBuf::from("a/new"), PathBuf::from("a/new/deeper")]
        );
    }

    #[test]
    fn creating_folders_stops_at_a_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), root.join("config")).unwrap();
        let fd = dir_fd(root);
        let err = open_dir_creating(
            fd.as_fd(),
            Path::new("config/app"),
            Mode::from_bits_truncate(0o755),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(matches!(err, BeneathError::Symlink { ref at, .. } if at == Path::new("config")));
        assert!(!outside.path().join("app").exists());
        open_dir_creating(
            fd.as_fd(),
            Path::new("x/y"),
            Mode::from_bits_truncate(0o755),
            &mut Vec::new(),
        )
        .unwrap();
        assert!(root.join("x/y").is_dir());
    }

    #[test]
    fn lexical_targets_stay_inside_or_are_none() {
        assert_eq!(
            lexical_target(Path::new("Documents/inbox"), Path::new("../.mozilla")),
            Some(PathBuf::from(".mozilla"))
        );
        assert_eq!(lexical_target(Path::new("a"), Path::new("../../etc")), None);
        assert_eq!(lexical_target(Path::new("a"), Path::new("/etc")), None);
    }
}
