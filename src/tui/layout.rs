//! Where each pane goes for a terminal size. Drawing and mouse hit-testing both use it,
//! so a click lands on the row that was drawn there.

use ratatui::layout::{Constraint, Layout, Rect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub banner: Option<Rect>,
    /// Everything between the banner and the footer.
    pub main: Rect,
    pub profiles: Rect,
    pub detail: Rect,
    pub instances: Rect,
    pub footer: Rect,
}

/// Lines of the editor under its list: a rule, the selected grant's explanation (two
/// lines), and the last change.
pub const EDITOR_FOOT: u16 = 4;

/// The panes for a terminal of `size`, with a banner of `banner_lines` (0 for none).
pub fn areas(size: Rect, banner_lines: u16) -> Areas {
    let [header, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(size);
    let banner_height = banner_lines.min(rest.height.saturating_sub(2) / 4);
    let [banner, main, footer] = Layout::vertical([
        Constraint::Length(banner_height),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(rest);
    let instances_height = if main.height >= 14 {
        (main.height * 3 / 8).max(6)
    } else {
        main.height / 2
    };
    let [top, instances] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(instances_height)]).areas(main);
    let profiles_width = (top.width * 45 / 100).clamp(28.min(top.width), 48);
    let [profiles, detail] =
        Layout::horizontal([Constraint::Length(profiles_width), Constraint::Min(0)]).areas(top);
    Areas {
        header,
        banner: (banner_height > 0).then_some(banner),
        main,
        profiles,
        detail,
        instances,
        footer,
    }
}

/// The inside of a bordered pane, less its column header line.
fn list_in(pane: Rect) -> Rect {
    Rect {
        x: pane.x.saturating_add(1),
        y: pane.y.saturating_add(2),
        width: pane.width.saturating_sub(2),
        height: pane.height.saturating_sub(3),
    }
}

impl Areas {
    /// The rows of the profiles list.
    pub fn profile_list(&self) -> Rect {
        list_in(self.profiles)
    }

    pub fn profile_rows(&self) -> usize {
        self.profile_list().height as usize
    }

    pub fn instance_list(&self) -> Rect {
        list_in(self.instances)
    }

    pub fn instance_rows(&self) -> usize {
        self.instance_list().height as usize
    }

    /// The rows of the editor's settings list.
    pub fn editor_list(&self) -> Rect {
        let list = list_in(self.main);
        Rect {
            height: list.height.saturating_sub(EDITOR_FOOT),
            ..list
        }
    }

    pub fn editor_rows(&self) -> usize {
        self.editor_list().height as usize
    }
}

/// The first row to show so that `selected` is visible in `height` rows, moving the view
/// as little as possible from `offset`.
pub fn offset_for(offset: usize, selected: usize, height: usize) -> usize {
    if height == 0 || selected < offset {
        selected
    } else if selected >= offset + height {
        selected + 1 - height
    } else {
        offset
    }
}

/// A box of at most `width` x `height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
