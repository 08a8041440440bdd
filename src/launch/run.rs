//! A planned profile launched: the private home claimed (or the sandbox holding it
//! joined), the sandbox prepared, then run in the foreground or detached.

use std::time::Duration;

use super::plan::{plan, report_missing};
use super::{LaunchError, Outcome, Request};
use crate::errln;
use crate::instance::launch::{self as instance_launch, Launch};
use crate::instance::record::{Record, Store};
use crate::instance::{control, join};
use crate::paths::Paths;
use crate::profile::{bus_names, Profile, ProfileSet};
use crate::sandbox::host::CreateShares;
use crate::sandbox::spawn::Prepared;

/// How long a launch waits for a sandbox it could not join to end, before it says why.
const ENDING_WAIT: Duration = Duration::from_secs(1);

/// Launches `request`. Must be called from a single-threaded process: the sandbox is
/// started by `fork` (a multi-threaded front end goes through [`super::machine`]).
/// Warnings (a grant the host only partly offers, a sandbox joined) go to stderr.
pub fn launch(paths: &Paths, request: &Request) -> Result<Outcome, LaunchError> {
    let mut planned = plan(paths, request, CreateShares::Yes)?;
    let profile = &planned.profile;
    report_missing(profile, &planned.host.session, paths.runtime.as_deref())?;
    let store = instance_launch::store(paths);
    refuse_taken_bus_names(paths, &store, profile)?;
    let home_err = |error| LaunchError::Home {
        profile: profile.name.clone(),
        error: Box::new(error),
    };
    // Held until the sandbox ends: by this process, or by the detached supervisor that
    // inherits it.
    let home_lock = if profile.home.ephemeral {
        None
    } else if request.new_instance {
        let lock = join::HomeLock::try_take(&store, &profile.name).map_err(home_err)?;
        if lock.is_none() {
            errln!(
                "boxtop: profile '{}': warning: another sandbox of this profile runs; \
                 both use its private home {}",
                profile.name,
                paths
                    .private_home(&profile.name)
                    .map_err(LaunchError::setup)?
                    .display()
            );
        }
        lock
    } else {
        // A sandbox found running may be ending (its app gone, pid 1 or its supervisor
        // about to follow): joining it fails, and the home is claimed again once it has
        // ended, a few times.
        let mut tries = 0;
        loop {
            match join::claim(&store, &profile.name, join::HOLDER_WAIT).map_err(home_err)? {
                join::Claim::Home(lock) => break Some(lock),
                join::Claim::Running(record) => {
                    match run_in_running(request, profile, &record, &planned.plan.argv) {
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
    let prepared = Prepared::new(&planned.plan, cache).map_err(|error| LaunchError::Prepare {
        profile: profile.name.clone(),
        error: Box::new(error),
    })?;
    let log = instance_launch::log_dir(paths).join(format!("{}.log", planned.id));
    let launch = Launch {
        paths,
        id: planned.id.clone(),
        profile: profile.name.clone(),
        origin: request.origin,
        home_lock: home_lock.as_ref(),
    };
    let result = if request.detach {
        instance_launch::run_detached(&launch, &prepared).map(|id| Outcome::Started { id })
    } else {
        instance_launch::run_foreground(&launch, &prepared).map(|code| Outcome::Exited {
            id: planned.id.clone(),
            code,
        })
    };
    match result {
        Ok(outcome) => {
            planned.created.keep();
            Ok(outcome)
        }
        Err(error) => Err(LaunchError::Sandbox {
            profile: planned.profile.name.clone(),
            error: Box::new(error),
            log: (request.detach && log.exists()).then_some(log),
        }),
    }
}

/// Refuses a launch whose profile owns a D-Bus name that a running sandbox of another
/// profile owns: the app would find its name taken and hand its work (a file to open) to
/// that sandbox, which has other grants, and exit as if it had run. The other sandbox's
/// names are those of its profile as it is now (the records name the profile).
fn refuse_taken_bus_names(
    paths: &Paths,
    store: &Store,
    profile: &Profile,
) -> Result<(), LaunchError> {
    if profile.dbus.own.is_empty() {
        return Ok(());
    }
    let (records, _) = store.load_all();
    let running = records.into_iter().filter(|record| {
        record.profile != profile.name
            && !record.has_ended()
            && (control::is_running(record) || record.supervisor.is_alive())
    });
    let mut set = None;
    for record in running {
        let set = set.get_or_insert_with(|| ProfileSet::load(&paths.user_profiles()));
        // A profile gone or broken since its launch: its names are unknown, and a
        // launch is not refused for a guess.
        let Ok(other) = set.resolve(&record.profile) else {
            continue;
        };
        let names = bus_names::shared_owned(profile, &other);
        if !names.is_empty() {
            return Err(LaunchError::BusNameTaken {
                profile: profile.name.clone(),
                other_profile: record.profile.clone(),
                id: record.id.clone(),
                names,
            });
        }
    }
    Ok(())
}

/// A launch of a profile whose private home a running sandbox holds: the command runs in
/// that sandbox (see `instance::join`).
fn run_in_running(
    request: &Request,
    profile: &Profile,
    record: &Record,
    argv: &[String],
) -> Result<Outcome, LaunchError> {
    let join_err = |error| LaunchError::Join {
        profile: profile.name.clone(),
        error: Box::new(error),
    };
    errln!(
        "boxtop: profile '{}' already runs as {}, which holds its private home: the command \
         runs in that sandbox (--new-instance starts another)",
        profile.name,
        record.id
    );
    let id = record.id.clone();
    if request.detach {
        join::run_detached_in(record, argv, request.origin).map_err(join_err)?;
        return Ok(Outcome::Joined { id });
    }
    let code = control::enter(record, argv).map_err(|error| LaunchError::Enter {
        profile: profile.name.clone(),
        error: Box::new(error),
    })?;
    Ok(Outcome::Exited { id, code })
}
