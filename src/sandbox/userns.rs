//! The user namespace's identity: the caller's uid and gid mapped to themselves, one line
//! each, with `setgroups` denied (the only mapping an unprivileged process may write, and
//! the reason no `newuidmap` helper is needed).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct UserNsError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Writes `setgroups`, `uid_map` and `gid_map` of the calling process, just cloned into
/// a new user namespace: the creator of a user namespace may map its own uid and gid.
pub fn write_own_maps(uid: u32, gid: u32) -> Result<(), UserNsError> {
    let writes = [
        ("/proc/self/setgroups", "deny".to_string()),
        ("/proc/self/uid_map", format!("{uid} {uid} 1\n")),
        ("/proc/self/gid_map", format!("{gid} {gid} 1\n")),
    ];
    for (path, contents) in writes {
        std::fs::write(path, contents).map_err(|source| UserNsError {
            path: PathBuf::from(path),
            source,
        })?;
    }
    Ok(())
}
