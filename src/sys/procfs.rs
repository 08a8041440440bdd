//! The few `/proc` files instance status needs, parsed without allocating more than a
//! line: a process's stat, its pid namespace, a network namespace's byte counters; and a
//! count of the per-process entries read, so that a refresh's cost can be checked.

use std::cell::Cell;
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

/// From `/proc/PID/status`: the thread group (process) a pid belongs to, and its
/// effective uid. A thread's id is a pid too, reachable as `/proc/TID` though not listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub tgid: i32,
    pub euid: u32,
}

impl Identity {
    pub fn read(pid: i32) -> std::io::Result<Identity> {
        count_pid_read();
        let mut buf = [0u8; 4096];
        let text = read_small(&format!("/proc/{pid}/status"), &mut buf)?;
        Identity::parse(text).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed /proc status")
        })
    }

    pub fn parse(text: &str) -> Option<Identity> {
        let field = |key: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
                .map(str::split_ascii_whitespace)
        };
        Some(Identity {
            tgid: field("Tgid")?.next()?.parse().ok()?,
            // Real, effective, saved, file system.
            euid: field("Uid")?.nth(1)?.parse().ok()?,
        })
    }
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

/// Counts one `/proc/PID/...` entry read by code outside this module.
pub fn count_read() {
    count_pid_read();
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
    fn identity_is_the_thread_group_and_the_effective_uid() {
        let text = "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4243\nPPid:\t1\nUid:\t1000\t1001\t1000\t1001\n";
        assert_eq!(
            Identity::parse(text),
            Some(Identity {
                tgid: 4242,
                euid: 1001
            })
        );
        assert_eq!(Identity::parse("Tgid:\t1\n"), None);
        let me = Identity::read(std::process::id() as i32).unwrap();
        assert_eq!(me.tgid, std::process::id() as i32);
        assert_eq!(me.euid, nix::unistd::geteuid().as_raw());
    }

    #[test]
    fn net_dev_counts_everything_but_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:    5000      10    0    0    0     0          0         0     5000      10    0    0    0     0       0          0\n  eth0:  123456     100    0    0    0     0          0         0    654321     90    0    0    0     0       0          0\n";
        assert_eq!(parse_net_dev(text), Some((123456, 654321)));
    }
}
