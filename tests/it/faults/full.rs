//! Full folders at each write of a launch: the runtime folder (state files, the
//! instance's folder and lock, the seccomp cache) and the state folder (the log) are small
//! tmpfs mounts, filled to leave a swept number of pages (and, for the runtime folder, of
//! inodes) free, so that a launch meets a full folder at one write after another. Each
//! launch must end without hanging, say why it failed when it did; then, with the room
//! given back, every invariant of the kill faults holds (see the parent module).

use std::path::Path;
use std::time::{Duration, Instant};

use super::{Faults, SETTLE};
use crate::support::{stderr, SmallFolder};

/// Pages left free in the folder for each launch: none, then a few, past the launch's
/// writes.
const PAGES_LEFT: &[u64] = &[0, 1, 2, 3, 4, 6, 8, 12];

/// Inodes left free in the runtime folder for each launch.
const INODES_LEFT: &[u64] = &[0, 1, 2, 3, 4, 6];

/// Fills `folder` (see `SmallFolder::fill`), then gives back `pages` pages.
fn leave_pages(folder: &SmallFolder, path: &Path, pages: u64) {
    folder.fill();
    let filler = path.join("filler");
    let size = std::fs::metadata(&filler).expect("the filler").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .expect("open the filler");
    file.set_len(size.saturating_sub(pages * 4096))
        .expect("shrink the filler");
}

/// Takes every free inode of `path` with empty files but `left`; returns them.
fn leave_inodes(path: &Path, left: u64) -> Vec<std::path::PathBuf> {
    let mut made = Vec::new();
    for n in 0.. {
        let file = path.join(format!("inode-{n}"));
        if std::fs::File::create(&file).is_err() {
            break;
        }
        made.push(file);
    }
    for file in made.drain(made.len().saturating_sub(left as usize)..) {
        std::fs::remove_file(file).expect("give an inode back");
    }
    made
}

impl Faults {
    /// One launch (`detach`ed or not, of an app that ends at once) into a full folder:
    /// it must return in time, and say why when it failed.
    fn launch_into_full(&mut self, detach: bool, what: &str) {
        let mut args = vec!["run"];
        if detach {
            args.push("--detach");
        }
        args.extend([self.profile.as_str(), "--", "sh", "0"]);
        let mut child = self
            .boxtop(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start boxtop run");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for boxtop run") {
                break status;
            }
            assert!(
                started.elapsed() < SETTLE,
                "{what}: boxtop run did not return"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        let out = child.wait_with_output().expect("boxtop run's output");
        assert!(
            status.success() || !stderr(&out).trim().is_empty(),
            "{what}: boxtop run failed ({status:?}) without a word"
        );
        self.injected += 1;
    }
}

#[test]
fn faults_fill_the_runtime_and_state_folders_at_each_write_needs_root() {
    let mut faults = Faults::new("full", super::PLAIN, |_| {});
    let uid = faults.world.uid;
    let runtime_dir = faults.world.runtime_dir.clone();
    let state_dir = faults.world.home.join(".local/state");
    for detach in [false, true] {
        let how = if detach { "--detach" } else { "foreground" };
        let runtime = SmallFolder::mount(&runtime_dir, "1m", uid);
        for pages in PAGES_LEFT {
            let what = format!("a {how} launch with {pages} pages left in the runtime folder");
            leave_pages(&runtime, &runtime_dir, *pages);
            faults.launch_into_full(detach, &what);
            runtime.free();
            faults.check(&what);
        }
        drop(runtime);
        // Few inodes, so that taking them all is quick.
        let runtime = SmallFolder::mount(&runtime_dir, "1m,nr_inodes=256", uid);
        for inodes in INODES_LEFT {
            let what = format!("a {how} launch with {inodes} inodes left in the runtime folder");
            let taken = leave_inodes(&runtime_dir, *inodes);
            faults.launch_into_full(detach, &what);
            for file in taken {
                std::fs::remove_file(file).expect("give the inodes back");
            }
            faults.check(&what);
        }
        drop(runtime);
        let state = SmallFolder::mount(&state_dir, "512k", uid);
        for pages in PAGES_LEFT {
            let what = format!("a {how} launch with {pages} pages left in the state folder");
            leave_pages(&state, &state_dir, *pages);
            faults.launch_into_full(detach, &what);
            state.free();
            faults.check(&what);
        }
        drop(state);
    }
    // Past the test harness's capture, like the kill faults.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "faults: full runtime and state folders: {} launches into a full folder (pages and \
         inodes left swept), every invariant held after each",
        faults.injected
    );
}
