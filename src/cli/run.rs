//! `boxtop run` and `boxtop plan`: thin over the library's `launch`.

use std::process::ExitCode;

use anyhow::Result;

use boxtop::escape;
use boxtop::instance::launch::log_dir;
use boxtop::instance::status::Origin;
use boxtop::launch::{self, oneoff, Outcome};
use boxtop::outln;
use boxtop::paths::Paths;
use boxtop::sandbox::host::CreateShares;
use boxtop::sandbox::step::{Step, PINNED_NOTE};

use super::{RunArgs, RunCmd};

/// Launches; a detached launch prints the instance's id, a foreground one exits with
/// the app's code.
pub fn run(paths: &Paths, cmd: &RunCmd) -> Result<ExitCode> {
    let request = cmd.request();
    if cmd.print_profile {
        let Some((_, text)) = oneoff::text(paths, &request)? else {
            anyhow::bail!(
                "--print-profile prints a one-off profile: give --share, --network, \
                 --display or --audio (or no profile and a command after `--`)"
            );
        };
        // Validated as a launch would, so that what is printed can be kept as it is.
        launch::plan(paths, &request, CreateShares::DryRun)?;
        escape::out(&text);
        return Ok(ExitCode::SUCCESS);
    }
    match launch::launch(paths, &request) {
        Ok(Outcome::Started { id } | Outcome::Joined { id }) => {
            outln!("{id}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(Outcome::Exited { code, .. }) => Ok(ExitCode::from(code.clamp(0, 255) as u8)),
        Err(err) => {
            if matches!(request.origin, Origin::Desktop | Origin::Autostart) {
                notify_failure(paths, &request.target, &err.to_string());
            }
            Err(err.into())
        }
    }
}

/// Prints the plan a profile turns into; creates no share folder.
pub fn plan(paths: &Paths, args: &RunArgs) -> Result<ExitCode> {
    let request = args.request();
    let planned = launch::plan(paths, &request, CreateShares::DryRun)?;
    escape::out(&planned.plan.to_string());
    if planned.plan.steps.iter().any(Step::is_pinned) {
        outln!("\n{PINNED_NOTE}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A launch from a menu or at login has no terminal: its failure is shown as a desktop
/// notification, when `notify-send` is there.
fn notify_failure(paths: &Paths, target: &launch::Target, message: &str) {
    let name = target.name().unwrap_or_else(|| "the app".to_string());
    let body = format!("{message}\nLogs: {}", log_dir(paths).display());
    let _ = std::process::Command::new("notify-send")
        .args(["--app-name=boxtop", "--icon=dialog-error"])
        .arg(format!(
            "{} could not start in its sandbox",
            escape::controls(&name)
        ))
        .arg(escape::message(&body).as_ref())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}
