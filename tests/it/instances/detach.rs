//! `boxtop run --detach`: a failed launch says why, a closed stdout is no crash, and
//! back-to-back launches all start.

use std::process::Stdio;
use std::time::Duration;

use crate::support::instances::Box;
use crate::support::{stderr, wait_until};

/// Back-to-back detached launches of a short-lived app with a persistent home: a launch
/// that finds the previous sandbox still holding the home while it ends claims the home
/// again instead of failing with "the sandbox has ended" (2 to 4.5% of launches did;
/// issue 14, item 2).
#[test]
fn back_to_back_detached_launches_of_a_short_lived_app_all_start() {
    let b = Box::new();
    let profile = b.world.profile(
        "blink",
        "command = [\"/bin/sh\", \"-c\", \"exit 0\"]\nnetwork = \"none\"\n",
    );
    let mut failures = Vec::new();
    for n in 0..100 {
        let output = b.detach_cmd(&profile).output().unwrap();
        if !output.status.success() {
            failures.push(format!("launch {n}: {}", stderr(&output).trim()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A launcher that dies before reading the id (the TUI's launcher child when the TUI is
/// killed, `boxtop run --detach P | true`): the launch still succeeds, quietly.
#[test]
fn a_detached_launch_with_a_closed_stdout_is_not_a_crash() {
    let b = Box::new();
    let profile = b.sh_profile("closedout", "exec sleep 1000", "");
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let output = b
        .detach_cmd(&profile)
        .stdout(Stdio::from(write))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{:?}: {}",
        output.status,
        stderr(&output)
    );
    wait_until("the instance to run", Duration::from_secs(10), || {
        b.ps_now()
            .iter()
            .any(|s| s["profile"] == "closedout" && s["state"]["state"] == "running")
    });
}

#[test]
fn a_failed_detached_launch_says_why() {
    let b = Box::new();
    let profile = b.world.profile(
        "nothere",
        "command = [\"/no/such/app\"]\n[home]\nephemeral = true\n",
    );
    let output = b.detach_cmd(&profile).output().unwrap();
    assert_eq!(output.status.code(), Some(127), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("/no/such/app"),
        "{}",
        stderr(&output)
    );
    let listed = b.ps_with(0);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"]["state"], "failed");
    assert!(listed[0]["state"]["reason"]
        .as_str()
        .unwrap()
        .contains("/no/such/app"));
}
