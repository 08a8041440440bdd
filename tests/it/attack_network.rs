//! An app with `network = "isolated"` attacks the services of the machine it runs on:
//! a server listening on every address of a desktop is tried through each of the
//! desktop's addresses, including one that appears while the app runs. The test builds
//! the desktop and the internet as network namespaces of its own, as root.

use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{
    assert_probe_ok, connect_uplink, give_tun_its_usual_mode, ip, is_root, isolated_sh_profile,
    probe_checks, probe_outside, processes_in_my_network, require, stderr, stdout, wait_until,
    NetNamespace, World,
};

/// The desktop's main address, on its uplink to the internet.
const MAIN: &str = "10.210.0.2";
/// The internet's end of the uplink: the desktop's default route.
const GATEWAY: &str = "10.210.0.1";
/// A machine of the internet, beyond the gateway.
const INTERNET: &str = "10.211.0.1";
/// The desktop's address on its container bridge, like docker0's.
const BRIDGE: &str = "10.212.0.1";
/// An address the desktop gets while the app runs (a VPN coming up).
const LATE: &str = "10.213.0.1";
/// IPv6: the desktop's main address, the gateway, and the bridge's address.
const MAIN6: &str = "fd00:210::2";
const GATEWAY6: &str = "fd00:210::1";
const BRIDGE6: &str = "fd00:212::1";
const INTERNET6: &str = "fd00:211::1";

/// A desktop and the internet it is connected to.
struct Network {
    desktop: NetNamespace,
    internet: NetNamespace,
}

impl Network {
    fn build() -> Network {
        let network = Network {
            desktop: NetNamespace::add("desk"),
            internet: NetNamespace::add("inet"),
        };
        let (desk, inet) = (
            network.desktop.name.as_str(),
            network.internet.name.as_str(),
        );
        connect_uplink(
            &["-n", desk],
            &network.internet,
            &format!("{MAIN}/24"),
            GATEWAY,
            INTERNET,
        );
        let commands: [&[&str]; 10] = [
            // docker0 is a bridge; so is this one, with no port, as docker0 without
            // containers.
            &["-n", desk, "link", "add", "docker0", "type", "bridge"],
            &[
                "-n",
                desk,
                "addr",
                "add",
                &format!("{BRIDGE}/24"),
                "dev",
                "docker0",
            ],
            &["-n", desk, "link", "set", "docker0", "up"],
            &["-n", desk, "link", "add", "vpn0", "type", "bridge"],
            &["-n", desk, "link", "set", "vpn0", "up"],
            // nodad: the addresses are usable at once.
            &[
                "-n",
                desk,
                "addr",
                "add",
                &format!("{MAIN6}/64"),
                "dev",
                "uplink",
                "nodad",
            ],
            &[
                "-n",
                inet,
                "addr",
                "add",
                &format!("{GATEWAY6}/64"),
                "dev",
                "wire",
                "nodad",
            ],
            &["-n", desk, "route", "add", "default", "via", GATEWAY6],
            &[
                "-n",
                desk,
                "addr",
                "add",
                &format!("{BRIDGE6}/64"),
                "dev",
                "docker0",
                "nodad",
            ],
            &[
                "-n",
                inet,
                "addr",
                "add",
                &format!("{INTERNET6}/128"),
                "dev",
                "lo",
            ],
        ];
        for args in commands {
            ip(args);
        }
        network
    }
}

/// Accepts every connection waiting on `listener` and says how many there were.
fn drain(listener: &TcpListener) -> usize {
    listener.set_nonblocking(true).unwrap();
    std::iter::from_fn(|| listener.accept().ok()).count()
}

#[test]
fn isolated_network_reaches_no_address_of_the_host_needs_root() {
    assert!(
        is_root(),
        "this test builds a desktop and an internet as network namespaces, which needs root: \
         run the tests as root, as CI does"
    );
    require("pasta", "passt");
    give_tun_its_usual_mode();
    let world = World::new();
    let signals = world.home.join("signal");
    std::fs::create_dir(&signals).unwrap();
    world.fix_owner();
    let network = Network::build();

    let (remote, remote6) = network.internet.inside(|| {
        let v4 = TcpListener::bind(format!("{INTERNET}:0")).unwrap();
        let v6 = TcpListener::bind(format!("[{INTERNET6}]:0")).unwrap();
        (v4, v6)
    });
    let internet = remote.local_addr().unwrap().to_string();
    let internet6 = remote6.local_addr().unwrap().to_string();
    // A server on every address, as a desktop's services listen, IPv4 and IPv6.
    let (desktop_server, desktop_server6) = network.desktop.inside(|| {
        let v4 = TcpListener::bind("0.0.0.0:0").unwrap();
        let v6 = TcpListener::bind("[::]:0").unwrap();
        (v4, v6)
    });
    let port = desktop_server.local_addr().unwrap().port();
    let [main, bridge, late, loopback] =
        [MAIN, BRIDGE, LATE, "127.0.0.1"].map(|address| format!("{address}:{port}"));
    let port6 = desktop_server6.local_addr().unwrap().port();
    let [main6, bridge6, loopback6] =
        [MAIN6, BRIDGE6, "::1"].map(|address| format!("[{address}]:{port6}"));

    let profile = isolated_sh_profile(
        &world,
        "attack-net",
        "[[home.share]]\npath = \"signal\"\nmode = \"rw\"\n",
    );
    // The late address is tried once the test says it exists, and once the sandbox's
    // routes know of it or 5 s have passed: the probe, not the wait, judges.
    let script = format!(
        "s=0\n{}\
         : > $HOME/signal/started\n\
         i=0; while [ ! -e $HOME/signal/added ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done\n\
         i=0; while ! ip -4 route show | grep -qw 'prohibit {LATE}' && [ $i -lt 50 ]; do \
         sleep 0.1; i=$((i+1)); done\n\
         {}exit $s\n",
        probe_checks(&[
            ("tcp-unreachable", &bridge),
            ("tcp-unreachable", &main),
            ("tcp-unreachable", &loopback),
            ("tcp-reachable", &internet),
            ("tcp-unreachable", &bridge6),
            ("tcp-unreachable", &main6),
            ("tcp-unreachable", &loopback6),
            ("tcp-reachable", &internet6),
        ]),
        probe_checks(&[("tcp-unreachable", &late), ("tcp-reachable", &internet)]),
    );

    let out = network.desktop.inside(|| {
        // Outside the sandbox, each target answers: each check inside can fail.
        for target in [
            &bridge, &main, &loopback, &internet, &bridge6, &main6, &loopback6, &internet6,
        ] {
            probe_outside(&world, "tcp-reachable", target);
        }
        assert_eq!(
            drain(&desktop_server),
            3,
            "connections the desktop's server saw"
        );
        assert_eq!(
            drain(&desktop_server6),
            3,
            "connections the desktop's server saw"
        );

        let run = world
            .boxtop_run(&profile, &[&script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !signals.join("started").exists() && started.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let sandbox_started = signals.join("started").exists();
        if sandbox_started {
            ip(&["addr", "add", &format!("{LATE}/32"), "dev", "vpn0"]);
            // Its connection waits in the server's queue, counted below.
            probe_outside(&world, "tcp-reachable", &late);
            std::fs::write(signals.join("added"), "").unwrap();
        }
        let out = run.wait_with_output().unwrap();
        assert!(
            sandbox_started,
            "the sandbox never reached its first checks\nstdout:\n{}\nstderr:\n{}",
            stdout(&out),
            stderr(&out)
        );
        out
    });
    assert_probe_ok(&out, 10);
    assert_eq!(
        drain(&desktop_server),
        1,
        "connections the desktop's server saw since the sandbox started: the test's own check \
         of the late address alone, none from the sandbox"
    );
    assert_eq!(
        drain(&desktop_server6),
        0,
        "IPv6 connections from the sandbox reached the desktop's server"
    );
    // pasta and the guard of the addresses went with the sandbox.
    let boxtop = world.bin.join("boxtop");
    wait_until(
        "the sandbox's helpers to end",
        Duration::from_secs(10),
        || {
            let in_desktop = network.desktop.inside(processes_in_my_network);
            in_desktop.is_empty() && processes_of(&boxtop).is_empty()
        },
    );
}

/// The processes running `program`.
fn processes_of(program: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == program)
        })
        .collect()
}
