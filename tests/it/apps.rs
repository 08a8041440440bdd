//! Real apps in their bundled profiles: the Debian packages `make test` installs
//! (chromium, firefox-esr, xterm, mousepad), launched by name under a real
//! Xvfb with a session bus and a PulseAudio server running, seen from outside by their
//! windows. Chromium also renders a local page headless, with no network, to a PNG.

use std::time::Duration;

use crate::support::x11::screen_colours_above;
use crate::support::{
    assert_ok, give_tun_its_usual_mode, pulse_server, require, stderr, stdout, wait_for_window,
    x_world, KillOnDrop, Server, SessionBus, World, Xvfb,
};

/// A desktop session for apps: Xvfb (with the user's Xauthority), a session bus and a
/// PulseAudio server, all of the test user; the tun device usable by pasta for the
/// browsers' isolated network.
struct Desktop {
    world: World,
    _x: Xvfb,
    _bus: SessionBus,
    _pulse: Server,
}

impl Desktop {
    fn new() -> Desktop {
        give_tun_its_usual_mode();
        let (mut world, x, _display) = x_world();
        let bus = SessionBus::start(&mut world);
        let pulse = pulse_server(&world, &require("pulseaudio", "pulseaudio"));
        Desktop {
            world,
            _x: x,
            _bus: bus,
            _pulse: pulse,
        }
    }

    /// `boxtop run --detach NAME -- ARGS`: the instance id, killed when dropped.
    fn launch(&self, name: &str, args: &[&str]) -> Launched<'_> {
        let mut all = vec![name, "--"];
        all.extend_from_slice(args);
        Launched {
            world: &self.world,
            id: self.world.detach(&all),
        }
    }

    /// Waits for a window whose line in `xwininfo -root -tree` holds `needle`.
    fn wait_for_window(&self, launched: &Launched, needle: &str, timeout: Duration) {
        wait_for_window(&self.world, &launched.id, needle, timeout);
    }
}

struct Launched<'a> {
    world: &'a World,
    id: String,
}

impl Launched<'_> {
    fn is_running(&self) -> bool {
        self.world
            .ps()
            .iter()
            .any(|s| s["id"] == self.id.as_str() && s["state"]["state"] == "running")
    }
}

impl Drop for Launched<'_> {
    fn drop(&mut self) {
        let _ = self.world.boxtop(&["kill", &self.id]).output();
    }
}

/// The width and height in a PNG's header.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let number = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    Some((number(16), number(20)))
}

#[test]
fn chromium_shows_its_window_in_its_bundled_profile() {
    require("chromium", "chromium");
    let desktop = Desktop::new();
    let app = desktop.launch("chromium", &["--no-first-run", "about:blank"]);
    desktop.wait_for_window(&app, "Chromium", Duration::from_secs(60));
    assert!(app.is_running());
}

#[test]
fn chromium_renders_a_local_page_headless_without_network() {
    require("chromium", "chromium");
    let desktop = Desktop::new();
    let world = &desktop.world;
    let downloads = world.home.join("Downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let page = downloads.join("page.html");
    std::fs::write(
        &page,
        "<html><body style=\"background:#c00\"><h1>boxtop</h1></body></html>",
    )
    .unwrap();
    let profiles = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    // The bundled chromium profile, with no network at all.
    std::fs::write(
        profiles.join("chromium-offline.toml"),
        "name = \"chromium-offline\"\nextends = \"chromium\"\nnetwork = \"none\"\n",
    )
    .unwrap();
    world.fix_owner();
    let shot = downloads.join("shot.png");
    let output = world
        .boxtop(&[
            "run",
            "chromium-offline",
            "--",
            "--headless",
            "--no-first-run",
            &format!("--screenshot={}", shot.display()),
            "--window-size=400,300",
            &format!("file://{}", page.display()),
        ])
        .output()
        .unwrap();
    assert_ok(&output, "chromium --headless --screenshot in the sandbox");
    let bytes = std::fs::read(&shot).unwrap_or_else(|err| {
        panic!(
            "no screenshot at {}: {err}\n{}",
            shot.display(),
            crate::support::stderr(&output)
        )
    });
    assert_eq!(png_size(&bytes), Some((400, 300)), "not a 400x300 PNG");
    let plan = world
        .boxtop(&["plan", "chromium-offline"])
        .output()
        .unwrap();
    assert!(
        stdout(&plan).contains("namespaces user mnt pid ipc uts cgroup net")
            && !stdout(&plan).contains("pasta"),
        "network none: its own network namespace, no pasta\n{}",
        stdout(&plan)
    );
}

#[test]
fn firefox_esr_shows_its_window_in_its_bundled_profile() {
    require("firefox-esr", "firefox-esr");
    let desktop = Desktop::new();
    let app = desktop.launch("firefox-esr", &["--new-instance", "about:blank"]);
    desktop.wait_for_window(&app, "Firefox", Duration::from_secs(60));
    assert!(app.is_running());
}

#[test]
fn xterm_runs_confined_in_a_window_of_its_own() {
    require("xterm", "xterm");
    let desktop = Desktop::new();
    let world = &desktop.world;
    // The command in the terminal leaves what it saw in the profile's private home.
    let script = "{ id -u; test -e /etc/shadow && echo shadow-visible; \
                  test -e \"$HOME/.Xauthority\" && echo xauthority-visible; \
                  grep -c . /proc/self/uid_map; } > \"$HOME/seen.txt\"; exec sleep 1000";
    let app = desktop.launch(
        "xterm",
        &["-title", "boxtop-xterm", "-e", "sh", "-c", script],
    );
    desktop.wait_for_window(&app, "boxtop-xterm", Duration::from_secs(30));
    let seen = world.home.join(".local/share/boxtop/homes/xterm/seen.txt");
    crate::support::wait_until("the terminal's report", Duration::from_secs(10), || {
        std::fs::read_to_string(&seen).is_ok_and(|text| text.lines().count() >= 2)
    });
    let text = std::fs::read_to_string(&seen).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [world.uid.to_string().as_str(), "1"],
        "inside: the user's uid, a single uid mapping, no /etc/shadow, no host Xauthority"
    );
    assert!(app.is_running());
}

/// A real app end to end: mousepad in its bundled profile, on Xvfb, with a session bus
/// (the profile owns its application id) and a PulseAudio server running, opens a file
/// from the shared Documents folder given on the command line; its window, titled with
/// the file, shows in a screenshot taken outside.
#[test]
fn mousepad_opens_the_documents_of_every_launch_in_one_sandbox() {
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
