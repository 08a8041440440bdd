//! Turns the commands of a Firejail profile into boxtop's keys: what each grant becomes,
//! why (the Firejail line it comes from), and what has no boxtop equivalent.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use super::firejail::{Command, FirejailError, Parsed, Place};
use super::home;
use crate::profile::{Access, Audio, Display, Network};

/// A share as written in the new profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareOut {
    pub path: String,
    pub mode: Access,
    pub create: bool,
    /// The comment above it: the Firejail lines it comes from.
    pub why: String,
}

/// A bind outside the home (always read-only and optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindOut {
    pub path: String,
    pub why: String,
}

/// A Firejail command with no boxtop equivalent, and why.
#[derive(Debug, Clone)]
pub struct Untranslated {
    pub command: Command,
    pub why: String,
}

/// One boxtop key's value and the reason for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed<T> {
    pub value: T,
    pub why: String,
}

/// Everything the new profile says, and everything it could not say.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub display: Keyed<Display>,
    pub audio: Keyed<Audio>,
    pub gpu: Keyed<bool>,
    pub webcam: Keyed<bool>,
    pub network: Keyed<Network>,
    pub allow_userns: Keyed<bool>,
    pub ephemeral: Option<Keyed<bool>>,
    pub shares: Vec<ShareOut>,
    /// Paths Firejail shares that are not in the home now (see `home::Finished`).
    pub absent: Vec<String>,
    pub binds: Vec<BindOut>,
    pub talk: Vec<String>,
    pub own: Vec<String>,
    pub see: Vec<String>,
    pub system_talk: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub untranslated: Vec<Untranslated>,
    /// Commands boxtop does for every app (by name), so the profile needs nothing.
    pub always: Vec<String>,
    /// Differences in meaning the user should know of.
    pub notes: Vec<String>,
}

/// Commands whose effect boxtop has for every app.
const ALWAYS: &[(&str, &str)] = &[
    ("caps", "no capabilities at all"),
    ("caps.drop", "no capabilities at all"),
    ("seccomp", "its own seccomp filter"),
    (
        "seccomp.block-secondary",
        "other architectures' system calls are refused",
    ),
    ("nonewprivs", "no_new_privs"),
    ("noroot", "a user namespace with only your uid"),
    ("nogroups", "no supplementary groups"),
    ("private-dev", "a minimal /dev"),
    ("private-tmp", "its own /tmp"),
    ("private-cache", "~/.cache is in the private home"),
    ("nodvd", "no optical drives in /dev"),
    ("notv", "no TV tuners in /dev"),
    ("nou2f", "no security keys in /dev"),
    ("noinput", "no input devices in /dev"),
    ("noprinters", "no printers in /dev and no CUPS socket"),
    ("disable-mnt", "no /mnt, /media or /run/media unless bound"),
    ("ipc-namespace", "its own IPC namespace"),
    ("deterministic-shutdown", "the sandbox ends with its app"),
    (
        "join-or-start",
        "a second launch runs in the running sandbox",
    ),
    (
        "noblacklist",
        "nothing is hidden that would need showing again",
    ),
    ("shell", "no shell is used to start the app"),
];

/// Commands with no equivalent, and why (those with a specific reason are handled in
/// `convert`).
const NO_EQUIVALENT: &[(&str, &str)] = &[
    (
        "apparmor-replace",
        "boxtop has its own AppArmor profile for itself (docs/apparmor.md), none per app",
    ),
    (
        "apparmor",
        "boxtop has its own AppArmor profile for itself (docs/apparmor.md), none per app",
    ),
    (
        "private-bin",
        "boxtop shows all of /usr read-only; it does not pick programs",
    ),
    ("private-etc", "boxtop's /etc is its own fixed minimal set"),
    (
        "private-lib",
        "boxtop shows all of /usr read-only; it does not pick libraries",
    ),
    ("private-srv", "boxtop does not show /srv unless bound"),
    ("tracelog", "boxtop does not log access to hidden paths"),
    (
        "memory-deny-write-execute",
        "boxtop's seccomp filter does not refuse writable executable memory",
    ),
    ("machine-id", "the sandbox sees the host's machine id"),
    ("hostname", "the sandbox's hostname is the profile's name"),
    ("noexec", "boxtop does not mount folders noexec"),
    ("caps.keep", "boxtop keeps no capability"),
    ("seccomp.drop", "boxtop's seccomp filter is fixed"),
    ("seccomp.keep", "boxtop's seccomp filter is fixed"),
    ("seccomp.32", "boxtop's seccomp filter is fixed"),
    ("writable-var", "boxtop does not show /var unless bound"),
    ("writable-var-log", "boxtop does not show /var/log"),
    (
        "writable-run-user",
        "the runtime folder holds only what grants bring",
    ),
    ("writable-etc", "boxtop's /etc is read-only"),
    ("keep-dev-shm", "/dev/shm is the sandbox's own"),
    ("keep-var-tmp", "/var/tmp is the sandbox's own /tmp"),
    (
        "keep-config-pulse",
        "boxtop does not change PulseAudio's settings",
    ),
    (
        "keep-fd",
        "the app gets only standard input, output and error",
    ),
    (
        "allow-debuggers",
        "boxtop's seccomp filter refuses ptrace of outside processes",
    ),
    ("allusers", "only your home can be shared"),
    ("tab", "not needed: boxtop starts no restricted shell"),
    ("private-cwd", "the app starts in your home folder"),
    (
        "blacklist",
        "boxtop shows nothing of your home and no system secrets unless granted",
    ),
    (
        "blacklist-nolog",
        "boxtop shows nothing of your home and no system secrets unless granted",
    ),
    (
        "netfilter",
        "boxtop has no firewall rules; the network is isolated instead",
    ),
    (
        "netfilter6",
        "boxtop has no firewall rules; the network is isolated instead",
    ),
    ("name", "the sandbox is named after the profile"),
];

/// Converts a read Firejail profile, looking in `home` to see which shared paths exist.
pub fn convert(parsed: &Parsed, home: &Path) -> Result<Conversion, FirejailError> {
    let user_dirs = home::user_dirs(home);
    let mut conv = Conversion {
        display: keyed(Display::Auto, "Firejail lets an app reach the display unless its profile says `x11 none`"),
        audio: keyed(Audio::Auto, "Firejail lets an app play sound unless its profile says `nosound`"),
        gpu: keyed(true, "Firejail keeps /dev/dri unless its profile says `no3d`"),
        webcam: keyed(true, "Firejail keeps /dev/video* unless its profile says `novideo`"),
        network: keyed(Network::Isolated, "the Firejail profile shares the host's network; here the app reaches the internet but no service of this machine (network = \"host\" for those)"),
        allow_userns: keyed(true, "the Firejail profile does not say `restrict-namespaces`: nested sandboxes (browsers, Electron apps) need namespaces"),
        ephemeral: None,
        shares: Vec::new(),
        absent: Vec::new(),
        binds: Vec::new(),
        talk: Vec::new(),
        own: Vec::new(),
        see: Vec::new(),
        system_talk: Vec::new(),
        env: BTreeMap::new(),
        untranslated: Vec::new(),
        always: Vec::new(),
        notes: Vec::new(),
    };
    let mut paths = home::PathRules::default();
    let mut dbus_user = None;
    let mut dbus_system = None;
    let mut protocols: Option<&Command> = None;
    for command in &parsed.commands {
        let arg = command.arg.as_str();
        let mut untranslated = |why: &str| {
            conv.untranslated.push(Untranslated {
                command: command.clone(),
                why: why.to_string(),
            })
        };
        match command.name.as_str() {
            "whitelist" | "mkdir" | "mkfile" | "read-only" | "read-write" | "nowhitelist" => {
                let target = home::target(arg, home, &user_dirs)
                    .map_err(|message| path_error(command, message))?;
                paths.add(command, target);
            }
            "blacklist" | "blacklist-nolog" if arg.contains("${PATH}") => {
                untranslated("boxtop shows every program of /usr; it hides none")
            }
            "private" if arg.is_empty() => {
                conv.ephemeral = Some(keyed(
                    true,
                    &format!(
                        "a home forgotten at exit, as Firejail's `private` ({})",
                        command.at
                    ),
                ));
            }
            "private" => untranslated(
                "boxtop's private home is its own folder; use a share for a folder of yours",
            ),
            "private-opt" => {
                for item in arg.split(',').filter(|item| !item.is_empty()) {
                    let path = format!("/opt/{item}");
                    if is_plain_path(item) && !item.contains('/') {
                        conv.binds.push(BindOut {
                            path,
                            why: format!(
                                "`private-opt {item}` ({}): boxtop shows no /opt unless bound",
                                command.at
                            ),
                        });
                    } else {
                        conv.untranslated.push(Untranslated {
                            command: command.clone(),
                            why: format!("'{item}' is not one folder of /opt"),
                        });
                    }
                }
            }
            "x11" if arg == "none" => {
                conv.display = keyed(
                    Display::None,
                    &format!(
                        "none, as `x11 none` ({}) says: a command-line program",
                        command.at
                    ),
                );
            }
            "x11" => {
                untranslated("boxtop runs no nested X server; the app uses the session's display")
            }
            "nosound" => {
                conv.audio = keyed(
                    Audio::None,
                    &format!("none, as `nosound` ({}) says", command.at),
                )
            }
            "no3d" => conv.gpu = keyed(false, &format!("none, as `no3d` ({}) says", command.at)),
            "novideo" => {
                conv.webcam = keyed(false, &format!("none, as `novideo` ({}) says", command.at))
            }
            "net" if arg == "none" => {
                conv.network = keyed(
                    Network::None,
                    &format!("none, as `net none` ({}) says", command.at),
                );
            }
            "net" => {
                if conv.network.value != Network::None {
                    conv.network = keyed(Network::Isolated, &format!("its own network stack with internet, for `net {arg}` ({}); boxtop picks no interface", command.at));
                }
            }
            "netfilter" | "netfilter6" => {
                if conv.network.value != Network::None {
                    conv.network = keyed(Network::Isolated, &format!("its own network stack with internet, for `{}` ({}): no service of this machine is reachable", command.name, command.at));
                }
                untranslated("boxtop has no firewall rules; the network is isolated instead");
            }
            "dns" | "ip" | "ip6" | "defaultgw" | "mac" | "mtu" | "veth-name" | "netns"
            | "iprange" | "hosts-file" | "interface" => {
                untranslated("boxtop's isolated network has fixed settings")
            }
            "protocol" => protocols = Some(command),
            // `restrict-namespaces ipc,net` leaves user namespaces allowed.
            "restrict-namespaces" if !arg.is_empty() && !arg.split(',').any(|ns| ns == "user") => {
                note_always(&mut conv.always, "restrict-namespaces");
            }
            "restrict-namespaces" => {
                conv.allow_userns = keyed(
                    false,
                    &format!(
                        "no nested namespaces, as `restrict-namespaces` ({}) says",
                        command.at
                    ),
                );
            }
            "nodbus" => {
                dbus_user = Some(("none", command.at.clone()));
                dbus_system = Some(("none", command.at.clone()));
            }
            "dbus-user" => {
                dbus_user = Some((
                    if arg == "filter" { "filter" } else { "none" },
                    command.at.clone(),
                ))
            }
            "dbus-system" => {
                dbus_system = Some((
                    if arg == "filter" { "filter" } else { "none" },
                    command.at.clone(),
                ))
            }
            "dbus-user.talk" | "dbus-user.own" | "dbus-user.see" | "dbus-system.talk" => {
                if !crate::profile::validate::is_valid_bus_name(arg) {
                    untranslated("not a name xdg-dbus-proxy takes (a well-known name, optionally ending in .*)");
                    continue;
                }
                let list = match command.name.as_str() {
                    "dbus-user.talk" => &mut conv.talk,
                    "dbus-user.own" => &mut conv.own,
                    "dbus-user.see" => &mut conv.see,
                    _ => &mut conv.system_talk,
                };
                if !list.iter().any(|name| name == arg) {
                    list.push(arg.to_string());
                }
            }
            "dbus-system.own" | "dbus-system.see" => {
                untranslated("boxtop lets an app only talk to system bus names")
            }
            "dbus-user.call"
            | "dbus-user.broadcast"
            | "dbus-system.call"
            | "dbus-system.broadcast" => {
                untranslated("boxtop grants whole names, not single methods or signals")
            }
            "env" => match arg.split_once('=') {
                Some((name, value))
                    if !name.is_empty() && !name.contains('\0') && !value.contains('\0') =>
                {
                    conv.env.insert(name.to_string(), value.to_string());
                }
                _ => untranslated("not NAME=VALUE"),
            },
            "rmenv"
                if matches!(
                    arg,
                    "DISPLAY"
                        | "WAYLAND_DISPLAY"
                        | "XAUTHORITY"
                        | "DBUS_SESSION_BUS_ADDRESS"
                        | "PULSE_SERVER"
                ) =>
            {
                untranslated("boxtop sets this variable for the grant that needs it")
            }
            "rmenv" => note_always(&mut conv.always, "rmenv"),
            name => {
                if ALWAYS.iter().any(|(always, _)| *always == name) {
                    note_always(&mut conv.always, name);
                } else if let Some((_, why)) =
                    NO_EQUIVALENT.iter().find(|(known, _)| *known == name)
                {
                    untranslated(why);
                } else {
                    untranslated("boxtop's importer does not know this command");
                }
            }
        }
    }
    if let Some(command) = protocols {
        let families: Vec<&str> = command
            .arg
            .split(',')
            .map(|f| f.trim_start_matches(['+', '-', '=']))
            .collect();
        if !families.iter().any(|f| matches!(*f, "inet" | "inet6"))
            && conv.network.value != Network::None
        {
            conv.network = keyed(
                Network::None,
                &format!(
                    "none: `protocol {}` ({}) allows no internet sockets",
                    command.arg, command.at
                ),
            );
        }
        if families
            .iter()
            .any(|f| matches!(*f, "packet" | "bluetooth"))
        {
            conv.untranslated.push(Untranslated {
                command: command.clone(),
                why: "boxtop allows unix, inet, inet6 and netlink sockets only".into(),
            });
        } else {
            note_always(&mut conv.always, "protocol");
        }
    }
    dbus_policies(&mut conv, dbus_user, dbus_system);
    let finished = paths.finish(home, conv.display.value != Display::None);
    conv.shares = finished.shares;
    conv.absent = finished.absent;
    conv.binds.extend(finished.binds);
    conv.untranslated.extend(finished.untranslated);
    for name in finished.always {
        note_always(&mut conv.always, name);
    }
    if !paths.has_home_whitelist() {
        conv.notes.push(
            "Firejail shows this app your whole home, except what it blacklists; boxtop shows \
             it none of it: add a [[home.share]] for each folder it needs"
                .into(),
        );
    }
    conv.always.sort();
    Ok(conv)
}

fn dbus_policies(
    conv: &mut Conversion,
    user: Option<(&str, Place)>,
    system: Option<(&str, Place)>,
) {
    match user {
        None => conv.notes.push(
            "Firejail gives this app the whole session bus; boxtop gives it only the names in \
             [dbus]: none here, so it has no session bus"
                .into(),
        ),
        Some(("none", _)) => {
            conv.talk.clear();
            conv.own.clear();
            conv.see.clear();
        }
        Some(_) => {}
    }
    match system {
        None => conv.notes.push(
            "Firejail gives this app the whole system bus; boxtop gives it only the names in \
             dbus.system_talk"
                .into(),
        ),
        Some(("none", _)) => conv.system_talk.clear(),
        Some(_) => {}
    }
}

fn keyed<T>(value: T, why: &str) -> Keyed<T> {
    Keyed {
        value,
        why: why.to_string(),
    }
}

fn note_always(always: &mut Vec<String>, name: &str) {
    if !always.iter().any(|known| known == name) {
        always.push(name.to_string());
    }
}

/// A path argument that leaves the home or names nothing: the whole profile is refused,
/// as Firejail refuses it.
fn path_error(command: &Command, message: String) -> FirejailError {
    FirejailError::Bad {
        at: command.at.clone(),
        message: format!("`{}`: {message}", crate::escape::controls(&command.text())),
        hint: "Firejail refuses '..' in paths too; write the path without it".into(),
    }
}

/// No glob, no `..`, no control character: one literal path.
pub fn is_plain_path(path: &str) -> bool {
    !path.contains(['*', '?', '[', ']'])
        && !path.chars().any(char::is_control)
        && !Path::new(path)
            .components()
            .any(|c| c == Component::ParentDir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::firejail::Reader;

    /// Converts a one-file profile, with an empty home.
    fn convert_text(text: &str) -> Conversion {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let file = dir.path().join("app.profile");
        std::fs::write(&file, text).unwrap();
        let parsed = Reader::new(&home, &dir.path().join("none"))
            .read(&file)
            .unwrap();
        convert(&parsed, &home).unwrap()
    }

    #[test]
    fn devices_network_and_namespaces_follow_the_profile() {
        let conv =
            convert_text("x11 none\nnosound\nno3d\nnovideo\nnet none\nrestrict-namespaces\n");
        assert_eq!(conv.display.value, Display::None);
        assert_eq!(conv.audio.value, Audio::None);
        assert!(!conv.gpu.value && !conv.webcam.value && !conv.allow_userns.value);
        assert_eq!(conv.network.value, Network::None);
        assert!(
            conv.network.why.contains("app.profile:5"),
            "{}",
            conv.network.why
        );

        let conv = convert_text("netfilter\nrestrict-namespaces ipc,net\n");
        assert_eq!(conv.display.value, Display::Auto);
        assert_eq!(conv.network.value, Network::Isolated);
        assert!(conv.allow_userns.value);
        assert!(conv
            .untranslated
            .iter()
            .any(|u| u.command.name == "netfilter"));

        // No internet socket family: no network, even without `net none`.
        let conv = convert_text("protocol unix,netlink\n");
        assert_eq!(conv.network.value, Network::None);
    }

    #[test]
    fn dbus_filters_become_lists_and_none_empties_them() {
        let conv = convert_text(
            "dbus-user filter\ndbus-user.talk org.freedesktop.Notifications\n\
             dbus-user.own org.example.App\ndbus-user.see org.example.Other\n\
             dbus-user.call org.example.App=org.example.App.Do@/\n\
             dbus-system filter\ndbus-system.talk org.freedesktop.NetworkManager\n\
             dbus-user.talk not-a-name\n",
        );
        assert_eq!(conv.talk, ["org.freedesktop.Notifications"]);
        assert_eq!(conv.own, ["org.example.App"]);
        assert_eq!(conv.see, ["org.example.Other"]);
        assert_eq!(conv.system_talk, ["org.freedesktop.NetworkManager"]);
        let names: Vec<&str> = conv
            .untranslated
            .iter()
            .map(|u| u.command.name.as_str())
            .collect();
        assert_eq!(names, ["dbus-user.call", "dbus-user.talk"]);
        assert!(
            !conv.notes.iter().any(|note| note.contains("bus")),
            "{:?}",
            conv.notes
        );

        let conv = convert_text("dbus-user.talk org.example.A\ndbus-user none\ndbus-system none\n");
        assert!(conv.talk.is_empty());
        // Without a policy Firejail gives the whole bus: said, since boxtop does not.
        let conv = convert_text("nosound\n");
        assert!(conv
            .notes
            .iter()
            .any(|note| note.contains("whole session bus")));
        assert!(conv.notes.iter().any(|note| note.contains("whole home")));
    }

    #[test]
    fn what_boxtop_always_does_is_listed_not_untranslated() {
        let conv = convert_text(
            "caps.drop all\nseccomp !chroot\nnonewprivs\nnoroot\nprivate-dev\nprivate-tmp\n\
             apparmor\nprivate-bin app\nprivate\nenv A=b\nsomething-new\n",
        );
        for name in [
            "caps.drop",
            "seccomp",
            "nonewprivs",
            "noroot",
            "private-dev",
            "private-tmp",
        ] {
            assert!(
                conv.always.iter().any(|known| known == name),
                "{name}: {:?}",
                conv.always
            );
        }
        let names: Vec<&str> = conv
            .untranslated
            .iter()
            .map(|u| u.command.name.as_str())
            .collect();
        assert_eq!(names, ["apparmor", "private-bin", "something-new"]);
        assert_eq!(conv.ephemeral.map(|e| e.value), Some(true));
        assert_eq!(conv.env.get("A").map(String::as_str), Some("b"));
    }
}
