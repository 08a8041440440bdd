//! Which host process is in which sandbox, kept from one refresh to the next so that a
//! refresh reads the processes started since the last one, not every host process.
//!
//! What a refresh needs is each sandbox's processes; the proof that a process belongs to
//! a sandbox is its pid namespace, read from `/proc/PID/ns/pid`. A process never changes
//! pid namespace, so what was read of it holds for its whole life, and the only question
//! at each refresh is which processes are new. Two ways to tell, the cheaper one first:
//!
//! - **The pids handed out since.** The kernel hands out pids in turn (`ns_last_pid` is
//!   the last one), wrapping around at `pid_max`: the processes started since the last
//!   pass have the pids after the last one it saw. Those are read, a dozen or so on an
//!   idle host, and nothing else. A pid may be a thread's (threads take pids too): only
//!   a thread group's leader is a process.
//! - **A listing of `/proc`**, on the first pass, when more pids were handed out than
//!   half the known processes, and every [`LISTING_EVERY`] passes in any case. With each
//!   pid it gives the inode number of `/proc/PID`, made anew for each process (a pid used
//!   again gets another), so what is known of a pid is used while that number is the
//!   same and read again otherwise.
//!
//! Read again at each pass: this user's processes whose namespace cannot be read now
//! (not dumpable, as an app is between the fork and the exec that starts it), and the
//! last pids handed out that did not show in `/proc` (a process being forked has its pid
//! a moment before it shows).
//!
//! Why not `cgroup.procs`, or `/proc/PID/task/TID/children` from pid 1: the first is
//! used instead of this when an instance has a cgroup; the second needs
//! CONFIG_PROC_CHILDREN, which many kernels lack, and misses a command run by
//! `boxtop enter`, whose parent is outside the sandbox.

use std::collections::HashMap;
use std::os::unix::fs::{DirEntryExt, MetadataExt};

use crate::sys::procfs::{self, Identity};

/// A pass lists `/proc` at least this often, whatever the pids handed out say: what the
/// kernel does with pids behind boxtop's back (a wrap of the whole pid space between two
/// passes, root setting `ns_last_pid`) is set right within that many passes.
pub const LISTING_EVERY: u64 = 60;

/// The last pids handed out before a pass are read again at the next one when they did
/// not show in `/proc` (a process in the middle of its fork).
const IN_FLIGHT: i32 = 16;

/// Every process of this user, grouped by the pid namespaces asked for, each read now.
pub fn members(namespaces: &[u64]) -> HashMap<u64, Vec<i32>> {
    Census::default().members(namespaces, &[])
}

#[derive(Debug, Default)]
pub struct Census {
    seen: HashMap<i32, Seen>,
    /// This user's processes whose pid namespace could not be read.
    pending: Vec<i32>,
    /// `ns_last_pid` when the last pass began, when `seen` held every process then.
    last_pid: Option<i32>,
    passes: u64,
    listings: u64,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    /// Inode number of its `/proc/PID` folder (0 when not listed): which process of
    /// that pid this is.
    ino: u64,
    place: Place,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// In the pid namespace with this inode.
    Ns(u64),
    /// Another user's, which no sandbox of this user's holds: a sandbox's processes keep
    /// this user's ids (no new privileges, one uid mapped), and so does what they fork.
    Foreign,
}

/// What reading a pid found.
enum Found {
    Place(Place),
    /// This user's process, its namespace unreadable for now.
    Unreadable,
    /// No process (gone, not there yet, or a thread).
    Nothing,
}

impl Census {
    /// This user's processes in each of `namespaces`. `skip` are pids known to be
    /// unreadable (each sandbox's pid 1): never read. May hold pids that ended since the
    /// last listing: a caller reads each pid's stat anyway, which fails for them.
    pub fn members(&mut self, namespaces: &[u64], skip: &[i32]) -> HashMap<u64, Vec<i32>> {
        let mut out: HashMap<u64, Vec<i32>> = HashMap::new();
        if namespaces.is_empty() {
            // Nothing is followed meanwhile: the next pass lists.
            self.last_pid = None;
            return out;
        }
        let me = nix::unistd::geteuid().as_raw();
        // Read first: a process started during this pass has a later pid.
        let now = last_pid();
        self.passes += 1;
        let listing_due = self.passes % LISTING_EVERY == 1;
        let complete = match (self.last_pid, now) {
            (Some(before), Some(now)) if !listing_due => self.read_new(before, now, skip, me),
            _ => false,
        } || self.list(skip, me);
        self.last_pid = now.filter(|_| complete);
        for (pid, seen) in &self.seen {
            if let Place::Ns(ns) = seen.place {
                if namespaces.contains(&ns) {
                    out.entry(ns).or_default().push(*pid);
                }
            }
        }
        out
    }

    /// Reads the pids handed out after `before` up to `now`, the last few up to `before`
    /// that were not found then, and the pending ones. False when a listing is cheaper
    /// or the pids cannot be told.
    fn read_new(&mut self, before: i32, now: i32, skip: &[i32], me: u32) -> bool {
        let Some(pid_max) = read_number("/proc/sys/kernel/pid_max") else {
            return false;
        };
        if !(0..pid_max).contains(&before) || !(0..pid_max).contains(&now) {
            return false;
        }
        let new = handed_out_after(before, now, pid_max);
        if new.clone().count() > self.seen.len() / 2 {
            return false;
        }
        // The last pids up to `before`: those found then are known and kept.
        let recent = (before - IN_FLIGHT + 1).max(1)..=before;
        let recent: Vec<i32> = recent.filter(|pid| !self.seen.contains_key(pid)).collect();
        let mut candidates: Vec<i32> = recent.into_iter().chain(new).collect();
        for pending in std::mem::take(&mut self.pending) {
            if !candidates.contains(&pending) {
                candidates.push(pending);
            }
        }
        for pid in candidates {
            self.seen.remove(&pid);
            if skip.contains(&pid) {
                continue;
            }
            match identify_new(pid, me) {
                Found::Place(place) => {
                    self.seen.insert(pid, Seen { ino: 0, place });
                }
                Found::Unreadable => self.pending.push(pid),
                Found::Nothing => {}
            }
        }
        true
    }

    /// Lists `/proc`, reading the processes not known by their inode number. False when
    /// `/proc` cannot be listed.
    fn list(&mut self, skip: &[i32], me: u32) -> bool {
        self.listings += 1;
        self.pending.clear();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            self.seen.clear();
            return false;
        };
        let mut seen = HashMap::with_capacity(self.seen.len());
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            // procfs lists ino 1 for an entry it could not make: no identity.
            let ino = Some(entry.ino()).filter(|ino| *ino > 1).unwrap_or(0);
            let known = self
                .seen
                .get(&pid)
                .filter(|known| ino != 0 && known.ino == ino)
                .map(|known| known.place);
            let found = match known {
                Some(place) => Found::Place(place),
                None if skip.contains(&pid) => continue,
                None => identify(pid, me),
            };
            match found {
                Found::Place(place) => {
                    seen.insert(pid, Seen { ino, place });
                }
                Found::Unreadable => self.pending.push(pid),
                Found::Nothing => {}
            }
        }
        self.seen = seen;
        true
    }
}

/// The pids handed out after `before` up to `now`, in the order the kernel hands them
/// out: wrapping around from `pid_max - 1` to 1 (the kernel starts again at 300: the pids
/// below are read for nothing).
fn handed_out_after(
    before: i32,
    now: i32,
    pid_max: i32,
) -> std::iter::Chain<std::ops::RangeInclusive<i32>, std::ops::RangeInclusive<i32>> {
    let (to_max, from_one) = if now >= before {
        (now, 0)
    } else {
        (pid_max - 1, now)
    };
    (before + 1..=to_max).chain(1..=from_one)
}

/// Where listed process `pid` is.
fn identify(pid: i32, me: u32) -> Found {
    if let Some(ns) = procfs::pid_ns(pid) {
        return Found::Place(Place::Ns(ns));
    }
    // The owner of `/proc/PID` is the process's effective uid, dumpable or not.
    procfs::count_read();
    match std::fs::metadata(format!("/proc/{pid}")) {
        Ok(meta) if meta.uid() != me => Found::Place(Place::Foreign),
        Ok(_) => Found::Unreadable,
        Err(_) => Found::Nothing,
    }
}

/// Where the process of a pid handed out since the last pass is, if it is a process.
fn identify_new(pid: i32, me: u32) -> Found {
    let Ok(identity) = Identity::read(pid) else {
        return Found::Nothing;
    };
    if identity.tgid != pid {
        return Found::Nothing;
    }
    match procfs::pid_ns(pid) {
        Some(ns) => Found::Place(Place::Ns(ns)),
        None if identity.euid != me => Found::Place(Place::Foreign),
        None => Found::Unreadable,
    }
}

/// The last pid handed out in the pid namespace `/proc` shows, when that is this
/// process's (the one `ns_last_pid` tells of).
fn last_pid() -> Option<i32> {
    let me = std::fs::read_link("/proc/self").ok()?;
    if me.to_str()?.parse::<u32>().ok()? != std::process::id() {
        return None;
    }
    read_number("/proc/sys/kernel/ns_last_pid")
}

fn read_number(path: &str) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(census: &mut Census, ns: u64) -> (Vec<i32>, u64) {
        let before = procfs::pid_reads();
        let found = census.members(&[ns], &[]).remove(&ns).unwrap_or_default();
        (found, procfs::pid_reads() - before)
    }

    #[test]
    fn a_process_is_read_once_and_a_new_one_is_found_without_a_listing() {
        let me = std::process::id() as i32;
        let ns = procfs::pid_ns(me).unwrap();
        let mut census = Census::default();
        let (first, first_reads) = pass(&mut census, ns);
        assert!(first.contains(&me));
        assert!(first_reads >= first.len() as u64, "{first_reads} reads");
        assert_eq!(census.listings, 1);

        // Started after the listing: found among the pids handed out since.
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        let child_pid = child.id() as i32;
        // A thread takes a pid too, and is no process.
        let (thread_tx, thread_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            thread_tx.send(nix::unistd::gettid().as_raw()).unwrap();
            let _ = stop_rx.recv();
        });
        let tid = thread_rx.recv().unwrap();
        let (second, second_reads) = pass(&mut census, ns);
        stop_tx.send(()).unwrap();
        thread.join().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(census.listings, 1, "the second pass listed /proc");
        assert!(
            second.contains(&me) && second.contains(&child_pid),
            "{second:?}"
        );
        assert!(!second.contains(&tid), "thread {tid} taken for a process");
        // Only the pids handed out meanwhile (by other tests too) were read.
        assert!(
            second_reads < first_reads / 2,
            "{second_reads} of {first_reads}"
        );
    }

    #[test]
    fn the_pids_handed_out_wrap_around_at_pid_max() {
        let pids = |before, now| handed_out_after(before, now, 100).collect::<Vec<i32>>();
        assert_eq!(pids(10, 14), [11, 12, 13, 14]);
        assert_eq!(pids(10, 10), [0; 0]);
        assert_eq!(pids(97, 2), [98, 99, 1, 2]);
        assert_eq!(pids(99, 1), [1]);
    }

    #[test]
    fn a_listing_trusts_what_it_knows_only_while_the_inode_number_is_the_same() {
        let me = std::process::id() as i32;
        let ns = procfs::pid_ns(me).unwrap();
        let mut census = Census::default();
        pass(&mut census, ns);
        let ino = census.seen[&me].ino;
        assert!(ino > 1);
        // A falsified entry for this process, with its inode number, hides it...
        census.seen.insert(
            me,
            Seen {
                ino,
                place: Place::Foreign,
            },
        );
        census.last_pid = None;
        let (hidden, _) = pass(&mut census, ns);
        assert!(!hidden.contains(&me));
        // ...and once the number differs (another process of that pid), it is read again.
        census.seen.insert(
            me,
            Seen {
                ino: ino + 1,
                place: Place::Foreign,
            },
        );
        census.last_pid = None;
        let (found, _) = pass(&mut census, ns);
        assert!(found.contains(&me));
        assert_eq!(census.listings, 3);
    }
}
