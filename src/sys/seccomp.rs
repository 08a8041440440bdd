//! Installing a compiled seccomp filter.

use nix::errno::Errno;

/// Installs `filter` in the calling thread with seccomp(SECCOMP_SET_MODE_FILTER), or
/// prctl(PR_SET_SECCOMP) on kernels without seccomp(2).
///
/// Does not allocate: it is called in a forked child right before `execve`. Requires
/// no_new_privs to be set already (else the kernel answers EACCES unless the caller has
/// CAP_SYS_ADMIN). The filter cannot be removed afterwards.
pub fn install(filter: &[libc::sock_filter]) -> Result<(), Errno> {
    let len = u16::try_from(filter.len()).map_err(|_| Errno::EINVAL)?;
    let fprog = libc::sock_fprog {
        len,
        filter: filter.as_ptr().cast_mut(),
    };
    let fprog_ptr: *const libc::sock_fprog = &fprog;

    // SAFETY: `fprog` points at `len` initialised instructions borrowed for the call; the
    // kernel copies the program and never writes through the pointer.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::c_ulong::from(libc::SECCOMP_SET_MODE_FILTER),
            0 as libc::c_ulong,
            fprog_ptr,
        )
    };
    match Errno::result(ret) {
        Ok(_) => Ok(()),
        Err(Errno::ENOSYS) => {
            // SAFETY: as above; PR_SET_SECCOMP takes the same `struct sock_fprog`.
            let ret = unsafe {
                libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::c_ulong::from(libc::SECCOMP_MODE_FILTER),
                    fprog_ptr,
                )
            };
            Errno::result(ret).map(drop)
        }
        Err(errno) => Err(errno),
    }
}
