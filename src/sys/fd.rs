//! Descriptors: duplicating onto the standard ones, closing every other, flock, and the
//! raw reads and writes a child that may not allocate makes.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

/// `dup2(from, to)`: `to` (a standard descriptor) becomes a copy of `from`.
pub fn dup_onto(from: RawFd, to: RawFd) -> Result<(), Errno> {
    // SAFETY: dup2 only changes this process's descriptor table; a bad fd is EBADF.
    Errno::result(unsafe { libc::dup2(from, to) }).map(drop)
}

/// Closes every descriptor of this process from `first` to `last`. Falls back to the
/// list of `/proc/self/fd` on kernels before 5.9 (which allocates).
pub fn close_range(first: u32, last: u32) {
    if first > last {
        return;
    }
    // SAFETY: close_range(2) only closes descriptors of this process; the callers own
    // them all (the range is what they keep none of).
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
    if ret == 0 {
        return;
    }
    let open: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    for fd in open {
        if fd as u32 >= first && fd as u32 <= last {
            // SAFETY: as above: the caller gives up every descriptor of the range.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
}

/// Takes an exclusive flock on `fd` without waiting: false when another open file holds
/// it. Unlike nix's `Flock`, nothing unlocks it on drop: the lock lasts until every
/// process sharing the open file (a forked supervisor) has closed it.
pub fn try_lock_exclusive(fd: BorrowedFd) -> Result<bool, Errno> {
    // SAFETY: flock on a descriptor the caller holds open.
    let ret = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if ret == 0 {
        return Ok(true);
    }
    match Errno::last() {
        Errno::EWOULDBLOCK => Ok(false),
        errno => Err(errno),
    }
}

/// Releases an flock taken on `fd`'s open file, for every descriptor that shares it.
pub fn unlock(fd: BorrowedFd) -> Result<(), Errno> {
    // SAFETY: flock on a descriptor the caller holds open.
    Errno::result(unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_UN) }).map(drop)
}

/// Writes `parts` one after the other in one `writev(2)`, without allocating; the
/// result is ignored (the reader sees what arrived). Async-signal-safe.
pub fn write_parts(fd: RawFd, parts: &[&[u8]; 5]) {
    let iov = parts.map(|part| libc::iovec {
        iov_base: part.as_ptr() as *mut libc::c_void,
        iov_len: part.len(),
    });
    // SAFETY: the iovecs point at the byte slices of `parts`, alive for the call, which
    // the kernel only reads.
    unsafe { libc::writev(fd, iov.as_ptr(), iov.len() as libc::c_int) };
}

/// Writes `bytes` to `fd` in one `write(2)`, ignoring the result. Async-signal-safe.
pub fn write_raw(fd: RawFd, bytes: &[u8]) {
    // SAFETY: the kernel reads `bytes.len()` bytes of a slice alive for the call.
    unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
}

/// Reads one byte from `fd`, retrying on EINTR: `None` at end of file or on an error.
/// Async-signal-safe.
pub fn read_byte(fd: RawFd) -> Option<u8> {
    let mut byte = 0u8;
    loop {
        // SAFETY: the kernel writes at most one byte into `byte`, alive for the call.
        match unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) } {
            1 => return Some(byte),
            -1 if Errno::last() == Errno::EINTR => continue,
            _ => return None,
        }
    }
}

/// Runs `look` with standard descriptor `fd` (0 to 2) borrowed; it may be closed, which
/// the calls on it answer with `EBADF`.
pub fn with_stdio<T>(fd: RawFd, look: impl FnOnce(BorrowedFd) -> T) -> Option<T> {
    if !(0..=2).contains(&fd) {
        return None;
    }
    // SAFETY: a standard descriptor number is only ever open or closed, never another
    // object's memory; the borrow does not outlive `look`, and the caller closes nothing.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    Some(look(borrowed))
}
