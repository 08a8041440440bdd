//! Facts about the host that a plan depends on, gathered once before planning so that
//! planning itself stays pure (and testable with made-up hosts).

use std::path::{Path, PathBuf};

use crate::paths::Paths;
use crate::profile::Profile;

mod shares;
pub use crate::sys::beneath::open_home;
pub use shares::{existing_binds, path_problems, resolve_shares, CreateShares, ResolvedShare};

/// Top-level folders beside `/usr` that a host may have, as folders or as symlinks
/// into `/usr` (merged-/usr hosts).
pub const TOP_LEVEL: &[&str] = &["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/// What of the host's `/etc` a sandbox sees: configuration programs need to run, none of
/// it secret (no shadow, sudoers, ssh, ...). `passwd`, `group`, `hosts`, `hostname` and
/// `nsswitch.conf` are written fresh for each sandbox instead.
pub const ETC_ALLOWED: &[&str] = &[
    "alternatives",
    "asound.conf",
    "ca-certificates",
    "ca-certificates.conf",
    "crypto-policies",
    "fonts",
    "gai.conf",
    "gtk-2.0",
    "gtk-3.0",
    "gtk-4.0",
    "host.conf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "locale.alias",
    "locale.conf",
    "localtime",
    "machine-id",
    "mailcap",
    "mime.types",
    "os-release",
    "pki",
    "protocols",
    "services",
    "ssl",
    "timezone",
    "xdg",
];

/// Which grant an `/etc` entry comes with: a sandbox gets only what its grants use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtcNeed {
    /// Every program: the dynamic linker, locale and time zone, the system's identity.
    Always,
    /// A display: fonts, toolkit settings, desktop menus and MIME types.
    Display,
    /// Audio: ALSA's configuration.
    Audio,
    /// A network: certificates and the resolver's configuration.
    Network,
}

/// The grant each entry of `ETC_ALLOWED` comes with.
pub fn etc_need(name: &str) -> EtcNeed {
    match name {
        "fonts" | "gtk-2.0" | "gtk-3.0" | "gtk-4.0" | "mailcap" | "mime.types" | "xdg" => {
            EtcNeed::Display
        }
        "asound.conf" => EtcNeed::Audio,
        "ca-certificates"
        | "ca-certificates.conf"
        | "crypto-policies"
        | "gai.conf"
        | "host.conf"
        | "pki"
        | "protocols"
        | "services"
        | "ssl" => EtcNeed::Network,
        _ => EtcNeed::Always,
    }
}

/// Environment variables passed from the caller when set; everything else is dropped.
pub const ENV_ALLOWED: &[&str] = &[
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_ADDRESS",
    "LC_COLLATE",
    "LC_CTYPE",
    "LC_IDENTIFICATION",
    "LC_MEASUREMENT",
    "LC_MESSAGES",
    "LC_MONETARY",
    "LC_NAME",
    "LC_NUMERIC",
    "LC_PAPER",
    "LC_TELEPHONE",
    "LC_TIME",
    "TERM",
    "COLORTERM",
    "NO_COLOR",
    "TZ",
];

/// How a host path appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostEntry {
    Dir,
    /// A small file: copied into the sandbox as it starts.
    File,
    /// A file larger than `COPY_LIMIT`: bound read-only (a bind costs less than copying
    /// it; `/etc/ld.so.cache` is some 40 KiB).
    LargeFile,
    /// A symlink whose target stays valid inside (it points into `/usr`): recreated as is.
    Symlink(PathBuf),
}

/// Everything of the host a plan needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub uid: u32,
    pub gid: u32,
    pub user: String,
    pub home: PathBuf,
    /// `XDG_RUNTIME_DIR` as the app will see it.
    pub runtime_dir: PathBuf,
    /// Where persistent private homes live (`$XDG_DATA_HOME/boxtop/homes`).
    pub private_homes: PathBuf,
    pub top_level: Vec<(String, HostEntry)>,
    pub etc: Vec<(String, HostEntry)>,
    pub env: Vec<(String, String)>,
    /// Display, audio, devices and helpers the session offers now.
    pub session: crate::access::Session,
    /// The machine's RAM, which bounds the tmpfs folders of a profile without a memory
    /// limit (see `plan::TmpfsBounds`).
    pub ram_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "home.share '{rel}': {path} does not exist (create it, or add create = true to the share)"
    )]
    ShareMissing { rel: String, path: PathBuf },
    #[error("home.share '{rel}': {link} is a symlink (to {target}); boxtop follows no symlink in your home, where an app could plant one to redirect a share. {hint}")]
    ShareSymlink {
        rel: String,
        link: PathBuf,
        target: PathBuf,
        hint: String,
    },
    #[error("home.share '{rel}': {path} holds the private homes of boxtop's profiles ({homes}), which are never shared")]
    SharePrivateHomes {
        rel: String,
        path: PathBuf,
        homes: PathBuf,
    },
    #[error("home.share '{rel}': {path} contains '{secret}', which holds secrets; add force = true to the share if you really mean it")]
    ShareSensitive {
        rel: String,
        path: PathBuf,
        secret: String,
    },
    #[error("home.share '{rel}': cannot use {path}: {reason}")]
    ShareUnusable {
        rel: String,
        path: PathBuf,
        reason: String,
    },
    #[error("home.share '{rel}': cannot create {path}: {reason}")]
    ShareCreate {
        rel: String,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "bind '{path}': the host has no such path (add optional = true to skip it when missing)"
    )]
    BindMissing { path: String },
    #[error("bind '{path}': it is {real} without symlinks, which cannot be bound: {reason}")]
    BindRefused {
        path: String,
        real: PathBuf,
        reason: String,
    },
    #[error("bind '{path}': cannot resolve it: {source}")]
    BindIo {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read your home folder {path}: {source}")]
    Home {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl HostError {
    /// The profile key the error is about: `home.share`, `binds`, or `home`.
    pub fn grant(&self) -> &'static str {
        match self {
            HostError::BindMissing { .. }
            | HostError::BindRefused { .. }
            | HostError::BindIo { .. } => "binds",
            HostError::Home { .. } => "home",
            _ => "home.share",
        }
    }
}

/// The RAM assumed when the kernel does not say.
const DEFAULT_RAM: u64 = 4 << 30;

/// The name of `uid` in /etc/passwd.
fn user_in_passwd(uid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

impl Host {
    /// Reads the facts from the running system, the whole session.
    pub fn detect(paths: &Paths) -> Self {
        Self::detect_for(paths, crate::access::Wants::all())
    }

    /// Reads the facts from the running system, of the session only what `wants` names.
    pub fn detect_for(paths: &Paths, wants: crate::access::Wants) -> Self {
        let uid = nix::unistd::getuid().as_raw();
        let gid = nix::unistd::getgid().as_raw();
        let user = std::env::var("USER")
            .ok()
            .filter(|user| !user.is_empty() && !user.contains(':'))
            .or_else(|| user_in_passwd(uid))
            .or_else(|| {
                // NSS (LDAP, sssd...) loads shared libraries: only when /etc/passwd and
                // $USER do not say.
                nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                    .ok()
                    .flatten()
                    .map(|user| user.name)
            })
            .unwrap_or_else(|| format!("user{uid}"));
        let runtime_dir = paths
            .xdg_runtime_dir
            .clone()
            .filter(|dir| dir.is_absolute())
            .unwrap_or_else(|| PathBuf::from(format!("/run/user/{uid}")));
        let env = ENV_ALLOWED
            .iter()
            .filter_map(|name| {
                std::env::var(name)
                    .ok()
                    .map(|value| (name.to_string(), value))
            })
            .collect();
        Self {
            uid,
            gid,
            user,
            home: paths.home.clone(),
            runtime_dir,
            private_homes: paths.private_homes(),
            top_level: scan(Path::new("/"), TOP_LEVEL),
            etc: scan(
                Path::new("/etc"),
                &ETC_ALLOWED
                    .iter()
                    .copied()
                    .filter(|name| match etc_need(name) {
                        EtcNeed::Always => true,
                        EtcNeed::Display => wants.display,
                        EtcNeed::Audio => wants.audio,
                        EtcNeed::Network => wants.network,
                    })
                    .collect::<Vec<_>>(),
            ),
            env,
            session: crate::access::Session::detect_for(
                &paths.home,
                paths.xdg_runtime_dir.as_deref(),
                wants,
            ),
            ram_bytes: nix::sys::sysinfo::sysinfo()
                .map(|info| info.ram_total())
                .unwrap_or(DEFAULT_RAM),
        }
    }
}

/// `path` with `.` and `..` components resolved without looking at the file system.
fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The largest file of `/etc` copied rather than bound.
pub const COPY_LIMIT: u64 = 16 * 1024;

/// The entries of `dir` named in `names` that exist, each as it should appear inside.
fn scan(dir: &Path, names: &[&str]) -> Vec<(String, HostEntry)> {
    names
        .iter()
        .filter_map(|name| {
            let path = dir.join(name);
            let meta = std::fs::symlink_metadata(&path).ok()?;
            let entry = if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).ok()?;
                // Most of these point into /usr by a plain path: no need to resolve each
                // component (realpath) to know it.
                let lexical = normalize_lexically(&dir.join(&target));
                let real = if lexical.starts_with("/usr")
                    && std::fs::symlink_metadata(&lexical)
                        .is_ok_and(|m| !m.file_type().is_symlink())
                {
                    lexical
                } else {
                    std::fs::canonicalize(&path).ok()?
                };
                if real.starts_with("/usr") {
                    HostEntry::Symlink(target)
                } else if real.is_dir() {
                    HostEntry::Dir
                } else {
                    HostEntry::File
                }
            } else if meta.is_dir() {
                HostEntry::Dir
            } else if meta.len() > COPY_LIMIT {
                HostEntry::LargeFile
            } else {
                HostEntry::File
            };
            Some((name.to_string(), entry))
        })
        .collect()
}

/// The first of the profile's `binaries` that exists here, if it lists any.
pub fn find_binary(profile: &Profile) -> Option<PathBuf> {
    profile
        .binaries
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

/// Whether the app of a profile is installed on this machine.
pub fn is_installed(profile: &Profile) -> bool {
    if !profile.binaries.is_empty() {
        return find_binary(profile).is_some();
    }
    let program = &profile.command[0];
    if program.contains('/') {
        return Path::new(program).is_file();
    }
    [
        "/usr/local/bin",
        "/usr/bin",
        "/bin",
        "/usr/local/sbin",
        "/usr/sbin",
        "/sbin",
    ]
    .iter()
    .any(|dir| Path::new(dir).join(program).is_file())
}
