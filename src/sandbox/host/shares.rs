//! The folders of the home a profile shares and the host paths it binds, resolved on the
//! host with no symlink followed, and what a launch would refuse of them.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, SFlag};

use super::HostError;
use crate::profile::validate::{check_bind_path, is_same_or_inside, normalize_relative, SENSITIVE};
use crate::profile::{Access, Profile};
use crate::sys::beneath::{self, open_home, BeneathError};

/// A home share checked against the real file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedShare {
    /// As written in the profile, normalized (`Documents/work`).
    pub rel: String,
    /// The canonical host path, inside the home, with no symlink left.
    pub real: PathBuf,
    pub access: Access,
    pub is_dir: bool,
}

/// Whether `resolve_shares` may create the missing folders of `create = true` shares (a
/// launch) or only checks where they would be (`boxtop plan`, which changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateShares {
    Yes,
    DryRun,
}

/// The canonical form of a path that may not exist yet: its deepest existing ancestor
/// resolved, the rest appended.
fn canonicalize_missing(path: &Path) -> std::io::Result<PathBuf> {
    let mut rest = Vec::new();
    let mut existing = path;
    loop {
        match std::fs::canonicalize(existing) {
            Ok(real) => {
                return Ok(rest
                    .iter()
                    .rev()
                    .fold(real, |acc: PathBuf, part| acc.join(part)));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
                    return Err(err);
                };
                rest.push(name.to_os_string());
                existing = parent;
            }
            Err(err) => return Err(err),
        }
    }
}

/// How a share whose path holds a symlink is refused: naming the symlink, where it
/// points, and the folder to share instead when it is in the home.
fn share_symlink(rel: &str, home: &Path, at: &Path, target: &Path) -> HostError {
    let hint = match beneath::lexical_target(at, target) {
        Some(real) if !real.as_os_str().is_empty() => {
            let real = match Path::new(rel).strip_prefix(at) {
                Ok(rest) if !rest.as_os_str().is_empty() => real.join(rest),
                _ => real,
            };
            format!(
                "To share what it points to, share the real folder: path = \"{}\"",
                real.display()
            )
        }
        _ => "To share what it points to, share the real folder (binds, for a folder outside the home)".to_string(),
    };
    HostError::ShareSymlink {
        rel: rel.to_string(),
        link: home.join(at),
        target: target.to_path_buf(),
        hint,
    }
}

/// Checks each share on the real file system, beneath the real home with no symlink at
/// all: an app with a read-write share can plant symlinks, and none of them may change
/// what a later launch of any profile binds. A share exists (or is created when the
/// profile says so), is not a secrets folder unless forced, and never holds the profiles'
/// private homes (`private_homes`). The folders made for `create = true` shares are added
/// to `made` (parents first), even when a later share fails, so that a launch that fails
/// can remove them again.
pub fn resolve_shares(
    profile: &Profile,
    home: &Path,
    private_homes: &Path,
    create: CreateShares,
    made: &mut Vec<PathBuf>,
) -> Result<Vec<ResolvedShare>, HostError> {
    let (real_home, home_fd) = open_home(home).map_err(|source| HostError::Home {
        path: home.to_path_buf(),
        source,
    })?;
    let homes_rel = canonicalize_missing(private_homes).ok().and_then(|real| {
        Some(
            real.strip_prefix(&real_home)
                .ok()?
                .to_string_lossy()
                .into_owned(),
        )
    });
    let mut resolved = Vec::new();
    for share in &profile.home.share {
        let rel = normalize_relative(&share.path);
        let path = home.join(&rel);
        let unusable = |error: BeneathError| match error {
            BeneathError::Symlink { at, target } => share_symlink(&rel, home, &at, &target),
            BeneathError::Missing { .. } => HostError::ShareMissing {
                rel: rel.clone(),
                path: path.clone(),
            },
            error => HostError::ShareUnusable {
                rel: rel.clone(),
                path: path.clone(),
                reason: format!("{error} in {}", home.display()),
            },
        };
        let opened = match beneath::open(home_fd.as_fd(), Path::new(&rel), OFlag::O_PATH) {
            Ok(fd) => Some(fd),
            Err(BeneathError::Missing { .. }) if share.create => match create {
                CreateShares::Yes => Some(
                    {
                        let mut made_here = Vec::new();
                        let opened = beneath::open_dir_creating(
                            home_fd.as_fd(),
                            Path::new(&rel),
                            Mode::from_bits_truncate(0o777),
                            &mut made_here,
                        );
                        made.extend(made_here.iter().map(|folder| real_home.join(folder)));
                        opened
                    }
                    .map_err(|error| match error {
                        BeneathError::Symlink { at, target } => {
                            share_symlink(&rel, home, &at, &target)
                        }
                        error => HostError::ShareCreate {
                            rel: rel.clone(),
                            path: path.clone(),
                            reason: format!("{error} in {}", home.display()),
                        },
                    })?,
                ),
                // What exists of it was walked with no symlink; the rest would be made.
                CreateShares::DryRun => None,
            },
            Err(error) => return Err(unusable(error)),
        };
        if let Some(homes) = &homes_rel {
            if is_same_or_inside(&rel, homes) || (!share.force && is_same_or_inside(homes, &rel)) {
                return Err(HostError::SharePrivateHomes {
                    rel,
                    path,
                    homes: private_homes.to_path_buf(),
                });
            }
        }
        if !share.force {
            if let Some(secret) = SENSITIVE
                .iter()
                .find(|secret| is_same_or_inside(&rel, secret) || is_same_or_inside(secret, &rel))
            {
                return Err(HostError::ShareSensitive {
                    rel,
                    path,
                    secret: secret.to_string(),
                });
            }
        }
        // A folder a dry run would create is a folder.
        let is_dir = match &opened {
            Some(fd) => nix::sys::stat::fstat(fd).is_ok_and(|stat| {
                SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
            }),
            None => true,
        };
        resolved.push(ResolvedShare {
            real: real_home.join(&rel),
            rel,
            access: share.mode,
            is_dir,
        });
    }
    Ok(resolved)
}

/// The profile's binds that exist on this host, each at its path without symlinks (a
/// bind is made at the same path inside, where `/lib` may be the sandbox's own symlink to
/// `usr/lib`: `/lib/firmware` is bound as `/usr/lib/firmware`). A missing one is an error
/// unless it is `optional`; one whose real path is refused (in the home, `/etc`...) is an
/// error.
pub fn existing_binds(
    profile: &Profile,
    home: &Path,
) -> Result<Vec<crate::profile::Bind>, HostError> {
    let real_home = std::fs::canonicalize(home).unwrap_or_else(|_| home.to_path_buf());
    let mut binds = Vec::new();
    for bind in &profile.binds {
        let real = match std::fs::canonicalize(&bind.path) {
            Ok(real) => real,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if bind.optional {
                    continue;
                }
                return Err(HostError::BindMissing {
                    path: bind.path.clone(),
                });
            }
            Err(source) => {
                return Err(HostError::BindIo {
                    path: bind.path.clone(),
                    source,
                })
            }
        };
        let refused = |reason: String| HostError::BindRefused {
            path: bind.path.clone(),
            real: real.clone(),
            reason,
        };
        let Some(text) = real.to_str() else {
            return Err(refused("the path is not UTF-8".into()));
        };
        if real.starts_with(&real_home) || real_home.starts_with(&real) {
            return Err(refused(format!(
                "it is in your home {}; use home.share",
                real_home.display()
            )));
        }
        if let Err((message, hint)) = check_bind_path(text) {
            return Err(refused(format!("{message}; {hint}")));
        }
        binds.push(crate::profile::Bind {
            path: text.to_string(),
            ..bind.clone()
        });
    }
    Ok(binds)
}

/// Every share and bind of `profile` that a launch would refuse now, each saying what to
/// do: the very checks a launch makes (`resolve_shares` creating nothing, then
/// `existing_binds`), one share or bind at a time so that all of them are said, for
/// `boxtop show` and the TUI to agree with `boxtop run`.
pub fn path_problems(profile: &Profile, home: &Path, private_homes: &Path) -> Vec<HostError> {
    let mut problems = Vec::new();
    for share in &profile.home.share {
        let mut one = profile.clone();
        one.home.share = vec![share.clone()];
        if let Err(error) = resolve_shares(
            &one,
            home,
            private_homes,
            CreateShares::DryRun,
            &mut Vec::new(),
        ) {
            let unreadable_home = matches!(error, HostError::Home { .. });
            problems.push(error);
            if unreadable_home {
                return problems;
            }
        }
    }
    for bind in &profile.binds {
        let mut one = profile.clone();
        one.binds = vec![bind.clone()];
        if let Err(error) = existing_binds(&one, home) {
            problems.push(error);
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::schema::Share;
    use std::os::unix::fs::symlink;

    fn profile_sharing(shares: &[(&str, bool, bool)]) -> Profile {
        let mut profile = crate::sandbox::plan::tests::test_profile();
        profile.home.share = shares
            .iter()
            .map(|(path, create, force)| Share {
                path: path.to_string(),
                mode: Access::Rw,
                create: *create,
                force: *force,
            })
            .collect();
        profile
    }

    fn resolve(
        home: &Path,
        shares: &[(&str, bool, bool)],
    ) -> Result<Vec<ResolvedShare>, HostError> {
        resolve_shares(
            &profile_sharing(shares),
            home,
            &home.join(".local/share/boxtop/homes"),
            CreateShares::Yes,
            &mut Vec::new(),
        )
    }

    #[test]
    fn a_share_through_a_symlink_is_refused_naming_it_and_its_target() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path();
        std::fs::create_dir_all(home.join(".mozilla")).unwrap();
        std::fs::create_dir_all(home.join("Documents")).unwrap();
        symlink("../.mozilla", home.join("Documents/inbox")).unwrap();
        let err = resolve(home, &[("Documents/inbox", false, false)]).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, HostError::ShareSymlink { .. }), "{text}");
        assert!(
            text.contains("Documents/inbox is a symlink (to ../.mozilla)"),
            "{text}"
        );
        assert!(text.contains("path = \".mozilla\""), "{text}");
        // Deeper below the symlink: the same symlink is named, the hint keeps the rest.
        let err = resolve(home, &[("Documents/inbox/x", true, false)]).unwrap_err();
        assert!(err.to_string().contains("path = \".mozilla/x\""), "{err}");
        assert!(
            !home.join(".mozilla/x").exists(),
            "create followed the symlink"
        );
        // The real folder is fine, and resolves to itself.
        let shares = resolve(home, &[("Documents", false, false)]).unwrap();
        assert_eq!(
            shares[0].real,
            std::fs::canonicalize(home).unwrap().join("Documents")
        );
        assert!(shares[0].is_dir);
    }

    #[test]
    fn a_symlink_out_of_the_home_is_refused_before_looking_further() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        symlink("/etc", home.join("etc")).unwrap();
        let err = resolve(&home, &[("etc", false, false)]).unwrap_err();
        assert!(err.to_string().contains("(to /etc)"), "{err}");
        assert!(err.to_string().contains("share the real folder"), "{err}");
    }

    #[test]
    fn private_homes_are_never_shared_and_secrets_need_force() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path();
        std::fs::create_dir_all(home.join(".local/share/boxtop/homes/other")).unwrap();
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        for (path, force) in [
            (".local/share/boxtop/homes/other", true),
            (".local/share/boxtop/homes", true),
            (".local/share", false),
        ] {
            let err = resolve(home, &[(path, false, force)]).unwrap_err();
            assert!(
                matches!(err, HostError::SharePrivateHomes { .. }),
                "{path}: {err}"
            );
        }
        assert!(matches!(
            resolve(home, &[(".ssh", false, false)]).unwrap_err(),
            HostError::ShareSensitive { .. }
        ));
        assert!(resolve(home, &[(".ssh", false, true)]).is_ok());
    }

    #[test]
    fn missing_shares_are_created_only_when_asked_and_a_dry_run_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path();
        assert!(matches!(
            resolve(home, &[("Downloads", false, false)]).unwrap_err(),
            HostError::ShareMissing { .. }
        ));
        let profile = profile_sharing(&[("Downloads/new", true, false)]);
        let homes = home.join("homes");
        let planned = resolve_shares(
            &profile,
            home,
            &homes,
            CreateShares::DryRun,
            &mut Vec::new(),
        )
        .unwrap();
        assert!(planned[0].is_dir);
        assert!(!home.join("Downloads").exists());
        let mut made = Vec::new();
        resolve_shares(&profile, home, &homes, CreateShares::Yes, &mut made).unwrap();
        let real = std::fs::canonicalize(home).unwrap();
        assert_eq!(made, [real.join("Downloads"), real.join("Downloads/new")]);
        assert!(home.join("Downloads/new").is_dir());
    }

    #[test]
    fn binds_are_made_at_their_real_path_and_refused_where_it_leads_home() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        std::fs::create_dir_all(home.join("stuff")).unwrap();
        let to_usr = tmp.path().join("usr-lib");
        symlink("/usr/lib", &to_usr).unwrap();
        let mut profile = crate::sandbox::plan::tests::test_profile();
        let bind = |path: &Path| crate::profile::Bind {
            path: path.display().to_string(),
            mode: Access::Ro,
            optional: false,
        };
        profile.binds = vec![bind(&to_usr)];
        let binds = existing_binds(&profile, &home).unwrap();
        assert_eq!(binds[0].path, "/usr/lib");
        profile.binds = vec![bind(&home.join("stuff"))];
        let err = existing_binds(&profile, &home).unwrap_err();
        assert!(err.to_string().contains("use home.share"), "{err}");
        profile.binds = vec![bind(Path::new("/no/such/path"))];
        assert!(matches!(
            existing_binds(&profile, &home).unwrap_err(),
            HostError::BindMissing { .. }
        ));
        profile.binds[0].optional = true;
        assert!(existing_binds(&profile, &home).unwrap().is_empty());
    }
}
