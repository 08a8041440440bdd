//! The command line, as clap reads it. Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show a profile's permissions (highest risk first) and its effective settings.
    Show {
        /// The profile's name.
        name: String,
        /// Print JSON instead of text.
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
        #[arg(long, value_name = "OTHER")]
        from: Option<String>,
    },
    /// Edit a profile in $VISUAL or $EDITOR (a bundled one is copied to your folder first).
    Edit {
        /// The profile's name.
        name: String,
    },
    /// Menu entries that start apps in their sandbox (.desktop files).
    #[command(subcommand)]
    Desktop(boxtop::entries::DesktopCommand),
    /// Write boxtop profiles from another sandbox's profiles (Firejail's).
    #[command(subcommand)]
    Import(boxtop::import::ImportCommand),
    /// Start apps in their sandbox at login (XDG autostart).
    #[command(subcommand)]
    Autostart(boxtop::entries::AutostartCommand),
    /// List running and paused instances with their CPU, memory, processes (--all: the
    /// recently ended ones too).
    Ps {
        /// Print JSON instead of a table.
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
    /// Ask instances to end (SIGTERM to the app), killing them after a timeout.
    ///
    /// Prints how each ended; exits with 1 if one could not be stopped, or if its
    /// processes are gone but its end could not be recorded (a full runtime folder).
    Stop {
        /// Instance ids, or profile names (all their running instances).
        #[arg(required = true, value_name = "ID|PROFILE")]
        targets: Vec<String>,
        /// Seconds to wait before SIGKILL.
        #[arg(long, value_name = "SECS", default_value_t = 10)]
        timeout: u64,
    },
    /// End instances at once (SIGKILL to the whole sandbox); exits with 1 as `stop` does.
    Kill {
        #[arg(required = true, value_name = "ID|PROFILE")]
        targets: Vec<String>,
    },
    /// Freeze every process of instances.
    Pause {
        #[arg(required = true, value_name = "ID|PROFILE")]
        targets: Vec<String>,
    },
    /// Thaw paused instances.
    Resume {
        #[arg(required = true, value_name = "ID|PROFILE")]
        targets: Vec<String>,
    },
    /// Run a shell, or the command after `--`, inside a running instance.
    Enter {
        /// The instance id (or a profile with one running instance).
        #[arg(value_name = "ID|PROFILE")]
        target: String,
        /// The command and its arguments.
        #[arg(last = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Print what a detached instance wrote to its stdout and stderr.
    ///
    /// Exits with 1, saying why after the output, when some of the output could not be
    /// written to the log (a full state folder).
    Logs {
        #[arg(value_name = "ID|PROFILE")]
        target: String,
        /// Keep printing new output until the instance ends.
        #[arg(short, long)]
        follow: bool,
    },
    /// Check the host features boxtop uses, and say how to fix what is missing.
    Doctor {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
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
    pub origin: boxtop::instance::status::Origin,
}

/// Which profile to use, and extra arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The profile's name (see `boxtop list`).
    #[arg(
        required_unless_present = "profile_file",
        conflicts_with = "profile_file"
    )]
    pub profile: Option<String>,
    /// Use this profile file instead of a named profile.
    #[arg(long, value_name = "PATH")]
    pub profile_file: Option<PathBuf>,
    /// Arguments added to the profile's command.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}
