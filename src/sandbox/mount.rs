//! The executor of a plan's filesystem steps, run by the sandbox's init inside its new
//! user and mount namespaces. It stages a tmpfs, pivots into it with the host's root at
//! `/oldroot`, builds the new root at `/newroot` from host paths, then detaches the old
//! root and pivots again so that nothing of the staging is left.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::sys::statvfs::{statvfs, FsFlags};
use nix::unistd::{chdir, pivot_root};

use crate::profile::Access;

use super::plan::Step;

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

/// A host path bound from a file opened (O_PATH) before the root changes, and checked to
/// be the real path boxtop validated: a folder swapped for a symlink meanwhile is refused
/// instead of redirecting the bind.
#[derive(Debug, Clone)]
pub struct Pinned {
    /// The source as the plan names it.
    pub src: PathBuf,
    /// Its canonical path, as checked before the sandbox started.
    pub real: PathBuf,
}

/// Opens each pinned source in this mount namespace and checks what was opened.
fn open_pinned(pinned: &[Pinned]) -> Result<Vec<(PathBuf, OwnedFd)>, MountError> {
    let mut fds = Vec::new();
    for pin in pinned {
        let fd = nix::fcntl::open(&pin.real, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(err("open", &pin.real))?;
        let opened = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .map_err(io_err("check", &pin.real))?;
        if opened != pin.real {
            return Err(MountError {
                op: "check",
                path: pin.src.clone(),
                reason: format!(
                    "it changed to {} while the sandbox was starting",
                    opened.display()
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
        Some("mode=0755"),
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
        Some("mode=0755"),
    )
    .map_err(err("mount root tmpfs on", Path::new(NEW_ROOT)))?;

    let executor = Executor {
        host_mounts: std::cell::OnceCell::new(),
        pinned: &pinned,
        folders: Default::default(),
    };
    for step in steps {
        executor.apply(step)?;
    }

    umount2(OLD_ROOT, MntFlags::MNT_DETACH).map_err(err("detach", Path::new(OLD_ROOT)))?;
    chdir(NEW_ROOT).map_err(err("chdir", Path::new(NEW_ROOT)))?;
    pivot_root(".", ".").map_err(err("pivot_root into", Path::new(NEW_ROOT)))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(err("detach staging", Path::new("/")))?;
    chdir("/").map_err(err("chdir", Path::new("/")))?;
    Ok(())
}

struct Executor<'a> {
    /// Mount points of the host, to find submounts carried by recursive binds; read only
    /// on kernels without `mount_setattr` (before 5.12).
    host_mounts: std::cell::OnceCell<Vec<PathBuf>>,
    pinned: &'a [(PathBuf, OwnedFd)],
    /// Folders of the new root known to exist, so that each step does not ask again; a
    /// mount over a folder hides what was below it, which is then forgotten.
    folders: std::cell::RefCell<std::collections::HashSet<PathBuf>>,
}

/// `/newroot` + an absolute path inside the sandbox.
fn inside(dest: &Path) -> PathBuf {
    Path::new(NEW_ROOT).join(dest.strip_prefix("/").unwrap_or(dest))
}

impl Executor<'_> {
    fn make_dir(&self, path: &Path) -> Result<(), MountError> {
        if self.folders.borrow().contains(path) {
            return Ok(());
        }
        std::fs::create_dir_all(path).map_err(io_err("create folder", path))?;
        let mut folders = self.folders.borrow_mut();
        for ancestor in path.ancestors() {
            if !folders.insert(ancestor.to_path_buf()) {
                break;
            }
        }
        Ok(())
    }

    fn make_parent(&self, path: &Path) -> Result<(), MountError> {
        match path.parent() {
            Some(parent) => self.make_dir(parent),
            None => Ok(()),
        }
    }

    /// A mount on `target` hides the folders made below it.
    fn mounted(&self, target: &Path) {
        self.folders
            .borrow_mut()
            .retain(|folder| folder == target || !folder.starts_with(target));
    }

    fn apply(&self, step: &Step) -> Result<(), MountError> {
        let result = self.apply_step(step);
        if let Some(point) = step.mount_point() {
            self.mounted(&inside(point));
        }
        result
    }

    fn apply_step(&self, step: &Step) -> Result<(), MountError> {
        match step {
            Step::Tmpfs { dest, mode } => {
                let target = inside(dest);
                self.make_dir(&target)?;
                let options = format!("mode={mode:o}");
                mount(
                    Some("tmpfs"),
                    &target,
                    Some("tmpfs"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                    Some(options.as_str()),
                )
                .map_err(err("mount tmpfs on", dest))
            }
            Step::Dir { dest, mode } => {
                let target = inside(dest);
                self.make_dir(&target)?;
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(*mode))
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
                let path = inside(dest);
                self.make_parent(&path)?;
                symlink(target, &path).map_err(io_err("symlink", dest))
            }
            Step::Copy { src, dest, mode } => {
                let source = Path::new(OLD_ROOT).join(src.strip_prefix("/").unwrap_or(src));
                let Ok(contents) = std::fs::read(&source) else {
                    return Ok(());
                };
                let path = inside(dest);
                self.make_parent(&path)?;
                write_new(&path, &contents, *mode).map_err(io_err("write", dest))
            }
            Step::File {
                dest,
                contents,
                mode,
            } => {
                let path = inside(dest);
                self.make_parent(&path)?;
                write_new(&path, contents, *mode).map_err(io_err("write", dest))
            }
            Step::Proc { dest } => {
                let target = inside(dest);
                self.make_dir(&target)?;
                mount(
                    Some("proc"),
                    &target,
                    Some("proc"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                    None::<&str>,
                )
                .map_err(err("mount proc on", dest))
            }
            Step::ReadOnly { dest } => {
                let target = inside(dest);
                if std::fs::symlink_metadata(&target).is_err() {
                    // This kernel does not have it: nothing to protect.
                    return Ok(());
                }
                mount(
                    Some(&target),
                    &target,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )
                .map_err(err("bind", dest))?;
                let flags = MsFlags::MS_RDONLY
                    | MsFlags::MS_NOSUID
                    | MsFlags::MS_NODEV
                    | MsFlags::MS_NOEXEC;
                match set_attributes(&target, flags, true) {
                    Err(Errno::ENOSYS) => {
                        remount(&target, flags).map_err(err("remount read-only", dest))
                    }
                    result => result.map_err(err("make read-only", dest)),
                }
            }
            Step::Devpts { dest } => {
                let target = inside(dest);
                self.make_dir(&target)?;
                mount(
                    Some("devpts"),
                    &target,
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

    fn bind(
        &self,
        src: &Path,
        dest: &Path,
        access: Access,
        device: bool,
        pinned: bool,
    ) -> Result<(), MountError> {
        let source = if pinned {
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
            PathBuf::from(format!("{OLD_ROOT}/proc/self/fd/{fd}"))
        } else {
            Path::new(OLD_ROOT).join(src.strip_prefix("/").unwrap_or(src))
        };
        let target = inside(dest);
        let meta = std::fs::metadata(&source).map_err(io_err("find bind source", src))?;
        if meta.is_dir() {
            self.make_dir(&target)?;
        } else {
            self.make_parent(&target)?;
            if std::fs::symlink_metadata(&target).is_err() {
                std::fs::File::create(&target).map_err(io_err("create mount point", dest))?;
            }
        }
        let recursive = if device {
            MsFlags::empty()
        } else {
            MsFlags::MS_REC
        };
        mount(
            Some(&source),
            &target,
            None::<&str>,
            MsFlags::MS_BIND | recursive,
            None::<&str>,
        )
        .map_err(err("bind", dest))?;
        let mut flags = if device {
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC
        } else {
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV
        };
        if access == Access::Ro {
            flags |= MsFlags::MS_RDONLY;
        }
        // One call for the bind and every submount it carries (Linux 5.12).
        match set_attributes(&target, flags, !device) {
            Err(Errno::ENOSYS) => {}
            result => return result.map_err(err("set mount attributes of", dest)),
        }
        remount(&target, flags).map_err(err("remount", dest))?;
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
                let sub_target = target.join(rest);
                if std::fs::symlink_metadata(&sub_target).is_ok() {
                    remount(&sub_target, flags).map_err(err("remount", &dest.join(rest)))?;
                }
            }
        }
        Ok(())
    }
}

/// `mount_setattr(2)` (Linux 5.12): adds the read-only, nosuid, nodev and noexec of
/// `flags` to the mount at `target`, and to every mount below it when `recursive`. It
/// only sets attributes, so flags the host locked stay as they are; `ENOSYS` on older
/// kernels.
fn set_attributes(target: &Path, flags: MsFlags, recursive: bool) -> Result<(), Errno> {
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    const MOUNT_ATTR_RDONLY: u64 = 0x1;
    const MOUNT_ATTR_NOSUID: u64 = 0x2;
    const MOUNT_ATTR_NODEV: u64 = 0x4;
    const MOUNT_ATTR_NOEXEC: u64 = 0x8;
    const AT_RECURSIVE: libc::c_uint = 0x8000;
    let mut attr_set = 0;
    for (ms, attr) in [
        (MsFlags::MS_RDONLY, MOUNT_ATTR_RDONLY),
        (MsFlags::MS_NOSUID, MOUNT_ATTR_NOSUID),
        (MsFlags::MS_NODEV, MOUNT_ATTR_NODEV),
        (MsFlags::MS_NOEXEC, MOUNT_ATTR_NOEXEC),
    ] {
        if flags.contains(ms) {
            attr_set |= attr;
        }
    }
    let attr = MountAttr {
        attr_set,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let path =
        std::ffi::CString::new(target.as_os_str().as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
    let at_flags = if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: mount_setattr reads `size` bytes of `attr`, a struct we own, and a
    // NUL-terminated path.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            at_flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// Remounts a bind mount with `flags` added to the flags it has (locked flags such as
/// `nodev` or `relatime` from the host may not be cleared in a user namespace).
fn remount(target: &Path, flags: MsFlags) -> Result<(), Errno> {
    let current = statvfs(target)?.flags();
    let mut keep = MsFlags::empty();
    for (st, ms) in [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if current.contains(st) {
            keep |= ms;
        }
    }
    mount(
        None::<&str>,
        target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | keep | flags,
        None::<&str>,
    )
}

/// Writes a file with `mode`: created with it (the sandbox's pid 1 runs with umask 0),
/// or, when a file is already there, overwritten and given the mode.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
    {
        Ok(mut file) => file.write_all(contents),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::write(path, contents)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        }
        Err(err) => Err(err),
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

/// A C string of a path, for raw calls.
pub fn c_path(path: &Path) -> Option<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).ok()
}

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
