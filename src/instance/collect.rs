//! Turning state files into live status: which instances really run (a pid is checked
//! with its start time), their processes, CPU over the last interval, memory and
//! network bytes. From the instance's cgroup when it has one, else from the processes in
//! its pid namespace, which a [`Census`] kept across refreshes finds by reading only the
//! processes started since the last refresh.

use std::collections::HashMap;
use std::time::Instant;

use super::census::Census;
use super::cgroup;
use super::record::{now, BadRecord, Phase, Record, Store};
use super::status::{State, Status};
use crate::sys::procfs::{self, Stat};

/// Keeps the previous CPU reading of each instance, to compute CPU % over the interval
/// between two calls.
#[derive(Debug)]
pub struct Collector {
    previous: HashMap<String, (Instant, u64)>,
    census: Census,
    ticks: u64,
    page: u64,
}

impl Default for Collector {
    fn default() -> Self {
        Self::new()
    }
}

/// One refresh: every instance, and the state files that could not be read.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub statuses: Vec<Status>,
    pub problems: Vec<BadRecord>,
    /// Notes per instance id (limits not applied...), from the state files.
    pub notes: HashMap<String, Vec<String>>,
    /// How many `/proc/PID/...` entries this refresh read: what its cost follows.
    pub pid_reads: u64,
}

/// What was measured of one live sandbox.
#[derive(Debug, Default, Clone, Copy)]
struct Measure {
    processes: u32,
    cpu_usec: u64,
    memory_bytes: u64,
    paused: bool,
}

impl Collector {
    pub fn new() -> Collector {
        Collector {
            previous: HashMap::new(),
            census: Census::default(),
            ticks: procfs::ticks_per_second(),
            page: procfs::page_size(),
        }
    }

    pub fn collect(&mut self, store: &Store) -> Snapshot {
        let (records, problems) = store.load_all();
        let mut snapshot = self.collect_records(records, problems);
        super::reconcile::settle_listed(store, &mut snapshot.statuses);
        snapshot
    }

    fn collect_records(&mut self, records: Vec<Record>, problems: Vec<BadRecord>) -> Snapshot {
        let reads_before = procfs::pid_reads();
        // Instances without a cgroup are found by their pid namespace in one /proc pass;
        // each of their processes' stat is read once, for liveness and for the figures.
        let wanted: Vec<u64> = records
            .iter()
            .filter(|r| !r.has_ended() && r.init.is_some())
            .filter(|r| !r.cgroup.as_ref().is_some_and(|c| c.exists()))
            .filter_map(|r| r.pid_ns)
            .collect();
        // pid 1 of each sandbox is not dumpable: its namespace cannot be read, it is
        // added to its sandbox's processes by `with_init`.
        let all_inits: Vec<i32> = records
            .iter()
            .filter(|r| !r.has_ended())
            .filter_map(|r| r.init.map(|init| init.pid))
            .collect();
        let members = self.census.members(&wanted, &all_inits);
        let inits = records
            .iter()
            .filter(|r| r.pid_ns.is_some_and(|ns| wanted.contains(&ns)))
            .filter_map(|r| r.init.map(|init| init.pid));
        let stats: HashMap<i32, Stat> = members
            .values()
            .flatten()
            .copied()
            .chain(inits)
            .filter_map(|pid| Stat::read(pid).ok().map(|stat| (pid, stat)))
            .collect();
        let live: Vec<(&Record, bool)> = records
            .iter()
            .map(|r| {
                let alive = !r.has_ended()
                    && r.init.is_some_and(|init| match stats.get(&init.pid) {
                        Some(stat) => stat.start_ticks == init.start && stat.state != 'Z',
                        None => init.is_alive(),
                    });
                (r, alive)
            })
            .collect();
        let when = Instant::now();
        let mut statuses = Vec::with_capacity(records.len());
        let mut seen = Vec::new();
        let mut notes = HashMap::new();
        for (record, alive) in &live {
            let state = self.state_of(record, *alive);
            let mut status = Status {
                id: record.id.clone(),
                profile: record.profile.clone(),
                origin: record.origin,
                state,
                pid: record.init.map(|i| i.pid).filter(|_| *alive),
                started_at: record.started_at,
                ended_at: record.ended_at,
                uptime_secs: record
                    .ended_at
                    .unwrap_or_else(now)
                    .saturating_sub(record.started_at),
                cpu_percent: 0.0,
                memory_bytes: 0,
                processes: 0,
                net_rx_bytes: None,
                net_tx_bytes: None,
                log_problem: record.log_problem.clone(),
                unit: record.unit.clone(),
                ended_by: record.ended_by.clone(),
            };
            if !record.limit_notes.is_empty() {
                notes.insert(record.id.clone(), record.limit_notes.clone());
            }
            if *alive {
                let measure = self.measure(record, &members, &stats);
                status.processes = measure.processes;
                status.memory_bytes = measure.memory_bytes;
                if measure.paused {
                    status.state = State::Paused;
                }
                if let Some((then, cpu)) = self.previous.get(&record.id) {
                    let elapsed = when.duration_since(*then).as_micros() as f64;
                    if elapsed > 0.0 {
                        let used = measure.cpu_usec.saturating_sub(*cpu) as f64;
                        status.cpu_percent = (used / elapsed * 100.0 * 10.0).round() / 10.0;
                    }
                }
                self.previous
                    .insert(record.id.clone(), (when, measure.cpu_usec));
                seen.push(record.id.clone());
                if record.own_network {
                    if let Some((rx, tx)) = record.init.and_then(|i| procfs::net_bytes(i.pid)) {
                        status.net_rx_bytes = Some(rx);
                        status.net_tx_bytes = Some(tx);
                    }
                }
            }
            statuses.push(status);
        }
        self.previous.retain(|id, _| seen.contains(id));
        Snapshot {
            statuses,
            problems,
            notes,
            pid_reads: procfs::pid_reads() - reads_before,
        }
    }

    fn state_of(&self, record: &Record, alive: bool) -> State {
        match &record.phase {
            Phase::Exited { code } => State::Exited { code: *code },
            Phase::Killed { signal } => State::Killed { signal: *signal },
            Phase::Failed { reason } => State::Failed {
                reason: reason.clone(),
            },
            Phase::Starting | Phase::Running if alive => State::Running,
            Phase::Starting if record.supervisor.is_alive() => State::Starting,
            // pid 1 is gone and its end not yet written: the supervisor is writing it.
            Phase::Running if record.supervisor.is_alive() => State::Stopping,
            Phase::Starting | Phase::Running | Phase::Lost => State::Lost,
        }
    }

    fn measure(
        &self,
        record: &Record,
        members: &HashMap<u64, Vec<i32>>,
        stats: &HashMap<i32, Stat>,
    ) -> Measure {
        if let Some(usage) = record.cgroup.as_deref().and_then(cgroup::usage) {
            let memory_bytes = match usage.memory_bytes {
                Some(bytes) => bytes,
                None => self.rss_of_cgroup(record),
            };
            return Measure {
                processes: usage.processes,
                cpu_usec: usage.cpu_usec,
                memory_bytes,
                paused: usage.frozen,
            };
        }
        let pids = record
            .pid_ns
            .and_then(|ns| members.get(&ns))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut measure = Measure::default();
        let mut stopped = 0;
        for pid in with_init(record, pids) {
            let Some(stat) = stats.get(&pid) else {
                continue;
            };
            measure.processes += 1;
            measure.cpu_usec += stat.cpu_ticks * 1_000_000 / self.ticks;
            measure.memory_bytes += stat.rss_pages * self.page;
            if matches!(stat.state, 'T' | 't') {
                stopped += 1;
            }
        }
        measure.paused = measure.processes > 0 && stopped == measure.processes;
        measure
    }

    fn rss_of_cgroup(&self, record: &Record) -> u64 {
        let Some(dir) = &record.cgroup else { return 0 };
        std::fs::read_to_string(dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.trim().parse::<i32>().ok())
            .filter_map(|pid| Stat::read(pid).ok())
            .map(|stat| stat.rss_pages * self.page)
            .sum()
    }
}

/// The host pids of every process of a live instance (for pause without a cgroup).
pub fn pids_of(record: &Record) -> Vec<i32> {
    if let Some(dir) = &record.cgroup {
        if let Ok(text) = std::fs::read_to_string(dir.join("cgroup.procs")) {
            return text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        }
    }
    let Some(ns) = record.pid_ns else {
        return Vec::new();
    };
    let members = super::census::members(&[ns])
        .remove(&ns)
        .unwrap_or_default();
    with_init(record, &members).collect()
}

/// `members` of the sandbox's pid namespace and its pid 1, which is not among them: it is
/// not dumpable, so its namespace cannot be read from outside.
fn with_init<'a>(record: &Record, members: &'a [i32]) -> impl Iterator<Item = i32> + 'a {
    let init = record
        .init
        .map(|init| init.pid)
        .filter(|pid| !members.contains(pid));
    members.iter().copied().chain(init)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instance::record::ProcRef;

    fn record(id: &str, phase: Phase, supervisor: ProcRef, init: Option<ProcRef>) -> Record {
        Record {
            pid_ns: init.and_then(|i| procfs::pid_ns(i.pid)),
            ..crate::instance::record::test_record(id, phase, supervisor, init)
        }
    }

    #[test]
    fn stale_entries_are_never_running() {
        let me = ProcRef::of(std::process::id() as i32).unwrap();
        let gone = ProcRef {
            pid: me.pid,
            start: me.start + 7,
        };
        let mut collector = Collector::new();
        let snapshot = collector.collect_records(
            vec![
                record("alive", Phase::Running, me, Some(me)),
                record("lost", Phase::Running, gone, Some(gone)),
                record("stopping", Phase::Running, me, Some(gone)),
                record("starting", Phase::Starting, me, None),
                record("ended", Phase::Exited { code: 3 }, gone, Some(gone)),
            ],
            Vec::new(),
        );
        let states: Vec<(String, State)> = snapshot
            .statuses
            .iter()
            .map(|s| (s.id.clone(), s.state.clone()))
            .collect();
        assert_eq!(
            states,
            vec![
                ("alive".into(), State::Running),
                ("lost".into(), State::Lost),
                ("stopping".into(), State::Stopping),
                ("starting".into(), State::Starting),
                ("ended".into(), State::Exited { code: 3 }),
            ]
        );
        // The live one is measured: this test process, in the host's pid namespace.
        let alive = &snapshot.statuses[0];
        assert!(alive.processes >= 1 && alive.memory_bytes > 0, "{alive:?}");
        assert_eq!(alive.pid, Some(me.pid));
        assert_eq!(snapshot.statuses[1].pid, None);
    }
}
