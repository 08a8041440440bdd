//! Instances as transient scopes of a real `systemd --user` of the test user (issue 20):
//! the unit is listed with the profile's limits, pause freezes it, a stop by the manager
//! is recorded as the instance's end, and nothing is made beside systemd's own units.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::cgroup::cgroup2_mount;
use crate::support::host::{require, with_private_mounts, Server};
use crate::support::world::{is_root, stderr, stdout, wait_until, World};

/// A `systemd --user` of the test user, with its session bus, in a cgroup v2 folder
/// delegated to the user (as systemd delegates `user@UID.service`).
struct UserManager {
    dir: PathBuf,
    _manager: Server,
}

impl UserManager {
    fn start(world: &mut World) -> UserManager {
        let systemd = require("systemd", "systemd");
        require("dbus-daemon", "dbus-daemon");
        require("systemctl", "systemd");
        let mount = cgroup2_mount().expect("a cgroup v2 hierarchy");
        let dir = mount.join(format!("boxtop-scope-test-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        for path in [
            dir.clone(),
            dir.join("cgroup.procs"),
            dir.join("cgroup.subtree_control"),
            dir.join("cgroup.threads"),
        ] {
            nix::unistd::chown(
                &path,
                Some(nix::unistd::Uid::from_raw(world.uid)),
                Some(nix::unistd::Gid::from_raw(world.gid)),
            )
            .unwrap();
        }
        // dbus-daemon and systemd look the user up: the tests' uid has no passwd entry.
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
        let setup = format!(
            "echo $$ > '{}/cgroup.procs' && mount --bind '{}' /etc/passwd",
            dir.display(),
            passwd.display()
        );
        // The session bus is the manager's own `dbus.socket` at $XDG_RUNTIME_DIR/bus, as
        // in a desktop session: the manager connects to its API bus only once its
        // dbus.socket and dbus.service run. No sound server beside it.
        let units = world.home.join(".config/systemd/user");
        std::fs::create_dir_all(&units).unwrap();
        for unit in [
            "pulseaudio.socket",
            "pulseaudio.service",
            "pipewire.socket",
            "pipewire.service",
        ] {
            std::os::unix::fs::symlink("/dev/null", units.join(unit)).unwrap();
        }
        world.fix_owner();
        let socket = world.runtime_dir.join("bus");
        let address = format!("unix:path={}", socket.display());
        let log = |name: &str| std::fs::File::create(world.root.path().join(name)).unwrap();
        world
            .env
            .insert("DBUS_SESSION_BUS_ADDRESS".into(), address.clone());
        // systemd starts as a manager only where /run/systemd/system says systemd runs
        // the machine; the folder is there only for that moment (package scripts behave
        // differently while it is).
        let marker = Path::new("/run/systemd/system");
        let made_marker = !marker.exists();
        if made_marker {
            std::fs::create_dir_all(marker).unwrap();
        }
        let mut command = with_private_mounts(world, &setup, &systemd);
        let manager = Server(
            command
                .arg("--user")
                .stdout(Stdio::null())
                .stderr(log("systemd.log"))
                .spawn()
                .unwrap(),
        );
        let private = world.runtime_dir.join("systemd/private");
        wait_until("systemd --user", Duration::from_secs(20), || {
            private.exists()
        });
        let manager = UserManager {
            dir,
            _manager: manager,
        };
        wait_until(
            "systemctl --user to answer",
            Duration::from_secs(20),
            || {
                manager
                    .systemctl(world, &["show", "-p", "Version"])
                    .status
                    .success()
            },
        );
        if made_marker {
            let _ = std::fs::remove_dir(marker);
        }
        manager
    }

    /// `cmd` started in the manager's folder (as a session's processes are).
    fn inside(&self, mut cmd: Command) -> Command {
        let procs = self.dir.join("cgroup.procs");
        // SAFETY: only a write(2) to a cgroup file between fork and exec.
        unsafe {
            cmd.pre_exec(move || std::fs::write(&procs, "0"));
        }
        cmd
    }

    fn systemctl(&self, world: &World, args: &[&str]) -> Output {
        let mut cmd = world.command(Path::new("/usr/bin/systemctl"));
        cmd.arg("--user").args(args);
        self.inside(cmd).output().unwrap()
    }

    /// Every folder below the manager's, relative to it.
    fn folders(&self) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if entry.path().is_dir() {
                    out.push(
                        entry
                            .path()
                            .strip_prefix(base)
                            .unwrap()
                            .display()
                            .to_string(),
                    );
                    walk(&entry.path(), base, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir, &self.dir, &mut out);
        out
    }
}

impl Drop for UserManager {
    fn drop(&mut self) {
        // Everything the manager started goes with it (its session services, the
        // instances' scopes), then the folders, children first.
        let _ = std::fs::write(self.dir.join("cgroup.kill"), "1");
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if entry.path().is_dir() {
                    walk(&entry.path(), out);
                    out.push(entry.path());
                }
            }
        }
        for _ in 0..50 {
            let mut all = Vec::new();
            walk(&self.dir, &mut all);
            for child in &all {
                let _ = std::fs::remove_dir(child);
            }
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn boxtop(world: &World, manager: &UserManager, args: &[&str]) -> Output {
    manager.inside(world.boxtop(args)).output().unwrap()
}

#[test]
fn detached_instance_is_a_systemd_scope_with_the_profile_limits_and_its_stop_is_recorded() {
    if !is_root() {
        eprintln!("skipped: starting a systemd --user for the test user needs root");
        return;
    }
    let mut world = World::new();
    let manager = UserManager::start(&mut world);
    let profile = world.profile(
        "scoped-app",
        "command = [\"/bin/sleep\", \"120\"]\n[limits]\nmemory = \"256M\"\npids = 64\n",
    );
    world.fix_owner();
    let started = boxtop(
        &world,
        &manager,
        &[
            "run",
            "--detach",
            "--profile-file",
            profile.to_str().unwrap(),
        ],
    );
    assert!(started.status.success(), "{}", stderr(&started));
    let id = stdout(&started).trim().to_string();
    let unit = format!(
        "app-boxtop-scoped\\x2dapp-{}.scope",
        id.strip_prefix("scoped-app-").unwrap()
    );
    let listed = manager.systemctl(
        &world,
        &["list-units", "--type=scope", "--no-legend", "--plain"],
    );
    assert!(
        stdout(&listed).contains(&unit),
        "{unit} not in the user manager's scopes:\n{}",
        stdout(&listed)
    );
    let shown = manager.systemctl(
        &world,
        &[
            "show",
            &unit,
            "-p",
            "MemoryMax",
            "-p",
            "TasksMax",
            "-p",
            "Slice",
        ],
    );
    let shown = stdout(&shown);
    for line in ["MemoryMax=268435456", "TasksMax=64", "Slice=app.slice"] {
        assert!(shown.lines().any(|l| l == line), "{line} not in:\n{shown}");
    }
    // The record names the unit, and its cgroup is the scope's.
    let ps = boxtop(&world, &manager, &["ps", "--json", "--interval", "0"]);
    let listed = crate::support::json::instances(&ps);
    let entry = listed
        .iter()
        .find(|i| i["id"] == id.as_str())
        .expect("listed");
    assert_eq!(entry["unit"], unit.as_str(), "{entry}");
    // doctor says which cgroup path the session uses, and why.
    let doctor = stdout(&boxtop(&world, &manager, &["doctor"]));
    assert!(
        doctor.contains("each instance runs in a transient scope app-boxtop-APPID-INSTANCE.scope")
            && doctor.contains("systemd user manager, which answers on unix:path="),
        "{doctor}"
    );
    let scope_dir = manager.dir.join("app.slice").join(&unit);
    assert!(scope_dir.is_dir(), "{} is missing", scope_dir.display());
    // Paused: the scope's processes are frozen.
    let paused = boxtop(&world, &manager, &["pause", &id]);
    assert!(paused.status.success(), "{}", stderr(&paused));
    let events = std::fs::read_to_string(scope_dir.join("cgroup.events")).unwrap();
    assert!(events.contains("frozen 1"), "{events}");
    let resumed = boxtop(&world, &manager, &["resume", &id]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    // A command entered joins the scope through the manager: in the sandbox's cgroup
    // namespace it is at the root, the scope.
    let entered = boxtop(
        &world,
        &manager,
        &["enter", &id, "--", "/bin/cat", "/proc/self/cgroup"],
    );
    assert!(
        stdout(&entered).lines().any(|l| l == "0::/"),
        "{}{}",
        stdout(&entered),
        stderr(&entered)
    );
    // Nothing but systemd's units (and what is inside the delegated scope).
    for folder in manager.folders() {
        let top = folder.split('/').next().unwrap();
        assert!(
            [".slice", ".scope", ".service", ".socket"]
                .iter()
                .any(|s| top.ends_with(s)),
            "{folder} was made outside systemd's units"
        );
    }
    // A fork bomb under pids = 16 stops there: init and the probe count, so 14 children
    // at most. The limit is the scope's TasksMax; where the manager's subtree has no pids
    // controller (a hybrid host), boxtop applies it as RLIMIT_NPROC as well.
    let bomb_profile = world.profile(
        "bomb",
        &format!(
            "command = [\"/bin/sh\", \"-c\", \"exec {} fork-many 200\"]\n[limits]\npids = 16\n\
             [home]\nephemeral = true\n[[home.share]]\npath = \"probe-bin\"\nmode = \"ro\"\n",
            world.probe_path().display()
        ),
    );
    world.fix_owner();
    let started = boxtop(
        &world,
        &manager,
        &[
            "run",
            "--detach",
            "--profile-file",
            bomb_profile.to_str().unwrap(),
        ],
    );
    assert!(started.status.success(), "{}", stderr(&started));
    let bomb = stdout(&started).trim().to_string();
    let bomb_unit = format!(
        "app-boxtop-bomb-{}.scope",
        bomb.strip_prefix("bomb-").unwrap()
    );
    let mut said = String::new();
    wait_until(
        "the bomb to run out of forks",
        Duration::from_secs(20),
        || {
            said = stdout(&boxtop(&world, &manager, &["logs", &bomb]));
            said.contains("forked ")
        },
    );
    assert!(
        said.contains("forked 14 of 200, stopped by: Resource temporarily unavailable"),
        "{said}"
    );
    let shown = stdout(&manager.systemctl(&world, &["show", &bomb_unit, "-p", "TasksMax"]));
    assert_eq!(shown.trim(), "TasksMax=16");
    // The status comes from the scope's cgroup: all 16 processes are in it.
    let bomb_dir = manager.dir.join("app.slice").join(&bomb_unit);
    let procs = std::fs::read_to_string(bomb_dir.join("cgroup.procs")).unwrap();
    assert_eq!(procs.lines().count(), 16, "{procs}");
    let ps = stdout(&boxtop(&world, &manager, &["ps", "--interval", "0"]));
    let row = ps
        .lines()
        .find(|l| l.starts_with(&bomb))
        .unwrap_or_default();
    assert_eq!(row.split_whitespace().nth(6), Some("16"), "{ps}");
    if !bomb_dir.join("pids.max").exists() {
        eprintln!(
            "note: the manager's subtree has no pids controller on this host: TasksMax is \
             set but the kernel limit was RLIMIT_NPROC"
        );
        assert!(
            said.contains("pids limit applied as RLIMIT_NPROC"),
            "{said}"
        );
    }
    let killed = boxtop(&world, &manager, &["kill", &bomb]);
    assert!(killed.status.success(), "{}", stderr(&killed));

    // Stopped by the manager: the instance ends, and ps says who ended it.
    let stopped = manager.systemctl(&world, &["stop", &unit]);
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    let mut last = String::new();
    wait_until("the stop to be recorded", Duration::from_secs(10), || {
        let ps = boxtop(&world, &manager, &["ps", "--all", "--interval", "0"]);
        last = stdout(&ps);
        last.contains("ended: the systemd user manager stopped its scope")
    });
    assert!(last.contains(&id), "{last}");
    let ps = boxtop(
        &world,
        &manager,
        &["ps", "--all", "--json", "--interval", "0"],
    );
    let listed = crate::support::json::instances(&ps);
    let entry = listed
        .iter()
        .find(|i| i["id"] == id.as_str())
        .expect("listed");
    assert_eq!(entry["state"]["state"], "killed", "{entry}");
    let by = entry["ended_by"].as_str().unwrap_or_default();
    assert!(
        by.starts_with(&format!(
            "the systemd user manager stopped its scope {unit} (job "
        )),
        "{entry}"
    );
}

#[test]
fn without_a_user_manager_nothing_is_made_in_the_users_own_cgroup_subtree() {
    if !is_root() {
        eprintln!("skipped: delegating a cgroup folder to the test user needs root");
        return;
    }
    // The test user's processes run in a folder it owns, as in user@UID.service, but no
    // manager answers and BOXTOP_CGROUP_ROOT is not set: boxtop must not write there.
    let world = World::new();
    let delegated = crate::support::cgroup::Delegated::create(world.uid);
    let profile = world.profile(
        "unmanaged",
        "command = [\"/bin/sleep\", \"60\"]\n[limits]\npids = 32\n",
    );
    world.fix_owner();
    let in_session = |args: &[&str]| {
        let mut cmd = world.boxtop(args);
        let procs = delegated.dir.join("session/cgroup.procs");
        // SAFETY: only a write(2) to a cgroup file between fork and exec.
        unsafe {
            cmd.pre_exec(move || std::fs::write(&procs, "0"));
        }
        cmd.output().unwrap()
    };
    let started = in_session(&[
        "run",
        "--detach",
        "--profile-file",
        profile.to_str().unwrap(),
    ]);
    assert!(started.status.success(), "{}", stderr(&started));
    let id = stdout(&started).trim().to_string();
    let made: Vec<String> = std::fs::read_dir(&delegated.dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let ps = stdout(&in_session(&["ps", "--interval", "0"]));
    let doctor = stdout(&in_session(&["doctor"]));
    let _ = in_session(&["kill", &id]);
    assert_eq!(
        made,
        ["session"],
        "boxtop made cgroups in the user's subtree"
    );
    assert!(
        ps.contains("pids limit applied as RLIMIT_NPROC instead (no delegated cgroup: no systemd user manager answers and BOXTOP_CGROUP_ROOT is not set"),
        "{ps}"
    );
    assert!(
        doctor.contains("no systemd user manager runs for this session"),
        "{doctor}"
    );
}

#[test]
fn a_session_whose_bus_has_no_manager_runs_the_instance_without_a_cgroup_and_says_why() {
    if !is_root() {
        eprintln!("skipped: the session bus fixture runs as the test user, set up as root");
        return;
    }
    // A user manager's socket seems there, but nothing owns org.freedesktop.systemd1 on
    // the session bus: the launch goes on, with no cgroup written anywhere.
    let mut world = World::new();
    let _bus = crate::support::dbus::SessionBus::start(&mut world);
    let fake = world.runtime_dir.join("systemd");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(fake.join("private"), "").unwrap();
    let profile = world.profile(
        "busonly",
        "command = [\"/bin/sleep\", \"60\"]\n[limits]\npids = 32\n",
    );
    world.fix_owner();
    let id = world.detach(&["--profile-file", profile.to_str().unwrap()]);
    let ps = stdout(&world.boxtop(&["ps", "--interval", "0"]).output().unwrap());
    let listed = world.ps();
    let _ = world.boxtop(&["kill", &id]).output();
    let entry = listed
        .iter()
        .find(|i| i["id"] == id.as_str())
        .expect("listed");
    assert_eq!(entry["state"]["state"], "running", "{entry}");
    assert!(entry.get("unit").is_none(), "{entry}");
    assert!(
        ps.contains("no systemd scope, and no cgroup of its own: no systemd user manager answers on the session bus"),
        "{ps}"
    );
}
