//! Grants proven with real servers started by the tests as the unprivileged test user:
//! Xvfb, weston, PulseAudio, PipeWire, a session dbus-daemon behind boxtop's xdg-dbus-proxy, and
//! pasta in a network the test builds.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::attack_network::{connect_uplink, ip, isolated_sh_profile, probe_checks, NetNamespace};
use crate::support::{
    accepts, assert_probe_ok, is_root, probe_outside, stderr, stdout, wait_until, World, Xvfb,
};

/// A server process killed when dropped.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn require(program: &str, package: &str) -> PathBuf {
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
        .boxtop_run(&profile, &[script])
        .output()
        .expect("run boxtop")
}

/// `boxtop run --profile-file PROFILE -- ARGS` in the background, output discarded;
/// killed when dropped (the sandbox dies with it).
fn run_in_background(world: &World, profile: &Path, args: &[&str]) -> Server {
    Server(
        world
            .boxtop_run(profile, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// A server started by `command`, its output discarded, once the socket `socket`
/// (relative to the runtime folder) is there.
fn server_with_socket(world: &World, mut command: Command, socket: &str, what: &str) -> Server {
    let server = Server(
        command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let socket = world.runtime_dir.join(socket);
    wait_until(what, Duration::from_secs(20), || accepts(&socket));
    server
}

/// Without the grant, inside a sandbox with profile keys `keys`: `client` fails to
/// connect and the socket at `socket` (a path inside) is absent.
fn assert_unreachable(world: &World, name: &str, keys: &str, client: &str, socket: &str) {
    let out = sh(
        world,
        name,
        keys,
        &format!(
            "{client} >/dev/null 2>&1 && echo CONNECTED; test ! -e \"{socket}\" && echo no-socket"
        ),
    );
    assert_ok(&out, &format!("a sandbox with {keys}"));
    assert!(
        stdout(&out).contains("no-socket") && !stdout(&out).contains("CONNECTED"),
        "{client} with {keys}: {}",
        stdout(&out)
    );
}

/// An instance killed when dropped, even when an assertion fails first.
struct KillOnDrop<'a>(&'a World, String);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.boxtop(&["kill", &self.1]).output();
    }
}

pub(crate) fn assert_ok(output: &Output, what: &str) {
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
pub(crate) fn x_world() -> (World, Xvfb, u32) {
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

/// The X server's window tree (`xwininfo -root -tree`), empty if it cannot be read.
fn x_windows(world: &World) -> String {
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
fn screen_colours_above(world: &World, name: &str, more_than: u32, timeout: Duration) -> u32 {
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
fn screen_colours(world: &World, name: &str) -> u32 {
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
    let app = run_in_background(&world, &profile, &[]);
    let tree = || x_windows(&world);
    wait_until(
        "the sandboxed xmessage window",
        Duration::from_secs(15),
        || tree().contains("xmessage"),
    );
    let count = screen_colours_above(&world, "shot.xwd", 1, Duration::from_secs(10));
    assert!(count > 1, "the screenshot is blank ({count} colours)");
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
    wait_until("weston's socket", Duration::from_secs(15), || {
        accepts(&path)
    });
    world.env.insert("WAYLAND_DISPLAY".into(), socket.into());
    let with = sh(
        &world,
        "wl",
        "display = \"wayland\"",
        "wayland-info >/dev/null && echo wayland-ok",
    );
    assert_ok(&with, "wayland-info inside a wayland sandbox");
    assert!(stdout(&with).contains("wayland-ok"));
    assert_unreachable(
        &world,
        "wlno",
        "display = \"none\"",
        "wayland-info",
        "$XDG_RUNTIME_DIR/wayland-boxtop",
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

/// A PulseAudio server of the test user with a null sink, listening where sessions keep
/// it (`$XDG_RUNTIME_DIR/pulse/native`); returns once the socket is there.
pub(crate) fn pulse_server(world: &World, pulseaudio: &Path) -> Server {
    let mut command = world.command(pulseaudio);
    command
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
        ]);
    server_with_socket(world, command, "pulse/native", "PulseAudio's socket")
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
    let server = pulse_server(&world, &pulseaudio);
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
    let player = run_in_background(&world, &profile, &[tone.to_str().unwrap()]);
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

    assert_unreachable(
        &world,
        "pano",
        "audio = \"none\"",
        "pactl info",
        "$XDG_RUNTIME_DIR/pulse/native",
    );
    drop(server);
}

/// A PipeWire daemon of the test user (the configuration its package ships), listening
/// where sessions keep it (`$XDG_RUNTIME_DIR/pipewire-0`); returns once the socket is there.
fn pipewire_server(world: &World) -> Server {
    let command = world.command(&require("pipewire", "pipewire-bin"));
    server_with_socket(world, command, "pipewire-0", "PipeWire's socket")
}

#[test]
fn pipewire_grant_reaches_the_daemon_and_nothing_without_it() {
    let world = World::new();
    let server = pipewire_server(&world);
    // `pw-cli info 0` asks the daemon for its core object: it answers only over a working
    // connection.
    let script = "pw-cli info 0 | grep -q 'PipeWire:Interface:Core' && echo pipewire-ok; \
                  ls -A \"$XDG_RUNTIME_DIR\"";
    for grant in ["pipewire", "auto"] {
        let inside = sh(&world, "pw", &format!("audio = \"{grant}\""), script);
        assert_ok(
            &inside,
            &format!("pw-cli info 0 inside an audio = {grant} sandbox"),
        );
        let text = stdout(&inside);
        assert!(
            text.contains("pipewire-ok"),
            "audio = {grant}: {text}\n{}",
            stderr(&inside)
        );
        assert!(
            text.contains("pipewire-0") && !text.contains("pulse"),
            "audio = {grant}: the runtime folder should hold the PipeWire socket and no PulseAudio one: {text}"
        );
    }

    // A client that stays connected, `pw-mon`, is seen from outside among the daemon's.
    let profile = world.profile(
        "monitor",
        "command = [\"pw-mon\"]\naudio = \"pipewire\"\n[home]\nephemeral = true\n",
    );
    let monitor = run_in_background(&world, &profile, &[]);
    let pw_cli = require("pw-cli", "pipewire-bin");
    wait_until(
        "the sandboxed pw-mon in `pw-cli ls Client`",
        Duration::from_secs(15),
        || {
            world
                .command(&pw_cli)
                .args(["ls", "Client"])
                .output()
                .map(|o| stdout(&o).contains("application.name = \"pw-mon\""))
                .unwrap_or(false)
        },
    );
    drop(monitor);

    assert_unreachable(
        &world,
        "pwno",
        "audio = \"none\"",
        "pw-cli info 0",
        "$XDG_RUNTIME_DIR/pipewire-0",
    );
    drop(server);
}

/// `program` as the test user, in a mount namespace of its own that `setup`, a shell
/// command run as root first, changed. Arguments added to the command go to `program`.
fn with_private_mounts(world: &World, setup: &str, program: &Path) -> Command {
    assert!(
        is_root(),
        "this test gives a process a mount namespace of its own, which needs root: run the \
         tests as root, as CI does"
    );
    let inner = world.command(program);
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
        .arg(format!("{setup} && exec \"$@\""))
        .arg("sh")
        .arg(inner.get_program())
        .args(inner.get_args())
        .env_clear()
        .envs(&world.env)
        .current_dir(&world.home)
        .stdin(Stdio::null());
    cmd
}

/// A private session bus of the test user, listening where sessions keep it
/// (`$XDG_RUNTIME_DIR/bus`) and on an abstract socket, with two echo services on it.
pub(crate) struct SessionBus {
    /// Dropped before the daemon.
    _services: Vec<Server>,
    _daemon: Server,
    pub(crate) abstract_name: String,
}

const ALLOWED: &str = "org.example.Allowed";
const DENIED: &str = "org.example.Denied";

/// `dbus-send` arguments calling a method of `name` on the bus at `bus` (`--session`
/// or `--bus=ADDRESS`), which the echo service answers.
fn ping(bus: &str, name: &str) -> Vec<String> {
    vec![
        bus.into(),
        "--print-reply".into(),
        format!("--dest={name}"),
        "/".into(),
        "org.example.Echo.Ping".into(),
        "string:boxtop".into(),
    ]
}

impl SessionBus {
    pub(crate) fn start(world: &mut World) -> SessionBus {
        let daemon = require("dbus-daemon", "dbus-daemon");
        let echo = require("dbus-test-tool", "dbus-tests");
        let dbus_send = require("dbus-send", "dbus-bin");
        let socket = world.runtime_dir.join("bus");
        let dir_name = world.root.path().file_name().unwrap().to_string_lossy();
        let abstract_name = format!("{dir_name}-bus");
        let config = world.root.path().join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <listen>unix:abstract={abstract_name}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket = socket.display()
            ),
        )
        .unwrap();
        let log_path = world.root.path().join("dbus-daemon.log");
        let log = std::fs::File::create(&log_path).unwrap();
        // dbus-daemon refuses every connection (after logging "Could not get password
        // database information for UID of current process") when its uid has no passwd
        // entry, as the tests' uid has not: give it one in a mount namespace of its own.
        let mut cmd = if is_root()
            && nix::unistd::User::from_uid(world.uid.into())
                .unwrap()
                .is_none()
        {
            let passwd = world.root.path().join("passwd");
            let mut entries = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            entries.push_str(&format!(
                "tester:x:{}:{}:boxtop tests:{}:/bin/sh\n",
                world.uid,
                world.gid,
                world.home.display()
            ));
            std::fs::write(&passwd, entries).unwrap();
            std::fs::set_permissions(&passwd, std::fs::Permissions::from_mode(0o644)).unwrap();
            with_private_mounts(
                world,
                &format!("mount --bind '{}' /etc/passwd", passwd.display()),
                &daemon,
            )
        } else {
            world.command(&daemon)
        };
        let daemon = Server(
            cmd.arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--nopidfile"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        wait_until("the session bus socket", Duration::from_secs(10), || {
            accepts(&socket)
        });
        world.env.insert(
            "DBUS_SESSION_BUS_ADDRESS".into(),
            format!("unix:path={}", socket.display()),
        );
        // A test service: dbus-test-tool echo owning `name`, its stderr kept for a failure.
        let service_log = |name: &str| world.root.path().join(format!("{name}.log"));
        let start_service = |name: &str| {
            Server(
                world
                    .command(&echo)
                    .args(["echo", &format!("--name={name}")])
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(service_log(name)).unwrap())
                    .spawn()
                    .unwrap(),
            )
        };
        let mut services: Vec<Server> = [ALLOWED, DENIED]
            .iter()
            .map(|name| start_service(name))
            .collect();
        // Both answer on the host bus: what fails inside is the proxy's doing. A service
        // that gave up (it connected while the busy daemon was not answering yet) is
        // started again.
        let start = Instant::now();
        for (index, name) in [ALLOWED, DENIED].into_iter().enumerate() {
            loop {
                let call = world
                    .command(&dbus_send)
                    .args(ping("--session", name))
                    .output()
                    .unwrap();
                if call.status.success() {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(15),
                    "{name} does not answer on the test's session bus: {}\ndbus-daemon's log:\n{}\nthe service's log:\n{}",
                    stderr(&call),
                    std::fs::read_to_string(&log_path).unwrap_or_default(),
                    std::fs::read_to_string(service_log(name)).unwrap_or_default()
                );
                if let Ok(Some(status)) = services[index].0.try_wait() {
                    eprintln!(
                        "{name}: the service ended ({status}), started again; it said: {}",
                        std::fs::read_to_string(service_log(name)).unwrap_or_default()
                    );
                    services[index] = start_service(name);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        SessionBus {
            _services: services,
            _daemon: daemon,
            abstract_name,
        }
    }
}

/// A shell function for scripts run inside: `step NAME COMMAND...` prints `NAME: ok: OUTPUT`
/// or `NAME: refused: OUTPUT`, the output (stdout and stderr) on one line.
const STEP: &str =
    "step() { name=$1; shift; if out=$(\"$@\" 2>&1); then r=ok; else r=refused; fi; echo \"$name: $r:\" $out; }\n";

/// What the step `name` printed: whether it succeeded, and its output.
fn step<'a>(text: &'a str, name: &str) -> (bool, &'a str) {
    let prefix = format!("{name}: ");
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no step {name} in:\n{text}"));
    match line.split_once(':') {
        Some(("ok", out)) => (true, out),
        Some((_, out)) => (false, out),
        None => panic!("step {name}: {line}"),
    }
}

#[test]
fn dbus_grant_reaches_the_granted_name_only_through_the_proxy() {
    require("xdg-dbus-proxy", "xdg-dbus-proxy");
    let mut world = World::new();
    let bus = SessionBus::start(&mut world);
    let abstract_bus = format!("--bus=unix:abstract={}", bus.abstract_name);
    // The abstract socket answers outside: the check inside can fail.
    let outside = world
        .command(&require("dbus-send", "dbus-bin"))
        .args(ping(&abstract_bus, DENIED))
        .output()
        .unwrap();
    assert_ok(
        &outside,
        "a call over the bus's abstract socket outside the sandbox",
    );

    let bus_call = |method: &str| {
        format!(
            "dbus-send --session --print-reply --dest=org.freedesktop.DBus \
             /org/freedesktop/DBus org.freedesktop.DBus.{method}"
        )
    };
    let script = format!(
        "{STEP}step allowed dbus-send {allowed}\n\
         step denied dbus-send {denied}\n\
         step names {names}\n\
         step own-granted {own_granted}\n\
         step own-other {own_other}\n\
         step monitor {monitor}\n\
         step abstract dbus-send {through_abstract}\n",
        allowed = ping("--session", ALLOWED).join(" "),
        denied = ping("--session", DENIED).join(" "),
        names = bus_call("ListNames"),
        own_granted = bus_call("RequestName string:org.example.Owned uint32:4"),
        own_other = bus_call("RequestName string:org.example.Mine uint32:4"),
        monitor = bus_call("Monitoring.BecomeMonitor array:string: uint32:0"),
        through_abstract = ping(&abstract_bus, DENIED).join(" "),
    );
    let out = sh(
        &world,
        "dbus",
        "network = \"none\"\n[dbus]\ntalk = [\"org.example.Allowed\"]\nown = [\"org.example.Owned\"]",
        &script,
    );
    assert_ok(&out, "dbus-send inside a sandbox with a D-Bus grant");
    let text = stdout(&out);
    let report = format!("stdout:\n{text}\nstderr:\n{}", stderr(&out));
    // A refusal is an error reply of the proxy, not a broken connection.
    let refused_by_proxy =
        |(ok, out): (bool, &str)| !ok && out.contains("org.freedesktop.DBus.Error.");

    let (ok, _) = step(&text, "allowed");
    assert!(ok, "the granted name did not answer\n{report}");
    assert!(
        refused_by_proxy(step(&text, "denied")),
        "a name outside `talk` was not refused by the proxy\n{report}"
    );
    let (ok, names) = step(&text, "names");
    assert!(
        ok && names.contains(ALLOWED),
        "ListNames lacks the granted name\n{report}"
    );
    assert!(
        !names.contains(DENIED),
        "ListNames shows a name outside the grant\n{report}"
    );
    let (ok, owned) = step(&text, "own-granted");
    assert!(
        ok && owned.contains("uint32 1"),
        "a name in `own` could not be taken\n{report}"
    );
    assert!(
        refused_by_proxy(step(&text, "own-other")),
        "a name outside `own` was not refused by the proxy\n{report}"
    );
    assert!(
        refused_by_proxy(step(&text, "monitor")),
        "BecomeMonitor was not refused by the proxy: the app could watch the whole bus\n{report}"
    );
    let (ok, _) = step(&text, "abstract");
    assert!(
        !ok,
        "the bus's abstract socket is reachable inside\n{report}"
    );
}

#[test]
fn without_a_dbus_grant_the_session_bus_is_absent() {
    let mut world = World::new();
    let bus = SessionBus::start(&mut world);
    let socket = world.runtime_dir.join("bus");
    let script = format!(
        "{STEP}step address printenv DBUS_SESSION_BUS_ADDRESS\n\
         step socket test -e '{socket}'\n\
         step path dbus-send {through_path}\n\
         step abstract dbus-send {through_abstract}\n",
        socket = socket.display(),
        through_path = ping(&format!("--bus=unix:path={}", socket.display()), DENIED).join(" "),
        through_abstract = ping(
            &format!("--bus=unix:abstract={}", bus.abstract_name),
            DENIED
        )
        .join(" "),
    );
    let out = sh(&world, "nodbus", "network = \"none\"", &script);
    assert_ok(&out, "a sandbox without a D-Bus grant");
    let text = stdout(&out);
    let report = format!("stdout:\n{text}\nstderr:\n{}", stderr(&out));
    for (name, what) in [
        ("address", "DBUS_SESSION_BUS_ADDRESS is set"),
        ("socket", "the bus socket exists"),
        ("path", "the bus answers at its path"),
        ("abstract", "the bus answers at its abstract address"),
    ] {
        let (ok, _) = step(&text, name);
        assert!(!ok, "without a D-Bus grant, {what}\n{report}");
    }
}

/// pasta runs as the user and opens /dev/net/tun. Most distributions ship it with mode
/// 0666 (systemd's udev rules); some CI machines and containers leave it 0600, where
/// `boxtop doctor` says to chmod it. As root, the tests set up the host that way before
/// they drop privileges: host setup, not a skip.
pub(crate) fn give_tun_its_usual_mode() {
    let path = Path::new("/dev/net/tun");
    let mode = std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}; load the tun module", path.display()))
        .permissions()
        .mode();
    if is_root() && mode & 0o666 != 0o666 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o666))
            .expect("chmod 0666 /dev/net/tun");
    }
}

/// Runs `body` on a thread of its own in a new network namespace: what it binds, and
/// the programs it starts (boxtop and pasta included), see only the network it builds.
pub(crate) fn in_new_network<T: Send>(body: impl FnOnce() -> T + Send) -> T {
    assert!(
        is_root(),
        "this test builds a network of its own, which needs root: run the tests as root, as CI does"
    );
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
                    .expect("unshare(CLONE_NEWNET)");
                body()
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The address of the network test's host on its uplink.
const HOST_ADDRESS: &str = "10.199.0.2/24";
/// The default route of the network test's host, the other end of its uplink.
const GATEWAY: &str = "10.199.0.1";
/// A machine of the internet, beyond the gateway. Not an address of the host: those are
/// unreachable from an isolated sandbox (attack_network.rs).
const REMOTE: &str = "10.199.1.1";

/// Builds the network of the test's namespace: lo, an uplink with the host's address
/// and the default route through `GATEWAY`, whose other end is in `internet`, which has
/// `REMOTE`.
pub(crate) fn build_host_network(internet: &NetNamespace) {
    ip(&["link", "set", "lo", "up"]);
    connect_uplink(&[], internet, HOST_ADDRESS, GATEWAY, REMOTE);
}

#[test]
fn isolated_network_reaches_out_but_not_host_loopback_needs_root() {
    require("pasta", "passt");
    give_tun_its_usual_mode();
    let world = World::new();
    let internet = NetNamespace::add("peer");
    in_new_network(|| {
        build_host_network(&internet);
        let loopback_server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = loopback_server.local_addr().unwrap().port();
        let loopback = format!("127.0.0.1:{port}");
        let gateway = format!("{GATEWAY}:{port}");
        let remote_server =
            internet.inside(|| std::net::TcpListener::bind(format!("{REMOTE}:0")).unwrap());
        let remote = remote_server.local_addr().unwrap().to_string();
        let any_server = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let host_ip = HOST_ADDRESS.split('/').next().unwrap();
        let main_address = format!("{host_ip}:{}", any_server.local_addr().unwrap().port());
        let abstract_name = format!(
            "{}-net",
            world.root.path().file_name().unwrap().to_string_lossy()
        );
        let _abstract = UnixListener::bind_addr(
            &SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap(),
        )
        .unwrap();
        // Outside the sandbox all of these answer: each check inside can fail.
        for (check, target) in [
            ("tcp-reachable", &loopback),
            ("tcp-reachable", &remote),
            ("tcp-reachable", &main_address),
            ("abstract-reachable", &abstract_name),
        ] {
            probe_outside(&world, check, target);
        }

        let profile = isolated_sh_profile(&world, "iso", "");
        // Without `--no-map-gw`, pasta would take the gateway to the host's loopback. The
        // host's main address is the sandbox's own in there.
        let script = format!(
            "s=0\n{}\
             ip -o -4 addr show scope global\n\
             ip -4 route show default\n\
             exit $s\n",
            probe_checks(&[
                ("tcp-unreachable", &loopback),
                ("tcp-unreachable", &gateway),
                ("tcp-unreachable", &main_address),
                ("abstract-unreachable", &abstract_name),
                ("tcp-reachable", &remote),
                ("interfaces-not-only-lo", ""),
            ]),
        );
        let out = world.boxtop_run(&profile, &[&script]).output().unwrap();
        assert_probe_ok(&out, 6);
        let text = stdout(&out);
        assert!(
            text.lines()
                .any(|line| line.contains(&format!(" inet {HOST_ADDRESS} "))
                    && !line.contains(" lo ")),
            "no interface besides lo has the host's address {HOST_ADDRESS}:\n{text}"
        );
        assert!(
            text.lines()
                .any(|line| line.starts_with("default via ") && !line.contains(" dev lo")),
            "no default route inside:\n{text}"
        );
        // The instance's network bytes: what the app sent out through pasta, read from its
        // namespace while it runs.
        let sent = 1_000_000u64;
        // Bounded: a sandbox that never sends must fail the test, not hang it.
        remote_server.set_nonblocking(true).unwrap();
        let receiver = std::thread::spawn(move || {
            use std::io::Read;
            let started = Instant::now();
            // The earlier check's connection, empty, waits in the backlog first.
            while started.elapsed() < Duration::from_secs(20) {
                let Ok((mut stream, _)) = remote_server.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                let mut received = Vec::new();
                let _ = stream.read_to_end(&mut received);
                if !received.is_empty() {
                    return received.len() as u64;
                }
            }
            0
        });
        let id = world.detach(&[
            "--profile-file",
            profile.to_str().unwrap(),
            "--",
            &format!("$HOME/probe-bin/probe tcp-send {remote} {sent}; exec sleep 1000"),
        ]);
        let _guard = KillOnDrop(&world, id.clone());
        assert_eq!(
            receiver.join().unwrap(),
            sent,
            "what the server outside received; the app's log:\n{}",
            stdout(&world.boxtop(&["logs", &id]).output().unwrap())
        );
        let bytes = || {
            let listed = world.ps();
            let status = listed.into_iter().find(|s| s["id"] == id.as_str());
            status.map(|s| (s["net_rx_bytes"].as_u64(), s["net_tx_bytes"].as_u64()))
        };
        wait_until(
            "the instance's sent bytes in ps",
            Duration::from_secs(10),
            || matches!(bytes(), Some((Some(rx), Some(tx))) if tx >= sent && rx > 0),
        );
        let kill = world.boxtop(&["kill", &id]).output().unwrap();
        assert_ok(&kill, "boxtop kill");
        wait_until(
            "pasta to end with the instance",
            Duration::from_secs(10),
            || processes_in_my_network().is_empty(),
        );

        // pasta served that sandbox alone: it must be gone with it.
        let left = processes_in_my_network();
        assert!(
            left.is_empty(),
            "processes left in the test's network after boxtop returned: {left:?}"
        );
    });
}

/// The processes (pid and command line) whose network namespace is the calling
/// thread's; the test binary itself is not among them, as its main thread is elsewhere.
pub(crate) fn processes_in_my_network() -> Vec<(u32, String)> {
    let mine = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/ns/net")).is_ok_and(|net| net == mine)
        })
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            (pid, String::from_utf8_lossy(&cmdline).replace('\0', " "))
        })
        .collect()
}

#[test]
fn isolated_network_without_a_usable_tun_device_says_how_to_fix_it_needs_root() {
    require("pasta", "passt");
    let world = World::new();
    // A tun device only root may open, seen by boxtop alone.
    let closed_tun =
        "mount -t tmpfs -o mode=0755 tmpfs /dev/net && mknod -m 0600 /dev/net/tun c 10 200";
    let boxtop = world.bin.join("boxtop");
    let profile = world.profile(
        "notun",
        "command = [\"/bin/true\"]\nnetwork = \"isolated\"\n[home]\nephemeral = true\n",
    );
    let run = with_private_mounts(&world, closed_tun, &boxtop)
        .args(["run", "--profile-file", profile.to_str().unwrap()])
        .output()
        .unwrap();
    let message = stderr(&run);
    assert_eq!(run.status.code(), Some(125), "{message}");
    for words in [
        "/dev/net/tun cannot be opened by uid",
        "network = \"isolated\"",
        "sudo chmod 0666 /dev/net/tun",
    ] {
        assert!(
            message.contains(words),
            "{words:?} missing from:\n{message}"
        );
    }

    let tun_check = |cmd: &mut Command| {
        let out = cmd.args(["doctor", "--json"]).output().unwrap();
        let checks: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|error| panic!("doctor --json: {error}\n{}", stdout(&out)));
        checks
            .as_array()
            .unwrap()
            .iter()
            .find(|check| check["feature"] == "tun device")
            .cloned()
            .unwrap_or_else(|| panic!("no tun device check in {checks}"))
    };
    let closed = tun_check(&mut with_private_mounts(&world, closed_tun, &boxtop));
    assert_eq!(closed["status"], "missing", "{closed}");
    let fix = closed["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("sudo chmod 0666 /dev/net/tun"), "{closed}");
    give_tun_its_usual_mode();
    let usual = tun_check(&mut world.boxtop(&[]));
    assert_eq!(usual["status"], "ok", "{usual}");
}

/// A launch from a menu entry has no terminal: its failure reaches the user as a
/// desktop notification, shown by a real notification server (dunst, on Xvfb, printing
/// what it shows) on the session bus, naming the app and the reason.
#[test]
fn a_failed_launch_from_the_desktop_sends_a_notification() {
    let mut world = World::new();
    let _bus = SessionBus::start(&mut world);
    require("notify-send", "libnotify-bin");
    let display = display_number();
    let _x = Xvfb::start(&world, display);
    let shown = world.root.path().join("dunst.txt");
    let dunst = Server(
        world
            .command(&require("dunst", "dunst"))
            .arg("-print")
            .env("DISPLAY", format!(":{display}"))
            .stdout(std::fs::File::create(&shown).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let dbus_send = require("dbus-send", "dbus-bin");
    wait_until(
        "dunst to own the notification name",
        Duration::from_secs(10),
        || {
            world
                .command(&dbus_send)
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.Notifications",
                    "/org/freedesktop/Notifications",
                    "org.freedesktop.Notifications.GetServerInformation",
                ])
                .output()
                .is_ok_and(|out| out.status.success())
        },
    );
    let profile = world.profile(
        "brokenapp",
        "command = [\"/no/such/app\"]\n[home]\nephemeral = true\n",
    );
    let output = world
        .boxtop(&[
            "run",
            "--detach",
            "--origin",
            "desktop",
            "--profile-file",
            profile.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(127), "{}", stderr(&output));
    wait_until("the notification", Duration::from_secs(10), || {
        let text = std::fs::read_to_string(&shown).unwrap_or_default();
        text.contains("brokenapp could not start in its sandbox") && text.contains("/no/such/app")
    });
    // From a terminal, no notification: the message is on stderr.
    let output = world
        .boxtop(&["run", "--profile-file", profile.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(127));
    assert!(
        stderr(&output).contains("/no/such/app"),
        "{}",
        stderr(&output)
    );
    std::thread::sleep(Duration::from_millis(300));
    let text = std::fs::read_to_string(&shown).unwrap();
    assert_eq!(
        text.matches("summary: 'brokenapp could not start").count(),
        1,
        "one notification only:\n{text}"
    );
    // It names the instance's log, which says what happened.
    let log_dir = world.home.join(".local/state/boxtop/logs");
    let log = std::fs::read_dir(&log_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("brokenapp-"))
        .expect("a log for the failed instance");
    assert!(text.contains(&log.display().to_string()), "{text}");
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("failed to start"));
    drop(dunst);
}

/// GPU and webcam nodes reach the sandbox only with their grants. This host may have no
/// GPU or camera: the test gives boxtop a `/dev` of its own (a tmpfs with the standard
/// nodes plus a DRM render node and a video node, made with mknod as root in a private
/// mount namespace; the host's `/dev` is not touched).
#[test]
fn gpu_and_webcam_nodes_are_visible_only_with_their_grants() {
    let world = World::new();
    let fake = world.root.path().join("dev");
    let setup = format!(
        "mkdir -p {dev} && mount -t tmpfs -o mode=755 tmpfs {dev} && cd {dev} && \
         mknod -m 666 null c 1 3 && mknod -m 666 zero c 1 5 && mknod -m 666 full c 1 7 && \
         mknod -m 666 random c 1 8 && mknod -m 666 urandom c 1 9 && mknod -m 666 tty c 5 0 && \
         mkdir dri && mknod -m 666 dri/renderD128 c 226 128 && \
         mknod -m 666 video0 c 81 0 && mount --bind {dev} /dev",
        dev = fake.display()
    );
    let run = |keys: &str| -> String {
        let profile = world.profile(
            "devices",
            &format!(
                "command = [\"/bin/sh\", \"-c\", \"ls /dev/dri /dev/video0 2>&1; true\"]\n{keys}\n[home]\nephemeral = true\n"
            ),
        );
        let out = with_private_mounts(&world, &setup, &world.bin.join("boxtop"))
            .args(["run", "--profile-file", profile.to_str().unwrap()])
            .output()
            .unwrap();
        assert_ok(&out, &format!("a sandbox with {keys:?}"));
        stdout(&out)
    };
    let absent = |text: &str, path: &str| text.contains(&format!("cannot access '{path}'"));
    let none = run("");
    assert!(
        absent(&none, "/dev/dri") && absent(&none, "/dev/video0"),
        "{none}"
    );
    let gpu = run("gpu = true");
    assert!(gpu.lines().any(|l| l.trim() == "renderD128"), "{gpu}");
    assert!(absent(&gpu, "/dev/video0"), "{gpu}");
    let webcam = run("webcam = true");
    assert!(absent(&webcam, "/dev/dri"), "{webcam}");
    assert!(
        webcam.lines().any(|l| l.trim() == "/dev/video0"),
        "{webcam}"
    );
}

/// `boxtop show` says which granted things this host provides right now.
#[test]
fn show_says_whether_the_host_provides_each_grant_now() {
    let mut world = World::new();
    let profiles = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        profiles.join("viewer.toml"),
        "name = \"viewer\"\ncommand = [\"true\"]\ndisplay = \"x11\"\n",
    )
    .unwrap();
    world.fix_owner();
    let show = |world: &World| stdout(&world.boxtop(&["show", "viewer"]).output().unwrap());
    let without = show(&world);
    assert!(
        without.contains("Here now, missing:") && without.contains("display:"),
        "{without}"
    );
    let display = display_number();
    let _x = Xvfb::start(&world, display);
    world.env.insert("DISPLAY".into(), format!(":{display}"));
    let with = show(&world);
    assert!(
        with.contains("Here now: everything it is granted is available."),
        "{with}"
    );
}

/// A real app end to end: mousepad in its bundled profile, on Xvfb, with a session bus
/// (the profile owns its application id) and a PulseAudio server running, opens a file
/// from the shared Documents folder given on the command line; its window, titled with
/// the file, shows in a screenshot taken outside.
#[test]
fn mousepad_opens_a_shared_document_in_its_bundled_profile() {
    require("mousepad", "mousepad");
    require("xdg-dbus-proxy", "xdg-dbus-proxy");
    let (mut world, _x, _display) = x_world();
    let _bus = SessionBus::start(&mut world);
    let _pulse = pulse_server(&world, &require("pulseaudio", "pulseaudio"));
    let documents = world.home.join("Documents");
    std::fs::create_dir_all(&documents).unwrap();
    let note = documents.join("boxtop-note.txt");
    std::fs::write(&note, "written on the host, read in the sandbox\n").unwrap();
    world.fix_owner();
    let id = world.detach(&["mousepad", "--", note.to_str().unwrap()]);
    let _guard = KillOnDrop(&world, id.clone());
    let logs = || stdout(&world.boxtop(&["logs", &id]).output().unwrap());
    wait_for_window(&world, &id, "boxtop-note.txt", Duration::from_secs(30));
    let count = screen_colours_above(&world, "mousepad.xwd", 10, Duration::from_secs(10));
    assert!(
        count > 10,
        "the screenshot does not show a window ({count} colours)"
    );
    // Launched again, as from the menu: the file goes to the running editor, through its
    // own single-instance call (D-Bus) inside the sandbox that holds its home; the second
    // mousepad then exits, leaving the processes there were.
    let processes = || {
        let listed = world.ps();
        listed
            .iter()
            .find(|s| s["id"] == id.as_str())
            .map(|s| s["processes"].as_u64().unwrap_or(0))
            .unwrap_or(0)
    };
    let before = processes();
    assert!(before > 0, "the running mousepad is not listed by ps");
    let second = documents.join("boxtop-second.txt");
    std::fs::write(&second, "a second file\n").unwrap();
    world.fix_owner();
    let again = world
        .boxtop(&[
            "run",
            "--detach",
            "mousepad",
            "--",
            second.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_ok(&again, "boxtop run --detach mousepad, again");
    assert_eq!(stdout(&again).trim(), id, "{}", stderr(&again));
    // The running mousepad opens the second file.
    wait_for_window(&world, &id, "boxtop-second.txt", Duration::from_secs(30));
    assert!(logs().contains("launched again from cli"), "{}", logs());
    let started = std::time::Instant::now();
    while processes() != before {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the second mousepad stayed: {} processes, {before} before it",
            processes()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let listed = world.ps();
    let mousepads: Vec<_> = listed
        .iter()
        .filter(|s| s["profile"] == "mousepad" && s["state"]["state"] == "running")
        .collect();
    assert_eq!(mousepads.len(), 1, "one mousepad sandbox: {listed:?}");
    assert_eq!(mousepads[0]["id"], id.as_str());
    let stop = world
        .boxtop(&["stop", &id, "--timeout", "5"])
        .output()
        .unwrap();
    assert_ok(&stop, "boxtop stop");
}
