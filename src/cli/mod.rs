//! The command line: clap's reading of it (doc comments are the help text), the dispatch
//! to one file per command group, and the one place where errors become messages and
//! exit codes.

mod complete;
mod doctor;
mod entries;
mod generate;
mod import;
mod instances;
mod live;
mod machine;
mod profiles;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};

use boxtop::errln;
use boxtop::instance::status::Origin;
use boxtop::launch::oneoff::OneOff;
use boxtop::launch::{self, LaunchError};
use boxtop::paths::Paths;

/// An error with the exit code to use: `message` is printed, unless empty (already
/// explained to the user).
#[derive(Debug)]
pub struct Exit {
    code: u8,
    message: String,
}

impl Exit {
    pub fn message(code: u8, message: String) -> Exit {
        Exit { code, message }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// Parses the command line, runs the command, and turns its error into a message on
/// stderr and an exit code.
pub fn main() -> ExitCode {
    complete::answer_if_asked();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            let (code, message) = code_and_message(&err);
            if !message.is_empty() {
                // Every error message names things from outside (files, profiles, ids):
                // `errln!` escapes their control characters.
                errln!("boxtop: {message}");
            }
            ExitCode::from(code)
        }
    }
}

/// The exit code and the message of an error: a launch's knows its code, an `Exit` says
/// it, the rest exit with 1.
fn code_and_message(err: &anyhow::Error) -> (u8, String) {
    if let Some(exit) = err.downcast_ref::<Exit>() {
        return (exit.code, exit.message.clone());
    }
    if let Some(err) = err.downcast_ref::<LaunchError>() {
        return (err.exit_code(), err.to_string());
    }
    (1, format!("{err:#}"))
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let paths = Paths::from_env()?;
    match cli.command {
        None => boxtop::tui::run(
            &paths,
            Some(std::time::Duration::from_secs_f64(cli.refresh)),
        )
        .map(|()| ExitCode::SUCCESS),
        Some(Command::Run(cmd)) => run::run(&paths, &cmd),
        Some(Command::Plan(args)) => run::plan(&paths, &args),
        Some(Command::List { json }) => profiles::list(&paths, json),
        Some(Command::Show { name, json }) => profiles::show(&paths, &name, json),
        Some(Command::Check { files }) => profiles::check(&paths, &files),
        Some(Command::New {
            name,
            from,
            from_desktop_file,
        }) => profiles::new(&paths, &name, from.as_deref(), from_desktop_file.as_deref()),
        Some(Command::Edit { name }) => profiles::edit(&paths, &name),
        Some(Command::Reset { name, key }) => profiles::reset(&paths, &name, key.as_deref()),
        Some(Command::Desktop(cmd)) => entries::run_desktop(cmd, &paths),
        Some(Command::Autostart(cmd)) => entries::run_autostart(cmd, &paths),
        Some(Command::Import(cmd)) => import::run(cmd, &paths),
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
        Some(Command::Share {
            target,
            path,
            ro,
            save,
        }) => live::share(&paths, &target, &path, ro, save),
        Some(Command::Unshare { target, path }) => live::unshare(&paths, &target, &path),
        Some(Command::Net { target, network }) => live::net(&paths, &target, network),
        Some(Command::Open { target, path }) => live::open(&paths, &target, &path),
        Some(Command::Doctor { json }) => doctor::doctor(&paths, json),
        Some(Command::Machine(MachineCommand::Run)) => Ok(machine::run(&paths)),
        Some(Command::Generate(what)) => generate::run(what),
    }
}

/// Run desktop apps in rootless sandboxes, each with a profile saying what it may reach.
///
/// With no command, opens the terminal UI.
#[derive(Debug, Parser)]
#[command(name = "boxtop", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Seconds between two readings of the instances in the terminal UI (0.2 to 60).
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0, value_parser = parse_refresh)]
    pub refresh: f64,
}

fn parse_refresh(text: &str) -> Result<f64, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if (0.2..=60.0).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!(
            "{secs} s is out of range: between 0.2 and 60 seconds"
        ))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an app in its sandbox; arguments after `--` are added to the profile's command.
    Run(RunCmd),
    /// Print the plan a profile turns into: namespaces, mounts, environment, command.
    Plan(RunArgs),
    /// List every profile: installed here?, where it comes from, its highest risk.
    List {
        /// Print JSON instead of a table (schema `boxtop.list`, documented in docs/json.md).
        #[arg(long)]
        json: bool,
    },
    /// Show a profile's permissions (highest risk first) and its effective settings.
    Show {
        /// The profile's name, or a running instance's id: its profile's permissions
        /// and what it has beyond them now (`boxtop share`, forwarded files).
        #[arg(add = complete::profile_names())]
        name: String,
        /// Print JSON instead of text (schema `boxtop.show`, documented in docs/json.md).
        #[arg(long)]
        json: bool,
    },
    /// Validate profile files (all known profiles when no file is given).
    Check {
        /// Profile files to check.
        files: Vec<PathBuf>,
    },
    /// Write a new user profile, from a template or from another profile.
    New {
        /// The new profile's name.
        name: String,
        /// Start from this profile (it is extended, so later fixes to it still apply).
        #[arg(long, value_name = "OTHER", conflicts_with = "from_desktop_file", add = complete::profile_names())]
        from: Option<String>,
        /// Write a profile for an installed app from its desktop entry (a file, or an id
        /// such as org.xfce.mousepad): its command, and grants suggested from its
        /// categories, each with a comment saying why.
        #[arg(long, value_name = "FILE|ID")]
        from_desktop_file: Option<String>,
    },
    /// Edit a profile in $VISUAL or $EDITOR (a bundled one is copied to your folder first).
    Edit {
        /// The profile's name.
        #[arg(add = complete::profile_names())]
        name: String,
    },
    /// Undo your override of a bundled profile: whole (your file is removed), or one key.
    ///
    /// KEY is a top-level key (`display`, `binds`, `gpu`) or TABLE.KEY (`home.share`,
    /// `dbus.talk`, `env.LANG`, `limits.memory`); `boxtop show NAME` lists what the
    /// override changes.
    Reset {
        /// The profile's name.
        #[arg(add = complete::profile_names())]
        name: String,
        /// Only this key goes back to the bundled default.
        key: Option<String>,
    },
    /// Menu entries that start apps in their sandbox (.desktop files).
    #[command(subcommand)]
    Desktop(entries::DesktopCommand),
    /// Write boxtop profiles from another sandbox's profiles (Firejail's).
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Start apps in their sandbox at login (XDG autostart).
    #[command(subcommand)]
    Autostart(entries::AutostartCommand),
    /// List running and paused instances with their CPU, memory, processes (--all: the
    /// recently ended ones too).
    Ps {
        /// Print JSON instead of a table (schema `boxtop.ps`, documented in docs/json.md).
        #[arg(long)]
        json: bool,
        /// List ended and lost instances too (the last 50 ended are kept), not only the
        /// starting, running, paused and stopping ones.
        #[arg(short, long)]
        all: bool,
        /// Milliseconds between the two readings CPU % is computed from.
        #[arg(long, value_name = "MS", default_value_t = 250)]
        interval: u64,
    },
    /// Ask instances to end as the user would, killing them after a timeout.
    ///
    /// Their X11 windows are asked to close first (as a close button does: an editor
    /// asks about unsaved changes), given half the timeout; then SIGTERM to the app;
    /// then SIGKILL to the whole sandbox once the timeout has passed.
    /// Prints how each ended and which step ended it; exits with 1 if one could not be stopped, or if its
    /// processes are gone but its end could not be recorded (a full runtime folder).
    Stop {
        /// Instance ids, or profile names (all their running instances).
        #[arg(required = true, value_name = "ID|PROFILE", add = complete::instance_targets())]
        targets: Vec<String>,
        /// Seconds to wait before SIGKILL (half of them for the windows to close).
        #[arg(long, value_name = "SECS", default_value_t = 10)]
        timeout: u64,
    },
    /// End instances at once (SIGKILL to the whole sandbox); exits with 1 as `stop` does.
    Kill {
        #[arg(required = true, value_name = "ID|PROFILE", add = complete::instance_targets())]
        targets: Vec<String>,
    },
    /// Freeze every process of instances.
    Pause {
        #[arg(required = true, value_name = "ID|PROFILE", add = complete::instance_targets())]
        targets: Vec<String>,
    },
    /// Thaw paused instances.
    Resume {
        #[arg(required = true, value_name = "ID|PROFILE", add = complete::instance_targets())]
        targets: Vec<String>,
    },
    /// Run a shell, or the command after `--`, inside a running instance.
    Enter {
        /// The instance id (or a profile with one running instance).
        #[arg(value_name = "ID|PROFILE", add = complete::instance_targets())]
        target: String,
        /// The command and its arguments.
        #[arg(last = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Share a folder or file of your home with a running instance, at the same path,
    /// while it runs (checked as a share of its profile would be).
    Share {
        /// The instance id (or a profile with one running instance).
        #[arg(value_name = "ID|PROFILE", add = complete::instance_targets())]
        target: String,
        /// The folder or file: absolute, `~/...` or relative to this folder.
        #[arg(value_name = "PATH")]
        path: String,
        /// Read-only (read-write otherwise).
        #[arg(long)]
        ro: bool,
        /// Also add it to the profile's shares (its file keeps its comments).
        #[arg(long)]
        save: bool,
    },
    /// Take back a folder or file shared with a running instance.
    Unshare {
        #[arg(value_name = "ID|PROFILE", add = complete::instance_targets())]
        target: String,
        #[arg(value_name = "PATH")]
        path: String,
    },
    /// Switch a running instance's network: `isolated` connects it to the internet
    /// (pasta, no address of this machine), `none` cuts it off again (its connections
    /// die with pasta). Only for instances with a network of their own.
    Net {
        #[arg(value_name = "ID|PROFILE", add = complete::instance_targets())]
        target: String,
        #[arg(value_name = "NETWORK")]
        network: LiveNetworkArg,
    },
    /// Open a file in a running instance: shared with it (read-write, for its life) when
    /// it does not see it, then its profile's command run there with the file.
    Open {
        #[arg(value_name = "ID|PROFILE", add = complete::instance_targets())]
        target: String,
        /// The file: absolute, `~/...` or relative to this folder.
        #[arg(value_name = "PATH")]
        path: String,
    },
    /// Print what a detached instance wrote to its stdout and stderr.
    ///
    /// Exits with 1, saying why after the output, when some of the output could not be
    /// written to the log (a full state folder).
    Logs {
        #[arg(value_name = "ID|PROFILE", add = complete::instance_targets())]
        target: String,
        /// Keep printing new output until the instance ends.
        #[arg(short, long)]
        follow: bool,
    },
    /// Check the host features boxtop uses, and say how to fix what is missing.
    Doctor {
        /// Print JSON instead of text (schema `boxtop.doctor`, documented in docs/json.md).
        #[arg(long)]
        json: bool,
    },
    /// For boxtop itself: requests in JSON on stdin, answers in JSON on stdout (the TUI
    /// launches through it, see `boxtop::launch::machine`).
    #[command(name = "__machine", hide = true, subcommand)]
    Machine(MachineCommand),
    /// For packaging: writes the manual pages (`make install` and `make deb` use it).
    #[command(name = "__generate", hide = true, subcommand)]
    Generate(generate::GenerateCommand),
}

/// `boxtop __machine ...`
#[derive(Debug, Subcommand)]
pub enum MachineCommand {
    /// Reads one `launch::Request`, launches it detached, writes one `machine::Answer`.
    /// Named as `boxtop run` is: a launch's processes say "run" in their command line.
    Run,
}

/// `boxtop run`: the profile, and how to run it.
#[derive(Debug, Args)]
pub struct RunCmd {
    #[command(flatten)]
    pub target: RunArgs,
    /// Return once the app runs, leaving it running in the background; its output goes
    /// to `boxtop logs ID`. Prints the instance id.
    #[arg(short, long)]
    pub detach: bool,
    /// Start a sandbox of its own even when the profile already runs. Without it, a
    /// profile with a persistent private home runs the command in the sandbox already
    /// using that home: two sandboxes on one home can corrupt the app's data.
    #[arg(long)]
    pub new_instance: bool,
    /// Who starts it (shown by `boxtop ps`; desktop and autostart launches report
    /// failures with a desktop notification).
    #[arg(long, value_enum, default_value = "cli", hide = true)]
    pub origin: OriginArg,
    /// Print the one-off profile the flags make (as TOML, to keep in your profiles
    /// folder) instead of running it.
    #[arg(long)]
    pub print_profile: bool,
}

/// `--origin`, as clap reads it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OriginArg {
    Cli,
    Tui,
    Desktop,
    Autostart,
}

/// The networks `boxtop net` can give a running instance.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LiveNetworkArg {
    /// Only `lo`: cut off.
    None,
    /// The internet through pasta, no address of this machine.
    Isolated,
}

impl From<LiveNetworkArg> for boxtop::profile::Network {
    fn from(network: LiveNetworkArg) -> boxtop::profile::Network {
        match network {
            LiveNetworkArg::None => boxtop::profile::Network::None,
            LiveNetworkArg::Isolated => boxtop::profile::Network::Isolated,
        }
    }
}

impl From<OriginArg> for Origin {
    fn from(origin: OriginArg) -> Origin {
        match origin {
            OriginArg::Cli => Origin::Cli,
            OriginArg::Tui => Origin::Tui,
            OriginArg::Desktop => Origin::Desktop,
            OriginArg::Autostart => Origin::Autostart,
        }
    }
}

impl RunCmd {
    /// The launch this command asks for.
    pub fn request(&self) -> launch::Request {
        launch::Request {
            origin: self.origin.into(),
            detach: self.detach,
            new_instance: self.new_instance,
            ..self.target.request()
        }
    }
}

/// Which profile to use, and extra arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The profile's name (see `boxtop list`). Without one, the command after `--` runs
    /// in a one-off sandbox granted only what the flags say.
    #[arg(conflicts_with = "profile_file", add = complete::profile_names())]
    pub profile: Option<String>,
    /// Use this profile file instead of a named profile.
    #[arg(long, value_name = "PATH")]
    pub profile_file: Option<PathBuf>,
    /// One-off: also make PATH visible, read-only unless `:rw` (`~/Music`, `notes:rw`,
    /// `/media/usb:ro`); in your home a share, elsewhere a bind. Repeatable.
    #[arg(long = "share", value_name = "PATH[:ro|:rw]")]
    pub shares: Vec<String>,
    /// One-off: the network for this launch.
    #[arg(long, value_enum, value_name = "NETWORK")]
    pub network: Option<NetworkArg>,
    /// One-off: the display for this launch.
    #[arg(long, value_enum, value_name = "DISPLAY")]
    pub display: Option<DisplayArg>,
    /// One-off: the audio for this launch.
    #[arg(long, value_enum, value_name = "AUDIO")]
    pub audio: Option<AudioArg>,
    /// Arguments added to the profile's command (without a profile: the command). Those
    /// naming a file or folder the sandbox does not see (a path, `~/...`, a `file://`
    /// URI) are shared with it read-write, unless the profile says `forward_files = false`.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

/// `--network`, as clap reads it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NetworkArg {
    None,
    Isolated,
    Host,
}

/// `--display`, as clap reads it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DisplayArg {
    None,
    Wayland,
    X11,
    Auto,
}

/// `--audio`, as clap reads it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AudioArg {
    None,
    Pulseaudio,
    Pipewire,
    Auto,
}

impl RunArgs {
    /// The profile as the library names it: none is a one-off of the command alone.
    pub fn target(&self) -> launch::Target {
        match (&self.profile_file, &self.profile) {
            (Some(file), _) => launch::Target::File(file.clone()),
            (None, Some(name)) => launch::Target::Name(name.clone()),
            (None, None) => launch::Target::Bare,
        }
    }

    /// What the flags change for this launch only.
    pub fn one_off(&self) -> OneOff {
        use boxtop::profile::{Audio, Display, Network};
        OneOff {
            shares: self.shares.clone(),
            network: self.network.map(|network| match network {
                NetworkArg::None => Network::None,
                NetworkArg::Isolated => Network::Isolated,
                NetworkArg::Host => Network::Host,
            }),
            display: self.display.map(|display| match display {
                DisplayArg::None => Display::None,
                DisplayArg::Wayland => Display::Wayland,
                DisplayArg::X11 => Display::X11,
                DisplayArg::Auto => Display::Auto,
            }),
            audio: self.audio.map(|audio| match audio {
                AudioArg::None => Audio::None,
                AudioArg::Pulseaudio => Audio::Pulseaudio,
                AudioArg::Pipewire => Audio::Pipewire,
                AudioArg::Auto => Audio::Auto,
            }),
            cwd: std::env::current_dir().ok(),
        }
    }

    /// The launch these arguments ask for, in the foreground from the command line.
    pub fn request(&self) -> launch::Request {
        launch::Request {
            target: self.target(),
            args: self.args.clone(),
            origin: Origin::Cli,
            detach: false,
            new_instance: false,
            one_off: self.one_off(),
        }
    }
}
