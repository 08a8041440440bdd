//! The instances pane: every running and recently ended sandbox with its state, uptime,
//! CPU, memory, a sparkline of the last minute of CPU, and network bytes.

use std::collections::VecDeque;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};

use super::theme::Theme;
use super::{fit, fit_right, human_bytes, human_duration, wrap};
use crate::instance::status::{State, Status};
use crate::tui::components::instances::Instances;
use crate::tui::layout::offset_for;

/// The widths of every column but the profile's and the sparkline's.
const ID: usize = 8;
const STATE: usize = 10;
const UPTIME: usize = 6;
const CPU: usize = 5;
const MEM: usize = 6;
const NET: usize = 13;
const FIXED: usize = 2 + ID + STATE + UPTIME + CPU + MEM + NET + 7;

pub fn render(pane: &Instances, focused: bool, area: Rect, buf: &mut Buffer, theme: &Theme) {
    let counts = pane.counts();
    let mut title = format!(" Instances {} running", counts.running);
    if counts.paused > 0 {
        title.push_str(&format!(", {} paused", counts.paused));
    }
    title.push_str(&format!(", {} ended ", counts.ended));
    if pane.hidden_ended > 0 {
        title.push_str(&format!("(+{} older: a) ", pane.hidden_ended));
    }
    let mut block = Block::bordered()
        .title(Line::styled(title, theme.title()))
        .border_style(theme.border(focused));
    if let Some(Status {
        state: State::Failed { reason },
        profile,
        ..
    }) = pane.selected()
    {
        block = block.title_bottom(Line::styled(
            format!(" {profile} failed: {reason} "),
            theme.error_text(),
        ));
    } else if let Some(Status {
        log_problem: Some(problem),
        profile,
        ..
    }) = pane.selected()
    {
        block = block.title_bottom(Line::styled(
            format!(" {profile}: {problem} "),
            theme.error_text(),
        ));
    } else if let Some(Status {
        ended_by: Some(by),
        profile,
        ..
    }) = pane.selected()
    {
        block = block.title_bottom(Line::styled(
            format!(" {profile}: {by} "),
            theme.error_text(),
        ));
    } else if let Some(Status {
        unit: Some(unit), ..
    }) = pane.selected()
    {
        // The name `systemctl --user` and the desktop's resource views know it by.
        block = block.title_bottom(Line::styled(format!(" {unit} "), theme.dim()));
    }
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let width = inner.width as usize;
    let flexible = width.saturating_sub(FIXED);
    let profile_width = (flexible / 2).clamp(6, 20);
    let spark_width = flexible.saturating_sub(profile_width);
    let header = [
        "  ".to_string(),
        fit("PROFILE", profile_width),
        fit("ID", ID),
        fit("STATE", STATE),
        fit_right("UPTIME", UPTIME),
        fit_right("CPU%", CPU),
        fit_right("MEM", MEM),
        fit("CPU 1 min", spark_width),
        fit("NET ↓ ↑", NET),
    ];
    buf.set_line(
        inner.x,
        inner.y,
        &Line::styled(join(&header), theme.dim()),
        inner.width,
    );
    let list = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    if let Some(error) = &pane.error {
        for (index, text) in wrap(&format!("cannot list instances: {error}"), width - 2)
            .into_iter()
            .take(list.height as usize)
            .enumerate()
        {
            buf.set_line(
                list.x + 2,
                list.y + index as u16,
                &Line::styled(text, theme.error_text()),
                list.width,
            );
        }
        return;
    }
    if pane.list.is_empty() {
        let text = "Nothing is running. Select a profile and press Enter to launch it.";
        for (index, text) in wrap(text, width - 2)
            .into_iter()
            .take(list.height as usize)
            .enumerate()
        {
            buf.set_line(
                list.x + 2,
                list.y + index as u16,
                &Line::styled(text, theme.dim()),
                list.width,
            );
        }
        return;
    }
    let offset = offset_for(pane.offset, pane.selected, list.height as usize);
    let empty = VecDeque::new();
    for (index, status) in pane
        .list
        .iter()
        .enumerate()
        .skip(offset)
        .take(list.height as usize)
    {
        let selected = index == pane.selected;
        let history = pane.history.get(&status.id).unwrap_or(&empty);
        let state_style = match status.state {
            State::Running | State::Starting | State::Stopping => Default::default(),
            State::Paused => theme.risk(crate::profile::risk::Risk::Medium),
            State::Failed { .. } | State::Killed { .. } | State::Lost => theme.error_text(),
            State::Exited { .. } => theme.dim(),
        };
        let live = status.state.is_live();
        let cells = vec![
            Span::raw(if selected { "▸ " } else { "  " }),
            Span::raw(fit(&status.profile, profile_width) + " "),
            Span::raw(fit(short_id(&status.id, &status.profile), ID) + " "),
            Span::styled(fit(&status.state.label(), STATE), state_style),
            Span::raw(" "),
            Span::raw(fit_right(&human_duration(status.uptime_secs), UPTIME) + " "),
            Span::raw(
                if live {
                    fit_right(&format!("{:.0}", status.cpu_percent), CPU)
                } else {
                    fit_right("-", CPU)
                } + " ",
            ),
            Span::raw(
                if live {
                    fit_right(&human_bytes(status.memory_bytes), MEM)
                } else {
                    fit_right("-", MEM)
                } + " ",
            ),
            Span::styled(
                fit(&sparkline(history, spark_width), spark_width) + " ",
                theme.risk(crate::profile::risk::Risk::Low),
            ),
            Span::raw(fit(&network(status), NET)),
        ];
        let mut line = Line::from(cells);
        if selected {
            line = theme.highlight(line, focused);
        }
        buf.set_line(list.x, list.y + (index - offset) as u16, &line, list.width);
    }
}

/// The part of an id that tells instances apart: ids are the profile's name and a
/// suffix, and the profile has its own column, so a narrow column shows the suffix.
pub fn short_id<'a>(id: &'a str, profile: &str) -> &'a str {
    id.strip_prefix(profile)
        .and_then(|rest| rest.strip_prefix('-'))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(id)
}

fn join(cells: &[String]) -> String {
    let mut text = cells[0].clone();
    text.push_str(&cells[1..].join(" "));
    text
}

/// The newest `width` samples as block characters, scaled to one core (or the highest
/// sample when the app used more).
pub fn sparkline(samples: &VecDeque<u64>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let shown: Vec<u64> = samples.iter().rev().take(width).rev().copied().collect();
    let top = shown.iter().copied().max().unwrap_or(0).max(100);
    shown
        .iter()
        .map(|&sample| BARS[((sample * 7 + top / 2) / top).min(7) as usize])
        .collect()
}

fn network(status: &Status) -> String {
    match (status.net_rx_bytes, status.net_tx_bytes) {
        (None, None) => "-".into(),
        (rx, tx) => format!(
            "↓{} ↑{}",
            human_bytes(rx.unwrap_or(0)),
            human_bytes(tx.unwrap_or(0))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_column_shows_what_tells_instances_apart() {
        assert_eq!(short_id("e2e-sleeper-eacfc8", "e2e-sleeper"), "eacfc8");
        // Not of that form: shown as it is.
        assert_eq!(short_id("f1e2d3c4", "firefox"), "f1e2d3c4");
        assert_eq!(short_id("firefox-", "firefox"), "firefox-");
        assert_eq!(short_id("firefoxy-12", "firefox"), "firefoxy-12");
    }

    #[test]
    fn sparkline_scales_to_one_core() {
        let samples: VecDeque<u64> = [0, 50, 100, 25].into_iter().collect();
        assert_eq!(sparkline(&samples, 10), "▁▅█▃");
        assert_eq!(sparkline(&samples, 2), "█▃");
        let busy: VecDeque<u64> = [100, 200].into_iter().collect();
        assert_eq!(sparkline(&busy, 2), "▅█");
    }
}
