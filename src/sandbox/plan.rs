//! A profile becomes a plan: the namespaces, the ordered list of filesystem steps, the
//! environment and the command. Pure: the same profile and host give the same plan, which
//! can be printed (`boxtop plan`), diffed and tested without running anything.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::profile::{Access, Bind, Limits, Network, Profile};

use super::forward::Forward;
use super::host::{etc_need, EtcNeed, Host, HostEntry, ResolvedShare};
use super::seccomp::SeccompPolicy;
pub use super::step::Step;
use crate::access;
use crate::paths::BadName;

/// The namespaces a sandbox gets, in the order they are set up: the user namespace first,
/// since it grants the capabilities the others need.
pub const ORDERED_NAMESPACES: &[Namespace] = &[
    Namespace::User,
    Namespace::Mount,
    Namespace::Pid,
    Namespace::Ipc,
    Namespace::Uts,
    Namespace::Cgroup,
    Namespace::Net,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    User,
    Mount,
    Pid,
    Ipc,
    Uts,
    Cgroup,
    Net,
}

impl Namespace {
    pub fn clone_flag(self) -> nix::sched::CloneFlags {
        use nix::sched::CloneFlags;
        match self {
            Namespace::User => CloneFlags::CLONE_NEWUSER,
            Namespace::Mount => CloneFlags::CLONE_NEWNS,
            Namespace::Pid => CloneFlags::CLONE_NEWPID,
            Namespace::Ipc => CloneFlags::CLONE_NEWIPC,
            Namespace::Uts => CloneFlags::CLONE_NEWUTS,
            Namespace::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            Namespace::Net => CloneFlags::CLONE_NEWNET,
        }
    }

    /// The name under `/proc/PID/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::User => "user",
            Namespace::Mount => "mnt",
            Namespace::Pid => "pid",
            Namespace::Ipc => "ipc",
            Namespace::Uts => "uts",
            Namespace::Cgroup => "cgroup",
            Namespace::Net => "net",
        }
    }
}

/// Device nodes of the host bound into the sandbox's `/dev`.
pub const DEV_NODES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// Parts of `/proc` an app may read but never write.
pub const PROC_READ_ONLY: &[&str] = &["sys", "sysrq-trigger", "irq", "bus"];

/// `PATH` inside the sandbox.
pub const SANDBOX_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

/// Everything the executor needs to build one sandbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub name: String,
    pub hostname: String,
    pub uid: u32,
    pub gid: u32,
    pub namespaces: Vec<Namespace>,
    pub network: Network,
    pub steps: Vec<Step>,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub seccomp: SeccompPolicy,
    /// The persistent private home to create before starting, if any.
    pub private_home: Option<PathBuf>,
    /// The user's home: pinned sources in it are resolved beneath it with no symlink.
    pub home: PathBuf,
    /// Look-and-feel paths of the home left out, with the reason (a symlink).
    pub skipped: Vec<(PathBuf, String)>,
    /// The session bus proxy to start before the sandbox, when the profile names any.
    pub dbus_proxy: Option<DbusProxy>,
    /// The system bus proxy, when the profile names system bus names.
    pub system_dbus_proxy: Option<DbusProxy>,
    /// Connect the sandbox's network namespace to the internet with pasta.
    pub pasta: bool,
    /// Resource limits: applied through the instance's cgroup when it has one, else as
    /// rlimits of the app (memory as `RLIMIT_DATA`, pids as `RLIMIT_NPROC`).
    pub limits: Limits,
}

/// An xdg-dbus-proxy instance: listens on `socket` (a host path bound into the sandbox)
/// and passes on only what `rules` allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbusProxy {
    pub bus_address: String,
    pub socket: PathBuf,
    /// `--talk=NAME`, `--own=NAME`, `--see=NAME` arguments, after `--filter`.
    pub rules: Vec<String>,
}

/// The DNS address inside isolated sandboxes; pasta forwards it to the host's resolver.
pub const PASTA_DNS: &str = "169.254.1.1";

/// What goes into a plan besides the profile and the host.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    /// Shares checked on the real file system.
    pub shares: Vec<ResolvedShare>,
    /// Binds that exist on the host (missing optional ones already dropped).
    pub binds: Vec<Bind>,
    /// The program found among the profile's `binaries`, replacing `command[0]`.
    pub program: Option<PathBuf>,
    /// Arguments appended to the profile's command.
    pub extra_args: Vec<String>,
    /// A host folder private to this launch, for the D-Bus proxy sockets.
    pub instance_dir: PathBuf,
    /// Files and folders the arguments name, bound read-write at their own path.
    pub forwards: Vec<Forward>,
    /// Where the app starts, when not in the home (the caller's folder, seen inside).
    pub cwd: Option<PathBuf>,
}

impl Plan {
    /// Builds the plan of a profile on a host; fails only for a profile name that cannot
    /// name a folder of the private homes (a loaded profile's name always can).
    pub fn new(profile: &Profile, host: &Host, input: &PlanInput) -> Result<Plan, BadName> {
        let namespaces = ORDERED_NAMESPACES
            .iter()
            .copied()
            .filter(|ns| *ns != Namespace::Net || profile.network != Network::Host)
            .collect();
        let private_home = if profile.home.ephemeral {
            None
        } else {
            Some(crate::paths::child(&host.private_homes, &profile.name)?)
        };
        let bounds = TmpfsBounds::new(profile.limits.memory_bytes, host.ram_bytes);
        let mut steps = Vec::new();
        system_steps(&mut steps, host, &bounds);
        etc_steps(&mut steps, profile, host);
        runtime_steps(&mut steps, host, &bounds);
        home_steps(
            &mut steps,
            host,
            private_home.as_deref(),
            &input.shares,
            &bounds,
        );
        for forward in &input.forwards {
            // Pinned like a share: found with no symlink before the start, and checked to
            // be the same file when it is bound.
            steps.push(Step::Bind {
                src: forward.real.clone(),
                dest: forward.path.clone(),
                access: Access::Rw,
                device: false,
                pinned: true,
            });
        }
        let grants = access::grants(profile, &host.session, &host.runtime_dir, &host.home);
        for (src, dest, access, device) in &grants.binds {
            // What an app can write, a path of the home, is resolved with no symlink and
            // bound from the file opened then (see `spawn::Prepared::new`).
            steps.push(Step::Bind {
                src: src.clone(),
                dest: dest.clone(),
                access: *access,
                device: *device,
                pinned: src.starts_with(&host.home),
            });
        }
        for (dest, contents) in &grants.files {
            steps.push(Step::File {
                dest: dest.clone(),
                contents: contents.clone(),
                mode: 0o600,
            });
        }
        let dbus_proxy = (!profile.dbus.is_empty())
            .then(|| host.session.session_bus.clone())
            .flatten()
            .map(|bus_address| DbusProxy {
                bus_address,
                socket: input.instance_dir.join("bus"),
                rules: proxy_rules(&profile.dbus.talk, &profile.dbus.own, &profile.dbus.see),
            });
        if let Some(proxy) = &dbus_proxy {
            steps.push(Step::Bind {
                src: proxy.socket.clone(),
                dest: host.runtime_dir.join("bus"),
                access: Access::Rw,
                device: false,
                pinned: false,
            });
        }
        let system_dbus_proxy = (!profile.dbus.system_talk.is_empty())
            .then(|| host.session.system_bus.clone())
            .flatten()
            .map(|socket| DbusProxy {
                bus_address: format!("unix:path={}", socket.display()),
                socket: input.instance_dir.join("system_bus"),
                rules: proxy_rules(&profile.dbus.system_talk, &[], &[]),
            });
        if let Some(proxy) = &system_dbus_proxy {
            steps.push(Step::Bind {
                src: proxy.socket.clone(),
                dest: "/run/dbus/system_bus_socket".into(),
                access: Access::Rw,
                device: false,
                pinned: false,
            });
        }
        if profile.network == Network::Isolated {
            steps.push(Step::File {
                dest: "/etc/resolv.conf".into(),
                contents: format!("nameserver {PASTA_DNS}\n").into_bytes(),
                mode: 0o644,
            });
        }
        for bind in &input.binds {
            let path = PathBuf::from(&bind.path);
            steps.push(Step::Bind {
                src: path.clone(),
                dest: path,
                access: bind.mode,
                device: false,
                pinned: false,
            });
        }
        steps.push(Step::RemountRootReadOnly);

        let mut argv = profile.command.clone();
        if let Some(program) = &input.program {
            argv[0] = program.display().to_string();
        }
        argv.extend(input.extra_args.iter().cloned());

        Ok(Plan {
            name: profile.name.clone(),
            hostname: profile.name.clone(),
            uid: host.uid,
            gid: host.gid,
            namespaces,
            network: profile.network,
            steps,
            argv,
            env: environment(
                profile,
                host,
                &grants.env,
                dbus_proxy.is_some(),
                system_dbus_proxy.is_some(),
            ),
            cwd: input.cwd.clone().unwrap_or_else(|| host.home.clone()),
            seccomp: SeccompPolicy {
                allow_userns: profile.allow_userns,
            },
            private_home,
            home: host.home.clone(),
            skipped: if grants.display.is_some() {
                host.session.look_skipped.clone()
            } else {
                Vec::new()
            },
            dbus_proxy,
            system_dbus_proxy,
            pasta: profile.network == Network::Isolated,
            limits: profile.limits.clone(),
        })
    }

    /// The mount points the sandbox will have, in order.
    pub fn mount_points(&self) -> Vec<PathBuf> {
        let mut points: Vec<PathBuf> = Vec::new();
        for step in &self.steps {
            if let Some(point) = step.mount_point() {
                if !points.iter().any(|known| known == point) {
                    points.push(point.to_path_buf());
                }
            }
        }
        points
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.namespaces.iter().map(|ns| ns.proc_name()).collect();
        writeln!(f, "profile   {}", self.name)?;
        writeln!(f, "namespaces {}", names.join(" "))?;
        writeln!(f, "uid_map   {0} {0} 1", self.uid)?;
        writeln!(f, "gid_map   {0} {0} 1 (setgroups deny)", self.gid)?;
        writeln!(f, "hostname  {}", self.hostname)?;
        writeln!(f, "network   {:?}", self.network)?;
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        for (path, why) in &self.skipped {
            writeln!(f, "skipped   {} ({why})", path.display())?;
        }
        for (name, value) in &self.env {
            writeln!(f, "env       {name}={value}")?;
        }
        writeln!(f, "cwd       {}", self.cwd.display())?;
        writeln!(f, "seccomp   allow_userns={}", self.seccomp.allow_userns)?;
        for (bus, proxy) in [
            ("session", &self.dbus_proxy),
            ("system", &self.system_dbus_proxy),
        ] {
            if let Some(proxy) = proxy {
                writeln!(
                    f,
                    "dbus      {bus} bus via xdg-dbus-proxy {} --filter {}",
                    proxy.socket.display(),
                    proxy.rules.join(" ")
                )?;
            }
        }
        if self.pasta {
            writeln!(
                f,
                "network   pasta (no address of this machine reachable; DNS {PASTA_DNS} \
                 forwarded to this machine's resolver)"
            )?;
        }
        if let Some(bytes) = self.limits.memory_bytes {
            writeln!(f, "limit     memory {bytes} bytes")?;
        }
        if let Some(cpu) = self.limits.cpu {
            writeln!(f, "limit     cpu {cpu} cores")?;
        }
        if let Some(pids) = self.limits.pids {
            writeln!(f, "limit     pids {pids}")?;
        }
        writeln!(f, "exec      {}", self.argv.join(" "))
    }
}

/// How big each tmpfs of a sandbox may grow. Without a cgroup nothing else bounds them:
/// their pages are not the app's data (`RLIMIT_DATA`), and an unsized tmpfs takes up to
/// half the RAM each. Those an app fills (`/tmp`, `/dev/shm`, an ephemeral home, the
/// runtime folder and the `/run` holding it) may each hold the profile's memory limit,
/// or a quarter of the RAM without one; `/dev` and a `/run` without the runtime folder
/// hold only mount points and symlinks. One inode per page of the size: enough for any
/// file that holds data, and a bound on the kernel memory of empty ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TmpfsBounds {
    pub data: u64,
    pub small: u64,
}

impl TmpfsBounds {
    /// The size of the small folders.
    pub const SMALL: u64 = 1 << 20;
    /// The least a data folder gets, whatever the limit says.
    pub const LEAST: u64 = 4 << 20;

    pub fn new(memory_limit: Option<u64>, ram_bytes: u64) -> TmpfsBounds {
        let data = memory_limit
            .unwrap_or(ram_bytes / 4 / MIB * MIB)
            .max(Self::LEAST);
        TmpfsBounds {
            data: data.div_ceil(PAGE) * PAGE,
            small: Self::SMALL,
        }
    }

    fn step(size: u64, dest: impl Into<PathBuf>, mode: u32) -> Step {
        Step::Tmpfs {
            dest: dest.into(),
            mode,
            size,
            inodes: size / PAGE,
        }
    }

    fn data(&self, dest: impl Into<PathBuf>, mode: u32) -> Step {
        Self::step(self.data, dest, mode)
    }

    fn small(&self, dest: impl Into<PathBuf>, mode: u32) -> Step {
        Self::step(self.small, dest, mode)
    }
}

const PAGE: u64 = 4096;
const MIB: u64 = 1 << 20;

fn ro_bind(src: impl Into<PathBuf>, dest: impl Into<PathBuf>) -> Step {
    Step::Bind {
        src: src.into(),
        dest: dest.into(),
        access: Access::Ro,
        device: false,
        pinned: false,
    }
}

/// `/usr` and what the host has beside it, `/proc`, `/dev`, `/tmp`.
fn system_steps(steps: &mut Vec<Step>, host: &Host, bounds: &TmpfsBounds) {
    steps.push(ro_bind("/usr", "/usr"));
    for (name, entry) in &host.top_level {
        let dest = Path::new("/").join(name);
        steps.push(match entry {
            HostEntry::Symlink(target) => Step::Symlink {
                target: target.clone(),
                dest,
            },
            HostEntry::Dir | HostEntry::File | HostEntry::LargeFile => ro_bind(dest.clone(), dest),
        });
    }
    steps.push(Step::Proc {
        dest: "/proc".into(),
    });
    for name in PROC_READ_ONLY {
        steps.push(Step::ReadOnly {
            dest: Path::new("/proc").join(name),
        });
    }
    steps.push(bounds.small("/dev", 0o755));
    for node in DEV_NODES {
        let path = Path::new("/dev").join(node);
        steps.push(Step::Bind {
            src: path.clone(),
            dest: path,
            access: Access::Rw,
            device: true,
            pinned: false,
        });
    }
    steps.push(Step::Devpts {
        dest: "/dev/pts".into(),
    });
    steps.push(Step::Symlink {
        target: "pts/ptmx".into(),
        dest: "/dev/ptmx".into(),
    });
    steps.push(bounds.data("/dev/shm", 0o1777));
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        steps.push(Step::Symlink {
            target: target.into(),
            dest: Path::new("/dev").join(name),
        });
    }
    steps.push(bounds.data("/tmp", 0o1777));
    steps.push(Step::Dir {
        dest: "/var".into(),
        mode: 0o755,
    });
    steps.push(Step::Symlink {
        target: "../tmp".into(),
        dest: "/var/tmp".into(),
    });
}

/// A minimal `/etc`: allowed host files read-only, identity files written fresh.
fn etc_steps(steps: &mut Vec<Step>, profile: &Profile, host: &Host) {
    steps.push(Step::Dir {
        dest: "/etc".into(),
        mode: 0o755,
    });
    for (name, entry) in &host.etc {
        let granted = match etc_need(name) {
            EtcNeed::Always => true,
            EtcNeed::Display => profile.display != crate::profile::Display::None,
            EtcNeed::Audio => profile.audio != crate::profile::Audio::None,
            EtcNeed::Network => profile.network != Network::None,
        };
        if !granted {
            continue;
        }
        let dest = Path::new("/etc").join(name);
        steps.push(match entry {
            HostEntry::Symlink(target) => Step::Symlink {
                target: target.clone(),
                dest,
            },
            HostEntry::Dir | HostEntry::LargeFile => ro_bind(dest.clone(), dest),
            HostEntry::File => Step::Copy {
                src: dest.clone(),
                dest,
                mode: 0o644,
            },
        });
    }
    if profile.network == Network::Host {
        steps.push(ro_bind("/etc/resolv.conf", "/etc/resolv.conf"));
    }
    let home = host.home.display();
    let user = &host.user;
    let (uid, gid) = (host.uid, host.gid);
    let mut passwd = String::new();
    let mut group = String::new();
    if uid != 0 {
        passwd.push_str("root:x:0:0:root:/root:/bin/sh\n");
    }
    if gid != 0 {
        group.push_str("root:x:0:\n");
    }
    passwd.push_str(&format!("{user}:x:{uid}:{gid}:{user}:{home}:/bin/sh\n"));
    group.push_str(&format!("{user}:x:{gid}:\n"));
    if uid != 65534 {
        passwd.push_str("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    }
    if gid != 65534 {
        group.push_str("nogroup:x:65534:\n");
    }
    let name = &profile.name;
    let files = [
        ("passwd", passwd),
        ("group", group),
        ("hostname", format!("{name}\n")),
        ("hosts", format!("127.0.0.1\tlocalhost {name}\n::1\tlocalhost ip6-localhost ip6-loopback {name}\n")),
        ("nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n".to_string()),
    ];
    for (file, contents) in files {
        steps.push(Step::File {
            dest: Path::new("/etc").join(file),
            contents: contents.into_bytes(),
            mode: 0o644,
        });
    }
    steps.push(Step::Symlink {
        target: "../proc/self/mounts".into(),
        dest: "/etc/mtab".into(),
    });
}

/// `/run` with the user's runtime folder.
fn runtime_steps(steps: &mut Vec<Step>, host: &Host, bounds: &TmpfsBounds) {
    let holds_runtime_dir =
        host.runtime_dir.starts_with("/run") && host.runtime_dir != Path::new("/run");
    steps.push(if holds_runtime_dir {
        bounds.data("/run", 0o755)
    } else {
        bounds.small("/run", 0o755)
    });
    if host.runtime_dir.starts_with("/run") && host.runtime_dir != Path::new("/run") {
        push_parents(steps, &host.runtime_dir, Path::new("/run"));
        steps.push(Step::Dir {
            dest: host.runtime_dir.clone(),
            mode: 0o700,
        });
    } else if host.runtime_dir.starts_with("/tmp") && host.runtime_dir != Path::new("/tmp") {
        push_parents(steps, &host.runtime_dir, Path::new("/tmp"));
        steps.push(Step::Dir {
            dest: host.runtime_dir.clone(),
            mode: 0o700,
        });
    } else {
        push_parents(steps, &host.runtime_dir, Path::new("/"));
        steps.push(bounds.data(host.runtime_dir.clone(), 0o700));
    }
}

/// The private home at the real home's path, then each share at its real path.
fn home_steps(
    steps: &mut Vec<Step>,
    host: &Host,
    private_home: Option<&Path>,
    shares: &[ResolvedShare],
    bounds: &TmpfsBounds,
) {
    push_parents(steps, &host.home, Path::new("/"));
    match private_home {
        Some(src) => steps.push(Step::Bind {
            src: src.to_path_buf(),
            dest: host.home.clone(),
            access: Access::Rw,
            device: false,
            pinned: true,
        }),
        None => steps.push(bounds.data(host.home.clone(), 0o700)),
    }
    for share in shares {
        steps.push(Step::Bind {
            src: share.real.clone(),
            dest: host.home.join(&share.rel),
            access: share.access,
            device: false,
            pinned: true,
        });
    }
}

/// xdg-dbus-proxy's filter arguments.
fn proxy_rules(talk: &[String], own: &[String], see: &[String]) -> Vec<String> {
    let mut rules = Vec::new();
    rules.extend(talk.iter().map(|name| format!("--talk={name}")));
    rules.extend(own.iter().map(|name| format!("--own={name}")));
    rules.extend(see.iter().map(|name| format!("--see={name}")));
    rules
}

/// `Dir` steps for every folder between `base` (exclusive) and `path` (exclusive),
/// except those an earlier step already made.
fn push_parents(steps: &mut Vec<Step>, path: &Path, base: &Path) {
    let mut parents: Vec<&Path> = path
        .ancestors()
        .skip(1)
        .take_while(|ancestor| *ancestor != base && ancestor.starts_with(base))
        .collect();
    parents.reverse();
    for parent in parents {
        let known = steps.iter().any(|step| match step {
            Step::Dir { dest, .. } | Step::Tmpfs { dest, .. } => dest == parent,
            _ => false,
        });
        if !known {
            steps.push(Step::Dir {
                dest: parent.to_path_buf(),
                mode: 0o755,
            });
        }
    }
}

/// The environment of the app: only allowed variables of the caller, the identity of the
/// user inside, then the profile's own `env`.
fn environment(
    profile: &Profile,
    host: &Host,
    grants: &[(String, String)],
    session_bus: bool,
    system_bus: bool,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), SANDBOX_PATH.into()),
        ("HOME".into(), host.home.display().to_string()),
        ("USER".into(), host.user.clone()),
        ("LOGNAME".into(), host.user.clone()),
        ("SHELL".into(), "/bin/sh".into()),
        (
            "XDG_RUNTIME_DIR".into(),
            host.runtime_dir.display().to_string(),
        ),
        ("BOXTOP_PROFILE".into(), profile.name.clone()),
        ("container".into(), "boxtop".into()),
    ];
    env.extend(host.env.iter().cloned());
    env.extend(grants.iter().cloned());
    if session_bus {
        let socket = host.runtime_dir.join("bus");
        env.push((
            "DBUS_SESSION_BUS_ADDRESS".into(),
            format!("unix:path={}", socket.display()),
        ));
    }
    if system_bus {
        env.push((
            "DBUS_SYSTEM_BUS_ADDRESS".into(),
            "unix:path=/run/dbus/system_bus_socket".into(),
        ));
    }
    // The profile's variables replace those of the same name, in one pass (a profile
    // with 100,000 variables took 31 s to plan when each replaced its own).
    env.retain(|(known, _)| !profile.env.contains_key(known));
    env.extend(
        profile
            .env
            .iter()
            .map(|(name, value)| (name.clone(), value.clone())),
    );
    env
}

#[cfg(test)]
pub(crate) mod tests;
