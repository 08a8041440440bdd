//! A request planned: its profile loaded, the host scanned for what it grants, the share
//! folders resolved, and the plan built with the new instance's id.

use std::path::{Path, PathBuf};

use super::{LaunchError, Request, Target};
use crate::access::{self, Session, Severity};
use crate::errln;
use crate::instance::launch as instance_launch;
use crate::paths::Paths;
use crate::profile::{Profile, ProfileSet};
use crate::sandbox::forward::{self, Forwarding, Visible};
use crate::sandbox::host::{self, CreateShares, Host};
use crate::sandbox::plan::{Plan, PlanInput};

/// A profile ready to launch.
pub struct Planned {
    pub profile: Profile,
    pub host: Host,
    pub plan: Plan,
    /// The id the new instance would get.
    pub id: String,
    /// What the arguments made visible inside, and what they named but the profile does
    /// not forward (`forward_files = false`).
    pub forwarding: Forwarding,
    /// The share folders planning made, removed again unless the launch keeps them.
    pub(super) created: CreatedFolders,
    /// The profiles as planning read them, for the launch's checks against others.
    pub(super) profiles: ProfileSet,
}

/// Plans `request` (its profile and arguments; how it would run does not matter here).
/// With `CreateShares::Yes`, share folders marked `create = true` are made: they are
/// removed again, if still empty, when the `Planned` is dropped without being launched.
pub fn plan(
    paths: &Paths,
    request: &Request,
    create: CreateShares,
) -> Result<Planned, LaunchError> {
    // A one-off launch's temporary profile (`oneoff`), else the profile as it is.
    // The profiles are read once: a launch's start-up time is mostly this and the sandbox.
    let set = ProfileSet::load(&paths.user_profiles());
    let one_off = if request.one_off.is_empty() && request.target != Target::Bare {
        None
    } else {
        super::oneoff::profile(paths, &set, request)?
    };
    let (profile, extra_args) = match one_off {
        Some(one_off) => one_off,
        None => (load_profile(&set, &request.target)?, request.args.clone()),
    };
    let mut created = CreatedFolders::default();
    // Only what the profile is granted: a launch does not look at the rest.
    let host = Host::detect_for(paths, access::Wants::of(&profile));
    let share_err = |error| LaunchError::Share {
        profile: profile.name.clone(),
        error: Box::new(error),
    };
    let shares = host::resolve_shares(
        &profile,
        &paths.home,
        &host.private_homes,
        create,
        &mut created.folders,
    )
    .map_err(share_err)?;
    let binds = host::existing_binds(&profile, &paths.home).map_err(share_err)?;
    let boxtop_folders: Vec<PathBuf> = [&paths.config, &paths.data, &paths.state]
        .into_iter()
        .chain(paths.runtime.as_ref())
        .chain(std::iter::once(&host.private_homes))
        .cloned()
        .collect();
    let visible = Visible {
        home: &paths.home,
        shares: &shares,
        binds: &binds,
        top_level: &host.top_level,
        boxtop: &boxtop_folders,
    };
    // The caller's folder, as the kernel names it (no symlink): where relative arguments
    // are, and where the app starts when it sees it.
    let cwd = std::env::current_dir().ok();
    let forwarding = forward::forward(&extra_args, &visible, cwd.as_deref(), profile.forward_files)
        .map_err(|error| LaunchError::Forward {
            profile: profile.name.clone(),
            error: Box::new(error),
        })?;
    let program = host::find_binary(&profile);
    if !profile.binaries.is_empty() && program.is_none() {
        return Err(LaunchError::AppNotInstalled {
            profile: profile.name.clone(),
            looked_for: profile.binaries.clone(),
        });
    }
    let id = instance_launch::store(paths).new_id(&profile.name);
    let instance_dir = paths.instance_dir(&id).map_err(LaunchError::setup)?;
    let input = PlanInput {
        shares,
        binds,
        program,
        extra_args: forwarding.args.clone(),
        instance_dir,
        forwards: forwarding.forwards.clone(),
        cwd: forwarding.cwd.clone(),
    };
    let plan = Plan::new(&profile, &host, &input).map_err(LaunchError::setup)?;
    Ok(Planned {
        profile,
        host,
        plan,
        id,
        forwarding,
        created,
        profiles: set,
    })
}

fn load_profile(set: &ProfileSet, target: &Target) -> Result<Profile, LaunchError> {
    let (profile, found) = match target {
        Target::File(file) => (set.resolve_file(file), file.exists()),
        Target::Name(name) => (set.resolve(name), set.get(name).is_some()),
        Target::Bare => {
            return Err(LaunchError::BadRequest(
                "no profile named, and no one-off profile built".into(),
            ))
        }
    };
    profile.map_err(|error| LaunchError::Profile {
        error: Box::new(error),
        found,
    })
}

/// Warnings about the machine rather than the profile, said once per login: `said-GRANT`
/// files in the session's runtime folder, which goes at logout, remember them.
const ONCE_PER_SESSION: &[&str] = &["gpu"];

/// Says which granted things the host lacks: warnings on stderr (those of
/// `ONCE_PER_SESSION` once per session, remembered in `runtime`), errors stop the launch.
pub(super) fn report_missing(
    profile: &Profile,
    session: &Session,
    runtime: Option<&Path>,
) -> Result<(), LaunchError> {
    let mut missing = Vec::new();
    for item in &access::missing(profile, session) {
        let text = format!("{} grant: {}", item.grant, item.message);
        match item.severity {
            Severity::Error => missing.push(text),
            Severity::Warning if !is_first_time(runtime, item.grant) => {}
            Severity::Warning => {
                errln!("boxtop: profile '{}': warning: {text}", profile.name)
            }
        }
    }
    if !missing.is_empty() {
        return Err(LaunchError::HostLacks {
            profile: profile.name.clone(),
            missing,
        });
    }
    Ok(())
}

/// Whether a warning about `grant` is said for the first time this session (always, for
/// a warning not of `ONCE_PER_SESSION` or without a runtime folder); remembers it.
fn is_first_time(runtime: Option<&Path>, grant: &str) -> bool {
    let Some(runtime) = runtime.filter(|_| ONCE_PER_SESSION.contains(&grant)) else {
        return true;
    };
    let said = runtime.join(format!("said-{grant}"));
    if said.exists() {
        return false;
    }
    if crate::paths::ensure_private_dir(runtime).is_ok() {
        let _ = std::fs::write(&said, b"");
    }
    true
}

/// Share folders a launch made (`create = true`): removed again, if still empty, when the
/// launch fails after all, so that a failed launch leaves nothing in the home.
#[derive(Default)]
pub(super) struct CreatedFolders {
    /// Deepest last.
    folders: Vec<PathBuf>,
    kept: bool,
}

impl CreatedFolders {
    /// The launch started: the folders stay.
    pub(super) fn keep(&mut self) {
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
