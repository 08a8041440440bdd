//! boxtop's entry point: parse the command line, dispatch, turn errors into messages and
//! exit codes.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use boxtop::access::{self, Session, Severity};
use boxtop::doctor::{self, Status};
use boxtop::paths::Paths;
use boxtop::profile::{Profile, ProfileSet};
use boxtop::sandbox::host::{self, Host};
use boxtop::sandbox::plan::{Plan, PlanInput};
use boxtop::sandbox::spawn::{self, Prepared};

mod cli;
mod commands;

use cli::{Cli, Command, RunArgs};

/// An error already explained to the user, with the exit code to use.
#[derive(Debug)]
struct Exit(u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}

impl std::error::Error for Exit {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            if let Some(Exit(code)) = err.downcast_ref::<Exit>() {
                return ExitCode::from(*code);
            }
            eprintln!("boxtop: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let paths = Paths::from_env()?;
    match cli.command {
        None => boxtop::tui::run(&paths).map(|()| ExitCode::SUCCESS),
        Some(Command::Run(args)) => run(&paths, &args),
        Some(Command::Plan(args)) => {
            let (_, _, plan) = plan_for(&paths, &args)?;
            print!("{plan}");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::List { json }) => commands::list(&paths, json),
        Some(Command::Show { name, json }) => commands::show(&paths, &name, json),
        Some(Command::Check { files }) => commands::check(&paths, &files),
        Some(Command::New { name, from }) => commands::new(&paths, &name, from.as_deref()),
        Some(Command::Edit { name }) => commands::edit(&paths, &name),
        Some(Command::Desktop(cmd)) => boxtop::entries::run_desktop(cmd, &paths),
        Some(Command::Autostart(cmd)) => boxtop::entries::run_autostart(cmd, &paths),
        Some(Command::Doctor { json }) => doctor(&paths, json),
    }
}

fn load_profile(paths: &Paths, args: &RunArgs) -> Result<Profile> {
    let set = ProfileSet::load(&paths.user_profiles());
    let profile = match (&args.profile_file, &args.profile) {
        (Some(file), _) => set.resolve_file(file),
        (None, Some(name)) => set.resolve(name),
        (None, None) => unreachable!("clap requires a profile or --profile-file"),
    };
    profile.map_err(|err| anyhow::anyhow!("{err}"))
}

fn plan_for(paths: &Paths, args: &RunArgs) -> Result<(Profile, Host, Plan)> {
    let profile = load_profile(paths, args)?;
    let host = Host::detect(paths);
    let shares = host::resolve_shares(&profile, &paths.home)
        .with_context(|| format!("profile '{}'", profile.name))?;
    let binds =
        host::existing_binds(&profile).with_context(|| format!("profile '{}'", profile.name))?;
    let program = host::find_binary(&profile);
    if !profile.binaries.is_empty() && program.is_none() {
        anyhow::bail!(
            "profile '{}': the app is not installed here (looked for {})",
            profile.name,
            profile.binaries.join(", ")
        );
    }
    let instance_dir = paths.instance_dir(&format!("{}-{}", profile.name, std::process::id()));
    let input = PlanInput {
        shares,
        binds,
        program,
        extra_args: args.args.clone(),
        instance_dir,
    };
    let plan = Plan::new(&profile, &host, &input);
    Ok((profile, host, plan))
}

/// Says which granted things the host lacks; errors stop the launch.
fn report_missing(profile: &Profile, session: &Session) -> Result<()> {
    let missing = access::missing(profile, session);
    for item in &missing {
        let level = match item.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        eprintln!(
            "boxtop: profile '{}': {level}: {} grant: {}",
            profile.name, item.grant, item.message
        );
    }
    if missing.iter().any(|item| item.severity == Severity::Error) {
        return Err(Exit(125).into());
    }
    Ok(())
}

fn run(paths: &Paths, args: &RunArgs) -> Result<ExitCode> {
    let (profile, host, plan) = plan_for(paths, args)?;
    report_missing(&profile, &host.session)?;
    let prepared = Prepared::new(&plan).with_context(|| format!("profile '{}'", profile.name))?;
    match spawn::run(&prepared) {
        Ok(code) => Ok(ExitCode::from(code.clamp(0, 255) as u8)),
        Err(err) => {
            eprintln!("boxtop: profile '{}': {err}", profile.name);
            Err(Exit(err.exit_code()).into())
        }
    }
}

fn doctor(paths: &Paths, json: bool) -> Result<ExitCode> {
    let checks = doctor::run_checks(paths);
    if json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        for check in &checks {
            let mark = match check.status {
                Status::Ok => "ok     ",
                Status::Missing => "missing",
                Status::Limited => "limited",
            };
            println!("{mark}  {:<22} {}", check.feature, check.detail);
            if let Some(fix) = &check.fix {
                println!("         {:<22} fix: {fix}", "");
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
