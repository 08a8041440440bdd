//! What each permission brings into a sandbox: the display, audio, devices, D-Bus,
//! network and the look and feel. `Session` records what the host offers right now;
//! `apply` adds a profile's grants to a plan; `missing` says which granted thing the
//! host lacks, so `run` can say so instead of starting an app that fails mysteriously.

pub mod xauth;

use std::io::Read;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;

use serde::Serialize;

use crate::profile::{Access, Audio, Display, Network, Profile};

/// A Wayland compositor's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wayland {
    /// `$WAYLAND_DISPLAY` as set (a name, or an absolute path).
    pub display: String,
    pub socket: PathBuf,
}

/// A local X server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X11 {
    pub number: u32,
    pub socket: PathBuf,
    /// The private Xauthority contents (one wildcard entry), when the user has a cookie.
    pub cookie: Option<Vec<u8>>,
}

/// A PulseAudio (or pipewire-pulse) server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulse {
    pub socket: PathBuf,
    pub cookie: Option<Vec<u8>>,
}

/// What the host's session offers now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    pub wayland: Option<Wayland>,
    pub x11: Option<X11>,
    pub pulse: Option<Pulse>,
    pub pipewire: Option<PathBuf>,
    /// `unix:path=...` of the session bus.
    pub session_bus: Option<String>,
    pub system_bus: Option<PathBuf>,
    pub dri: Vec<PathBuf>,
    pub nvidia: Vec<PathBuf>,
    pub video: Vec<PathBuf>,
    /// `/sys` entries Mesa reads to find the GPU.
    pub gpu_sys: Vec<PathBuf>,
    /// Fonts, themes and toolkit settings of the user's home that exist.
    pub look: Vec<PathBuf>,
    /// Those left out, and why: a symlink on the way (see `look_and_feel`).
    pub look_skipped: Vec<(PathBuf, String)>,
    pub xdg_dbus_proxy: Option<PathBuf>,
    pub pasta: Option<PathBuf>,
}

/// Paths of the home (relative) that make apps look as they do outside: fonts, GTK and
/// Qt settings, icon and cursor themes. Bound read-only when a profile has a display.
pub const LOOK_AND_FEEL: &[&str] = &[
    ".local/share/fonts",
    ".fonts",
    ".config/fontconfig",
    ".config/gtk-3.0/settings.ini",
    ".config/gtk-4.0/settings.ini",
    ".gtkrc-2.0",
    ".config/kdeglobals",
    ".config/Trolltech.conf",
    ".config/qt5ct",
    ".config/qt6ct",
    ".icons",
    ".local/share/icons",
    ".themes",
    ".local/share/themes",
];

/// `/sys` paths Mesa and libdrm read to find the device behind a DRM node.
pub const GPU_SYS: &[&str] = &[
    "/sys/dev/char",
    "/sys/devices",
    "/sys/bus/pci",
    "/sys/class/drm",
];

/// The `LOOK_AND_FEEL` paths of the home that exist, each reached beneath the real home
/// with no symlink at all, and those skipped because of one. An app may write some of
/// them (a read-write share of `.config/gtk-3.0`): a symlink it plants there must not
/// bind what it points to into the next sandbox. They are cosmetic, so a skipped one
/// does not stop a launch.
pub fn look_and_feel(home: &Path) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    use crate::sys::beneath::{self, BeneathError};
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let Ok((_, home_fd)) = crate::sys::beneath::open_home(home) else {
        return (found, skipped);
    };
    for rel in LOOK_AND_FEEL {
        let path = home.join(rel);
        match beneath::open(home_fd.as_fd(), Path::new(rel), OFlag::O_PATH) {
            Ok(_) => found.push(path),
            Err(BeneathError::Missing { .. }) => {}
            Err(BeneathError::Symlink { at, target }) => {
                let link = home.join(at);
                let what = if link == path {
                    "it".to_string()
                } else {
                    link.display().to_string()
                };
                skipped.push((
                    path,
                    format!(
                        "{what} is a symlink (to {}), and boxtop binds no symlink of the home",
                        target.display()
                    ),
                ))
            }
            Err(error) => skipped.push((path, format!("{error} in {}", home.display()))),
        }
    }
    (found, skipped)
}

/// A small file of the session (a cookie): read beneath the real home with no symlink
/// when it is in the home, where an app with a share may have replaced it by a symlink
/// to a secret.
fn read_home_file(home: &Path, path: &Path) -> Option<Vec<u8>> {
    let Ok(rel) = path.strip_prefix(home) else {
        return std::fs::read(path).ok();
    };
    let (_, home_fd) = crate::sys::beneath::open_home(home).ok()?;
    let fd = crate::sys::beneath::open(home_fd.as_fd(), rel, OFlag::O_RDONLY).ok()?;
    let mut bytes = Vec::new();
    std::fs::File::from(fd).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

fn list_dev(prefixes: &[&str]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/dev")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|entry| {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    prefixes.iter().any(|prefix| {
                        name.strip_prefix(prefix).is_some_and(|rest| {
                            rest.is_empty()
                                || rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        })
                    })
                })
                .map(|entry| entry.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The unix socket path of a D-Bus address like `unix:path=/run/user/1000/bus,guid=...`.
pub fn bus_socket_path(address: &str) -> Option<PathBuf> {
    address.split(';').find_map(|one| {
        let params = one.strip_prefix("unix:")?;
        params
            .split(',')
            .find_map(|kv| kv.strip_prefix("path=").map(PathBuf::from))
    })
}

/// Which parts of the session to look at: a launch looks only at what its profile is
/// granted; `doctor` and `show` look at everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wants {
    pub display: bool,
    pub audio: bool,
    pub gpu: bool,
    pub webcam: bool,
    pub session_bus: bool,
    pub system_bus: bool,
    /// Any network (host or isolated): resolver files and certificates in `/etc`.
    pub network: bool,
    pub pasta: bool,
}

impl Wants {
    pub fn all() -> Wants {
        Wants {
            display: true,
            audio: true,
            gpu: true,
            webcam: true,
            session_bus: true,
            system_bus: true,
            network: true,
            pasta: true,
        }
    }

    pub fn of(profile: &Profile) -> Wants {
        let dbus = &profile.dbus;
        Wants {
            display: profile.display != Display::None,
            audio: profile.audio != Audio::None,
            gpu: profile.gpu,
            webcam: profile.webcam,
            session_bus: !dbus.is_empty(),
            system_bus: !dbus.system_talk.is_empty(),
            network: profile.network != crate::profile::Network::None,
            pasta: profile.network == crate::profile::Network::Isolated,
        }
    }
}

impl Session {
    /// Reads the whole session from the environment and the file system.
    pub fn detect(home: &Path, runtime_dir: Option<&Path>) -> Session {
        Self::detect_for(home, runtime_dir, Wants::all())
    }

    /// Reads the parts of the session `wants` names; the others are left empty.
    pub fn detect_for(home: &Path, runtime_dir: Option<&Path>, wants: Wants) -> Session {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let display_env = |name: &str| env(name).filter(|_| wants.display);
        let wayland = display_env("WAYLAND_DISPLAY").and_then(|display| {
            let socket = if display.starts_with('/') {
                PathBuf::from(&display)
            } else {
                runtime_dir?.join(&display)
            };
            socket.exists().then_some(Wayland { display, socket })
        });
        let x11 = display_env("DISPLAY").and_then(|display| {
            let number: u32 = display.strip_prefix(':')?.split('.').next()?.parse().ok()?;
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            if !socket.exists() {
                return None;
            }
            let authority = env("XAUTHORITY")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".Xauthority"));
            let hostname = nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_default();
            let cookie = read_home_file(home, &authority)
                .and_then(|bytes| xauth::cookie_for_display(&bytes, number, &hostname))
                .map(|entry| xauth::serialize(&[entry]));
            Some(X11 {
                number,
                socket,
                cookie,
            })
        });
        let pulse_socket = env("PULSE_SERVER")
            .and_then(|server| server.strip_prefix("unix:").map(PathBuf::from))
            .or_else(|| runtime_dir.map(|dir| dir.join("pulse/native")))
            .filter(|socket| wants.audio && socket.exists());
        let pulse = pulse_socket.map(|socket| Pulse {
            socket,
            cookie: env("PULSE_COOKIE")
                .map(PathBuf::from)
                .or_else(|| Some(home.join(".config/pulse/cookie")))
                .and_then(|path| read_home_file(home, &path)),
        });
        let pipewire = runtime_dir
            .map(|dir| dir.join("pipewire-0"))
            .filter(|p| wants.audio && p.exists());
        let session_bus = env("DBUS_SESSION_BUS_ADDRESS")
            .or_else(|| runtime_dir.map(|dir| format!("unix:path={}", dir.join("bus").display())))
            .filter(|address| {
                wants.session_bus && bus_socket_path(address).is_some_and(|p| p.exists())
            });
        let system_bus = Some(PathBuf::from("/run/dbus/system_bus_socket"))
            .filter(|p| wants.system_bus && p.exists());
        let (look, look_skipped) = if wants.display {
            look_and_feel(home)
        } else {
            (Vec::new(), Vec::new())
        };
        let when = |wanted: bool, dirs: &[&str]| {
            if wanted {
                list_dev(dirs)
            } else {
                Vec::new()
            }
        };
        Session {
            wayland,
            x11,
            pulse,
            pipewire,
            session_bus,
            system_bus,
            dri: when(wants.gpu, &["dri"]),
            nvidia: when(wants.gpu, &["nvidia"]),
            video: when(wants.webcam, &["video", "media"]),
            gpu_sys: GPU_SYS
                .iter()
                .map(PathBuf::from)
                .filter(|p| wants.gpu && p.exists())
                .collect(),
            look,
            look_skipped,
            xdg_dbus_proxy: (wants.session_bus || wants.system_bus)
                .then(|| find_program("xdg-dbus-proxy"))
                .flatten(),
            pasta: wants.pasta.then(|| find_program("pasta")).flatten(),
        }
    }

    /// The display a profile gets here: `auto` becomes Wayland when the session has it,
    /// else X11; `None` when the granted display is not available.
    pub fn resolve_display(&self, wanted: Display) -> Option<Display> {
        match wanted {
            Display::None => None,
            Display::Wayland => self.wayland.as_ref().map(|_| Display::Wayland),
            Display::X11 => self.x11.as_ref().map(|_| Display::X11),
            Display::Auto => {
                if self.wayland.is_some() {
                    Some(Display::Wayland)
                } else {
                    self.x11.as_ref().map(|_| Display::X11)
                }
            }
        }
    }

    /// The audio server a profile gets: `auto` prefers the PulseAudio protocol (which
    /// pipewire-pulse also serves), the narrower of the two.
    pub fn resolve_audio(&self, wanted: Audio) -> Option<Audio> {
        match wanted {
            Audio::None => None,
            Audio::Pulseaudio => self.pulse.as_ref().map(|_| Audio::Pulseaudio),
            Audio::Pipewire => self.pipewire.as_ref().map(|_| Audio::Pipewire),
            Audio::Auto => {
                if self.pulse.is_some() {
                    Some(Audio::Pulseaudio)
                } else {
                    self.pipewire.as_ref().map(|_| Audio::Pipewire)
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The app cannot work as granted: `run` refuses.
    Error,
    /// The app starts without it.
    Warning,
}

/// A granted thing the host does not provide now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub grant: &'static str,
    pub severity: Severity,
    pub message: String,
}

/// Every grant of `profile` the host cannot provide right now.
pub fn missing(profile: &Profile, session: &Session) -> Vec<Missing> {
    let mut out = Vec::new();
    let mut push = |grant, severity, message: String| {
        out.push(Missing {
            grant,
            severity,
            message,
        })
    };
    if profile.display != Display::None && session.resolve_display(profile.display).is_none() {
        let message = match profile.display {
            Display::Wayland => {
                "no Wayland compositor: $WAYLAND_DISPLAY is unset or its socket is missing"
                    .to_string()
            }
            Display::X11 => {
                "no X server: $DISPLAY is unset or /tmp/.X11-unix has no socket for it".to_string()
            }
            _ => {
                "no display: neither a Wayland socket ($WAYLAND_DISPLAY) nor an X server ($DISPLAY)"
                    .to_string()
            }
        };
        push("display", Severity::Error, message);
    }
    if profile.display != Display::None {
        for (path, why) in &session.look_skipped {
            push(
                "display",
                Severity::Warning,
                format!(
                    "look and feel: {} is left out: {why}. Put the real file or folder there to \
                     have it in sandboxes",
                    path.display()
                ),
            );
        }
    }
    if profile.audio != Audio::None && session.resolve_audio(profile.audio).is_none() {
        let message = match profile.audio {
            Audio::Pipewire => "no PipeWire socket ($XDG_RUNTIME_DIR/pipewire-0): the app runs without sound",
            _ => "no PulseAudio server ($XDG_RUNTIME_DIR/pulse/native or $PULSE_SERVER): the app runs without sound",
        };
        push("audio", Severity::Warning, message.to_string());
    }
    if profile.gpu && session.dri.is_empty() && session.nvidia.is_empty() {
        push(
            "gpu",
            Severity::Warning,
            "no GPU device in /dev/dri: the app draws in software".into(),
        );
    }
    if profile.webcam && session.video.is_empty() {
        push(
            "webcam",
            Severity::Warning,
            "no camera in /dev/video*".into(),
        );
    }
    if !profile.dbus.is_empty() {
        if session.session_bus.is_none() {
            push(
                "dbus",
                Severity::Error,
                "no session bus: $DBUS_SESSION_BUS_ADDRESS is unset or its socket is missing"
                    .into(),
            );
        }
        if session.xdg_dbus_proxy.is_none() {
            push("dbus", Severity::Error, "xdg-dbus-proxy is not installed (package xdg-dbus-proxy); it filters the app's D-Bus access".into());
        }
    }
    if !profile.dbus.system_talk.is_empty() {
        if session.system_bus.is_none() {
            push(
                "dbus",
                Severity::Error,
                "no system bus socket at /run/dbus/system_bus_socket".into(),
            );
        }
        if session.xdg_dbus_proxy.is_none() && profile.dbus.is_empty() {
            push(
                "dbus",
                Severity::Error,
                "xdg-dbus-proxy is not installed (package xdg-dbus-proxy)".into(),
            );
        }
    }
    if profile.network == Network::Isolated && session.pasta.is_none() {
        push("network", Severity::Error, "pasta is not installed (package passt); it gives network = \"isolated\" its own network stack".into());
    }
    out
}

/// How a grant appears in a plan: binds and files, environment, helpers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    pub binds: Vec<(PathBuf, PathBuf, Access, bool)>,
    pub files: Vec<(PathBuf, Vec<u8>)>,
    pub dirs: Vec<PathBuf>,
    pub env: Vec<(String, String)>,
    pub display: Option<Display>,
    pub audio: Option<Audio>,
}

/// The binds, files and environment a profile's grants bring in, given the session.
/// `runtime_dir` and `home` are the paths inside (the same as outside).
pub fn grants(profile: &Profile, session: &Session, runtime_dir: &Path, home: &Path) -> Grants {
    let mut g = Grants::default();
    let set = |g: &mut Grants, name: &str, value: String| g.env.push((name.to_string(), value));
    g.display = session.resolve_display(profile.display);
    match g.display {
        Some(Display::Wayland) => {
            if let Some(wayland) = &session.wayland {
                let name = wayland
                    .socket
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let dest = runtime_dir.join(&name);
                g.binds
                    .push((wayland.socket.clone(), dest, Access::Rw, false));
                set(&mut g, "WAYLAND_DISPLAY", name);
                set(&mut g, "XDG_SESSION_TYPE", "wayland".into());
                set(&mut g, "GDK_BACKEND", "wayland".into());
                set(&mut g, "QT_QPA_PLATFORM", "wayland".into());
                set(&mut g, "MOZ_ENABLE_WAYLAND", "1".into());
                set(&mut g, "SDL_VIDEODRIVER", "wayland".into());
            }
        }
        Some(Display::X11) => {
            if let Some(x11) = &session.x11 {
                g.binds
                    .push((x11.socket.clone(), x11.socket.clone(), Access::Rw, false));
                set(&mut g, "DISPLAY", format!(":{}", x11.number));
                set(&mut g, "XDG_SESSION_TYPE", "x11".into());
                set(&mut g, "GDK_BACKEND", "x11".into());
                set(&mut g, "QT_QPA_PLATFORM", "xcb".into());
                if let Some(cookie) = &x11.cookie {
                    let path = runtime_dir.join("Xauthority");
                    g.files.push((path.clone(), cookie.clone()));
                    set(&mut g, "XAUTHORITY", path.display().to_string());
                }
            }
        }
        _ => {}
    }
    g.audio = session.resolve_audio(profile.audio);
    match g.audio {
        Some(Audio::Pulseaudio) => {
            if let Some(pulse) = &session.pulse {
                let dest = runtime_dir.join("pulse/native");
                g.binds
                    .push((pulse.socket.clone(), dest.clone(), Access::Rw, false));
                set(&mut g, "PULSE_SERVER", format!("unix:{}", dest.display()));
                if let Some(cookie) = &pulse.cookie {
                    let path = runtime_dir.join("pulse/cookie");
                    g.files.push((path.clone(), cookie.clone()));
                    set(&mut g, "PULSE_COOKIE", path.display().to_string());
                }
            }
        }
        Some(Audio::Pipewire) => {
            if let Some(socket) = &session.pipewire {
                g.binds.push((
                    socket.clone(),
                    runtime_dir.join("pipewire-0"),
                    Access::Rw,
                    false,
                ));
            }
        }
        _ => {}
    }
    if profile.gpu {
        for node in session.dri.iter().chain(&session.nvidia) {
            g.binds.push((node.clone(), node.clone(), Access::Rw, true));
        }
        if !session.dri.is_empty() || !session.nvidia.is_empty() {
            for sys in &session.gpu_sys {
                g.binds.push((sys.clone(), sys.clone(), Access::Ro, false));
            }
        }
    }
    if profile.webcam {
        for node in &session.video {
            g.binds.push((node.clone(), node.clone(), Access::Rw, true));
        }
    }
    if g.display.is_some() {
        for path in &session.look {
            if path.starts_with(home) {
                g.binds
                    .push((path.clone(), path.clone(), Access::Ro, false));
            }
        }
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn look_and_feel_skips_symlinks_and_keeps_real_files() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path();
        std::fs::create_dir_all(home.join(".config/gtk-3.0")).unwrap();
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::write(home.join(".ssh/id_rsa"), "key").unwrap();
        symlink(
            "../../.ssh/id_rsa",
            home.join(".config/gtk-3.0/settings.ini"),
        )
        .unwrap();
        std::fs::create_dir_all(home.join(".icons")).unwrap();
        std::fs::create_dir_all(home.join("real-themes")).unwrap();
        symlink("real-themes", home.join(".themes")).unwrap();
        let (found, skipped) = look_and_feel(home);
        assert_eq!(found, vec![home.join(".icons")]);
        let skipped: Vec<&Path> = skipped.iter().map(|(path, _)| path.as_path()).collect();
        assert_eq!(
            skipped,
            [
                home.join(".config/gtk-3.0/settings.ini"),
                home.join(".themes")
            ]
        );
    }

    #[test]
    fn a_cookie_in_the_home_is_not_read_through_a_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path();
        std::fs::create_dir_all(home.join(".config/pulse")).unwrap();
        std::fs::write(home.join("secret"), "key").unwrap();
        symlink("../../secret", home.join(".config/pulse/cookie")).unwrap();
        assert_eq!(
            read_home_file(home, &home.join(".config/pulse/cookie")),
            None
        );
        std::fs::write(home.join(".Xauthority"), "cookie").unwrap();
        assert_eq!(
            read_home_file(home, &home.join(".Xauthority")),
            Some(b"cookie".to_vec())
        );
    }
}
