//! Grants proven with real servers started by the tests as the unprivileged test user:
//! Xvfb, weston, PulseAudio, PipeWire, a session dbus-daemon behind boxtop's
//! xdg-dbus-proxy, pasta in a network the test builds, and device nodes. Each grant is
//! shown working with it and the thing unreachable without it.

mod audio;
mod dbus;
mod devices;
mod display;
mod network;

use std::path::Path;
use std::process::{Output, Stdio};

use crate::support::{assert_ok, stdout, Server, World};

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
