//! The detail pane of the selected profile: only how far it is scrolled; what it shows
//! comes from the profiles list and the instances.

#[derive(Debug, Clone, Copy, Default)]
pub struct Detail {
    pub scroll: u16,
}

impl Detail {
    /// Scrolls by `lines` (negative: up).
    pub fn scroll_by(&mut self, lines: i16) {
        self.scroll = self.scroll.saturating_add_signed(lines);
    }

    /// Back to the top, for another profile.
    pub fn reset(&mut self) {
        self.scroll = 0;
    }
}
