//! Shims: `~/.local/bin/NAME` wrappers that run a profile's app in its sandbox when its
//! command is typed in a terminal, as Firejail's `firecfg` does. Each is marked as
//! boxtop's; a file boxtop did not write is never replaced or removed.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::profile::validate::is_valid_name;

/// The line that marks a shim as boxtop's, followed by the profile's name.
const MARKER: &str = "# X-Boxtop-Shim: ";

/// The folder shims go to: `~/.local/bin`, which most distributions put in `PATH`.
pub fn bin_dir(home: &Path) -> PathBuf {
    home.join(".local/bin")
}

/// The text of the shim of profile `name`, starting `boxtop`.
pub fn shim_text(boxtop: &Path, name: &str) -> String {
    let quoted = boxtop.to_string_lossy().replace('\'', "'\\''");
    format!(
        "#!/bin/sh\n\
         # Runs '{name}' in its boxtop sandbox. Written by `boxtop desktop install --shims`;\n\
         # `boxtop desktop remove --all` removes it.\n\
         {MARKER}{name}\n\
         exec '{quoted}' run '{name}' -- \"$@\"\n"
    )
}

/// The profile a file at `path` is the shim of, if boxtop wrote it (a regular file, not
/// a symlink, with the marker line).
pub fn shim_of(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_file() || meta.len() > 4096 {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(MARKER))
        .map(str::to_string)
}

/// What `install` did.
#[derive(Debug, Default)]
pub struct ShimsInstalled {
    pub written: Vec<PathBuf>,
    /// Profiles left without a shim, and why.
    pub skipped: Vec<(String, String)>,
}

/// Writes the shim of each profile of `names` in `dir` (made if missing), over a shim of
/// boxtop's but never over another file.
pub fn install(dir: &Path, boxtop: &Path, names: &[String]) -> ShimsInstalled {
    let mut done = ShimsInstalled::default();
    if let Err(err) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
    {
        for name in names {
            done.skipped.push((
                name.clone(),
                format!("cannot create {}: {err}", dir.display()),
            ));
        }
        return done;
    }
    for name in names {
        if !is_valid_name(name) {
            continue;
        }
        let path = dir.join(name);
        let exists = std::fs::symlink_metadata(&path).is_ok();
        if exists && shim_of(&path).is_none() {
            done.skipped.push((
                name.clone(),
                format!(
                    "{} exists and is not boxtop's: it is left as it is",
                    path.display()
                ),
            ));
            continue;
        }
        match write_shim(&path, &shim_text(boxtop, name)) {
            Ok(()) => done.written.push(path),
            Err(err) => done.skipped.push((
                name.clone(),
                format!("cannot write {}: {err}", path.display()),
            )),
        }
    }
    done
}

/// Writes an executable file atomically: a new file beside it, renamed over it.
fn write_shim(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let name = path
        .file_name()
        .unwrap_or(OsStr::new("shim"))
        .to_string_lossy();
    let temp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Removes the shims boxtop wrote in `dir`: of every profile, or of `only` one.
pub fn remove(dir: &Path, only: Option<&str>) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(profile) = shim_of(&path) else {
            continue;
        };
        // A shim is named after its profile: a marked file of another name was renamed
        // by the user, and stays.
        if path.file_name() != Some(OsStr::new(&profile)) {
            continue;
        }
        if only.is_some_and(|only| only != profile) {
            continue;
        }
        if std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed.sort();
    removed
}

/// Why the shims in `dir` would not run when their command is typed, given `$PATH`: the
/// folder is not in it, or comes after a system folder where the apps are.
pub fn path_warning(dir: &Path, path_var: Option<&OsStr>) -> Option<String> {
    let entries: Vec<PathBuf> = path_var
        .map(|path| std::env::split_paths(path).collect())
        .unwrap_or_default();
    let position = entries.iter().position(|entry| entry == dir);
    let system = entries.iter().position(|entry| {
        ["/usr/local/bin", "/usr/bin", "/bin"]
            .iter()
            .any(|system| entry == Path::new(system))
    });
    match (position, system) {
        (None, _) => Some(format!(
            "{} is not in your PATH: the shims run only when it is; add it, before /usr/bin \
             (in ~/.profile: PATH=\"$HOME/.local/bin:$PATH\"), then log in again",
            dir.display()
        )),
        (Some(at), Some(system)) if at > system => Some(format!(
            "{} comes after {} in your PATH: the apps' own programs are found first, not \
             the shims; put it before (in ~/.profile: PATH=\"$HOME/.local/bin:$PATH\")",
            dir.display(),
            entries[system].display()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_warnings_say_missing_or_late_and_nothing_when_first() {
        let dir = Path::new("/home/u/.local/bin");
        let warn = |path: &str| path_warning(dir, Some(OsStr::new(path)));
        assert!(warn("/usr/bin:/bin").unwrap().contains("not in your PATH"));
        assert!(warn("/usr/bin:/home/u/.local/bin")
            .unwrap()
            .contains("comes after /usr/bin"));
        assert_eq!(warn("/home/u/.local/bin:/usr/bin"), None);
        assert!(path_warning(dir, None).is_some());
    }
}
