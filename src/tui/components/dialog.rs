//! Dialogs over the panes: a text prompt (typing, completion, live validation) and the
//! yes/no questions, with where their answer buttons are. What an accepted prompt or an
//! answer does crosses components, so the app acts on it.

use std::path::{Path, PathBuf};

use ratatui::layout::Rect;

use crate::instance::status::human_bytes;
use crate::tui::action::{Action, Move};
use crate::tui::edit::Field;
use crate::tui::layout::centered;
use crate::tui::prompt::{self, Prompt, PromptKind};
use crate::tui::text::{tilde, wrap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    DeleteProfile {
        name: String,
        path: PathBuf,
        /// The private home, with its size in bytes.
        home: Option<(PathBuf, u64)>,
        /// Instances of it still running.
        live: usize,
        reverts_to_bundled: bool,
    },
    DiscardChanges,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    Prompt(Prompt),
    Confirm(Question),
}

/// What a dialog asks of the app after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogStep {
    /// Still open, as it now is.
    Open(Dialog),
    Closed,
    /// The prompt was accepted: the app acts on it, or puts it back with the reason.
    Submit(Prompt),
    Answer(Question, char),
}

/// A new prompt; one for a shared folder starts with the home's folders to complete.
pub fn open_prompt(kind: PromptKind, home: &Path) -> Dialog {
    let mut prompt = Prompt::new(kind);
    if matches!(
        prompt.kind,
        PromptKind::SharePath | PromptKind::LiveShare { .. }
    ) {
        prompt.candidates = prompt::share_candidates(home, "");
    }
    Dialog::Prompt(prompt)
}

/// An action on an open dialog; `start` is the folder boxtop was started in (relative
/// paths of a launch's arguments are completed there).
pub fn update(dialog: Dialog, action: Action, home: &Path, start: &Path) -> DialogStep {
    match dialog {
        Dialog::Prompt(prompt) => on_prompt(prompt, action, home, start),
        Dialog::Confirm(question) => match action {
            Action::Answer(answer) => DialogStep::Answer(question, answer),
            Action::Back | Action::Quit => DialogStep::Answer(question, 'n'),
            _ => DialogStep::Open(Dialog::Confirm(question)),
        },
    }
}

fn on_prompt(mut prompt: Prompt, action: Action, home: &Path, start: &Path) -> DialogStep {
    let is_launch = matches!(prompt.kind, PromptKind::LaunchArgs { .. });
    match action {
        Action::Back | Action::Quit => return DialogStep::Closed,
        Action::Input(c) => {
            prompt.input.push(c);
            prompt.picked = None;
        }
        Action::Backspace => {
            prompt.input.pop();
            prompt.picked = None;
        }
        Action::ClearInput => {
            prompt.input.clear();
            prompt.picked = None;
        }
        Action::Complete if prompt.kind == PromptKind::SharePath => {
            prompt.input = prompt::complete(&prompt.input, &prompt.candidates);
        }
        Action::Complete if matches!(prompt.kind, PromptKind::OpenFile { .. }) => {
            let candidates = prompt::path_candidates(&prompt.input, home, start);
            prompt.input = prompt::complete_last_word(&prompt.input, &candidates);
        }
        Action::Complete if matches!(prompt.kind, PromptKind::LiveShare { .. }) => {
            prompt.input = prompt::complete(&prompt.input, &prompt.candidates);
        }
        Action::Complete if is_launch => {
            let word = prompt::last_word(&prompt.input).to_string();
            let candidates = prompt::path_candidates(&word, home, start);
            prompt.input = prompt::complete_last_word(&prompt.input, &candidates);
        }
        Action::Complete if prompt.kind == PromptKind::Field(Field::Command) => {
            let word = prompt::last_word(&prompt.input).to_string();
            let candidates = if word.len() == prompt.input.len() {
                prompt::program_candidates(&word, &prompt.apps)
            } else {
                prompt::path_candidates(&word, home, start)
            };
            prompt.input = prompt::complete_last_word(&prompt.input, &candidates);
            prompt.candidates = candidates;
        }
        Action::Complete if prompt.kind == PromptKind::Field(Field::DesktopFile) => {
            let typed = prompt.input.trim().to_string();
            let ids: Vec<String> = (prompt.apps.iter())
                .filter(|app| app.id.starts_with(&typed))
                .map(|app| app.id.clone())
                .collect();
            prompt.input = match ids.as_slice() {
                [only] => only.clone(),
                ids => prompt::complete(&typed, ids),
            };
            prompt.candidates = ids;
        }
        Action::Complete if prompt.offers_apps() => {
            let names: Vec<String> = match prompt.chosen_app() {
                Some(app) => vec![app.profile_name.clone()],
                None => (prompt.matching_apps().iter())
                    .map(|app| app.profile_name.clone())
                    .collect(),
            };
            prompt.input = match names.as_slice() {
                [only] => only.clone(),
                names => prompt::complete(&prompt.input, names),
            };
            prompt.picked = None;
        }
        Action::Move(Move::Up | Move::Down) if prompt.offers_apps() => {
            prompt.pick(action == Action::Move(Move::Down));
        }
        Action::Submit => return DialogStep::Submit(prompt),
        _ => {}
    }
    prompt.error = None;
    if is_launch {
        // What Tab would complete, shown under the input.
        let word = prompt::last_word(&prompt.input);
        prompt.candidates = if word.is_empty() {
            Vec::new()
        } else {
            prompt::path_candidates(word, home, start)
        };
    }
    if matches!(prompt.kind, PromptKind::LiveShare { .. }) {
        prompt.candidates = prompt::share_candidates(home, prompt.input.trim_end_matches(" ro"));
    }
    if prompt.kind == PromptKind::SharePath {
        prompt.candidates = prompt::share_candidates(home, &prompt.input);
        if !prompt.input.is_empty() {
            match crate::tui::edit::parse_share(&prompt.input) {
                Ok(share) => {
                    let checked =
                        crate::profile::validate::check_share_path(&share.path, share.force);
                    if let Err((message, hint)) = checked {
                        prompt.error = Some(format!("{message} ({hint})"));
                    }
                }
                Err(why) => prompt.error = Some(why),
            }
        }
    }
    DialogStep::Open(Dialog::Prompt(prompt))
}

/// How wide a dialog is at most.
pub const WIDTH: u16 = 68;

/// The answer buttons of a question, with the key each presses.
pub fn answers(question: &Question) -> Vec<(&'static str, char)> {
    match question {
        Question::DeleteProfile { home: Some(_), .. } => vec![
            (" y delete the profile ", 'y'),
            (" h and its home ", 'h'),
            (" n cancel ", 'n'),
        ],
        Question::DeleteProfile { .. } => vec![(" y delete ", 'y'), (" n cancel ", 'n')],
        Question::DiscardChanges => vec![(" y discard ", 'y'), (" n keep editing ", 'n')],
    }
}

/// A question's title and paragraphs; paths are written with `~` for `home_dir`.
pub fn question_text(question: &Question, home_dir: &Path) -> (String, Vec<String>) {
    match question {
        Question::DeleteProfile {
            name,
            path,
            home,
            live,
            reverts_to_bundled,
        } => {
            let mut text = vec![format!("Delete {}?", tilde(path, home_dir))];
            if *reverts_to_bundled {
                text.push(format!("The bundled {name} profile will be used again."));
            }
            if *live > 0 {
                text.push(format!(
                    "{live} instance(s) of {name} are running; they keep running."
                ));
            }
            match home {
                Some((dir, size)) => text.push(format!(
                    "Its private home {} ({}) is kept unless you press h.",
                    tilde(dir, home_dir),
                    human_bytes(*size)
                )),
                None => text.push("It has no private home.".into()),
            }
            (format!("Delete the profile {name}"), text)
        }
        Question::DiscardChanges => (
            "Unsaved changes".into(),
            vec!["Close the editor and forget the changes?".into()],
        ),
    }
}

/// The box a dialog of `line_count` lines takes in `area`.
pub fn dialog_rect(line_count: usize, area: Rect) -> Rect {
    centered(area, WIDTH, line_count as u16 + 2)
}

/// The answer under a click, if it was on one of the question's buttons.
pub fn answer_at(
    question: &Question,
    home: &Path,
    area: Rect,
    column: u16,
    row: u16,
) -> Option<char> {
    // The same lines as the drawing, only to know where the buttons are drawn.
    let width = WIDTH.min(area.width) as usize;
    let text_lines: usize = question_text(question, home)
        .1
        .iter()
        .map(|paragraph| wrap(paragraph, width.saturating_sub(2)).len())
        .sum();
    let rect = dialog_rect(text_lines + 2, area);
    let buttons_y = rect.y + 1 + (text_lines + 1) as u16;
    if row != buttons_y {
        return None;
    }
    let mut x = rect.x + 1;
    for (label, answer) in answers(question) {
        let width = label.chars().count() as u16;
        if column >= x && column < x + width {
            return Some(answer);
        }
        x += width + 1;
    }
    None
}
