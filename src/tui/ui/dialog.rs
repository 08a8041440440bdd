//! Dialogs drawn over the panes: a text prompt (with completions and live validation)
//! and yes/no questions with clickable answers.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Widget};

use super::layout::centered;
use super::theme::Theme;
use super::{human_bytes, wrap};
use crate::tui::app::{tilde, App, Dialog, Question};
use crate::tui::prompt::Prompt;

const WIDTH: u16 = 68;

pub fn render(app: &App, dialog: &Dialog, area: Rect, buf: &mut Buffer, theme: &Theme) {
    match dialog {
        Dialog::Prompt(prompt) => render_prompt(prompt, area, buf, theme),
        Dialog::Confirm(question) => {
            let (title, text) = question_text(app, question);
            let width = WIDTH.min(area.width) as usize;
            let mut lines: Vec<Line> = text
                .iter()
                .flat_map(|paragraph| wrap(paragraph, width.saturating_sub(2)))
                .map(Line::raw)
                .collect();
            lines.push(Line::raw(""));
            let mut buttons = Vec::new();
            for (label, _) in answers(question) {
                buttons.push(Span::styled(label.to_string(), theme.key()));
                buttons.push(Span::raw(" "));
            }
            lines.push(Line::from(buttons));
            draw_box(&title, &lines, area, buf, theme);
        }
    }
}

fn render_prompt(prompt: &Prompt, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let width = WIDTH.min(area.width) as usize;
    let mut lines = vec![Line::from(vec![
        Span::raw("> "),
        Span::raw(prompt.input.clone()),
        Span::styled(" ", theme.key()),
    ])];
    match &prompt.error {
        Some(error) => {
            for text in wrap(error, width.saturating_sub(2)) {
                lines.push(Line::styled(text, theme.error_text()));
            }
        }
        None => lines.push(Line::styled(prompt.hint(), theme.dim())),
    }
    if !prompt.candidates.is_empty() {
        let names: Vec<&str> = prompt
            .candidates
            .iter()
            .map(|name| name.rsplit('/').next().unwrap_or(name))
            .collect();
        for text in wrap(&names.join("  "), width.saturating_sub(2))
            .into_iter()
            .take(3)
        {
            lines.push(Line::styled(text, theme.dim()));
        }
    }
    draw_box(&prompt.title(), &lines, area, buf, theme);
}

/// The box a dialog of `lines` takes in `area`.
fn dialog_rect(line_count: usize, area: Rect) -> Rect {
    centered(area, WIDTH, line_count as u16 + 2)
}

fn draw_box(title: &str, lines: &[Line], area: Rect, buf: &mut Buffer, theme: &Theme) {
    let rect = dialog_rect(lines.len(), area);
    Clear.render(rect, buf);
    let block = Block::bordered()
        .title(Line::styled(format!(" {title} "), theme.title()))
        .border_style(theme.border(true));
    let inner = block.inner(rect);
    block.render(rect, buf);
    for (index, line) in lines.iter().take(inner.height as usize).enumerate() {
        buf.set_line(inner.x, inner.y + index as u16, line, inner.width);
    }
}

/// The answer buttons of a question, with the key each presses.
fn answers(question: &Question) -> Vec<(&'static str, char)> {
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

fn question_text(app: &App, question: &Question) -> (String, Vec<String>) {
    let home_dir = &app.paths.home;
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

/// The answer under a click, if it was on one of the question's buttons.
pub fn answer_at(
    app: &App,
    question: &Question,
    area: Rect,
    column: u16,
    row: u16,
) -> Option<char> {
    // The same lines as `render`, only to know where the buttons are drawn.
    let width = WIDTH.min(area.width) as usize;
    let text_lines: usize = question_text(app, question)
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
