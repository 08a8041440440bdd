//! `boxtop stop` asks the app to close as the user would (issue 21, item 5): its X11
//! windows get `WM_DELETE_WINDOW` first, so an editor asks about unsaved changes; SIGTERM
//! and SIGKILL follow. Checked with mousepad on Xvfb, its windows read from the X server.

use std::process::Stdio;
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, MapState};
use x11rb::rust_connection::RustConnection;

use crate::support::instances::Box;
use crate::support::world::KillOnDrop;
use crate::support::x11::{type_into, window_named, x_connect};
use crate::support::{
    assert_ok, require, stderr, stdout, wait_for_window, x_world, SessionBus, World,
};

/// The viewable top-level windows that are dialogs (`WM_TRANSIENT_FOR` set), with their
/// titles.
fn dialogs(conn: &RustConnection) -> Vec<String> {
    let root = conn.setup().roots[0].root;
    let tree = conn.query_tree(root).unwrap().reply().unwrap();
    let mut found = Vec::new();
    for window in tree.children {
        let Ok(attributes) = conn.get_window_attributes(window).unwrap().reply() else {
            continue;
        };
        if attributes.map_state != MapState::VIEWABLE {
            continue;
        }
        let transient = conn
            .get_property(
                false,
                window,
                AtomEnum::WM_TRANSIENT_FOR,
                AtomEnum::WINDOW,
                0,
                1,
            )
            .unwrap()
            .reply()
            .map(|reply| reply.value_len > 0)
            .unwrap_or(false);
        if transient {
            let title = conn
                .get_property(false, window, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 256)
                .unwrap()
                .reply()
                .map(|reply| String::from_utf8_lossy(&reply.value).into_owned())
                .unwrap_or_default();
            found.push(format!("{window:#x} {title:?}"));
        }
    }
    found
}

/// Mousepad on Xvfb with a session bus, editing a new file `name` of `~/Documents`: the
/// world, its display number, and the instance's id.
fn mousepad(name: &str) -> (World, crate::support::Xvfb, SessionBus, u32, String) {
    require("mousepad", "mousepad");
    require("xdg-dbus-proxy", "xdg-dbus-proxy");
    let (mut world, x, display) = x_world();
    let bus = SessionBus::start(&mut world);
    let documents = world.home.join("Documents");
    std::fs::create_dir_all(&documents).unwrap();
    let note = documents.join(name);
    std::fs::write(&note, "saved on the host\n").unwrap();
    world.fix_owner();
    let id = world.detach(&["mousepad", "--", note.to_str().unwrap()]);
    wait_for_window(&world, &id, name, Duration::from_secs(30));
    (world, x, bus, display, id)
}

#[test]
fn stop_asks_mousepad_to_close_and_its_unsaved_changes_dialog_shows() {
    let (world, _x, _bus, display, id) = mousepad("boxtop-unsaved.txt");
    let _guard = KillOnDrop(&world, id.clone());
    let conn = x_connect(display);
    let window = window_named(
        &crate::support::x11::x_windows(&world),
        "boxtop-unsaved.txt",
    );
    type_into(&conn, window, "unsaved");
    // The title marks the change ("*~/Documents/boxtop-unsaved.txt - Mousepad").
    wait_for_window(
        &world,
        &id,
        "\"*~/Documents/boxtop-unsaved.txt",
        Duration::from_secs(10),
    );
    assert!(dialogs(&conn).is_empty(), "a dialog before the stop");

    let stop = world
        .boxtop(&["stop", &id, "--timeout", "24"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut shown = Vec::new();
    while shown.is_empty() && started.elapsed() < Duration::from_secs(11) {
        std::thread::sleep(Duration::from_millis(100));
        shown = dialogs(&conn);
    }
    let stop = stop.wait_with_output().unwrap();
    assert!(
        !shown.is_empty(),
        "no dialog appeared on `boxtop stop`: the app was not asked to close\nstop said:\n{}{}",
        stdout(&stop),
        stderr(&stop)
    );
    // Nobody answered the dialog: SIGTERM ended it, and stop says so.
    assert_ok(&stop, "boxtop stop");
    assert!(
        stdout(&stop).contains("after SIGTERM"),
        "stop does not say SIGTERM ended it: {}{}",
        stdout(&stop),
        stderr(&stop)
    );
}

#[test]
fn stop_closes_a_saved_mousepad_through_its_window() {
    let (world, _x, _bus, display, id) = mousepad("boxtop-saved.txt");
    let _guard = KillOnDrop(&world, id.clone());
    let stop = world
        .boxtop(&["stop", &id, "--timeout", "30"])
        .output()
        .unwrap();
    assert_ok(&stop, "boxtop stop");
    let said = stdout(&stop);
    assert!(
        said.contains("exited with code 0") && said.contains("after its window was asked to close"),
        "a saved mousepad did not close through its window: {said}{}",
        stderr(&stop)
    );
    // Started again in the same private home, it does not ask about a session that
    // "did not end normally".
    let note = world.home.join("Documents/boxtop-saved.txt");
    let again = world.detach(&["mousepad", "--", note.to_str().unwrap()]);
    let _again = KillOnDrop(&world, again.clone());
    wait_for_window(&world, &again, "boxtop-saved.txt", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(1));
    let conn = x_connect(display);
    assert_eq!(
        dialogs(&conn),
        Vec::<String>::new(),
        "a dialog on the next start"
    );
}

#[test]
fn stop_ends_an_app_without_windows_by_sigterm() {
    let b = Box::new();
    let profile = b.sh_profile(
        "nowindow",
        "trap 'exit 3' TERM; while :; do sleep 0.1; done",
        "",
    );
    let id = b.detach(&profile);
    crate::support::wait_until("the sandbox to run", Duration::from_secs(10), || {
        b.state(&id) == "running"
    });
    // The shell has set its trap once it sleeps.
    std::thread::sleep(Duration::from_millis(300));
    let said = b.ok(&["stop", &id, "--timeout", "10"]);
    assert!(
        said.contains("exited with code 3") && said.contains("after SIGTERM"),
        "stop of an app without windows: {said}"
    );
}
