//! boxtop's entry point: parse the command line, dispatch, turn errors into messages and
//! exit codes.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use boxtop::access::{self, Session, Severity};
use boxtop::doctor::{self, Status};
use boxtop::escape;
use boxtop::instance::launch::{self, Launch};
use boxtop::instance::record::Record;
use boxtop::instance::status::Origin;
use boxtop::instance::{control, join};
use boxtop::paths::Paths;
use boxtop::profile::{Profile, ProfileSet};
use boxtop::sandbox::host::{self, Host};
use boxtop::sandbox::plan::{Plan, PlanInput};
use boxtop::sandbox::spawn::Prepared;
use boxtop::{errln, outln};

mod cli;
mod commands;
mod instances;

use cli::{Cli, Command, RunArgs, RunCmd};

/// An error with the exit code to use: `message` is printed, unless empty (already
/// explained to the user).
#[derive(Debug)]
struct Exit {
    code: u8,
    message: String,
}

impl Exit {
    fn message(code: u8, message: String) -> Exit {
        Exit { code, message }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// See Cargo.toml: musl's allocator returns memory to the kernel on most frees.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            if let Some(exit) = err.downcast_ref::<Exit>() {
                if !exit.message.is_empty() {
                    errln!("boxtop: {}", exit.message);
                }
                return ExitCode::from(exit.code);
            }
            // Every error message names things from outside (files, profiles, ids):
            // `errln!` escapes their control characters.
            errln!("boxtop: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let paths = Paths::from_env()?;
    match cli.command {
        None => boxtop::tui::run(
            &paths,
            Some(std::time::Duration::from_secs_f64(cli.refresh)),
        )
        .map(|()| ExitCode::SUCCESS),
        Some(Command::Run(cmd)) => {
            let result = run(&paths, &cmd);
            if let Err(err) = &result {
                if matches!(cmd.origin, Origin::Desktop | Origin::Autostart) {
                    notify_failure(&paths, &cmd, err);
                }
            }
            result
        }
        Some(Command::Plan(args)) => {
            let (_, _, plan, _) = plan_for(&paths, &args, host::CreateShares::DryRun)?;
            escape::out(&plan.to_string());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::List { json }) => commands::list(&paths, json),
        Some(Command::Show { name, json }) => commands::show(&paths, &name, json),
        Some(Command::Check { files }) => commands::check(&paths, &files),
        Some(Command::New { name, from }) => commands::new(&paths, &name, from.as_deref()),
        Some(Command::Edit { name }) => commands::edit(&paths, &name),
        Some(Command::Desktop(cmd)) => boxtop::entries::run_desktop(cmd, &paths),
        Some(Command::Autostart(cmd)) => boxtop::entries::run_autostart(cmd, &paths),
        Some(Command::Import(cmd)) => boxtop::import::run(cmd, &paths),
        Some(Command::Ps {
            json,
            all,
            interval,
        }) => instances::ps(&paths, json, all, interval),
        Some(Command::Stop { targets, timeout }) => instances::stop(&paths, &targets, timeout),
        Some(Command::Kill { targets }) => instances::kill(&paths, &targets),
        Some(Command::Pause { targets }) => instances::pause(&paths, &targets, true),
        Some(Command::Resume { targets }) => instances::pause(&paths, &targets, false),
        Some(Command::Enter { target, command }) => instances::enter(&paths, &target, &command),
        Some(Command::Logs { target, follow }) => instances::logs(&paths, &target, follow),
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

/// The profile, the host, the plan and the new instance's id.
fn plan_for(
    paths: &Paths,
    args: &RunArgs,
    create: host::CreateShares,
) -> Result<(Profile, Host, Plan, String)> {
    let profile = load_profile(paths, args)?;
    plan_profile(paths, args, profile, create, &mut CreatedFolders::default())
}

/// Share folders a launch made (`create = true`): removed again, if still empty, when the
/// launch fails after all, so that a failed launch leaves nothing in the home.
#[derive(Default)]
struct CreatedFolders {
    /// Deepest last.
    folders: Vec<std::path::PathBuf>,
    kept: bool,
}

impl CreatedFolders {
    /// The launch started: the folders stay.
    fn keep(&mut self) {
        self.kept = true;
    }
}

impl Drop for CreatedFolders {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        // Only empty folders go: anything put in them meanwhile is the user's.
        for folder in self.folders.iter().rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
}

/// `plan_for` for a loaded profile; the share folders it makes are added to `created`.
fn plan_profile(
    paths: &Paths,
    args: &RunArgs,
    profile: Profile,
    create: host::CreateShares,
    created: &mut CreatedFolders,
) -> Result<(Profile, Host, Plan, String)> {
    // Only what the profile is granted: a launch does not look at the rest.
    let host = Host::detect_for(paths, access::Wants::of(&profile));
    let shares = host::resolve_shares(
        &profile,
        &paths.home,
        &host.private_homes,
        create,
        &mut created.folders,
    )
    .with_context(|| format!("profile '{}'", profile.name))?;
    let binds = host::existing_binds(&profile, &paths.home)
        .with_context(|| format!("profile '{}'", profile.name))?;
    let program = host::find_binary(&profile);
    if !profile.binaries.is_empty() && program.is_none() {
        anyhow::bail!(
            "profile '{}': the app is not installed here (looked for {})",
            profile.name,
            profile.binaries.join(", ")
        );
    }
    let id = launch::store(paths).new_id(&profile.name);
    let instance_dir = paths.instance_dir(&id)?;
    let input = PlanInput {
        shares,
        binds,
        program,
        extra_args: args.args.clone(),
        instance_dir,
    };
    let plan = Plan::new(&profile, &host, &input)?;
    Ok((profile, host, plan, id))
}

/// Says which granted things the host lacks; errors stop the launch.
fn report_missing(profile: &Profile, session: &Session) -> Result<()> {
    let missing = access::missing(profile, session);
    let mut errors = Vec::new();
    for item in &missing {
        let text = format!("{} grant: {}", item.grant, item.message);
        match item.severity {
            Severity::Error => errors.push(text),
            Severity::Warning => {
                errln!("boxtop: profile '{}': warning: {text}", profile.name)
            }
        }
    }
    if !errors.is_empty() {
        return Err(Exit {
            code: 125,
            message: format!("profile '{}': {}", profile.name, errors.join("; ")),
        }
        .into());
    }
    Ok(())
}

fn run(paths: &Paths, cmd: &RunCmd) -> Result<ExitCode> {
    let mut created = CreatedFolders::default();
    let profile = load_profile(paths, &cmd.target)?;
    let (profile, host, plan, id) = plan_profile(
        paths,
        &cmd.target,
        profile,
        host::CreateShares::Yes,
        &mut created,
    )?;
    report_missing(&profile, &host.session)?;
    let store = launch::store(paths);
    // Held until the sandbox ends: by this process, or by the detached supervisor that
    // inherits it.
    let home_lock = if profile.home.ephemeral {
        None
    } else if cmd.new_instance {
        let lock = join::HomeLock::try_take(&store, &profile.name)
            .with_context(|| format!("profile '{}'", profile.name))?;
        if lock.is_none() {
            errln!(
                "boxtop: profile '{}': warning: another sandbox of this profile runs; \
                 both use its private home {}",
                profile.name,
                paths.private_home(&profile.name)?.display()
            );
        }
        lock
    } else {
        // A sandbox found running may be ending (its app gone, pid 1 or its supervisor
        // about to follow): joining it fails, and the home is claimed again once it has
        // ended, a few times.
        let mut tries = 0;
        loop {
            match join::claim(&store, &profile.name, join::HOLDER_WAIT)
                .with_context(|| format!("profile '{}'", profile.name))?
            {
                join::Claim::Home(lock) => break Some(lock),
                join::Claim::Running(record) => {
                    match run_in_running(cmd, &profile, &record, &plan.argv) {
                        // Joining failed because the sandbox was ending (its app gone,
                        // pid 1 about to follow): the home is claimed again once it has.
                        Err(_) if tries < 5 && control::ends_within(&record, ENDING_WAIT) => {
                            tries += 1
                        }
                        result => return result,
                    }
                }
            }
        }
    };
    let cache = store.ensure().ok().map(|()| store.dir());
    let prepared =
        Prepared::new(&plan, cache).with_context(|| format!("profile '{}'", profile.name))?;
    let log = launch::log_dir(paths).join(format!("{id}.log"));
    let launch = Launch {
        paths,
        id,
        profile: profile.name.clone(),
        origin: cmd.origin,
        home_lock: home_lock.as_ref(),
    };
    let result = if cmd.detach {
        launch::run_detached(&launch, &prepared).map(|id| {
            outln!("{id}");
            0
        })
    } else {
        launch::run_foreground(&launch, &prepared)
    };
    if result.is_ok() {
        created.keep();
    }
    match result {
        Ok(code) => Ok(ExitCode::from(code.clamp(0, 255) as u8)),
        Err(err) => {
            let mut message = format!("profile '{}': {err}", profile.name);
            if cmd.detach && log.exists() {
                message.push_str(&format!("\nlog: {}", log.display()));
            }
            Err(Exit {
                code: err.exit_code(),
                message,
            }
            .into())
        }
    }
}

/// A launch of a profile whose private home a running sandbox holds: the command runs in
/// that sandbox (see `instance::join`).
fn run_in_running(
    cmd: &RunCmd,
    profile: &Profile,
    record: &Record,
    argv: &[String],
) -> Result<ExitCode> {
    let context = || format!("profile '{}'", profile.name);
    errln!(
        "boxtop: profile '{}' already runs as {}, which holds its private home: the command \
         runs in that sandbox (--new-instance starts another)",
        profile.name,
        record.id
    );
    if cmd.detach {
        join::run_detached_in(record, argv, cmd.origin).with_context(context)?;
        outln!("{}", record.id);
        return Ok(ExitCode::SUCCESS);
    }
    let code = control::enter(record, argv).with_context(context)?;
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// How long a launch waits for a sandbox it could not join to end, before it says why.
const ENDING_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// A launch from a menu or at login has no terminal: its failure is shown as a desktop
/// notification, when `notify-send` is there.
fn notify_failure(paths: &Paths, cmd: &RunCmd, err: &anyhow::Error) {
    let name = cmd
        .target
        .profile
        .clone()
        .or_else(|| {
            let file = cmd.target.profile_file.as_ref()?;
            Some(file.file_stem()?.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "the app".to_string());
    let message = match err.downcast_ref::<Exit>() {
        Some(exit) => exit.message.clone(),
        None => format!("{err:#}"),
    };
    let body = format!("{message}\nLogs: {}", launch::log_dir(paths).display());
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

fn doctor(paths: &Paths, json: bool) -> Result<ExitCode> {
    let checks = doctor::run_checks(paths);
    if json {
        escape::out_json(&serde_json::to_string_pretty(&checks)?);
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
