//! Dialogs, routed: a prompt or question is the dialog component's until it is accepted
//! or answered; what that does crosses components (a launch, a new profile, an editor
//! change, a deletion), so it is done here.

use super::{App, Screen};
use crate::tui::action::Action;
use crate::tui::components::dialog::{self, Dialog, DialogStep, Question};
use crate::tui::components::editor::is_editor_prompt;
use crate::tui::edit::Field;
use crate::tui::prompt::{self, Prompt, PromptKind};

impl App {
    pub(super) fn open_prompt(&mut self, kind: PromptKind) {
        let mut open = dialog::open_prompt(kind, &self.paths.home);
        if let Dialog::Prompt(prompt) = &mut open {
            prompt.apps = match prompt.kind {
                PromptKind::NewProfile { from: None } => self.apps.clone(),
                PromptKind::AppWithoutProfile => self.apps_without_profile(),
                PromptKind::Field(Field::Command | Field::DesktopFile) => self.apps.clone(),
                _ => Vec::new(),
            };
        }
        self.dialog = Some(open);
    }

    pub(super) fn on_dialog(&mut self, action: Action) {
        let Some(open) = self.dialog.take() else {
            return;
        };
        match dialog::update(open, action, &self.paths.home, &self.start_dir) {
            DialogStep::Open(open) => self.dialog = Some(open),
            DialogStep::Closed => {}
            DialogStep::Submit(mut prompt) => {
                if let Err(why) = self.submit(&prompt) {
                    prompt.error = Some(why);
                    self.dialog = Some(Dialog::Prompt(prompt));
                }
            }
            DialogStep::Answer(question, answer) => self.on_answer(question, answer),
        }
    }

    /// Acts on an accepted prompt; the error keeps the prompt open with the reason.
    pub(super) fn submit(&mut self, prompt: &Prompt) -> Result<(), String> {
        let input = prompt.input.trim();
        match &prompt.kind {
            PromptKind::LaunchArgs { profile } => {
                let args = prompt::split_args(input)?
                    .iter()
                    .map(|arg| prompt::expand_arg(arg, &self.paths.home, &self.start_dir))
                    .collect();
                self.profiles.select(profile);
                self.launch(args);
                Ok(())
            }
            PromptKind::NewProfile { from: None } => match prompt.chosen_app() {
                Some(app) => self.create_for_app(&app.clone()),
                None => self.create_profile(input, None),
            },
            PromptKind::NewProfile { from } => self.create_profile(input, from.as_deref()),
            PromptKind::AppWithoutProfile => match prompt.chosen_app() {
                Some(app) => self.create_for_app(&app.clone()),
                None => Err(format!(
                    "no installed app without a profile matches '{input}'"
                )),
            },
            PromptKind::LiveShare { .. } => {
                let Screen::Instance(view) = &mut self.screen else {
                    return Ok(());
                };
                let home = self.paths.home.clone();
                let text = view.share(input, self.backend.as_mut(), &home)?;
                self.info(text);
                Ok(())
            }
            PromptKind::OpenFile { .. } => {
                let Screen::Instance(view) = &mut self.screen else {
                    return Ok(());
                };
                let (home, start) = (self.paths.home.clone(), self.start_dir.clone());
                let text = view.open_file(input, self.backend.as_mut(), &home, &start)?;
                self.info(text);
                Ok(())
            }
            kind if is_editor_prompt(kind) => match &mut self.screen {
                Screen::Editor(editor) => editor.submit(kind, input, &self.profiles.set),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    pub(super) fn on_answer(&mut self, question: Question, answer: char) {
        match (question, answer) {
            (Question::DeleteProfile { name, path, .. }, 'y') => {
                self.delete_profile(&name, &path, false)
            }
            (
                Question::DeleteProfile {
                    name,
                    path,
                    home: Some(_),
                    live,
                    ..
                },
                'h',
            ) => {
                if live > 0 {
                    self.error(
                        format!("{name} is running: stop it before deleting its home"),
                        None,
                    );
                } else {
                    self.delete_profile(&name, &path, true);
                }
            }
            (Question::DiscardChanges, 'y') => self.screen = Screen::Main,
            (question @ Question::DeleteProfile { .. }, 'h') => {
                self.dialog = Some(Dialog::Confirm(question));
            }
            _ => {}
        }
    }
}
