//! A planned profile launched: the private home claimed (or the sandbox holding it
//! joined), the sandbox prepared, then run in the foreground or detached.

use std::path::Path;
use std::time::Duration;

use super::plan::{plan, report_missing};
use super::{LaunchError, Outcome, Request};
use crate::errln;
use crate::instance::launch::{self as instance_launch, Launch};
use crate::instance::record::{Record, Store};
use crate::instance::{control, join};
use crate::paths::Paths;
use crate::profile::{bus_names, Access, Profile, ProfileSet};
use crate::sandbox::forward::Forwarding;
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
    refuse_taken_bus_names(&planned.profiles, &store, profile)?;
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
                    let joined = Joined {
                        record: &record,
                        argv: &planned.plan.argv,
                        forwarding: &planned.forwarding,
                    };
                    match run_in_running(paths, request, profile, &joined) {
                        Err(_) if tries < 5 && control::ends_within(&record, ENDING_WAIT) => {
                            tries += 1
                        }
                        result => return result,
                    }
                }
            }
        }
    };
    report_forwarding(profile, &planned.forwarding);
    let forwarded: Vec<_> = planned
        .forwarding
        .forwards
        .iter()
        .map(|forward| (forward.path.clone(), Access::Rw))
        .collect();
    // What the instance has beyond its profile, for `show ID` and `ps --json`; not
    // knowing it later is no reason to fail the launch.
    if let Err(error) = crate::instance::live::record_forwarded(paths, &planned.id, &forwarded) {
        errln!("boxtop: profile '{}': warning: {error}", profile.name);
    }
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

/// Says on stderr what the arguments made visible inside, and what they named that the
/// sandbox will not see.
fn report_forwarding(profile: &Profile, forwarding: &Forwarding) {
    for forward in &forwarding.forwards {
        errln!(
            "boxtop: profile '{}': shared {} {} read-write with the sandbox, for its life, \
             as the command line names it (forward_files = false in the profile stops this)",
            profile.name,
            if forward.is_dir { "folder" } else { "file" },
            forward.path.display()
        );
    }
    for text in &forwarding.system {
        errln!("boxtop: profile '{}': note: {text}", profile.name);
    }
    for path in &forwarding.not_forwarded {
        errln!(
            "boxtop: profile '{}': warning: {} is named on the command line but the sandbox \
             does not see it (forward_files = false)",
            profile.name,
            path.display()
        );
    }
}

/// The running sandbox a launch joins, and what the launch's arguments name.
struct Joined<'a> {
    record: &'a Record,
    argv: &'a [String],
    forwarding: &'a Forwarding,
}

/// Refuses a launch whose profile owns a D-Bus name that a running sandbox of another
/// profile owns: the app would find its name taken and hand its work (a file to open) to
/// that sandbox, which has other grants, and exit as if it had run. The other sandbox's
/// names are those of its profile as it is now (the records name the profile).
fn refuse_taken_bus_names(
    set: &ProfileSet,
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
    for record in running {
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
    paths: &Paths,
    request: &Request,
    profile: &Profile,
    joined: &Joined<'_>,
) -> Result<Outcome, LaunchError> {
    let Joined {
        record,
        argv,
        forwarding,
    } = *joined;
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
    // The files the arguments name are shared with the running sandbox as they would be
    // with a new one (what is already shared live is shared again, on top).
    let live_shared = crate::instance::live::live_shares(paths, &record.id);
    for forward in &forwarding.forwards {
        let already = forward.path.strip_prefix(&paths.home).is_ok_and(|rel| {
            live_shared
                .iter()
                .any(|known| Path::new(&known.path) == rel)
        });
        if already {
            continue;
        }
        let added = crate::instance::live::Added::Argument;
        crate::instance::live::share(paths, record, &forward.path, Access::Rw, added).map_err(
            |error| LaunchError::LiveShare {
                profile: profile.name.clone(),
                error: Box::new(error),
            },
        )?;
        errln!(
            "boxtop: profile '{}': shared {} {} read-write with the running sandbox {}, for its \
             life, as the command line names it (forward_files = false in the profile stops \
             this)",
            profile.name,
            if forward.is_dir { "folder" } else { "file" },
            forward.path.display(),
            record.id
        );
    }
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
