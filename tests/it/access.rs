//! Grants proven with real servers started by the tests as the unprivileged test user:
//! Xvfb, weston and PulseAudio.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::support::{stderr, stdout, wait_until, World, Xvfb};

/// A server process killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require(program: &str, package: &str) -> PathBuf {
    let path = ["/usr/bin", "/usr/sbin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.exists());
    path.unwrap_or_else(|| {
        panic!("{program} is missing: `make test` installs it (Debian package {package})")
    })
}

/// Runs `script` with /bin/sh inside a sandbox with the profile keys `keys`.
fn sh(world: &World, name: &str, keys: &str, script: &str) -> Output {
    let profile = world.profile(
        name,
        &format!("command = [\"/bin/sh\", \"-c\"]\n{keys}\n[home]\nephemeral = true\n"),
    );
    world
        .boxtop(&[
            "run",
            "--profile-file",
            profile.to_str().unwrap(),
            "--",
            script,
        ])
        .output()
        .expect("run boxtop")
}

fn assert_ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

fn display_number() -> u32 {
    crate::support::free_display()
}

/// Xvfb with a cookie in the test user's Xauthority (plus a second, unrelated entry).
fn x_world() -> (World, Xvfb, u32) {
    let mut world = World::new();
    let display = display_number();
    let authority = world.home.join(".Xauthority");
    let xauth = require("xauth", "xauth");
    for (number, cookie) in [
        (display, "0123456789abcdef0123456789abcdef"),
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

#[test]
fn x11_grant_connects_shows_a_window_and_holds_one_cookie() {
    require("xdpyinfo", "x11-utils");
    let (world, _x, display) = x_world();
    let out = sh(
        &world,
        "xok",
        "display = \"x11\"",
        "xdpyinfo >/dev/null && echo connected && xauth -f \"$XAUTHORITY\" list | wc -l",
    );
    assert_ok(&out, "xdpyinfo inside an x11 sandbox");
    let text = stdout(&out);
    assert!(text.contains("connected"), "{text}");
    assert_eq!(
        text.lines().last().map(str::trim),
        Some("1"),
        "the private Xauthority holds one entry: {text}"
    );

    let profile = world.profile("xwin", "command = [\"xmessage\", \"-geometry\", \"300x100+10+10\", \"boxtop-window\"]\ndisplay = \"x11\"\n[home]\nephemeral = true\n");
    let app = Server(
        world
            .boxtop(&["run", "--profile-file", profile.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let tree = || {
        world
            .command(&require("xwininfo", "x11-utils"))
            .args(["-root", "-tree"])
            .output()
            .map(|o| stdout(&o))
            .unwrap_or_default()
    };
    wait_until(
        "the sandboxed xmessage window",
        Duration::from_secs(15),
        || tree().contains("xmessage"),
    );
    let shot = world.home.join("shot.xwd");
    let xwd = world
        .command(&require("xwd", "x11-apps"))
        .args(["-root", "-silent", "-out", shot.to_str().unwrap()])
        .output()
        .unwrap();
    assert_ok(&xwd, "xwd");
    let colors = Command::new(require("convert", "imagemagick"))
        .args([&format!("xwd:{}", shot.display()), "-format", "%k", "info:"])
        .output()
        .unwrap();
    let count: u32 = stdout(&colors).trim().parse().unwrap_or(0);
    assert!(
        count > 1,
        "the screenshot is blank ({count} colours): {}",
        stderr(&colors)
    );
    drop(app);
    let _ = display;
}

#[test]
fn without_the_x11_grant_the_display_is_unreachable() {
    let (world, _x, display) = x_world();
    let out = sh(
        &world,
        "xno",
        &format!("network = \"none\"\n[env]\nDISPLAY = \":{display}\""),
        &format!("test ! -e /tmp/.X11-unix/X{display} && echo no-socket; xdpyinfo >/dev/null 2>&1 && echo CONNECTED; true"),
    );
    assert_ok(&out, "sandbox without display");
    let text = stdout(&out);
    assert!(
        text.contains("no-socket") && !text.contains("CONNECTED"),
        "{text}\n{}",
        stderr(&out)
    );
}

#[test]
fn wayland_grant_reaches_weston_and_nothing_without_it() {
    let weston = require("weston", "weston");
    require("wayland-info", "wayland-utils");
    let mut world = World::new();
    let socket = "wayland-boxtop";
    let server = Server(
        world
            .command(&weston)
            .args([
                "--backend=headless-backend.so",
                &format!("--socket={socket}"),
                "--idle-time=0",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let path = world.runtime_dir.join(socket);
    wait_until("weston's socket", Duration::from_secs(15), || path.exists());
    world.env.insert("WAYLAND_DISPLAY".into(), socket.into());
    let with = sh(
        &world,
        "wl",
        "display = \"wayland\"",
        "wayland-info >/dev/null && echo wayland-ok",
    );
    assert_ok(&with, "wayland-info inside a wayland sandbox");
    assert!(stdout(&with).contains("wayland-ok"));
    let without = sh(&world, "wlno", "display = \"none\"", "wayland-info >/dev/null 2>&1 && echo CONNECTED; test ! -e \"$XDG_RUNTIME_DIR/wayland-boxtop\" && echo no-socket");
    assert_ok(&without, "sandbox without display");
    assert!(
        stdout(&without).contains("no-socket") && !stdout(&without).contains("CONNECTED"),
        "{}",
        stdout(&without)
    );
    drop(server);
}

/// A WAV file of `seconds` of a 440 Hz tone, 16-bit mono 8 kHz.
fn wav(seconds: u32) -> Vec<u8> {
    let rate = 8000u32;
    let samples = rate * seconds;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + samples * 2).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples * 2).to_le_bytes());
    for i in 0..samples {
        let value =
            ((i as f64 * 440.0 * 2.0 * std::f64::consts::PI / rate as f64).sin() * 8000.0) as i16;
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

#[test]
fn pulseaudio_grant_plays_into_the_null_sink_and_nothing_without_it() {
    let pulseaudio = require("pulseaudio", "pulseaudio");
    let pactl = require("pactl", "pulseaudio-utils");
    require("paplay", "pulseaudio-utils");
    let world = World::new();
    std::fs::create_dir_all(world.home.join("Music")).unwrap();
    std::fs::write(world.home.join("Music/tone.wav"), wav(8)).unwrap();
    world.fix_owner();
    let server = Server(
        world
            .command(&pulseaudio)
            .args([
                "--daemonize=no",
                "--exit-idle-time=-1",
                "-n",
                "--disallow-exit",
                "--log-target=stderr",
            ])
            .args([
                "--load=module-native-protocol-unix",
                "--load=module-null-sink sink_name=boxtop_null",
                "--load=module-always-sink",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let socket = world.runtime_dir.join("pulse/native");
    wait_until("PulseAudio's socket", Duration::from_secs(20), || {
        socket.exists()
    });
    let info = sh(
        &world,
        "pa",
        "audio = \"pulseaudio\"",
        "pactl info >/dev/null && echo pulse-ok",
    );
    assert_ok(&info, "pactl info inside a pulseaudio sandbox");
    assert!(stdout(&info).contains("pulse-ok"));

    let profile = world.profile("player", "command = [\"paplay\"]\naudio = \"pulseaudio\"\n[home]\nephemeral = true\n[[home.share]]\npath = \"Music\"\n");
    let tone = world.home.join("Music/tone.wav");
    let player = Server(
        world
            .boxtop(&[
                "run",
                "--profile-file",
                profile.to_str().unwrap(),
                "--",
                tone.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until(
        "the sandboxed stream in `pactl list sink-inputs`",
        Duration::from_secs(15),
        || {
            world
                .command(&pactl)
                .args(["list", "short", "sink-inputs"])
                .output()
                .map(|o| !stdout(&o).trim().is_empty())
                .unwrap_or(false)
        },
    );
    drop(player);

    let without = sh(&world, "pano", "audio = \"none\"", "pactl info >/dev/null 2>&1 && echo CONNECTED; test ! -e \"$XDG_RUNTIME_DIR/pulse/native\" && echo no-socket");
    assert_ok(&without, "sandbox without audio");
    assert!(
        stdout(&without).contains("no-socket") && !stdout(&without).contains("CONNECTED"),
        "{}",
        stdout(&without)
    );
    drop(server);
}
