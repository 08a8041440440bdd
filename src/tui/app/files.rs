//! What the app does to profile files, through the backend (`profile::ops` in the real
//! one): menu and autostart entries, the user's editor, deleting and creating.

use std::path::Path;

use super::{App, External};
use crate::entries::installed::InstalledApp;
use crate::entries::xdg::normalize_id;
use crate::profile::Source;
use crate::tui::components::dialog::{Dialog, Question};
use crate::tui::components::messages::{Level, Message};
use crate::tui::text::{tilde, tilde_in};

impl App {
    /// Adds or removes the selected profile's menu entry (or autostart entry).
    pub(super) fn toggle_entry(&mut self, autostart: bool) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let name = row.name.clone();
        let Some(profile) = row.profile().cloned() else {
            let text = format!("{name} has an error: fix it before adding entries for it");
            self.error(text, Some(name));
            return;
        };
        let result = if autostart {
            self.backend.toggle_autostart(&profile)
        } else {
            self.backend.toggle_desktop_entry(&profile)
        };
        match result {
            Ok(text) => self.info(text),
            Err(why) => self.error(why, Some(name.clone())),
        }
        self.profiles.refresh_entries(&name, self.backend.as_ref());
    }

    /// Opens the selected profile's file in the user's editor; a bundled profile is
    /// first copied to the user's override, as `boxtop edit` does.
    pub(super) fn edit_in_editor(&mut self) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let name = row.name.clone();
        let path = match &row.path {
            Some(path) => path.clone(),
            None => {
                let Some(entry) = self.profiles.set.get(&name) else {
                    return;
                };
                match self.backend.user_copy(entry) {
                    Ok(path) => path,
                    Err(why) => return self.error(why, None),
                }
            }
        };
        let editor = self.backend.editor_command(&path);
        self.external = Some(External {
            command: editor.command,
            note: format!("boxtop: editing {} with {}", path.display(), editor.editor),
            check_status: true,
        });
        self.messages.current = Some(Message {
            level: Level::Info,
            text: format!("edited {}", tilde(&path, &self.paths.home)),
            about: Some(name),
        });
    }

    pub(super) fn ask_delete(&mut self) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let name = row.name.clone();
        let Some(path) = row.path.clone().filter(|_| row.source != Source::Bundled) else {
            let text = format!("{name} is bundled with boxtop and cannot be deleted; edit it to make your own version");
            self.error(text, None);
            return;
        };
        let reverts_to_bundled = row.source == Source::Override;
        let home = self.backend.private_home(&name);
        let live = self.instances.live_count(&name);
        self.dialog = Some(Dialog::Confirm(Question::DeleteProfile {
            name,
            path,
            home,
            live,
            reverts_to_bundled,
        }));
    }

    pub(super) fn delete_profile(&mut self, name: &str, path: &Path, with_home: bool) {
        let result = self.backend.delete_profile(name, path, with_home);
        self.reload_profiles(false);
        let home = &self.paths.home;
        match result {
            Ok(deleted) => {
                let mut text = format!("deleted {}", tilde(&deleted.file, home));
                if let Some(removed) = &deleted.home_removed {
                    text.push_str(&format!(" and {}", tilde(removed, home)));
                } else if let Some(kept) = &deleted.home_kept {
                    text.push_str(&format!("; its home {} is kept", tilde(kept, home)));
                }
                self.info(text);
            }
            Err(err) => self.error(tilde_in(&err.to_string(), home), None),
        }
    }

    /// Writes a new profile through the backend (validated there) and opens it in the
    /// editor.
    pub(super) fn create_profile(&mut self, name: &str, from: Option<&str>) -> Result<(), String> {
        if self.profiles.row_named(name).is_some() {
            return Err(format!("a profile named '{name}' already exists"));
        }
        let path = self
            .backend
            .create_profile(&self.profiles.set, name, from)
            .map_err(|err| tilde_in(&err, &self.paths.home))?;
        self.profiles.filter.clear();
        self.reload_profiles(false);
        self.profiles.select(name);
        self.info(format!("wrote {}", tilde(&path, &self.paths.home)));
        self.open_editor();
        Ok(())
    }

    /// Writes the profile boxtop suggests for an installed app (through the backend,
    /// validated there), selects it and opens it in the editor. The app's own name is
    /// taken, or the first free `NAME-2`, `NAME-3`...
    pub(super) fn create_for_app(&mut self, app: &InstalledApp) -> Result<(), String> {
        let base = &app.profile_name;
        let name = std::iter::once(base.clone())
            .chain((2..100).map(|n| format!("{base}-{n}")))
            .find(|name| self.profiles.row_named(name).is_none())
            .ok_or_else(|| format!("no free profile name for {}: type one", app.title))?;
        let path = self
            .backend
            .create_from_app(&self.profiles.set, &name, app)
            .map_err(|err| tilde_in(&err, &self.paths.home))?;
        self.profiles.filter.clear();
        self.reload_profiles(false);
        self.profiles.select(&name);
        self.info(format!(
            "wrote {} for {} from its menu entry: check its grants",
            tilde(&path, &self.paths.home),
            app.title
        ));
        self.open_editor();
        Ok(())
    }

    /// The installed apps no profile names in `desktop_file`.
    pub(crate) fn apps_without_profile(&self) -> Vec<InstalledApp> {
        let named: Vec<String> = (self.profiles.rows.iter())
            .filter_map(|row| row.profile()?.desktop_file.as_deref())
            .filter_map(normalize_id)
            .collect();
        (self.apps.iter())
            .filter(|app| !named.contains(&app.id))
            .cloned()
            .collect()
    }

    /// Says once, at start, how many installed apps have no profile (Esc dismisses it,
    /// `i` lists them). Another message (a broken profile) goes first.
    pub(super) fn offer_apps(&mut self) {
        let count = self.apps_without_profile().len();
        if count == 0 || self.messages.current.is_some() {
            return;
        }
        let apps = if count == 1 {
            "1 installed app has".to_string()
        } else {
            format!("{count} installed apps have")
        };
        self.info(format!(
            "{apps} no profile: make one? i lists them, Esc dismisses this"
        ));
    }
}
