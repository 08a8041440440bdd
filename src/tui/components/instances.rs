//! The instances pane: running and recently ended sandboxes as the backend lists them,
//! a minute of CPU history each, the selection, and what the keys do to the selected one.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::instance::status::{State, Status};
use crate::tui::action::Move;
use crate::tui::backend::Backend;
use crate::tui::layout::offset_for;

use super::logs::Logs;
use super::{moved, External};

pub struct Instances {
    pub list: Vec<Status>,
    pub error: Option<String>,
    /// State files that could not be read at the last refresh, as the backend says them.
    pub unreadable: Vec<String>,
    /// CPU percent of each instance over the last minute, oldest first.
    pub history: HashMap<String, VecDeque<u64>>,
    pub selected: usize,
    pub offset: usize,
    /// How many CPU samples make a minute at the refresh interval.
    history_len: usize,
    /// Every ended instance is listed, not only the latest (`a`, as `ps --all`).
    pub show_all_ended: bool,
    /// Ended instances left out of `list` (older than the latest `RECENT_ENDED`).
    pub hidden_ended: usize,
}

/// How many ended instances are listed, the latest first, unless all are asked for:
/// the pane is for what runs now, as `boxtop ps` without `--all`.
pub const RECENT_ENDED: usize = 5;

/// How many instances are running, paused and ended: the header and the pane's title
/// say the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Live but not paused (starting, running, stopping).
    pub running: usize,
    pub paused: usize,
    /// Listed ended ones.
    pub ended: usize,
}

impl Instances {
    pub fn new(refresh: Duration) -> Self {
        let refresh = refresh.max(Duration::from_millis(100));
        let history_len =
            (Duration::from_secs(60).as_millis() / refresh.as_millis()).clamp(2, 600) as usize;
        Self {
            list: Vec::new(),
            error: None,
            unreadable: Vec::new(),
            history: HashMap::new(),
            selected: 0,
            offset: 0,
            history_len,
            show_all_ended: false,
            hidden_ended: 0,
        }
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for status in &self.list {
            match &status.state {
                State::Paused => counts.paused += 1,
                state if state.is_live() => counts.running += 1,
                _ => counts.ended += 1,
            }
        }
        counts
    }

    /// `a`: every ended instance, or only the latest again.
    pub fn toggle_all_ended(&mut self, backend: &mut dyn Backend) -> String {
        self.show_all_ended = !self.show_all_ended;
        self.refresh(backend);
        if self.show_all_ended {
            "listing every ended instance (a: only the latest)".into()
        } else {
            format!("listing the {RECENT_ENDED} latest ended instances (a: all)")
        }
    }

    pub fn selected(&self) -> Option<&Status> {
        self.list.get(self.selected)
    }

    /// Running (or starting, or paused) instances of a profile.
    pub fn live_count(&self, profile: &str) -> usize {
        self.list
            .iter()
            .filter(|status| status.profile == profile && status.state.is_live())
            .count()
    }

    /// Selects the instance `id`, if it is listed.
    pub fn select_id(&mut self, id: &str) {
        if let Some(position) = self.list.iter().position(|status| status.id == id) {
            self.selected = position;
        }
    }

    pub fn move_selection(&mut self, movement: Move, page: usize) {
        self.selected = moved(self.selected, self.list.len(), page, movement);
    }

    /// Selects row `index` (a click), if there is one.
    pub fn click(&mut self, index: usize) {
        if index < self.list.len() {
            self.selected = index;
        }
    }

    /// Keeps the selection inside the list and on its `rows` lines.
    pub fn fix_scroll(&mut self, rows: usize) {
        self.selected = self.selected.min(self.list.len().saturating_sub(1));
        self.offset = offset_for(self.offset, self.selected, rows);
    }

    /// Lists the instances again (live ones first, oldest first; then the ended, latest
    /// first) and adds a CPU sample to each live one's history.
    pub fn refresh(&mut self, backend: &mut dyn Backend) {
        let selected = self.selected().map(|status| status.id.clone());
        match backend.instances() {
            Ok(mut list) => {
                list.sort_by(|a, b| {
                    b.state
                        .is_live()
                        .cmp(&a.state.is_live())
                        .then_with(|| match a.state.is_live() {
                            true => a.started_at.cmp(&b.started_at),
                            false => b.ended_at.cmp(&a.ended_at),
                        })
                        .then_with(|| a.id.cmp(&b.id))
                });
                self.hidden_ended = 0;
                if !self.show_all_ended {
                    // Sorted: the ended come after the live, the latest first.
                    let live = list.iter().filter(|s| s.state.is_live()).count();
                    let keep = live + RECENT_ENDED;
                    self.hidden_ended = list.len().saturating_sub(keep);
                    list.truncate(keep);
                }
                let keep = self.history_len;
                self.history
                    .retain(|id, _| list.iter().any(|status| &status.id == id));
                for status in &list {
                    let samples = self.history.entry(status.id.clone()).or_default();
                    if status.state.is_live() {
                        samples.push_back(status.cpu_percent.max(0.0).round() as u64);
                    }
                    while samples.len() > keep {
                        samples.pop_front();
                    }
                }
                self.list = list;
                self.error = None;
                self.unreadable = backend.unreadable();
            }
            Err(err) => {
                self.list.clear();
                self.error = Some(err);
            }
        }
        if let Some(id) = selected {
            self.select_id(&id);
        }
    }

    /// Stops, kills, pauses or resumes (`verb`) the selected instance through `act`, then
    /// lists again. `None` without a selection; else the message to show.
    pub fn act(
        &mut self,
        backend: &mut dyn Backend,
        verb: &str,
        act: impl FnOnce(&mut dyn Backend, &str) -> Result<(), String>,
    ) -> Option<Result<String, String>> {
        let status = self.selected()?;
        let (id, profile) = (status.id.clone(), status.profile.clone());
        if !status.state.is_live() {
            return Some(Err(format!("{profile} ({id}) has already ended")));
        }
        let result = match act(backend, &id) {
            Ok(()) => Ok(format!("{verb}: {profile} ({id})")),
            Err(why) => Err(format!("cannot {verb} {profile} ({id}): {why}")),
        };
        self.refresh(backend);
        Some(result)
    }

    /// Pauses the selected instance, or resumes it when it is paused.
    pub fn toggle_pause(&mut self, backend: &mut dyn Backend) -> Option<Result<String, String>> {
        let paused = self
            .selected()
            .is_some_and(|status| status.state == State::Paused);
        if paused {
            self.act(backend, "resume", |backend, id| backend.resume(id))
        } else {
            self.act(backend, "pause", |backend, id| backend.pause(id))
        }
    }

    /// The log view of the selected instance.
    pub fn open_logs(&self, backend: &dyn Backend) -> Option<Result<Logs, String>> {
        let status = self.selected()?;
        let title = format!("{} ({})", status.profile, status.id);
        let Some(path) = backend.log_path(&status.id) else {
            return Some(Err(format!("no log is kept for {title}")));
        };
        Some(Ok(Logs::open(title, path)))
    }

    /// A shell inside the selected instance, with the message to show once it exits.
    pub fn shell(&self, backend: &dyn Backend) -> Option<Result<(External, String), String>> {
        let status = self.selected()?;
        let label = format!("{} ({})", status.profile, status.id);
        if status.state != State::Running {
            return Some(Err(format!("{label} is not running")));
        }
        Some(match backend.enter_command(&status.id) {
            Some(command) => Ok((
                External {
                    command,
                    note: format!("boxtop: a shell inside {label}; exit it to return"),
                    check_status: false,
                },
                format!("left the shell of {label}"),
            )),
            None => Err(format!("cannot open a shell inside {label}")),
        })
    }
}
