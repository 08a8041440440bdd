//! `boxtop share` and `boxtop unshare`: a folder or file of the home given to or taken
//! back from a running instance (`instance::live`), and with `--save` written into the
//! profile too.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use boxtop::instance::launch;
use boxtop::instance::live;
use boxtop::instance::live_net;
use boxtop::paths::Paths;
use boxtop::profile::{Access, Network, ProfileSet};
use boxtop::sandbox::forward::spelled_path;
use boxtop::{errln, outln};

use super::instances::one;
use super::Exit;

fn host_path(paths: &Paths, path: &str) -> Result<std::path::PathBuf> {
    let cwd = std::env::current_dir()
        .map_err(|err| Exit::message(1, format!("cannot read the current folder: {err}")))?;
    Ok(spelled_path(path, &paths.home, &cwd))
}

pub fn share(paths: &Paths, target: &str, path: &str, ro: bool, save: bool) -> Result<ExitCode> {
    let store = launch::store(paths);
    let record = one(&store, target)?;
    let host = host_path(paths, path)?;
    let mode = if ro { Access::Ro } else { Access::Rw };
    let changed = live::share(paths, &record, &host, mode, live::Added::Live)
        .map_err(|err| Exit::message(1, format!("cannot share {path}: {err}")))?;
    outln!(
        "shared {} {} with {} ({} ms)",
        changed.inside.display(),
        if ro { "read-only" } else { "read-write" },
        record.id,
        changed.took.as_millis()
    );
    if save {
        let rel = changed
            .inside
            .strip_prefix(&paths.home)
            .unwrap_or(&changed.inside);
        let file = save_share(paths, &record.profile, rel, mode)?;
        outln!("saved to {}", file.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn unshare(paths: &Paths, target: &str, path: &str) -> Result<ExitCode> {
    let store = launch::store(paths);
    let record = one(&store, target)?;
    let host = host_path(paths, path)?;
    let changed = live::unshare(paths, &record, &host)
        .map_err(|err| Exit::message(1, format!("cannot unshare {path}: {err}")))?;
    outln!(
        "unshared {} from {} ({} ms)",
        changed.inside.display(),
        record.id,
        changed.took.as_millis()
    );
    errln!(
        "boxtop: note: a file the app opened before stays open to it; the profile's shares \
         are unchanged"
    );
    Ok(ExitCode::SUCCESS)
}

/// `boxtop open ID PATH`: a file opened in a running instance (`instance::live::open_in`).
pub fn open(paths: &Paths, target: &str, path: &str) -> Result<ExitCode> {
    let store = launch::store(paths);
    let record = one(&store, target)?;
    let host = host_path(paths, path)?;
    let set = ProfileSet::load(&paths.user_profiles());
    let profile = set.resolve(&record.profile).map_err(|err| {
        Exit::message(
            1,
            format!("cannot open {path} in {}: its profile: {err}", record.id),
        )
    })?;
    let opened = live::open_in(
        paths,
        &record,
        &profile,
        &host,
        boxtop::instance::status::Origin::Cli,
    )
    .map_err(|err| Exit::message(1, format!("cannot open {path} in {}: {err}", record.id)))?;
    outln!(
        "opened {} in {} ({}{})",
        host.display(),
        record.id,
        opened.argv.join(" "),
        if opened.shared {
            "; shared read-write with it for its life"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `boxtop net ID none|isolated`: the running instance's network switched live.
pub fn net(paths: &Paths, target: &str, network: super::LiveNetworkArg) -> Result<ExitCode> {
    let store = launch::store(paths);
    let record = one(&store, target)?;
    let want = network.into();
    let name = network_name(want);
    match live_net::set_network(paths, &record, want) {
        Ok(live_net::NetChange::Changed { took, .. }) => {
            outln!(
                "{} is now on network {name} ({} ms)",
                record.id,
                took.as_millis()
            );
            if want == Network::None {
                errln!(
                    "boxtop: note: its connections died with pasta; the profile's network is unchanged"
                );
            }
        }
        Ok(live_net::NetChange::Unchanged { .. }) => {
            outln!("{} is on network {name} already", record.id);
        }
        Err(err) => {
            return Err(Exit::message(1, format!("cannot set the network to {name}: {err}")).into())
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn network_name(network: Network) -> &'static str {
    match network {
        Network::None => "none",
        Network::Host => "host",
        Network::Isolated => "isolated",
    }
}

/// `--save`: `profile::ops::save_share`, said as the CLI says errors.
fn save_share(
    paths: &Paths,
    profile: &str,
    rel: &Path,
    mode: Access,
) -> Result<std::path::PathBuf> {
    let set = ProfileSet::load(&paths.user_profiles());
    boxtop::profile::ops::save_share(&set, profile, rel, mode)
        .map_err(|err| Exit::message(1, format!("--save: {err}")).into())
}

/// `ps --json`'s list with `shares_added` (what each instance has beyond its profile:
/// shares made while it runs, files its launch forwarded) in the entries that have any.
pub fn with_shares_added(
    paths: &Paths,
    statuses: &[boxtop::instance::status::Status],
) -> Result<serde_json::Value> {
    let mut value = serde_json::to_value(statuses)?;
    if let Some(list) = value.as_array_mut() {
        for (entry, status) in list.iter_mut().zip(statuses) {
            let added = live::live_shares(paths, &status.id);
            let Some(entry) = entry.as_object_mut() else {
                continue;
            };
            if !added.is_empty() {
                entry.insert("shares_added".into(), serde_json::to_value(added)?);
            }
            if let Some(network) = live_net::live_network(paths, &status.id) {
                entry.insert("network_live".into(), network_name(network.network).into());
            }
        }
    }
    Ok(value)
}

/// `boxtop show ID` for a running instance: its profile's permissions, then what it has
/// beyond them now. `None` when `name` is no instance id.
pub fn show_instance(
    paths: &Paths,
    set: &ProfileSet,
    name: &str,
    json: bool,
) -> Option<Result<ExitCode>> {
    let store = launch::store(paths);
    let record = store.load(name).ok()?;
    let added = live::live_shares(paths, &record.id);
    let running = boxtop::instance::control::is_running(&record);
    let network = live_net::live_network(paths, &record.id);
    if json {
        let shown = serde_json::json!({
            "instance": record.id,
            "profile": record.profile,
            "running": running,
            "shares_added": added,
            "network_live": network.as_ref().map(|live| network_name(live.network)),
        });
        return Some(
            serde_json::to_string_pretty(&shown)
                .map(|text| boxtop::escape::out_json(&text))
                .map(|()| ExitCode::SUCCESS)
                .map_err(Into::into),
        );
    }
    outln!(
        "instance {} of profile '{}' ({})\n",
        record.id,
        record.profile,
        if running { "running" } else { "ended" }
    );
    if set.get(&record.profile).is_some() {
        if let Err(err) = super::profiles::show(paths, &record.profile, false) {
            return Some(Err(err));
        }
    }
    if let Some(live) = &network {
        outln!(
            "\nNetwork now: {} (set while running by `boxtop net`; `boxtop net {} none` cuts it off)",
            network_name(live.network),
            record.id
        );
    }
    if added.is_empty() {
        outln!("\nBeyond its profile: nothing (no live share, no forwarded file).");
    } else {
        outln!("\nBeyond its profile, now:");
        for share in &added {
            let path = if Path::new(&share.path).is_absolute() {
                share.path.clone()
            } else {
                format!("~/{}", share.path)
            };
            outln!(
                "  {:<30} {:<10} {}",
                path,
                if share.mode == Access::Ro {
                    "read-only"
                } else {
                    "read-write"
                },
                match share.added {
                    live::Added::Live => "shared while running (boxtop unshare takes it back)",
                    live::Added::Argument => "forwarded: named on the command line",
                }
            );
        }
    }
    Some(Ok(ExitCode::SUCCESS))
}
