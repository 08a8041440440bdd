//! What every process that executes a program in a sandbox does right before `execve`,
//! the app and a command joining a running sandbox alike: its arguments ready before
//! any fork, signal state reset, the program found with the sandbox's `PATH`, and the
//! hardening in its documented order.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};

use super::landlock::{self, Rules};
use super::seccomp::{self, BpfProgram};
use crate::sys::caps;

/// What `execve` needs, allocated before any fork: argv, `NAME=VALUE` strings, and the
/// `PATH` to search the program in (the sandbox's default when the environment has none).
pub(super) struct ExecArgs {
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub path_var: String,
}

impl ExecArgs {
    /// Fails with the text that holds a NUL byte.
    pub fn new(argv: &[String], env: &[(String, String)]) -> Result<ExecArgs, String> {
        let cstring = |text: String| CString::new(text.as_bytes()).map_err(|_| text);
        Ok(ExecArgs {
            argv: argv
                .iter()
                .map(|arg| cstring(arg.clone()))
                .collect::<Result<_, _>>()?,
            envp: env
                .iter()
                .map(|(name, value)| cstring(format!("{name}={value}")))
                .collect::<Result<_, _>>()?,
            path_var: env
                .iter()
                .find(|(name, _)| name == "PATH")
                .map(|(_, value)| value.clone())
                .unwrap_or_else(|| super::plan::SANDBOX_PATH.to_string()),
        })
    }
}

/// Signal state inherited from boxtop (Rust ignores SIGPIPE, boxtop catches termination
/// signals to pass them on) must not reach a program run in the sandbox.
pub(super) fn reset_signals() {
    for signal in Signal::iterator() {
        if signal != Signal::SIGKILL && signal != Signal::SIGSTOP {
            crate::sys::process::default_disposition(signal);
        }
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

/// The hardening right before `execve`, in this order: close every fd but stdio and
/// `keep` (close-on-exec ones); a new session when `new_session` (no controlling
/// terminal to inject keystrokes into); no new privileges, ever; every capability
/// dropped; the Landlock rules (where the kernel has Landlock); the seccomp filter, last.
/// The caller passes an environment rebuilt from the allowlist to `execve`.
pub(super) fn harden(
    keep: &[RawFd],
    new_session: bool,
    last_cap: u32,
    landlock: Option<&Rules>,
    bpf: &BpfProgram,
) -> Result<(), (&'static str, Errno)> {
    close_fds_except(keep);
    if new_session {
        nix::unistd::setsid().map_err(|errno| ("setsid", errno))?;
    }
    caps::set_no_new_privs().map_err(|errno| ("PR_SET_NO_NEW_PRIVS", errno))?;
    caps::drop_all(last_cap).map_err(|errno| ("dropping capabilities", errno))?;
    if let Some(rules) = landlock {
        landlock::restrict_self(rules)?;
    }
    seccomp::install(bpf).map_err(|errno| ("installing the seccomp filter", errno))
}

/// Finds the program as `execvp` would, with the sandbox's `PATH`, seen from inside.
pub(super) fn find_program(argv0: &CString, path_var: &str) -> Result<CString, String> {
    let name = argv0.to_string_lossy();
    if name.contains('/') {
        return if Path::new(name.as_ref()).exists() {
            Ok(argv0.clone())
        } else {
            Err(format!(
                "program '{name}' was not found inside the sandbox; only /usr, the system \
                 folders and the profile's grants are visible there"
            ))
        };
    }
    for dir in path_var.split(':').filter(|dir| !dir.is_empty()) {
        let candidate = Path::new(dir).join(name.as_ref());
        if let Ok(meta) = std::fs::metadata(&candidate) {
            use std::os::unix::fs::PermissionsExt;
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return CString::new(candidate.as_os_str().as_bytes())
                    .map_err(|_| name.to_string());
            }
        }
    }
    Err(format!(
        "program '{name}' was not found inside the sandbox (searched {path_var}); only /usr, \
         the system folders and the profile's grants are visible there"
    ))
}

/// Closes every fd above 2 except `keep`.
pub(super) fn close_fds_except(keep: &[RawFd]) {
    let mut keep: Vec<RawFd> = keep.to_vec();
    keep.sort_unstable();
    let mut from: u32 = 3;
    for fd in keep.iter().copied().filter(|fd| *fd >= 3) {
        close_range(from, fd as u32 - 1);
        from = fd as u32 + 1;
    }
    close_range(from, u32::MAX);
}

use crate::sys::fd::close_range;
