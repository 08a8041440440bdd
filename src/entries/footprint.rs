//! What boxtop leaves beside its files: the folders it had to create, and the MIME cache
//! (`mimeinfo.cache`) that `update-desktop-database` writes. boxtop notes each one it
//! creates, and removes them with its last file in that folder, so that installing then
//! removing leaves the folder exactly as it was.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::error::EntriesError;
use super::xdg::{marker, read_desktop_file, Env};
use crate::atomic::write_atomic;

/// The file, in boxtop's data folder, listing what boxtop created (one path a line).
const NOTES_FILE: &str = "entries-created";

/// The cache `update-desktop-database` writes in the folder it is given.
pub const MIME_CACHE: &str = "mimeinfo.cache";

fn notes_path(env: &Env) -> PathBuf {
    env.state_dir.join(NOTES_FILE)
}

fn read_notes(env: &Env) -> Vec<PathBuf> {
    std::fs::read_to_string(notes_path(env))
        .map(|text| {
            text.lines()
                .filter(|l| !l.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

fn write_notes(env: &Env, notes: &[PathBuf]) -> Result<(), EntriesError> {
    let path = notes_path(env);
    if notes.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                Err(EntriesError::Remove { path, source: err })
            }
            _ => Ok(()),
        };
    }
    let mut text = String::new();
    for note in notes {
        text.push_str(&note.to_string_lossy());
        text.push('\n');
    }
    write_atomic(&path, text.as_bytes()).map_err(|source| EntriesError::Write { path, source })
}

fn note(env: &Env, created: &[PathBuf]) -> Result<(), EntriesError> {
    if created.is_empty() {
        return Ok(());
    }
    let mut notes = read_notes(env);
    for path in created {
        if !notes.contains(path) {
            notes.push(path.clone());
        }
    }
    write_notes(env, &notes)
}

/// Creates `dir` and its missing parents, noting `dir` when it was missing. (Its parents
/// are the XDG homes, where boxtop keeps its own files too: they stay.)
pub fn ensure_dir(env: &Env, dir: &Path) -> Result<(), EntriesError> {
    if dir.is_dir() {
        return Ok(());
    }
    // 0700 at creation, as the XDG base directory spec asks of the folders it makes.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| EntriesError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    note(env, &[dir.to_path_buf()])
}

/// Writes `text` to `path` (atomically) unless it already holds it; says whether it wrote.
pub fn write_if_changed(path: &Path, text: &str) -> Result<bool, EntriesError> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(false);
    }
    write_atomic(path, text.as_bytes()).map_err(|source| EntriesError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(true)
}

pub fn remove_file(path: &Path) -> Result<(), EntriesError> {
    std::fs::remove_file(path).map_err(|source| EntriesError::Remove {
        path: path.to_path_buf(),
        source,
    })
}

/// Runs `update-desktop-database` on `dir` when both exist, noting the cache when this
/// creates it. Returns a warning when the program fails.
pub fn refresh_mime_cache(env: &Env, dir: &Path) -> Result<Option<String>, EntriesError> {
    let Some(program) = &env.update_desktop_database else {
        return Ok(None);
    };
    if !dir.is_dir() {
        return Ok(None);
    }
    let cache = dir.join(MIME_CACHE);
    let had_cache = cache.exists();
    let output = Command::new(program)
        .arg("--quiet")
        .arg(dir)
        .stdin(Stdio::null())
        .output();
    if !had_cache && cache.exists() {
        note(env, &[cache])?;
    }
    Ok(match output {
        Ok(output) if output.status.success() => None,
        Ok(output) => Some(format!(
            "{} {} failed ({}): {}",
            program.display(),
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(err) => Some(format!("cannot run {}: {err}", program.display())),
    })
}

/// Whether `dir` still holds a file boxtop wrote.
fn has_marked_files(dir: &Path) -> bool {
    let Ok(read) = std::fs::read_dir(dir) else {
        return false;
    };
    read.filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "desktop"))
        .any(|path| read_desktop_file(&path).is_ok_and(|file| marker(&file).is_some()))
}

/// After boxtop changed files in `dir`: refreshes the MIME cache while boxtop still has
/// files there (`mime_cache`: only for application folders); once it has none, removes
/// the cache and the folders it created, as noted, and refreshes a cache it did not
/// create. Returns warnings.
pub fn settle(env: &Env, dir: &Path, mime_cache: bool) -> Result<Vec<String>, EntriesError> {
    let mut warnings = Vec::new();
    if has_marked_files(dir) {
        if mime_cache {
            warnings.extend(refresh_mime_cache(env, dir)?);
        }
        return Ok(warnings);
    }
    let mut notes = read_notes(env);
    let cache = dir.join(MIME_CACHE);
    if mime_cache {
        if notes.contains(&cache) {
            if cache.exists() {
                remove_file(&cache)?;
            }
            notes.retain(|note| note != &cache);
        } else {
            warnings.extend(refresh_mime_cache(env, dir)?);
        }
    }
    // The folder itself, when boxtop created it and it is empty again.
    if notes.iter().any(|note| note == dir) {
        let is_empty = std::fs::read_dir(dir).is_ok_and(|mut read| read.next().is_none());
        if is_empty {
            std::fs::remove_dir(dir).map_err(|source| EntriesError::Remove {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        if !dir.exists() {
            notes.retain(|note| note != dir);
        }
    }
    write_notes(env, &notes)?;
    Ok(warnings)
}
