//! The profile editor: each grant with its value and its risk as the draft stands, the
//! selected grant's explanation, and the risk before and after the unsaved changes.

use std::path::Path;

use ratatui::buffer::Buffer;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Widget};

use super::theme::{badge, Theme};
use super::{fit, wrap};
use crate::profile::risk::{self, Risk};
use crate::profile::validate::normalize_relative;
use crate::tui::components::editor::{grant_for, EditRow, EditorState};
use crate::tui::layout::{offset_for, Areas, EDITOR_FOOT};
use crate::tui::text::{audio_str, display_str, network_str, on_off, tilde};

const LABEL: usize = 14;

pub fn render(editor: &EditorState, home: &Path, areas: &Areas, buf: &mut Buffer, theme: &Theme) {
    let area = areas.main;
    Clear.render(area, buf);
    let draft = &editor.draft;
    let target = tilde(&draft.target, home);
    let title = if draft.creates_override {
        format!(" Edit {} · saving makes your override ", draft.name)
    } else {
        format!(" Edit {} ", draft.name)
    };
    let block = Block::bordered()
        .title(Line::styled(title, theme.title()))
        .title_bottom(Line::styled(format!(" {target} "), theme.dim()))
        .border_style(theme.border(true));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height < 2 || inner.width < 10 {
        return;
    }
    let width = inner.width as usize;

    let grants = risk::summarize(&editor.preview);
    let now = grants.first().map(|grant| grant.risk);
    let before = risk::highest(&editor.saved);
    let mut head = vec![Span::raw("Risk "), risk_span(now, theme)];
    if now != before {
        head.push(Span::raw("  was "));
        head.push(risk_span(before, theme));
    }
    if draft.is_changed() {
        head.push(Span::styled(
            "  · unsaved changes (s saves)",
            theme.error_text(),
        ));
    } else if draft.creates_override {
        head.push(Span::styled("  · bundled: s saves a copy", theme.dim()));
    }
    buf.set_line(inner.x, inner.y, &Line::from(head), inner.width);

    let list = areas.editor_list();
    let offset = offset_for(editor.offset, editor.selected, list.height as usize);
    let value_width = width.saturating_sub(2 + LABEL + 1 + 9);
    for (index, row) in editor
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(list.height as usize)
    {
        let selected = index == editor.selected;
        let (label, value, inherited) = describe(editor, row);
        let grant = grant_for(&grants, row);
        let value_style = if matches!(
            row,
            EditRow::AddShare | EditRow::AddBus(_) | EditRow::AddEnv
        ) || inherited
        {
            theme.dim()
        } else {
            Default::default()
        };
        let mut spans = vec![
            Span::raw(if selected { "▸ " } else { "  " }),
            Span::styled(fit(&label, LABEL), theme.dim()),
            Span::raw(" "),
            Span::styled(fit(&value, value_width), value_style),
            Span::raw(" "),
        ];
        if let Some(grant) = &grant {
            spans.push(Span::styled(
                badge(Some(grant.risk)),
                theme.risk(grant.risk),
            ));
        }
        let mut line = Line::from(spans);
        if selected {
            line = theme.highlight(line, true);
        }
        buf.set_line(list.x, list.y + (index - offset) as u16, &line, list.width);
    }

    // The foot: a rule, the selected grant's explanation, the last change or error.
    let foot_y = list.y + list.height;
    if inner.bottom() < foot_y + EDITOR_FOOT {
        return;
    }
    buf.set_line(
        inner.x,
        foot_y,
        &Line::styled("─".repeat(width), theme.dim()),
        inner.width,
    );
    let selected = editor.rows.get(editor.selected);
    let why = match selected.and_then(|row| grant_for(&grants, row)) {
        Some(grant) => grant.why,
        None => selected.map(explain).unwrap_or_default().to_string(),
    };
    for (index, text) in wrap(&why, width).into_iter().take(2).enumerate() {
        buf.set_line(
            inner.x,
            foot_y + 1 + index as u16,
            &Line::raw(text),
            inner.width,
        );
    }
    let status = match (&editor.error, &editor.last_change) {
        (Some(error), _) => Line::styled(error.clone(), theme.error_text()),
        (None, Some((what, grant))) => {
            let mut spans = vec![Span::raw(format!("Changed: {what}"))];
            if let Some(grant) = grant {
                spans.push(Span::raw(" → "));
                spans.push(Span::styled(
                    grant.risk.as_str().to_uppercase(),
                    theme.risk(grant.risk),
                ));
            }
            Line::from(spans)
        }
        (None, None) => Line::styled(
            "←/→ change a value · Space toggles · a adds · d removes · s saves",
            theme.dim(),
        ),
    };
    buf.set_line(inner.x, foot_y + 3, &status, inner.width);
}

fn risk_span<'a>(risk: Option<Risk>, theme: &Theme) -> Span<'a> {
    match risk {
        Some(risk) => Span::styled(badge(Some(risk)).trim().to_string(), theme.risk(risk)),
        None => Span::styled("none", theme.dim()),
    }
}

/// The label, the value, and whether it comes from the profile this one extends.
fn describe(editor: &EditorState, row: &EditRow) -> (String, String, bool) {
    let profile = &editor.preview;
    let inherited = |own: &bool| if *own { "" } else { " (inherited)" };
    match row {
        EditRow::Display => ("Display".into(), display_str(profile.display).into(), false),
        EditRow::Audio => ("Audio".into(), audio_str(profile.audio).into(), false),
        EditRow::Network => ("Network".into(), network_str(profile.network).into(), false),
        EditRow::Gpu => ("GPU".into(), on_off(profile.gpu).into(), false),
        EditRow::Webcam => ("Webcam".into(), on_off(profile.webcam).into(), false),
        EditRow::Userns => (
            "Nested userns".into(),
            on_off(profile.allow_userns).into(),
            false,
        ),
        EditRow::Ephemeral => (
            "Private home".into(),
            if profile.home.ephemeral {
                "forgotten at exit"
            } else {
                "kept between runs"
            }
            .into(),
            false,
        ),
        EditRow::Share { share, own } => (
            "Home share".into(),
            format!(
                "~/{} {}{}{}{}",
                normalize_relative(&share.path),
                share.mode.as_str(),
                if share.create { " +create" } else { "" },
                if share.force { " +force" } else { "" },
                inherited(own)
            ),
            !own,
        ),
        EditRow::AddShare => ("Home share".into(), "+ add a folder".into(), false),
        EditRow::Bus { list, name, own } => (
            format!("D-Bus {}", list.key()),
            format!("{name}{}", inherited(own)),
            !own,
        ),
        EditRow::AddBus(list) => (
            format!("D-Bus {}", list.key()),
            "+ add a name".into(),
            false,
        ),
        EditRow::Env { name, value, own } => (
            "Environment".into(),
            format!("{name}={value}{}", inherited(own)),
            !own,
        ),
        EditRow::AddEnv => ("Environment".into(), "+ add a variable".into(), false),
        EditRow::Field(field) => {
            let text = field.text(profile);
            let own = editor.draft.owns_field(*field);
            let value = match (text.is_empty(), own) {
                (true, _) => "(not set) Enter sets it".to_string(),
                (false, true) => text,
                (false, false) => format!("{text} (inherited)"),
            };
            (field.label().into(), value, !own)
        }
    }
}

/// What a row means when it grants nothing.
fn explain(row: &EditRow) -> &'static str {
    match row {
        EditRow::Display => "No display: the app cannot show windows.",
        EditRow::Audio => "No sound, no microphone.",
        EditRow::Network => "No network: only the sandbox's own loopback.",
        EditRow::Gpu => {
            "Off: drawing without the graphics driver (slower, smaller kernel surface)."
        }
        EditRow::Webcam => "Off: no camera.",
        EditRow::Userns => "Off: the app cannot build a sandbox of its own.",
        EditRow::Ephemeral => {
            "Where the app keeps its settings: a private home, never your real one."
        }
        EditRow::AddShare => "Share a folder of your home, read-only first; Space switches ro/rw.",
        EditRow::AddBus(_) => "Let the app reach a D-Bus service of your session by name.",
        EditRow::Env { .. } | EditRow::AddEnv => "Environment variables set inside the sandbox.",
        EditRow::Field(field) => field.hint(),
        EditRow::Share { .. } | EditRow::Bus { .. } => "",
    }
}
