//! The executor of a plan's filesystem steps, run by the sandbox's init inside its new
//! user and mount namespaces. It stages a tmpfs, pivots into it with the host's root at
//! `/oldroot`, builds the new root at `/newroot` from host paths, then detaches the old
//! root and pivots again so that nothing of the staging is left.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::{fstat, Mode, SFlag};
use nix::unistd::{chdir, pivot_root};

use crate::profile::Access;

use super::plan::Step;
use crate::sys::beneath::{self, BeneathError};
use crate::sys::mount::{bind_detached, remount, set_attributes};

const STAGE: &str = "/tmp";
const OLD_ROOT: &str = "/oldroot";
const NEW_ROOT: &str = "/newroot";

#[derive(Debug, thiserror::Error)]
#[error("{op} {path}: {reason}")]
pub struct MountError {
    pub op: &'static str,
    pub path: PathBuf,
    pub reason: String,
}

fn err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(Errno) -> MountError + 'a {
    move |errno| MountError {
        op,
        path: path.to_path_buf(),
        reason: errno.desc().to_string(),
    }
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> MountError + 'a {
    move |error| MountError {
        op,
        path: path.to_path_buf(),
        reason: error.to_string(),
    }
}

/// A host path bound from a file opened (O_PATH) on the host before the sandbox starts,
/// found again in the sandbox's mount namespace by its canonical path with no symlink and
/// checked to be the same file: a folder swapped for a symlink or another folder
/// meanwhile is refused instead of redirecting the bind.
#[derive(Debug)]
pub struct Pinned {
    /// The source as the plan names it.
    pub src: PathBuf,
    /// Its canonical path, as checked before the sandbox started.
    pub real: PathBuf,
    /// The file itself, opened on the host (an fd of another mount namespace cannot be
    /// bound, but it tells whether what is opened here is the same file).
    pub host: OwnedFd,
}

/// Opens each pinned source in this mount namespace and checks it is the pinned file.
fn open_pinned(pinned: &[Pinned]) -> Result<Vec<(PathBuf, OwnedFd)>, MountError> {
    let root = nix::fcntl::open(
        "/",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(err("open", Path::new("/")))?;
    let mut fds = Vec::new();
    for pin in pinned {
        let rel = pin.real.strip_prefix("/").unwrap_or(&pin.real);
        let fd = beneath::open(root.as_fd(), rel, OFlag::O_PATH).map_err(|error| MountError {
            op: "open",
            path: pin.real.clone(),
            reason: format!("{error} (it changed while the sandbox was starting)"),
        })?;
        let same = match (fstat(&fd), fstat(&pin.host)) {
            (Ok(here), Ok(host)) => here.st_dev == host.st_dev && here.st_ino == host.st_ino,
            _ => false,
        };
        if !same {
            return Err(MountError {
                op: "check",
                path: pin.src.clone(),
                reason: format!(
                    "{} is no longer the folder or file checked before the start (it changed while the sandbox was starting)",
                    pin.real.display()
                ),
            });
        }
        fds.push((pin.src.clone(), fd));
    }
    Ok(fds)
}

/// Builds the sandbox root from `steps` and makes it the process's `/`.
pub fn build_root(steps: &[Step], pinned: &[Pinned]) -> Result<(), MountError> {
    let pinned = open_pinned(pinned)?;
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(err("make private", Path::new("/")))?;
    mount(
        Some("tmpfs"),
        STAGE,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755,size=1m,nr_inodes=16"),
    )
    .map_err(err("mount staging tmpfs on", Path::new(STAGE)))?;
    for dir in ["newroot", "oldroot"] {
        let path = Path::new(STAGE).join(dir);
        std::fs::create_dir(&path).map_err(io_err("create", &path))?;
    }
    pivot_root(STAGE, "/tmp/oldroot").map_err(err("pivot_root into", Path::new(STAGE)))?;
    chdir("/").map_err(err("chdir", Path::new("/")))?;
    mount(
        Some("tmpfs"),
        NEW_ROOT,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(ROOT_TMPFS),
    )
    .map_err(err("mount root tmpfs on", Path::new(NEW_ROOT)))?;
    let root = nix::fcntl::open(
        NEW_ROOT,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(err("open", Path::new(NEW_ROOT)))?;

    let executor = Executor {
        host_mounts: std::cell::OnceCell::new(),
        pinned: &pinned,
        folders: RefCell::new(HashMap::from([(PathBuf::from("/"), Rc::new(root))])),
    };
    for step in steps {
        executor.apply(step)?;
    }
    drop(executor);

    umount2(OLD_ROOT, MntFlags::MNT_DETACH).map_err(err("detach", Path::new(OLD_ROOT)))?;
    chdir(NEW_ROOT).map_err(err("chdir", Path::new(NEW_ROOT)))?;
    pivot_root(".", ".").map_err(err("pivot_root into", Path::new(NEW_ROOT)))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(err("detach staging", Path::new("/")))?;
    chdir("/").map_err(err("chdir", Path::new("/")))?;
    Ok(())
}

/// The root tmpfs holds only the folders, files and mount points of the plan, and is
/// made read-only before the app runs.
const ROOT_TMPFS: &str = "mode=0755,size=16m,nr_inodes=4096";

/// Folders the executor creates on its way to a destination.
const FOLDER_MODE: u32 = 0o755;

/// Every destination inside the new root is reached from an fd of it, component by
/// component without following any symlink (see `beneath`), and every mount is made onto
/// the opened fd (`/oldroot/proc/self/fd/N`): a symlink the app planted in what it could
/// write (its private home, a read-write share) cannot send a step outside the new root,
/// into the host's root still reachable at `/oldroot`. Only the plan's own `Symlink`
/// steps make symlinks, and a later destination through one of them fails too.
struct Executor<'a> {
    /// Mount points of the host, to find submounts carried by recursive binds; read only
    /// on kernels without `mount_setattr` (before 5.12).
    host_mounts: std::cell::OnceCell<Vec<PathBuf>>,
    pinned: &'a [(PathBuf, OwnedFd)],
    /// Folders of the new root opened so far (`O_PATH`), by their path inside, `/` first,
    /// so that each step does not walk again; a mount over a folder hides what was below
    /// it, which is then forgotten.
    folders: RefCell<HashMap<PathBuf, Rc<OwnedFd>>>,
}

/// The path through which a mount call reaches exactly the file an fd holds.
fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("{OLD_ROOT}/proc/self/fd/{}", fd.as_raw_fd()))
}

/// The error of a destination that could not be reached: the component that stopped the
/// walk, as a path inside the sandbox.
fn beneath_error(op: &'static str, dest: &Path, base: &Path, error: BeneathError) -> MountError {
    let at = base.join(error.at());
    let reason = match &error {
        BeneathError::Symlink { target, .. } => format!(
            "{} is a symlink (to {}) inside the sandbox; boxtop follows no symlink it did not \
             create while building it. If the app made it in its private home or a shared \
             folder, remove it there",
            at.display(),
            target.display()
        ),
        BeneathError::Missing { .. } => format!("{} does not exist", at.display()),
        BeneathError::NotDir { .. } => format!("{} is not a folder", at.display()),
        BeneathError::Sys { errno, .. } => format!("{}: {}", at.display(), errno.desc()),
    };
    MountError {
        op,
        path: dest.to_path_buf(),
        reason,
    }
}

/// The error of a symlink met at `dest` itself, the entry `name` of `parent`: `op` refuses
/// it, naming where it points.
fn symlink_at_dest(op: &'static str, dest: &Path, parent: &OwnedFd, name: &OsStr) -> MountError {
    let target = nix::fcntl::readlinkat(parent.as_fd(), name)
        .map(PathBuf::from)
        .unwrap_or_default();
    beneath_error(
        op,
        dest,
        Path::new(""),
        BeneathError::Symlink {
            at: dest.to_path_buf(),
            target,
        },
    )
}

impl Executor<'_> {
    /// The folder `dest` (a path inside), created with its missing parents.
    fn folder(&self, dest: &Path) -> Result<Rc<OwnedFd>, MountError> {
        if let Some(fd) = self.folders.borrow().get(dest) {
            return Ok(fd.clone());
        }
        let (base, base_fd) = {
            let folders = self.folders.borrow();
            dest.ancestors()
                .skip(1)
                .find_map(|ancestor| Some((ancestor.to_path_buf(), folders.get(ancestor)?.clone())))
                .ok_or_else(|| MountError {
                    op: "create folder",
                    path: dest.to_path_buf(),
                    reason: "it is not an absolute path".into(),
                })?
        };
        let rel = dest.strip_prefix(&base).unwrap_or(dest);
        let fd = beneath::open_dir_creating(
            base_fd.as_fd(),
            rel,
            Mode::from_bits_truncate(FOLDER_MODE),
            &mut Vec::new(),
        )
        .map_err(|error| beneath_error("create folder", dest, &base, error))?;
        let fd = Rc::new(fd);
        self.folders
            .borrow_mut()
            .insert(dest.to_path_buf(), fd.clone());
        Ok(fd)
    }

    /// The folder holding `dest`, created if needed, and the name of `dest` in it.
    fn parent<'p>(&self, dest: &'p Path) -> Result<(Rc<OwnedFd>, &'p OsStr), MountError> {
        match (dest.parent(), dest.file_name()) {
            (Some(parent), Some(name)) => Ok((self.folder(parent)?, name)),
            _ => Err(MountError {
                op: "place",
                path: dest.to_path_buf(),
                reason: "it names no file".into(),
            }),
        }
    }

    /// What is at `dest` now, opened `O_PATH` without following a symlink, or `None`.
    fn existing(&self, dest: &Path) -> Result<Option<OwnedFd>, MountError> {
        let root = self.folder(Path::new("/"))?;
        let rel = dest.strip_prefix("/").unwrap_or(dest);
        match beneath::open(root.as_fd(), rel, OFlag::O_PATH) {
            Ok(fd) => Ok(Some(fd)),
            Err(BeneathError::Missing { .. }) => Ok(None),
            Err(error) => Err(beneath_error("open", dest, Path::new("/"), error)),
        }
    }

    /// A mount on `target` hides the folders opened below it, and the fd of `target`
    /// itself now names what is under the mount.
    fn mounted(&self, target: &Path) {
        self.folders
            .borrow_mut()
            .retain(|folder, _| !folder.starts_with(target));
    }

    fn apply(&self, step: &Step) -> Result<(), MountError> {
        let result = self.apply_step(step);
        if let Some(point) = step.mount_point() {
            self.mounted(point);
        }
        result
    }

    /// Creates `dest` as a new file with `contents` and `mode`, or, when a file is
    /// already there, overwrites it and gives it the mode; a symlink there is refused.
    fn write(&self, dest: &Path, contents: &[u8], mode: u32) -> Result<(), MountError> {
        let (parent, name) = self.parent(dest)?;
        let io = |error: Errno| MountError {
            op: "write",
            path: dest.to_path_buf(),
            reason: error.desc().to_string(),
        };
        let fd = match nix::fcntl::openat(
            parent.as_fd(),
            name,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(mode),
        ) {
            Ok(fd) => fd,
            Err(Errno::EEXIST) => {
                let fd = nix::fcntl::openat(
                    parent.as_fd(),
                    name,
                    OFlag::O_WRONLY | OFlag::O_TRUNC | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|errno| match errno {
                    Errno::ELOOP => symlink_at_dest("write", dest, &parent, name),
                    errno => io(errno),
                })?;
                nix::sys::stat::fchmod(&fd, Mode::from_bits_truncate(mode)).map_err(io)?;
                fd
            }
            Err(errno) => return Err(io(errno)),
        };
        let mut file = std::fs::File::from(fd);
        file.write_all(contents).map_err(io_err("write", dest))
    }

    fn apply_step(&self, step: &Step) -> Result<(), MountError> {
        match step {
            Step::Tmpfs {
                dest,
                mode,
                size,
                inodes,
            } => {
                let target = self.folder(dest)?;
                let options = format!("mode={mode:o},size={size},nr_inodes={inodes}");
                mount(
                    Some("tmpfs"),
                    &fd_path(&target),
                    Some("tmpfs"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                    Some(options.as_str()),
                )
                .map_err(err("mount tmpfs on", dest))
            }
            Step::Dir { dest, mode } => {
                let target = self.folder(dest)?;
                std::fs::set_permissions(fd_path(&target), std::fs::Permissions::from_mode(*mode))
                    .map_err(io_err("chmod", dest))
            }
            Step::Bind {
                src,
                dest,
                access,
                device,
                pinned,
            } => self.bind(src, dest, *access, *device, *pinned),
            Step::Symlink { target, dest } => {
                let (parent, name) = self.parent(dest)?;
                nix::unistd::symlinkat(target.as_path(), parent.as_fd(), name)
                    .map_err(err("symlink", dest))
            }
            Step::Copy { src, dest, mode } => {
                let source = Path::new(OLD_ROOT).join(src.strip_prefix("/").unwrap_or(src));
                let Ok(contents) = std::fs::read(&source) else {
                    return Ok(());
                };
                self.write(dest, &contents, *mode)
            }
            Step::File {
                dest,
                contents,
                mode,
            } => self.write(dest, contents, *mode),
            Step::Proc { dest } => {
                let target = self.folder(dest)?;
                mount(
                    Some("proc"),
                    &fd_path(&target),
                    Some("proc"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                    None::<&str>,
                )
                .map_err(err("mount proc on", dest))
            }
            Step::ReadOnly { dest } => {
                let Some(target) = self.existing(dest)? else {
                    // This kernel does not have it: nothing to protect.
                    return Ok(());
                };
                let path = fd_path(&target);
                mount(
                    Some(&path),
                    &path,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .map_err(err("bind", dest))?;
                self.mounted(dest);
                let Some(bound) = self.existing(dest)? else {
                    return Err(MountError {
                        op: "bind",
                        path: dest.clone(),
                        reason: "it went away".into(),
                    });
                };
                let flags = MsFlags::MS_RDONLY
                    | MsFlags::MS_NOSUID
                    | MsFlags::MS_NODEV
                    | MsFlags::MS_NOEXEC;
                match set_attributes(&bound, OsStr::new(""), flags, true) {
                    Err(Errno::ENOSYS) => {
                        remount(&fd_path(&bound), flags).map_err(err("remount read-only", dest))
                    }
                    result => result.map_err(err("make read-only", dest)),
                }
            }
            Step::Devpts { dest } => {
                let target = self.folder(dest)?;
                mount(
                    Some("devpts"),
                    &fd_path(&target),
                    Some("devpts"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
                    Some("newinstance,ptmxmode=0666,mode=620"),
                )
                .map_err(err("mount devpts on", dest))
            }
            Step::RemountRootReadOnly => remount(
                Path::new(NEW_ROOT),
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            )
            .map_err(err("remount read-only", Path::new("/"))),
        }
    }

    /// The mount point of a bind of a file: the file at `dest`, created empty when
    /// missing; a symlink or a folder there is refused.
    fn file_mount_point(
        &self,
        parent: &OwnedFd,
        name: &OsStr,
        dest: &Path,
    ) -> Result<OwnedFd, MountError> {
        match nix::fcntl::openat(
            parent.as_fd(),
            name,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        ) {
            // A new empty file: the mount point itself.
            Ok(fd) => Ok(fd),
            Err(Errno::EEXIST) => self.existing_file(parent, name, dest),
            Err(errno) => Err(err("create mount point", dest)(errno)),
        }
    }

    /// The file `name` in `parent`, opened `O_PATH`; a symlink or a folder is refused.
    fn existing_file(
        &self,
        parent: &OwnedFd,
        name: &OsStr,
        dest: &Path,
    ) -> Result<OwnedFd, MountError> {
        let fd = nix::fcntl::openat(
            parent.as_fd(),
            name,
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(err("open mount point", dest))?;
        let kind = fstat(&fd)
            .map(|stat| SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT)
            .map_err(err("open mount point", dest))?;
        match kind {
            SFlag::S_IFLNK => Err(symlink_at_dest("bind", dest, parent, name)),
            SFlag::S_IFDIR => Err(MountError {
                op: "bind",
                path: dest.to_path_buf(),
                reason: "the source is a file and a folder is there".into(),
            }),
            _ => Ok(fd),
        }
    }

    fn bind(
        &self,
        src: &Path,
        dest: &Path,
        access: Access,
        device: bool,
        pinned: bool,
    ) -> Result<(), MountError> {
        let pinned_fd = if pinned {
            let fd = self
                .pinned
                .iter()
                .find(|(pinned_src, _)| pinned_src == src)
                .map(|(_, fd)| fd.as_raw_fd())
                .ok_or_else(|| MountError {
                    op: "bind",
                    path: src.to_path_buf(),
                    reason: "the source was not opened before start".into(),
                })?;
            Some(fd)
        } else {
            None
        };
        let source = match pinned_fd {
            Some(fd) => PathBuf::from(format!("{OLD_ROOT}/proc/self/fd/{fd}")),
            None => Path::new(OLD_ROOT).join(src.strip_prefix("/").unwrap_or(src)),
        };
        let meta = std::fs::metadata(&source).map_err(io_err("find bind source", src))?;
        // A file is reached again by its name in its folder once mounted over: the fd of
        // the mount point names what is now below the mount.
        let file_at = if meta.is_dir() {
            None
        } else {
            Some(self.parent(dest)?)
        };
        let target = match &file_at {
            None => self.folder(dest)?,
            Some((parent, name)) => Rc::new(self.file_mount_point(parent, name, dest)?),
        };
        let recursive = if device {
            MsFlags::empty()
        } else {
            MsFlags::MS_REC
        };
        let mut flags = if device {
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC
        } else {
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV
        };
        if access == Access::Ro {
            flags |= MsFlags::MS_RDONLY;
        }
        // The new mount API: the tree is cloned, given its attributes while detached and
        // attached to the opened mount point; no path is walked again.
        match bind_detached(pinned_fd, &source, !device, flags, &target) {
            Ok(()) => {
                drop(target);
                self.mounted(dest);
                return Ok(());
            }
            Err(Errno::ENOSYS) => {}
            Err(errno) => return Err(err("bind", dest)(errno)),
        }
        mount(
            Some(&source),
            &fd_path(&target),
            None::<&str>,
            MsFlags::MS_BIND | recursive,
            None::<&str>,
        )
        .map_err(err("bind", dest))?;
        drop(target);
        self.mounted(dest);
        let (at, name, path) = match &file_at {
            None => {
                let folder = self.folder(dest)?;
                let path = fd_path(&folder);
                (folder, OsStr::new(""), path)
            }
            Some((parent, name)) => (parent.clone(), *name, fd_path(parent).join(name)),
        };
        // One call for the bind and every submount it carries (Linux 5.12).
        match set_attributes(&at, name, flags, !device) {
            Err(Errno::ENOSYS) => {}
            result => return result.map_err(err("set mount attributes of", dest)),
        }
        remount(&path, flags).map_err(err("remount", dest))?;
        if !device {
            for sub in self
                .host_mounts
                .get_or_init(host_mount_points)
                .iter()
                .filter(|m| m.starts_with(src) && m.as_path() != src)
            {
                let Ok(rest) = sub.strip_prefix(src) else {
                    continue;
                };
                if let Ok(Some(sub_target)) = self.existing(&dest.join(rest)) {
                    remount(&fd_path(&sub_target), flags)
                        .map_err(err("remount", &dest.join(rest)))?;
                }
            }
        }
        Ok(())
    }
}

/// Mount points of the calling process's namespace, from `/proc/self/mountinfo`.
pub fn host_mount_points() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|text| parse_mount_points(&text))
        .unwrap_or_default()
}

/// Field 5 of each mountinfo line, with `\040`-style escapes decoded.
pub fn parse_mount_points(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape_octal(field)))
        .collect()
}

/// Decodes the `\ooo` escapes the kernel writes for spaces, tabs, newlines and `\`.
pub fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let value =
                (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(value);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub use crate::sys::mount::c_path;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_decoded() {
        let info = "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw\n";
        assert_eq!(
            parse_mount_points(info),
            vec![PathBuf::from("/mnt/with space")]
        );
        assert_eq!(unescape_octal("a\\134b"), "a\\b");
        assert_eq!(unescape_octal("tail\\04"), "tail\\04");
    }
}
