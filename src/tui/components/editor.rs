//! The profile editor: a draft of the file (`tui::edit`), the effective profile it gives,
//! its rows (grants, then shares, D-Bus names and variables with an "add" row each), and
//! the changes the keys make. A change is kept only when the draft still resolves.

use std::path::{Path, PathBuf};

use crate::profile::risk::{self, Grant};
use crate::profile::schema::{Access, Audio, Display, Network, Share};
use crate::profile::validate::normalize_relative;
use crate::profile::{Profile, ProfileSet};
use crate::tui::action::Action;
use crate::tui::backend::Backend;
use crate::tui::edit::{self, BusList, Draft, Field};
use crate::tui::prompt::PromptKind;
use crate::tui::text::{audio_str, display_str, network_str, on_off};

use super::moved;
use super::profiles::{ProfileRow, RowState};

/// One editable line of the profile editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditRow {
    Display,
    Audio,
    Network,
    Gpu,
    Webcam,
    Userns,
    Ephemeral,
    Share {
        share: Share,
        own: bool,
    },
    AddShare,
    Bus {
        list: BusList,
        name: String,
        own: bool,
    },
    AddBus(BusList),
    Env {
        name: String,
        value: String,
        own: bool,
    },
    AddEnv,
    /// A key typed as text: the program, limits, binds, system bus names.
    Field(Field),
}

/// The profile editor: a draft of the file and the effective profile it gives.
#[derive(Debug, Clone)]
pub struct EditorState {
    pub draft: Draft,
    /// The effective profile as saved, to show how the risk changes.
    pub saved: Profile,
    pub preview: Profile,
    pub rows: Vec<EditRow>,
    pub selected: usize,
    pub offset: usize,
    /// The last change and what it grants now.
    pub last_change: Option<(String, Option<Grant>)>,
    /// Why the last change was refused.
    pub error: Option<String>,
}

/// What the editor asks of the app after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorStep {
    Stay,
    Close,
    /// Close, once the user agrees to lose the changes.
    AskDiscard,
    Prompt(PromptKind),
    Help,
    /// Saved to `path`; `created_override` when a bundled profile became the user's.
    Saved {
        name: String,
        path: PathBuf,
        created_override: bool,
        /// How it was written (an override as its changes, or whole).
        how: crate::profile::ops::Saved,
    },
}

/// The grant of the risk summary an editor row stands for.
pub fn grant_for(grants: &[Grant], row: &EditRow) -> Option<Grant> {
    let wanted = |grant: &&Grant| match row {
        EditRow::Display => grant.what.starts_with("Display:"),
        EditRow::Audio => grant.what.starts_with("Audio:"),
        EditRow::Network => grant.what.starts_with("Network:"),
        EditRow::Gpu => grant.what == "GPU",
        EditRow::Webcam => grant.what == "Webcam",
        EditRow::Userns => grant.what == "Nested user namespaces",
        EditRow::Share { share, .. } => {
            let mode = match share.mode {
                Access::Ro => "read-only",
                Access::Rw => "read-write",
            };
            grant.what == format!("~/{} ({mode})", normalize_relative(&share.path))
        }
        EditRow::Bus { list, name, .. } => {
            grant.what == format!("D-Bus (session): {} {name}", list.verb())
        }
        _ => false,
    };
    grants.iter().find(wanted).cloned()
}

impl EditorState {
    /// The editor over the profile of `row`, or the error to show (and the profile it is
    /// about).
    pub fn open(
        row: &ProfileRow,
        set: &ProfileSet,
        user_dir: &Path,
    ) -> Result<Self, (String, Option<String>)> {
        let name = row.name.clone();
        let saved = match &row.state {
            RowState::Ok(profile) => profile.clone(),
            RowState::Broken(error) | RowState::Stale { error, .. } => {
                let text = format!("{error}; press E to fix the file in your editor");
                return Err((text, Some(name)));
            }
        };
        let Some(entry) = set.get(&name) else {
            return Err((format!("{name} has no file to edit here; press E"), None));
        };
        let draft = Draft::open(entry, user_dir).map_err(|err| (err.to_string(), Some(name)))?;
        let mut editor = EditorState {
            draft,
            preview: saved.clone(),
            saved,
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            last_change: None,
            error: None,
        };
        editor.rows = editor_rows(&editor.draft, &editor.preview);
        Ok(editor)
    }

    pub fn grant_for(&self, row: &EditRow) -> Option<Grant> {
        grant_for(&risk::summarize(&self.preview), row)
    }

    /// `page` is the number of rows on screen; `set` resolves the draft.
    pub fn update(
        &mut self,
        action: Action,
        page: usize,
        set: &ProfileSet,
        backend: &mut dyn Backend,
    ) -> EditorStep {
        let Some(row) = self.rows.get(self.selected).cloned() else {
            return EditorStep::Stay;
        };
        match action {
            Action::Move(movement) => {
                self.selected = moved(self.selected, self.rows.len(), page, movement);
            }
            Action::ToggleHelp => return EditorStep::Help,
            Action::Back | Action::Quit => {
                return if self.draft.is_changed() {
                    EditorStep::AskDiscard
                } else {
                    EditorStep::Close
                };
            }
            Action::Cycle(_) if matches!(row, EditRow::Field(_)) => {}
            Action::Cycle(forward) => self.change(&row, forward, set),
            Action::Activate => match row {
                EditRow::AddShare => return EditorStep::Prompt(PromptKind::SharePath),
                EditRow::AddBus(list) => return EditorStep::Prompt(PromptKind::BusName(list)),
                EditRow::AddEnv => return EditorStep::Prompt(PromptKind::EnvVar),
                EditRow::Field(field) => return EditorStep::Prompt(PromptKind::Field(field)),
                EditRow::Env { .. } => {}
                row => self.change(&row, true, set),
            },
            Action::Add => {
                return EditorStep::Prompt(match row {
                    EditRow::Bus { list, .. } | EditRow::AddBus(list) => PromptKind::BusName(list),
                    EditRow::Env { .. } | EditRow::AddEnv => PromptKind::EnvVar,
                    // The text rows come after the variables: `a` adds one there.
                    EditRow::Field(_) => PromptKind::EnvVar,
                    _ => PromptKind::SharePath,
                });
            }
            Action::Remove => match row {
                EditRow::Share { share, .. } => self.apply(
                    format!("removed the share of ~/{}", normalize_relative(&share.path)),
                    &EditRow::AddShare,
                    set,
                    |draft| draft.remove_share(&share.path),
                ),
                EditRow::Bus { list, name, .. } => self.apply(
                    format!("removed D-Bus {} {name}", list.verb()),
                    &EditRow::AddBus(list),
                    set,
                    |draft| draft.remove_bus_name(list, &name),
                ),
                EditRow::Env { name, .. } => self.apply(
                    format!("removed the variable {name}"),
                    &EditRow::AddEnv,
                    set,
                    |draft| draft.remove_env(&name),
                ),
                EditRow::Field(field) => {
                    self.apply(format!("removed {}", field.key()), &row, set, |draft| {
                        draft.set_field(field, "")
                    })
                }
                _ => {}
            },
            Action::Save => return self.save(backend, set),
            _ => {}
        }
        EditorStep::Stay
    }

    /// Cycles or toggles the value of a row.
    fn change(&mut self, row: &EditRow, forward: bool, set: &ProfileSet) {
        let profile = &self.preview;
        match row {
            EditRow::Display => {
                const ALL: [Display; 4] =
                    [Display::None, Display::Wayland, Display::X11, Display::Auto];
                let next = cycle(&ALL, profile.display, forward);
                let (from, to) = (display_str(profile.display), display_str(next));
                self.apply(format!("display {from} → {to}"), row, set, |draft| {
                    draft.set_choice("display", to);
                    Ok(())
                });
            }
            EditRow::Audio => {
                const ALL: [Audio; 4] =
                    [Audio::None, Audio::Pulseaudio, Audio::Pipewire, Audio::Auto];
                let next = cycle(&ALL, profile.audio, forward);
                let (from, to) = (audio_str(profile.audio), audio_str(next));
                self.apply(format!("audio {from} → {to}"), row, set, |draft| {
                    draft.set_choice("audio", to);
                    Ok(())
                });
            }
            EditRow::Network => {
                const ALL: [Network; 3] = [Network::None, Network::Host, Network::Isolated];
                let next = cycle(&ALL, profile.network, forward);
                let (from, to) = (network_str(profile.network), network_str(next));
                self.apply(format!("network {from} → {to}"), row, set, |draft| {
                    draft.set_choice("network", to);
                    Ok(())
                });
            }
            EditRow::Gpu | EditRow::Webcam | EditRow::Userns => {
                let (key, label, value) = match row {
                    EditRow::Gpu => ("gpu", "GPU", profile.gpu),
                    EditRow::Webcam => ("webcam", "webcam", profile.webcam),
                    _ => (
                        "allow_userns",
                        "nested user namespaces",
                        profile.allow_userns,
                    ),
                };
                let next = !value;
                self.apply(format!("{label} {}", on_off(next)), row, set, |draft| {
                    draft.set_flag(key, next);
                    Ok(())
                });
            }
            EditRow::Ephemeral => {
                let next = !profile.home.ephemeral;
                let what = if next {
                    "private home: forgotten at exit"
                } else {
                    "private home: kept between runs"
                };
                self.apply(what.into(), row, set, |draft| draft.set_ephemeral(next));
            }
            EditRow::Share { share, .. } => {
                let mode = match share.mode {
                    Access::Ro => Access::Rw,
                    Access::Rw => Access::Ro,
                };
                let changed = Share {
                    mode,
                    ..share.clone()
                };
                let what = format!(
                    "~/{} {} → {}",
                    normalize_relative(&share.path),
                    share.mode.as_str(),
                    mode.as_str()
                );
                let new_row = EditRow::Share {
                    share: changed,
                    own: true,
                };
                let share = share.clone();
                self.apply(what, &new_row, set, |draft| {
                    draft.set_share_mode(&share, mode)
                });
            }
            _ => {}
        }
    }

    /// Applies a change to a copy of the draft; keeps it only when the result is a valid
    /// profile. `row` is the row to select afterwards (and whose grant is shown).
    fn apply(
        &mut self,
        what: String,
        row: &EditRow,
        set: &ProfileSet,
        change: impl FnOnce(&mut Draft) -> Result<(), edit::EditError>,
    ) {
        let mut draft = self.draft.clone();
        if let Err(err) = change(&mut draft) {
            self.error = Some(err.to_string());
            return;
        }
        let text = draft.text();
        match edit::resolve_text(set, &draft.name, &draft.file, &text) {
            Ok(preview) => {
                self.draft = draft;
                self.preview = preview;
                self.rows = editor_rows(&self.draft, &self.preview);
                self.error = None;
                let target = row_key(row);
                if let Some(position) = self.rows.iter().position(|r| row_key(r) == target) {
                    self.selected = position;
                }
                self.selected = self.selected.min(self.rows.len().saturating_sub(1));
                let grant = self
                    .rows
                    .get(self.selected)
                    .and_then(|row| self.grant_for(row))
                    .filter(|_| row_key(row) == row_key(&self.rows[self.selected]));
                self.last_change = Some((what, grant));
            }
            Err(err) => self.error = Some(format!("refused: {err}")),
        }
    }

    /// `apply` for prompts: a refused change keeps the prompt open with the reason.
    fn apply_or_fail(
        &mut self,
        what: String,
        row: &EditRow,
        set: &ProfileSet,
        change: impl FnOnce(&mut Draft) -> Result<(), edit::EditError>,
    ) -> Result<(), String> {
        self.apply(what, row, set, change);
        match self.error.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Acts on an accepted prompt of the editor (a share, a D-Bus name, a variable); the
    /// error keeps the prompt open with the reason.
    pub fn submit(
        &mut self,
        kind: &PromptKind,
        input: &str,
        set: &ProfileSet,
    ) -> Result<(), String> {
        match kind {
            PromptKind::SharePath => {
                let share = edit::parse_share(input)?;
                let path = normalize_relative(&share.path);
                let mut what = format!("shared ~/{path} ({})", share.mode.as_str());
                for (flag, on) in [("create", share.create), ("force", share.force)] {
                    if on {
                        what.push_str(&format!(" +{flag}"));
                    }
                }
                let row = EditRow::Share {
                    share: share.clone(),
                    own: true,
                };
                self.apply_or_fail(what, &row, set, |draft| draft.add_share_with(&share))
            }
            PromptKind::BusName(list) => {
                let list = *list;
                let row = EditRow::Bus {
                    list,
                    name: input.to_string(),
                    own: true,
                };
                self.apply_or_fail(
                    format!("D-Bus: may {} {input}", list.verb()),
                    &row,
                    set,
                    |draft| draft.add_bus_name(list, input),
                )
            }
            PromptKind::EnvVar => {
                let (name, value) = input
                    .split_once('=')
                    .ok_or_else(|| "write NAME=VALUE".to_string())?;
                let row = EditRow::Env {
                    name: name.trim().to_string(),
                    value: value.to_string(),
                    own: true,
                };
                self.apply_or_fail(format!("set {}={value}", name.trim()), &row, set, |draft| {
                    draft.set_env(name.trim(), value)
                })
            }
            PromptKind::Field(field) => {
                let field = *field;
                let what = match input.trim() {
                    "" => format!("removed {}", field.key()),
                    typed => format!("{} = {typed}", field.key()),
                };
                self.apply_or_fail(what, &EditRow::Field(field), set, |draft| {
                    draft.set_field(field, input)
                })
            }
            PromptKind::LaunchArgs { .. }
            | PromptKind::NewProfile { .. }
            | PromptKind::AppWithoutProfile
            | PromptKind::LiveShare { .. }
            | PromptKind::OpenFile { .. } => Ok(()),
        }
    }

    /// Writes the draft through the backend; an unchanged one only closes the editor.
    fn save(&mut self, backend: &mut dyn Backend, set: &ProfileSet) -> EditorStep {
        if !self.draft.is_changed() && !self.draft.creates_override {
            return EditorStep::Close;
        }
        let created_override = self.draft.creates_override;
        let saved = backend.save_profile(
            set,
            &self.draft.name,
            &self.draft.target,
            &self.draft.text(),
        );
        match saved {
            Ok(how) => {
                self.draft.mark_saved();
                EditorStep::Saved {
                    name: self.draft.name.clone(),
                    path: self.draft.target.clone(),
                    created_override,
                    how,
                }
            }
            Err(err) => {
                self.error = Some(err);
                EditorStep::Stay
            }
        }
    }

    /// Selects row `index` (a click), if there is one.
    pub fn click(&mut self, index: usize) {
        if index < self.rows.len() {
            self.selected = index;
        }
    }

    /// Keeps the selection inside the rows and on its `rows` lines.
    pub fn fix_scroll(&mut self, rows: usize) {
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.offset = crate::tui::layout::offset_for(self.offset, self.selected, rows);
    }
}

/// Whether a prompt belongs to the editor.
pub fn is_editor_prompt(kind: &PromptKind) -> bool {
    matches!(
        kind,
        PromptKind::SharePath | PromptKind::BusName(_) | PromptKind::EnvVar | PromptKind::Field(_)
    )
}

/// The rows of the editor: the grants, then the lists with an "add" row each.
fn editor_rows(draft: &Draft, profile: &Profile) -> Vec<EditRow> {
    let mut rows = vec![
        EditRow::Display,
        EditRow::Audio,
        EditRow::Network,
        EditRow::Gpu,
        EditRow::Webcam,
        EditRow::Userns,
        EditRow::Ephemeral,
    ];
    for share in &profile.home.share {
        rows.push(EditRow::Share {
            own: draft.owns_share(&share.path),
            share: share.clone(),
        });
    }
    rows.push(EditRow::AddShare);
    for list in BusList::ALL {
        let names = match list {
            BusList::Talk => &profile.dbus.talk,
            BusList::Own => &profile.dbus.own,
            BusList::See => &profile.dbus.see,
        };
        for name in names {
            rows.push(EditRow::Bus {
                list,
                name: name.clone(),
                own: draft.owns_bus_name(list, name),
            });
        }
        rows.push(EditRow::AddBus(list));
    }
    for (name, value) in &profile.env {
        rows.push(EditRow::Env {
            name: name.clone(),
            value: value.clone(),
            own: draft.owns_env(name),
        });
    }
    rows.push(EditRow::AddEnv);
    rows.extend(Field::ALL.map(EditRow::Field));
    rows
}

/// What identifies a row across changes (a share keeps its row when its mode changes).
fn row_key(row: &EditRow) -> String {
    match row {
        EditRow::Share { share, .. } => format!("share:{}", normalize_relative(&share.path)),
        EditRow::Bus { list, name, .. } => format!("bus:{}:{name}", list.key()),
        EditRow::Env { name, .. } => format!("env:{name}"),
        other => format!("{other:?}"),
    }
}

fn cycle<T: Copy + PartialEq>(all: &[T], current: T, forward: bool) -> T {
    let index = all.iter().position(|value| *value == current).unwrap_or(0);
    let next = if forward {
        (index + 1) % all.len()
    } else {
        (index + all.len() - 1) % all.len()
    };
    all[next]
}
