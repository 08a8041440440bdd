use super::*;

use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};

/// How a forked child ended: its exit code (0 for a call that succeeded, else the errno) or
/// the signal that killed it.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Exited(i32),
    Killed(Signal),
}

const SUCCEEDED: Outcome = Outcome::Exited(0);

fn failed(errno: Errno) -> Outcome {
    Outcome::Exited(errno as i32)
}

/// Exit codes of a child whose setup failed; above every errno value.
const NO_NEW_PRIVS_FAILED: i32 = 201;
const INSTALL_FAILED: i32 = 202;
const CHILD_PANICKED: i32 = 203;
/// Exit code of a sweep that found a value the filter should have refused.
const LEAKED: i32 = 150;

/// The exit code for the result of a raw syscall.
fn code(ret: libc::c_long) -> i32 {
    match Errno::result(ret) {
        Ok(_) => 0,
        Err(errno) => errno as i32,
    }
}

/// Exits the child if the call under test unwinds, so it never returns into the harness.
struct ExitOnUnwind;

impl Drop for ExitOnUnwind {
    fn drop(&mut self) {
        // SAFETY: `_exit` ends the forked child without running the parent's atexit handlers.
        unsafe { libc::_exit(CHILD_PANICKED) }
    }
}

/// Runs `call` in a forked child, behind `prog` when given, and reports how the child ended.
fn run_in_child(prog: Option<&BpfProgram>, call: impl FnOnce() -> i32) -> Outcome {
    // SAFETY: the test harness is multi-threaded, so the child only makes async-signal-safe
    // calls (prctl, seccomp, raw syscalls, `_exit`) and never returns into the harness.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => {
            let guard = ExitOnUnwind;
            if let Some(prog) = prog {
                // SAFETY: PR_SET_NO_NEW_PRIVS takes integer arguments only.
                let ret = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
                if ret != 0 {
                    // SAFETY: see `ExitOnUnwind`.
                    unsafe { libc::_exit(NO_NEW_PRIVS_FAILED) }
                }
                if install(prog).is_err() {
                    // SAFETY: see `ExitOnUnwind`.
                    unsafe { libc::_exit(INSTALL_FAILED) }
                }
            }
            let exit_code = call();
            std::mem::forget(guard);
            // SAFETY: see `ExitOnUnwind`.
            unsafe { libc::_exit(exit_code) }
        }
        ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
            WaitStatus::Exited(_, exit_code) => Outcome::Exited(exit_code),
            WaitStatus::Signaled(_, signal, _) => Outcome::Killed(signal),
            other => panic!("unexpected wait status {other:?}"),
        },
    }
}

fn default_program() -> BpfProgram {
    compile(&SeccompPolicy::default()).expect("compile the default policy")
}

fn userns_program() -> BpfProgram {
    compile(&SeccompPolicy { allow_userns: true }).expect("compile the userns policy")
}

fn raw_syscall(nr: libc::c_long, args: [libc::c_ulong; 3]) -> i32 {
    // SAFETY: the tests pass only integer or null arguments, which the kernel checks.
    code(unsafe { libc::syscall(nr, args[0], args[1], args[2], 0 as libc::c_ulong) })
}

/// `socket(family, type, 0)` with a 64-bit family, as the kernel receives it.
fn socket(family: u64, kind: libc::c_int) -> i32 {
    // SAFETY: socket takes integers only.
    let ret = unsafe { libc::syscall(libc::SYS_socket, family, kind as libc::c_long, 0) };
    if ret >= 0 {
        // SAFETY: `ret` is the descriptor the kernel just opened for this child.
        unsafe { libc::close(ret as libc::c_int) };
    }
    code(ret)
}

#[allow(clippy::unnecessary_cast)]
const TCGETS: u64 = libc::TCGETS as u64;

/// A socket type the kernel rejects with EINVAL once it accepts the family.
const BAD_SOCKET_TYPE: libc::c_int = 15;

#[test]
fn the_cached_program_is_the_compiled_one_and_a_bad_cache_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let policy = SeccompPolicy::default();
    let fresh = compile(&policy).unwrap();
    let first = compile_cached(&policy, Some(dir.path())).unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    let cached = compile_cached(&policy, Some(dir.path())).unwrap();
    let same = |a: &BpfProgram, b: &BpfProgram| {
        a.filter.len() == b.filter.len()
            && a.filter
                .iter()
                .zip(&b.filter)
                .all(|(x, y)| (x.code, x.jt, x.jf, x.k) == (y.code, y.jt, y.jf, y.k))
    };
    assert!(same(&fresh, &first) && same(&fresh, &cached));
    // Another policy, another file.
    let userns = SeccompPolicy { allow_userns: true };
    assert_ne!(cache_key(&policy), cache_key(&userns));
    // A truncated file is not a program: rebuilt and rewritten.
    let path = files[0].path();
    std::fs::write(&path, [1u8, 2, 3]).unwrap();
    let rebuilt = compile_cached(&policy, Some(dir.path())).unwrap();
    assert!(same(&fresh, &rebuilt));
    assert_eq!(
        std::fs::read(&path).unwrap().len(),
        fresh.len() * INSTRUCTION_SIZE
    );
}

#[test]
fn compile_gives_a_nonempty_program_within_the_kernel_limit() {
    for policy in [
        SeccompPolicy::default(),
        SeccompPolicy { allow_userns: true },
    ] {
        let prog = compile(&policy).expect("compile");
        assert!(!prog.is_empty());
        assert!(
            prog.len() <= MAX_INSTRUCTIONS,
            "{} instructions",
            prog.len()
        );
    }
    assert!(userns_program().len() < default_program().len());
}

#[test]
fn to_program_refuses_a_partial_instruction() {
    assert!(matches!(
        to_program(&[0; 12]),
        Err(SeccompError::Malformed { len: 12 })
    ));
    assert!(matches!(
        to_program(&[]),
        Err(SeccompError::Malformed { len: 0 })
    ));
    let prog = to_program(&[0; 16]).expect("two instructions");
    assert_eq!(prog.len(), 2);
}

#[test]
fn describe_lists_the_rules_and_userns_drops_only_namespace_rules() {
    let default = describe(&SeccompPolicy::default());
    let userns = describe(&SeccompPolicy { allow_userns: true });
    let has = |rules: &[(String, String)], syscall: &str, action: &str| {
        rules.iter().any(|(s, a)| s == syscall && a == action)
    };

    assert!(has(&default, "keyctl", "EPERM"));
    assert!(has(&default, "clone3", "ENOSYS"));
    assert!(has(&default, "socket", "EAFNOSUPPORT if arg0 >= 17"));
    assert!(has(&default, "socket", "EAFNOSUPPORT if arg0 == 3"));
    assert!(!has(&default, "socket", "EAFNOSUPPORT if arg0 == 10"));
    assert!(has(
        &default,
        "ioctl",
        "EPERM if arg1 & 0xffffffff == 0x5412 (TIOCSTI)"
    ));
    assert!(has(
        &default,
        "clone",
        &format!("EPERM if arg{CLONE_FLAGS_ARG} & 0x10000000 == 0x10000000 (CLONE_NEWUSER)")
    ));
    assert!(has(
        &default,
        "personality",
        "EPERM if arg0 & 0x3 == 0x1 (neither PER_LINUX nor the query)"
    ));
    assert!(has(
        &default,
        "personality",
        "EPERM if arg0 >= 4294967296 (above 32 bits)"
    ));

    let dropped: Vec<_> = default
        .iter()
        .filter(|rule| !userns.contains(rule))
        .collect();
    assert_eq!(
        dropped.len(),
        3 + NAMESPACE_CLONE_FLAGS.len(),
        "{dropped:?}"
    );
    assert!(dropped
        .iter()
        .all(|(syscall, _)| ["unshare", "setns", "chroot", "clone"].contains(&syscall.as_str())));
    assert!(userns.iter().all(|rule| default.contains(rule)));
}

#[cfg(target_arch = "x86_64")]
#[test]
fn only_foreign_syscalls_are_skipped_on_x86_64() {
    let skipped: Vec<_> = rules(&SeccompPolicy::default())
        .iter()
        .map(|rule| rule.syscall)
        .filter(|&syscall| resolve(syscall).is_none())
        .collect();
    assert_eq!(skipped, ["umount", "vm86", "vm86old"]);
}

#[test]
fn refused_syscalls_fail_with_eperm() {
    let prog = default_program();
    // keyctl with an unknown operation fails with EOPNOTSUPP when unfiltered.
    let keyctl = || raw_syscall(libc::SYS_keyctl, [libc::c_ulong::MAX, 0, 0]);
    assert_eq!(run_in_child(Some(&prog), keyctl), failed(Errno::EPERM));
    // SAFETY: unshare(0) changes nothing.
    let unshare_nothing = || code(libc::c_long::from(unsafe { libc::unshare(0) }));
    assert_eq!(
        run_in_child(Some(&prog), unshare_nothing),
        failed(Errno::EPERM)
    );
    // setns on a bad descriptor fails with EBADF when unfiltered.
    let setns = || raw_syscall(libc::SYS_setns, [libc::c_ulong::MAX, 0, 0]);
    assert_eq!(run_in_child(Some(&prog), setns), failed(Errno::EPERM));
    // mount with null pointers fails with EFAULT when unfiltered.
    let mount = || raw_syscall(libc::SYS_mount, [0, 0, 0]);
    assert_eq!(run_in_child(Some(&prog), mount), failed(Errno::EPERM));
}

/// clone with CLONE_SIGHAND but not CLONE_VM fails with EINVAL before any namespace is made.
fn clone_with(flag: u64) -> i32 {
    let mut args = [0; 3];
    args[CLONE_FLAGS_ARG as usize] = libc::CLONE_SIGHAND as u64 | flag;
    raw_syscall(libc::SYS_clone, args)
}

#[test]
fn clone_with_namespace_flags_fails_with_eperm_and_fork_still_works() {
    let prog = default_program();
    for &(label, flag) in NAMESPACE_CLONE_FLAGS {
        assert_eq!(
            run_in_child(None, || clone_with(flag)),
            failed(Errno::EINVAL),
            "{label} unfiltered"
        );
        assert_eq!(
            run_in_child(Some(&prog), || clone_with(flag)),
            failed(Errno::EPERM),
            "{label}"
        );
    }

    let fork_and_wait = || {
        // SAFETY: the grandchild only calls `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: see `ExitOnUnwind`.
            unsafe { libc::_exit(7) }
        }
        if pid < 0 {
            return Errno::last() as i32;
        }
        let mut status = 0;
        // SAFETY: `status` is a valid place for the kernel to write to.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        if waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 7 {
            0
        } else {
            LEAKED
        }
    };
    assert_eq!(run_in_child(Some(&prog), fork_and_wait), SUCCEEDED);
}

extern "C" fn thread_body(_: *mut libc::c_void) -> *mut libc::c_void {
    std::ptr::null_mut()
}

#[test]
fn threads_start_through_the_clone3_fallback() {
    let prog = default_program();
    let start_thread = || {
        let mut thread = std::mem::MaybeUninit::<libc::pthread_t>::uninit();
        // SAFETY: `thread` is a valid place for the id, `thread_body` ignores its argument.
        let ret = unsafe {
            libc::pthread_create(
                thread.as_mut_ptr(),
                std::ptr::null(),
                thread_body,
                std::ptr::null_mut(),
            )
        };
        if ret != 0 {
            return ret;
        }
        // SAFETY: pthread_create succeeded, so `thread` holds the id of a thread that is
        // joined once, here.
        unsafe { libc::pthread_join(thread.assume_init(), std::ptr::null_mut()) }
    };
    assert_eq!(run_in_child(Some(&prog), start_thread), SUCCEEDED);
}

#[test]
fn clone3_fails_with_enosys() {
    let prog = default_program();
    // Null arguments with size 0: EINVAL when unfiltered.
    let clone3 = || raw_syscall(libc::SYS_clone3, [0, 0, 0]);
    assert_eq!(run_in_child(None, clone3), failed(Errno::EINVAL));
    assert_eq!(run_in_child(Some(&prog), clone3), failed(Errno::ENOSYS));
    let io_uring = || raw_syscall(libc::SYS_io_uring_setup, [0, 0, 0]);
    assert_eq!(run_in_child(Some(&prog), io_uring), failed(Errno::ENOSYS));
}

#[test]
fn terminal_injection_ioctls_fail_with_eperm_even_with_high_bits() {
    let prog = default_program();
    let bad_fd = libc::c_ulong::MAX; // -1
    for request in [
        TIOCSTI,
        0x1_0000_0000 | TIOCSTI,
        0xffff_ffff_0000_0000 | TIOCSTI,
        TIOCLINUX,
        0x8000_0000_0000_0000 | TIOCLINUX,
    ] {
        let ioctl = || raw_syscall(libc::SYS_ioctl, [bad_fd, request, 0]);
        assert_eq!(
            run_in_child(None, ioctl),
            failed(Errno::EBADF),
            "{request:#x} unfiltered"
        );
        assert_eq!(
            run_in_child(Some(&prog), ioctl),
            failed(Errno::EPERM),
            "{request:#x}"
        );
    }
    // Other requests reach the kernel.
    let tcgets = || raw_syscall(libc::SYS_ioctl, [bad_fd, TCGETS, 0]);
    assert_eq!(run_in_child(Some(&prog), tcgets), failed(Errno::EBADF));
}

#[test]
fn socket_families_outside_the_list_fail_with_eafnosupport() {
    let prog = default_program();
    for family in [
        libc::AF_PACKET as u64,
        libc::AF_BLUETOOTH as u64,
        libc::AF_KEY as u64,
        0x1_0000_0000 | libc::AF_PACKET as u64,
        0x1_0000_0000 | libc::AF_UNIX as u64,
    ] {
        let open = || socket(family, BAD_SOCKET_TYPE);
        assert_eq!(
            run_in_child(None, open),
            failed(Errno::EINVAL),
            "{family:#x} unfiltered"
        );
        assert_eq!(
            run_in_child(Some(&prog), open),
            failed(Errno::EAFNOSUPPORT),
            "{family:#x}"
        );
    }
    for &family in SOCKET_FAMILIES {
        let open = || socket(family, BAD_SOCKET_TYPE);
        assert_eq!(
            run_in_child(Some(&prog), open),
            failed(Errno::EINVAL),
            "{family}"
        );
    }
    let unix_socket = || socket(libc::AF_UNIX as u64, libc::SOCK_STREAM);
    assert_eq!(run_in_child(Some(&prog), unix_socket), SUCCEEDED);
}

#[test]
fn no_socket_family_gets_past_the_filter_as_a_refused_int() {
    let prog = default_program();
    let sweep = || {
        for high in [0, 1, 0x8000_0000, 0xffff_ffff_u64] {
            for low in (0..=64).chain([0x7fff_ffff, 0x8000_0000, 0xffff_ffff]) {
                let family = high << 32 | low;
                // The kernel sees the low 32 bits as an int; only an allowed one may pass.
                let as_int = low as u32 as i32;
                let passed = socket(family, BAD_SOCKET_TYPE) != Errno::EAFNOSUPPORT as i32;
                let allowed = u64::try_from(as_int)
                    .map(|seen| SOCKET_FAMILIES.contains(&seen))
                    .unwrap_or(false);
                if passed && !allowed {
                    return LEAKED;
                }
            }
        }
        0
    };
    assert_eq!(run_in_child(Some(&prog), sweep), SUCCEEDED);
}

#[test]
fn personality_allows_only_per_linux_and_the_query() {
    let prog = default_program();
    let set = |persona: libc::c_ulong| move || raw_syscall(libc::SYS_personality, [persona, 0, 0]);
    assert_eq!(run_in_child(Some(&prog), set(0)), SUCCEEDED);
    assert_eq!(run_in_child(Some(&prog), set(0xffff_ffff)), SUCCEEDED);
    assert_eq!(
        run_in_child(Some(&prog), set(0xffff_fffe)),
        failed(Errno::EPERM)
    );
    assert_eq!(
        run_in_child(Some(&prog), set(0x1_0000_0008)),
        failed(Errno::EPERM)
    );
    // PER_LINUX32
    assert_eq!(run_in_child(None, set(0x0008)), SUCCEEDED);
    assert_eq!(run_in_child(Some(&prog), set(0x0008)), failed(Errno::EPERM));
    // ADDR_NO_RANDOMIZE
    assert_eq!(
        run_in_child(Some(&prog), set(0x0040000)),
        failed(Errno::EPERM)
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn x32_syscalls_are_killed() {
    const X32_SYSCALL_BIT: libc::c_long = 0x4000_0000;
    let prog = default_program();
    let x32_getpid = || raw_syscall(X32_SYSCALL_BIT | libc::SYS_getpid, [0, 0, 0]);
    // Unfiltered, a kernel without x32 answers ENOSYS, one with it runs getpid.
    let unfiltered = run_in_child(None, x32_getpid);
    assert!(matches!(unfiltered, Outcome::Exited(_)), "{unfiltered:?}");
    assert_eq!(
        run_in_child(Some(&prog), x32_getpid),
        Outcome::Killed(Signal::SIGSYS)
    );
}

/// getpid through the i386 entry point.
#[cfg(target_arch = "x86_64")]
fn int80_getpid() -> i32 {
    const I386_GETPID: u32 = 20;
    let ret: u32;
    // SAFETY: `int 0x80` with eax = getpid takes no memory arguments; the kernel returns in
    // eax and, on older kernels, clobbers r8-r11.
    unsafe {
        std::arch::asm!(
            "int 0x80",
            inlateout("eax") I386_GETPID => ret,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
            options(nostack),
        );
    }
    if (ret as i32) < 0 {
        -(ret as i32)
    } else {
        0
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn i386_syscalls_are_killed_needs_ia32_emulation() {
    let unfiltered = run_in_child(None, int80_getpid);
    if unfiltered != SUCCEEDED {
        eprintln!("skipped: this kernel has no ia32 emulation (int 0x80 gave {unfiltered:?})");
        return;
    }
    let prog = default_program();
    assert_eq!(
        run_in_child(Some(&prog), int80_getpid),
        Outcome::Killed(Signal::SIGSYS)
    );
}

#[test]
fn allow_userns_leaves_namespace_calls_to_the_kernel() {
    let prog = userns_program();
    for &(label, flag) in NAMESPACE_CLONE_FLAGS {
        assert_eq!(
            run_in_child(Some(&prog), || clone_with(flag)),
            failed(Errno::EINVAL),
            "{label}"
        );
    }
    let setns = || raw_syscall(libc::SYS_setns, [libc::c_ulong::MAX, 0, 0]);
    assert_eq!(run_in_child(Some(&prog), setns), failed(Errno::EBADF));
    // Everything else stays refused.
    let keyctl = || raw_syscall(libc::SYS_keyctl, [libc::c_ulong::MAX, 0, 0]);
    assert_eq!(run_in_child(Some(&prog), keyctl), failed(Errno::EPERM));
    let mount = || raw_syscall(libc::SYS_mount, [0, 0, 0]);
    assert_eq!(run_in_child(Some(&prog), mount), failed(Errno::EPERM));
}

#[test]
fn allow_userns_lets_unshare_newuser_through_needs_userns() {
    // SAFETY: the child is single-threaded, so unshare(CLONE_NEWUSER) can succeed there.
    let unshare_user = || {
        code(libc::c_long::from(unsafe {
            libc::unshare(libc::CLONE_NEWUSER)
        }))
    };
    assert_eq!(
        run_in_child(Some(&default_program()), unshare_user),
        failed(Errno::EPERM)
    );
    let unfiltered = run_in_child(None, unshare_user);
    if unfiltered != SUCCEEDED {
        eprintln!("skipped: this host refuses user namespaces ({unfiltered:?})");
        return;
    }
    assert_eq!(
        run_in_child(Some(&userns_program()), unshare_user),
        SUCCEEDED
    );
}
