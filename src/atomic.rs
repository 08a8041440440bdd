//! Writing a user's file so that a crash or a full disk never leaves it half written:
//! a temporary file in the same folder, flushed, then renamed over the original.

use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// Replaces `path` with `contents` atomically, creating its folder when missing, and
/// durably: the data is on disk before the rename.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    replace(path, contents, true)
}

/// Replaces `path` with `contents` atomically, without waiting for the disk: for runtime
/// state (instance files under `$XDG_RUNTIME_DIR`) that readers must never see half
/// written but that need not survive a crash.
pub fn write_atomic_volatile(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    replace(path, contents, false)
}

fn replace(path: &Path, contents: &[u8], durable: bool) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Folders it makes are the user's alone (0700, as the XDG base directory spec asks),
    // at creation: made open and narrowed later, they would be open for a moment.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut temp = tempfile_in(dir, path)?;
    let result = (|| {
        temp.1.write_all(contents)?;
        if durable {
            temp.1.sync_all()?;
        }
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&temp.0, meta.permissions())?;
        }
        std::fs::rename(&temp.0, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp.0);
    }
    result
}

/// A new file beside `path`, named `.NAME.tmp-PID-N`, opened exclusively.
fn tempfile_in(dir: &Path, path: &Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    for attempt in 0..100u32 {
        let candidate = dir.join(format!(".{name}.tmp-{}-{attempt}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(file) => return Ok((candidate, file)),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "no free temporary file name",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/p.toml");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn folders_it_creates_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/boxtop/x.json");
        write_atomic_volatile(&path, b"{}").unwrap();
        for folder in ["run", "run/boxtop"] {
            let mode = std::fs::metadata(dir.path().join(folder))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700, "{folder}");
        }
    }
}
