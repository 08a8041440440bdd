//! The profiles list: every profile (bundled and the user's) with what the backend knows
//! of it, the filter typed after `/`, and the selection. Reloading keeps a profile whose
//! file turned invalid at its last good version.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::profile::risk::{self, Grant, Risk};
use crate::profile::{Profile, ProfileSet, Source};
use crate::tui::action::{Action, Move};
use crate::tui::backend::{Backend, EntryState};
use crate::tui::layout::offset_for;
use crate::tui::text::tilde_in;

use super::messages::{Level, Message};
use super::moved;

/// What one profile row knows.
#[derive(Debug, Clone)]
pub enum RowState {
    Ok(Profile),
    /// The file cannot be used, and no good version of it was seen.
    Broken(String),
    /// The file was changed into something invalid: the last good version is kept.
    Stale {
        profile: Profile,
        error: String,
    },
}

#[derive(Debug, Clone)]
pub struct ProfileRow {
    pub name: String,
    pub source: Source,
    /// As shown to the user: a path, or `bundled:NAME.toml`.
    pub file: String,
    pub path: Option<PathBuf>,
    pub state: RowState,
    pub installed: bool,
    pub entries: EntryState,
    pub grants: Vec<Grant>,
}

impl ProfileRow {
    pub fn profile(&self) -> Option<&Profile> {
        match &self.state {
            RowState::Ok(profile) | RowState::Stale { profile, .. } => Some(profile),
            RowState::Broken(_) => None,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match &self.state {
            RowState::Ok(_) => None,
            RowState::Broken(error) | RowState::Stale { error, .. } => Some(error),
        }
    }

    pub fn highest(&self) -> Option<Risk> {
        self.grants.first().map(|grant| grant.risk)
    }

    pub fn description(&self) -> &str {
        self.profile()
            .map_or("", |profile| profile.description.as_str())
    }
}

/// Reads the profiles each time they are (re)loaded.
pub type Loader = Box<dyn Fn() -> ProfileSet + Send>;

pub struct Profiles {
    load: Loader,
    pub set: ProfileSet,
    pub rows: Vec<ProfileRow>,
    pub filter: String,
    pub filtering: bool,
    /// Index into the visible (filtered) rows.
    pub selected: usize,
    pub offset: usize,
}

impl Profiles {
    /// An empty list; `reload` fills it.
    pub fn new(load: Loader) -> Self {
        Self {
            load,
            set: ProfileSet::default(),
            rows: Vec::new(),
            filter: String::new(),
            filtering: false,
            selected: 0,
            offset: 0,
        }
    }

    /// Indices into `rows` of the profiles the filter lets through.
    pub fn visible(&self) -> Vec<usize> {
        let filter = self.filter.to_lowercase();
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, row)| {
                filter.is_empty()
                    || row.name.to_lowercase().contains(&filter)
                    || row.description().to_lowercase().contains(&filter)
            })
            .map(|(index, _)| index)
            .collect()
    }

    pub fn selected_row(&self) -> Option<&ProfileRow> {
        self.visible()
            .get(self.selected)
            .map(|&index| &self.rows[index])
    }

    pub fn row_named(&self, name: &str) -> Option<&ProfileRow> {
        self.rows.iter().find(|row| row.name == name)
    }

    pub fn select(&mut self, name: &str) {
        if let Some(position) = self
            .visible()
            .iter()
            .position(|&index| self.rows[index].name == name)
        {
            self.selected = position;
        }
    }

    /// Moves the selection; says whether it moved (the detail then starts at its top).
    pub fn move_selection(&mut self, movement: Move, page: usize) -> bool {
        let before = self.selected;
        self.selected = moved(self.selected, self.visible().len(), page, movement);
        before != self.selected
    }

    /// Selects the visible row `index` (a click); says whether the selection changed.
    pub fn click(&mut self, index: usize) -> bool {
        if index >= self.visible().len() {
            return false;
        }
        let changed = index != self.selected;
        self.selected = index;
        changed
    }

    /// Typing in the filter; false for an action that is not about it.
    pub fn on_filter(&mut self, action: &Action) -> bool {
        if !self.filtering {
            return false;
        }
        match action {
            Action::Input(c) => {
                self.filter.push(*c);
                self.selected = 0;
            }
            Action::Backspace => {
                self.filter.pop();
                self.selected = 0;
            }
            Action::ClearInput => self.filter.clear(),
            Action::Submit => self.filtering = false,
            _ => return false,
        }
        true
    }

    /// Keeps the selection inside the list and on its `rows` lines.
    pub fn fix_scroll(&mut self, rows: usize) {
        let count = self.visible().len();
        self.selected = self.selected.min(count.saturating_sub(1));
        self.offset = offset_for(self.offset, self.selected, rows);
    }

    /// Reads every profile again. A profile whose file turned invalid keeps its last good
    /// version (shown with the error); one never seen valid is listed as broken. Returns
    /// the message about the first profile that newly went wrong (none at the `first`
    /// load).
    pub fn reload(&mut self, backend: &dyn Backend, home: &Path, first: bool) -> Option<Message> {
        let set = (self.load)();
        let selected = self.selected_row().map(|row| row.name.clone());
        let previous: HashMap<String, ProfileRow> = std::mem::take(&mut self.rows)
            .into_iter()
            .map(|row| (row.name.clone(), row))
            .collect();
        let mut rows = Vec::new();
        let mut new_errors = Vec::new();
        for entry in set.entries() {
            let before = previous.get(&entry.name);
            let state = match set.resolve(&entry.name) {
                Ok(profile) => RowState::Ok(profile),
                Err(err) => {
                    let error = tilde_in(&err.to_string(), home);
                    if before.and_then(ProfileRow::error) != Some(error.as_str()) {
                        new_errors.push((entry.name.clone(), error.clone()));
                    }
                    match before.and_then(ProfileRow::profile) {
                        Some(profile) => RowState::Stale {
                            profile: profile.clone(),
                            error,
                        },
                        None => RowState::Broken(error),
                    }
                }
            };
            rows.push(row(
                backend,
                entry.name.clone(),
                entry.source,
                &entry.file,
                entry.path.clone(),
                state,
            ));
        }
        for problem in set.problems() {
            let path = PathBuf::from(&problem.file);
            let name = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .unwrap_or(&problem.file)
                .to_string();
            let path = path.is_absolute().then_some(path);
            let state = RowState::Broken(tilde_in(&problem.to_string(), home));
            rows.push(row(backend, name, Source::User, &problem.file, path, state));
        }
        self.rows = rows;
        self.set = set;
        let message = match new_errors.into_iter().next() {
            Some((name, error)) if !first => {
                let stale = matches!(
                    self.row_named(&name).map(|row| &row.state),
                    Some(RowState::Stale { .. })
                );
                let text = if stale {
                    format!("{name}: keeping the last good version; {error}")
                } else {
                    error
                };
                Some(Message {
                    level: Level::Error,
                    text,
                    about: Some(name),
                })
            }
            _ => None,
        };
        if let Some(name) = selected {
            self.select(&name);
        }
        message
    }

    /// Reads a profile's menu and autostart entries again.
    pub fn refresh_entries(&mut self, name: &str, backend: &dyn Backend) {
        let entries = backend.entry_state(name);
        if let Some(row) = self.rows.iter_mut().find(|row| row.name == name) {
            row.entries = entries;
        }
    }
}

fn row(
    backend: &dyn Backend,
    name: String,
    source: Source,
    file: &str,
    path: Option<PathBuf>,
    state: RowState,
) -> ProfileRow {
    let (installed, grants) = match &state {
        RowState::Ok(profile) | RowState::Stale { profile, .. } => {
            (backend.is_installed(profile), risk::summarize(profile))
        }
        RowState::Broken(_) => (false, Vec::new()),
    };
    ProfileRow {
        entries: backend.entry_state(&name),
        name,
        source,
        file: file.to_string(),
        path,
        state,
        installed,
        grants,
    }
}
