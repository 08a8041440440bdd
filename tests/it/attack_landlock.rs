//! The Landlock wall on its own, attacked from inside sandboxes started by the
//! unprivileged test user: a host file mounted where the plan puts nothing (the
//! debug-only `BOXTOP_TEST_EXTRA_BIND`, a stand-in for a mistake in the mount plan), the
//! host's abstract unix sockets under `network = "host"` (a real Xvfb, a real
//! dbus-daemon), and a signal to a command the user entered into the sandbox. Each attack
//! is also run with the debug-only `BOXTOP_TEST_NO_LANDLOCK=1`, where it must succeed:
//! what stops it is Landlock and nothing else.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use boxtop::json_output::Schema;

use crate::support::json;
use crate::support::{
    assert_probe_ok, free_display, probe_outside, stderr, stdout, wait_until, x_world, SessionBus,
    World, Xvfb,
};

const EXTRA_BIND: &str = "BOXTOP_TEST_EXTRA_BIND";
const NO_LANDLOCK: &str = "BOXTOP_TEST_NO_LANDLOCK";

/// The tests of scopes need Landlock ABI 6 (Linux 6.12), as `boxtop doctor` reports it.
fn require_scopes(world: &World) {
    let output = world
        .boxtop(&["doctor", "--json"])
        .output()
        .expect("run boxtop doctor");
    let checks = json::list(Schema::DOCTOR, "checks", &output);
    let landlock = checks
        .iter()
        .find(|check| check["feature"] == "landlock")
        .map(|check| check["detail"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    assert!(
        landlock.contains("abstract sockets and signals scoped"),
        "this test needs Landlock ABI 6 (Linux 6.12, Landlock enabled); boxtop doctor says: {landlock:?}"
    );
}

/// `boxtop run --profile-file PROFILE -- ARGS` with `env` added to the test user's.
fn run_probe_with(world: &World, profile: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    world
        .boxtop_run(profile, args)
        .envs(env.iter().copied())
        .output()
        .expect("run boxtop")
}

/// A host folder, readable by the test user, with a secret file in it; outside the home.
fn secret_folder(world: &World) -> (PathBuf, &'static str) {
    let dir = world.root.path().join("outside");
    std::fs::create_dir_all(&dir).unwrap();
    let secret = "landlock-secret-4711";
    std::fs::write(dir.join("secret.txt"), secret).unwrap();
    (dir, secret)
}

#[test]
fn a_mount_the_rules_do_not_know_stays_unreadable() {
    let world = World::new();
    let (dir, secret) = secret_folder(&world);
    let bind = format!("{}:/mnt/extra", dir.display());
    let profile = world.probe_profile("unplanned", "network = \"none\"", "");
    let file = "/mnt/extra/secret.txt";
    // The test user can read it outside: only the sandbox can keep it away.
    assert_eq!(
        std::fs::read_to_string(dir.join("secret.txt")).unwrap(),
        secret
    );
    let with_bind = |args: &[&str]| run_probe_with(&world, &profile, args, &[(EXTRA_BIND, &bind)]);
    let without_landlock = |args: &[&str]| {
        run_probe_with(
            &world,
            &profile,
            args,
            &[(EXTRA_BIND, &bind), (NO_LANDLOCK, "1")],
        )
    };
    let attack = with_bind(&["read-refused", file]);
    assert_probe_ok(&attack, 3);
    // The switches of the test hooks are boxtop's, not the app's.
    let env = without_landlock(&["env-absent", EXTRA_BIND, NO_LANDLOCK]);
    assert_probe_ok(&env, 2);
    // The same bind without Landlock: the mount is really there and readable.
    let open = without_landlock(&["read-file", file, secret]);
    assert_probe_ok(&open, 1);
    // Paths the plan holds stay usable under the rules.
    let planned = with_bind(&["controls"]);
    assert_probe_ok(&planned, 6);
    assert_eq!(
        std::fs::read_to_string(dir.join("secret.txt")).unwrap(),
        secret
    );
}

/// A detached sandbox with the extra bind, running `sleep`; killed when dropped.
struct Detached<'a> {
    world: &'a World,
    id: String,
}

impl Drop for Detached<'_> {
    fn drop(&mut self) {
        let _ = self.world.boxtop(&["kill", &self.id]).output();
    }
}

fn detach<'a>(world: &'a World, profile: &Path, env: &[(&str, &str)]) -> Detached<'a> {
    Detached {
        world,
        id: world.detach_with_env(&["--profile-file", profile.to_str().unwrap()], env),
    }
}

fn sh_profile(world: &World, name: &str, script: &str, top: &str) -> PathBuf {
    world.profile(
        name,
        &format!(
            "command = [\"/bin/sh\", \"-c\", \"{script}\"]\n{top}\n[home]\nephemeral = true\n[[home.share]]\npath = \"probe-bin\"\nmode = \"ro\"\n"
        ),
    )
}

#[test]
fn a_command_entered_into_the_sandbox_gets_the_same_rules() {
    let world = World::new();
    let (dir, secret) = secret_folder(&world);
    let bind = format!("{}:/mnt/extra", dir.display());
    let probe = world.probe_path();
    let probe = probe.to_str().unwrap();
    let file = "/mnt/extra/secret.txt";
    let profile = sh_profile(&world, "entered", "exec sleep 1000", "network = \"none\"");
    let sandbox = detach(&world, &profile, &[(EXTRA_BIND, &bind)]);
    let entered = world
        .boxtop(&["enter", &sandbox.id, "--", probe, "read-refused", file])
        .output()
        .unwrap();
    assert_probe_ok(&entered, 3);
    // Started without Landlock, its record holds no rules: the entered command reads it.
    let open = detach(&world, &profile, &[(EXTRA_BIND, &bind), (NO_LANDLOCK, "1")]);
    let entered = world
        .boxtop(&["enter", &open.id, "--", probe, "read-file", file, secret])
        .output()
        .unwrap();
    assert_probe_ok(&entered, 1);
}

#[test]
fn network_host_cannot_reach_the_x_servers_abstract_socket() {
    let world = World::new();
    require_scopes(&world);
    let display = free_display();
    let _x = Xvfb::start(&world, display);
    let name = format!("/tmp/.X11-unix/X{display}");
    probe_outside(&world, "abstract-reachable", &name);
    let profile = world.probe_profile("hostx", "network = \"host\"", "");
    let attack = run_probe_with(&world, &profile, &["abstract-refused", &name], &[]);
    assert_probe_ok(&attack, 1);
    let open = run_probe_with(
        &world,
        &profile,
        &["abstract-reachable", &name],
        &[(NO_LANDLOCK, "1")],
    );
    assert_probe_ok(&open, 1);
    // The server is untouched and still serves the host.
    probe_outside(&world, "abstract-reachable", &name);
}

#[test]
fn network_host_cannot_reach_a_session_bus_on_an_abstract_socket() {
    let mut world = World::new();
    require_scopes(&world);
    let bus = SessionBus::start(&mut world);
    let name = bus.abstract_name.clone();
    let profile = world.probe_profile("hostbus", "network = \"host\"", "");
    let attack = run_probe_with(&world, &profile, &["abstract-refused", &name], &[]);
    assert_probe_ok(&attack, 1);
    // A real client inside: refused with Landlock, answered by the echo service without.
    let client = format!(
        "dbus-send --bus=unix:abstract={name} --print-reply --dest=org.example.Allowed / \
         org.example.Echo.Ping string:boxtop"
    );
    let sh = sh_profile(&world, "hostbus-sh", &client, "network = \"host\"");
    let call = |env: &[(&str, &str)]| {
        let mut command = world.boxtop(&["run", "--profile-file", sh.to_str().unwrap()]);
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().unwrap()
    };
    let refused = call(&[]);
    assert!(
        !refused.status.success() && !stdout(&refused).contains("method return"),
        "dbus-send reached the host bus: {}\n{}",
        stdout(&refused),
        stderr(&refused)
    );
    assert_succeeded_saying(
        &call(&[(NO_LANDLOCK, "1")]),
        "method return",
        "without Landlock the echo service should answer",
    );
}

/// Asserts that `output` is of a success whose standard output holds `needle`; `what`
/// says what was expected.
fn assert_succeeded_saying(output: &Output, needle: &str, what: &str) {
    assert!(
        output.status.success() && stdout(output).contains(needle),
        "{what}: {}\n{}",
        stdout(output),
        stderr(output)
    );
}

/// The pid namespace already hides every host process, so what the signal scope adds is
/// inside the sandbox: the app cannot signal processes outside its Landlock domain, such
/// as a command the user runs in the sandbox with `boxtop enter` (its own domain) or the
/// sandbox's init. The app here is the probe, waiting for the entered `sleep`.
#[test]
fn the_app_cannot_signal_a_command_entered_into_its_sandbox() {
    let world = World::new();
    require_scopes(&world);
    let target = "sleep 300.25";
    let probe = world.probe_path();
    // The app stays after the probe, so that its sandbox (and the entered command) lives on.
    let script = format!(
        "{} signal-refused '{target}'; exec sleep 1000",
        probe.display()
    );
    let profile = sh_profile(&world, "signaller", &script, "network = \"host\"");
    let attempt = |env: &[(&str, &str)]| -> (Vec<String>, bool) {
        let sandbox = detach(&world, &profile, env);
        let mut sleeper = world
            .boxtop(&["enter", &sandbox.id, "--", "sleep", "300.25"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut log = String::new();
        wait_until("the probe's report", Duration::from_secs(40), || {
            log = world
                .boxtop(&["logs", &sandbox.id])
                .output()
                .map(|out| stdout(&out))
                .unwrap_or_default();
            log.contains(" signal-refused/init")
        });
        let survived = matches!(sleeper.try_wait(), Ok(None));
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        let lines = log
            .lines()
            .filter(|line| line.contains("signal-refused/"))
            .map(str::to_string)
            .collect();
        (lines, survived)
    };
    let (lines, survived) = attempt(&[]);
    assert_eq!(
        lines,
        ["ok signal-refused/kill", "ok signal-refused/init"],
        "with Landlock"
    );
    assert!(survived, "the entered command was killed");
    let (lines, survived) = attempt(&[(NO_LANDLOCK, "1")]);
    assert!(
        lines.iter().all(|line| line.starts_with("fail ")) && lines.len() == 2,
        "without Landlock both signals should go through: {lines:?}"
    );
    assert!(
        !survived,
        "without Landlock the entered command should have been killed"
    );
}

/// X11 clients try the server's abstract socket first and give up when it is refused
/// with EPERM (libxcb falls back to the path socket only on ENOENT and ECONNREFUSED), so
/// with the host network and an X11 display the scope is left off: the app must still
/// draw.
#[test]
fn network_host_with_an_x11_display_still_connects() {
    let (world, _x, _) = x_world();
    let profile = world.profile(
        "hostx11",
        "command = [\"/bin/sh\", \"-c\"]\ndisplay = \"x11\"\nnetwork = \"host\"\n[home]\nephemeral = true\n",
    );
    let out = world
        .boxtop_run(&profile, &["xdpyinfo >/dev/null && echo connected"])
        .output()
        .unwrap();
    assert_succeeded_saying(
        &out,
        "connected",
        "xdpyinfo with network = host and display = x11",
    );
}

/// A host file given as the app's output is outside every rule, yet scripts write to
/// `/dev/stdout` and `/dev/stderr`: the standard streams stay reopenable, with their open
/// mode and no more (the app's input, a file the user could write, opened read-only,
/// cannot be reopened for writing).
#[test]
fn the_apps_standard_streams_stay_reopenable_as_opened() {
    let world = World::new();
    let profile = world.profile(
        "streams",
        "command = [\"/bin/sh\", \"-c\"]\n[home]\nephemeral = true\n",
    );
    let output = world.root.path().join("output.txt");
    let input = world.root.path().join("input.txt");
    std::fs::write(&input, "given").unwrap();
    std::fs::write(&output, "").unwrap();
    for file in [&input, &output] {
        std::os::unix::fs::chown(file, Some(world.uid), Some(world.gid)).unwrap();
    }
    let out = std::fs::OpenOptions::new()
        .append(true)
        .open(&output)
        .unwrap();
    let status = world
        .boxtop_run(
            &profile,
            &[
                "cat /dev/stdin > /dev/stdout && echo ' written' >> /dev/stderr; \
               echo changed >> /dev/stdin || echo ' refused'",
            ],
        )
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(
        status.success() && text.starts_with("given written\n") && text.ends_with(" refused\n"),
        "{status:?}: {text:?}"
    );
    assert!(text.contains("Permission denied"), "{text:?}");
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "given");
}
