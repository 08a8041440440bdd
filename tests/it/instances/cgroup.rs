//! Instances in a real cgroup v2 subtree delegated to the test user.

use std::path::Path;
use std::time::Duration;

use crate::support::instances::{cpu_ticks, Box};
use crate::support::{is_root, stderr, stdout, wait_until, Delegated};

#[test]
fn each_instance_gets_a_delegated_cgroup_that_freezes_and_limits_it() {
    assert!(
        is_root(),
        "creating a delegated cgroup needs root: run `make test` as root (CI does)"
    );
    let b = Box::new();
    let cgroup = Delegated::create(b.world.uid);
    let launch = |profile: &Path| -> String {
        let output = cgroup
            .command(
                &b.world,
                &[
                    "run",
                    "--detach",
                    "--profile-file",
                    profile.to_str().unwrap(),
                ],
            )
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output).trim().to_string()
    };
    let first = launch(&b.sh_profile("grouped", "while :; do :; done", ""));
    let second = launch(&b.sh_profile("grouped2", "exec sleep 1000", ""));
    for id in [&first, &second] {
        let dir = cgroup.dir.join(id);
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_else(|err| {
            panic!("{id} has no cgroup of its own at {}: {err}", dir.display())
        });
        // Its init and its shell, nothing else.
        assert_eq!(procs.lines().count(), 2, "{id}: {procs}");
        assert_eq!(b.status(id, 0)["processes"], 2);
    }
    // Pause: the cgroup freezer holds every process of the first, not the second.
    b.ok(&["pause", &first]);
    let events = std::fs::read_to_string(cgroup.dir.join(&first).join("cgroup.events")).unwrap();
    assert!(events.contains("frozen 1"), "{events}");
    let second_events =
        std::fs::read_to_string(cgroup.dir.join(&second).join("cgroup.events")).unwrap();
    assert!(second_events.contains("frozen 0"), "{second_events}");
    assert_eq!(b.state(&first), "paused");
    let pids: Vec<i32> = std::fs::read_to_string(cgroup.dir.join(&first).join("cgroup.procs"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let before = cpu_ticks(&pids);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(cpu_ticks(&pids), before, "a frozen app used CPU");
    // A command entering the frozen cgroup would freeze with it: refused at once.
    let enter = b
        .world
        .boxtop(&["enter", &first, "--", "true"])
        .output()
        .unwrap();
    assert!(
        !enter.status.success() && stderr(&enter).contains("is paused: resume it first"),
        "{:?}: {}",
        enter.status,
        stderr(&enter)
    );
    b.ok(&["resume", &first]);
    assert_eq!(b.state(&first), "running");
    std::thread::sleep(Duration::from_millis(300));
    assert!(cpu_ticks(&pids) > before, "a thawed app did not run");
    // Its CPU comes from the cgroup's cpu.stat.
    assert!(b.status(&first, 500)["cpu_percent"].as_f64().unwrap() > 50.0);

    // A fork bomb under pids = 16: init and the probe count, so 14 children at most.
    let probe = b.world.probe_path();
    let bomb = launch(&b.sh_profile(
        "bomb",
        &format!("exec {} fork-many 200", probe.display()),
        "[limits]\npids = 16\n",
    ));
    let mut said = String::new();
    wait_until(
        "the bomb to run out of forks",
        Duration::from_secs(20),
        || {
            said = b.ok(&["logs", &bomb]);
            said.contains("forked ")
        },
    );
    assert!(
        said.contains("forked 14 of 200, stopped by: Resource temporarily unavailable"),
        "{said}"
    );
    assert_eq!(b.status(&bomb, 0)["processes"], 16);
    let pids_max = cgroup.dir.join(&bomb).join("pids.max");
    if pids_max.exists() {
        assert_eq!(std::fs::read_to_string(&pids_max).unwrap().trim(), "16");
    } else {
        eprintln!(
            "SKIPPED assertion (pids controller): this host's cgroup v2 root offers no pids \
             controller, so the limit was applied as RLIMIT_NPROC instead (checked above)"
        );
        assert!(
            said.contains("pids limit applied as RLIMIT_NPROC"),
            "{said}"
        );
    }

    b.ok(&["stop", &first, &second, &bomb, "--timeout", "3"]);
    wait_until(
        "the instance cgroups to be removed",
        Duration::from_secs(10),
        || {
            [&first, &second, &bomb]
                .iter()
                .all(|id| !cgroup.dir.join(id).exists())
        },
    );
}
