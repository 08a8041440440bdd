//! A private session bus of the test user (dbus-daemon, with echo services on it) for the
//! D-Bus grant, which boxtop serves through xdg-dbus-proxy.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::host::{require, with_private_mounts, Server};
use super::world::{accepts, is_root, stderr, wait_until, World};

/// A private session bus of the test user, listening where sessions keep it
/// (`$XDG_RUNTIME_DIR/bus`) and on an abstract socket, with two echo services on it.
pub(crate) struct SessionBus {
    /// Dropped before the daemon.
    _services: Vec<Server>,
    _daemon: Server,
    pub(crate) abstract_name: String,
}

pub(crate) const ALLOWED: &str = "org.example.Allowed";
pub(crate) const DENIED: &str = "org.example.Denied";

/// `dbus-send` arguments calling a method of `name` on the bus at `bus` (`--session`
/// or `--bus=ADDRESS`), which the echo service answers.
pub(crate) fn ping(bus: &str, name: &str) -> Vec<String> {
    vec![
        bus.into(),
        "--print-reply".into(),
        format!("--dest={name}"),
        "/".into(),
        "org.example.Echo.Ping".into(),
        "string:boxtop".into(),
    ]
}

impl SessionBus {
    pub(crate) fn start(world: &mut World) -> SessionBus {
        let daemon = require("dbus-daemon", "dbus-daemon");
        let echo = require("dbus-test-tool", "dbus-tests");
        let dbus_send = require("dbus-send", "dbus-bin");
        let socket = world.runtime_dir.join("bus");
        let dir_name = world.root.path().file_name().unwrap().to_string_lossy();
        let abstract_name = format!("{dir_name}-bus");
        let config = world.root.path().join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <listen>unix:abstract={abstract_name}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket = socket.display()
            ),
        )
        .unwrap();
        let log_path = world.root.path().join("dbus-daemon.log");
        let log = std::fs::File::create(&log_path).unwrap();
        // dbus-daemon refuses every connection (after logging "Could not get password
        // database information for UID of current process") when its uid has no passwd
        // entry, as the tests' uid has not: give it one in a mount namespace of its own.
        let mut cmd = if is_root()
            && nix::unistd::User::from_uid(world.uid.into())
                .unwrap()
                .is_none()
        {
            let passwd = world.root.path().join("passwd");
            let mut entries = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            entries.push_str(&format!(
                "tester:x:{}:{}:boxtop tests:{}:/bin/sh\n",
                world.uid,
                world.gid,
                world.home.display()
            ));
            std::fs::write(&passwd, entries).unwrap();
            std::fs::set_permissions(&passwd, std::fs::Permissions::from_mode(0o644)).unwrap();
            with_private_mounts(
                world,
                &format!("mount --bind '{}' /etc/passwd", passwd.display()),
                &daemon,
            )
        } else {
            world.command(&daemon)
        };
        let daemon = Server(
            cmd.arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--nopidfile"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        wait_until("the session bus socket", Duration::from_secs(10), || {
            accepts(&socket)
        });
        world.env.insert(
            "DBUS_SESSION_BUS_ADDRESS".into(),
            format!("unix:path={}", socket.display()),
        );
        // A test service: dbus-test-tool echo owning `name`, its stderr kept for a failure.
        let service_log = |name: &str| world.root.path().join(format!("{name}.log"));
        let start_service = |name: &str| {
            Server(
                world
                    .command(&echo)
                    .args(["echo", &format!("--name={name}")])
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(service_log(name)).unwrap())
                    .spawn()
                    .unwrap(),
            )
        };
        let mut services: Vec<Server> = [ALLOWED, DENIED]
            .iter()
            .map(|name| start_service(name))
            .collect();
        // Both answer on the host bus: what fails inside is the proxy's doing. A service
        // that gave up (it connected while the busy daemon was not answering yet) is
        // started again.
        let start = Instant::now();
        for (index, name) in [ALLOWED, DENIED].into_iter().enumerate() {
            loop {
                let call = world
                    .command(&dbus_send)
                    .args(ping("--session", name))
                    .output()
                    .unwrap();
                if call.status.success() {
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(15),
                    "{name} does not answer on the test's session bus: {}\ndbus-daemon's log:\n{}\nthe service's log:\n{}",
                    stderr(&call),
                    std::fs::read_to_string(&log_path).unwrap_or_default(),
                    std::fs::read_to_string(service_log(name)).unwrap_or_default()
                );
                if let Ok(Some(status)) = services[index].0.try_wait() {
                    eprintln!(
                        "{name}: the service ended ({status}), started again; it said: {}",
                        std::fs::read_to_string(service_log(name)).unwrap_or_default()
                    );
                    services[index] = start_service(name);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        SessionBus {
            _services: services,
            _daemon: daemon,
            abstract_name,
        }
    }
}
