//! `boxtop ps`, `stop`, `kill`, `pause`, `resume`, `enter`, `logs`: the command-line
//! face of the instance module.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use boxtop::escape;
use boxtop::instance::collect::Collector;
use boxtop::instance::control::{self, ControlError, StopStep};
use boxtop::instance::launch;
use boxtop::instance::logs;
use boxtop::instance::record::{Record, Store};
use boxtop::instance::status::{human_bytes, human_duration, State, Status};
use boxtop::json_output::Schema;
use boxtop::paths::Paths;
use boxtop::{errln, outln};

use super::Exit;

/// `boxtop ps`: the live instances (starting, running, paused, stopping), and with
/// `all` the ended and lost ones too, as `docker ps` does.
pub fn ps(paths: &Paths, json: bool, all: bool, interval_ms: u64) -> Result<ExitCode> {
    let store = launch::store(paths);
    let mut collector = Collector::new();
    let mut snapshot = collector.collect(&store);
    // CPU % needs two readings.
    if snapshot.statuses.iter().any(|s| s.state.is_live()) && interval_ms > 0 {
        std::thread::sleep(Duration::from_millis(interval_ms));
        snapshot = collector.collect(&store);
    }
    if !all {
        snapshot.statuses.retain(|status| status.state.is_live());
    }
    for problem in &snapshot.problems {
        errln!("boxtop: warning: {problem}");
    }
    if json {
        #[derive(serde::Serialize)]
        struct Listed {
            instances: serde_json::Value,
        }
        let listed = Listed {
            instances: super::live::with_shares_added(paths, &snapshot.statuses)?,
        };
        escape::out_json(&Schema::PS.to_pretty(&listed)?);
    } else {
        escape::out(&table(&snapshot.statuses));
        for (id, notes) in &snapshot.notes {
            if snapshot
                .statuses
                .iter()
                .any(|s| &s.id == id && s.state.is_live())
            {
                for note in notes {
                    outln!("note: {id}: {note}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn table(statuses: &[Status]) -> String {
    let mut out = format!(
        "{:<24} {:<18} {:<10} {:>8} {:>6} {:>7} {:>5} {:>15}  {}\n",
        "ID", "PROFILE", "STATE", "UPTIME", "CPU%", "MEM", "PROCS", "NET RX/TX", "FROM"
    );
    for status in statuses {
        let live = status.state.is_live();
        let dash = || "-".to_string();
        let net = match (status.net_rx_bytes, status.net_tx_bytes) {
            (Some(rx), Some(tx)) if live => format!("{}/{}", human_bytes(rx), human_bytes(tx)),
            _ => dash(),
        };
        out.push_str(&format!(
            "{:<24} {:<18} {:<10} {:>8} {:>6} {:>7} {:>5} {:>15}  {}\n",
            status.id,
            status.profile,
            status.state.label(),
            human_duration(status.uptime_secs),
            if live {
                format!("{:.1}", status.cpu_percent)
            } else {
                dash()
            },
            if live {
                human_bytes(status.memory_bytes)
            } else {
                dash()
            },
            if live {
                status.processes.to_string()
            } else {
                dash()
            },
            net,
            status.origin.label(),
        ));
        match &status.state {
            State::Failed { reason } => out.push_str(&format!("    failed: {reason}\n")),
            State::Lost => out.push_str(
                "    lost: its supervisor and its sandbox ended without recording how; \
                 UPTIME is until it was found so\n",
            ),
            _ => {}
        }
        if let Some(problem) = &status.log_problem {
            out.push_str(&format!("    log: {problem}\n"));
        }
        if let Some(unit) = &status.unit {
            out.push_str(&format!("    unit: {unit}\n"));
        }
        if let Some(by) = status.ended_by.as_ref().filter(|_| !live) {
            out.push_str(&format!("    ended: {by}\n"));
        }
    }
    out
}

/// Runs `act` on every instance the targets name; reports each failure and goes on.
fn each(
    paths: &Paths,
    targets: &[String],
    mut act: impl FnMut(&Store, &Record) -> Result<String, ControlError>,
) -> Result<ExitCode> {
    let store = launch::store(paths);
    let mut failed = false;
    for target in targets {
        let records = match control::resolve(&store, target) {
            Ok(records) => records,
            Err(err) => {
                errln!("boxtop: {err}");
                failed = true;
                continue;
            }
        };
        for record in &records {
            match act(&store, record) {
                Ok(line) => outln!("{line}"),
                Err(err) => {
                    errln!("boxtop: {err}");
                    failed = true;
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn outcome(record: &Record) -> String {
    use boxtop::instance::record::Phase;
    match &record.phase {
        Phase::Exited { code } => format!("{}: exited with code {code}", record.id),
        Phase::Killed { signal } => format!("{}: killed by signal {signal}", record.id),
        Phase::Failed { reason } => format!("{}: failed: {reason}", record.id),
        Phase::Lost => format!("{}: ended, how is unknown (lost)", record.id),
        Phase::Starting | Phase::Running => format!("{}: ended", record.id),
    }
}

pub fn stop(paths: &Paths, targets: &[String], timeout: u64) -> Result<ExitCode> {
    each(paths, targets, |store, record| {
        let stopped = control::stop_by_steps(store, record, Duration::from_secs(timeout))?;
        if let Some(problem) = &stopped.windows_problem {
            errln!(
                "boxtop: {}: warning: its windows could not be asked to close ({problem}): \
                 SIGTERM was sent instead",
                record.id
            );
        }
        let step = match stopped.step {
            StopStep::Closed { windows: 1 } => "after its window was asked to close".into(),
            StopStep::Closed { windows } => {
                format!("after its {windows} windows were asked to close")
            }
            StopStep::Terminated => "after SIGTERM".into(),
            StopStep::Killed => format!("by SIGKILL, still running after {timeout} s"),
        };
        Ok(format!("{} ({step})", outcome(&stopped.record)))
    })
}

pub fn kill(paths: &Paths, targets: &[String]) -> Result<ExitCode> {
    each(paths, targets, |store, record| {
        control::kill(store, record).map(|r| outcome(&r))
    })
}

pub fn pause(paths: &Paths, targets: &[String], paused: bool) -> Result<ExitCode> {
    each(paths, targets, |_, record| {
        if paused {
            control::pause(record).map(|()| format!("{}: paused", record.id))
        } else {
            control::resume(record).map(|()| format!("{}: resumed", record.id))
        }
    })
}

/// The one instance a target names, or an error saying why not.
pub(super) fn one(store: &Store, target: &str) -> Result<Record> {
    let mut records =
        control::resolve(store, target).map_err(|err| Exit::message(1, err.to_string()))?;
    if records.len() > 1 {
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        return Err(Exit::message(
            1,
            format!(
                "profile '{target}' has {} running instances ({}): name one",
                records.len(),
                ids.join(", ")
            ),
        )
        .into());
    }
    Ok(records.remove(0))
}

pub fn enter(paths: &Paths, target: &str, command: &[String]) -> Result<ExitCode> {
    let store = launch::store(paths);
    let record = one(&store, target)?;
    match control::enter(&record, command) {
        Ok(code) => Ok(ExitCode::from(code.clamp(0, 255) as u8)),
        Err(err) => Err(Exit::message(125, err.to_string()).into()),
    }
}

pub fn logs(paths: &Paths, target: &str, follow: bool) -> Result<ExitCode> {
    let store = launch::store(paths);
    let record = match control::resolve(&store, target) {
        // A profile with no running instance: its latest one, which has ended.
        Err(ControlError::Unknown(_)) => match control::latest_of_profile(&store, target) {
            Some(latest) => {
                errln!(
                    "boxtop: '{target}' has no running instance: the log of its latest, {} ({})",
                    latest.id,
                    outcome(&latest)
                        .split_once(": ")
                        .map_or("ended", |(_, how)| how)
                );
                latest
            }
            None => one(&store, target)?,
        },
        _ => one(&store, target)?,
    };
    let Some(path) = record.log.clone() else {
        return Err(Exit::message(
            1,
            format!(
                "instance {} ran in a terminal (not --detach): its output went there",
                record.id
            ),
        )
        .into());
    };
    // On a terminal, the app's output cannot drive it (`logs::printable`); piped, it is
    // passed on byte for byte.
    let stdout = std::io::stdout().lock();
    let mut out: Box<dyn std::io::Write> = if std::io::IsTerminal::is_terminal(&stdout) {
        Box::new(logs::PrintableWriter::new(stdout))
    } else {
        Box::new(stdout)
    };
    let result = if follow {
        let id = record.id.clone();
        logs::follow(&path, &mut out, || {
            store
                .load(&id)
                .map(|r| r.has_ended() || !r.supervisor.is_alive())
                .unwrap_or(true)
        })
    } else {
        logs::read(&path).and_then(|bytes| out.write_all(&bytes))
    };
    // What the log could not hold is said where the log is read: after it, and in the
    // exit code, since what was printed is not all the app wrote.
    let problem = store
        .load(&record.id)
        .ok()
        .and_then(|record| record.log_problem)
        .or(record.log_problem);
    let broken_pipe = |err: &std::io::Error| err.kind() == std::io::ErrorKind::BrokenPipe;
    if let Some(problem) = problem {
        let _ = out.flush();
        let mut message = format!(
            "instance {}: its output is not all in its log: {problem}",
            record.id
        );
        if let Err(err) = &result {
            if !broken_pipe(err) {
                message.push_str(&format!("; cannot read the log {}: {err}", path.display()));
            }
        }
        return Err(Exit::message(1, message).into());
    }
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) if broken_pipe(&err) => Ok(ExitCode::SUCCESS),
        Err(err) => {
            Err(Exit::message(1, format!("cannot read the log {}: {err}", path.display())).into())
        }
    }
}
