//! Attacks on what of boxtop an app can see: the sandbox's pid 1, and the terminal of a
//! command that joins the sandbox.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use crate::report::{io_text, Report};
use crate::Usage;

/// `init-hardened SECRET`: pid 1 as an attacker in the app sees it. Items: `seccomp`
/// (Seccomp: 2 in /proc/1/status), `no-new-privs`, `caps` (CapEff 0), `not-dumpable`
/// (its /proc files are not the app's uid's), `environ` (unreadable, or without SECRET),
/// `cmdline` (without SECRET), `mem` (/proc/1/mem cannot be opened for writing: no code
/// injection), `fds` (no descriptor of pid 1 can be listed or opened: the status pipe
/// cannot be written to forge an exit status), `pidfd-getfd` (no descriptor of pid 1 can
/// be taken with pidfd_getfd).
pub fn init_hardened(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [secret] = args else {
        return Err(Usage(
            "one argument, a secret set in boxtop's environment".into(),
        ));
    };
    let status = std::fs::read_to_string("/proc/1/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(|value| value.trim().to_string())
            .unwrap_or_else(|| "(missing)".into())
    };
    let expect = |name: &str, want: &str| {
        let seen = field(name);
        if seen == want {
            Ok(())
        } else {
            Err(format!("{name} of pid 1 is {seen}, expected {want}"))
        }
    };
    report.item("seccomp", expect("Seccomp", "2"));
    report.item("no-new-privs", expect("NoNewPrivs", "1"));
    report.item("caps", expect("CapEff", "0000000000000000"));
    let uid = nix::unistd::getuid().as_raw();
    report.item(
        "not-dumpable",
        match std::fs::metadata("/proc/1/environ") {
            Ok(meta) if meta.uid() == uid => Err(format!(
                "/proc/1/environ belongs to uid {uid}, the app's: pid 1 is dumpable"
            )),
            Ok(_) => Ok(()),
            Err(err) => Err(format!("stat /proc/1/environ: {}", io_text(&err))),
        },
    );
    report.item(
        "environ",
        match std::fs::read("/proc/1/environ") {
            Ok(bytes) if contains(&bytes, secret.as_bytes()) => {
                Err("/proc/1/environ holds the secret of boxtop's environment".into())
            }
            _ => Ok(()),
        },
    );
    report.item(
        "cmdline",
        match std::fs::read("/proc/1/cmdline") {
            Ok(bytes) if contains(&bytes, secret.as_bytes()) => {
                Err("/proc/1/cmdline holds the secret".into())
            }
            _ => Ok(()),
        },
    );
    report.item(
        "mem",
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/proc/1/mem")
        {
            Ok(_) => Err("/proc/1/mem opened for writing: code can be injected into pid 1".into()),
            Err(_) => Ok(()),
        },
    );
    let mut opened = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc/1/fd") {
        opened.push(format!("listed {} fds", dir.count()));
    }
    for fd in 0..64 {
        let path = format!("/proc/1/fd/{fd}");
        if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
            opened.push(format!("wrote-opened {path}"));
        }
    }
    report.item(
        "fds",
        if opened.is_empty() {
            Ok(())
        } else {
            Err(opened.join(", "))
        },
    );
    report.item("pidfd-getfd", pidfd_getfd_of_init());
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn pidfd_getfd_of_init() -> Result<(), String> {
    // SAFETY: pidfd_open takes a pid and flags.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, 1, 0) };
    if pidfd < 0 {
        return Ok(());
    }
    let mut taken = Vec::new();
    for fd in 0..64 {
        // SAFETY: pidfd_getfd takes descriptors and flags, and returns a new descriptor.
        let got = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, fd, 0) };
        if got >= 0 {
            taken.push(fd);
            // SAFETY: closing the descriptor just taken.
            unsafe { libc::close(got as i32) };
        }
    }
    // SAFETY: closing the pidfd opened above.
    unsafe { libc::close(pidfd as i32) };
    if taken.is_empty() {
        Ok(())
    } else {
        Err(format!("took pid 1's descriptors {taken:?}"))
    }
}

/// `tty-thief SECONDS` (a workload): for SECONDS, watches every process of the sandbox
/// and opens each terminal one of them has as fd 0, 1 or 2 (through /proc/PID/fd/N, as
/// an app that wants the user's keystrokes would), then keeps reading all of them. Prints
/// `opened TARGET` once per terminal and `read TEXT` for what it reads, then `done`.
/// Reading a terminal whose session is elsewhere sends no SIGTTIN: nothing stops it.
pub fn tty_thief(args: &[String], _report: &mut Report) -> Result<(), Usage> {
    let [seconds] = args else {
        return Err(Usage("one argument, how many seconds to watch".into()));
    };
    let seconds: u64 = crate::args::number("seconds", seconds)?;
    let me = std::process::id();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut stolen: Vec<std::fs::File> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut out = std::io::stdout();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        for pid in std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| *pid != me)
        {
            for fd in 0..3 {
                let link = format!("/proc/{pid}/fd/{fd}");
                let target = std::fs::read_link(&link)
                    .map(|target| target.display().to_string())
                    .unwrap_or_default();
                // Whatever its name here, a descriptor that is a terminal is taken.
                let Ok(file) = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
                    .open(&link)
                else {
                    continue;
                };
                if !nix::unistd::isatty(&file).unwrap_or(false) {
                    continue;
                }
                let Ok(meta) = file.metadata() else {
                    continue;
                };
                let key = format!("{}:{}", meta.dev(), meta.rdev());
                if seen.insert(key) {
                    let _ = writeln!(out, "opened {target} (from {link})");
                    stolen.push(file);
                }
            }
        }
        for file in &mut stolen {
            if let Ok(n) = file.read(&mut buf) {
                if n > 0 {
                    let text = String::from_utf8_lossy(&buf[..n]);
                    let _ = writeln!(out, "read {}", text.escape_debug());
                }
            }
        }
        let _ = out.flush();
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = writeln!(out, "done");
    let _ = out.flush();
    Ok(())
}

use std::os::unix::fs::OpenOptionsExt;
