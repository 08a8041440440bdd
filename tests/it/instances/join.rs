//! Commands run in a running sandbox: `boxtop enter`, and a second launch of a profile
//! whose private home a sandbox holds.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::instances::{is_live, Box};
use crate::support::{stderr, stdout, wait_until};

#[test]
fn enter_runs_inside_the_sandbox_under_its_filter() {
    let b = Box::new();
    let id = b.detach(&b.sh_profile("enterable", "exec sleep 1000", ""));
    b.wait_processes(&id, 2);
    let cmdline = b.ok(&["enter", &id, "--", "cat", "/proc/1/cmdline"]);
    let argv: Vec<&str> = cmdline.split('\0').filter(|a| !a.is_empty()).collect();
    assert_eq!(
        argv,
        ["boxtop-init"],
        "pid 1 inside should be the sandbox's init, showing nothing of boxtop's command line"
    );
    let probe = b.world.probe_path();
    let probe = probe.to_str().unwrap();
    for check in [
        vec!["caps-zero"],
        vec!["no-new-privs"],
        vec!["seccomp-filter"],
        vec!["hostname", "enterable"],
        vec!["absent", "/etc/shadow"],
    ] {
        let mut args = vec!["enter", id.as_str(), "--", probe];
        args.extend(check.iter().copied());
        let out = b.ok(&args);
        assert!(
            out.starts_with("ok ") && !out.contains("fail"),
            "{check:?}: {out}"
        );
    }
    // The entered command is a process of the sandbox while it runs.
    let mut sleeper = b
        .world
        .boxtop(&["enter", &id, "--", "sleep", "30"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    b.wait_processes(&id, 3);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    // A command that is not there: the reason, and enter's error code.
    let missing = b
        .world
        .boxtop(&["enter", &id, "--", "/no/such/program"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(125), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("/no/such/program"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn a_second_launch_runs_in_the_sandbox_holding_the_private_home() {
    let b = Box::new();
    // A persistent private home; each launch's script is its extra argument.
    let profile = b.world.profile(
        "notes",
        "command = [\"/bin/sh\", \"-c\"]\n[home]\nephemeral = false\n",
    );
    let run = |flags: &[&str], script: &str| {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.extend(["--profile-file", profile.to_str().unwrap(), "--", script]);
        b.world.boxtop(&args).output().expect("run boxtop")
    };
    // /tmp is a tmpfs of each sandbox: a file there tells the sandboxes apart.
    let first = run(
        &["--detach"],
        "echo here > /tmp/first-sandbox; exec sleep 1000",
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let id = stdout(&first).trim().to_string();
    b.wait_processes(&id, 2);

    let again = run(
        &[],
        "test -e /tmp/first-sandbox && echo same-sandbox; exit 7",
    );
    assert_eq!(again.status.code(), Some(7), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("same-sandbox"),
        "stdout: {}\nstderr: {}",
        stdout(&again),
        stderr(&again)
    );
    assert!(
        stderr(&again).contains(&format!("already runs as {id}")),
        "{}",
        stderr(&again)
    );

    let result = b.world.home.join(".local/share/boxtop/homes/notes/result");
    let detached = run(
        &["--detach"],
        "test -e /tmp/first-sandbox && echo same-sandbox > ~/result",
    );
    assert!(detached.status.success(), "{}", stderr(&detached));
    assert_eq!(
        stdout(&detached).trim(),
        id,
        "a detached launch names the instance it ran in"
    );
    wait_until(
        "the detached command's file",
        Duration::from_secs(10),
        || std::fs::read_to_string(&result).is_ok_and(|t| t.contains("same-sandbox")),
    );

    // A paused sandbox cannot take a command: it would wait for it forever.
    let pause = b.world.boxtop(&["pause", &id]).output().unwrap();
    assert!(pause.status.success(), "{}", stderr(&pause));
    let frozen = run(&["--detach"], "true");
    assert!(!frozen.status.success());
    assert!(
        stderr(&frozen).contains(&format!("instance {id} is paused: resume it first")),
        "{}",
        stderr(&frozen)
    );
    let resume = b.world.boxtop(&["resume", &id]).output().unwrap();
    assert!(resume.status.success(), "{}", stderr(&resume));

    let separate = run(
        &["--new-instance"],
        "test -e /tmp/first-sandbox || echo separate",
    );
    assert!(separate.status.success(), "{}", stderr(&separate));
    assert!(
        stdout(&separate).contains("separate"),
        "{}",
        stdout(&separate)
    );
    assert!(
        stderr(&separate).contains("both use its private home"),
        "{}",
        stderr(&separate)
    );
    let running: Vec<Value> = b
        .ps_now()
        .into_iter()
        .filter(|s| s["profile"] == "notes" && is_live(s))
        .collect();
    assert_eq!(running.len(), 1, "one sandbox of the profile: {running:?}");

    let kill = b.world.boxtop(&["kill", &id]).output().unwrap();
    assert!(kill.status.success(), "{}", stderr(&kill));
    let fresh = run(&[], "test -e /tmp/first-sandbox || echo fresh");
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    assert!(stdout(&fresh).contains("fresh"), "{}", stdout(&fresh));
    assert!(
        !stderr(&fresh).contains("already runs"),
        "{}",
        stderr(&fresh)
    );
}
