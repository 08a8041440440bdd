//! An app with `network = "isolated"` attacks the services of the machine it runs on:
//! a server listening on every address of a desktop is tried through each of the
//! desktop's addresses, including one that appears while the app runs. The test builds
//! the desktop and the internet as network namespaces of its own, as root.

use std::net::TcpListener;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::access::{assert_ok, give_tun_its_usual_mode, require};
use crate::support::{assert_probe_ok, is_root, probe_outside, stderr, stdout, wait_until, World};

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

/// A named network namespace of the test (`ip netns add`), deleted when dropped.
pub(crate) struct NetNamespace {
    pub(crate) name: String,
}

impl NetNamespace {
    /// A new one, named after `role`, this test process and a counter, so that runs and
    /// tests do not meet.
    pub(crate) fn add(role: &str) -> NetNamespace {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("boxtop-it-{role}-{}-{n}", std::process::id());
        ip(&["netns", "add", &name]);
        let namespace = NetNamespace { name };
        ip(&["-n", &namespace.name, "link", "set", "lo", "up"]);
        namespace
    }

    /// Runs `body` on a thread of its own in this namespace: the sockets it makes and the
    /// programs it starts are there.
    pub(crate) fn inside<T: Send>(&self, body: impl FnOnce() -> T + Send) -> T {
        let path = Path::new("/run/netns").join(&self.name);
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let file = std::fs::File::open(&path)
                        .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
                    nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                        .unwrap_or_else(|err| panic!("setns {}: {err}", path.display()));
                    body()
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl Drop for NetNamespace {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

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

/// Connects a host to `internet` by a veth pair: `uplink` on the host with `address` (and
/// its prefix), `wire` in `internet` with `gateway`, the host's default route through it,
/// and `remote` on the internet's loopback. `host` names the host's namespace to `ip`
/// (`["-n", NAME]`), or is empty for the calling thread's.
pub(crate) fn connect_uplink(
    host: &[&str],
    internet: &NetNamespace,
    address: &str,
    gateway: &str,
    remote: &str,
) {
    let inet = internet.name.as_str();
    let on_host = |args: &[&str]| ip(&[host, args].concat());
    on_host(&[
        "link", "add", "uplink", "type", "veth", "peer", "name", "wire", "netns", inet,
    ]);
    on_host(&["addr", "add", address, "dev", "uplink"]);
    on_host(&["link", "set", "uplink", "up"]);
    let gateway_address = format!("{gateway}/24");
    ip(&["-n", inet, "addr", "add", &gateway_address, "dev", "wire"]);
    ip(&["-n", inet, "link", "set", "wire", "up"]);
    ip(&[
        "-n",
        inet,
        "addr",
        "add",
        &format!("{remote}/32"),
        "dev",
        "lo",
    ]);
    on_host(&["route", "add", "default", "via", gateway]);
}

pub(crate) fn ip(args: &[&str]) {
    let out = Command::new(require("ip", "iproute2"))
        .args(args)
        .output()
        .unwrap();
    assert_ok(&out, &format!("ip {}", args.join(" ")));
}

/// A profile whose command is `/bin/sh -c`, the script given at launch, with
/// `network = "isolated"`, an ephemeral home, the probe's folder shared read-only and the
/// `[[home.share]]` tables `shares`.
pub(crate) fn isolated_sh_profile(world: &World, name: &str, shares: &str) -> PathBuf {
    world.profile(
        name,
        &format!(
            "command = [\"/bin/sh\", \"-c\"]\nnetwork = \"isolated\"\n[home]\nephemeral = true\n\
             [[home.share]]\npath = \"probe-bin\"\nmode = \"ro\"\n{shares}"
        ),
    )
}

/// Shell lines that run the probe's checks, each a check and its target, in turn; each
/// failure sets `s=1` (the script starts with `s=0` and ends with `exit $s`).
pub(crate) fn probe_checks(checks: &[(&str, &str)]) -> String {
    checks
        .iter()
        .map(|(check, target)| format!("$HOME/probe-bin/probe {check} {target} || s=1\n"))
        .collect()
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
            let in_desktop = network
                .desktop
                .inside(crate::access::processes_in_my_network);
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
