//! Display grants: X11 through a private Xauthority, Wayland through the compositor's
//! socket, and what `boxtop show` says of a display here.

use std::process::Stdio;
use std::time::Duration;

use super::{assert_unreachable, run_in_background, sh};
use crate::support::x11::{screen_colours_above, x_windows};
use crate::support::{
    accepts, assert_ok, free_display, require, stderr, stdout, wait_until, x_world, Server, World,
    Xvfb,
};

#[test]
fn x11_grant_lets_the_app_draw_a_window_with_a_single_cookie() {
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
fn wayland_compositor_is_reachable_only_with_the_wayland_grant() {
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
    let display = free_display();
    let _x = Xvfb::start(&world, display);
    world.env.insert("DISPLAY".into(), format!(":{display}"));
    let with = show(&world);
    assert!(
        with.contains("Here now: everything it is granted is available."),
        "{with}"
    );
}
