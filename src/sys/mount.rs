//! The mount calls the executor makes beyond `mount(2)`: attributes set with
//! `mount_setattr` (on a mount, or on a detached tree before it is attached), binds made
//! with `open_tree` and `move_mount`, and the remount of older kernels.

use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::sys::statvfs::{statvfs, FsFlags};

/// `mount_setattr(2)` (Linux 5.12): adds the read-only, nosuid, nodev and noexec of
/// `flags` to the mount at `name` in the folder `dir` (at `dir` itself when `name` is
/// empty; a symlink is not followed), and to every mount below it when `recursive`. It
/// only sets attributes, so flags the host locked stay as they are; `ENOSYS` on older
/// kernels.
pub fn set_attributes(
    dir: &OwnedFd,
    name: &OsStr,
    flags: MsFlags,
    recursive: bool,
) -> Result<(), Errno> {
    let name = c_path(Path::new(name)).ok_or(Errno::EINVAL)?;
    set_attributes_at(dir.as_raw_fd(), &name, flags, recursive)
}

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const AT_RECURSIVE: libc::c_uint = 0x8000;

/// `mount_setattr(dir, name)`; an empty `name` means `dir` itself.
fn set_attributes_at(
    dir: libc::c_int,
    name: &CString,
    flags: MsFlags,
    recursive: bool,
) -> Result<(), Errno> {
    const MOUNT_ATTR_RDONLY: u64 = 0x1;
    const MOUNT_ATTR_NOSUID: u64 = 0x2;
    const MOUNT_ATTR_NODEV: u64 = 0x4;
    const MOUNT_ATTR_NOEXEC: u64 = 0x8;
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
    let at = if name.is_empty() {
        libc::AT_EMPTY_PATH
    } else {
        libc::AT_SYMLINK_NOFOLLOW
    };
    let at_flags = at as libc::c_uint | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: mount_setattr reads `size` bytes of `attr`, a struct we own, and a
    // NUL-terminated name we own, relative to an fd we own.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dir,
            name.as_ptr(),
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

/// Binds `source` (the pinned fd when given, else the path) onto the mount point `target`
/// with the new mount API: `open_tree` clones the tree (with its submounts when
/// `recursive`), `mount_setattr` gives it `flags` while it is detached, and `move_mount`
/// attaches it to the opened mount point. `ENOSYS` before Linux 5.12.
pub fn bind_detached(
    pinned: Option<libc::c_int>,
    source: &Path,
    recursive: bool,
    flags: MsFlags,
    target: &OwnedFd,
) -> Result<(), Errno> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
    const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
    let empty = CString::default();
    let path = c_path(source).ok_or(Errno::EINVAL)?;
    let (dir, name, at) = match pinned {
        Some(fd) => (fd, &empty, libc::AT_EMPTY_PATH as libc::c_uint),
        None => (libc::AT_FDCWD, &path, 0),
    };
    let tree_flags = OPEN_TREE_CLONE
        | libc::O_CLOEXEC as libc::c_uint
        | at
        | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: open_tree reads a NUL-terminated path we own and returns a new fd.
    let tree = unsafe { libc::syscall(libc::SYS_open_tree, dir, name.as_ptr(), tree_flags) };
    if tree < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just gave us this descriptor.
    let tree = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(tree as libc::c_int) };
    set_attributes_at(tree.as_raw_fd(), &empty, flags, recursive)?;
    // SAFETY: move_mount takes two descriptors we own and two empty NUL-terminated paths.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            empty.as_ptr(),
            target.as_raw_fd(),
            empty.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    Errno::result(ret).map(drop)
}

/// Remounts a bind mount with `flags` added to the flags it has (locked flags such as
/// `nodev` or `relatime` from the host may not be cleared in a user namespace).
pub fn remount(target: &Path, flags: MsFlags) -> Result<(), Errno> {
    let current = statvfs(target)?.flags();
    let mut keep = MsFlags::empty();
    for (st, ms) in [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        // ST_RELATIME (Linux's statvfs flag 4096), which nix names only for glibc.
        (FsFlags::from_bits_retain(4096), MsFlags::MS_RELATIME),
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

/// A C string of a path, for raw calls.
pub fn c_path(path: &Path) -> Option<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).ok()
}

/// `open_tree(fd, "", OPEN_TREE_CLONE | AT_RECURSIVE)`: a detached copy of the mount tree
/// at the file or folder `source` was opened on, its submounts included. The caller needs
/// `CAP_SYS_ADMIN` over its mount namespace, and `source` must be of that namespace.
pub fn clone_tree(source: &OwnedFd) -> Result<OwnedFd, Errno> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    let empty = CString::default();
    let flags = OPEN_TREE_CLONE
        | libc::O_CLOEXEC as libc::c_uint
        | libc::AT_EMPTY_PATH as libc::c_uint
        | AT_RECURSIVE;
    // SAFETY: open_tree reads an empty NUL-terminated path we own, relative to an fd we
    // own, and returns a new fd.
    let tree = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            source.as_raw_fd(),
            empty.as_ptr(),
            flags,
        )
    };
    if tree < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just gave us this descriptor, which nothing else owns.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(tree as libc::c_int) })
}

/// `move_mount(tree, "", target, "")`: attaches the detached tree `tree` (from
/// [`clone_tree`]) on the opened mount point `target`; no path is walked.
pub fn attach_tree(tree: &OwnedFd, target: &OwnedFd) -> Result<(), Errno> {
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
    const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
    let empty = CString::default();
    // SAFETY: move_mount takes two descriptors we own and two empty NUL-terminated paths.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            empty.as_ptr(),
            target.as_raw_fd(),
            empty.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    Errno::result(ret).map(drop)
}

/// Whether `name` in the folder `dir` (not followed if a symlink) is the root of a mount
/// (`statx`'s `STATX_ATTR_MOUNT_ROOT`, Linux 5.8).
pub fn is_mount_root(dir: &OwnedFd, name: &OsStr) -> Result<bool, Errno> {
    let name = c_path(Path::new(name)).ok_or(Errno::EINVAL)?;
    // SAFETY: an all-zero statx is a valid value of this plain C struct.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: statx writes into the struct we own and reads a NUL-terminated name we own.
    let ret = unsafe {
        libc::statx(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            libc::STATX_BASIC_STATS,
            &mut stx,
        )
    };
    Errno::result(ret)?;
    if stx.stx_attributes_mask & libc::STATX_ATTR_MOUNT_ROOT as u64 == 0 {
        return Err(Errno::ENOSYS);
    }
    Ok(stx.stx_attributes & libc::STATX_ATTR_MOUNT_ROOT as u64 != 0)
}
