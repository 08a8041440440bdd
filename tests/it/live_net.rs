//! `boxtop net ID none|isolated` on a running sandbox: a server of the internet the test
//! builds is out of reach before, reachable after `net isolated` (this machine's own
//! addresses still not), out of reach again after `net none`, with nothing left behind:
//! no pasta, no keeper, `lo` alone inside. And a sandbox on the host's network is refused.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::Output;
use std::time::Duration;

use crate::support::{
    assert_ok, assert_probe_ok, build_host_network, give_tun_its_usual_mode, in_new_network,
    processes_in_my_network, require, stderr, stdout, wait_until, KillOnDrop, NetNamespace, World,
};

/// The probe run by `boxtop enter ID -- probe ARGS...` inside the running instance.
fn inside(world: &World, id: &str, args: &[&str]) -> Output {
    let probe = world.probe_path().display().to_string();
    let mut all = vec!["enter", id, "--", probe.as_str()];
    all.extend_from_slice(args);
    world.boxtop(&all).output().expect("run boxtop enter")
}

/// The sandbox's IPv4 routes, as `ip -4 route show` inside lists them.
fn routes(world: &World, id: &str) -> String {
    let out = world
        .boxtop(&["enter", id, "--", "ip", "-4", "route", "show"])
        .output()
        .expect("run boxtop enter");
    assert_ok(&out, "ip route show inside");
    stdout(&out)
}

fn net(world: &World, id: &str, network: &str) -> Output {
    world
        .boxtop(&["net", id, network])
        .output()
        .expect("run boxtop net")
}

/// A running probe profile with `network`, doing nothing but wait.
fn waiting(world: &World, network: &str) -> String {
    let profile = world.probe_profile("waiter", &format!("network = \"{network}\""), "");
    let never = world.home.join("never").display().to_string();
    world.detach(&[
        "--profile-file",
        profile.to_str().unwrap(),
        "--",
        "watch-path",
        &never,
    ])
}

fn network_live(world: &World, id: &str) -> serde_json::Value {
    world
        .ps()
        .into_iter()
        .find(|entry| entry["id"] == id)
        .map(|entry| entry["network_live"].clone())
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn net_isolated_connects_a_running_sandbox_and_net_none_cuts_it_off_needs_root() {
    require("pasta", "passt");
    give_tun_its_usual_mode();
    let world = World::new();
    world.fix_owner();
    let internet = NetNamespace::add("live-inet");
    in_new_network(|| {
        build_host_network(&internet);
        let remote = internet
            .inside(|| TcpListener::bind(format!("{}:0", crate::support::netns::REMOTE)).unwrap());
        let remote = remote.local_addr().unwrap().to_string();
        // A service of this machine, on every address: never reachable from the sandbox.
        let local = TcpListener::bind("0.0.0.0:0").unwrap();
        let host_address = crate::support::netns::HOST_ADDRESS
            .split('/')
            .next()
            .unwrap();
        let local = format!("{host_address}:{}", local.local_addr().unwrap().port());

        let id = waiting(&world, "none");
        let _guard = KillOnDrop(&world, id.clone());
        let before: BTreeSet<u32> = processes_in_my_network()
            .into_iter()
            .map(|(pid, _)| pid)
            .collect();
        assert_probe_ok(&inside(&world, &id, &["tcp-unreachable", &remote]), 1);
        assert_eq!(network_live(&world, &id), serde_json::Value::Null);

        let out = net(&world, &id, "isolated");
        assert_ok(&out, "boxtop net ID isolated");
        eprintln!("boxtop net isolated: {}", stdout(&out).trim());
        assert_probe_ok(&inside(&world, &id, &["tcp-reachable", &remote]), 1);
        assert_probe_ok(&inside(&world, &id, &["tcp-unreachable", &local]), 1);
        assert!(
            routes(&world, &id).contains(&format!("prohibit {host_address}")),
            "the guard's route to this machine's address is missing:\n{}",
            routes(&world, &id)
        );
        assert_eq!(network_live(&world, &id), "isolated");
        let ps = world
            .boxtop(&["ps", "--json", "--interval", "100"])
            .output()
            .unwrap();
        crate::json_schema::assert_documented(boxtop::json_output::Schema::PS, &ps);
        let shown = world.boxtop(&["show", &id]).output().unwrap();
        assert!(
            stdout(&shown).contains("Network now: isolated"),
            "boxtop show {id}:\n{}{}",
            stdout(&shown),
            stderr(&shown)
        );
        // A second time changes nothing.
        let again = net(&world, &id, "isolated");
        assert_ok(&again, "boxtop net ID isolated, again");
        assert!(stdout(&again).contains("already"), "{}", stdout(&again));
        let pasta_runs = processes_in_my_network()
            .iter()
            .any(|(_, cmdline)| cmdline.starts_with("pasta"));
        assert!(pasta_runs, "no pasta after `net isolated`");

        let out = net(&world, &id, "none");
        assert_ok(&out, "boxtop net ID none");
        assert_probe_ok(&inside(&world, &id, &["tcp-unreachable", &remote]), 1);
        // No tap device, and no route of the guard's, is left inside.
        assert_probe_ok(&inside(&world, &id, &["only-lo"]), 2);
        assert!(
            !routes(&world, &id).contains("prohibit"),
            "the guard's routes were left:\n{}",
            routes(&world, &id)
        );
        assert_eq!(network_live(&world, &id), serde_json::Value::Null);
        wait_until(
            "pasta and the keeper of the network to end",
            Duration::from_secs(10),
            || {
                let now: BTreeSet<u32> = processes_in_my_network()
                    .into_iter()
                    .map(|(pid, _)| pid)
                    .collect();
                now == before
            },
        );
        assert!(
            world
                .ps()
                .iter()
                .any(|s| s["id"] == id.as_str() && s["state"]["state"] == "running"),
            "the app kept running"
        );
        // Connected again, then the app ends: pasta and its keeper end with it.
        assert_ok(
            &net(&world, &id, "isolated"),
            "boxtop net ID isolated, again",
        );
        assert_ok(
            &world.boxtop(&["kill", &id]).output().unwrap(),
            "boxtop kill",
        );
        wait_until(
            "pasta and the keeper to end with the sandbox",
            Duration::from_secs(10),
            || {
                !processes_in_my_network()
                    .iter()
                    .any(|(_, cmdline)| cmdline.starts_with("pasta") || cmdline.contains(" net "))
            },
        );
    });
}

#[test]
fn net_refuses_a_sandbox_on_the_host_network() {
    let world = World::new();
    world.fix_owner();
    let id = waiting(&world, "host");
    let _guard = KillOnDrop(&world, id.clone());
    let out = net(&world, &id, "isolated");
    assert!(
        !out.status.success(),
        "boxtop net on a host sandbox succeeded"
    );
    assert!(
        stderr(&out).contains("shares this machine's network"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn net_leaves_the_network_of_an_isolated_profile_to_its_launch_needs_root() {
    require("pasta", "passt");
    give_tun_its_usual_mode();
    let world = World::new();
    world.fix_owner();
    let internet = NetNamespace::add("live-inet2");
    in_new_network(|| {
        build_host_network(&internet);
        let id = waiting(&world, "isolated");
        let _guard = KillOnDrop(&world, id.clone());
        let again = net(&world, &id, "isolated");
        assert_ok(&again, "boxtop net ID isolated on an isolated sandbox");
        assert!(stdout(&again).contains("already"), "{}", stdout(&again));
        let cut = net(&world, &id, "none");
        assert!(!cut.status.success(), "net none cut a launch's pasta");
        assert!(
            stderr(&cut).contains("from its profile at launch"),
            "{}",
            stderr(&cut)
        );
        let pastas = processes_in_my_network()
            .iter()
            .filter(|(_, cmdline)| cmdline.starts_with("pasta"))
            .count();
        assert_eq!(pastas, 1, "one pasta, the launch's");
    });
}
