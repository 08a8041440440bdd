//! Seccomp: the syscall policy as data, compiled in the parent, installed last before `execve`.
//!
//! The default action is allow, as in Flatpak: the filter only closes the kernel interfaces a
//! desktop app has no business using and that have a history of sandbox escapes. Syscalls of
//! any other ABI than the native one (i386 via `int 0x80`, x32 on x86_64, arm32 on aarch64)
//! kill the process, since the rules below are written for native syscall numbers only.
//!
//! The program is built with libseccomp in the parent and exported as classic BPF, so that the
//! child only has to hand a ready buffer to the kernel: `install` does not allocate and is
//! safe to call between `fork` and `execve`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use libseccomp::error::SeccompError as ScmpError;
use libseccomp::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use nix::errno::Errno;
use nix::sys::memfd::{memfd_create, MFdFlags};

/// What the filter allows beyond the default policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeccompPolicy {
    /// Let the app create user namespaces (`unshare`, `setns`, `chroot`, namespace flags of
    /// `clone`): browsers build their own sandboxes with them.
    pub allow_userns: bool,
}

/// Why the filter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("cannot create a libseccomp filter context")]
    Context(#[source] ScmpError),
    #[error("cannot make libseccomp kill syscalls of foreign architectures (kill-process needs linux 4.14 or newer)")]
    BadArchAction(#[source] ScmpError),
    #[error("cannot add the seccomp rule for '{syscall}' ({action})")]
    Rule {
        syscall: &'static str,
        action: String,
        #[source]
        source: ScmpError,
    },
    #[error("cannot create a memfd to export the seccomp filter into")]
    Memfd(#[source] Errno),
    #[error("libseccomp cannot export the seccomp filter as bpf")]
    Export(#[source] ScmpError),
    #[error("cannot read back the exported seccomp filter")]
    ReadBack(#[source] std::io::Error),
    #[error("the exported seccomp filter is {len} bytes, not a non-empty whole number of {INSTRUCTION_SIZE}-byte bpf instructions")]
    Malformed { len: usize },
    #[error(
        "the seccomp filter has {len} bpf instructions, more than the kernel's limit of {max}"
    )]
    TooLong { len: usize, max: usize },
}

/// A compiled classic-BPF program, ready to install in a child after fork.
#[derive(Debug, Clone)]
pub struct BpfProgram {
    filter: Vec<libc::sock_filter>,
}

impl BpfProgram {
    /// The number of BPF instructions.
    pub fn len(&self) -> usize {
        self.filter.len()
    }

    /// Whether the program has no instructions (a compiled program never is).
    pub fn is_empty(&self) -> bool {
        self.filter.is_empty()
    }
}

/// Kernel interfaces refused with EPERM whatever the policy: the kernel log, keyrings, NUMA
/// placement, mounts, tracing other processes, perf and BPF, module and kernel loading, swap,
/// raw I/O ports, the clock and the host's names, file handles that bypass the mount tree.
const REFUSED: &[&str] = &[
    "syslog",
    "uselib",
    "acct",
    "quotactl",
    "quotactl_fd",
    "add_key",
    "keyctl",
    "request_key",
    "move_pages",
    "mbind",
    "get_mempolicy",
    "set_mempolicy",
    "set_mempolicy_home_node",
    "migrate_pages",
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "perf_event_open",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "modify_ldt",
    "bpf",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "reboot",
    "swapon",
    "swapoff",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "sethostname",
    "setdomainname",
    "open_by_handle_at",
    "lookup_dcookie",
    "pidfd_getfd",
    "process_madvise",
    "vm86",
    "vm86old",
    "nfsservctl",
];

/// Refused with EPERM unless the policy allows user namespaces: they enter or build namespaces.
const USERNS_SYSCALLS: &[&str] = &["unshare", "setns", "chroot"];

/// `clone` flags refused unless the policy allows user namespaces, one rule each.
/// CLONE_NEWTIME shares its bit with the exit signal in `clone`'s flags; no valid signal has
/// that bit, so refusing it costs nothing.
const NAMESPACE_CLONE_FLAGS: &[(&str, u64)] = &[
    ("CLONE_NEWNS", libc::CLONE_NEWNS as u64),
    ("CLONE_NEWUSER", libc::CLONE_NEWUSER as u64),
    ("CLONE_NEWPID", libc::CLONE_NEWPID as u64),
    ("CLONE_NEWNET", libc::CLONE_NEWNET as u64),
    ("CLONE_NEWUTS", libc::CLONE_NEWUTS as u64),
    ("CLONE_NEWIPC", libc::CLONE_NEWIPC as u64),
    ("CLONE_NEWCGROUP", libc::CLONE_NEWCGROUP as u64),
    ("CLONE_NEWTIME", libc::CLONE_NEWTIME as u64),
];

/// `clone`'s flags argument: s390 swaps the first two arguments.
const CLONE_FLAGS_ARG: u32 = if cfg!(target_arch = "s390x") { 1 } else { 0 };

/// `ioctl` requests that type into, or take over, the terminal the sandbox shares with the host.
const TTY_INJECTION_IOCTLS: &[(&str, u64)] = &[("TIOCSTI", TIOCSTI), ("TIOCLINUX", TIOCLINUX)];

// libc types ioctl requests as c_ulong on glibc and as c_int on musl; the filter wants u64.
#[allow(clippy::unnecessary_cast)]
const TIOCSTI: u64 = libc::TIOCSTI as u64;
#[allow(clippy::unnecessary_cast)]
const TIOCLINUX: u64 = libc::TIOCLINUX as u64;

/// The kernel takes `ioctl`'s request as an unsigned int: only the low 32 bits count.
const IOCTL_REQUEST_MASK: u64 = 0xffff_ffff;

/// The only persona an app may switch to is PER_LINUX (0): others weaken ASLR or change
/// syscall behaviour. `personality(0xffffffff)` changes nothing and returns the current persona: a query.
const PERSONALITY_QUERY: u64 = 0xffff_ffff;

/// Refused with ENOSYS, not EPERM, so that glibc and others fall back to older calls (`clone3`
/// to `clone`, whose flags the filter can see) or do without (the new mount API, io_uring).
const UNSUPPORTED: &[&str] = &[
    "clone3",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
];

/// Socket families an app may open; every other one fails with EAFNOSUPPORT.
const SOCKET_FAMILIES: &[u64] = &[
    libc::AF_UNSPEC as u64,
    libc::AF_UNIX as u64,
    libc::AF_INET as u64,
    libc::AF_INET6 as u64,
    libc::AF_NETLINK as u64,
];

/// The size of one `struct sock_filter` as the kernel and libseccomp lay it out.
const INSTRUCTION_SIZE: usize = std::mem::size_of::<libc::sock_filter>();

/// The kernel's limit on the length of one classic-BPF program.
const MAX_INSTRUCTIONS: usize = libc::BPF_MAXINSNS as usize;

/// One line of the policy: `syscall` fails with `errno` when `condition` holds, or always.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    syscall: &'static str,
    errno: Errno,
    condition: Option<ArgCondition>,
}

impl std::hash::Hash for Rule {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.syscall.hash(state);
        (self.errno as i32).hash(state);
        self.condition.hash(state);
    }
}

/// A test of one syscall argument, compared over all 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ArgCondition {
    arg: u32,
    test: ArgTest,
    /// The name of the constant tested, for `describe`.
    label: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ArgTest {
    Equal(u64),
    AtLeast(u64),
    /// `arg & mask == value`
    MaskedEqual {
        mask: u64,
        value: u64,
    },
}

impl Rule {
    fn always(syscall: &'static str, errno: Errno) -> Self {
        Self {
            syscall,
            errno,
            condition: None,
        }
    }

    fn when(syscall: &'static str, errno: Errno, condition: ArgCondition) -> Self {
        Self {
            syscall,
            errno,
            condition: Some(condition),
        }
    }

    /// "EPERM", or "EPERM if arg0 & 0x10000000 == 0x10000000 (CLONE_NEWUSER)".
    fn action_description(&self) -> String {
        let errno = format!("{:?}", self.errno);
        let Some(condition) = self.condition else {
            return errno;
        };
        let arg = condition.arg;
        let test = match condition.test {
            ArgTest::Equal(value) => format!("arg{arg} == {value}"),
            ArgTest::AtLeast(value) => format!("arg{arg} >= {value}"),
            ArgTest::MaskedEqual { mask, value } => {
                format!("arg{arg} & {mask:#x} == {value:#x}")
            }
        };
        match condition.label {
            Some(label) => format!("{errno} if {test} ({label})"),
            None => format!("{errno} if {test}"),
        }
    }
}

impl ArgCondition {
    fn to_scmp(self) -> ScmpArgCompare {
        match self.test {
            ArgTest::Equal(value) => ScmpArgCompare::new(self.arg, ScmpCompareOp::Equal, value),
            ArgTest::AtLeast(value) => {
                ScmpArgCompare::new(self.arg, ScmpCompareOp::GreaterEqual, value)
            }
            ArgTest::MaskedEqual { mask, value } => {
                ScmpArgCompare::new(self.arg, ScmpCompareOp::MaskedEqual(mask), value)
            }
        }
    }
}

/// The whole policy, in the order `describe` lists it.
fn rules(policy: &SeccompPolicy) -> Vec<Rule> {
    let mut rules: Vec<Rule> = REFUSED
        .iter()
        .map(|&syscall| Rule::always(syscall, Errno::EPERM))
        .collect();

    if !policy.allow_userns {
        rules.extend(
            USERNS_SYSCALLS
                .iter()
                .map(|&syscall| Rule::always(syscall, Errno::EPERM)),
        );
        rules.extend(NAMESPACE_CLONE_FLAGS.iter().map(|&(label, flag)| {
            Rule::when(
                "clone",
                Errno::EPERM,
                ArgCondition {
                    arg: CLONE_FLAGS_ARG,
                    test: ArgTest::MaskedEqual {
                        mask: flag,
                        value: flag,
                    },
                    label: Some(label),
                },
            )
        }));
    }

    rules.extend(TTY_INJECTION_IOCTLS.iter().map(|&(label, request)| {
        Rule::when(
            "ioctl",
            Errno::EPERM,
            ArgCondition {
                arg: 1,
                test: ArgTest::MaskedEqual {
                    mask: IOCTL_REQUEST_MASK,
                    value: request,
                },
                label: Some(label),
            },
        )
    }));

    rules.extend(personality_rules());

    rules.extend(
        UNSUPPORTED
            .iter()
            .map(|&syscall| Rule::always(syscall, Errno::ENOSYS)),
    );

    rules.extend(socket_family_rules());
    rules
}

/// Refuses every persona but PER_LINUX (0) and the query (0xffffffff), which the kernel
/// reads as an unsigned int. libseccomp takes one comparison per argument in a rule, so
/// the refused range is a union: any value above 32 bits, and any 32-bit value with a bit
/// set and the next bit (cyclically) clear, which is every value but 0 and 0xffffffff
/// (going round the 32 bits of such a value, a set bit must be followed by a clear one).
fn personality_rules() -> Vec<Rule> {
    let refuse = |test, label| {
        Rule::when(
            "personality",
            Errno::EPERM,
            ArgCondition {
                arg: 0,
                test,
                label,
            },
        )
    };
    std::iter::once(refuse(
        ArgTest::AtLeast(PERSONALITY_QUERY + 1),
        Some("above 32 bits"),
    ))
    .chain((0..32).map(|bit| {
        let set = 1u64 << bit;
        let next = 1u64 << ((bit + 1) % 32);
        refuse(
            ArgTest::MaskedEqual {
                mask: set | next,
                value: set,
            },
            (bit == 0).then_some("neither PER_LINUX nor the query"),
        )
    }))
    .collect()
}

/// Refuses every socket family but `SOCKET_FAMILIES`: one rule per refused value below the
/// highest allowed one, and one for everything above it.
///
/// Arguments are compared over 64 bits while the kernel truncates the family to an int. That
/// leaves no way around the rules: a value with any of the high 32 bits set is above the
/// highest allowed family and is refused, so only the exact allowed values get through.
fn socket_family_rules() -> Vec<Rule> {
    let highest = SOCKET_FAMILIES.iter().copied().max().unwrap_or(0);
    let refuse = |test| {
        Rule::when(
            "socket",
            Errno::EAFNOSUPPORT,
            ArgCondition {
                arg: 0,
                test,
                label: None,
            },
        )
    };
    (0..highest)
        .filter(|family| !SOCKET_FAMILIES.contains(family))
        .map(|family| refuse(ArgTest::Equal(family)))
        .chain(std::iter::once(refuse(ArgTest::AtLeast(highest + 1))))
        .collect()
}

/// The native number of `name`, or `None` where this architecture has no such syscall.
///
/// libseccomp gives a negative pseudo-number for a name it knows only on other architectures
/// (`umount`, `vm86` on x86_64) and an error for a name it does not know at all.
fn resolve(name: &str) -> Option<ScmpSyscall> {
    let syscall = ScmpSyscall::from_name(name).ok()?;
    (syscall.as_raw_syscall() >= 0).then_some(syscall)
}

/// Builds the filter with libseccomp and exports it as BPF (done once, in the parent, before fork).
pub fn compile(policy: &SeccompPolicy) -> Result<BpfProgram, SeccompError> {
    // The context holds the native architecture only; libseccomp's program sends any other
    // audit arch to the bad-arch action, and on x86_64 also the x32 numbers (bit 30 set),
    // which share x86_64's audit arch (the tests check both in a child).
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).map_err(SeccompError::Context)?;
    ctx.set_act_badarch(ScmpAction::KillProcess)
        .map_err(SeccompError::BadArchAction)?;

    for rule in rules(policy) {
        let Some(syscall) = resolve(rule.syscall) else {
            continue;
        };
        let action = ScmpAction::Errno(rule.errno as i32);
        let added = match rule.condition {
            None => ctx.add_rule(action, syscall),
            Some(condition) => ctx.add_rule_conditional(action, syscall, &[condition.to_scmp()]),
        };
        added.map_err(|source| SeccompError::Rule {
            syscall: rule.syscall,
            action: rule.action_description(),
            source,
        })?;
    }

    let bytes = export_bpf(&ctx)?;
    to_program(&bytes)
}

/// What the sandbox's pid 1 may call once the app runs: its loop waits for children,
/// passes signals on to the app, closes its end of the start-up report, writes how the app
/// ended to its supervisor, and exits.
/// Everything else fails with EPERM, so that even code run in pid 1 could do nothing more.
const INIT_ALLOWED: &[&str] = &[
    "wait4",
    "waitid",
    "kill",
    "write",
    "close",
    "rt_sigreturn",
    "restart_syscall",
    "exit",
    "exit_group",
];

/// pid 1's filter: an allowlist (`INIT_ALLOWED`), stricter than the app's.
pub fn compile_init() -> Result<BpfProgram, SeccompError> {
    let mut ctx =
        ScmpFilterContext::new(ScmpAction::Errno(libc::EPERM)).map_err(SeccompError::Context)?;
    ctx.set_act_badarch(ScmpAction::KillProcess)
        .map_err(SeccompError::BadArchAction)?;
    for &name in INIT_ALLOWED {
        let Some(syscall) = resolve(name) else {
            continue;
        };
        ctx.add_rule(ScmpAction::Allow, syscall)
            .map_err(|source| SeccompError::Rule {
                syscall: name,
                action: "allow".into(),
                source,
            })?;
    }
    let bytes = export_bpf(&ctx)?;
    to_program(&bytes)
}

/// `compile_init`, kept in `cache_dir` as `compile_cached` keeps the app's.
pub fn compile_init_cached(
    cache_dir: Option<&std::path::Path>,
) -> Result<BpfProgram, SeccompError> {
    let key = {
        use std::hash::{Hash, Hasher};
        let mut hasher = base_hasher();
        "init".hash(&mut hasher);
        INIT_ALLOWED.hash(&mut hasher);
        hasher.finish()
    };
    cached(cache_dir, key, compile_init)
}

/// `compile`, with the program kept in `cache_dir` (a folder only the user can write,
/// never visible inside a sandbox: `$XDG_RUNTIME_DIR/boxtop`) under a name that hashes
/// everything it depends on: the policy's rules, boxtop's version, libseccomp's version,
/// the architecture and the kernel. Building the filter costs libseccomp a dozen probing
/// syscalls and a rule database on every launch; reading it back costs one file read. A
/// cached file that does not parse as a program is rebuilt.
pub fn compile_cached(
    policy: &SeccompPolicy,
    cache_dir: Option<&std::path::Path>,
) -> Result<BpfProgram, SeccompError> {
    cached(cache_dir, cache_key(policy), || compile(policy))
}

/// The program stored in `cache_dir` under `key`, or `build`'s, then stored.
fn cached(
    cache_dir: Option<&std::path::Path>,
    key: u64,
    build: impl FnOnce() -> Result<BpfProgram, SeccompError>,
) -> Result<BpfProgram, SeccompError> {
    let Some(dir) = cache_dir else {
        return build();
    };
    let path = dir.join(format!("seccomp-{key:016x}.bpf"));
    if let Ok(bytes) = std::fs::read(&path) {
        if let Ok(program) = to_program(&bytes) {
            return Ok(program);
        }
    }
    let program = build()?;
    let bytes: Vec<u8> = program
        .filter
        .iter()
        .flat_map(|insn| {
            let mut out = Vec::with_capacity(INSTRUCTION_SIZE);
            out.extend_from_slice(&insn.code.to_ne_bytes());
            out.push(insn.jt);
            out.push(insn.jf);
            out.extend_from_slice(&insn.k.to_ne_bytes());
            out
        })
        .collect();
    // A cache that cannot be written only costs the next launch the compile.
    let _ = crate::atomic::write_atomic_volatile(&path, &bytes);
    Ok(program)
}

/// FNV-1a over what the compiled program depends on (the rules hashed field by field:
/// formatting them was a noticeable part of a launch).
fn cache_key(policy: &SeccompPolicy) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = base_hasher();
    rules(policy).hash(&mut hasher);
    hasher.finish()
}

/// A hasher fed with what every compiled program depends on besides its rules.
fn base_hasher() -> Fnv1a {
    use std::hash::{Hash, Hasher};
    let mut hasher = Fnv1a::default();
    hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
    if let Ok(v) = libseccomp::ScmpVersion::current() {
        (v.major, v.minor, v.micro).hash(&mut hasher);
    }
    hasher.write(std::env::consts::ARCH.as_bytes());
    if let Ok(uname) = nix::sys::utsname::uname() {
        hasher.write(std::os::unix::ffi::OsStrExt::as_bytes(uname.release()));
    }
    hasher
}

/// FNV-1a: the same value for the same input in every run and build.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Exports the program through a memfd: libseccomp 2.5 only writes BPF to a file descriptor.
fn export_bpf(ctx: &ScmpFilterContext) -> Result<Vec<u8>, SeccompError> {
    let fd = memfd_create(c"boxtop-seccomp", MFdFlags::MFD_CLOEXEC).map_err(SeccompError::Memfd)?;
    let mut file = File::from(fd);
    ctx.export_bpf(&file).map_err(SeccompError::Export)?;
    file.seek(SeekFrom::Start(0))
        .map_err(SeccompError::ReadBack)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(SeccompError::ReadBack)?;
    Ok(bytes)
}

/// Turns libseccomp's output, `struct sock_filter`s in native byte order, into instructions.
fn to_program(bytes: &[u8]) -> Result<BpfProgram, SeccompError> {
    let malformed = || SeccompError::Malformed { len: bytes.len() };
    if bytes.is_empty() || !bytes.len().is_multiple_of(INSTRUCTION_SIZE) {
        return Err(malformed());
    }
    let filter = bytes
        .chunks_exact(INSTRUCTION_SIZE)
        .map(|chunk| match *chunk {
            [c0, c1, jt, jf, k0, k1, k2, k3] => Ok(libc::sock_filter {
                code: u16::from_ne_bytes([c0, c1]),
                jt,
                jf,
                k: u32::from_ne_bytes([k0, k1, k2, k3]),
            }),
            _ => Err(malformed()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if filter.len() > MAX_INSTRUCTIONS {
        return Err(SeccompError::TooLong {
            len: filter.len(),
            max: MAX_INSTRUCTIONS,
        });
    }
    Ok(BpfProgram { filter })
}

/// Installs the program in the calling thread with seccomp(SECCOMP_SET_MODE_FILTER), or
/// prctl(PR_SET_SECCOMP) on kernels without seccomp(2).
///
/// Does not allocate: it is called in a forked child right before `execve`. Requires
/// no_new_privs to be set already (else the kernel answers EACCES unless the caller has
/// CAP_SYS_ADMIN). The filter cannot be removed afterwards.
pub fn install(prog: &BpfProgram) -> Result<(), Errno> {
    let len = u16::try_from(prog.filter.len()).map_err(|_| Errno::EINVAL)?;
    let fprog = libc::sock_fprog {
        len,
        filter: prog.filter.as_ptr().cast_mut(),
    };
    let fprog_ptr: *const libc::sock_fprog = &fprog;

    // SAFETY: `fprog` points at `len` initialised instructions owned by `prog`, which outlives
    // the call; the kernel copies the program and never writes through the pointer.
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

/// The rules as data, for docs and for tests: (syscall name, action description) pairs.
///
/// One pair per rule, in policy order, e.g. `("keyctl", "EPERM")` or
/// `("socket", "EAFNOSUPPORT if arg0 >= 17")`. The list is the same on every architecture;
/// `compile` skips the syscalls the native one does not have. Everything not listed is allowed,
/// and syscalls of a foreign ABI kill the process.
pub fn describe(policy: &SeccompPolicy) -> Vec<(String, String)> {
    rules(policy)
        .iter()
        .map(|rule| (rule.syscall.to_owned(), rule.action_description()))
        .collect()
}

#[cfg(test)]
mod tests {
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
        assert!(dropped.iter().all(
            |(syscall, _)| ["unshare", "setns", "chroot", "clone"].contains(&syscall.as_str())
        ));
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
        let set =
            |persona: libc::c_ulong| move || raw_syscall(libc::SYS_personality, [persona, 0, 0]);
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
}
