//! Shares added to and removed from a running sandbox. The sandbox's mount namespace is
//! owned by its user namespace, which boxtop's user owns: a forked child joins that user
//! namespace, makes a mount namespace of its own there (a copy of boxtop's, which sees
//! the host) to clone the host's file or folder with `open_tree`, then joins the
//! sandbox's mount namespace and attaches the clone with `move_mount` on a mount point
//! it opened there with no symlink. Removing walks to the mount point the same way and
//! unmounts it by its name in its opened folder.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::MntFlags;
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::sys::stat::{fstat, Mode, SFlag};

use crate::profile::Access;
use crate::sys::beneath;
use crate::sys::process::{self as sys_process, Forked};
use crate::sys::SingleThreaded;

/// The namespaces of a running sandbox that a change to its mounts joins.
pub struct Namespaces {
    pub user: OwnedFd,
    pub mnt: OwnedFd,
}

/// A host file or folder of the home to bind into a running sandbox, already checked like
/// a share.
pub struct Source<'a> {
    /// The canonical home, and the path below it (no symlink in either).
    pub real_home: &'a Path,
    pub rel: &'a Path,
    /// The file itself, opened with no symlink when it was checked: what is cloned must
    /// be this very file.
    pub pinned: &'a OwnedFd,
    pub is_dir: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Threads(#[from] crate::sys::ThreadsError),
    #[error("fork: {0}")]
    Fork(String),
    #[error("{0}")]
    Child(String),
}

/// Binds `source` at `dest` (an absolute path inside) in the sandbox of `ns`, read-only
/// when `access` says so, always nosuid and nodev. Says whether it made the mount point
/// (then `remove` may remove it again).
pub fn add(
    single: &SingleThreaded,
    ns: Namespaces,
    source: &Source<'_>,
    dest: &Path,
    access: Access,
) -> Result<bool, LiveError> {
    in_child(single, || {
        join(&ns.user, CloneFlags::CLONE_NEWUSER, "user")?;
        // A mount namespace of the sandbox's user namespace that still sees the host.
        nix::sched::unshare(CloneFlags::CLONE_NEWNS)
            .map_err(|errno| format!("cannot make a mount namespace: {}", errno.desc()))?;
        let home = nix::fcntl::open(
            source.real_home,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| {
            format!(
                "cannot open {}: {}",
                source.real_home.display(),
                errno.desc()
            )
        })?;
        let here = beneath::open(home.as_fd(), source.rel, OFlag::O_PATH).map_err(|error| {
            format!(
                "{error} in {} (it changed meanwhile)",
                source.real_home.display()
            )
        })?;
        let same = match (fstat(&here), fstat(source.pinned)) {
            (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
            _ => false,
        };
        if !same {
            return Err(format!(
                "{} is no longer the file checked (it changed meanwhile)",
                source.real_home.join(source.rel).display()
            ));
        }
        let tree = crate::sys::mount::clone_tree(&here)
            .map_err(|errno| format!("cannot clone {}: {}", source.rel.display(), errno.desc()))?;
        let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
        if access == Access::Ro {
            flags |= MsFlags::MS_RDONLY;
        }
        crate::sys::mount::set_attributes(&tree, "".as_ref(), flags, true)
            .map_err(|errno| format!("cannot make the share read-only: {}", errno.desc()))?;
        join(&ns.mnt, CloneFlags::CLONE_NEWNS, "mount")?;
        let (target, made) = mount_point(dest, source.is_dir)?;
        crate::sys::mount::attach_tree(&tree, &target)
            .map_err(|errno| format!("cannot mount on {}: {}", dest.display(), errno.desc()))?;
        Ok(made)
    })
}

/// Unmounts what is mounted at `dest` (an absolute path inside) in the sandbox of `ns`;
/// with `made`, removes the mount point too if it is an empty folder or file.
pub fn remove(
    single: &SingleThreaded,
    ns: Namespaces,
    dest: &Path,
    made: bool,
) -> Result<(), LiveError> {
    in_child(single, || {
        join(&ns.user, CloneFlags::CLONE_NEWUSER, "user")?;
        join(&ns.mnt, CloneFlags::CLONE_NEWNS, "mount")?;
        let (parent, name) = parent_of(dest, false)?;
        match crate::sys::mount::is_mount_root(&parent, name.as_ref()) {
            Ok(true) => {}
            Ok(false) | Err(Errno::ENOENT) => {
                return Err(format!("nothing is mounted on {}", dest.display()))
            }
            Err(errno) => {
                return Err(format!(
                    "cannot look at {}: {}",
                    dest.display(),
                    errno.desc()
                ))
            }
        }
        // By its name in its opened folder: no path is walked where the app could plant
        // a symlink, and the last component is not followed.
        nix::unistd::fchdir(&parent).map_err(|errno| {
            format!(
                "cannot enter the folder of {}: {}",
                dest.display(),
                errno.desc()
            )
        })?;
        nix::mount::umount2(
            Path::new(name.as_os_str()),
            MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW,
        )
        .map_err(|errno| format!("cannot unmount {}: {}", dest.display(), errno.desc()))?;
        if made {
            remove_mount_point(&parent, &name);
        }
        Ok(false)
    })
    .map(drop)
}

fn join(fd: &OwnedFd, flag: CloneFlags, what: &str) -> Result<(), String> {
    nix::sched::setns(fd, flag).map_err(|errno| {
        format!(
            "cannot join the sandbox's {what} namespace: {}",
            errno.desc()
        )
    })
}

/// The folder of `dest` in the sandbox's root, opened (made when `create`) with no
/// symlink, and the last component's name.
fn parent_of(dest: &Path, create: bool) -> Result<(OwnedFd, PathBuf), String> {
    let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else {
        return Err(format!("{} names no file", dest.display()));
    };
    let root = nix::fcntl::open(
        "/",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| format!("cannot open the sandbox's root: {}", errno.desc()))?;
    let rel = parent.strip_prefix("/").unwrap_or(parent);
    let opened = if create {
        beneath::open_dir_creating(
            root.as_fd(),
            rel,
            Mode::from_bits_truncate(0o755),
            &mut Vec::new(),
        )
    } else {
        beneath::open(root.as_fd(), rel, OFlag::O_PATH | OFlag::O_DIRECTORY)
    };
    let parent = opened.map_err(|error| {
        format!("{error} inside the sandbox; boxtop follows no symlink there (the app may have planted it)")
    })?;
    Ok((parent, PathBuf::from(name)))
}

/// Removes the mount point boxtop made, when it is still an empty folder or an empty file
/// (the app may have put something there since: then it stays).
fn remove_mount_point(parent: &OwnedFd, name: &Path) {
    use nix::unistd::UnlinkatFlags;
    let Ok(stat) = nix::sys::stat::fstatat(parent, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
    else {
        return;
    };
    match SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT {
        // rmdir fails on a folder that is not empty.
        SFlag::S_IFDIR => {
            let _ = nix::unistd::unlinkat(parent, name, UnlinkatFlags::RemoveDir);
        }
        SFlag::S_IFREG if stat.st_size == 0 => {
            let _ = nix::unistd::unlinkat(parent, name, UnlinkatFlags::NoRemoveDir);
        }
        _ => {}
    }
}

/// The mount point at `dest`, made if missing (a folder, or an empty file), opened with
/// no symlink anywhere on its path, and whether it was made now.
fn mount_point(dest: &Path, is_dir: bool) -> Result<(OwnedFd, bool), String> {
    let (parent, name) = parent_of(dest, true)?;
    if is_dir {
        let rel = Path::new(&name);
        let mut made = Vec::new();
        return beneath::open_dir_creating(
            parent.as_fd(),
            rel,
            Mode::from_bits_truncate(0o755),
            &mut made,
        )
        .map(|fd| (fd, !made.is_empty()))
        .map_err(|error| {
            format!("{}: {error} inside the sandbox; boxtop follows no symlink there (the app may have planted it)", dest.display())
        });
    }
    let created = nix::fcntl::openat(
        &parent,
        &name,
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    );
    match created {
        Ok(fd) => Ok((fd, true)),
        Err(Errno::EEXIST) => {
            let fd = nix::fcntl::openat(
                &parent,
                &name,
                OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(|errno| format!("cannot open {}: {}", dest.display(), errno.desc()))?;
            let kind = fstat(&fd)
                .map(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT)
                .map_err(|errno| errno.desc().to_string())?;
            if kind != SFlag::S_IFREG {
                return Err(format!(
                    "{} is not a file inside the sandbox (a symlink or a folder the app may have made); boxtop mounts a file only on a file",
                    dest.display()
                ));
            }
            Ok((fd, false))
        }
        Err(errno) => Err(format!(
            "cannot create {}: {}",
            dest.display(),
            errno.desc()
        )),
    }
}

/// Runs `change` in a forked child, which it leaves at once: the namespaces joined there
/// are never this process's. The child's error comes back through a pipe.
fn in_child(
    single: &SingleThreaded,
    change: impl FnOnce() -> Result<bool, String>,
) -> Result<bool, LiveError> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        .map_err(|errno| LiveError::Fork(errno.desc().into()))?;
    match sys_process::fork(single).map_err(|error| LiveError::Fork(error.to_string()))? {
        Forked::Child => {
            drop(read);
            let (code, message) = match change() {
                Ok(true) => (0, "+".to_string()),
                Ok(false) => (0, "-".to_string()),
                Err(message) => (1, format!("!{message}")),
            };
            let _ = nix::unistd::write(&write, message.as_bytes());
            sys_process::exit_now(code)
        }
        Forked::Parent { child } => {
            drop(write);
            let mut message = String::new();
            let _ = std::fs::File::from(read).read_to_string(&mut message);
            let status = nix::sys::wait::waitpid(child, None).map_err(|errno| {
                LiveError::Fork(format!("waiting for the child: {}", errno.desc()))
            })?;
            match (status, message.as_str()) {
                (nix::sys::wait::WaitStatus::Exited(_, 0), "+") => Ok(true),
                (nix::sys::wait::WaitStatus::Exited(_, 0), "-") => Ok(false),
                (_, text) if text.starts_with('!') => Err(LiveError::Child(text[1..].to_string())),
                (other, _) => Err(LiveError::Child(format!("the child ended with {other:?}"))),
            }
        }
    }
}
