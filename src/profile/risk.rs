//! Permissions at a glance: each grant of a profile with a risk level and a one-line
//! plain explanation, highest risk first, like a phone's permission screen.

use serde::Serialize;

use super::schema::{Access, Audio, Display, Network, Profile};
use super::validate::{is_same_or_inside, normalize_relative, SENSITIVE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
    Critical,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }
}

/// One thing a profile lets its app reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Short name, e.g. `Display: X11` or `~/Documents (read-write)`.
    pub what: String,
    pub risk: Risk,
    /// What it means for the user, in one line.
    pub why: String,
}

fn grant(what: impl Into<String>, risk: Risk, why: impl Into<String>) -> Grant {
    Grant {
        what: what.into(),
        risk,
        why: why.into(),
    }
}

/// D-Bus names whose access is a known way out of a sandbox.
pub const ESCAPE_BUS_NAMES: &[&str] = &[
    "org.freedesktop.systemd1",
    "org.freedesktop.Flatpak",
    "org.freedesktop.portal.Flatpak",
    "org.freedesktop.impl.portal.PermissionStore",
    "org.freedesktop.PolicyKit1",
    "org.gnome.Shell",
    "org.kde.KWin",
    "org.kde.klauncher5",
];

/// Whether a (possibly wildcard) bus name covers one of the escape names.
fn is_escape_name(name: &str) -> bool {
    let prefix = name.strip_suffix(".*").or_else(|| name.strip_suffix('*'));
    ESCAPE_BUS_NAMES.iter().any(|escape| match prefix {
        Some(prefix) => escape.starts_with(prefix) || prefix.starts_with(escape),
        None => name == *escape,
    })
}

/// Every grant of the profile, highest risk first (stable within a level), in words
/// that hold on any host.
pub fn summarize(profile: &Profile) -> Vec<Grant> {
    summarize_here(profile, None)
}

/// [`summarize`] for a host where Landlock scopes abstract unix sockets
/// (`Some(true)`, ABI 6) or not (`Some(false)`): `network = "host"` reaches the host's
/// abstract sockets (the X server's, a session bus on an abstract address) only without
/// the scope, a higher risk. `None` when the host is not known.
pub fn summarize_here(profile: &Profile, abstract_scoped: Option<bool>) -> Vec<Grant> {
    let mut grants = Vec::new();
    let abstract_x = if profile.network == Network::Host {
        " With the host network, the X server's abstract socket is reachable too."
    } else {
        ""
    };
    match profile.display {
        Display::None => {}
        Display::Wayland => grants.push(grant(
            "Display: Wayland",
            Risk::Low,
            "Shows windows; Wayland keeps apps from reading other windows or keystrokes.",
        )),
        Display::X11 => grants.push(grant(
            "Display: X11",
            Risk::High,
            format!("Any X11 client can read keystrokes and screen contents of other windows.{abstract_x}"),
        )),
        Display::Auto => grants.push(grant(
            "Display: auto",
            Risk::High,
            format!("Wayland when the session has it (low risk), else X11, where any client can read keystrokes and other windows.{abstract_x}"),
        )),
    }
    match profile.audio {
        Audio::None => {}
        Audio::Pulseaudio => grants.push(grant(
            "Audio: PulseAudio",
            Risk::Medium,
            "Plays sound and can record from the microphone.",
        )),
        Audio::Pipewire => grants.push(grant(
            "Audio: PipeWire",
            Risk::High,
            "Plays sound, can record from the microphone and reach cameras and screen streams shared through PipeWire.",
        )),
        Audio::Auto => grants.push(grant(
            "Audio: auto",
            Risk::Medium,
            "Plays sound and can record from the microphone (PulseAudio or PipeWire, whichever runs).",
        )),
    }
    if profile.gpu {
        grants.push(grant(
            "GPU",
            Risk::Medium,
            "Direct access to the graphics driver: faster drawing, and a large kernel attack surface.",
        ));
    }
    if profile.webcam {
        grants.push(grant(
            "Webcam",
            Risk::High,
            "Can turn on the camera and record video.",
        ));
    }
    match profile.network {
        Network::None => {}
        Network::Host => {
            let local = "Full network access, including services listening on this machine's localhost";
            // With X11 the scope is left off (libxcb gives up on a refused abstract socket).
            let x11 = matches!(profile.display, Display::X11 | Display::Auto);
            grants.push(match abstract_scoped {
                None => grant(
                    "Network: host",
                    Risk::Medium,
                    format!("{local}. The host's abstract sockets (the X server's, a session bus on an abstract address) are out of reach where Landlock ABI 6 runs, without X11; reachable elsewhere (see `boxtop show`)."),
                ),
                Some(true) if !x11 => grant(
                    "Network: host",
                    Risk::Medium,
                    format!("{local}. Landlock keeps the host's abstract sockets (the X server's, a session bus on an abstract address) out of reach here."),
                ),
                Some(_) => grant(
                    "Network: host",
                    Risk::High,
                    format!("{local}, and here the host's abstract sockets too: the X server's and a session bus on an abstract address, past the D-Bus filter{}.", if x11 { " (Landlock's scope is off with X11)" } else { " (this kernel lacks Landlock ABI 6)" }),
                ),
            });
        }
        Network::Isolated => grants.push(grant(
            "Network: isolated",
            Risk::Low,
            "Internet access through its own network stack; no access to this machine's local services.",
        )),
    }
    if profile.allow_userns {
        grants.push(grant(
            "Nested user namespaces",
            Risk::Medium,
            "May build its own inner sandbox (browsers need this); widens the kernel surface it can reach.",
        ));
    }
    for share in &profile.home.share {
        let rel = normalize_relative(&share.path);
        let secret = SENSITIVE
            .iter()
            .find(|secret| is_same_or_inside(&rel, secret) || is_same_or_inside(secret, &rel));
        let (mode, verb) = match share.mode {
            Access::Ro => ("read-only", "Can read"),
            Access::Rw => ("read-write", "Can read, change and delete"),
        };
        let what = format!("~/{rel} ({mode})");
        grants.push(match secret {
            Some(secret) => grant(
                what,
                Risk::Critical,
                format!("{verb} files in ~/{secret}, which holds secrets or controls what runs outside the sandbox."),
            ),
            None => grant(
                what,
                if share.mode == Access::Rw { Risk::Medium } else { Risk::Low },
                format!("{verb} the files in ~/{rel}."),
            ),
        });
    }
    for bind in &profile.binds {
        let (mode, verb, risk) = match bind.mode {
            Access::Ro => ("read-only", "Can read", Risk::Low),
            Access::Rw => ("read-write", "Can read, change and delete", Risk::Medium),
        };
        grants.push(grant(
            format!("{} ({mode})", bind.path),
            risk,
            format!("{verb} the files in {}.", bind.path),
        ));
    }
    let lists = [
        ("talk to", &profile.dbus.talk, "session"),
        ("own", &profile.dbus.own, "session"),
        ("see", &profile.dbus.see, "session"),
        ("talk to", &profile.dbus.system_talk, "system"),
    ];
    for (verb, names, bus) in lists {
        for name in names {
            let (risk, why) = if is_escape_name(name) {
                (
                    Risk::Critical,
                    format!("Known sandbox escape: {name} can start programs outside the sandbox."),
                )
            } else if bus == "system" {
                (Risk::Medium, format!("May call {name} on the system bus."))
            } else if verb == "own" {
                (
                    Risk::Low,
                    format!("May publish itself as {name} on the session bus."),
                )
            } else if verb == "see" {
                (
                    Risk::Low,
                    format!("May see that {name} exists on the session bus."),
                )
            } else {
                (Risk::Low, format!("May call {name} on the session bus."))
            };
            grants.push(grant(format!("D-Bus ({bus}): {verb} {name}"), risk, why));
        }
    }
    grants.sort_by_key(|grant| std::cmp::Reverse(grant.risk));
    grants
}

/// The highest risk among the grants, or `None` for a profile that reaches nothing.
pub fn highest(profile: &Profile) -> Option<Risk> {
    summarize(profile).first().map(|grant| grant.risk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::load::parse;
    use crate::profile::validate::{finish, Origin};

    fn profile(text: &str) -> Profile {
        let raw = parse("t.toml", text).expect("parses");
        finish(
            raw,
            "t",
            &Origin {
                file: "t.toml",
                text: Some(text),
            },
        )
        .expect("valid")
    }

    #[test]
    fn x11_is_high_and_wayland_low() {
        let x11 = profile("command = [\"x\"]\ndisplay = \"x11\"\n");
        assert_eq!(highest(&x11), Some(Risk::High));
        assert!(summarize(&x11)[0].why.contains("keystrokes"));
        let wayland = profile("command = [\"x\"]\ndisplay = \"wayland\"\n");
        assert_eq!(highest(&wayland), Some(Risk::Low));
    }

    #[test]
    fn escape_bus_names_are_critical_and_sorted_first() {
        let p = profile(
            "command = [\"x\"]\nnetwork = \"host\"\n[dbus]\ntalk = [\"org.freedesktop.Notifications\", \"org.freedesktop.systemd1\"]\n",
        );
        let grants = summarize(&p);
        assert_eq!(grants[0].risk, Risk::Critical);
        assert!(grants[0].what.contains("systemd1"));
        assert!(grants.windows(2).all(|w| w[0].risk >= w[1].risk));
        let wildcard = profile("command = [\"x\"]\n[dbus]\ntalk = [\"org.freedesktop.*\"]\n");
        assert_eq!(highest(&wildcard), Some(Risk::Critical));
    }

    #[test]
    fn shares_network_and_userns_levels() {
        let p = profile(
            "command = [\"x\"]\nnetwork = \"host\"\nallow_userns = true\n[[home.share]]\npath = \"Documents\"\nmode = \"rw\"\n[[home.share]]\npath = \"Music\"\n",
        );
        let grants = summarize(&p);
        let level = |what: &str| {
            grants
                .iter()
                .find(|g| g.what.starts_with(what))
                .map(|g| g.risk)
        };
        assert_eq!(level("~/Documents"), Some(Risk::Medium));
        assert_eq!(level("~/Music"), Some(Risk::Low));
        assert_eq!(level("Network: host"), Some(Risk::Medium));
        assert_eq!(level("Nested user namespaces"), Some(Risk::Medium));
        let here = |scoped| {
            summarize_here(&p, Some(scoped))
                .into_iter()
                .find(|g| g.what == "Network: host")
                .unwrap()
        };
        assert_eq!(here(true).risk, Risk::Medium);
        assert!(here(true).why.contains("out of reach here"));
        assert_eq!(here(false).risk, Risk::High);
        assert!(here(false).why.contains("lacks Landlock ABI 6"));
        let x11 = profile("command = [\"x\"]\nnetwork = \"host\"\ndisplay = \"x11\"\n");
        let x11_net = summarize_here(&x11, Some(true))
            .into_iter()
            .find(|g| g.what == "Network: host")
            .unwrap();
        assert_eq!(x11_net.risk, Risk::High);
        let forced = profile("command = [\"x\"]\n[[home.share]]\npath = \".ssh\"\nforce = true\n");
        assert_eq!(highest(&forced), Some(Risk::Critical));
        let nothing = profile("command = [\"x\"]\n");
        assert_eq!(highest(&nothing), None);
    }
}
