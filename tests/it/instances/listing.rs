//! What `ps` and `logs` report: CPU and memory figures, broken state files beside good
//! ones, logs kept while their instance runs.

use std::time::Duration;

use serde_json::Value;

use crate::support::instances::Box;
use crate::support::json;
use crate::support::{stderr, wait_until};

#[test]
fn cpu_percent_tells_a_busy_app_from_an_idle_one() {
    let b = Box::new();
    let busy = b.detach(&b.sh_profile("busy", "while :; do :; done", ""));
    let idle = b.detach(&b.sh_profile("idle", "exec sleep 1000", ""));
    std::thread::sleep(Duration::from_millis(300));
    let statuses = b.ps_with(1000);
    let cpu = |id: &str| {
        statuses.iter().find(|s| s["id"] == id).unwrap()["cpu_percent"]
            .as_f64()
            .unwrap()
    };
    assert!(cpu(&busy) > 50.0, "busy: {}", cpu(&busy));
    assert!(cpu(&idle) < 5.0, "idle: {}", cpu(&idle));
}

#[test]
fn memory_of_an_app_holding_200_mib_is_reported_within_ten_percent() {
    let b = Box::new();
    let probe = b.world.probe_path();
    let profile = b.sh_profile(
        "holder",
        &format!("exec {} hold-memory 200", probe.display()),
        "",
    );
    let id = b.detach(&profile);
    wait_until(
        "the probe to hold its memory",
        Duration::from_secs(20),
        || b.ok(&["logs", &id]).contains("ok hold-memory"),
    );
    let memory = b.status(&id, 0)["memory_bytes"].as_u64().unwrap() as f64;
    let expected = (200u64 << 20) as f64;
    assert!(
        (memory - expected).abs() <= expected * 0.10,
        "memory {:.1} MiB, expected 200 MiB within 10%",
        memory / (1u64 << 20) as f64
    );
}

#[test]
fn bad_instance_names_and_state_files_are_reported_without_hiding_others() {
    let b = Box::new();
    let id = b.detach(&b.sh_profile("steady", "exec sleep 1000", ""));
    // A corrupt state file beside a good one.
    let corrupt = b.world.runtime_dir.join("boxtop/broken-000000.json");
    std::fs::write(&corrupt, b"{ this is not json").unwrap();
    let output = b.ps_output(0);
    assert!(output.status.success());
    let listed: Vec<Value> = json::instances(&output);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(
        stderr(&output).contains("broken-000000.json") && stderr(&output).contains("unreadable"),
        "{}",
        stderr(&output)
    );
    for verb in ["stop", "kill", "pause", "resume", "logs", "enter"] {
        let out = b
            .world
            .boxtop(&[verb, "no-such-instance"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{verb}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("no instance or running profile named 'no-such-instance'"),
            "{verb}: {}",
            stderr(&out)
        );
    }
    let out = b.world.boxtop(&["stop", "broken-000000"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unreadable"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

/// More short detached runs than logs are kept: the log of an instance that is still
/// running (and quiet, so its log is the oldest) is not pruned (issue 14, item 1).
#[test]
fn the_log_of_a_running_instance_survives_the_pruning_of_old_logs() {
    let b = Box::new();
    let long = b.detach(&b.sh_profile(
        "longlived",
        "echo first-line-of-the-long-one; exec sleep 1000",
        "",
    ));
    wait_until(
        "the long instance's first line",
        Duration::from_secs(10),
        || {
            b.ok(&["logs", &long])
                .contains("first-line-of-the-long-one")
        },
    );
    let short = b.sh_profile("shortlived", "true", "");
    for _ in 0..105 {
        b.detach(&short);
    }
    // The last short runs' supervisors prune as they end.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        b.ok(&["logs", &long])
            .contains("first-line-of-the-long-one"),
        "the running instance's log was pruned"
    );
}
