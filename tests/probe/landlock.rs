//! Attacks that only the Landlock wall stops: a file mounted where the plan puts nothing,
//! an abstract unix socket of the host (the sandbox shares the host network), a signal
//! to a process of the sandbox outside the app's Landlock domain; and what the sandbox's
//! environment must not hold.

use std::fs;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{connect, socket, AddressFamily, SockFlag, SockType, UnixAddr};
use nix::unistd::Pid;

use crate::args::{at_least_one, exact, Usage};
use crate::report::{errno_text, io_text, is_errno, Report};

/// How long `signal-refused` looks for its target.
const TARGET_WAIT: Duration = Duration::from_secs(20);

/// `read-refused PATH`: PATH is there (lstat works) yet opening it to read fails with
/// EACCES, and so does listing its folder.
pub fn read_refused(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [path] = exact::<1>(args)?;
    report.item(
        "present",
        fs::symlink_metadata(path)
            .map(|_| ())
            .map_err(|error| format!("lstat {path}: {}, expected it mounted", io_text(&error))),
    );
    report.item(
        "read",
        match fs::read(path) {
            Err(error) if is_errno(&error, Errno::EACCES) => Ok(()),
            Err(error) => Err(format!(
                "reading {path} failed with {}, expected EACCES",
                io_text(&error)
            )),
            Ok(bytes) => Err(format!(
                "read {path}: {:?}, expected EACCES",
                String::from_utf8_lossy(&bytes[..bytes.len().min(100)])
            )),
        },
    );
    let folder = std::path::Path::new(path)
        .parent()
        .unwrap_or(std::path::Path::new("/"));
    report.item(
        "list",
        match fs::read_dir(folder) {
            Err(error) if is_errno(&error, Errno::EACCES) => Ok(()),
            Err(error) => Err(format!(
                "listing {} failed with {}, expected EACCES",
                folder.display(),
                io_text(&error)
            )),
            Ok(entries) => Err(format!(
                "listed {}: {} entries, expected EACCES",
                folder.display(),
                entries.count()
            )),
        },
    );
    Ok(())
}

/// `abstract-refused NAME`: connecting to the abstract unix socket `\0NAME`, which a
/// process outside the sandbox listens on in the shared network namespace, fails with
/// EPERM (Landlock's scope), not ECONNREFUSED (a namespace of its own has no such socket).
pub fn abstract_refused(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [name] = exact::<1>(args)?;
    let outcome = UnixAddr::new_abstract(name.as_bytes()).and_then(|address| {
        let fd = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        connect(fd.as_raw_fd(), &address)
    });
    report.whole(match outcome {
        Err(Errno::EPERM) => Ok(()),
        Err(errno) => Err(format!(
            "connect to @{name} failed with {}, expected EPERM",
            errno_text(errno)
        )),
        Ok(()) => Err(format!("connected to @{name}, expected EPERM")),
    });
    Ok(())
}

/// `signal-refused COMMAND`: waits for a process of the sandbox whose command line is
/// COMMAND (words joined by spaces), then sends it SIGKILL, which must fail with EPERM
/// (item `kill`); signalling pid 1, the sandbox's init, must fail too (item `init`).
pub fn signal_refused(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [command] = exact::<1>(args)?;
    let started = Instant::now();
    let target = loop {
        if let Some(pid) = find_process(command) {
            break Some(pid);
        }
        if started.elapsed() > TARGET_WAIT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    report.item(
        "kill",
        match target {
            None => Err(format!(
                "no process {command:?} appeared within {TARGET_WAIT:?}"
            )),
            Some(pid) => match kill(Pid::from_raw(pid), Signal::SIGKILL) {
                Err(Errno::EPERM) => Ok(()),
                Err(errno) => Err(format!(
                    "SIGKILL to {pid} ({command}) failed with {}, expected EPERM",
                    errno_text(errno)
                )),
                Ok(()) => Err(format!("killed {pid} ({command}), expected EPERM")),
            },
        },
    );
    report.item(
        "init",
        match kill(Pid::from_raw(1), None) {
            Err(Errno::EPERM) => Ok(()),
            Err(errno) => Err(format!(
                "kill(1, 0) failed with {}, expected EPERM",
                errno_text(errno)
            )),
            Ok(()) => Err("kill(1, 0) succeeded, expected EPERM".into()),
        },
    );
    Ok(())
}

/// A process other than this one whose command line is `command`.
fn find_process(command: &str) -> Option<i32> {
    let me = std::process::id() as i32;
    fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .find(|pid| {
            fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|bytes| {
                let words: Vec<String> = bytes
                    .split(|b| *b == 0)
                    .filter(|word| !word.is_empty())
                    .map(|word| String::from_utf8_lossy(word).into_owned())
                    .collect();
                words.join(" ") == command
            })
        })
}

/// `env-absent NAME...`: no variable NAME in the environment.
pub fn env_absent(args: &[String], report: &mut Report) -> Result<(), Usage> {
    for name in at_least_one(args)? {
        report.item(
            name,
            match std::env::var_os(name) {
                None => Ok(()),
                Some(value) => Err(format!("{name}={value:?} is set, expected it absent")),
            },
        );
    }
    Ok(())
}
