//! Which D-Bus names two profiles would both own: one session bus has one owner per name,
//! so an app started while another sandbox owns its name hands its work to that sandbox
//! (a GTK app's single-instance activation), whatever that sandbox is granted.

use super::Profile;

/// Whether two `own` patterns can name the same bus name. A pattern is a well-known name
/// (`org.xfce.mousepad`) or one ending in `.*`, which xdg-dbus-proxy reads as the name
/// itself and every name below it (`org.mpris.MediaPlayer2.*`).
pub fn patterns_overlap(a: &str, b: &str) -> bool {
    let covers = |wildcard: &str, other: &str| match wildcard.strip_suffix(".*") {
        Some(prefix) => {
            let other = other.strip_suffix(".*").unwrap_or(other);
            other == prefix
                || other
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
        }
        None => false,
    };
    a == b || covers(a, b) || covers(b, a)
}

/// A tray icon's name (`org.kde.StatusNotifierItem-PID-N`): an app owns it to show its
/// icon, never to be found by a second launch, so two apps owning it hand no work to each
/// other (the second one's icon waits in the bus's queue for the name).
fn is_tray_icon_name(name: &str) -> bool {
    name.starts_with("org.kde.StatusNotifierItem-")
}

/// The `own` patterns of `profile` that `other` may own too, each as `MINE` or, when the
/// other profile names it differently, `MINE (THEIRS)`. Tray icon names are left out.
pub fn shared_owned(profile: &Profile, other: &Profile) -> Vec<String> {
    let mut shared = Vec::new();
    for mine in profile.dbus.own.iter().filter(|n| !is_tray_icon_name(n)) {
        for theirs in other.dbus.own.iter().filter(|n| !is_tray_icon_name(n)) {
            if patterns_overlap(mine, theirs) {
                shared.push(if mine == theirs {
                    mine.clone()
                } else {
                    format!("{mine} ({theirs})")
                });
            }
        }
    }
    shared
}

/// Two profiles that own a name in common, as `boxtop check` warns of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub first: String,
    pub second: String,
    /// As [`shared_owned`] names them, from the first profile's side.
    pub names: Vec<String>,
}

/// Every pair of `profiles` owning a name in common, in the order given.
pub fn collisions(profiles: &[Profile]) -> Vec<Collision> {
    let mut found = Vec::new();
    for (i, first) in profiles.iter().enumerate() {
        for second in &profiles[i + 1..] {
            let names = shared_owned(first, second);
            if !names.is_empty() {
                found.push(Collision {
                    first: first.name.clone(),
                    second: second.name.clone(),
                    names,
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_wildcards_overlap_as_the_proxy_reads_them() {
        assert!(patterns_overlap("org.xfce.mousepad", "org.xfce.mousepad"));
        assert!(patterns_overlap("org.xfce.*", "org.xfce.mousepad"));
        assert!(patterns_overlap("org.xfce.mousepad", "org.xfce.*"));
        assert!(patterns_overlap("org.xfce.*", "org.xfce"));
        assert!(patterns_overlap("org.*", "org.xfce.*"));
        assert!(!patterns_overlap("org.xfce.mousepad", "org.xfce.mousepad2"));
        assert!(!patterns_overlap("org.xfce.mouse*", "org.xfce.mousepad"));
        assert!(!patterns_overlap("org.xfce.*", "org.xfcey.app"));
        assert!(!patterns_overlap("org.a.*", "org.b.*"));
    }
}
