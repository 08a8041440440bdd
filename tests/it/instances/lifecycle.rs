//! An instance's life: listed while it runs, stopped (or killed when it ignores SIGTERM),
//! paused and resumed, outliving its launcher.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::instances::{cpu_ticks, proc_state, sandbox_pids, Box};
use crate::support::{stderr, wait_until};

/// The app inside: init (1), sh (2), three sleepers.
const THREE_SLEEPERS: &str =
    "trap 'exit 3' TERM; echo started-out; echo started-err >&2; sleep 1000 & sleep 1000 & sleep 1000 & wait";

#[test]
fn a_detached_instance_is_tracked_until_stop_records_its_exit() {
    let b = Box::new();
    let profile = b.sh_profile("sleepers", THREE_SLEEPERS, "");
    let id = b.detach(&profile);
    assert!(id.starts_with("sleepers-"), "{id}");
    // pid 1 (boxtop's init), the shell, three sleepers.
    b.wait_processes(&id, 5);
    let status = b.status(&id, 0);
    assert_eq!(status["state"]["state"], "running");
    assert_eq!(status["profile"], "sleepers");
    assert_eq!(status["origin"], "cli");
    assert!(status["memory_bytes"].as_u64().unwrap() > 0, "{status}");
    // Network "none": its own namespace, nothing but lo, so zero bytes.
    assert_eq!(status["net_rx_bytes"], 0);

    let log = b.ok(&["logs", &id]);
    assert!(
        log.contains("started-out\n") && log.contains("started-err\n"),
        "{log}"
    );

    let started = Instant::now();
    let said = b.ok(&["stop", &id, "--timeout", "5"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        started.elapsed()
    );
    assert_eq!(
        said.trim(),
        format!("{id}: exited with code 3 (after SIGTERM)")
    );
    let status = b.status(&id, 0);
    assert_eq!(status["state"]["state"], "exited", "{status}");
    assert_eq!(status["state"]["code"], 3);
    assert!(status["ended_at"].as_u64().is_some());
    assert!(b.ok(&["logs", &id]).contains("[boxtop] exited with code 3"));

    // Stopping it again: a clear message, no panic.
    let again = b.world.boxtop(&["stop", &id]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains(&format!(
            "instance {id} is not running: it exited with code 3"
        )),
        "{}",
        stderr(&again)
    );
}

#[test]
fn stop_kills_an_app_that_ignores_sigterm_after_the_timeout() {
    let b = Box::new();
    let profile = b.sh_profile("stubborn", "trap '' TERM; while :; do sleep 1; done", "");
    let id = b.detach(&profile);
    b.wait_processes(&id, 3);
    let started = Instant::now();
    let said = b.ok(&["stop", "stubborn", "--timeout", "1"]);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert_eq!(
        said.trim(),
        format!("{id}: killed by signal 9 (by SIGKILL, still running after 1 s)")
    );
    assert_eq!(b.state(&id), "killed");
}

#[test]
fn a_detached_app_stays_supervised_after_its_launcher_dies() {
    let b = Box::new();
    let profile = b.sh_profile("survivor", "exec sleep 1000", "");
    // The launcher is a shell that stays after boxtop returns, in its own process group;
    // the test kills the whole group with SIGKILL.
    let mut launcher = b.world.command(Path::new("/bin/sh"));
    launcher
        .arg("-c")
        .arg(format!(
            "\"{}\" run --detach --profile-file \"{}\"; exec sleep 1000",
            b.world.bin.join("boxtop").display(),
            profile.display()
        ))
        .stdout(Stdio::piped())
        .process_group(0);
    use std::os::unix::process::CommandExt;
    let mut launcher = launcher.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(launcher.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let id = line.trim().to_string();
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(launcher.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    launcher.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let status = b.status(&id, 0);
    assert_eq!(status["state"]["state"], "running", "{status}");

    // Kill the app itself from outside: the supervisor records it.
    let init = status["pid"].as_i64().unwrap();
    let children = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children")).unwrap();
    let app: i32 = children.split_whitespace().next().unwrap().parse().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(app),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_until("the kill to be recorded", Duration::from_secs(10), || {
        b.state(&id) == "killed"
    });
    assert_eq!(b.status(&id, 0)["state"]["signal"], 9);
}

#[test]
fn pause_stops_every_process_and_resume_lets_them_run() {
    let b = Box::new();
    let id = b.detach(&b.sh_profile("pausable", "while :; do :; done", ""));
    b.wait_processes(&id, 2);
    b.ok(&["pause", &id]);
    assert_eq!(b.state(&id), "paused");
    let pids = sandbox_pids(&b, &id);
    assert_eq!(pids.len(), 2);
    for pid in &pids {
        assert_eq!(proc_state(*pid), 'T', "pid {pid} should be stopped");
    }
    let before = cpu_ticks(&pids);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(cpu_ticks(&pids), before, "a paused app used CPU");
    assert!(b.status(&id, 300)["cpu_percent"].as_f64().unwrap() < 1.0);
    b.ok(&["resume", &id]);
    assert_eq!(b.state(&id), "running");
    std::thread::sleep(Duration::from_millis(300));
    assert!(cpu_ticks(&pids) > before, "a resumed app did not run");
    // Stop thaws first: a paused app can be stopped.
    let said = b.ok(&["pause", &id]);
    assert!(said.contains("paused"));
    b.ok(&["stop", &id, "--timeout", "5"]);
    assert_eq!(b.state(&id), "killed");
}
