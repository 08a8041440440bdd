//! What an entry's launch line does: `gio launch` runs boxtop with the files, from any
//! folder; the app starts in its sandbox; a failed launch from the desktop tells the user
//! with a notification.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use boxtop::entries::install;

use crate::support::entries::{
    gio, install_app, key, launched_args, read, recording_boxtop, validate, Setup,
};
use crate::support::{free_display, require, stderr, wait_until, Server, SessionBus, World, Xvfb};

#[test]
fn gio_launches_boxtop_from_a_folder_with_reserved_characters_with_the_files() {
    let mut setup = Setup::new();
    // Space, dollar, quotes and backslash: each needs its own escape. (Not '%': GLib
    // looks for the program before it turns `%%` into `%`, see `percent_in_boxtop_path`.)
    let bin = setup.dir.path().join("my apps/$HOME/it's \"q\" \\b");
    setup.env.boxtop = recording_boxtop(&bin);
    let done = install(&setup.env, &setup.profile("viewer"), false).expect("install");
    validate(&done.entry);
    let picture = setup.dir.path().join("holiday photo.png");
    std::fs::write(&picture, b"png").unwrap();
    let output = Command::new(gio())
        .arg("launch")
        .arg(&done.entry)
        .arg(&picture)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run gio");
    assert!(
        output.status.success(),
        "gio launch: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        launched_args(&bin),
        vec![
            "run".to_string(),
            "--detach".into(),
            "--origin".into(),
            "desktop".into(),
            "viewer".into(),
            "--".into(),
            picture.display().to_string(),
        ]
    );
}

#[test]
fn percent_in_boxtop_path_is_written_as_the_spec_says_with_a_warning() {
    let mut setup = Setup::new();
    setup.env.boxtop = PathBuf::from("/opt/100% tools/boxtop");
    let done = install(&setup.env, &setup.profile("chat"), false).expect("install");
    validate(&done.entry);
    assert_eq!(
        key(&read(&done.entry), "Exec").as_deref(),
        Some("\"/opt/100%% tools/boxtop\" run --detach --origin desktop chat -- %U")
    );
    assert!(
        done.warnings.iter().any(|w| w.contains("holds '%'")),
        "{:?}",
        done.warnings
    );
}

/// End to end: the menu entry `boxtop desktop install` writes, started by `gio launch`
/// with a file as a launcher would, runs the app in its sandbox (listed by `boxtop ps`
/// as started from the desktop) and the app reads the file from a shared folder.
#[test]
fn gio_launching_the_entry_starts_the_app_sandboxed_with_the_file() {
    let mut world = crate::support::World::new();
    let pictures = install_app(
        &mut world,
        "org.example.Viewer.desktop",
        "[Desktop Entry]\nType=Application\nName=Viewer\nExec=viewer %f\nIcon=viewer\nMimeType=image/png;\n",
        "viewer",
        r#"name = "viewer"
desktop_file = "org.example.Viewer"
command = ["/bin/sh", "-c", "cat \"$1\" > \"$HOME/Pictures/seen.txt\"; exec sleep 1000", "viewer"]
[home]
ephemeral = true
[[home.share]]
path = "Pictures"
mode = "rw"
"#,
    );
    let picture = pictures.join("holiday photo.png");
    std::fs::write(&picture, b"not really a png").unwrap();
    world.fix_owner();

    let install = world
        .boxtop(&["desktop", "install", "viewer"])
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        crate::support::stderr(&install)
    );
    let entry = world
        .home
        .join(".local/share/applications/boxtop-viewer.desktop");
    validate(&entry);

    let launched = world
        .command(&gio())
        .arg("launch")
        .arg(&entry)
        .arg(&picture)
        .output()
        .unwrap();
    assert!(
        launched.status.success(),
        "gio launch: {}",
        crate::support::stderr(&launched)
    );
    let seen = pictures.join("seen.txt");
    crate::support::wait_until(
        "the sandboxed app to read the file",
        Duration::from_secs(20),
        || std::fs::read(&seen).is_ok_and(|bytes| bytes == b"not really a png"),
    );
    let listed = world.ps();
    let ids: Vec<String> = listed
        .iter()
        .filter(|s| s["profile"] == "viewer")
        .map(|s| {
            assert_eq!(s["origin"], "desktop", "{s}");
            assert_eq!(s["state"]["state"], "running", "{s}");
            s["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{listed:?}");
    let stop = world.boxtop(&["kill", &ids[0]]).output().unwrap();
    assert!(stop.status.success(), "{}", crate::support::stderr(&stop));

    // The autostart entry, started as a session would at login.
    std::fs::remove_file(&seen).unwrap();
    let enable = world
        .boxtop(&["autostart", "enable", "viewer"])
        .output()
        .unwrap();
    assert!(
        enable.status.success(),
        "{}",
        crate::support::stderr(&enable)
    );
    let autostart = world.home.join(".config/autostart/boxtop-viewer.desktop");
    validate(&autostart);
    let launched = world
        .command(&gio())
        .arg("launch")
        .arg(&autostart)
        .output()
        .unwrap();
    assert!(
        launched.status.success(),
        "{}",
        crate::support::stderr(&launched)
    );
    crate::support::wait_until("the autostarted instance", Duration::from_secs(20), || {
        let listed = world.ps();
        listed.iter().any(|s| {
            s["profile"] == "viewer"
                && s["origin"] == "autostart"
                && s["state"]["state"] == "running"
        })
    });
    let stop = world
        .boxtop(&["stop", "viewer", "--timeout", "2"])
        .output()
        .unwrap();
    assert!(stop.status.success(), "{}", crate::support::stderr(&stop));
}

/// A launch from a menu entry has no terminal: its failure reaches the user as a
/// desktop notification, shown by a real notification server (dunst, on Xvfb, printing
/// what it shows) on the session bus, naming the app and the reason.
#[test]
fn a_failed_launch_from_the_desktop_sends_a_notification() {
    let mut world = World::new();
    let _bus = SessionBus::start(&mut world);
    require("notify-send", "libnotify-bin");
    let display = free_display();
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
