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
