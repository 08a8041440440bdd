//! `boxtop doctor`: the host features boxtop uses, and how to fix what is missing.

use std::process::ExitCode;

use anyhow::Result;

use boxtop::doctor::{self, Status};
use boxtop::json_output::Schema;
use boxtop::paths::Paths;
use boxtop::{escape, outln};

/// Prints the checks; exits with 1 when user namespaces or seccomp are missing.
pub fn doctor(paths: &Paths, json: bool) -> Result<ExitCode> {
    let checks = doctor::run_checks(paths);
    if json {
        #[derive(serde::Serialize)]
        struct Checked<'a> {
            checks: &'a [doctor::Check],
        }
        escape::out_json(&Schema::DOCTOR.to_pretty(&Checked { checks: &checks })?);
    } else {
        for check in &checks {
            let mark = match check.status {
                Status::Ok => "ok     ",
                Status::Missing => "missing",
                Status::Limited => "limited",
            };
            outln!("{mark}  {:<22} {}", check.feature, check.detail);
            if let Some(fix) = &check.fix {
                outln!("         {:<22} fix: {fix}", "");
            }
        }
    }
    let essential_missing = checks.iter().any(|check| {
        check.status == Status::Missing && matches!(check.feature, "user namespaces" | "seccomp")
    });
    Ok(if essential_missing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
