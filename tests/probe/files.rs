//! What the probe can see and change in the file system: absent and present paths, a
//! read-only nosuid mount, and files it must not, or must, be able to write and read.

use std::fs::{self, Metadata, OpenOptions};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::statvfs::{statvfs, FsFlags};

use crate::args::{at_least_one, exact, Usage};
use crate::report::{errno_text, io_text, is_errno, Outcome, Report};

/// The longest stretch of a file quoted in a detail.
const QUOTE_LIMIT: usize = 200;

/// `absent PATH...`: lstat of each gives ENOENT.
pub fn absent(args: &[String], report: &mut Report) -> Result<(), Usage> {
    for path in at_least_one(args)? {
        report.item(path, is_absent(path));
    }
    Ok(())
}

fn is_absent(path: &str) -> Outcome {
    match fs::symlink_metadata(path) {
        Err(error) if is_errno(&error, Errno::ENOENT) => Ok(()),
        Err(error) => Err(format!(
            "lstat failed with {}, expected ENOENT",
            io_text(&error)
        )),
        Ok(meta) => Err(format!(
            "exists ({}), expected ENOENT",
            describe(path, &meta)
        )),
    }
}

/// `present PATH...`: each exists (a symbolic link counts, dangling or not).
pub fn present(args: &[String], report: &mut Report) -> Result<(), Usage> {
    for path in at_least_one(args)? {
        report.item(
            path,
            fs::symlink_metadata(path).map(drop).map_err(|error| {
                format!(
                    "lstat failed with {}, expected it to exist",
                    io_text(&error)
                )
            }),
        );
    }
    Ok(())
}

fn describe(path: &str, meta: &Metadata) -> String {
    let kind = meta.file_type();
    if kind.is_symlink() {
        match fs::read_link(path) {
            Ok(target) => format!("a symbolic link to {}", target.display()),
            Err(_) => "a symbolic link".to_string(),
        }
    } else if kind.is_dir() {
        "a directory".to_string()
    } else if kind.is_file() {
        format!("a file of {} bytes", meta.len())
    } else {
        "a special file".to_string()
    }
}

/// `readonly-nosuid PATH`: the mount has ST_RDONLY and ST_NOSUID, and creating a file in
/// PATH fails with EROFS.
pub fn readonly_nosuid(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [path] = exact::<1>(args)?;
    let flags = statvfs(path.as_str())
        .map(|stat| stat.flags())
        .map_err(|errno| format!("statvfs({path}) failed with {}", errno_text(errno)));
    for (name, flag) in [
        ("ST_RDONLY", FsFlags::ST_RDONLY),
        ("ST_NOSUID", FsFlags::ST_NOSUID),
    ] {
        report.item(
            name,
            flags.clone().and_then(|flags| {
                if flags.contains(flag) {
                    Ok(())
                } else {
                    Err(format!(
                        "statvfs({path}) flags are {flags:?}, {name} missing"
                    ))
                }
            }),
        );
    }
    report.item("create", is_create_refused(Path::new(path)));
    Ok(())
}

fn is_create_refused(dir: &Path) -> Outcome {
    let file = dir.join(format!(".boxtop-probe-{}", std::process::id()));
    match OpenOptions::new().write(true).create_new(true).open(&file) {
        Err(error) if is_errno(&error, Errno::EROFS) => Ok(()),
        Err(error) => Err(format!(
            "creating {} failed with {}, expected EROFS",
            file.display(),
            io_text(&error)
        )),
        Ok(created) => {
            drop(created);
            let removed = match fs::remove_file(&file) {
                Ok(()) => "then removed it".to_string(),
                Err(error) => format!("could not remove it: {}", io_text(&error)),
            };
            Err(format!(
                "created {} ({removed}), expected EROFS",
                file.display()
            ))
        }
    }
}

/// `write-denied PATH`: opening PATH to create or write it fails with EROFS or EACCES.
pub fn write_denied(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [path] = exact::<1>(args)?;
    let existed = fs::symlink_metadata(path).is_ok();
    report.whole(
        match OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
        {
            Err(error) if is_errno(&error, Errno::EROFS) || is_errno(&error, Errno::EACCES) => {
                Ok(())
            }
            Err(error) => Err(format!(
                "opening for writing failed with {}, expected EROFS or EACCES",
                io_text(&error)
            )),
            Ok(opened) => {
                drop(opened);
                // Leave the folder as it was; the failure below says what happened.
                let cleanup = if existed {
                    "it existed"
                } else if fs::remove_file(path).is_ok() {
                    "created, then removed"
                } else {
                    "created, could not remove it"
                };
                Err(format!(
                    "opened for writing ({cleanup}), expected EROFS or EACCES"
                ))
            }
        },
    );
    Ok(())
}

/// `write-file PATH CONTENT`: creates or truncates PATH and writes CONTENT, no newline added.
pub fn write_file(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [path, content] = exact::<2>(args)?;
    report.whole(
        fs::write(path, content)
            .map_err(|error| format!("cannot write {path}: {}", io_text(&error))),
    );
    Ok(())
}

/// `read-file PATH CONTENT`: PATH holds exactly CONTENT.
pub fn read_file(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [path, content] = exact::<2>(args)?;
    report.whole(match fs::read(path) {
        Ok(seen) if seen == content.as_bytes() => Ok(()),
        Ok(seen) => Err(format!(
            "read {} ({} bytes), expected {content:?}",
            quote(&seen),
            seen.len()
        )),
        Err(error) => Err(format!("cannot read {path}: {}", io_text(&error))),
    });
    Ok(())
}

/// The start of some bytes, as an escaped string.
fn quote(bytes: &[u8]) -> String {
    let shown = bytes.get(..QUOTE_LIMIT).unwrap_or(bytes);
    let more = if shown.len() < bytes.len() { "..." } else { "" };
    format!("{:?}{more}", String::from_utf8_lossy(shown))
}
