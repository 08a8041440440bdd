//! `boxtop import`: the command as clap reads it, and what it prints; the work is done
//! by the library's `import`.

use std::path::PathBuf;
use std::process::ExitCode;

use boxtop::import::{import_all, import_one, report, Options};
use boxtop::paths::Paths;
use boxtop::{errln, outln};

/// `boxtop import ...`
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Write a boxtop profile from a Firejail profile, following its includes.
    ///
    /// Whitelisted folders of the home become shares, `net none` no network, `nosound`
    /// no audio, `dbus-user filter` names the [dbus] lists. What has no boxtop
    /// equivalent is listed, on the terminal and as comments at the end of the file.
    Firejail(FirejailArgs),
}

/// `boxtop import firejail`
#[derive(Debug, clap::Args)]
pub struct FirejailArgs {
    /// A Firejail profile name (looked up in ~/.config/firejail, then /etc/firejail), or
    /// a profile file.
    #[arg(
        value_name = "NAME|FILE",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub profile: Option<String>,
    /// Convert every *.profile file of this folder, e.g. /etc/firejail.
    #[arg(long, value_name = "FOLDER")]
    pub all: Option<PathBuf>,
    /// Write into this folder instead of your profile folder.
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace a profile of the same name already in the output folder.
    #[arg(long)]
    pub force: bool,
    /// The new profile's name (default: the Firejail profile's, in lowercase).
    #[arg(long, conflicts_with = "all")]
    pub name: Option<String>,
}

/// Runs `boxtop import`.
pub fn run(cmd: ImportCommand, paths: &Paths) -> anyhow::Result<ExitCode> {
    let ImportCommand::Firejail(args) = cmd;
    let options = Options {
        output: args.output.clone(),
        force: args.force,
    };
    match (&args.all, &args.profile) {
        (Some(folder), _) => {
            let done = import_all(paths, folder, &options)?;
            for failure in &done.failures {
                errln!("boxtop: {failure}");
            }
            for line in &done.summary {
                outln!("{line}");
            }
            Ok(if done.is_complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        (None, Some(profile)) => {
            let done = import_one(paths, profile, args.name.as_deref(), &options)?;
            let name = &done.written.name;
            outln!(
                "wrote {} from {} ({} files read)",
                done.written.path.display(),
                done.source.display(),
                done.written.files_read
            );
            if done.overrides_bundled {
                outln!("  it overrides the bundled profile '{name}' (delete the file to use the bundled one again)");
            }
            for line in report::notes(&done.written.conversion) {
                outln!("{line}");
            }
            outln!("see what it grants with `boxtop show {name}`");
            Ok(ExitCode::SUCCESS)
        }
        (None, None) => unreachable!("clap requires a profile or --all"),
    }
}
