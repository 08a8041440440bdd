//! Fault injection: a launch is killed with SIGKILL at each of its steps in turn: the
//! foreground `boxtop run`, a detached launch's `boxtop run --detach` and its supervisor,
//! the sandbox's pid 1, pasta and the host guard (an isolated network), xdg-dbus-proxy (a
//! D-Bus grant), and the TUI that launched it. Each kill lands a swept delay after its
//! target appears, from at once to after the app runs; and the launcher or supervisor is
//! also killed exactly at each named step, where the debug-only `BOXTOP_TEST_PAUSE_AT`
//! stops it (src/sandbox/process.rs), the recording of the app's end included. After
//! every fault the same invariants must hold:
//!
//! - `ps` tells the truth: once things settle, an instance is listed running (or
//!   paused) exactly when its pid 1 lives, and none stays starting or stopping;
//! - once the instances left running are killed with `boxtop kill`: no process of the
//!   sandbox (pid 1, the members of its pid namespace), no supervisor, no helper
//!   (pasta, the host guard, xdg-dbus-proxy) is left, and the home lock is free;
//! - the next launch of the same profile works and finds its private home intact (a file
//!   written there before the faults);
//! - no folder is left behind once that launch has run (a launch killed with SIGKILL
//!   cannot remove its own; the next one must): the runtime folder's `instances/ID`,
//!   pasta's scratch folders in `$TMPDIR`, the instances' cgroups in a delegated one.
//!
//! Each test prints, past the test harness's capture, how many faults it injected and
//! that every invariant held after each.

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use crate::support::json;
use crate::support::{
    build_host_network, give_tun_its_usual_mode, in_new_network, is_root, require, stderr, stdout,
    Delegated, NetNamespace, SessionBus, World,
};

mod full;
mod tui;

/// When each kill lands, in milliseconds after its target appears: swept from at once to
/// well after the app runs (a debug build's launch takes some tens of milliseconds).
const DELAYS_MS: &[u64] = &[0, 1, 2, 3, 5, 8, 12, 17, 24, 33, 45, 60, 80, 110, 160, 300];

/// How long the world may take to settle after a fault, and the processes to go after
/// a kill: far more than either takes.
const SETTLE: Duration = Duration::from_secs(15);

/// What a process of the test's world is to a launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The `boxtop run` the test (or the TUI) started.
    Launcher,
    /// A detached instance's supervisor (boxtop, in a session of its own).
    Supervisor,
    /// The sandbox's pid 1 (boxtop, in a pid namespace of its own).
    Init,
    /// A process in the pid namespace of one of the world's sandboxes.
    Member,
    Pasta,
    /// boxtop's guard of the host's addresses, forked for an isolated network: boxtop,
    /// in the sandbox's user namespace but not its pid namespace.
    HostGuard,
    DbusProxy,
    /// The TUI (boxtop with no subcommand).
    Tui,
}

#[derive(Debug, Clone)]
struct Proc {
    pid: i32,
    role: Role,
    cmdline: String,
}

/// One fault-injection run: the world, its profile, and what it has learnt.
struct Faults {
    world: World,
    profile: String,
    /// What the file `keep` in the private home holds; it must survive every fault.
    kept: String,
    boxtop: PathBuf,
    /// The scratch folder of the world's programs (`TMPDIR`): pasta's pid file and log.
    tmp: PathBuf,
    own_pid_ns: u64,
    own_user_ns: u64,
    /// Faults injected (the kill landed on a live target).
    injected: usize,
    /// Kills that found their target already gone (the step had passed).
    missed: usize,
    /// The delegated cgroup boxtop runs in, if any: instances get a cgroup of their own
    /// in it.
    cgroup: Option<Delegated>,
}

/// The processes one a line, for a failure's message.
fn describe(procs: &[Proc]) -> String {
    procs
        .iter()
        .map(|p| format!("\n  {} {:?}: {}", p.pid, p.role, p.cmdline))
        .collect()
}

fn inode(path: &str) -> Option<u64> {
    std::fs::metadata(path).ok().map(|meta| meta.ino())
}

/// The state letter of `pid` (`R`, `S`, `T` when stopped, `Z`...), `None` once gone.
fn state_of(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

fn is_zombie(pid: i32) -> bool {
    state_of(pid).is_none_or(|state| state == 'Z' || state == 'X')
}

/// The processes holding a lock on `path`, from /proc/locks, for a failure's message.
fn lock_holders(path: &std::path::Path) -> String {
    let Ok(meta) = std::fs::metadata(path) else {
        return "(the lock file is gone)".into();
    };
    let inode = format!(":{}", meta.ino());
    let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    locks
        .lines()
        .filter(|line| {
            line.split_whitespace()
                .nth(5)
                .is_some_and(|id| id.ends_with(&inode))
        })
        .filter_map(|line| line.split_whitespace().nth(4)?.parse::<i32>().ok())
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            format!(
                "\n  {pid} ({:?}): {}",
                state_of(pid),
                String::from_utf8_lossy(&cmdline).replace('\0', " ")
            )
        })
        .collect()
}

/// Whether `pid` is pid 1 of its own pid namespace (the last of its `NSpid` numbers).
fn is_pid_1(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("NSpid:"))
            .and_then(|pids| pids.split_whitespace().last())
            == Some("1")
    })
}

/// The parent of `pid` (field 4 of its stat).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The session id of `pid` (field 6 of its stat).
fn session_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(3)?.parse().ok()
}

impl Drop for Faults {
    /// A failed test leaves nothing running: every process of the world is killed.
    fn drop(&mut self) {
        if self.world.runtime_dir.join("tmux.sock").exists() {
            let _ = self.tmux(&["kill-server"]);
        }
        for process in self.processes(None) {
            let _ = kill(Pid::from_raw(process.pid), Signal::SIGKILL);
        }
    }
}

impl Faults {
    /// A world with the user profile `name` (`keys` added to a shell that prints the
    /// kept file and sleeps `$1` seconds, 1000 when not given) and `keep` written in its
    /// private home by a first launch. `setup` changes the world first (a session bus).
    fn new(name: &str, keys: &str, setup: impl FnOnce(&mut World)) -> Faults {
        Self::build(name, keys, setup, false)
    }

    /// `new`, with every boxtop started in a cgroup v2 subtree delegated to the test
    /// user, as systemd delegates `user@UID.service`.
    fn in_delegated_cgroup(name: &str, keys: &str) -> Faults {
        Self::build(name, keys, |_| {}, true)
    }

    fn build(name: &str, keys: &str, setup: impl FnOnce(&mut World), delegated: bool) -> Faults {
        let mut world = World::new();
        let tmp = world.root.path().join("tmp");
        std::fs::create_dir_all(&tmp).expect("mkdir tmp");
        std::os::unix::fs::chown(&tmp, Some(world.uid), Some(world.gid)).expect("chown tmp");
        world.env.insert("TMPDIR".into(), tmp.display().to_string());
        setup(&mut world);
        let dir = world.home.join(".config/boxtop/profiles");
        std::fs::create_dir_all(&dir).expect("mkdir profiles");
        std::fs::write(
            dir.join(format!("{name}.toml")),
            format!(
                "name = \"{name}\"\n\
                 command = [\"/bin/sh\", \"-c\", \"echo run >> ~/runs; cat ~/keep 2>/dev/null; exec sleep ${{1:-1000}}\"]\n\
                 display = \"none\"\n{keys}\n"
            ),
        )
        .expect("write profile");
        world.fix_owner();
        let boxtop = world.bin.join("boxtop");
        let own_pid_ns = inode("/proc/self/ns/pid").expect("own pid namespace");
        let own_user_ns = inode("/proc/self/ns/user").expect("own user namespace");
        let mut faults = Faults {
            world,
            profile: name.to_string(),
            kept: String::new(),
            boxtop,
            tmp,
            own_pid_ns,
            own_user_ns,
            injected: 0,
            missed: 0,
            cgroup: None,
        };
        if delegated {
            faults.cgroup = Some(Delegated::create(faults.world.uid));
        }
        // The first launch makes the private home; the file is then written in it.
        faults.next_launch_works("the first launch");
        let keep = faults.private_home().join("keep");
        faults.kept = format!("kept-{}", std::process::id());
        std::fs::write(&keep, &faults.kept).expect("write keep");
        std::os::unix::fs::chown(&keep, Some(faults.world.uid), Some(faults.world.gid))
            .expect("chown keep");
        faults.next_launch_works("the launch after writing the kept file");
        faults
    }

    /// `boxtop ARGS...` as the test user, in the delegated cgroup if there is one.
    fn boxtop(&self, args: &[&str]) -> Command {
        match &self.cgroup {
            Some(cgroup) => cgroup.command(&self.world, args),
            None => self.world.boxtop(args),
        }
    }

    fn private_home(&self) -> PathBuf {
        self.world
            .home
            .join(".local/share/boxtop/homes")
            .join(&self.profile)
    }

    fn store(&self) -> PathBuf {
        self.world.runtime_dir.join("boxtop")
    }

    /// `boxtop run PROFILE`, foreground or detached, output discarded.
    fn spawn_run(&self, detach: bool) -> Child {
        let mut args = vec!["run"];
        if detach {
            args.push("--detach");
        }
        args.push(&self.profile);
        self.boxtop(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start boxtop run")
    }

    /// The world's processes now, each with its role. `launcher` is the process the test
    /// started.
    fn processes(&mut self, launcher: Option<i32>) -> Vec<Proc> {
        let runtime = self.world.runtime_dir.display().to_string();
        let tmp = self.tmp.display().to_string();
        // The pid namespaces of the world's live pid 1s, whose members are the world's
        // too: a namespace's members end with its pid 1, and the number of one that
        // ended may be reused by another test's.
        let mut pid_nss = BTreeSet::new();
        let mut found = Vec::new();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return found;
        };
        let pids: Vec<i32> = dir
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
            .collect();
        // pid 1s first, so that the members of their namespaces are known below.
        let mut rest = Vec::new();
        for pid in pids {
            if is_zombie(pid) {
                continue;
            }
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            let pid_ns = inode(&format!("/proc/{pid}/ns/pid"));
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
                .unwrap_or_default();
            if exe.as_deref() == Some(self.boxtop.as_path()) {
                let role = if pid_ns.is_some_and(|ns| ns != self.own_pid_ns) {
                    // boxtop in a sandbox's pid namespace: its pid 1, or a command
                    // joining it (`boxtop enter`, a second launch) before it executes.
                    if !is_pid_1(pid) {
                        rest.push((pid, pid_ns, cmdline));
                        continue;
                    }
                    pid_nss.extend(pid_ns);
                    Role::Init
                } else if inode(&format!("/proc/{pid}/ns/user"))
                    .is_some_and(|ns| ns != self.own_user_ns)
                {
                    Role::HostGuard
                } else if !cmdline.contains(" run ") {
                    Role::Tui
                } else if Some(pid) == launcher {
                    Role::Launcher
                } else if session_of(pid) == Some(pid) {
                    Role::Supervisor
                } else {
                    Role::Launcher
                };
                found.push(Proc { pid, role, cmdline });
            } else {
                rest.push((pid, pid_ns, cmdline));
            }
        }
        for (pid, pid_ns, cmdline) in rest {
            let role = if pid_ns.is_some_and(|ns| pid_nss.contains(&ns)) {
                Role::Member
            } else if cmdline.contains("--config-net") && cmdline.contains(&tmp) {
                Role::Pasta
            } else if cmdline.starts_with("xdg-dbus-proxy") && cmdline.contains(&runtime) {
                Role::DbusProxy
            } else {
                continue;
            };
            found.push(Proc { pid, role, cmdline });
        }
        found
    }

    /// `boxtop ps --json`: every instance listed (ended ones too, with `--all` where
    /// `ps` lists only live ones by default).
    fn ps(&self) -> Vec<Value> {
        let mut output = self
            .boxtop(&["ps", "--json", "--interval", "0", "--all"])
            .output()
            .expect("run boxtop ps");
        if !output.status.success() && stderr(&output).contains("--all") {
            output = self
                .boxtop(&["ps", "--json", "--interval", "0"])
                .output()
                .expect("run boxtop ps");
        }
        assert!(output.status.success(), "boxtop ps: {}", stderr(&output));
        json::instances(&output)
    }

    /// Waits for `target` to appear, lets `delay` pass, and kills it. Returns whether
    /// the kill landed on a live process.
    fn kill_when_up(&mut self, launcher: &mut Child, target: Role, delay: Duration) -> bool {
        let started = Instant::now();
        let launcher_pid = launcher.id() as i32;
        let victim = loop {
            // Looked at before the processes: a launch that returned is seen in full.
            let ended = launcher.try_wait().expect("wait for boxtop run");
            let found = self.processes(Some(launcher_pid));
            if let Some(proc) = found.iter().find(|p| p.role == target) {
                break proc.pid;
            }
            if ended.is_some() && target == Role::Launcher {
                // A detached launch can return before a look at the processes sees it.
                self.missed += 1;
                return false;
            }
            if ended.is_some() || started.elapsed() > SETTLE {
                panic!(
                    "no {target:?} of {} appeared (boxtop run: {ended:?}); the world's processes: {}\nps: {:#?}",
                    self.profile,
                    describe(&found),
                    self.ps()
                );
            }
            std::thread::sleep(Duration::from_micros(300));
        };
        std::thread::sleep(delay);
        self.kill_now(victim)
    }

    fn kill_now(&mut self, pid: i32) -> bool {
        let landed = !is_zombie(pid) && kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok();
        if landed {
            self.injected += 1;
        } else {
            self.missed += 1;
        }
        landed
    }

    /// Waits for the launcher the test started to return: a launch whose step was
    /// killed must still end, or hand over to its supervisor, in bounded time. A
    /// foreground launch may also go on waiting for an app that still runs.
    fn reap(&mut self, launcher: &mut Child, detach: bool, what: &str) {
        let started = Instant::now();
        while launcher.try_wait().expect("wait for boxtop run").is_none() {
            if !detach && self.processes(None).iter().any(|p| p.role == Role::Init) {
                return;
            }
            assert!(
                started.elapsed() < SETTLE,
                "{what}: boxtop run (pid {}) did not return",
                launcher.id()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Every invariant, after the fault `what`; the instances left running are killed.
    fn check(&mut self, what: &str) {
        let live = self.settled_truth(what);
        for id in &live {
            let out = self.boxtop(&["kill", id]).output().expect("boxtop kill");
            // It may have ended since, as `kill` then says; `nothing_left` checks that
            // `ps` agrees.
            assert!(
                out.status.success() || stderr(&out).contains("is not running"),
                "{what}: boxtop kill {id}: {}",
                stderr(&out)
            );
        }
        self.nothing_left(what, false);
        self.next_launch_works(what);
        self.nothing_left(&format!("{what}, then a launch"), true);
    }

    /// Waits for `ps` to agree with the processes: the ids listed running or paused
    /// are those whose pid 1 lives, and nothing is starting or stopping, in two looks a
    /// moment apart (a pid 1 may be dying at the first). Returns the live ids.
    fn settled_truth(&mut self, what: &str) -> Vec<String> {
        let started = Instant::now();
        let mut agreed: Option<Vec<String>> = None;
        loop {
            let procs = self.processes(None);
            let inits: BTreeSet<i64> = procs
                .iter()
                .filter(|p| p.role == Role::Init)
                .map(|p| i64::from(p.pid))
                .collect();
            let listed = self.ps();
            let mut live = Vec::new();
            let mut live_pids = BTreeSet::new();
            let mut unsettled = Vec::new();
            for status in &listed {
                let id = status["id"].as_str().unwrap_or_default().to_string();
                match status["state"]["state"].as_str() {
                    Some("running" | "paused") => {
                        live_pids.extend(status["pid"].as_i64());
                        live.push(id);
                    }
                    Some(state @ ("starting" | "stopping")) => {
                        unsettled.push(format!("{id} {state}"))
                    }
                    _ => {}
                }
            }
            // A foreground launch waits for its app as long as it runs.
            let launching = procs.iter().any(|p| match p.role {
                Role::Launcher => inits.is_empty(),
                Role::Tui => true,
                _ => false,
            });
            if unsettled.is_empty() && !launching && live_pids == inits {
                if agreed.as_ref() == Some(&live) {
                    return live;
                }
                agreed = Some(live);
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            agreed = None;
            assert!(
                started.elapsed() < SETTLE,
                "{what}: ps does not tell the truth after {SETTLE:?}: it lists running {live_pids:?} \
                 and {unsettled:?}, while pid 1s {inits:?} live; processes: {}\nps: {listed:#?}",
                describe(&procs)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// No process or lock of a launch is left, and `ps` lists nothing live; with
    /// `folders`, no folder either. A launch killed with SIGKILL cannot remove its
    /// folders itself: the next launch must.
    fn nothing_left(&mut self, what: &str, folders: bool) {
        let started = Instant::now();
        loop {
            let procs = self.processes(None);
            if procs.is_empty() {
                break;
            }
            assert!(
                started.elapsed() < SETTLE,
                "{what}: processes left {SETTLE:?} after the instances were killed: {}",
                describe(&procs)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let lock = self
            .store()
            .join("homes")
            .join(format!("{}.lock", self.profile));
        // A process that has just been killed closes its files a moment after its
        // other traces go: the lock is waited for.
        let started = Instant::now();
        while lock.exists() {
            let file = std::fs::File::open(&lock).expect("open the home lock");
            if nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).is_ok() {
                break;
            }
            assert!(
                started.elapsed() < SETTLE,
                "{what}: the home lock {} is held {SETTLE:?} after nothing runs, by: {}",
                lock.display(),
                lock_holders(&lock)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The instances' cgroups: every folder of the delegated one but the leaf boxtop
        // is started in.
        let cgroups = self.cgroup.as_ref().map(|cgroup| cgroup.dir.clone());
        let leftovers: Vec<PathBuf> = [
            Some(self.store().join("instances")),
            Some(self.tmp.clone()),
            cgroups,
        ]
        .iter()
        .flatten()
        .filter(|_| folders)
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|dir| dir.flatten().map(|entry| entry.path()))
        .filter(|path| path.is_dir() && !path.ends_with("session"))
        .collect();
        assert!(
            leftovers.is_empty(),
            "{what}: folders left behind: {leftovers:?}"
        );
        for status in self.ps() {
            let state = status["state"]["state"].as_str().unwrap_or_default();
            assert!(
                !matches!(state, "running" | "paused" | "starting" | "stopping"),
                "{what}: ps lists {} as {state} with none of its processes left",
                status["id"]
            );
        }
    }

    /// A launch of the profile runs to its end, and its app finds the kept file.
    fn next_launch_works(&self, what: &str) {
        let out = self
            .boxtop(&["run", &self.profile, "--", "sh", "0"])
            .output()
            .expect("run boxtop");
        assert!(
            out.status.success() && stdout(&out).trim() == self.kept,
            "{what}: the next launch of {}: {:?}, printed {:?} (the private home holds {:?})\nstderr:\n{}",
            self.profile,
            out.status,
            stdout(&out),
            self.kept,
            stderr(&out)
        );
    }

    /// One fault per delay: a launch (`detach`ed or not), `target` killed once up.
    fn sweep(&mut self, detach: bool, target: Role) {
        for delay in DELAYS_MS {
            let what = format!(
                "{target:?} of `boxtop run{}` killed {delay} ms after it appeared",
                if detach { " --detach" } else { "" }
            );
            let mut launcher = self.spawn_run(detach);
            self.kill_when_up(&mut launcher, target, Duration::from_millis(*delay));
            self.reap(&mut launcher, detach, &what);
            self.check(&what);
        }
    }

    /// One fault per step: a launch run with `BOXTOP_TEST_PAUSE_AT=STEP` (see
    /// `test_pause_at` in src/sandbox/process.rs) stops itself there, and is killed. For
    /// the steps of the end, the app ends at once.
    fn kill_at_steps(&mut self, detach: bool, steps: &[&str]) {
        for step in steps {
            let what = format!(
                "`boxtop run{}` killed where it stopped at {step}",
                if detach { " --detach" } else { "" }
            );
            let mut args = vec!["run"];
            if detach {
                args.push("--detach");
            }
            args.push(&self.profile);
            if matches!(*step, "ended" | "recorded") {
                args.extend(["--", "sh", "0"]);
            }
            let mut launcher = self
                .boxtop(&args)
                .env("BOXTOP_TEST_PAUSE_AT", step)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start boxtop run");
            let started = Instant::now();
            let stopped = loop {
                let found = self.processes(Some(launcher.id() as i32));
                let stopped = found.iter().find(|p| {
                    matches!(p.role, Role::Launcher | Role::Supervisor)
                        && state_of(p.pid) == Some('T')
                });
                if let Some(process) = stopped {
                    break process.pid;
                }
                assert!(
                    started.elapsed() < SETTLE,
                    "{what}: no process of the launch stopped at {step} (boxtop run: {:?}); the world's processes: {}",
                    launcher.try_wait(),
                    describe(&found)
                );
                std::thread::sleep(Duration::from_millis(1));
            };
            if matches!(*step, "guard" | "pasta") {
                // A helper stopped as it was forked: its parent is killed, then it goes on.
                let parent = parent_of(stopped).expect("the stopped helper's parent");
                assert!(self.kill_now(parent), "{what}: the kill did not land");
                let _ = kill(Pid::from_raw(stopped), Signal::SIGCONT);
            } else {
                assert!(self.kill_now(stopped), "{what}: the kill did not land");
            }
            self.reap(&mut launcher, detach, &what);
            self.check(&what);
        }
    }

    /// One fault per delay: while a detached instance holds the private home, a second
    /// launch runs its command in that sandbox, and is killed once up.
    fn sweep_join(&mut self) {
        for delay in DELAYS_MS {
            let what = format!("a launch joining the sandbox killed {delay} ms after it appeared");
            let mut holder = self.spawn_run(true);
            self.reap(&mut holder, true, &what);
            assert!(
                holder.wait().is_ok_and(|status| status.success()),
                "{what}: the holder did not start"
            );
            let mut joiner = self
                .boxtop(&["run", &self.profile, "--", "sh", "5"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start boxtop run");
            self.kill_when_up(&mut joiner, Role::Launcher, Duration::from_millis(*delay));
            self.reap(&mut joiner, true, &what);
            self.check(&what);
        }
    }

    /// Says, past the test harness's capture, what was done.
    fn report(&self, test: &str) {
        assert!(self.injected > 0, "{test}: no fault landed");
        let _ = writeln!(
            std::io::stderr(),
            "faults: {test}: {} injected faults (SIGKILL), every invariant held after each \
             ({} more kills found their step already over)",
            self.injected,
            self.missed
        );
    }
}

/// A persistent home, no network: the launcher, the supervisor and pid 1 killed.
const PLAIN: &str = "network = \"none\"\n";

/// The steps of `BOXTOP_TEST_PAUSE_AT` every launch reaches (but `supervisor`, which
/// only detached ones do). `init,building`: boxtop has let pid 1 go on and is killed
/// while pid 1 is still slow to start (under load, or on a slow machine).
const PLAIN_STEPS: &[&str] = &[
    "making",
    "cloned",
    "init,building",
    "building",
    "running",
    "ended",
    "recorded",
];

#[test]
fn faults_kill_the_foreground_run_at_each_step() {
    let mut faults = Faults::new("fg", PLAIN, |_| {});
    faults.sweep(false, Role::Launcher);
    faults.sweep(false, Role::Init);
    faults.kill_at_steps(false, PLAIN_STEPS);
    faults.report("foreground run and its pid 1");
}

#[test]
fn faults_kill_a_detached_launch_at_each_step() {
    let mut faults = Faults::new("bg", PLAIN, |_| {});
    faults.sweep(true, Role::Launcher);
    faults.sweep(true, Role::Supervisor);
    faults.sweep(true, Role::Init);
    faults.kill_at_steps(true, &[&["supervisor"], PLAIN_STEPS].concat());
    faults.report("detached launch, its supervisor and its pid 1");
}

#[test]
fn faults_kill_xdg_dbus_proxy_and_the_supervisor_of_a_dbus_grant() {
    require("xdg-dbus-proxy", "xdg-dbus-proxy");
    let mut bus = None;
    let mut faults = Faults::new(
        "bus",
        "network = \"none\"\n[dbus]\ntalk = [\"org.example.Allowed\"]\n",
        |world| bus = Some(SessionBus::start(world)),
    );
    faults.sweep(true, Role::DbusProxy);
    faults.sweep(false, Role::DbusProxy);
    faults.sweep(true, Role::Supervisor);
    faults.sweep(false, Role::Launcher);
    let steps = [&["proxies"], PLAIN_STEPS].concat();
    faults.kill_at_steps(false, &steps);
    faults.kill_at_steps(true, &steps);
    faults.report("xdg-dbus-proxy, and the launch it serves");
    drop(bus);
}

#[test]
fn faults_kill_pasta_the_host_guard_and_the_launch_of_an_isolated_network_needs_root() {
    require("pasta", "passt");
    give_tun_its_usual_mode();
    let internet = NetNamespace::add("fault");
    in_new_network(|| {
        build_host_network(&internet);
        let mut faults = Faults::new("net", "network = \"isolated\"\n", |_| {});
        faults.sweep(true, Role::Pasta);
        faults.sweep(false, Role::Pasta);
        faults.sweep(false, Role::HostGuard);
        faults.sweep(false, Role::Launcher);
        faults.sweep(true, Role::Supervisor);
        let steps = [&["pasta", "guard", "network"], PLAIN_STEPS].concat();
        faults.kill_at_steps(false, &steps);
        faults.kill_at_steps(true, &steps);
        faults.report("pasta, the host guard, and the launch they serve");
    });
}

#[test]
fn faults_kill_the_launch_of_an_instance_in_a_delegated_cgroup_needs_root() {
    assert!(
        is_root(),
        "delegating a cgroup needs root: run `make test` as root (CI does)"
    );
    let mut faults = Faults::in_delegated_cgroup("cg", PLAIN);
    faults.sweep(true, Role::Supervisor);
    faults.sweep(false, Role::Launcher);
    faults.kill_at_steps(false, PLAIN_STEPS);
    faults.kill_at_steps(true, &[&["supervisor"], PLAIN_STEPS].concat());
    faults.report("launches with a cgroup of their own");
}

#[test]
fn faults_kill_a_launch_that_joins_the_sandbox_holding_the_home() {
    let mut faults = Faults::new("join", PLAIN, |_| {});
    faults.sweep_join();
    faults.report("a launch joining a running sandbox");
}
