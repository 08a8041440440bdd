//! What a running instance may reach now: its profile's grants with the changes made
//! while it runs (live shares, forwarded files, a network switched by `boxtop net`), how
//! they differ from the profile, and the risk summary of the whole.

use crate::paths::Paths;
use crate::profile::risk::{self, Grant};
use crate::profile::{Access, Network, Profile, ProfileSet, Share};

use super::live::{self, LiveShare};
use super::live_net;

/// An instance's effective grants.
#[derive(Debug, Clone, PartialEq)]
pub struct Grants {
    pub id: String,
    pub profile: String,
    /// The profile's shares (relative to the home) and their modes; empty when the
    /// profile no longer loads.
    pub profile_shares: Vec<(String, Access)>,
    /// Shares beyond the profile's, live or forwarded.
    pub added: Vec<LiveShare>,
    /// The profile's network; `None` when the profile no longer loads.
    pub network_profile: Option<Network>,
    /// The network given while it runs, when it differs from the profile's.
    pub network_live: Option<Network>,
    /// The risk summary of the profile with the changes applied, highest first.
    pub risk: Vec<Grant>,
    /// Why the profile could not be read, if it could not.
    pub problem: Option<String>,
}

impl Grants {
    /// The network the instance has now.
    pub fn network_now(&self) -> Option<Network> {
        self.network_live.or(self.network_profile)
    }
}

/// The effective grants of instance `id` of `profile`, with `set` the profiles as they
/// are now.
pub fn effective(paths: &Paths, set: &ProfileSet, id: &str, profile: &str) -> Grants {
    compose(
        id,
        profile,
        set.resolve(profile).map_err(|err| err.to_string()),
        live::live_shares(paths, id),
        live_net::live_network(paths, id).map(|live| live.network),
    )
}

/// The grants of instance `id` of `profile` (resolved, or why not) with the changes made
/// while it runs: `added` shares and the network `network_live`.
pub fn compose(
    id: &str,
    profile: &str,
    resolved: Result<Profile, String>,
    added: Vec<LiveShare>,
    network_live: Option<Network>,
) -> Grants {
    let (profile_shares, network_profile, risk, problem) = match resolved {
        Ok(resolved) => {
            let shares = (resolved.home.share.iter())
                .map(|share| (share.path.clone(), share.mode))
                .collect();
            let network = resolved.network;
            let now = with_changes(resolved, &added, network_live);
            (shares, Some(network), risk::summarize(&now), None)
        }
        Err(problem) => (Vec::new(), None, Vec::new(), Some(problem)),
    };
    Grants {
        id: id.to_string(),
        profile: profile.to_string(),
        profile_shares,
        added,
        network_profile,
        network_live,
        risk,
        problem,
    }
}

/// `profile` with the live changes: what its risk summary is computed from.
fn with_changes(mut profile: Profile, added: &[LiveShare], network: Option<Network>) -> Profile {
    for share in added {
        profile.home.share.retain(|known| known.path != share.path);
        profile.home.share.push(Share {
            path: share.path.clone(),
            mode: share.mode,
            create: false,
            force: false,
        });
    }
    if let Some(network) = network {
        profile.network = network;
    }
    profile
}
