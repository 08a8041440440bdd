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
    crate::sys::seccomp::install(&prog.filter)
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

// The tests probe the installed filter with raw system calls of every kind from forked
// children of the (multi-threaded) test harness: test code, not the runtime, and the one
// place outside `sys` allowed `unsafe`.
#[cfg(test)]
#[allow(unsafe_code)]
mod tests;
