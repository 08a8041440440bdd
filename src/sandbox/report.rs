//! What a child process tells the process that started it, over a pipe: that it is
//! under way, that it failed and why, or how the app ended. One encoding for every pipe
//! of the launch (pid 1 and the app to boxtop, a detached supervisor to the launching
//! boxtop, the host guard, a joined command), and the exit code of each failure, here
//! once.
//!
//! The encoding is a tag byte, then the rest: `O` (started); `S` or `E` and the reason
//! in UTF-8 (the sandbox could not be set up; the program could not be executed); `X` or
//! `K` and four native-endian bytes (the app exited with a code; was killed by a signal).

use std::io::Read;

use super::init::Ended;

/// Why a child could not start what it was to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Setting up the sandbox (or the supervisor, or a joined command) failed.
    Setup,
    /// The program could not be found or executed.
    Exec,
}

impl Failure {
    /// The exit code of `boxtop run` for this failure: 127 when the program cannot be run,
    /// 125 when the sandbox could not be built (like `env` and container runtimes).
    pub const fn exit_code(self) -> u8 {
        match self {
            Failure::Setup => 125,
            Failure::Exec => 127,
        }
    }

    /// The tag byte that starts a report of this failure, alone: for a child that may not
    /// allocate, which writes the reason after it.
    pub const fn tag(self) -> &'static [u8] {
        match self {
            Failure::Setup => b"S",
            Failure::Exec => b"E",
        }
    }
}

/// One report, as read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// Under way: the app (or the command) runs, or the helper is ready.
    Started,
    Failed {
        failure: Failure,
        reason: String,
    },
    /// How the app ended, from the sandbox's pid 1.
    Ended(Ended),
}

/// Bytes that are no report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadReport {
    #[error("an empty report")]
    Empty,
    #[error("a report starting with the unknown tag byte {0:#04x}")]
    UnknownTag(u8),
    #[error("a report of how the app ended with {0} bytes instead of 5")]
    ShortEnd(usize),
}

impl Report {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Report::Started => b"O".to_vec(),
            Report::Failed { failure, reason } => {
                let mut bytes = failure.tag().to_vec();
                bytes.extend_from_slice(reason.as_bytes());
                bytes
            }
            Report::Ended(ended) => encode_ended(*ended).to_vec(),
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Report, BadReport> {
        let (&tag, rest) = bytes.split_first().ok_or(BadReport::Empty)?;
        let reason = || String::from_utf8_lossy(rest).into_owned();
        match tag {
            b'O' => Ok(Report::Started),
            b'S' => Ok(Report::Failed {
                failure: Failure::Setup,
                reason: reason(),
            }),
            b'E' => Ok(Report::Failed {
                failure: Failure::Exec,
                reason: reason(),
            }),
            b'X' | b'K' => {
                let value: [u8; 4] = rest
                    .try_into()
                    .map_err(|_| BadReport::ShortEnd(bytes.len()))?;
                let value = i32::from_ne_bytes(value);
                Ok(Report::Ended(if tag == b'X' {
                    Ended::Exited(value)
                } else {
                    Ended::Killed(value)
                }))
            }
            other => Err(BadReport::UnknownTag(other)),
        }
    }

    /// Reads one report from a pipe whose writer may keep it open after `Started` (a
    /// supervisor goes on with it): only the tag is read then; after another tag, up to
    /// the end of the pipe. `None` when the writer ended without a word.
    pub fn read_from(mut pipe: impl Read) -> Option<Result<Report, BadReport>> {
        let mut tag = [0u8; 1];
        loop {
            match pipe.read(&mut tag) {
                Ok(0) => return None,
                Ok(_) => break,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
        if tag[0] == b'O' {
            return Some(Ok(Report::Started));
        }
        let mut bytes = tag.to_vec();
        let _ = pipe.read_to_end(&mut bytes);
        Some(Report::decode(&bytes))
    }

    /// A failure of `failure`'s kind, saying `reason`.
    pub fn failed(failure: Failure, reason: impl Into<String>) -> Report {
        Report::Failed {
            failure,
            reason: reason.into(),
        }
    }
}

/// `Report::Ended(ended).encode()` without allocating: pid 1 writes it under a seccomp
/// filter that allows little more than that write.
pub fn encode_ended(ended: Ended) -> [u8; 5] {
    let (tag, value) = match ended {
        Ended::Exited(code) => (b'X', code),
        Ended::Killed(signal) => (b'K', signal),
    };
    let mut out = [tag, 0, 0, 0, 0];
    out[1..].copy_from_slice(&value.to_ne_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_decodes_to_itself() {
        let reports = [
            Report::Started,
            Report::failed(Failure::Setup, "mounting /usr: EPERM"),
            Report::failed(Failure::Exec, "program 'nope' was not found"),
            Report::failed(Failure::Exec, ""),
            Report::Ended(Ended::Exited(3)),
            Report::Ended(Ended::Exited(-1)),
            Report::Ended(Ended::Killed(9)),
        ];
        for report in reports {
            assert_eq!(Report::decode(&report.encode()), Ok(report.clone()));
            assert_eq!(
                Report::read_from(report.encode().as_slice()),
                Some(Ok(report))
            );
        }
    }

    #[test]
    fn bad_bytes_are_an_error_not_a_panic() {
        assert_eq!(Report::decode(b""), Err(BadReport::Empty));
        assert_eq!(Report::decode(b"Zwhat"), Err(BadReport::UnknownTag(b'Z')));
        assert_eq!(Report::decode(b"X\x01"), Err(BadReport::ShortEnd(2)));
        assert_eq!(
            Report::decode(b"K\x01\x02\x03\x04\x05"),
            Err(BadReport::ShortEnd(6))
        );
        assert_eq!(Report::read_from(&b""[..]), None);
        assert!(
            Report::decode(b"S\xff\xfe").is_ok(),
            "a reason that is not UTF-8 is kept"
        );
    }

    #[test]
    fn each_failure_has_its_exit_code() {
        assert_eq!(Failure::Setup.exit_code(), 125);
        assert_eq!(Failure::Exec.exit_code(), 127);
    }

    #[test]
    fn the_end_is_written_without_allocating_as_it_is_encoded() {
        let ended = Ended::Killed(15);
        assert_eq!(encode_ended(ended).to_vec(), Report::Ended(ended).encode());
    }
}
