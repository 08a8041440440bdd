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
}

impl State {
    pub fn is_live(&self) -> bool {
        matches!(self, State::Starting | State::Running | State::Paused)
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

/// One instance with its latest measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub id: String,
    pub profile: String,
    pub origin: Origin,
    pub state: State,
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
}
