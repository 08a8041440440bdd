//! The profile file format: what a TOML file may say (`RawProfile`, every key optional so
//! that `extends` can inherit), and the effective profile the runtime reads (`Profile`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which display server the app may reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Display {
    #[default]
    None,
    Wayland,
    X11,
    /// Wayland when the session has it, else X11.
    Auto,
}

/// Which sound server the app may reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audio {
    #[default]
    None,
    Pulseaudio,
    Pipewire,
    Auto,
}

/// The network the app sees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Its own network namespace with only `lo`.
    #[default]
    None,
    /// The host's network namespace, shared.
    Host,
    /// Its own namespace with internet through pasta, no address of the host.
    Isolated,
}

/// Read-only or read-write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    #[default]
    Ro,
    Rw,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Ro => "ro",
            Access::Rw => "rw",
        }
    }
}

/// A folder (or file) of the real home made visible inside, at the same path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Share {
    /// Relative to the home folder, e.g. `Documents` or `.config/mpv`.
    pub path: String,
    #[serde(default)]
    pub mode: Access,
    /// Create the folder on the host when it is missing.
    #[serde(default, skip_serializing_if = "is_false")]
    pub create: bool,
    /// Required to share secrets folders such as `.ssh` or `.gnupg`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub force: bool,
}

/// A path outside the home made visible inside, at the same path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bind {
    /// Absolute, e.g. `/media` or `/opt/google/chrome`.
    pub path: String,
    #[serde(default)]
    pub mode: Access,
    /// Skip the bind silently when the host does not have the path.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// `[home]` as written in a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHome {
    pub ephemeral: Option<bool>,
    pub share: Option<Vec<Share>>,
}

/// `[dbus]` as written in a file: names as xdg-dbus-proxy takes them (`org.foo.*`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDbus {
    pub talk: Option<Vec<String>>,
    pub own: Option<Vec<String>>,
    pub see: Option<Vec<String>>,
    /// Names on the system bus the app may talk to (none by default).
    pub system_talk: Option<Vec<String>>,
}

/// `[limits]` as written in a file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Like `"2G"`, `"512M"`, or a number of bytes.
    pub memory: Option<String>,
    /// CPU cores, e.g. `1.5`.
    pub cpu: Option<f64>,
    /// Maximum number of processes and threads.
    pub pids: Option<u32>,
}

/// A profile file as written: every key optional so a profile can `extends` another.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub name: Option<String>,
    pub description: Option<String>,
    pub extends: Option<String>,
    pub desktop_file: Option<String>,
    /// Where the app's program may be installed, first found wins.
    pub binaries: Option<Vec<String>>,
    pub command: Option<Vec<String>>,
    pub display: Option<Display>,
    pub audio: Option<Audio>,
    pub gpu: Option<bool>,
    pub webcam: Option<bool>,
    pub network: Option<Network>,
    pub allow_userns: Option<bool>,
    /// Make files named on the command line visible inside (on unless `false`).
    pub forward_files: Option<bool>,
    pub home: Option<RawHome>,
    pub binds: Option<Vec<Bind>>,
    pub dbus: Option<RawDbus>,
    pub env: Option<BTreeMap<String, String>>,
    pub limits: Option<RawLimits>,
}

/// The private home and the shares from the real one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Home {
    pub ephemeral: bool,
    pub share: Vec<Share>,
}

/// D-Bus names, each list as xdg-dbus-proxy's `--talk`, `--own`, `--see`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dbus {
    pub talk: Vec<String>,
    pub own: Vec<String>,
    pub see: Vec<String>,
    pub system_talk: Vec<String>,
}

impl Dbus {
    pub fn is_empty(&self) -> bool {
        self.talk.is_empty() && self.own.is_empty() && self.see.is_empty()
    }
}

/// Resource limits, already parsed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Limits {
    pub memory_bytes: Option<u64>,
    pub cpu: Option<f64>,
    pub pids: Option<u32>,
}

/// The effective profile after `extends`, validated: what the runtime reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub extends: Option<String>,
    pub desktop_file: Option<String>,
    pub binaries: Vec<String>,
    pub command: Vec<String>,
    pub display: Display,
    pub audio: Audio,
    pub gpu: bool,
    pub webcam: bool,
    pub network: Network,
    pub allow_userns: bool,
    /// Files and folders named by the launch's arguments are made visible inside.
    pub forward_files: bool,
    pub home: Home,
    pub binds: Vec<Bind>,
    pub dbus: Dbus,
    pub env: BTreeMap<String, String>,
    pub limits: Limits,
}

impl RawProfile {
    /// This file's keys laid over its parent's: scalars replace, `env` merges key by key,
    /// lists (shares, binds, D-Bus names) add to the parent's, an entry for the same path
    /// replacing the parent's entry.
    pub fn over(self, parent: RawProfile) -> RawProfile {
        RawProfile {
            name: self.name.or(parent.name),
            description: self.description.or(parent.description),
            extends: self.extends,
            desktop_file: self.desktop_file.or(parent.desktop_file),
            binaries: self.binaries.or(parent.binaries),
            command: self.command.or(parent.command),
            display: self.display.or(parent.display),
            audio: self.audio.or(parent.audio),
            gpu: self.gpu.or(parent.gpu),
            webcam: self.webcam.or(parent.webcam),
            network: self.network.or(parent.network),
            allow_userns: self.allow_userns.or(parent.allow_userns),
            forward_files: self.forward_files.or(parent.forward_files),
            home: merge_home(self.home, parent.home),
            binds: merge_by_key(self.binds, parent.binds, |bind| bind.path.clone()),
            dbus: merge_dbus(self.dbus, parent.dbus),
            env: match (self.env, parent.env) {
                (Some(child), Some(mut base)) => {
                    base.extend(child);
                    Some(base)
                }
                (child, base) => child.or(base),
            },
            limits: match (self.limits, parent.limits) {
                (Some(child), Some(base)) => Some(RawLimits {
                    memory: child.memory.or(base.memory),
                    cpu: child.cpu.or(base.cpu),
                    pids: child.pids.or(base.pids),
                }),
                (child, base) => child.or(base),
            },
        }
    }
}

fn merge_home(child: Option<RawHome>, parent: Option<RawHome>) -> Option<RawHome> {
    match (child, parent) {
        (Some(child), Some(base)) => Some(RawHome {
            ephemeral: child.ephemeral.or(base.ephemeral),
            share: merge_by_key(child.share, base.share, |share| share.path.clone()),
        }),
        (child, base) => child.or(base),
    }
}

fn merge_dbus(child: Option<RawDbus>, parent: Option<RawDbus>) -> Option<RawDbus> {
    match (child, parent) {
        (Some(child), Some(base)) => Some(RawDbus {
            talk: merge_by_key(child.talk, base.talk, Clone::clone),
            own: merge_by_key(child.own, base.own, Clone::clone),
            see: merge_by_key(child.see, base.see, Clone::clone),
            system_talk: merge_by_key(child.system_talk, base.system_talk, Clone::clone),
        }),
        (child, base) => child.or(base),
    }
}

/// The parent's entries then the child's; a child entry with the same key replaces the
/// parent's in place.
fn merge_by_key<T, K: PartialEq>(
    child: Option<Vec<T>>,
    parent: Option<Vec<T>>,
    key: impl Fn(&T) -> K,
) -> Option<Vec<T>> {
    match (child, parent) {
        (Some(child), Some(mut merged)) => {
            for entry in child {
                match merged.iter().position(|old| key(old) == key(&entry)) {
                    Some(index) => merged[index] = entry,
                    None => merged.push(entry),
                }
            }
            Some(merged)
        }
        (child, parent) => child.or(parent),
    }
}
