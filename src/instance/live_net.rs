//! The network of a running instance switched between `none` and `isolated`
//! (`sandbox::live_net`), and the change kept beside the instance (`ID.network`) for
//! what it has now.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use super::control;
use super::record::{ProcRef, Record};
use crate::paths::Paths;
use crate::profile::Network;
use crate::sandbox::live_net::{self, LiveNetError};
use crate::sys::SingleThreaded;

/// A network given to an instance while it runs, and the process that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveNetwork {
    pub network: Network,
    /// The keeper of pasta and the guard of the host's addresses.
    pub keeper: ProcRef,
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("instance {id} is not running")]
    NotRunning { id: String },
    #[error("instance {id} shares this machine's network (network = \"host\"): it has no network of its own to connect or cut off; stop it and run it with a profile with network = \"none\" or \"isolated\"")]
    HostNetwork { id: String },
    #[error("a running sandbox gets no share of this machine's network: only `none` and `isolated` can be set while it runs")]
    ToHost,
    #[error("instance {id} got network = \"isolated\" from its profile at launch: its pasta belongs to the launch and stays until the app ends; stop it and run it with network = \"none\" to cut it off")]
    FromLaunch { id: String },
    #[error("instance {id}: {source}")]
    Namespaces {
        id: String,
        source: crate::sandbox::process::EnterError,
    },
    #[error("instance {id}: {source}")]
    Change { id: String, source: LiveNetError },
    #[error("cannot record the change in {path}: {reason}")]
    Record { path: PathBuf, reason: String },
}

/// What `set_network` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetChange {
    /// Connected (pasta started) or cut off (pasta stopped), in that time.
    Changed { now: Network, took: Duration },
    /// It had that network already.
    Unchanged { now: Network },
}

/// Where the live network of instance `id` is kept: `ID.network` beside its state file.
fn network_file(paths: &Paths, id: &str) -> Option<PathBuf> {
    crate::paths::child(super::launch::store(paths).dir(), &format!("{id}.network")).ok()
}

/// The network given to instance `id` while it runs, if it still holds it (its keeper
/// runs).
pub fn live_network(paths: &Paths, id: &str) -> Option<LiveNetwork> {
    network_file(paths, id)
        .and_then(|file| std::fs::read(file).ok())
        .and_then(|bytes| serde_json::from_slice::<LiveNetwork>(&bytes).ok())
        .filter(|live| live.keeper.is_alive())
}

/// Whether the network namespace of `pid` has an interface besides `lo` (pasta's tap).
fn has_interface_besides_lo(pid: i32) -> bool {
    crate::sys::procfs::count_read();
    std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
        .map(|text| {
            text.lines()
                .skip(2)
                .filter_map(|line| line.split_once(':'))
                .any(|(name, _)| name.trim() != "lo")
        })
        .unwrap_or(false)
}

/// Gives the running instance `record` the network `want`: `isolated` starts pasta on
/// its own network namespace (with the guard that keeps this machine's addresses out of
/// reach); `none` stops the pasta started so and leaves it `lo` alone. Only for
/// instances with a network namespace of their own.
pub fn set_network(paths: &Paths, record: &Record, want: Network) -> Result<NetChange, NetError> {
    let id = record.id.clone();
    if !record.own_network {
        return Err(NetError::HostNetwork { id });
    }
    let init = match record.init {
        Some(init) if control::is_running(record) => init,
        _ => return Err(NetError::NotRunning { id }),
    };
    let live = live_network(paths, &id);
    let from_launch = live.is_none() && has_interface_besides_lo(init.pid);
    let start = Instant::now();
    match want {
        Network::Host => Err(NetError::ToHost),
        Network::Isolated if live.is_some() || from_launch => {
            Ok(NetChange::Unchanged { now: want })
        }
        Network::Isolated => {
            let single = SingleThreaded::check().map_err(|err| NetError::Change {
                id: id.clone(),
                source: LiveNetError::Failed(err.to_string()),
            })?;
            let member = crate::sandbox::process::network_member(
                Pid::from_raw(init.pid),
                init.start,
                &record.namespaces,
            )
            .map_err(|source| NetError::Namespaces {
                id: id.clone(),
                source,
            })?;
            let target = live_net::Target {
                init: Pid::from_raw(init.pid),
                member,
                namespaces: &record.namespaces,
            };
            let keeper =
                live_net::connect(&single, &target).map_err(|source| NetError::Change {
                    id: id.clone(),
                    source,
                })?;
            let took = start.elapsed();
            let Some(keeper) = ProcRef::of(keeper.as_raw()) else {
                return Err(NetError::Change {
                    id,
                    source: LiveNetError::Failed(
                        "the keeper of its network ended at once (did the app end?)".into(),
                    ),
                });
            };
            let saved = save(
                paths,
                &id,
                &LiveNetwork {
                    network: Network::Isolated,
                    keeper,
                },
            );
            if let Err(err) = saved {
                // Unrecorded, it could not be cut off again: undone.
                let _ = live_net::disconnect(Pid::from_raw(keeper.pid), keeper.start);
                return Err(err);
            }
            Ok(NetChange::Changed { now: want, took })
        }
        Network::None => match live {
            Some(live) => {
                live_net::disconnect(Pid::from_raw(live.keeper.pid), live.keeper.start).map_err(
                    |source| NetError::Change {
                        id: id.clone(),
                        source,
                    },
                )?;
                let took = start.elapsed();
                if let Some(file) = network_file(paths, &id) {
                    let _ = std::fs::remove_file(file);
                }
                Ok(NetChange::Changed { now: want, took })
            }
            None if from_launch => Err(NetError::FromLaunch { id }),
            None => Ok(NetChange::Unchanged { now: want }),
        },
    }
}

fn save(paths: &Paths, id: &str, live: &LiveNetwork) -> Result<(), NetError> {
    let file = network_file(paths, id).ok_or_else(|| NetError::Record {
        path: super::launch::store(paths).dir().to_path_buf(),
        reason: format!("'{id}' cannot name a file"),
    })?;
    let error = |reason: String| NetError::Record {
        path: file.clone(),
        reason,
    };
    if let Some(dir) = file.parent() {
        crate::paths::ensure_private_dir(dir).map_err(|err| error(err.to_string()))?;
    }
    let text = serde_json::to_vec_pretty(live).map_err(|err| error(err.to_string()))?;
    crate::atomic::write_atomic(&file, &text).map_err(|err| error(err.to_string()))
}
