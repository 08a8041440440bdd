//! `boxtop __machine run`: the machine mode's command line side (see
//! `boxtop::launch::machine`); one JSON request on stdin, one JSON answer on stdout.

use std::io::Read;
use std::process::ExitCode;

use boxtop::launch::machine::{self, Answer};
use boxtop::launch::{Failure, LaunchError};
use boxtop::paths::Paths;

/// Serves one launch request; exits as `boxtop run` would have.
pub fn run(paths: &Paths) -> ExitCode {
    let mut input = String::new();
    let answer = match std::io::stdin().read_to_string(&mut input) {
        Ok(_) => machine::serve(paths, &input),
        Err(err) => Answer::Error(Failure::from(&LaunchError::BadRequest(format!(
            "cannot read standard input: {err}"
        )))),
    };
    let code = answer.exit_code();
    match answer.to_line() {
        Ok(json) => boxtop::escape::out_json(&json),
        Err(err) => boxtop::errln!("boxtop: cannot write the answer: {err}"),
    }
    ExitCode::from(code)
}
