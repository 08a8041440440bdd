//! What is known about one sandbox instance at a moment: the data `boxtop ps` prints and
//! the TUI draws.

use serde::{Deserialize, Serialize};

/// The life of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum State {
    /// Launched, the app not yet executed.
    Starting,
    Running,
    /// Frozen (cgroup freezer or SIGSTOP).
    Paused,
    /// The app ended by itself with this exit code.
    Exited {
        code: i32,
    },
    /// The app was killed by this signal.
    Killed {
        signal: i32,
    },
    /// The sandbox could not be started.
    Failed {
        reason: String,
    },
    /// The app has ended and its supervisor is recording how.
    Stopping,
    /// The app and its supervisor are gone without a recorded end (killed together, or
    /// the end could not be written): it is not running, and how it ended is unknown.
    Lost,
}

impl State {
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            State::Starting | State::Running | State::Paused | State::Stopping
        )
    }

    /// One word or two: `running`, `exited 0`, `killed 9`, `failed`.
    pub fn label(&self) -> String {
        match self {
            State::Starting => "starting".into(),
            State::Running => "running".into(),
            State::Paused => "paused".into(),
            State::Exited { code } => format!("exited {code}"),
            State::Killed { signal } => format!("killed {signal}"),
            State::Failed { .. } => "failed".into(),
            State::Stopping => "stopping".into(),
            State::Lost => "lost".into(),
        }
    }
}

/// Who started an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    #[default]
    Cli,
    Tui,
    Desktop,
    Autostart,
}

impl Origin {
    pub fn label(self) -> &'static str {
        match self {
            Origin::Cli => "cli",
            Origin::Tui => "tui",
            Origin::Desktop => "desktop",
            Origin::Autostart => "autostart",
        }
    }
}

/// One instance with its latest measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub id: String,
    pub profile: String,
    pub origin: Origin,
    pub state: State,
    /// The sandbox's pid 1 as the host sees it, while it runs.
    pub pid: Option<i32>,
    /// Seconds since the Unix epoch.
    pub started_at: u64,
    pub ended_at: Option<u64>,
    /// Seconds the instance has run (until it ended).
    pub uptime_secs: u64,
    /// CPU use over the last interval, in percent of one core.
    pub cpu_percent: f64,
    /// Memory of all the sandbox's processes, in bytes.
    pub memory_bytes: u64,
    pub processes: u32,
    /// Network bytes, for sandboxes with their own network namespace.
    pub net_rx_bytes: Option<u64>,
    pub net_tx_bytes: Option<u64>,
    /// Why some of its output could not be written to its log.
    #[serde(default)]
    pub log_problem: Option<String>,
    /// The systemd scope it runs in, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Who ended it from outside (its scope stopped by the systemd manager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
}

/// `12.3 MiB` style sizes.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "K", "M", "G", "T"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else if value < 10.0 {
        format!("{value:.1}{}", UNITS[unit])
    } else {
        format!("{value:.0}{}", UNITS[unit])
    }
}

/// `42s`, `12m05s`, `3h02m`, `2d04h`.
pub fn human_duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..=86399 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86400, secs % 86400 / 3600),
    }
}
