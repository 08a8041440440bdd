//! Terminal calls for a pty: unlocking it, opening its peer from the master, making it
//! the controlling terminal, and copying a window size.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

/// Unlocks the pty of `master` (`TIOCSPTLCK` 0) and opens its peer from the master
/// itself (`TIOCGPTPEER`), not by a path an app could have prepared.
pub fn unlock_and_open_peer(master: BorrowedFd) -> Result<OwnedFd, Errno> {
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int we own.
    Errno::result(unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) })?;
    // SAFETY: TIOCGPTPEER takes open flags and returns a new descriptor.
    let peer = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    let peer = Errno::result(peer)?;
    // SAFETY: the kernel just gave us this descriptor, which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(peer) })
}

/// Makes `tty` the calling process's controlling terminal (`TIOCSCTTY`, without
/// stealing it from another session).
pub fn set_controlling(tty: BorrowedFd) -> Result<(), Errno> {
    // SAFETY: TIOCSCTTY takes an integer (0: do not steal it from a session).
    Errno::result(unsafe { libc::ioctl(tty.as_raw_fd(), libc::TIOCSCTTY, 0) }).map(drop)
}

/// Copies the window size of `from` (the user's terminal) to `to` (the pty); nothing
/// when `from` is not a terminal.
pub fn copy_window_size(from: BorrowedFd, to: BorrowedFd) {
    // SAFETY: winsize is plain old data; all-zero is a valid value.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes and TIOCSWINSZ reads the winsize we own.
    unsafe {
        if libc::ioctl(from.as_raw_fd(), libc::TIOCGWINSZ, &mut size) == 0 {
            libc::ioctl(to.as_raw_fd(), libc::TIOCSWINSZ, &size);
        }
    }
}
