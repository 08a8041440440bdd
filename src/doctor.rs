//! `boxtop doctor`: each host feature boxtop relies on, whether it is there, and how to
//! get it when it is not.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::paths::Paths;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Missing,
    /// Works, with a limitation worth knowing.
    Limited,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub feature: &'static str,
    pub status: Status,
    pub detail: String,
    /// What to do when it is not ok.
    pub fix: Option<String>,
}

use crate::sandbox::diagnosis::{read_sysctl, tun_status};
pub use crate::sandbox::diagnosis::{tun_problem, userns_hint, userns_problem, TUN_DEVICE};

fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn check(feature: &'static str, ok: bool, detail: String, fix: &str) -> Check {
    Check {
        feature,
        status: if ok { Status::Ok } else { Status::Missing },
        detail,
        fix: (!ok).then(|| fix.to_string()),
    }
}

/// Checks every feature; cheap enough to run at any time.
pub fn run_checks(paths: &Paths) -> Vec<Check> {
    let mut checks = Vec::new();
    let userns = userns_problem();
    checks.push(Check {
        feature: "user namespaces",
        status: if userns.is_none() {
            Status::Ok
        } else {
            Status::Missing
        },
        detail: match read_sysctl("/proc/sys/user/max_user_namespaces") {
            Some(max) => format!("max_user_namespaces = {max}"),
            None => "no /proc/sys/user/max_user_namespaces".into(),
        },
        fix: userns,
    });
    let seccomp = std::fs::read_to_string("/proc/self/status")
        .ok()
        .is_some_and(|status| status.lines().any(|line| line.starts_with("Seccomp:")));
    checks.push(check(
        "seccomp",
        seccomp && Path::new("/proc/sys/kernel/seccomp/actions_avail").exists(),
        "seccomp filters (needed for the syscall filter)".into(),
        "use a kernel built with CONFIG_SECCOMP_FILTER",
    ));
    checks.push(landlock_check());
    checks.push(cgroup_check());
    let runtime = paths.xdg_runtime_dir.clone();
    let wayland = std::env::var("WAYLAND_DISPLAY").ok().and_then(|display| {
        let path = if display.starts_with('/') {
            PathBuf::from(&display)
        } else {
            runtime.as_ref()?.join(&display)
        };
        path.exists().then_some(path)
    });
    checks.push(check(
        "wayland",
        wayland.is_some(),
        wayland.map_or("no Wayland socket ($WAYLAND_DISPLAY)".into(), |p| {
            format!("socket {}", p.display())
        }),
        "start boxtop from a Wayland session, or use display = \"x11\"",
    ));
    let x11 = std::env::var("DISPLAY").ok().and_then(|display| {
        let number = display.strip_prefix(':')?.split('.').next()?.to_string();
        let path = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        path.exists().then_some(path)
    });
    checks.push(check(
        "x11",
        x11.is_some(),
        x11.map_or("no local X server socket ($DISPLAY)".into(), |p| {
            format!("socket {}", p.display())
        }),
        "start boxtop from an X11 or XWayland session",
    ));
    let pulse = runtime
        .as_ref()
        .map(|dir| dir.join("pulse/native"))
        .filter(|p| p.exists());
    checks.push(check(
        "pulseaudio",
        pulse.is_some(),
        pulse.map_or("no $XDG_RUNTIME_DIR/pulse/native".into(), |p| {
            format!("socket {}", p.display())
        }),
        "start PulseAudio or pipewire-pulse",
    ));
    let pipewire = runtime
        .as_ref()
        .map(|dir| dir.join("pipewire-0"))
        .filter(|p| p.exists());
    checks.push(check(
        "pipewire",
        pipewire.is_some(),
        pipewire.map_or("no $XDG_RUNTIME_DIR/pipewire-0".into(), |p| {
            format!("socket {}", p.display())
        }),
        "start PipeWire",
    ));
    for (feature, program, package) in [
        ("xdg-dbus-proxy", "xdg-dbus-proxy", "install xdg-dbus-proxy (Debian/Fedora/Arch package of that name), needed for dbus names"),
        ("pasta", "pasta", "install passt (Debian/Fedora/Arch), needed for network = \"isolated\""),
    ] {
        let found = find_in_path(program);
        checks.push(check(
            feature,
            found.is_some(),
            found.map_or(format!("{program} not in PATH"), |p| p.display().to_string()),
            package,
        ));
    }
    let tun = tun_status(Path::new(TUN_DEVICE));
    checks.push(Check {
        feature: "tun device",
        status: if tun.is_ok() {
            Status::Ok
        } else {
            Status::Missing
        },
        detail: match &tun {
            Ok(()) => format!("{TUN_DEVICE} opens, as pasta needs for network = \"isolated\""),
            Err((what, _)) => what.clone(),
        },
        fix: tun.err().map(|(_, fix)| fix),
    });
    checks
}

/// Landlock, the second wall behind the mount plan: what this kernel enforces.
fn landlock_check() -> Check {
    use crate::sandbox::landlock::Support;
    let support = Support::detect();
    let status = if support.has_scopes() {
        Status::Ok
    } else if support.has_filesystem_rules() {
        Status::Limited
    } else {
        Status::Missing
    };
    Check {
        feature: "landlock",
        status,
        detail: support.describe(),
        fix: (status != Status::Ok).then(|| {
            "use Linux 6.12 or later with Landlock enabled (CONFIG_SECURITY_LANDLOCK, \
             `landlock` in the lsm= boot parameter); sandboxes start without it, behind \
             their mount plan alone"
                .to_string()
        }),
    }
}

/// cgroup v2 delegation, found the way launches find it (`instance::cgroup::find`),
/// with the controllers instances can get limits from.
fn cgroup_check() -> Check {
    use crate::instance::{cgroup, systemd};
    const FEATURE: &str = "cgroup v2 delegation";
    // The way a launch goes: a scope of the user manager when one runs.
    let manager = systemd::is_likely_running().then(|| {
        let address = systemd::session_bus_address().unwrap_or_default();
        let answer = match crate::sys::SingleThreaded::check() {
            // From a child: this process may still fork afterwards (see `systemd`).
            Ok(single) => systemd::call_forked(&single, |m| m.version().map(drop)),
            Err(_) => match systemd::Manager::connect() {
                Ok(_) => systemd::Forked::Done,
                Err(err) => systemd::Forked::Failed(err.to_string()),
            },
        };
        (address, answer)
    });
    if let Some((address, systemd::Forked::Done)) = &manager {
        let own = cgroup::cgroup2_mount().and_then(|m| cgroup::own_cgroup(&m).ok());
        let offered = own
            .as_ref()
            .and_then(|dir| std::fs::read_to_string(dir.join("cgroup.controllers")).ok())
            .unwrap_or_default();
        let missing: Vec<&str> = ["cpu", "memory", "pids"]
            .into_iter()
            .filter(|c| !offered.split_whitespace().any(|o| o == *c))
            .collect();
        return Check {
            feature: FEATURE,
            status: if missing.is_empty() {
                Status::Ok
            } else {
                Status::Limited
            },
            detail: format!(
                "each instance runs in a transient scope app-boxtop-APPID-INSTANCE.scope in \
                 {slice} of the systemd user manager, which answers on {address} (its cgroup \
                 is the scope's, under the manager's {slice}){}",
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; the {} controller(s) are not offered to the manager's units ({}), \
                         so those limits are set on the scope but fall back to rlimits or are \
                         not enforced",
                        missing.join(", "),
                        own.map(|d| d.display().to_string()).unwrap_or_default()
                    )
                },
                slice = systemd::SLICE,
            ),
            fix: (!missing.is_empty()).then(|| {
                "delegate the controllers to your user manager (`Delegate=cpu memory pids` \
                 for user@.service) on a host with every controller in cgroup v2"
                    .to_string()
            }),
        };
    }
    let no_manager = match &manager {
        None => "no systemd user manager runs for this session ($XDG_RUNTIME_DIR/systemd/private \
                 is missing)"
            .to_string(),
        Some((_, systemd::Forked::Absent(why) | systemd::Forked::Failed(why))) => {
            format!("the systemd user manager does not answer ({why})")
        }
        Some((_, systemd::Forked::Done)) => String::new(),
    };
    let checked = cgroup_delegation_check(FEATURE);
    Check {
        detail: format!("{no_manager}; {}", checked.detail),
        ..checked
    }
}

/// The cgroup check without a user manager: an explicitly delegated folder, or none.
fn cgroup_delegation_check(feature: &'static str) -> Check {
    use crate::instance::cgroup::{self, ROOT_VAR};
    match cgroup::find() {
        Ok(delegation) => {
            let parent = if delegation.base.exists() {
                delegation.base.clone()
            } else {
                delegation
                    .base
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default()
            };
            let offered = std::fs::read_to_string(parent.join("cgroup.controllers"))
                .unwrap_or_default();
            let missing: Vec<&str> = ["cpu", "memory", "pids"]
                .into_iter()
                .filter(|c| !offered.split_whitespace().any(|o| o == *c))
                .collect();
            Check {
                feature,
                status: if missing.is_empty() {
                    Status::Ok
                } else {
                    Status::Limited
                },
                detail: format!(
                    "{ROOT_VAR} names a delegated folder: instances get their own cgroup under {}{}",
                    delegation.base.display(),
                    if missing.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; the {} controller(s) are not offered there, so those limits fall back to rlimits or are not applied",
                            missing.join(", ")
                        )
                    }
                ),
                fix: (!missing.is_empty()).then(|| {
                    "enable the controllers for your delegated subtree (systemd: `Delegate=cpu memory pids` for user@.service)".to_string()
                }),
            }
        }
        Err(why) => Check {
            feature,
            status: Status::Limited,
            detail: format!(
                "{why}; boxtop falls back to /proc accounting, SIGSTOP/SIGCONT for pause and rlimits for limits (no cpu limit)"
            ),
            fix: Some(why.hint().to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tun_device_asks_for_the_module() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tun");
        let (what, fix) = tun_status(&path).unwrap_err();
        assert!(what.contains(&path.display().to_string()), "{what}");
        assert!(what.contains("missing"), "{what}");
        assert!(fix.contains("modprobe tun"), "{fix}");
    }

    #[test]
    fn a_device_that_opens_is_fine() {
        let file = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(tun_status(file.path()), Ok(()));
    }

    #[test]
    fn a_device_that_cannot_be_opened_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (what, _) = tun_status(dir.path()).unwrap_err();
        assert!(what.contains("cannot be opened"), "{what}");
    }

    #[test]
    fn a_tun_device_closed_to_the_user_asks_for_mode_0666() {
        let path = Path::new(TUN_DEVICE);
        let error = std::io::Error::from_raw_os_error(libc::EACCES);
        let (what, fix) = crate::sandbox::diagnosis::tun_diagnosis(path, &error);
        assert!(
            what.starts_with("/dev/net/tun cannot be opened by uid "),
            "{what}"
        );
        assert!(what.contains("Permission denied"), "{what}");
        assert!(fix.contains("sudo chmod 0666 /dev/net/tun"), "{fix}");
        assert!(fix.contains("KERNEL==\"tun\", MODE=\"0666\""), "{fix}");
    }
}
