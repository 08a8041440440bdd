//! The user namespace's identity: the caller's uid and gid mapped to themselves, one line
//! each, with `setgroups` denied (the only mapping an unprivileged process may write, and
//! the reason no `newuidmap` helper is needed).

use std::path::PathBuf;

use nix::unistd::Pid;

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct UserNsError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Writes `setgroups`, `uid_map` and `gid_map` of a child just cloned into a new user
/// namespace, from the parent namespace.
pub fn write_maps(child: Pid, uid: u32, gid: u32) -> Result<(), UserNsError> {
    let dir = PathBuf::from(format!("/proc/{child}"));
    let writes = [
        ("setgroups", "deny".to_string()),
        ("uid_map", format!("{uid} {uid} 1\n")),
        ("gid_map", format!("{gid} {gid} 1\n")),
    ];
    for (file, contents) in writes {
        let path = dir.join(file);
        std::fs::write(&path, contents).map_err(|source| UserNsError { path, source })?;
    }
    Ok(())
}
