//! The cost of a status refresh follows the instances, not the host: with hundreds of
//! unrelated processes running, a refresh after the first reads only a bounded number of
//! `/proc/PID` entries, and still counts each sandbox's processes right.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use boxtop::instance::collect::{Collector, Snapshot};
use boxtop::instance::record::Store;

use crate::support::{is_root, stderr, stdout, wait_until, World};

/// Unrelated host processes, killed and reaped when dropped.
struct Crowd(Vec<Child>);

impl Drop for Crowd {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

/// `count` sleeping processes: half the test user's, half this process's user's (root's
/// when the tests run as root, which the test user cannot inspect).
fn crowd(world: &World, count: usize) -> Crowd {
    let mut children = Vec::with_capacity(count);
    for i in 0..count {
        let mut command = if i % 2 == 0 {
            let mut command = world.command(std::path::Path::new("/bin/sleep"));
            command.arg("600");
            command
        } else {
            let mut command = Command::new("/bin/sleep");
            command.arg("600").stdin(Stdio::null());
            command
        };
        command.stdout(Stdio::null()).stderr(Stdio::null());
        children.push(command.spawn().expect("start a sleeping host process"));
    }
    Crowd(children)
}

/// Refreshes of the world's instances by one collector kept between them, the way the
/// TUI refreshes, run as the test user: in a thread of its own whose user ids (and only
/// its own: the raw system call, not libc's process-wide wrapper) are the test user's
/// when the tests run as root. Each `refresh` is one collection.
struct Refresher {
    ask: Option<mpsc::Sender<()>>,
    answers: mpsc::Receiver<Snapshot>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Refresher {
    fn new(world: &World) -> Refresher {
        let store = Store::new(world.runtime_dir.join("boxtop"));
        let (uid, gid) = (world.uid, world.gid);
        let (ask, asked) = mpsc::channel::<()>();
        let (answer, answers) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            if is_root() {
                // SAFETY: setresgid/setresuid with plain integers; the raw system calls
                // change this thread's credentials only, and the thread ends with the
                // Refresher.
                let dropped = unsafe {
                    libc::syscall(libc::SYS_setresgid, gid, gid, gid) == 0
                        && libc::syscall(libc::SYS_setresuid, uid, uid, uid) == 0
                };
                assert!(dropped, "cannot take the test user's ids in a thread");
            }
            let mut collector = Collector::new();
            while asked.recv().is_ok() {
                if answer.send(collector.collect(&store)).is_err() {
                    break;
                }
            }
        });
        Refresher {
            ask: Some(ask),
            answers,
            thread: Some(thread),
        }
    }

    fn refresh(&self) -> Snapshot {
        self.ask
            .as_ref()
            .unwrap()
            .send(())
            .expect("the refresh thread");
        self.answers.recv().expect("the refresh thread")
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        self.ask = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_refresh_reads_what_the_instances_hold_not_every_host_process() {
    const UNRELATED: usize = 300;
    let world = World::new();
    let profile = world.profile(
        "crowded",
        "command = [\"/bin/sh\", \"-c\", \"sleep 1000 & sleep 1000 & sleep 1000 & wait\"]\n\
         [home]\nephemeral = true\n",
    );
    let id = world.detach(&["--profile-file", profile.to_str().unwrap()]);
    let kill = || {
        let output = world
            .boxtop(&["kill", &id])
            .output()
            .expect("run boxtop kill");
        assert!(
            output.status.success(),
            "kill: {}{}",
            stdout(&output),
            stderr(&output)
        );
    };
    // init, sh and three sleepers.
    let processes_of = |snapshot: &Snapshot| {
        snapshot
            .statuses
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.processes)
    };
    wait_until(
        "the instance to have its 5 processes",
        Duration::from_secs(10),
        || processes_of(&Refresher::new(&world).refresh()) == Some(5),
    );

    let crowd = crowd(&world, UNRELATED);
    let refresher = Refresher::new(&world);
    let first = refresher.refresh();
    let second = refresher.refresh();
    // A process joining the sandbox later (`boxtop enter`, whose parent stays outside)
    // is counted by the same collector at a later refresh.
    let mut entered = world
        .boxtop(&["enter", &id, "--", "/bin/sleep", "1000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run boxtop enter");
    let mut later = None;
    wait_until(
        "the entered command to be counted",
        Duration::from_secs(10),
        || {
            let snapshot = refresher.refresh();
            let done = processes_of(&snapshot) == Some(6);
            later = Some(snapshot);
            done
        },
    );
    drop(refresher);
    drop(crowd);
    kill();
    let _ = entered.wait();
    let later = later.unwrap();

    assert_eq!(processes_of(&first), Some(5), "{:?}", first.statuses);
    assert_eq!(processes_of(&second), Some(5), "{:?}", second.statuses);
    // The first refresh meets every host process once; later ones read the instance's own
    // processes (a stat each, and pid 1's), plus what other tests start meanwhile.
    assert!(
        first.pid_reads >= UNRELATED as u64,
        "the first refresh read {} /proc/PID entries with {UNRELATED} host processes \
         running: it does not count its reads",
        first.pid_reads
    );
    let bound = 2 * 6 + 40;
    for (which, snapshot) in [("second", &second), ("later", &later)] {
        assert!(
            snapshot.pid_reads <= bound,
            "a {which} refresh of one instance of 5 or 6 processes read {} /proc/PID \
             entries with {UNRELATED} unrelated host processes running (at most {bound} \
             expected): its cost follows the host's processes",
            snapshot.pid_reads
        );
    }
}
