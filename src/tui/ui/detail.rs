//! The detail pane: what the selected profile lets its app reach, highest risk first,
//! each grant with its plain explanation; then where the file is, whether the app is
//! installed, and its menu and autostart entries.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

use super::theme::Theme;
use super::wrap;
use std::path::Path;

use crate::tui::components::instances::Instances;
use crate::tui::components::profiles::{ProfileRow, RowState};
use crate::tui::text::tilde;

/// The selected profile's `row`, scrolled by `scroll` lines; paths with `~` for `home`.
pub fn render(
    row: Option<&ProfileRow>,
    scroll: u16,
    instances: &Instances,
    home: &Path,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let Some(row) = row else {
        Block::bordered().title(" Details ").render(area, buf);
        return;
    };
    let block = Block::bordered().title(Line::styled(format!(" {} ", row.name), theme.title()));
    let inner = block.inner(area);
    block.render(area, buf);
    let lines = lines(row, instances, home, inner.width as usize, theme);
    let most = lines.len().saturating_sub(inner.height as usize) as u16;
    Paragraph::new(lines)
        .scroll((scroll.min(most), 0))
        .render(inner, buf);
}

/// Label column width.
const LABEL: usize = 10;
/// Indentation of a grant's explanation.
const WHY: usize = 2;

/// `label     value`, the value wrapped under itself.
fn field<'a>(lines: &mut Vec<Line<'a>>, label: &str, value: &str, width: usize, theme: &Theme) {
    for (index, text) in wrap(value, width.saturating_sub(LABEL))
        .into_iter()
        .enumerate()
    {
        let label = if index == 0 { label } else { "" };
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<LABEL$}"), theme.dim()),
            Span::raw(text),
        ]));
    }
}

fn lines<'a>(
    row: &ProfileRow,
    instances: &Instances,
    home: &Path,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    if let Some(error) = row.error() {
        let heading = match row.state {
            RowState::Stale { .. } => "The file has an error; this is the last good version.",
            _ => "This profile cannot be used:",
        };
        for text in wrap(heading, width).into_iter().chain(wrap(error, width)) {
            lines.push(Line::styled(text, theme.error_text()));
        }
        lines.push(Line::styled(
            "Press E to fix it in your editor.",
            theme.dim(),
        ));
        lines.push(Line::raw(""));
    }
    let file = match &row.path {
        Some(path) => tilde(path, home),
        None => row.file.clone(),
    };
    let from = format!("{} {file}", row.source.as_str());
    let Some(profile) = row.profile() else {
        field(&mut lines, "file", &from, width, theme);
        return lines;
    };
    if !profile.description.is_empty() {
        for text in wrap(&profile.description, width) {
            lines.push(Line::styled(text, theme.title()));
        }
    }
    if row.grants.is_empty() {
        for text in wrap(
            "No permissions: the app sees only its own home and the system's programs.",
            width,
        ) {
            lines.push(Line::raw(text));
        }
    } else {
        for grant in &row.grants {
            let label = format!("{:<8}", grant.risk.as_str().to_uppercase());
            for (index, what) in wrap(&grant.what, width.saturating_sub(9))
                .into_iter()
                .enumerate()
            {
                let badge = if index == 0 {
                    Span::styled(label.clone(), theme.risk(grant.risk))
                } else {
                    Span::raw(" ".repeat(8))
                };
                lines.push(Line::from(vec![badge, Span::raw(" "), Span::raw(what)]));
            }
            for text in wrap(&grant.why, width.saturating_sub(WHY)) {
                lines.push(Line::raw(format!("{:WHY$}{text}", "")));
            }
        }
    }
    lines.push(Line::raw(""));
    field(&mut lines, "from", &from, width, theme);
    if let Some(parent) = &profile.extends {
        field(&mut lines, "extends", parent, width, theme);
    }
    field(
        &mut lines,
        "command",
        &profile.command.join(" "),
        width,
        theme,
    );
    let installed = if row.installed { "yes" } else { "no" };
    let live = instances.live_count(&row.name);
    field(
        &mut lines,
        "installed",
        &format!("{installed} · {live} running"),
        width,
        theme,
    );
    field(
        &mut lines,
        "menu",
        row.entries.desktop_entry.label(),
        width,
        theme,
    );
    field(
        &mut lines,
        "autostart",
        row.entries.autostart.label(),
        width,
        theme,
    );
    let home_kind = if profile.home.ephemeral {
        "ephemeral: forgotten at exit"
    } else {
        "private, kept between runs"
    };
    field(&mut lines, "home", home_kind, width, theme);
    for (name, value) in &profile.env {
        field(&mut lines, "env", &format!("{name}={value}"), width, theme);
    }
    lines
}
