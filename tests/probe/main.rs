//! The probe that boxtop's integration tests run inside a sandbox: it checks one thing
//! about the place it runs in and reports each assertion on a line of its own.
//!
//! `probe CHECK [ARGS...]` prints `ok NAME` or `fail NAME: DETAIL` (what was seen against
//! what was expected) per assertion, and exits 0 when all passed, 1 when one failed and 2
//! on a usage error. NAME is the check, or `CHECK/ITEM` for checks of several items (a
//! path item keeps one slash: `absent/etc/shadow`).
//!
//! Checks:
//! - `ns-differ user=INODE mnt=INODE pid=INODE ipc=INODE uts=INODE cgroup=INODE net=INODE`:
//!   each /proc/self/ns inode differs from the host's given one; `NAME=same:INODE` must be
//!   equal instead (network = "host"). Items: the namespace names.
//! - `host-pid-invisible PID`: kill(PID, 0) fails with ESRCH.
//! - `uid-map UID GID`: items `uid_map` and `gid_map` (exactly `ID ID 1`) and `setgroups`
//!   (`deny`).
//! - `caps-zero`: items CapInh, CapPrm, CapEff, CapBnd, CapAmb, each 0.
//! - `no-new-privs`: NoNewPrivs is 1. `seccomp-filter`: Seccomp is 2.
//! - `absent PATH...`: lstat gives ENOENT. `present PATH...`: lstat succeeds.
//! - `readonly-nosuid PATH`: items `ST_RDONLY`, `ST_NOSUID` (statvfs flags) and `create`
//!   (creating a file in PATH fails with EROFS).
//! - `mounts-exactly MOUNTPOINT...`: items `missing` and `extra` (the mount points of
//!   /proc/self/mountinfo are exactly the given set) and `no-staging` (no mount point or
//!   root contains `oldroot` or `newroot`).
//! - `dev-exactly NAME...`: items `missing` and `extra`: the entries of /dev are exactly NAME...
//! - `write-denied PATH`: opening PATH to create or write it fails with EROFS or EACCES.
//! - `write-file PATH CONTENT`: writes CONTENT (no newline added) to PATH.
//! - `read-file PATH CONTENT`: PATH holds exactly CONTENT.
//! - `fds-closed`: the open descriptors are exactly 0, 1 and 2.
//! - `hostname NAME`: the UTS node name is NAME.
//! - `abstract-unreachable NAME`: connecting to the abstract unix socket `\0NAME` fails with
//!   ECONNREFUSED. `abstract-reachable NAME`: it connects.
//! - `tcp-unreachable IP:PORT` / `tcp-reachable IP:PORT`: a TCP connection within 2 s fails
//!   / succeeds.
//! - `only-lo`: items `interfaces` (/proc/net/dev lists lo alone) and `lo-up` (IFF_UP).
//!   `interfaces-not-only-lo`: some interface besides lo (network = "host").
//! - `controls`: items `fork`, `exec`, `chmod-efault`, `socket-unix`, `socket-inet`,
//!   `getpid-is-2-or-more`: what the sandbox must leave working.
//! - `syscalls`: one item per filtered call, made with arguments the kernel refuses by
//!   itself, whose errno must be the filter's (EPERM, ENOSYS or EAFNOSUPPORT), and
//!   `personality-linux` and `personality-query` (0xffffffff), which must succeed. `syscalls-userns`: the same, except that the
//!   namespace calls (unshare, setns, chroot, clone-new*) pass with anything but EPERM.
//! - `foreign-abi-killed` (x86_64): items `x32` and `i386`: a child making a getpid call of
//!   that ABI is killed by SIGSYS.
//! - `init-hardened SECRET`: pid 1 attacked from the app: items `seccomp`, `no-new-privs`,
//!   `caps`, `not-dumpable`, `environ` and `cmdline` (no SECRET of boxtop's environment or
//!   arguments), `mem` (no writable /proc/1/mem), `fds` (none listed or opened),
//!   `pidfd-getfd` (none taken).
//! - `tty-thief SECONDS` (an attacker workload): opens every terminal another process of
//!   the sandbox has as fd 0 to 2 and prints `opened ...` and `read TEXT` lines, then `done`.
//! - `read-refused PATH`: items `present` (lstat works), `read` (reading PATH fails with
//!   EACCES) and `list` (listing its folder fails with EACCES): a mount Landlock's rules
//!   do not cover.
//! - `abstract-refused NAME`: connecting to the abstract unix socket `\0NAME` fails with
//!   EPERM (Landlock's scope; the socket exists in the shared network namespace).
//! - `signal-refused COMMAND`: items `kill` (SIGKILL to the process of the sandbox whose
//!   command line is COMMAND, waited for up to 20 s, fails with EPERM) and `init`
//!   (kill(1, 0) fails with EPERM).
//! - `env-absent NAME...`: no variable NAME in the environment.
//! - `hold-memory MIB` (a workload, not a check): allocates MIB MiB, touches every page,
//!   prints `ok hold-memory` and sleeps until killed. `fork-many N` (a workload): starts N
//!   sleeping children or as many as allowed, prints `forked COUNT of N, stopped by: ERROR`
//!   and sleeps until killed.
//! - `plant-symlink TARGET LINK` (an attack): LINK becomes a symlink to TARGET, what was
//!   there renamed to `LINK.probe-old`.
//! - `lacks-text PATH TEXT`: PATH cannot be read or does not contain TEXT.
//! - `fill-until-full DIR MIB`: writing up to MIB MiB into DIR fails with ENOSPC first.
//! - `forwarded PATH content=TEXT write=TEXT hidden=NAME[,NAME...]`: items `read` (PATH, a
//!   path or a `file://` URI boxtop forwarded, holds TEXT), `write` (the second TEXT
//!   replaces it) and `hidden/NAME` (each NAME beside it is absent).
//! - `cwd-is at=PATH`: the process started in PATH.
//! - `watch-path PATH` (a workload): prints `appeared NS` once PATH exists, then `gone NS`
//!   once it no longer does (wall-clock nanoseconds), then sleeps until killed.

mod abi;
mod args;
mod attack_fs;
mod attack_init;
mod child;
mod controls;
mod files;
mod forward;
mod landlock;
mod load;
mod mounts;
mod namespaces;
mod network;
mod process;
mod report;
mod syscalls;

use std::io::Write;
use std::process::ExitCode;

use args::Usage;
use report::Report;

/// One check: its name, the arguments it takes (for the usage text) and what runs it.
struct Check {
    name: &'static str,
    args: &'static str,
    run: fn(&[String], &mut Report) -> Result<(), Usage>,
}

const CHECKS: &[Check] = &[
    Check {
        name: "ns-differ",
        args: "user=INODE mnt=INODE pid=INODE ipc=INODE uts=INODE cgroup=INODE net=[same:]INODE",
        run: namespaces::ns_differ,
    },
    Check {
        name: "host-pid-invisible",
        args: "PID",
        run: namespaces::host_pid_invisible,
    },
    Check {
        name: "uid-map",
        args: "UID GID",
        run: namespaces::uid_map,
    },
    Check {
        name: "caps-zero",
        args: "",
        run: process::caps_zero,
    },
    Check {
        name: "no-new-privs",
        args: "",
        run: process::no_new_privs,
    },
    Check {
        name: "seccomp-filter",
        args: "",
        run: process::seccomp_filter,
    },
    Check {
        name: "absent",
        args: "PATH...",
        run: files::absent,
    },
    Check {
        name: "present",
        args: "PATH...",
        run: files::present,
    },
    Check {
        name: "readonly-nosuid",
        args: "PATH",
        run: files::readonly_nosuid,
    },
    Check {
        name: "mounts-exactly",
        args: "MOUNTPOINT...",
        run: mounts::mounts_exactly,
    },
    Check {
        name: "dev-exactly",
        args: "NAME...",
        run: mounts::dev_exactly,
    },
    Check {
        name: "write-denied",
        args: "PATH",
        run: files::write_denied,
    },
    Check {
        name: "write-file",
        args: "PATH CONTENT",
        run: files::write_file,
    },
    Check {
        name: "read-file",
        args: "PATH CONTENT",
        run: files::read_file,
    },
    Check {
        name: "fds-closed",
        args: "",
        run: process::fds_closed,
    },
    Check {
        name: "hostname",
        args: "NAME",
        run: namespaces::hostname,
    },
    Check {
        name: "abstract-unreachable",
        args: "NAME",
        run: network::abstract_unreachable,
    },
    Check {
        name: "abstract-reachable",
        args: "NAME",
        run: network::abstract_reachable,
    },
    Check {
        name: "tcp-unreachable",
        args: "IP:PORT",
        run: network::tcp_unreachable,
    },
    Check {
        name: "tcp-reachable",
        args: "IP:PORT",
        run: network::tcp_reachable,
    },
    Check {
        name: "tcp-send",
        args: "IP:PORT BYTES",
        run: network::tcp_send,
    },
    Check {
        name: "only-lo",
        args: "",
        run: network::only_lo,
    },
    Check {
        name: "interfaces-not-only-lo",
        args: "",
        run: network::interfaces_not_only_lo,
    },
    Check {
        name: "controls",
        args: "",
        run: controls::controls,
    },
    Check {
        name: "syscalls",
        args: "",
        run: syscalls::syscalls,
    },
    Check {
        name: "syscalls-userns",
        args: "",
        run: syscalls::syscalls_userns,
    },
    Check {
        name: "foreign-abi-killed",
        args: "",
        run: abi::foreign_abi_killed,
    },
    Check {
        name: "init-hardened",
        args: "SECRET",
        run: attack_init::init_hardened,
    },
    Check {
        name: "tty-thief",
        args: "SECONDS",
        run: attack_init::tty_thief,
    },
    Check {
        name: "read-refused",
        args: "PATH",
        run: landlock::read_refused,
    },
    Check {
        name: "abstract-refused",
        args: "NAME",
        run: landlock::abstract_refused,
    },
    Check {
        name: "signal-refused",
        args: "COMMAND",
        run: landlock::signal_refused,
    },
    Check {
        name: "env-absent",
        args: "NAME...",
        run: landlock::env_absent,
    },
    Check {
        name: "hold-memory",
        args: "MIB",
        run: load::hold_memory,
    },
    Check {
        name: "fork-many",
        args: "N",
        run: load::fork_many,
    },
    Check {
        name: "plant-symlink",
        args: "TARGET LINK",
        run: attack_fs::plant_symlink,
    },
    Check {
        name: "lacks-text",
        args: "PATH TEXT",
        run: attack_fs::lacks_text,
    },
    Check {
        name: "fill-until-full",
        args: "DIR MIB",
        run: attack_fs::fill_until_full,
    },
    Check {
        name: "forwarded",
        args: "PATH content=TEXT write=TEXT hidden=NAME[,NAME...]",
        run: forward::forwarded,
    },
    Check {
        name: "cwd-is",
        args: "at=PATH",
        run: forward::cwd_is,
    },
    Check {
        name: "watch-path",
        args: "PATH",
        run: forward::watch_path,
    },
];

/// Exit status for a usage error.
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let mut args = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(arg) => return usage_error(None, &format!("argument {arg:?} is not UTF-8")),
        }
    }
    let Some((name, rest)) = args.split_first() else {
        return usage_error(None, "no check given");
    };
    let Some(check) = CHECKS.iter().find(|check| check.name == name) else {
        return usage_error(None, &format!("no check is called {name:?}"));
    };
    let mut report = Report::new(check.name);
    match (check.run)(rest, &mut report) {
        Ok(()) => report.exit_code(),
        Err(Usage(problem)) => usage_error(Some(check), &problem),
    }
}

fn usage_error(check: Option<&Check>, problem: &str) -> ExitCode {
    let text = match check {
        Some(check) => format!(
            "probe {}: {problem}\nusage: probe {} {}\n",
            check.name, check.name, check.args
        ),
        None => {
            let lines: Vec<String> = CHECKS
                .iter()
                .map(|check| {
                    format!("  probe {} {}", check.name, check.args)
                        .trim_end()
                        .to_string()
                })
                .collect();
            format!("probe: {problem}\nusage:\n{}\n", lines.join("\n"))
        }
    };
    let _ = std::io::stderr().write_all(text.as_bytes());
    ExitCode::from(USAGE_ERROR)
}
