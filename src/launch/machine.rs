//! The machine mode: a launch asked of a fresh boxtop process in JSON, answered in JSON.
//!
//! The sandbox is started by `fork`, which is only sound in a single-threaded process; the
//! TUI runs several threads, so it runs `boxtop __machine run` (as runc re-executes
//! itself), writes one [`Request`] on its stdin and reads one [`Answer`] from its stdout:
//! an [`Outcome`] or a [`Failure`] with its kind, message and exit code, in the envelope
//! of every JSON output (`json_output`, schema `boxtop.machine-answer`, `docs/json.md`).
//! Warnings go to stderr as they do for `boxtop run`.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::{launch, Failure, LaunchError, Outcome, Request};
use crate::json_output::Schema;
use crate::paths::Paths;

/// The one line the machine mode writes on stdout (inside its envelope: [`Answer::to_line`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Outcome(Outcome),
    Error(Failure),
}

impl Answer {
    /// The machine process's exit code: 0, or the failure's (as `boxtop run` would exit).
    pub fn exit_code(&self) -> u8 {
        match self {
            Answer::Outcome(_) => 0,
            Answer::Error(failure) => failure.exit_code,
        }
    }

    /// The line written on stdout: `{"schema":"boxtop.machine-answer","version":1,
    /// "outcome":{...}}` or `..."error":{...}}`.
    pub fn to_line(&self) -> serde_json::Result<String> {
        Schema::MACHINE_ANSWER.to_line(self)
    }

    /// Reads what [`Answer::to_line`] wrote; an answer of another schema version (a
    /// boxtop of another release answered) is refused with both versions named.
    pub fn from_line(text: &str) -> Result<Answer, String> {
        Schema::MACHINE_ANSWER.read(text)
    }

    pub fn into_result(self) -> Result<Outcome, Failure> {
        match self {
            Answer::Outcome(outcome) => Ok(outcome),
            Answer::Error(failure) => Err(failure),
        }
    }
}

/// Serves one request, `input` being the JSON read from stdin. Only detached launches are
/// served: a foreground app would write into the answer.
pub fn serve(paths: &Paths, input: &str) -> Answer {
    let request: Request = match serde_json::from_str(input) {
        Ok(request) => request,
        Err(err) => return failed(&LaunchError::BadRequest(err.to_string())),
    };
    if !request.detach {
        let why = "the machine mode only launches detached (\"detach\": true)".to_string();
        return failed(&LaunchError::BadRequest(why));
    }
    match launch(paths, &request) {
        Ok(outcome) => Answer::Outcome(outcome),
        Err(err) => failed(&err),
    }
}

fn failed(err: &LaunchError) -> Answer {
    Answer::Error(Failure::from(err))
}

/// Asks a boxtop process (`command`: the executable with `__machine run`) for the
/// launch of `request` and waits for its answer. `Err` when no answer came: the process
/// could not run, or wrote no answer that can be read (the reason says which).
pub fn ask(mut command: Command, request: &Request) -> Result<Answer, String> {
    let json = serde_json::to_string(request).map_err(|err| err.to_string())?;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run {}: {err}", command.get_program().display()))?;
    let written = match child.stdin.take() {
        // Closed at the end of the block: the request is complete.
        Some(mut stdin) => stdin.write_all(json.as_bytes()),
        None => Ok(()),
    };
    let mut output = String::new();
    let read = match child.stdout.take() {
        Some(mut stdout) => stdout.read_to_string(&mut output).map(drop),
        None => Ok(()),
    };
    let status = child
        .wait()
        .map_err(|err| format!("cannot wait for the launcher: {err}"))?;
    match Answer::from_line(output.trim()) {
        Ok(answer) => Ok(answer),
        Err(err) => {
            let io = written
                .and(read)
                .err()
                .map(|e| format!(", {e}"))
                .unwrap_or_default();
            Err(format!(
                "the launcher gave no answer ({status}{io}; its output: {err})"
            ))
        }
    }
}
