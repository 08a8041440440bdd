//! The profiles pane: every profile with its highest risk, whether its app is installed
//! here and how many instances run; a filter typed after `/`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};

use super::theme::{badge, Theme};
use super::{fit, fit_right};
use crate::tui::components::instances::Instances;
use crate::tui::components::profiles::{ProfileRow, Profiles, RowState};
use crate::tui::layout::offset_for;

/// Columns after the name: badge (8), installed (4), running (3), with spaces.
const FIXED: usize = 2 + 1 + 8 + 1 + 4 + 1 + 3;

pub fn render(
    pane: &Profiles,
    instances: &Instances,
    focused: bool,
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let visible = pane.visible();
    let mut block = Block::bordered()
        .title(Line::styled(
            format!(" Profiles {}/{} ", visible.len(), pane.rows.len()),
            theme.title(),
        ))
        .border_style(theme.border(focused));
    if pane.filtering || !pane.filter.is_empty() {
        let cursor = if pane.filtering { "▏" } else { "" };
        block = block.title_bottom(format!(" /{}{cursor} ", pane.filter));
    }
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let width = inner.width as usize;
    let name_width = width.saturating_sub(FIXED).max(4);
    let header = format!(
        "  {} {} {} {}",
        fit("NAME", name_width),
        fit("RISK", 8),
        fit("HERE", 4),
        fit_right("RUN", 3)
    );
    buf.set_line(
        inner.x,
        inner.y,
        &Line::styled(header, theme.dim()),
        inner.width,
    );
    let list = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    if visible.is_empty() {
        let text = if pane.filter.is_empty() {
            "no profiles"
        } else {
            "no profile matches the filter"
        };
        buf.set_line(
            list.x + 2,
            list.y,
            &Line::styled(text, theme.dim()),
            list.width,
        );
        return;
    }
    let offset = offset_for(pane.offset, pane.selected, list.height as usize);
    for (line, &index) in visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(list.height as usize)
    {
        let row = &pane.rows[index];
        let y = list.y + (line - offset) as u16;
        let selected = line == pane.selected;
        let spans = row_spans(instances, row, name_width, selected, theme);
        let mut text = Line::from(spans);
        if selected {
            text = theme.highlight(text, focused);
        }
        buf.set_line(list.x, y, &text, list.width);
    }
}

fn row_spans<'a>(
    instances: &Instances,
    row: &'a ProfileRow,
    name_width: usize,
    selected: bool,
    theme: &Theme,
) -> Vec<Span<'a>> {
    let marker = if selected { "▸ " } else { "  " };
    let stale = matches!(row.state, RowState::Stale { .. });
    let name = if stale {
        fit(&format!("{}!", row.name), name_width)
    } else {
        fit(&row.name, name_width)
    };
    let (badge_text, badge_style) = match &row.state {
        RowState::Broken(_) => (" BROKEN ", theme.broken()),
        _ => match row.highest() {
            Some(risk) => (badge(Some(risk)), theme.risk(risk)),
            None => (badge(None), theme.dim()),
        },
    };
    let installed = match row.state {
        RowState::Broken(_) => "?",
        _ if row.installed => "yes",
        _ => "no",
    };
    let live = instances.live_count(&row.name);
    let running = if live == 0 {
        "·".to_string()
    } else {
        live.to_string()
    };
    vec![
        Span::raw(marker),
        Span::styled(
            name,
            if stale {
                theme.error_text()
            } else {
                Default::default()
            },
        ),
        Span::raw(" "),
        Span::styled(badge_text, badge_style),
        Span::raw(" "),
        Span::raw(fit(installed, 4)),
        Span::raw(" "),
        Span::raw(fit_right(&running, 3)),
    ]
}
