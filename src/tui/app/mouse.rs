//! Clicks and the wheel: each lands on the pane, row or button drawn under it (the same
//! `layout` and footer placement the drawing uses) and does what its key would.

use super::{App, Screen};
use crate::tui::action::{Action, Move};
use crate::tui::components::dialog::{self, Dialog};
use crate::tui::components::{contains, Focus};
use crate::tui::keymap;

impl App {
    pub(super) fn on_click(&mut self, column: u16, row: u16) {
        let areas = self.areas();
        if let Some(action) = keymap::footer_button_at(self.context(), areas.footer, column, row) {
            self.update(action);
            return;
        }
        if let Some(Dialog::Confirm(question)) = &self.dialog {
            if let Some(answer) =
                dialog::answer_at(question, &self.paths.home, areas.main, column, row)
            {
                self.update(Action::Answer(answer));
            }
            return;
        }
        if self.dialog.is_some() || self.help.is_open() {
            return;
        }
        match &mut self.screen {
            Screen::Editor(editor) => {
                let list = areas.editor_list();
                if contains(list, column, row) {
                    editor.click(editor.offset + usize::from(row - list.y));
                }
            }
            Screen::Logs(_) | Screen::Instance(_) => {}
            Screen::Main => {
                let profiles = areas.profile_list();
                let instances = areas.instance_list();
                if contains(areas.profiles, column, row) {
                    self.focus = Focus::Profiles;
                    if contains(profiles, column, row) {
                        let index = self.profiles.offset + usize::from(row - profiles.y);
                        if self.profiles.click(index) {
                            self.detail.reset();
                        }
                    }
                } else if contains(areas.instances, column, row) {
                    self.focus = Focus::Instances;
                    if contains(instances, column, row) {
                        self.instances
                            .click(self.instances.offset + usize::from(row - instances.y));
                    }
                }
            }
        }
    }

    pub(super) fn on_wheel(&mut self, column: u16, row: u16, down: bool) {
        let areas = self.areas();
        let movement = if down { Move::Down } else { Move::Up };
        if self.help.is_open() {
            self.on_help(Action::Move(movement));
            return;
        }
        if self.dialog.is_some() {
            return;
        }
        match &self.screen {
            Screen::Editor(_) => self.on_editor(Action::Move(movement)),
            Screen::Instance(_) => self.on_instance_view(Action::Move(movement)),
            Screen::Logs(_) => {
                for _ in 0..3 {
                    self.on_logs(Action::Move(movement));
                }
            }
            Screen::Main => {
                if contains(areas.detail, column, row) {
                    self.detail.scroll_by(if down { 3 } else { -3 });
                } else if contains(areas.instances, column, row) {
                    self.focus = Focus::Instances;
                    self.on_main(Action::Move(movement));
                } else if contains(areas.profiles, column, row) {
                    self.focus = Focus::Profiles;
                    self.on_main(Action::Move(movement));
                }
            }
        }
    }
}
