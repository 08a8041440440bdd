//! Dialogs drawn over the panes: a text prompt (with completions and live validation)
//! and yes/no questions with their answer buttons, placed as `components::dialog` says.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Widget};

use std::path::Path;

use super::theme::Theme;
use super::wrap;
use crate::tui::components::dialog::{answers, dialog_rect, question_text, Dialog, WIDTH};
use crate::tui::prompt::Prompt;

/// `home` is the user's home folder, written `~` in paths.
pub fn render(dialog: &Dialog, home: &Path, area: Rect, buf: &mut Buffer, theme: &Theme) {
    match dialog {
        Dialog::Prompt(prompt) => render_prompt(prompt, area, buf, theme),
        Dialog::Confirm(question) => {
            let (title, text) = question_text(question, home);
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
        // The last part of each path; a folder keeps its `/`.
        let names: Vec<String> = prompt
            .candidates
            .iter()
            .map(|name| {
                let slash = if name.ends_with('/') { "/" } else { "" };
                let trimmed = name.trim_end_matches('/');
                format!("{}{slash}", trimmed.rsplit('/').next().unwrap_or(trimmed))
            })
            .collect();
        for text in wrap(&names.join("  "), width.saturating_sub(2))
            .into_iter()
            .take(3)
        {
            lines.push(Line::styled(text, theme.dim()));
        }
    }
    if prompt.offers_apps() {
        lines.extend(app_lines(prompt, width, theme));
    }
    draw_box(&prompt.title(), &lines, area, buf, theme);
}

/// The most apps listed under a new-profile prompt.
const APP_ROWS: usize = 8;

/// The offered apps matching the input, one a line, the picked one marked; the list
/// scrolls to keep it in view.
fn app_lines(prompt: &Prompt, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let matching = prompt.matching_apps();
    if matching.is_empty() {
        let text = if prompt.apps.is_empty() {
            "no installed app found"
        } else {
            "no installed app matches"
        };
        return vec![Line::styled(text, theme.dim())];
    }
    let picked = prompt.chosen_app().map(|app| app.id.clone());
    let at = prompt.picked.unwrap_or(0);
    let first = at.saturating_sub(APP_ROWS - 1);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for app in matching.iter().skip(first).take(APP_ROWS) {
        let is_picked = picked.as_deref() == Some(app.id.as_str());
        let mark = if is_picked { "▸ " } else { "  " };
        let text = super::fit(
            &format!("{mark}{:<18} {} ({})", app.profile_name, app.title, app.id),
            width.saturating_sub(2),
        );
        lines.push(if is_picked {
            Line::styled(text, theme.selected(true))
        } else {
            Line::raw(text)
        });
    }
    let more = matching.len().saturating_sub(first + APP_ROWS);
    if more > 0 {
        lines.push(Line::styled(format!("  … and {more} more"), theme.dim()));
    }
    lines
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
