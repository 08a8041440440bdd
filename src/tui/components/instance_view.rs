//! The detail view of one running instance: its effective grants (the profile's, with
//! the shares and the network changed while it runs, each marked), the risk summary of
//! the whole, and the live changes: share a folder (a prompt with completion), take a
//! share back, switch the network, save a live share into the profile. Every change
//! goes through the backend (`instance::live`, `instance::live_net`), and the view is
//! read again after it.

use std::path::PathBuf;

use crate::instance::grants::Grants;
use crate::profile::{Access, Network, ProfileSet};
use crate::tui::action::Action;
use crate::tui::backend::Backend;
use crate::tui::prompt::PromptKind;

use super::moved;

/// One row of the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantRow {
    Network,
    /// A share of the profile, by its index in `profile_shares`.
    Profile(usize),
    /// A share beyond the profile's, by its index in `added`.
    Added(usize),
}

/// What the view asks of the app after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceStep {
    Stay,
    Close,
    Help,
    Prompt(PromptKind),
    Said(Result<String, String>),
}

#[derive(Debug, Clone)]
pub struct InstanceView {
    pub id: String,
    pub profile: String,
    pub grants: Option<Grants>,
    /// Why the grants could not be read.
    pub error: Option<String>,
    pub selected: usize,
}

impl InstanceView {
    pub fn open(backend: &mut dyn Backend, id: &str, profile: &str) -> Self {
        let mut view = Self {
            id: id.to_string(),
            profile: profile.to_string(),
            grants: None,
            error: None,
            selected: 0,
        };
        view.reload(backend);
        view
    }

    /// Reads the grants again (after a change, and at each tick: a change made from
    /// the command line shows too).
    pub fn reload(&mut self, backend: &mut dyn Backend) {
        match backend.grants(&self.id, &self.profile) {
            Ok(grants) => {
                self.grants = Some(grants);
                self.error = None;
            }
            Err(why) => self.error = Some(why),
        }
        self.selected = self.selected.min(self.rows().len().saturating_sub(1));
    }

    pub fn rows(&self) -> Vec<GrantRow> {
        let Some(grants) = &self.grants else {
            return Vec::new();
        };
        std::iter::once(GrantRow::Network)
            .chain((0..grants.profile_shares.len()).map(GrantRow::Profile))
            .chain((0..grants.added.len()).map(GrantRow::Added))
            .collect()
    }

    fn selected_row(&self) -> Option<GrantRow> {
        self.rows().get(self.selected).cloned()
    }

    /// The home-relative path of the selected share row.
    fn selected_share(&self) -> Option<(String, Access, bool)> {
        let grants = self.grants.as_ref()?;
        match self.selected_row()? {
            GrantRow::Network => None,
            GrantRow::Profile(i) => {
                let (path, mode) = grants.profile_shares.get(i)?;
                Some((path.clone(), *mode, false))
            }
            GrantRow::Added(i) => {
                let share = grants.added.get(i)?;
                Some((share.path.clone(), share.mode, true))
            }
        }
    }

    pub fn update(
        &mut self,
        action: Action,
        page: usize,
        backend: &mut dyn Backend,
        set: &ProfileSet,
        home: &std::path::Path,
    ) -> InstanceStep {
        match action {
            Action::Back | Action::Quit => InstanceStep::Close,
            Action::ToggleHelp => InstanceStep::Help,
            Action::Move(movement) => {
                self.selected = moved(self.selected, self.rows().len(), page, movement);
                InstanceStep::Stay
            }
            Action::ShareLive => InstanceStep::Prompt(PromptKind::LiveShare {
                id: self.id.clone(),
            }),
            Action::OpenFile => InstanceStep::Prompt(PromptKind::OpenFile {
                id: self.id.clone(),
            }),
            Action::UnshareLive => {
                let Some((path, _, _)) = self.selected_share() else {
                    return InstanceStep::Said(Err(
                        "select a share to take back (↑↓), then press u".into(),
                    ));
                };
                let said = backend.unshare_live(&self.id, &home.join(&path));
                self.reload(backend);
                InstanceStep::Said(said)
            }
            Action::ToggleNetwork => {
                let Some(now) = self.grants.as_ref().and_then(Grants::network_now) else {
                    return InstanceStep::Said(Err(format!(
                        "the network of {} is not known",
                        self.id
                    )));
                };
                let want = match now {
                    Network::None => Network::Isolated,
                    Network::Isolated => Network::None,
                    Network::Host => {
                        return InstanceStep::Said(Err(format!(
                            "{} shares this machine's network: it cannot be switched while it runs",
                            self.id
                        )))
                    }
                };
                let said = backend.set_network(&self.id, want);
                self.reload(backend);
                InstanceStep::Said(said)
            }
            Action::SaveLive => {
                let Some((path, mode, true)) = self.selected_share() else {
                    return InstanceStep::Said(Err(
                        "select a share marked live to save it into the profile".into(),
                    ));
                };
                if PathBuf::from(&path).is_absolute() {
                    return InstanceStep::Said(Err(format!(
                        "{path} is outside the home: a profile shares folders of the home only"
                    )));
                }
                let said = backend
                    .save_share(set, &self.profile, path.as_ref(), mode)
                    .map(|file| format!("saved ~/{path} into {}", file.display()));
                self.reload(backend);
                InstanceStep::Said(said)
            }
            _ => InstanceStep::Stay,
        }
    }

    /// Shares `input` (`PATH` relative to the home, `PATH ro` for read-only), from the
    /// prompt.
    pub fn share(
        &mut self,
        input: &str,
        backend: &mut dyn Backend,
        home: &std::path::Path,
    ) -> Result<String, String> {
        let (path, mode) = match input.trim().strip_suffix(" ro") {
            Some(path) => (path.trim(), Access::Ro),
            None => (input.trim(), Access::Rw),
        };
        if path.is_empty() {
            return Err("type a folder of your home (Tab completes)".into());
        }
        let path = path
            .strip_prefix("~/")
            .unwrap_or(path)
            .trim_end_matches('/');
        let said = backend.share_live(&self.id, &home.join(path), mode);
        self.reload(backend);
        if said.is_ok() {
            if let Some(row) = self
                .rows()
                .iter()
                .rposition(|row| matches!(row, GrantRow::Added(_)))
            {
                self.selected = row;
            }
        }
        said
    }

    /// Opens the file `input` names (`~/...`, absolute, or relative to `start`) in the
    /// instance, from the prompt.
    pub fn open_file(
        &mut self,
        input: &str,
        backend: &mut dyn Backend,
        home: &std::path::Path,
        start: &std::path::Path,
    ) -> Result<String, String> {
        let input = input.trim();
        if input.is_empty() {
            return Err("type a file of your home (Tab completes)".into());
        }
        let path = PathBuf::from(crate::tui::prompt::expand_arg(input, home, start));
        let said = backend.open_in(&self.id, &path);
        self.reload(backend);
        said
    }
}
