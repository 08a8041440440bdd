//! One-off launches without writing a profile, as `firejail --net=none --whitelist=...`
//! users do: a temporary profile built from a request's flags (shares, network, display,
//! audio), on top of a named profile or of none, written as TOML and validated as any
//! profile file is. `boxtop run --print-profile` prints that TOML to keep.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{LaunchError, Request, Target};
use crate::paths::Paths;
use crate::profile::schema::{RawHome, RawProfile};
use crate::profile::{Access, Audio, Bind, Display, Network, Profile, ProfileSet, Share};

/// What a request changes of its profile for this launch only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneOff {
    /// Paths to make visible, each `PATH`, `PATH:ro` or `PATH:rw` (read-only when not
    /// said): `~/x`, relative to `cwd`, or absolute; in the home a share, else a bind.
    #[serde(default)]
    pub shares: Vec<String>,
    #[serde(default)]
    pub network: Option<Network>,
    #[serde(default)]
    pub display: Option<Display>,
    #[serde(default)]
    pub audio: Option<Audio>,
    /// The folder relative share paths are read from (the caller's).
    #[serde(default)]
    pub cwd: Option<PathBuf>,
}

impl OneOff {
    pub fn is_empty(&self) -> bool {
        self.shares.is_empty()
            && self.network.is_none()
            && self.display.is_none()
            && self.audio.is_none()
    }
}

/// The name of a one-off profile on top of `base` (a separate name: it never joins the
/// base profile's running sandbox, which has other grants).
fn oneoff_name(base: Option<&str>) -> String {
    match base {
        Some(base) => format!("{base}-oneoff"),
        None => "oneoff".to_string(),
    }
}

/// `PATH[:ro|:rw]` read: the path and its access.
fn split_mode(text: &str) -> (&str, Access) {
    match text.rsplit_once(':') {
        Some((path, "ro")) => (path, Access::Ro),
        Some((path, "rw")) => (path, Access::Rw),
        _ => (text, Access::Ro),
    }
}

/// `path` without `.` and `..` (not resolved on disk: the share checks of a launch
/// refuse symlinks themselves).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            part => out.push(part),
        }
    }
    out
}

/// The temporary profile of `request` as a profile file's text, and its name. `None` when
/// the request asks for no one-off (it names a profile and changes nothing).
pub fn text(paths: &Paths, request: &Request) -> Result<Option<(String, String)>, LaunchError> {
    let base = match &request.target {
        Target::Name(name) if !request.one_off.is_empty() => Some(name.clone()),
        Target::Bare => None,
        _ if request.one_off.is_empty() => return Ok(None),
        Target::File(_) | Target::Name(_) => {
            return Err(LaunchError::BadRequest(
                "one-off flags (--share, --network, --display, --audio) apply to a named \
                 profile or to none, not to --profile-file: write them in the file"
                    .into(),
            ))
        }
    };
    let one_off = &request.one_off;
    let name = oneoff_name(base.as_deref());
    let mut raw = RawProfile {
        name: Some(name.clone()),
        description: Some(match &base {
            Some(base) => format!("'{base}' with one-off changes"),
            None => "a one-off sandbox".into(),
        }),
        extends: base.clone(),
        network: one_off.network,
        display: one_off.display,
        audio: one_off.audio,
        // Nothing of a one-off is kept: its private home goes at exit.
        home: Some(RawHome {
            ephemeral: Some(true),
            share: None,
        }),
        ..RawProfile::default()
    };
    if base.is_none() {
        if request.args.is_empty() {
            return Err(LaunchError::BadRequest(
                "no profile and no command: name a profile, or give the command after `--` \
                 (boxtop run --network none -- xterm)"
                    .into(),
            ));
        }
        raw.command = Some(request.args.clone());
    }
    let cwd = one_off.cwd.clone().unwrap_or_else(|| paths.home.clone());
    let mut shares = Vec::new();
    let mut binds = Vec::new();
    for flag in &one_off.shares {
        let (path, mode) = split_mode(flag);
        let path = match path.strip_prefix("~/") {
            Some(rest) => paths.home.join(rest),
            None if path == "~" => paths.home.clone(),
            None => cwd.join(path),
        };
        let path = lexical(&path);
        match path.strip_prefix(&paths.home) {
            Ok(rel) => shares.push(Share {
                path: rel.to_string_lossy().into_owned(),
                mode,
                create: false,
                force: false,
            }),
            Err(_) => binds.push(Bind {
                path: path.to_string_lossy().into_owned(),
                mode,
                optional: false,
            }),
        }
    }
    if let Some(home) = &mut raw.home {
        home.share = (!shares.is_empty()).then_some(shares);
    }
    raw.binds = (!binds.is_empty()).then_some(binds);
    let body = toml::to_string(&raw).map_err(|err| {
        LaunchError::BadRequest(format!("the one-off profile cannot be written: {err}"))
    })?;
    let header = match &base {
        Some(base) => format!(
            "# A one-off profile: '{base}' with the flags of `boxtop run`. Saved in your\n\
             # profiles folder as {name}.toml, `boxtop run {name}` runs it again.\n"
        ),
        None => format!(
            "# A one-off profile from the flags of `boxtop run`. Saved in your profiles\n\
             # folder as {name}.toml, `boxtop run {name}` runs it again.\n"
        ),
    };
    Ok(Some((name, format!("{header}{body}"))))
}

/// The temporary profile of `request`, validated as a profile file is, and the arguments
/// added to its command (none when the command came from the request's arguments).
pub fn profile(
    paths: &Paths,
    set: &ProfileSet,
    request: &Request,
) -> Result<Option<(Profile, Vec<String>)>, LaunchError> {
    let Some((name, text)) = text(paths, request)? else {
        return Ok(None);
    };
    let profile = set
        .resolve_text(&name, "the one-off profile of `boxtop run`", &text, None)
        .map_err(|error| LaunchError::Profile {
            found: !matches!(&request.target, Target::Name(base) if set.get(base).is_none()),
            error: Box::new(error),
        })?;
    let args = match request.target {
        Target::Bare => Vec::new(),
        _ => request.args.clone(),
    };
    Ok(Some((profile, args)))
}
