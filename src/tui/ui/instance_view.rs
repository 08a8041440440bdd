//! The detail view of a running instance: its grants now, each marked as the
//! profile's or as changed while it runs, and the risk summary of the whole.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use super::theme::Theme;
use super::{fit, wrap};
use crate::instance::live::Added;
use crate::profile::{Access, Network};
use crate::tui::components::instance_view::{GrantRow, InstanceView};

/// The path column's width.
const PATH: usize = 20;

fn network_name(network: Option<Network>) -> &'static str {
    match network {
        Some(Network::None) => "none",
        Some(Network::Isolated) => "isolated",
        Some(Network::Host) => "host",
        None => "unknown",
    }
}

fn mode_name(mode: Access) -> &'static str {
    match mode {
        Access::Ro => "read-only",
        Access::Rw => "read-write",
    }
}

fn shown_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("~/{path}")
    }
}

pub fn render(view: &InstanceView, area: Rect, buf: &mut Buffer, theme: &Theme) {
    Clear.render(area, buf);
    let block = Block::bordered()
        .title(Line::styled(
            format!(" {} ({}) · what it may reach now ", view.profile, view.id),
            theme.title(),
        ))
        .border_style(theme.border(true));
    let inner = block.inner(area);
    block.render(area, buf);
    let width = inner.width as usize;
    let mut lines = Vec::new();
    if let Some(error) = &view.error {
        lines.push(Line::styled(error.clone(), theme.error_text()));
    }
    let Some(grants) = &view.grants else {
        Paragraph::new(lines).render(inner, buf);
        return;
    };
    if let Some(problem) = &grants.problem {
        lines.push(Line::styled(
            format!("its profile does not load now: {problem}"),
            theme.error_text(),
        ));
    }
    for (index, row) in view.rows().iter().enumerate() {
        let (what, value, note, changed) = match row {
            GrantRow::Network => match grants.network_live {
                Some(now) => (
                    "network".to_string(),
                    network_name(Some(now)).to_string(),
                    format!(
                        "changed while running (profile: {}); n switches",
                        network_name(grants.network_profile)
                    ),
                    true,
                ),
                None => (
                    "network".to_string(),
                    network_name(grants.network_profile).to_string(),
                    "profile; n switches".to_string(),
                    false,
                ),
            },
            GrantRow::Profile(i) => {
                let (path, mode) = &grants.profile_shares[*i];
                (
                    shown_path(path),
                    mode_name(*mode).to_string(),
                    "profile".to_string(),
                    false,
                )
            }
            GrantRow::Added(i) => {
                let share = &grants.added[*i];
                let note = match share.added {
                    Added::Live => "+ shared while running; w saves it into the profile",
                    Added::Argument => "+ forwarded: named on the command line",
                };
                (
                    shown_path(&share.path),
                    mode_name(share.mode).to_string(),
                    note.to_string(),
                    true,
                )
            }
        };
        let marker = if changed { "+" } else { " " };
        let cursor = if index == view.selected { "›" } else { " " };
        let text = format!(
            "{cursor}{marker} {} {:<10} {}",
            fit(&what, PATH),
            value,
            note
        );
        let line = Line::from(fit(&text, width));
        let line = if changed {
            line.style(theme.title())
        } else {
            line
        };
        lines.push(if index == view.selected {
            theme.highlight(line, true)
        } else {
            line
        });
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Risk now (profile and live changes):",
        theme.title(),
    ));
    for grant in &grants.risk {
        let label = format!("{:<8}", grant.risk.as_str().to_uppercase());
        for (index, text) in wrap(
            &format!("{}: {}", grant.what, grant.why),
            width.saturating_sub(9),
        )
        .into_iter()
        .enumerate()
        {
            let badge = if index == 0 {
                Span::styled(label.clone(), theme.risk(grant.risk))
            } else {
                Span::raw(" ".repeat(8))
            };
            lines.push(Line::from(vec![badge, Span::raw(" "), Span::raw(text)]));
        }
    }
    let selected_line = view.selected + usize::from(view.error.is_some());
    let height = inner.height as usize;
    let scroll = selected_line.saturating_sub(height.saturating_sub(1));
    Paragraph::new(lines)
        .scroll((scroll as u16, 0))
        .render(inner, buf);
}
