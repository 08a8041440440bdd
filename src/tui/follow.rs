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
            self.lines.extend(
                complete
                    .lines()
                    .map(|line| with_local_time(&line.replace('\t', "    "))),
            );
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

/// boxtop's own notes in a log (`[boxtop] ID started from tui at 1764427951`) with the
/// time in seconds since 1970 written as the local date and time, as the user reads a
/// clock. The app's own lines are left as they are.
pub fn with_local_time(line: &str) -> String {
    local_time_in(line, &jiff::tz::TimeZone::system())
}

fn local_time_in(line: &str, zone: &jiff::tz::TimeZone) -> String {
    if !line.starts_with("[boxtop] ") {
        return line.to_string();
    }
    let Some(at) = line.find(" at ").map(|at| at + 4) else {
        return line.to_string();
    };
    let digits = line[at..].bytes().take_while(u8::is_ascii_digit).count();
    let ends_word = line[at + digits..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric());
    let seconds = line[at..at + digits].parse::<i64>().ok();
    let time = seconds
        .filter(|_| (9..=11).contains(&digits) && ends_word)
        .and_then(|seconds| jiff::Timestamp::from_second(seconds).ok());
    match time {
        Some(time) => format!(
            "{}{}{}",
            &line[..at],
            zone.to_datetime(time).strftime("%Y-%m-%d %H:%M:%S"),
            &line[at + digits..]
        ),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn boxtop_notes_show_local_times_and_app_lines_are_left_alone() {
        let zone = jiff::tz::TimeZone::get("Europe/Paris")
            .unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::offset(1)));
        assert_eq!(
            local_time_in("[boxtop] calc-1 started from tui at 1700000000", &zone),
            "[boxtop] calc-1 started from tui at 2023-11-14 23:13:20"
        );
        assert_eq!(
            local_time_in(
                "[boxtop] launched again from cli at 1700000000: calc runs in this sandbox",
                &zone
            ),
            "[boxtop] launched again from cli at 2023-11-14 23:13:20: calc runs in this sandbox"
        );
        for kept in [
            "the app says: at 1700000000",
            "[boxtop] exited with code 0",
            "[boxtop] at 12 o'clock",
            "[boxtop] at 1700000000x",
        ] {
            assert_eq!(local_time_in(kept, &zone), kept);
        }
    }

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
