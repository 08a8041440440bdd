//! Dropping every capability: bounding and ambient sets, then effective, permitted and
//! inheritable, so nothing is left to regain across `execve`; and the other attributes a
//! process of boxtop's sets on itself (no new privileges, a new session keyring, dying
//! with its parent).

use nix::errno::Errno;

/// The highest capability number this kernel knows.
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(63)
}

/// Drops all capabilities of the calling thread. Does not allocate.
pub fn drop_all(last_cap: u32) -> Result<(), Errno> {
    for cap in 0..=last_cap {
        // SAFETY: prctl with integer arguments only; EINVAL for a capability this kernel
        // does not know is expected and ignored.
        let ret = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        if ret != 0 && Errno::last() != Errno::EINVAL {
            return Err(Errno::last());
        }
    }
    // SAFETY: prctl with integer arguments only.
    let ret = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if ret != 0 && Errno::last() != Errno::EINVAL {
        return Err(Errno::last());
    }
    #[repr(C)]
    struct CapHeader {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct CapData {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset reads a v3 header and two data structs, both valid for the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut CapHeader,
            data.as_ptr(),
        )
    };
    if ret != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Makes the kernel kill the calling process (SIGKILL) when its parent ends; only a
/// death after this call counts. Allocates nothing: callable between fork and exec.
pub fn set_parent_death_signal() {
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
}

/// Makes the calling process non-dumpable: its `/proc/PID` files (`mem`, `environ`, `fd`,
/// `ns`, `maps`) become root's, and no process of the sandbox may ptrace it, read or write
/// its memory, or take its descriptors. boxtop outside keeps its access to the app's
/// processes, whose memory belongs to the sandbox's user namespace once they exec.
pub fn make_undumpable() -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments only.
    let ret = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    Errno::result(ret).map(drop)
}

/// Sets `PR_SET_NO_NEW_PRIVS`: no setuid bit or file capability can raise privileges
/// again, and an unprivileged process may install a seccomp filter.
pub fn set_no_new_privs() -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments only.
    let ret = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    if ret != 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Gives the calling process a new, empty session keyring, so that processes it starts
/// do not inherit the user's (login keys, kerberos tickets). Best effort: the per-user
/// key quota can refuse it, and the sandbox's processes cannot use keyctl anyway.
pub fn join_new_session_keyring() {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL) reads no memory: a null name asks
    // for a new anonymous keyring.
    unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The serial of the calling process's session keyring (KEYCTL_GET_KEYRING_ID of
    /// KEY_SPEC_SESSION_KEYRING, made if missing).
    fn session_keyring() -> libc::c_long {
        // SAFETY: keyctl with integer arguments only.
        unsafe { libc::syscall(libc::SYS_keyctl, 0 as libc::c_long, -3 as libc::c_long, 1) }
    }

    #[test]
    fn a_new_session_keyring_replaces_the_inherited_one() {
        // SAFETY: the child only makes raw syscalls and leaves with _exit.
        match unsafe { nix::unistd::fork() }.expect("fork") {
            nix::unistd::ForkResult::Child => {
                let before = session_keyring();
                join_new_session_keyring();
                let after = session_keyring();
                let code = if before > 0 && after > 0 && before != after {
                    0
                } else {
                    1
                };
                // SAFETY: leaving the forked child without the harness's cleanup.
                unsafe { libc::_exit(code) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).expect("waitpid");
                assert_eq!(
                    status,
                    nix::sys::wait::WaitStatus::Exited(child, 0),
                    "the session keyring did not change"
                );
            }
        }
    }
}
