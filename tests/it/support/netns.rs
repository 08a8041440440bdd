//! Networks the tests build as root: named network namespaces joined by veth pairs, a
//! host and its internet, the tun device pasta opens, and the processes left in a
//! namespace.

use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use super::host::require;
use super::world::{assert_ok, is_root, World};

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

/// Runs `ip ARGS` (iproute2), which must succeed.
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

/// pasta runs as the user and opens /dev/net/tun. Most distributions ship it with mode
/// 0666 (systemd's udev rules); some CI machines and containers leave it 0600, where
/// `boxtop doctor` says to chmod it. As root, the tests set up the host that way before
/// they drop privileges: host setup, not a skip.
pub(crate) fn give_tun_its_usual_mode() {
    let path = Path::new("/dev/net/tun");
    let mode = std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}; load the tun module", path.display()))
        .permissions()
        .mode();
    if is_root() && mode & 0o666 != 0o666 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o666))
            .expect("chmod 0666 /dev/net/tun");
    }
}

/// Runs `body` on a thread of its own in a new network namespace: what it binds, and
/// the programs it starts (boxtop and pasta included), see only the network it builds.
pub(crate) fn in_new_network<T: Send>(body: impl FnOnce() -> T + Send) -> T {
    assert!(
        is_root(),
        "this test builds a network of its own, which needs root: run the tests as root, as CI does"
    );
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
                    .expect("unshare(CLONE_NEWNET)");
                body()
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The address of the network test's host on its uplink.
pub(crate) const HOST_ADDRESS: &str = "10.199.0.2/24";
/// The default route of the network test's host, the other end of its uplink.
pub(crate) const GATEWAY: &str = "10.199.0.1";
/// A machine of the internet, beyond the gateway. Not an address of the host: those are
/// unreachable from an isolated sandbox (attack_network.rs).
pub(crate) const REMOTE: &str = "10.199.1.1";

/// Builds the network of the test's namespace: lo, an uplink with the host's address
/// and the default route through `GATEWAY`, whose other end is in `internet`, which has
/// `REMOTE`.
pub(crate) fn build_host_network(internet: &NetNamespace) {
    ip(&["link", "set", "lo", "up"]);
    connect_uplink(&[], internet, HOST_ADDRESS, GATEWAY, REMOTE);
}

/// The processes (pid and command line) whose network namespace is the calling
/// thread's; the test binary itself is not among them, as its main thread is elsewhere.
pub(crate) fn processes_in_my_network() -> Vec<(u32, String)> {
    let mine = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/ns/net")).is_ok_and(|net| net == mine)
        })
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            (pid, String::from_utf8_lossy(&cmdline).replace('\0', " "))
        })
        .collect()
}
