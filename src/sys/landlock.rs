//! The Landlock calls the `landlock` crate does not make: asking the kernel's ABI
//! version, and opening a rule's path with no symlink (`openat2`).

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;

/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`: the ABI version
/// (1 and up), or the errno (`ENOSYS`: not built, `EOPNOTSUPP`: not enabled).
pub fn abi_version() -> Result<i32, Errno> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a NULL attribute, size 0 and the version flag, the call reads no
    // memory and only returns a number.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if ret >= 1 {
        Ok(ret as i32)
    } else {
        Err(Errno::last())
    }
}

/// `openat2(path, O_PATH, RESOLVE_NO_SYMLINKS)` (Linux 5.6, older than Landlock).
pub fn open_no_symlinks(path: &Path) -> Result<OwnedFd, Errno> {
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    const RESOLVE_NO_SYMLINKS: u64 = 0x04;
    let path = super::mount::c_path(path).ok_or(Errno::EINVAL)?;
    let how = OpenHow {
        flags: (libc::O_PATH | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_NO_SYMLINKS,
    };
    // SAFETY: openat2 reads `size` bytes of `how`, a struct we own, and a NUL-terminated
    // path; it returns a new fd or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            path.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just gave us this fd, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}
