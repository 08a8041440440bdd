//! `boxtop __generate`: what packaging installs beside the binary, made from the same
//! definitions the binary uses, so that they cannot drift: a manual page per command
//! from clap's definitions, and `boxtop-profile(5)` from docs/profiles.md. (Completion
//! scripts come from the binary too: `_BOXTOP_COMPLETE=bash boxtop`, see `complete`.)

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Subcommand};

use boxtop::manpage;
use boxtop::outln;

/// `boxtop __generate ...`
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Writes boxtop.1, one page per command (boxtop-run.1, boxtop-desktop-install.1...)
    /// and boxtop-profile.5 into DIR.
    Man { dir: PathBuf },
}

/// The profile format's page is rendered from this document.
const PROFILES_MD: &str = include_str!("../../docs/profiles.md");

pub fn run(what: GenerateCommand) -> Result<ExitCode> {
    match what {
        GenerateCommand::Man { dir } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(super::Cli::command(), &dir)
                .with_context(|| format!("writing manual pages into {}", dir.display()))?;
            let profile = profile_page();
            let path = dir.join("boxtop-profile.5");
            std::fs::write(&path, profile)
                .with_context(|| format!("writing {}", path.display()))?;
            outln!("wrote {} manual pages into {}", count(&dir), dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `boxtop-profile(5)`.
pub fn profile_page() -> String {
    let source = format!("boxtop {}", env!("CARGO_PKG_VERSION"));
    manpage::render(
        PROFILES_MD,
        &manpage::Page {
            name: "boxtop-profile",
            section: 5,
            summary: "boxtop's profile format: what one sandboxed app may reach",
            source: &source,
            manual: "File Formats Manual",
        },
    )
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().count())
        .unwrap_or(0)
}
