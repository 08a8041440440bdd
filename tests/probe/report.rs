//! The probe's output: one `ok NAME` or `fail NAME: DETAIL` line per assertion, and the
//! exit status they add up to.

use std::io::{self, Write};
use std::process::ExitCode;

use nix::errno::Errno;

/// What one assertion found: `Err` holds what was seen against what was expected.
pub type Outcome = Result<(), String>;

/// The results of one check, printed as they come so that a crash still leaves the earlier
/// lines behind.
pub struct Report {
    check: &'static str,
    has_failure: bool,
}

impl Report {
    pub fn new(check: &'static str) -> Report {
        Report {
            check,
            has_failure: false,
        }
    }

    /// A result named after the check alone, for checks that assert one thing.
    pub fn whole(&mut self, outcome: Outcome) {
        self.line(self.check.to_string(), outcome);
    }

    /// A result named `CHECK/ITEM`. A path item keeps one slash: `absent/etc/shadow`.
    pub fn item(&mut self, item: &str, outcome: Outcome) {
        let name = format!("{}/{}", self.check, item.trim_start_matches('/'));
        self.line(name, outcome);
    }

    pub fn exit_code(&self) -> ExitCode {
        if self.has_failure {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }

    fn line(&mut self, name: String, outcome: Outcome) {
        let line = match outcome {
            Ok(()) => format!("ok {name}\n"),
            Err(detail) => {
                self.has_failure = true;
                // One assertion, one line: a detail quoting a file must not start another.
                format!("fail {name}: {}\n", detail.replace('\n', "\\n"))
            }
        };
        // Nothing is left to report a lost stdout to; the exit status still tells.
        let mut stdout = io::stdout().lock();
        let _ = stdout.write_all(line.as_bytes());
        let _ = stdout.flush();
    }
}

/// `EPERM (Operation not permitted)`.
pub fn errno_text(errno: Errno) -> String {
    format!("{errno:?} ({})", errno.desc())
}

/// An I/O error as its errno when it has one.
pub fn io_text(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => errno_text(Errno::from_raw(code)),
        None => error.to_string(),
    }
}

/// Whether an I/O error carries this errno.
pub fn is_errno(error: &io::Error, errno: Errno) -> bool {
    error.raw_os_error() == Some(errno as i32)
}

/// A comma-separated list for details, `(none)` when empty.
pub fn list<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    let joined = items
        .into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if joined.is_empty() {
        "(none)".to_string()
    } else {
        joined
    }
}
