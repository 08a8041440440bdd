//! The D-Bus grant: the session bus through xdg-dbus-proxy, only the granted names, and
//! no bus at all without it.

use super::sh;
use crate::support::dbus::{ping, ALLOWED, DENIED};
use crate::support::{assert_ok, require, stderr, stdout, SessionBus, World};

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
