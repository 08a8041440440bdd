//! Landlock, the second wall: the app may open only what its plan puts in the sandbox,
//! with the rights the plan gives it, even if a mount that the plan does not hold were
//! there; and on Landlock ABI 6 it may neither connect to abstract unix sockets nor
//! signal processes outside its own Landlock domain. The rule list is computed from the
//! plan (pure, `rules`), stored in the instance's state record for `boxtop enter`, and
//! applied by each process right before its seccomp filter (`restrict_self`).
//!
//! Landlock rights only add up along a path: a read-only share below the read-write home
//! gets the home's rights, and stays read-only through its mount flags. What Landlock
//! adds is that nothing outside the listed paths is reachable at all.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use landlock::{
    Access, AccessFs, BitFlags, CompatLevel, Compatible, PathBeneath, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope, ABI,
};
use nix::errno::Errno;
use serde::{Deserialize, Serialize};

use super::plan::{Plan, Step};
use crate::profile::{Access as Mode, Network};

/// The ABI whose rights boxtop asks for; newer kernels are used at this level, older
/// ones get what they support (the crate's best-effort mode).
const TESTED_ABI: ABI = ABI::V6;

/// What a rule allows on its path and everything beneath it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allow {
    /// List a folder the plan makes on the read-only root (`/etc`, `/home`...).
    List,
    /// Read a file the plan writes or copies.
    ReadFile,
    /// Read, list and run programs: read-only binds.
    ReadExec,
    /// Everything but making device nodes: read-write binds and the sandbox's tmpfs.
    ReadWrite,
    /// Read and write existing files, list folders: `/proc` (mounted noexec).
    Proc,
    /// Read, write and ioctl: device nodes and the sandbox's devpts (mounted noexec).
    Device,
    /// `Device` and listing: the sandbox's `/dev`, which holds only the nodes the plan
    /// binds there (nothing can make a node in it, nor a file: no `Make*` right).
    Devices,
}

impl Allow {
    /// The Landlock rights, at the tested ABI (the crate drops what a kernel lacks).
    pub fn access(self) -> BitFlags<AccessFs> {
        let read = AccessFs::ReadFile | AccessFs::ReadDir;
        match self {
            Allow::List => AccessFs::ReadDir.into(),
            Allow::ReadFile => AccessFs::ReadFile.into(),
            Allow::ReadExec => read | AccessFs::Execute,
            Allow::ReadWrite => {
                AccessFs::from_all(TESTED_ABI) & !(AccessFs::MakeChar | AccessFs::MakeBlock)
            }
            // A shell's `> /proc/self/...` opens with O_TRUNC.
            Allow::Proc => read | AccessFs::WriteFile | AccessFs::Truncate,
            Allow::Device => read | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev,
            Allow::Devices => Allow::Device.access() | AccessFs::ReadDir,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Allow::List => "list",
            Allow::ReadFile => "read-file",
            Allow::ReadExec => "read-exec",
            Allow::ReadWrite => "read-write",
            Allow::Proc => "proc",
            Allow::Device => "device",
            Allow::Devices => "devices",
        }
    }
}

/// One path and what may be done beneath it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub path: PathBuf,
    pub allow: Allow,
}

/// Everything a process of the sandbox restricts itself with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    pub paths: Vec<Rule>,
    /// Abstract unix sockets of other Landlock domains are refused (ABI 6). Off only for
    /// the host network with an X11 display: libxcb tries the server's abstract socket
    /// first and gives up on EPERM instead of trying the path socket the grant binds.
    pub scope_abstract_sockets: bool,
}

impl std::fmt::Display for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for rule in &self.paths {
            writeln!(f, "{:<10} {}", rule.allow.as_str(), rule.path.display())?;
        }
        let sockets = if self.scope_abstract_sockets {
            "abstract-unix-socket "
        } else {
            ""
        };
        writeln!(f, "scope      {sockets}signal")
    }
}

/// The rules that mirror a plan's filesystem steps: each mount and each file the plan
/// makes, with the rights its mount gives, and the folders between them listable.
/// Nothing is allowed on `/` itself, so a path the plan does not name stays unreachable.
pub fn rules(plan: &Plan) -> Rules {
    let mut paths: Vec<Rule> = Vec::new();
    let mut push = |path: &Path, allow: Allow| {
        // Some sixty rules: comparing bytes beats hashing paths component by component.
        let bytes = path.as_os_str().as_bytes();
        if !paths
            .iter()
            .any(|rule| rule.allow == allow && rule.path.as_os_str().as_bytes() == bytes)
        {
            paths.push(Rule {
                path: path.to_path_buf(),
                allow,
            });
        }
    };
    for step in &plan.steps {
        match step {
            // `/dev` holds only the nodes and links the plan puts there: one rule for all
            // (fewer rules, a faster start); `/dev/shm` has a rule of its own.
            Step::Tmpfs { dest, .. } if dest == Path::new("/dev") => push(dest, Allow::Devices),
            Step::Tmpfs { dest, .. } => push(dest, Allow::ReadWrite),
            // `/etc` on the read-only root holds only what the plan writes, copies, links
            // or binds read-only there: one rule for all.
            Step::Dir { dest, .. } if dest == Path::new("/etc") => push(dest, Allow::ReadExec),
            Step::Dir { dest, .. } => push(dest, Allow::List),
            Step::Bind {
                dest,
                access,
                device,
                ..
            } => {
                // The executor makes the folders leading to a bind; they are listable.
                for parent in between_root_and(dest) {
                    push(parent, Allow::List);
                }
                let allow = match (device, access) {
                    (true, _) => Allow::Device,
                    (false, Mode::Ro) => Allow::ReadExec,
                    (false, Mode::Rw) => Allow::ReadWrite,
                };
                push(dest, allow);
            }
            Step::Copy { dest, .. } | Step::File { dest, .. } => push(dest, Allow::ReadFile),
            Step::Proc { dest } => push(dest, Allow::Proc),
            Step::Devpts { dest } => push(dest, Allow::Device),
            // A link's target has a rule of its own; a read-only bind of a path inside
            // is beneath its mount's rule; the root itself gets none.
            Step::Symlink { .. } | Step::ReadOnly { .. } | Step::RemountRootReadOnly => {}
        }
    }
    let paths = without_redundant(paths);
    let x11 = plan.env.iter().any(|(name, _)| name == "DISPLAY");
    Rules {
        paths,
        scope_abstract_sockets: !(plan.network == Network::Host && x11),
    }
}

/// The folders strictly between `/` and `path`.
fn between_root_and(path: &Path) -> Vec<&Path> {
    let mut parents: Vec<&Path> = path
        .ancestors()
        .skip(1)
        .filter(|parent| parent.parent().is_some())
        .collect();
    parents.reverse();
    parents
}

/// Drops rules that a rule on the same path or above already covers. Besides being
/// shorter, this means that no rule is looked up below a writable folder unless it is a
/// mount point there (which an app cannot move or replace).
fn without_redundant(paths: Vec<Rule>) -> Vec<Rule> {
    // Each rule looks only at the rules on its own path and its ancestors' (a launch
    // plans some sixty rules; comparing every pair cost more than the rest of planning).
    let mut by_path: HashMap<&[u8], Vec<(usize, Allow)>> = HashMap::new();
    for (i, rule) in paths.iter().enumerate() {
        by_path
            .entry(rule.path.as_os_str().as_bytes())
            .or_default()
            .push((i, rule.allow));
    }
    let covered = |i: usize, rule: &Rule| {
        let wanted = rule.allow.access();
        let own = rule.path.as_os_str().as_bytes();
        ancestors(own).any(|above| {
            by_path.get(above).is_some_and(|rules| {
                rules.iter().any(|&(j, allow)| {
                    // Of two equal rules, the first is kept.
                    allow.access().contains(wanted)
                        && (above != own || allow != rule.allow || j < i)
                })
            })
        })
    };
    paths
        .iter()
        .enumerate()
        .filter(|(i, rule)| !covered(*i, rule))
        .map(|(_, rule)| rule.clone())
        .collect()
}

/// `path` (absolute, normalized, as plans hold them) and each folder above it, up to `/`.
fn ancestors(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.iter().rposition(|byte| *byte == b'/') {
            _ if current == b"/" => None,
            Some(0) => Some(&b"/"[..]),
            Some(at) => Some(&current[..at]),
            None => None,
        };
        Some(current)
    })
}

/// The rules a launch of `plan` applies: `None` when Landlock is switched off (debug
/// builds only, `BOXTOP_TEST_NO_LANDLOCK=1`, so that tests can show what it adds).
pub fn for_launch(plan: &Plan) -> Option<Rules> {
    #[cfg(debug_assertions)]
    if std::env::var_os("BOXTOP_TEST_NO_LANDLOCK").is_some_and(|v| v == "1") {
        return None;
    }
    Some(rules(plan))
}

/// Debug builds only: `BOXTOP_TEST_EXTRA_BIND=HOSTPATH:SANDBOXPATH` adds a read-only
/// bind that the Landlock rules do not know of, as a mistake in the mount plan would,
/// so that tests can show the second wall holding on its own. Read by boxtop before the
/// sandbox starts; the sandbox's environment is rebuilt from an allowlist without it.
#[cfg(debug_assertions)]
pub fn add_test_extra_bind(steps: &mut Vec<Step>) {
    let Some(value) = std::env::var_os("BOXTOP_TEST_EXTRA_BIND") else {
        return;
    };
    let value = value.to_string_lossy();
    let Some((src, dest)) = value.split_once(':') else {
        return;
    };
    let at = steps
        .iter()
        .position(|step| *step == Step::RemountRootReadOnly)
        .unwrap_or(steps.len());
    steps.insert(
        at,
        Step::Bind {
            src: src.into(),
            dest: dest.into(),
            access: Mode::Ro,
            device: false,
            pinned: false,
        },
    );
}

/// What Landlock can do on this kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// The kernel is built without Landlock.
    NotBuilt,
    /// Built in, but not in the active LSM list.
    NotEnabled,
    Abi(i32),
}

impl Support {
    /// Asks the kernel (`landlock_create_ruleset` with `LANDLOCK_CREATE_RULESET_VERSION`).
    pub fn detect() -> Support {
        match crate::sys::landlock::abi_version() {
            Ok(abi) => Support::Abi(abi),
            Err(Errno::EOPNOTSUPP) => Support::NotEnabled,
            Err(_) => Support::NotBuilt,
        }
    }

    /// Filesystem rules are applied from ABI 2: ABI 1 refuses every move of a file
    /// between folders, which breaks apps.
    pub fn has_filesystem_rules(self) -> bool {
        matches!(self, Support::Abi(abi) if abi >= 2)
    }

    /// Abstract unix sockets and signals are scoped from ABI 6 (Linux 6.12).
    pub fn has_scopes(self) -> bool {
        matches!(self, Support::Abi(abi) if abi >= 6)
    }

    /// One line for `boxtop doctor` and `boxtop show`.
    pub fn describe(self) -> String {
        match self {
            Support::NotBuilt => "not available: this kernel is built without Landlock \
                 (Linux 5.19 or later with CONFIG_SECURITY_LANDLOCK); only the mount plan \
                 limits what the app reaches"
                .into(),
            Support::NotEnabled => "not available: Landlock is built in but not enabled; add \
                 `landlock` to the `lsm=` kernel parameter"
                .into(),
            Support::Abi(1) => "Landlock ABI 1: not used (it would refuse moving files between \
                 folders; Linux 5.19 has ABI 2)"
                .into(),
            Support::Abi(abi) if abi < 6 => format!(
                "Landlock ABI {abi}: filesystem rules; abstract sockets and signals not scoped \
                 (Linux 6.12 has ABI 6)"
            ),
            Support::Abi(abi) => {
                format!("Landlock ABI {abi}: filesystem rules, abstract sockets and signals scoped")
            }
        }
    }
}

/// Restricts the calling process with `rules`, in the sandbox's root: each path is
/// opened here, without following symlinks (a link planted by the app cannot point a
/// rule elsewhere); a path that is not there is skipped (nothing to allow). Needs
/// no_new_privs. Does nothing where Landlock is missing or ABI 1.
pub fn restrict_self(rules: &Rules) -> Result<(), (&'static str, Errno)> {
    let support = Support::detect();
    if !support.has_filesystem_rules() {
        return Ok(());
    }
    let mut scopes = BitFlags::from(Scope::Signal);
    if rules.scope_abstract_sockets {
        scopes |= Scope::AbstractUnixSocket;
    }
    let failed = |what| move |err: landlock::RulesetError| (what, errno_of(&err));
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(TESTED_ABI))
        .map_err(failed("Landlock: handling filesystem rights"))?
        .scope(scopes)
        .map_err(failed("Landlock: scoping sockets and signals"))?
        .create()
        .map_err(failed("Landlock: creating the ruleset"))?;
    for rule in &rules.paths {
        let fd = match open_no_symlinks(&rule.path) {
            Ok(fd) => fd,
            Err(Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP | Errno::EACCES | Errno::EXDEV) => {
                continue
            }
            Err(errno) => return Err(("Landlock: opening a rule's path", errno)),
        };
        (&mut ruleset)
            .add_rule(PathBeneath::new(fd, rule.allow.access()))
            .map_err(failed("Landlock: adding a rule"))?;
    }
    for fd in 0..=2 {
        // A closed fd makes `stdio_access` return `None`. Pipes and sockets have no path
        // to reopen: the kernel refuses a rule on them.
        crate::sys::fd::with_stdio(fd, |fd| {
            if let Some(access) = stdio_access(fd) {
                let _ = (&mut ruleset).add_rule(PathBeneath::new(fd, access));
            }
        });
    }
    ruleset
        .restrict_self()
        .map_err(failed("Landlock: restricting the process"))?;
    Ok(())
}

/// The rights to reopen standard stream `fd` (`/dev/stdout`, `/proc/self/fd/1`) as it
/// is open: a terminal or a file of the host is outside every rule, and scripts write
/// to `/dev/stderr`. Never more than the open mode; `None` for a closed fd or a folder.
fn stdio_access(borrowed: std::os::fd::BorrowedFd) -> Option<BitFlags<AccessFs>> {
    use nix::sys::stat::SFlag;
    let flags = nix::fcntl::fcntl(borrowed, nix::fcntl::FcntlArg::F_GETFL).ok()?;
    let stat = nix::sys::stat::fstat(borrowed).ok()?;
    let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
    if kind == SFlag::S_IFDIR {
        return None;
    }
    let mut access = match flags & libc::O_ACCMODE {
        libc::O_RDONLY => BitFlags::from(AccessFs::ReadFile),
        libc::O_WRONLY => AccessFs::WriteFile | AccessFs::Truncate,
        _ => AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate,
    };
    if kind == SFlag::S_IFCHR {
        access |= AccessFs::IoctlDev;
    }
    Some(access)
}

/// The errno behind a Landlock error, EINVAL when it has none.
fn errno_of(err: &(dyn std::error::Error + 'static)) -> Errno {
    let mut source = Some(err);
    while let Some(err) = source {
        if let Some(code) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::raw_os_error)
        {
            return Errno::from_raw(code);
        }
        source = err.source();
    }
    Errno::EINVAL
}

use crate::sys::landlock::open_no_symlinks;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::plan::PlanInput;

    #[test]
    fn ancestors_go_up_to_the_root() {
        let up: Vec<&[u8]> = ancestors(b"/home/ada/Music").collect();
        assert_eq!(up, [&b"/home/ada/Music"[..], b"/home/ada", b"/home", b"/"]);
        assert_eq!(ancestors(b"/").collect::<Vec<_>>(), [&b"/"[..]]);
    }

    fn plan_of(edit: impl FnOnce(&mut crate::profile::Profile)) -> Plan {
        let mut profile = crate::sandbox::plan::tests::test_profile();
        edit(&mut profile);
        Plan::new(
            &profile,
            &crate::sandbox::plan::tests::test_host(),
            &PlanInput::default(),
        )
        .unwrap()
    }

    #[test]
    fn rules_mirror_the_plan() {
        let plan = plan_of(|_| {});
        insta::assert_snapshot!("rules_of_a_plain_plan", rules(&plan).to_string());
    }

    #[test]
    fn nothing_is_allowed_on_the_root_and_unplanned_paths_stay_uncovered() {
        let plan = plan_of(|profile| profile.network = Network::Host);
        let rules = rules(&plan);
        assert!(rules.paths.iter().all(|rule| rule.path != Path::new("/")));
        let covering = |path: &str| -> Vec<Allow> {
            rules
                .paths
                .iter()
                .filter(|rule| Path::new(path).starts_with(&rule.path))
                .map(|rule| rule.allow)
                .collect()
        };
        for outside in ["/mnt/extra", "/opt/extra", "/srv", "/root"] {
            assert_eq!(covering(outside), [], "{outside} is covered: {rules}");
        }
        // Another user's home could be listed if it were there, never read.
        assert_eq!(covering("/home/other"), [Allow::List]);
        assert!(rules.scope_abstract_sockets);
    }

    #[test]
    fn writable_places_are_the_home_the_tmpfs_mounts_and_rw_shares() {
        let mut profile = crate::sandbox::plan::tests::test_profile();
        profile.home.ephemeral = false;
        let input = PlanInput {
            shares: vec![crate::sandbox::host::ResolvedShare {
                rel: "Music".into(),
                real: "/home/ada/Music".into(),
                access: Mode::Ro,
                is_dir: true,
            }],
            binds: vec![crate::profile::Bind {
                path: "/srv/data".into(),
                mode: Mode::Rw,
                optional: false,
            }],
            ..PlanInput::default()
        };
        let plan = Plan::new(&profile, &crate::sandbox::plan::tests::test_host(), &input).unwrap();
        let rules = rules(&plan);
        let writable: Vec<String> = rules
            .paths
            .iter()
            .filter(|rule| rule.allow.access().contains(AccessFs::WriteFile))
            .map(|rule| format!("{} {}", rule.allow.as_str(), rule.path.display()))
            .collect();
        assert_eq!(
            writable,
            [
                "proc /proc",
                "devices /dev",
                "read-write /dev/shm",
                "read-write /tmp",
                "read-write /run",
                "read-write /home/ada",
                "read-write /srv/data",
            ]
        );
        // The read-only share below the home adds nothing to the home's rule.
        assert!(!rules
            .paths
            .iter()
            .any(|rule| rule.path == Path::new("/home/ada/Music")));
    }

    #[test]
    fn devices_get_ioctl_and_gpu_sysfs_is_read_only() {
        let mut host = crate::sandbox::plan::tests::test_host();
        host.session.dri = vec!["/dev/dri/renderD128".into()];
        host.session.gpu_sys = vec!["/sys/dev/char".into()];
        let mut profile = crate::sandbox::plan::tests::test_profile();
        profile.gpu = true;
        let plan = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
        let rules = rules(&plan);
        let find = |path: &str| {
            rules
                .paths
                .iter()
                .find(|rule| rule.path == Path::new(path))
                .map(|rule| rule.allow)
        };
        // One rule for `/dev`, whose nodes are all the plan's, the GPU's included.
        assert_eq!(find("/dev"), Some(Allow::Devices));
        assert!(Allow::Devices.access().contains(AccessFs::IoctlDev));
        assert!(!Allow::Devices.access().contains(AccessFs::MakeReg));
        assert_eq!(find("/dev/dri/renderD128"), None);
        assert_eq!(find("/dev/dri"), None);
        assert_eq!(find("/sys/dev/char"), Some(Allow::ReadExec));
        assert_eq!(find("/sys"), Some(Allow::List));
    }

    #[test]
    fn host_network_with_x11_keeps_abstract_sockets_for_libxcb() {
        let mut host = crate::sandbox::plan::tests::test_host();
        host.session.x11 = Some(crate::access::X11 {
            number: 0,
            socket: "/tmp/.X11-unix/X0".into(),
            cookie: None,
        });
        let mut profile = crate::sandbox::plan::tests::test_profile();
        profile.display = crate::profile::Display::X11;
        profile.network = Network::Host;
        let plan = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
        assert!(!rules(&plan).scope_abstract_sockets);
        profile.network = Network::None;
        let plan = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
        assert!(rules(&plan).scope_abstract_sockets);
        profile.network = Network::Host;
        profile.display = crate::profile::Display::None;
        let plan = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
        assert!(rules(&plan).scope_abstract_sockets);
    }

    #[test]
    fn rules_survive_the_state_record() {
        let rules = rules(&plan_of(|_| {}));
        let json = serde_json::to_string(&rules).unwrap();
        assert_eq!(serde_json::from_str::<Rules>(&json).unwrap(), rules);
    }

    #[test]
    fn support_is_described_for_each_kernel() {
        assert!(Support::Abi(6)
            .describe()
            .contains("abstract sockets and signals scoped"));
        assert!(Support::Abi(4).describe().contains("not scoped"));
        assert!(Support::NotBuilt.describe().starts_with("not available"));
        assert!(!Support::Abi(1).has_filesystem_rules());
        assert!(Support::Abi(5).has_filesystem_rules() && !Support::Abi(5).has_scopes());
    }
}
