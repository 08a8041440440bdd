//! What an app sees of the files named on its command line: the forwarded file (given as a
//! path or a `file://` URI) read and written, its siblings absent, and the folder the app
//! started in. Values are passed as `key=value` so that boxtop does not take them for
//! paths to forward.

use std::fs;
use std::path::{Path, PathBuf};

use crate::args::{exact, Usage};
use crate::report::{io_text, Report};

/// The value of a `key=value` argument.
fn value<'a>(arg: &'a str, key: &str) -> Result<&'a str, Usage> {
    arg.strip_prefix(key)
        .and_then(|rest| rest.strip_prefix('='))
        .ok_or_else(|| Usage(format!("expected {key}=..., got {arg:?}")))
}

/// The path a `file://` URI names (its `%XX` escapes decoded), or the argument itself.
fn path_of(arg: &str) -> PathBuf {
    let Some(rest) = arg.strip_prefix("file://") else {
        return PathBuf::from(arg);
    };
    let bytes = rest.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let hex = (bytes[at] == b'%')
            .then(|| rest.get(at + 1..at + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                at += 3;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    PathBuf::from(String::from_utf8_lossy(&out).into_owned())
}

/// `forwarded PATH content=TEXT write=TEXT hidden=NAME[,NAME...]`: items `read` (PATH, a
/// path or a `file://` URI, holds exactly the first TEXT), `write` (the second TEXT
/// replaces it) and `hidden/NAME` (each NAME beside it is absent).
pub fn forwarded(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [path, content, write, hidden] = exact::<4>(args)?;
    let (content, write, hidden) = (
        value(content, "content")?,
        value(write, "write")?,
        value(hidden, "hidden")?,
    );
    let path = path_of(path);
    report.item(
        "read",
        match fs::read_to_string(&path) {
            Ok(text) if text == content => Ok(()),
            Ok(text) => Err(format!(
                "{} holds {text:?}, expected {content:?}",
                path.display()
            )),
            Err(error) => Err(format!(
                "reading {} failed with {}",
                path.display(),
                io_text(&error)
            )),
        },
    );
    report.item(
        "write",
        fs::write(&path, write)
            .map_err(|error| format!("writing {} failed with {}", path.display(), io_text(&error))),
    );
    let folder = path.parent().unwrap_or(Path::new("/"));
    for name in hidden.split(',') {
        let sibling = folder.join(name);
        report.item(
            &format!("hidden/{name}"),
            match fs::symlink_metadata(&sibling) {
                Err(_) => Ok(()),
                Ok(_) => Err(format!("{} exists, expected it hidden", sibling.display())),
            },
        );
    }
    Ok(())
}

/// `cwd-is at=PATH`: the process started in PATH.
pub fn cwd_is(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [at] = exact::<1>(args)?;
    let want = Path::new(value(at, "at")?);
    report.whole(match std::env::current_dir() {
        Ok(cwd) if cwd == want => Ok(()),
        Ok(cwd) => Err(format!(
            "started in {}, expected {}",
            cwd.display(),
            want.display()
        )),
        Err(error) => Err(format!("getcwd failed with {}", io_text(&error))),
    });
    Ok(())
}

/// The wall clock in nanoseconds since the epoch: the same clock outside the sandbox,
/// so a test can tell how long a change took to be seen.
fn clock_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// `watch-path PATH` (a workload): polls PATH every 200 µs, prints `appeared NS` when it
/// exists and then `gone NS` when it no longer does (the wall clock), then sleeps until
/// killed (the sandbox keeps running).
pub fn watch_path(args: &[String], report: &mut Report) -> Result<(), Usage> {
    use std::io::Write;
    let [path] = exact::<1>(args)?;
    let path = Path::new(path);
    for (word, present) in [("appeared", true), ("gone", false)] {
        while fs::symlink_metadata(path).is_ok() != present {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        println!("{word} {}", clock_ns());
        let _ = std::io::stdout().flush();
    }
    report.whole(Ok(()));
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
