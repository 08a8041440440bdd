//! A log file followed as it grows: the lines read so far and where reading stopped, so
//! that each refresh reads only what was appended.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// At most this many lines are kept; older ones are dropped.
const MAX_LINES: usize = 5000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogView {
    pub title: String,
    pub path: PathBuf,
    pub lines: Vec<String>,
    /// The first line shown.
    pub top: usize,
    /// Whether the view stays on the newest lines as they come.
    pub following: bool,
    /// Why the file cannot be read (not written yet, no permission).
    pub error: Option<String>,
    read_to: u64,
    partial: String,
}

impl LogView {
    pub fn new(title: String, path: PathBuf) -> Self {
        Self {
            title,
            path,
            lines: Vec::new(),
            top: 0,
            following: true,
            error: None,
            read_to: 0,
            partial: String::new(),
        }
    }

    /// Reads what was appended since the last call. A file that shrank was rotated or
    /// truncated: it is read again from the start.
    pub fn read_new(&mut self) {
        match self.try_read_new() {
            Ok(()) => self.error = None,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                self.error = Some(format!("{} does not exist yet", self.path.display()));
            }
            Err(err) => self.error = Some(format!("cannot read {}: {err}", self.path.display())),
        }
    }

    fn try_read_new(&mut self) -> std::io::Result<()> {
        let mut file = std::fs::File::open(&self.path)?;
        let len = file.metadata()?.len();
        if len < self.read_to {
            self.read_to = 0;
            self.partial.clear();
            self.lines.clear();
            self.top = 0;
        }
        if len == self.read_to {
            return Ok(());
        }
        file.seek(SeekFrom::Start(self.read_to))?;
        let mut bytes = Vec::new();
        file.take(len - self.read_to).read_to_end(&mut bytes)?;
        self.read_to += bytes.len() as u64;
        // The app's output, shown on the user's terminal: no control sequences.
        let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
        self.partial
            .push_str(&crate::instance::logs::printable(&text));
        if let Some(end) = self.partial.rfind('\n') {
            let complete: String = self.partial.drain(..=end).collect();
            self.lines
                .extend(complete.lines().map(|line| line.replace('\t', "    ")));
        }
        if self.lines.len() > MAX_LINES {
            let dropped = self.lines.len() - MAX_LINES;
            self.lines.drain(..dropped);
            self.top = self.top.saturating_sub(dropped);
        }
        Ok(())
    }

    /// Every line, with a last line still being written.
    pub fn line_count(&self) -> usize {
        self.lines.len() + usize::from(!self.partial.is_empty())
    }

    pub fn line(&self, index: usize) -> Option<&str> {
        self.lines.get(index).map(String::as_str).or_else(|| {
            (index == self.lines.len() && !self.partial.is_empty()).then_some(self.partial.as_str())
        })
    }

    /// The top line for a view `height` lines high: the newest lines when following.
    pub fn visible_top(&self, height: usize) -> usize {
        let last_top = self.line_count().saturating_sub(height);
        if self.following {
            last_top
        } else {
            self.top.min(last_top)
        }
    }

    /// Scrolls by `delta` lines; reaching the end follows again, moving up stops following.
    pub fn scroll(&mut self, delta: isize, height: usize) {
        let current = self.visible_top(height);
        let last_top = self.line_count().saturating_sub(height);
        let next = current.saturating_add_signed(delta).min(last_top);
        self.top = next;
        self.following = next >= last_top && delta >= 0;
    }

    pub fn follow(&mut self) {
        self.following = true;
    }

    pub fn to_start(&mut self) {
        self.top = 0;
        self.following = self.line_count() == 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_only_appended_lines_and_follows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let mut view = LogView::new("a".into(), path.clone());
        view.read_new();
        assert!(view.error.is_some());
        let mut file = std::fs::File::create(&path).unwrap();
        write!(file, "one\ntwo\nthr").unwrap();
        view.read_new();
        assert_eq!(view.lines, ["one", "two"]);
        assert_eq!(view.line(2), Some("thr"));
        write!(file, "ee\nfour\n").unwrap();
        view.read_new();
        assert_eq!(view.lines, ["one", "two", "three", "four"]);
        assert_eq!(view.visible_top(2), 2);
        view.scroll(-1, 2);
        assert!(!view.following);
        assert_eq!(view.visible_top(2), 1);
        writeln!(file, "five").unwrap();
        view.read_new();
        assert_eq!(view.visible_top(2), 1, "scrolled up: stays in place");
        view.scroll(10, 2);
        assert!(view.following);
        std::fs::write(&path, "new\n").unwrap();
        view.read_new();
        assert_eq!(view.lines, ["new"]);
    }
}
