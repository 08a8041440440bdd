//! Shell completion, computed by boxtop itself when the shell asks: the installed scripts
//! (`_BOXTOP_COMPLETE=bash boxtop` prints bash's, likewise zsh and fish) call
//! `boxtop` back with the words typed so far, so that profile names and the ids of
//! running instances are completed from what exists at that moment.

use clap::CommandFactory;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::CompleteEnv;

use boxtop::instance::launch as instance_launch;
use boxtop::paths::Paths;
use boxtop::profile::ProfileSet;

/// The variable that turns a run of boxtop into a completion request.
pub const VAR: &str = "_BOXTOP_COMPLETE";

/// Answers a completion request and exits, when this run is one; returns otherwise.
pub fn answer_if_asked() {
    // Without the variable this is one `getenv`: a launch pays nothing for it.
    if std::env::var_os(VAR).is_none() {
        return;
    }
    CompleteEnv::with_factory(super::Cli::command)
        .var(VAR)
        .completer("boxtop")
        .complete();
}

/// Every profile's name, with its description.
fn profiles() -> Vec<CompletionCandidate> {
    let Ok(paths) = Paths::from_env() else {
        return Vec::new();
    };
    let set = ProfileSet::load(&paths.user_profiles());
    set.entries()
        .map(|entry| {
            let about = set
                .resolve(&entry.name)
                .map(|profile| profile.description)
                .unwrap_or_default();
            CompletionCandidate::new(&entry.name).help(Some(about.into()))
        })
        .collect()
}

/// The ids of the instances that run (or are paused), with their profile, then the
/// names of their profiles (a profile stands for all its running instances).
fn instances() -> Vec<CompletionCandidate> {
    let Ok(paths) = Paths::from_env() else {
        return Vec::new();
    };
    let (records, _) = instance_launch::store(&paths).load_all();
    let mut live: Vec<_> = records.into_iter().filter(|r| !r.has_ended()).collect();
    live.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out: Vec<CompletionCandidate> = live
        .iter()
        .map(|record| {
            CompletionCandidate::new(&record.id)
                .help(Some(format!("instance of {}", record.profile).into()))
        })
        .collect();
    let mut names: Vec<&str> = live.iter().map(|record| record.profile.as_str()).collect();
    names.sort();
    names.dedup();
    out.extend(names.into_iter().map(|name| {
        CompletionCandidate::new(name).help(Some("every running instance of the profile".into()))
    }));
    out
}

/// Completes a profile name.
pub fn profile_names() -> ArgValueCandidates {
    ArgValueCandidates::new(profiles)
}

/// Completes an instance id or the profile of running instances.
pub fn instance_targets() -> ArgValueCandidates {
    ArgValueCandidates::new(instances)
}
