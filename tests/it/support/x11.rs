//! X11 for the tests: Xvfb servers on display numbers of their own, a user's Xauthority,
//! and what is on the screen (the window tree, screenshots).

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConnectionExt as _, InputFocus, Window, KEY_PRESS_EVENT, KEY_RELEASE_EVENT,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::{DefaultStream, RustConnection};

use super::host::require;
use super::world::{accepts, assert_ok, stdout, World};

/// An X display number no other test of this run (nor any server on the machine) uses:
/// tests run in parallel, and a second Xvfb on a taken number fails while its clients
/// reach the first one.
pub fn free_display() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = 100 + (std::process::id() % 50) * 16;
    loop {
        let n = base + NEXT.fetch_add(1, Ordering::Relaxed) % 800;
        let taken = Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || Path::new(&format!("/tmp/.X{n}-lock")).exists();
        if !taken {
            return n;
        }
    }
}

/// An X server for the tests, killed when dropped.
pub struct Xvfb {
    child: std::process::Child,
}

impl Xvfb {
    /// Starts `Xvfb :N` as the test user and waits for its socket.
    pub fn start(world: &World, display: u32) -> Xvfb {
        Self::start_args(world, display, &[])
    }

    /// Starts `Xvfb :N -auth FILE`: clients need the cookie in FILE.
    pub fn start_with_auth(world: &World, display: u32, authority: &Path) -> Xvfb {
        Self::start_args(
            world,
            display,
            &["-auth".into(), authority.display().to_string()],
        )
    }

    fn start_args(world: &World, display: u32, extra: &[String]) -> Xvfb {
        let xvfb = PathBuf::from("/usr/bin/Xvfb");
        assert!(
            xvfb.exists(),
            "Xvfb is missing: `make test` installs it (Debian package xvfb)"
        );
        let child = world
            .command(&xvfb)
            // -noreset: by default the server resets when its last client leaves (a
            // readiness check, each xwininfo), and a client connecting meanwhile fails
            // with "cannot open display".
            .args([
                format!(":{display}"),
                "-noreset".into(),
                "-nolisten".into(),
                "tcp".into(),
                "-screen".into(),
                "0".into(),
                "640x480x24".into(),
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        // Dropped (killed and reaped) if the socket never comes.
        let server = Xvfb { child };
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{display}"));
        for _ in 0..100 {
            if accepts(&socket) {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        drop(server);
        panic!("Xvfb :{display} did not listen on {}", socket.display());
    }
}

impl Drop for Xvfb {
    /// SIGTERM first: Xvfb then removes its socket and lock file, which SIGKILL leaves
    /// behind in /tmp.
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Xvfb with a cookie in the test user's Xauthority (plus a second, unrelated entry).
pub(crate) fn x_world() -> (World, Xvfb, u32) {
    let mut world = World::new();
    let display = free_display();
    let authority = world.home.join(".Xauthority");
    let xauth = require("xauth", "xauth");
    for (number, cookie) in [
        (display, COOKIE),
        (display + 1, "fedcba9876543210fedcba9876543210"),
    ] {
        let status = Command::new(&xauth)
            .args([
                "-f",
                authority.to_str().unwrap(),
                "add",
                &format!(":{number}"),
                ".",
                cookie,
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
    world.fix_owner();
    world.env.insert("DISPLAY".into(), format!(":{display}"));
    world
        .env
        .insert("XAUTHORITY".into(), authority.display().to_string());
    let server = Xvfb::start_with_auth(&world, display, &authority);
    (world, server, display)
}

/// The X server's window tree (`xwininfo -root -tree`), empty if it cannot be read.
pub(crate) fn x_windows(world: &World) -> String {
    world
        .command(&require("xwininfo", "x11-utils"))
        .args(["-root", "-tree"])
        .output()
        .map(|o| stdout(&o))
        .unwrap_or_default()
}

/// Waits for a window whose line in `xwininfo -root -tree` holds `needle`; on timeout,
/// fails with the windows there are and the log of instance `id`.
pub(crate) fn wait_for_window(world: &World, id: &str, needle: &str, timeout: Duration) {
    let started = Instant::now();
    loop {
        let windows = x_windows(world);
        if windows.contains(needle) {
            return;
        }
        if started.elapsed() > timeout {
            let log = stdout(&world.boxtop(&["logs", id]).output().unwrap());
            panic!("no window with {needle:?} after {timeout:?}; windows:\n{windows}\nthe app's log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Screenshots of the whole X screen until one has more than `more_than` distinct
/// colours or `timeout` passes; the count of the last one (1 for a blank screen). A
/// window is in the tree as soon as it is created, and drawn a little later.
pub(crate) fn screen_colours_above(
    world: &World,
    name: &str,
    more_than: u32,
    timeout: Duration,
) -> u32 {
    let started = Instant::now();
    loop {
        let count = screen_colours(world, name);
        if count > more_than || started.elapsed() > timeout {
            return count;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Takes a screenshot of the whole X screen into the test home's `name` and counts its
/// distinct colours: 1 for a blank screen.
pub(crate) fn screen_colours(world: &World, name: &str) -> u32 {
    let shot = world.home.join(name);
    let xwd = world
        .command(&require("xwd", "x11-apps"))
        .args(["-root", "-silent", "-out", shot.to_str().unwrap()])
        .output()
        .unwrap();
    assert_ok(&xwd, "xwd");
    let colours = Command::new(require("convert", "imagemagick"))
        .args([&format!("xwd:{}", shot.display()), "-format", "%k", "info:"])
        .output()
        .unwrap();
    assert_ok(
        &colours,
        "convert -format %k (counting the screenshot's colours)",
    );
    stdout(&colours).trim().parse().unwrap_or(0)
}

/// What a desktop session gives an app, for tests of real apps: a world with an X server
/// (Xvfb), a session bus and a PulseAudio server, all stopped when it is dropped.
pub(crate) struct Desktop {
    pub(crate) world: World,
    _x: Xvfb,
    _bus: super::dbus::SessionBus,
    _pulse: super::host::Server,
}

impl Desktop {
    pub(crate) fn new() -> Desktop {
        super::netns::give_tun_its_usual_mode();
        let (mut world, x, _display) = x_world();
        let bus = super::dbus::SessionBus::start(&mut world);
        let pulse = super::audio::pulse_server(&world, &require("pulseaudio", "pulseaudio"));
        Desktop {
            world,
            _x: x,
            _bus: bus,
            _pulse: pulse,
        }
    }

    /// `boxtop run --detach ARGS` until a window whose line in `xwininfo -root -tree`
    /// holds `needle` shows, and the instance still runs then; the app is killed when the
    /// test ends. Returns the instance's id.
    pub(crate) fn run_until_window(&self, args: &[&str], needle: &str) {
        let id = self.world.detach(args);
        let _kill = super::world::KillOnDrop(&self.world, id.clone());
        wait_for_window(&self.world, &id, needle, Duration::from_secs(60));
        let running = self
            .world
            .ps()
            .iter()
            .any(|s| s["id"] == id.as_str() && s["state"]["state"] == "running");
        assert!(running, "{args:?}: not running after its window showed");
    }
}

/// The cookie `x_world` gives its display.
pub(crate) const COOKIE: &str = "0123456789abcdef0123456789abcdef";

/// A connection of the test itself to the display, with the world's cookie.
pub(crate) fn x_connect(display: u32) -> RustConnection {
    let stream = UnixStream::connect(format!("/tmp/.X11-unix/X{display}")).unwrap();
    let (stream, _) = DefaultStream::from_unix_stream(stream).unwrap();
    let cookie = (0..COOKIE.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&COOKIE[i..i + 2], 16).unwrap())
        .collect();
    RustConnection::connect_to_stream_with_auth_info(
        stream,
        0,
        b"MIT-MAGIC-COOKIE-1".to_vec(),
        cookie,
    )
    .unwrap()
}

/// The id of the window whose line in `xwininfo -root -tree` holds `needle`.
pub(crate) fn window_named(windows: &str, needle: &str) -> Window {
    let line = windows
        .lines()
        .find(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no window {needle:?} in:\n{windows}"));
    let hex = line.split_whitespace().next().unwrap();
    u32::from_str_radix(hex.trim_start_matches("0x"), 16).unwrap()
}

/// Keysyms of the keys the tests press besides letters.
pub(crate) const CONTROL_L: u32 = 0xffe3;

/// The keycode whose first keysym is `keysym`.
fn keycode_of(conn: &RustConnection, keysym: u32) -> u8 {
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let mapping = conn
        .get_keyboard_mapping(min, max - min + 1)
        .unwrap()
        .reply()
        .unwrap();
    let per = mapping.keysyms_per_keycode as usize;
    let index = mapping
        .keysyms
        .chunks(per)
        .position(|syms| syms.first() == Some(&keysym))
        .unwrap_or_else(|| panic!("no key types keysym {keysym:#x}"));
    min + index as u8
}

/// Presses `keysyms` in order and releases them in reverse (a chord such as Ctrl+S) in
/// `window`, focused first, through XTEST.
pub(crate) fn press_chord(conn: &RustConnection, window: Window, keysyms: &[u32]) {
    let root = conn.setup().roots[0].root;
    let codes: Vec<u8> = keysyms.iter().map(|&k| keycode_of(conn, k)).collect();
    conn.set_input_focus(InputFocus::PARENT, window, x11rb::CURRENT_TIME)
        .unwrap();
    let presses = codes.iter().map(|&code| (KEY_PRESS_EVENT, code));
    let releases = codes.iter().rev().map(|&code| (KEY_RELEASE_EVENT, code));
    for (kind, code) in presses.chain(releases) {
        conn.xtest_fake_input(kind, code, x11rb::CURRENT_TIME, root, 0, 0, 0)
            .unwrap();
        conn.flush().unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Types `text` (lowercase letters and spaces: keys whose keysym is the character) into
/// `window` through XTEST, the window focused.
pub(crate) fn type_into(conn: &RustConnection, window: Window, text: &str) {
    for ch in text.chars() {
        press_chord(conn, window, &[ch as u32]);
    }
}
