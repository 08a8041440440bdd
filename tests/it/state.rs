//! What boxtop records of an instance when things go wrong around it (issue 14, items 3
//! to 6): a full runtime folder when the end is to be written, a supervisor killed with
//! its sandbox, a state file truncated under a running instance, a full state folder
//! when the app's output is to be logged. The folders are real small tmpfs mounts
//! (the tests run as root and drop to the test uid for boxtop).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use boxtop::json_output::Schema;
use serde_json::Value;

use crate::support::json;
use crate::support::{require, stderr, stdout, wait_until, SessionBus, SmallFolder, World};

/// A world whose live instances are killed when dropped, before its folders go.
struct Instances {
    world: World,
}

impl Drop for Instances {
    fn drop(&mut self) {
        let output = self
            .world
            .boxtop(&["ps", "--json", "--interval", "0"])
            .output();
        let listed: Vec<Value> = output
            .ok()
            .and_then(|o| json::try_data(Schema::PS, &o).ok())
            .and_then(|mut data| match data["instances"].take() {
                Value::Array(instances) => Some(instances),
                _ => None,
            })
            .unwrap_or_default();
        for status in listed {
            if let Some(id) = status["id"].as_str() {
                let _ = self.world.boxtop(&["kill", id]).output();
            }
        }
        self.kill_leftovers();
    }
}

impl Instances {
    fn new(world: World) -> Instances {
        Instances { world }
    }

    /// SIGKILL to every process still running this world's boxtop (a failed test may
    /// leave a supervisor no command can reach, its state file damaged); its sandbox dies
    /// with it.
    fn kill_leftovers(&self) {
        let boxtop = self.world.bin.join("boxtop");
        let boxtop = boxtop.as_os_str().as_encoded_bytes();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if cmdline.split(|b| *b == 0).next() == Some(boxtop) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.world.boxtop(args).output().expect("run boxtop")
    }

    /// `boxtop ps --all --json` (which must succeed), and its stderr.
    fn ps_all(&self) -> (Vec<Value>, String) {
        let output = self.run(&["ps", "--all", "--json", "--interval", "0"]);
        assert!(output.status.success(), "ps: {}", stderr(&output));
        (json::instances(&output), stderr(&output))
    }

    fn status(&self, id: &str) -> Option<Value> {
        self.ps_all().0.into_iter().find(|s| s["id"] == id)
    }

    fn state(&self, id: &str) -> String {
        self.status(id)
            .map(|s| s["state"]["state"].as_str().unwrap_or("?").to_string())
            .unwrap_or_else(|| "unlisted".into())
    }

    /// A detached instance of the profile file, running.
    fn detach(&self, profile: &Path, args: &[&str]) -> String {
        let mut all = vec!["--profile-file", profile.to_str().unwrap(), "--"];
        all.extend_from_slice(args);
        let id = self.world.detach(&all);
        wait_until(&format!("{id} to run"), Duration::from_secs(20), || {
            self.state(&id) == "running"
        });
        id
    }

    fn state_file(&self, id: &str) -> PathBuf {
        self.world.runtime_dir.join(format!("boxtop/{id}.json"))
    }

    fn record(&self, id: &str) -> Value {
        let bytes = std::fs::read(self.state_file(id)).expect("read the state file");
        serde_json::from_slice(&bytes).expect("a state file boxtop wrote")
    }

    fn log(&self, id: &str) -> String {
        let path = self
            .world
            .home
            .join(format!(".local/state/boxtop/logs/{id}.log"));
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

/// An ephemeral profile running `/bin/sh -c SCRIPT`.
fn sh_profile(world: &World, name: &str, script: &str, extra: &str) -> PathBuf {
    world.profile(
        name,
        &format!(
            "command = [\"/bin/sh\", \"-c\", \"{script}\"]\nnetwork = \"none\"\n{extra}\n\
             [home]\nephemeral = true\n"
        ),
    )
}

/// Item 3: the end of an instance whose runtime folder is full cannot be written. `stop`
/// does not claim an end it cannot confirm, the supervisor says why in the log and goes
/// on trying, and once there is room the end is recorded (it was listed as lost forever).
#[test]
fn an_end_that_cannot_be_written_is_not_claimed_and_is_recorded_once_there_is_room() {
    let world = World::new();
    let runtime = SmallFolder::mount(&world.runtime_dir, "2m", world.uid);
    let b = Instances::new(world);
    let profile = sh_profile(
        &b.world,
        "fullrun",
        "trap 'exit 3' TERM; sleep 1000 & wait",
        "",
    );
    let id = b.detach(&profile, &[]);
    runtime.fill();

    let stop = b.run(&["stop", &id, "--timeout", "5"]);
    assert_ne!(
        stop.status.code(),
        Some(0),
        "stop claimed success: stdout {:?} stderr {:?}",
        stdout(&stop),
        stderr(&stop)
    );
    assert!(
        stderr(&stop).contains("its processes are gone, but its end could not be recorded")
            && stderr(&stop).contains("is full"),
        "{}",
        stderr(&stop)
    );
    assert!(!stdout(&stop).contains("ended"), "{}", stdout(&stop));
    assert!(
        b.log(&id)
            .contains("No space left on device (os error 28); retrying"),
        "the supervisor did not say why: {}",
        b.log(&id)
    );

    runtime.free();
    wait_until(
        "the end to be recorded once there is room",
        Duration::from_secs(20),
        || b.state(&id) == "exited",
    );
    let status = b.status(&id).unwrap();
    assert_eq!(status["state"]["code"], 3, "{status}");
    assert!(
        b.log(&id).contains("is written again"),
        "the log does not say the write succeeded later: {}",
        b.log(&id)
    );
}

/// Item 3, in the foreground: `boxtop run` cannot record the end in a full runtime
/// folder; it says so on its terminal and still exits with the app's code.
#[test]
fn a_foreground_run_says_when_it_cannot_record_the_end() {
    let world = World::new();
    let runtime = SmallFolder::mount(&world.runtime_dir, "2m", world.uid);
    let gate = world.home.join("gate");
    std::fs::create_dir_all(&gate).unwrap();
    world.fix_owner();
    let b = Instances::new(world);
    let profile = b.world.profile(
        "fgfull",
        "command = [\"/bin/sh\", \"-c\", \"while [ ! -e \\\"$HOME/gate/go\\\" ]; do sleep 0.05; \
         done; exit 5\"]\nnetwork = \"none\"\n[home]\nephemeral = true\n\
         [[home.share]]\npath = \"gate\"\nmode = \"ro\"\n",
    );
    let run = b
        .world
        .boxtop_run(&profile, &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start boxtop run");
    wait_until("the instance to run", Duration::from_secs(20), || {
        b.ps_all()
            .0
            .iter()
            .any(|s| s["profile"] == "fgfull" && s["state"]["state"] == "running")
    });
    runtime.fill();
    std::fs::write(gate.join("go"), "").unwrap();
    let output = run.wait_with_output().expect("wait for boxtop run");
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("No space left on device")
            && stderr(&output).contains("its end could not be recorded"),
        "{}",
        stderr(&output)
    );
}

/// Item 4: a supervisor killed with its sandbox (SIGKILL to both) leaves a record that
/// says running. It is recorded as lost when found, with an end time (its uptime no
/// longer grows), listed only by `ps --all`, and the folder of its helpers' sockets is
/// removed (they stayed forever).
#[test]
fn a_supervisor_killed_with_its_sandbox_leaves_a_lost_instance_and_no_folder() {
    require("xdg-dbus-proxy", "xdg-dbus-proxy");
    let mut world = World::new();
    let _bus = SessionBus::start(&mut world);
    let b = Instances::new(world);
    // A D-Bus grant: the instance has a folder for its proxy's socket.
    let profile = sh_profile(
        &b.world,
        "killed",
        "exec sleep 1000",
        "[dbus]\ntalk = [\"org.example.Allowed\"]",
    );
    let id = b.detach(&profile, &[]);
    let folder = b.world.runtime_dir.join(format!("boxtop/instances/{id}"));
    assert!(folder.is_dir(), "{} is missing", folder.display());
    let record = b.record(&id);
    let pid =
        |key: &str| nix::unistd::Pid::from_raw(record[key]["pid"].as_i64().expect("a pid") as i32);
    use nix::sys::signal::{kill, Signal::SIGKILL};
    kill(pid("supervisor"), SIGKILL).expect("kill the supervisor");
    // pid 1 dies with its parent, the supervisor; made sure of.
    let _ = kill(pid("init"), SIGKILL);
    wait_until("the sandbox to end", Duration::from_secs(10), || {
        b.state(&id) == "lost"
    });

    let first = b.status(&id).unwrap();
    assert!(first["ended_at"].as_u64().is_some(), "no end time: {first}");
    std::thread::sleep(Duration::from_millis(2100));
    let later = b.status(&id).unwrap();
    assert_eq!(
        first["uptime_secs"], later["uptime_secs"],
        "the uptime of a lost instance grows"
    );
    assert_eq!(b.record(&id)["phase"]["phase"], "lost");
    assert!(!folder.exists(), "{} is left behind", folder.display());
    let ps = b.run(&["ps", "--interval", "0"]);
    assert!(ps.status.success(), "{}", stderr(&ps));
    assert!(
        !stdout(&ps).contains(&id),
        "plain ps lists it:\n{}",
        stdout(&ps)
    );
    let all = b.run(&["ps", "--all", "--interval", "0"]);
    assert!(
        stdout(&all).contains(&id) && stdout(&all).contains("    lost: "),
        "{}",
        stdout(&all)
    );
}

/// Item 4, in the foreground: `boxtop run` killed with SIGKILL takes its sandbox with it;
/// the instance is recorded as lost, with an end time, once found.
#[test]
fn a_foreground_run_killed_leaves_a_lost_instance_with_an_end() {
    let b = Instances::new(World::new());
    let profile = sh_profile(&b.world, "fgkilled", "exec sleep 1000", "");
    let mut run = b
        .world
        .boxtop_run(&profile, &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start boxtop run");
    let mut id = String::new();
    wait_until("the instance to run", Duration::from_secs(20), || {
        let (listed, _) = b.ps_all();
        match listed
            .iter()
            .find(|s| s["profile"] == "fgkilled" && s["state"]["state"] == "running")
        {
            Some(status) => {
                id = status["id"].as_str().unwrap().to_string();
                true
            }
            None => false,
        }
    });
    run.kill().expect("SIGKILL boxtop run");
    run.wait().expect("reap boxtop run");
    wait_until(
        "the instance to be found lost",
        Duration::from_secs(10),
        || b.state(&id) == "lost",
    );
    let status = b.status(&id).unwrap();
    assert!(status["ended_at"].as_u64().is_some(), "{status}");
    assert_eq!(b.record(&id)["phase"]["phase"], "lost");
    let stop = b.run(&["stop", &id]);
    assert_eq!(stop.status.code(), Some(1));
    assert!(
        stderr(&stop).contains(&format!("instance {id} is not running: it was lost")),
        "{}",
        stderr(&stop)
    );
}

/// Item 5: the state file of a running instance is truncated. Its supervisor writes it
/// again from the record it holds, so that `run PROFILE` joins the instance and `stop
/// PROFILE` stops it (neither found it).
#[test]
fn a_truncated_state_file_of_a_running_instance_is_written_again() {
    let b = Instances::new(World::new());
    let profile = b.world.profile(
        "truncated",
        "command = [\"/bin/sh\", \"-c\"]\nnetwork = \"none\"\n[home]\nephemeral = false\n",
    );
    let id = b.detach(&profile, &["exec sleep 1000"]);
    let file = b.state_file(&id);
    let whole = std::fs::read(&file).unwrap();
    let truncate = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_len(whole.len() as u64 / 3))
            .expect("truncate the state file")
    };

    truncate();
    let started = Instant::now();
    let again = b.run(&[
        "run",
        "--profile-file",
        profile.to_str().unwrap(),
        "--",
        "echo joined-the-running-one",
    ]);
    assert!(
        again.status.success() && stdout(&again).contains("joined-the-running-one"),
        "run PROFILE: {:?}\nstdout: {}\nstderr: {}",
        again.status,
        stdout(&again),
        stderr(&again)
    );
    assert!(
        stderr(&again).contains(&format!("already runs as {id}")),
        "{}",
        stderr(&again)
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "run took {:?}",
        started.elapsed()
    );
    assert_eq!(b.state(&id), "running");
    assert!(
        b.log(&id).contains("was changed from outside"),
        "the supervisor did not say it: {}",
        b.log(&id)
    );

    truncate();
    let stop = b.run(&["stop", "truncated", "--timeout", "5"]);
    assert!(
        stop.status.success(),
        "stop PROFILE: {:?}\nstdout: {}\nstderr: {}",
        stop.status,
        stdout(&stop),
        stderr(&stop)
    );
    assert_eq!(
        stdout(&stop).trim(),
        format!("{id}: killed by signal 15 (after SIGTERM)"),
        "{}",
        stderr(&stop)
    );
}

/// Item 6: the state folder is full, so the app's output cannot be logged. That is said
/// where the log is read: `ps` (table and JSON) and `logs`, which fails (all were silent,
/// with an empty log).
#[test]
fn output_that_cannot_be_logged_is_said_by_ps_and_logs() {
    let world = World::new();
    let state = world.home.join(".local/state");
    let folder = SmallFolder::mount(&state, "512k", world.uid);
    let logs = state.join("boxtop/logs");
    std::fs::create_dir_all(&logs).unwrap();
    for dir in [state.join("boxtop"), logs] {
        nix::unistd::chown(
            &dir,
            Some(nix::unistd::Uid::from_raw(world.uid)),
            Some(nix::unistd::Gid::from_raw(world.uid)),
        )
        .unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    folder.fill();
    let b = Instances::new(world);
    let profile = sh_profile(
        &b.world,
        "unlogged",
        "echo output-that-is-lost; exec sleep 1000",
        "",
    );
    let id = b.detach(&profile, &[]);
    wait_until(
        "the log's trouble to be recorded",
        Duration::from_secs(10),
        || b.status(&id).is_some_and(|s| s["log_problem"].is_string()),
    );
    let problem = b.status(&id).unwrap()["log_problem"].to_string();
    assert!(
        problem.contains(&format!("{id}.log")) && problem.contains("No space left on device"),
        "{problem}"
    );
    let table = b.run(&["ps", "--interval", "0"]);
    assert!(
        stdout(&table).contains("    log: cannot write the log"),
        "{}",
        stdout(&table)
    );
    let logs = b.run(&["logs", &id]);
    assert_eq!(logs.status.code(), Some(1), "{}", stderr(&logs));
    assert!(
        stderr(&logs).contains("its output is not all in its log")
            && stderr(&logs).contains("No space left on device"),
        "{}",
        stderr(&logs)
    );
}

/// Items 3 and 6 at once: the runtime folder and the state folder both fill while the app
/// runs, and then it writes. The supervisor neither hangs nor loses the record: once
/// there is room again, the end is recorded with how much output was lost.
#[test]
fn both_folders_full_at_once_neither_hangs_the_supervisor_nor_loses_the_end() {
    let world = World::new();
    let runtime = SmallFolder::mount(&world.runtime_dir, "2m", world.uid);
    let state_dir = world.home.join(".local/state");
    let state = SmallFolder::mount(&state_dir, "512k", world.uid);
    let gate = world.home.join("gate");
    std::fs::create_dir_all(&gate).unwrap();
    world.fix_owner();
    let b = Instances::new(world);
    let profile = b.world.profile(
        "bothfull",
        "command = [\"/bin/sh\", \"-c\", \"while [ ! -e \\\"$HOME/gate/go\\\" ]; do sleep 0.05; \
         done; seq 1 5000; exit 4\"]\nnetwork = \"none\"\n[home]\nephemeral = true\n\
         [[home.share]]\npath = \"gate\"\nmode = \"ro\"\n",
    );
    let id = b.detach(&profile, &[]);
    runtime.fill();
    state.fill();
    std::fs::write(gate.join("go"), "").unwrap();
    // The app has ended; the supervisor goes on trying to record it.
    let supervisor = b.record(&id)["supervisor"]["pid"].as_i64().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(b.record(&id)["phase"]["phase"], "running");
    runtime.free();
    state.free();
    wait_until(
        "the end to be recorded once there is room",
        Duration::from_secs(20),
        || b.state(&id) == "exited",
    );
    let status = b.status(&id).unwrap();
    assert_eq!(status["state"]["code"], 4, "{status}");
    let problem = status["log_problem"].as_str().unwrap_or_default();
    assert!(
        problem.contains("No space left on device") && problem.contains("bytes of output lost"),
        "{status}"
    );
    wait_until("the supervisor to exit", Duration::from_secs(10), || {
        !Path::new(&format!("/proc/{supervisor}")).exists()
            || std::fs::read_to_string(format!("/proc/{supervisor}/stat"))
                .is_ok_and(|stat| stat.contains(") Z "))
    });
}
