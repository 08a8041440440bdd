//! The few `/proc` files instance status needs, parsed without allocating more than a
//! line: a process's stat, its pid namespace, a network namespace's byte counters; and a
//! count of the per-process entries read, so that a refresh's cost can be checked.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::Read;

thread_local! {
    /// `/proc/PID/...` entries read (opened, or their link or owner read) by this thread.
    static PID_READS: Cell<u64> = const { Cell::new(0) };
}

/// How many `/proc/PID/...` entries this thread has read so far: the difference between
/// two calls is what the code in between read.
pub fn pid_reads() -> u64 {
    PID_READS.with(Cell::get)
}

fn count_pid_read() {
    PID_READS.with(|reads| reads.set(reads.get() + 1));
}

/// Fields of `/proc/PID/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// R, S, D, T (stopped), t, Z, X...
    pub state: char,
    pub ppid: i32,
    /// utime + stime + cutime + cstime, in clock ticks: the process's CPU time with that
    /// of the children it has reaped.
    pub cpu_ticks: u64,
    pub start_ticks: u64,
    /// Resident pages.
    pub rss_pages: u64,
}

impl Stat {
    pub fn read(pid: i32) -> std::io::Result<Stat> {
        count_pid_read();
        let mut buf = [0u8; 1024];
        let text = read_small(&format!("/proc/{pid}/stat"), &mut buf)?;
        Stat::parse(text).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed /proc stat")
        })
    }

    pub fn parse(text: &str) -> Option<Stat> {
        // The command name is in parentheses and may itself hold spaces and ')'.
        let rest = &text[text.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
        let num = |i: usize| -> Option<u64> { fields.get(i)?.parse().ok() };
        let cpu = num(11)? + num(12)? + num(13)? + num(14)?;
        Some(Stat {
            state: fields.first()?.chars().next()?,
            ppid: fields.get(1)?.parse().ok()?,
            cpu_ticks: cpu,
            start_ticks: num(19)?,
            rss_pages: num(21)?,
        })
    }
}

fn read_small<'a>(path: &str, buf: &'a mut [u8]) -> std::io::Result<&'a str> {
    let mut file = std::fs::File::open(path)?;
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..])? {
            0 => break,
            n => len += n,
        }
    }
    std::str::from_utf8(&buf[..len])
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not utf-8"))
}

/// The inode of a process's pid namespace, or `None` when it cannot be read (gone, or
/// another user's).
pub fn pid_ns(pid: i32) -> Option<u64> {
    count_pid_read();
    ns_inode(&format!("/proc/{pid}/ns/pid"))
}

fn ns_inode(link: &str) -> Option<u64> {
    let target = std::fs::read_link(link).ok()?;
    let text = target.to_str()?;
    text.split_once(":[")?.1.strip_suffix(']')?.parse().ok()
}

/// Which pid namespace each process listed in `/proc` is in, remembered from one pass to
/// the next, so that a refresh reads the `/proc/PID` entries of new processes only, not
/// of every host process each time.
///
/// A process never changes pid namespace, so what was read of it holds for its whole
/// life; listing `/proc` gives, with each pid, the inode number of its `/proc/PID`
/// folder, which is made anew for each process (a pid used again gets another), so an
/// entry is used only while both match. Not remembered, so read again each pass: this
/// user's processes whose namespace cannot be read now (not dumpable, as an app is
/// between the fork and the exec that starts it).
///
/// Why not `cgroup.procs` or `/proc/PID/task/TID/children` from pid 1: the first is
/// used instead of this when the instance has a cgroup; the second needs
/// CONFIG_PROC_CHILDREN, which many kernels lack, and misses a command run by
/// `boxtop enter`, whose parent is outside the sandbox.
#[derive(Debug, Default)]
pub struct Census {
    seen: HashMap<i32, Seen>,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    /// Inode number of its `/proc/PID` folder: which process of that pid this is.
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

impl Census {
    /// This user's processes in each of `namespaces`, from one listing of `/proc`.
    /// `skip` are pids known to be unreadable (each sandbox's pid 1): never read.
    pub fn members(&mut self, namespaces: &[u64], skip: &[i32]) -> HashMap<u64, Vec<i32>> {
        let mut out: HashMap<u64, Vec<i32>> = HashMap::new();
        if namespaces.is_empty() {
            return out;
        }
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return out;
        };
        let me = nix::unistd::geteuid().as_raw();
        let mut seen = HashMap::with_capacity(self.seen.len());
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
                continue;
            };
            use std::os::unix::fs::DirEntryExt;
            let ino = entry.ino();
            let known = self
                .seen
                .get(&pid)
                // procfs lists ino 1 for an entry it could not make: no identity.
                .filter(|known| ino > 1 && known.ino == ino)
                .map(|known| known.place);
            let place = match known {
                Some(place) => Some(place),
                None if skip.contains(&pid) => None,
                None => place_of(pid, me),
            };
            let Some(place) = place else { continue };
            if ino > 1 {
                seen.insert(pid, Seen { ino, place });
            }
            if let Place::Ns(ns) = place {
                if namespaces.contains(&ns) {
                    out.entry(ns).or_default().push(pid);
                }
            }
        }
        self.seen = seen;
        out
    }
}

/// Where process `pid` is, read from `/proc`; `None` when it cannot be told now (gone,
/// or this user's and not dumpable).
fn place_of(pid: i32, me: u32) -> Option<Place> {
    if let Some(ns) = pid_ns(pid) {
        return Some(Place::Ns(ns));
    }
    // The owner of `/proc/PID` is the process's effective uid, dumpable or not.
    use std::os::unix::fs::MetadataExt;
    count_pid_read();
    let owner = std::fs::metadata(format!("/proc/{pid}")).ok()?.uid();
    (owner != me).then_some(Place::Foreign)
}

/// Every process of this user, grouped by the pid namespaces asked for, each read now.
pub fn members(namespaces: &[u64]) -> HashMap<u64, Vec<i32>> {
    Census::default().members(namespaces, &[])
}

/// Bytes received and sent on every interface but `lo`, from a `/proc/PID/net/dev`.
pub fn net_bytes(pid: i32) -> Option<(u64, u64)> {
    count_pid_read();
    let mut buf = [0u8; 16 * 1024];
    let text = read_small(&format!("/proc/{pid}/net/dev"), &mut buf).ok()?;
    parse_net_dev(text)
}

pub fn parse_net_dev(text: &str) -> Option<(u64, u64)> {
    let mut rx = 0;
    let mut tx = 0;
    for line in text.lines().skip(2) {
        let (name, counters) = line.split_once(':')?;
        if name.trim() == "lo" {
            continue;
        }
        let fields: Vec<u64> = counters
            .split_ascii_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        rx += fields.first()?;
        tx += fields.get(8)?;
    }
    Some((rx, tx))
}

/// Clock ticks per second (`getconf CLK_TCK`).
pub fn ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|t| *t > 0)
        .map(|t| t as u64)
        .unwrap_or(100)
}

pub fn page_size() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .filter(|t| *t > 0)
        .map(|t| t as u64)
        .unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_a_strange_command_name() {
        let line = "1234 (a b) c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 5555 1000000 250 18446744073709551615";
        let stat = Stat::parse(line).unwrap();
        assert_eq!(stat.state, 'S');
        assert_eq!(stat.ppid, 1);
        assert_eq!(stat.cpu_ticks, 7 + 3 + 2 + 1);
        assert_eq!(stat.start_ticks, 5555);
        assert_eq!(stat.rss_pages, 250);
        assert!(Stat::parse("garbage").is_none());
    }

    #[test]
    fn reads_this_process() {
        let stat = Stat::read(std::process::id() as i32).unwrap();
        assert!(stat.start_ticks > 0 && stat.rss_pages > 0);
        assert!(pid_ns(std::process::id() as i32).is_some());
    }

    #[test]
    fn a_census_reads_a_process_once_and_again_only_when_its_pid_is_a_new_process() {
        let ns = pid_ns(std::process::id() as i32).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let mut census = Census::default();
        let pass = |census: &mut Census| {
            let before = pid_reads();
            let found = census.members(&[ns], &[]).remove(&ns).unwrap_or_default();
            (found, pid_reads() - before)
        };
        let (first, first_reads) = pass(&mut census);
        let (second, second_reads) = pass(&mut census);
        assert!(
            first.contains(&pid) && second.contains(&pid),
            "{pid} not found"
        );
        // The first pass reads every process; the second only those started meanwhile
        // by other tests of this binary.
        assert!(first_reads >= first.len() as u64, "{first_reads} reads");
        assert!(
            second_reads < first_reads / 2,
            "{second_reads} of {first_reads}"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        // What is remembered is used while the inode number of /proc/PID matches: a
        // falsified entry for this process hides it...
        let me = std::process::id() as i32;
        let ino = census.seen[&me].ino;
        census.seen.insert(
            me,
            Seen {
                ino,
                place: Place::Foreign,
            },
        );
        let (third, _) = pass(&mut census);
        assert!(!third.contains(&me) && !third.contains(&pid));
        // ...and once the inode number differs (another process with that pid), it is
        // read again.
        census.seen.insert(
            me,
            Seen {
                ino: ino + 1,
                place: Place::Foreign,
            },
        );
        let (fourth, _) = pass(&mut census);
        assert!(fourth.contains(&me));
    }

    #[test]
    fn net_dev_counts_everything_but_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:    5000      10    0    0    0     0          0         0     5000      10    0    0    0     0       0          0\n  eth0:  123456     100    0    0    0     0          0         0    654321     90    0    0    0     0       0          0\n";
        assert_eq!(parse_net_dev(text), Some((123456, 654321)));
    }
}
