//! `network = "isolated"`: pasta in a network the test builds, reaching out and not the
//! host, and a clear error when the tun device cannot be opened.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::process::Command;
use std::time::{Duration, Instant};

use boxtop::json_output::Schema;

use crate::support::json;
use crate::support::netns::{GATEWAY, HOST_ADDRESS, REMOTE};
use crate::support::{
    assert_ok, assert_probe_ok, build_host_network, give_tun_its_usual_mode, in_new_network,
    isolated_sh_profile, probe_checks, probe_outside, processes_in_my_network, require, stderr,
    stdout, wait_until, with_private_mounts, KillOnDrop, NetNamespace, World,
};

#[test]
fn isolated_network_reaches_out_but_not_host_loopback_needs_root() {
    require("pasta", "passt");
    give_tun_its_usual_mode();
    let world = World::new();
    let internet = NetNamespace::add("peer");
    in_new_network(|| {
        build_host_network(&internet);
        let loopback_server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = loopback_server.local_addr().unwrap().port();
        let loopback = format!("127.0.0.1:{port}");
        let gateway = format!("{GATEWAY}:{port}");
        let remote_server =
            internet.inside(|| std::net::TcpListener::bind(format!("{REMOTE}:0")).unwrap());
        let remote = remote_server.local_addr().unwrap().to_string();
        let any_server = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let host_ip = HOST_ADDRESS.split('/').next().unwrap();
        let main_address = format!("{host_ip}:{}", any_server.local_addr().unwrap().port());
        let abstract_name = format!(
            "{}-net",
            world.root.path().file_name().unwrap().to_string_lossy()
        );
        let _abstract = UnixListener::bind_addr(
            &SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap(),
        )
        .unwrap();
        // Outside the sandbox all of these answer: each check inside can fail.
        for (check, target) in [
            ("tcp-reachable", &loopback),
            ("tcp-reachable", &remote),
            ("tcp-reachable", &main_address),
            ("abstract-reachable", &abstract_name),
        ] {
            probe_outside(&world, check, target);
        }

        let profile = isolated_sh_profile(&world, "iso", "");
        // Without `--no-map-gw`, pasta would take the gateway to the host's loopback. The
        // host's main address is the sandbox's own in there.
        let script = format!(
            "s=0\n{}\
             ip -o -4 addr show scope global\n\
             ip -4 route show default\n\
             exit $s\n",
            probe_checks(&[
                ("tcp-unreachable", &loopback),
                ("tcp-unreachable", &gateway),
                ("tcp-unreachable", &main_address),
                ("abstract-unreachable", &abstract_name),
                ("tcp-reachable", &remote),
                ("interfaces-not-only-lo", ""),
            ]),
        );
        let out = world.boxtop_run(&profile, &[&script]).output().unwrap();
        assert_probe_ok(&out, 6);
        let text = stdout(&out);
        assert!(
            text.lines()
                .any(|line| line.contains(&format!(" inet {HOST_ADDRESS} "))
                    && !line.contains(" lo ")),
            "no interface besides lo has the host's address {HOST_ADDRESS}:\n{text}"
        );
        assert!(
            text.lines()
                .any(|line| line.starts_with("default via ") && !line.contains(" dev lo")),
            "no default route inside:\n{text}"
        );
        // The instance's network bytes: what the app sent out through pasta, read from its
        // namespace while it runs.
        let sent = 1_000_000u64;
        // Bounded: a sandbox that never sends must fail the test, not hang it.
        remote_server.set_nonblocking(true).unwrap();
        let receiver = std::thread::spawn(move || {
            use std::io::Read;
            let started = Instant::now();
            // The earlier check's connection, empty, waits in the backlog first.
            while started.elapsed() < Duration::from_secs(20) {
                let Ok((mut stream, _)) = remote_server.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                let mut received = Vec::new();
                let _ = stream.read_to_end(&mut received);
                if !received.is_empty() {
                    return received.len() as u64;
                }
            }
            0
        });
        let id = world.detach(&[
            "--profile-file",
            profile.to_str().unwrap(),
            "--",
            &format!("$HOME/probe-bin/probe tcp-send {remote} {sent}; exec sleep 1000"),
        ]);
        let _guard = KillOnDrop(&world, id.clone());
        assert_eq!(
            receiver.join().unwrap(),
            sent,
            "what the server outside received; the app's log:\n{}",
            stdout(&world.boxtop(&["logs", &id]).output().unwrap())
        );
        let bytes = || {
            let listed = world.ps();
            let status = listed.into_iter().find(|s| s["id"] == id.as_str());
            status.map(|s| (s["net_rx_bytes"].as_u64(), s["net_tx_bytes"].as_u64()))
        };
        wait_until(
            "the instance's sent bytes in ps",
            Duration::from_secs(10),
            || matches!(bytes(), Some((Some(rx), Some(tx))) if tx >= sent && rx > 0),
        );
        let kill = world.boxtop(&["kill", &id]).output().unwrap();
        assert_ok(&kill, "boxtop kill");
        wait_until(
            "pasta to end with the instance",
            Duration::from_secs(10),
            || processes_in_my_network().is_empty(),
        );

        // pasta served that sandbox alone: it must be gone with it.
        let left = processes_in_my_network();
        assert!(
            left.is_empty(),
            "processes left in the test's network after boxtop returned: {left:?}"
        );
    });
}

#[test]
fn isolated_network_without_a_usable_tun_device_says_how_to_fix_it_needs_root() {
    require("pasta", "passt");
    let world = World::new();
    // A tun device only root may open, seen by boxtop alone.
    let closed_tun =
        "mount -t tmpfs -o mode=0755 tmpfs /dev/net && mknod -m 0600 /dev/net/tun c 10 200";
    let boxtop = world.bin.join("boxtop");
    let profile = world.profile(
        "notun",
        "command = [\"/bin/true\"]\nnetwork = \"isolated\"\n[home]\nephemeral = true\n",
    );
    let run = with_private_mounts(&world, closed_tun, &boxtop)
        .args(["run", "--profile-file", profile.to_str().unwrap()])
        .output()
        .unwrap();
    let message = stderr(&run);
    assert_eq!(run.status.code(), Some(125), "{message}");
    for words in [
        "/dev/net/tun cannot be opened by uid",
        "network = \"isolated\"",
        "sudo chmod 0666 /dev/net/tun",
    ] {
        assert!(
            message.contains(words),
            "{words:?} missing from:\n{message}"
        );
    }

    let tun_check = |cmd: &mut Command| {
        let out = cmd.args(["doctor", "--json"]).output().unwrap();
        let checks = json::list(Schema::DOCTOR, "checks", &out);
        checks
            .iter()
            .find(|check| check["feature"] == "tun device")
            .cloned()
            .unwrap_or_else(|| panic!("no tun device check in {checks:?}"))
    };
    let closed = tun_check(&mut with_private_mounts(&world, closed_tun, &boxtop));
    assert_eq!(closed["status"], "missing", "{closed}");
    let fix = closed["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("sudo chmod 0666 /dev/net/tun"), "{closed}");
    give_tun_its_usual_mode();
    let usual = tun_check(&mut world.boxtop(&[]));
    assert_eq!(usual["status"], "ok", "{usual}");
}
