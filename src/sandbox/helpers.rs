//! The standard helper programs a grant may need, run outside the sandbox and tied to
//! its lifetime: xdg-dbus-proxy (D-Bus filtering) and pasta (user-mode networking).

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::unistd::Pid;

use super::plan::{DbusProxy, PASTA_DNS};

#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    #[error("cannot start {program}: {source}")]
    Start {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("{program} did not become ready: {reason}")]
    NotReady {
        program: &'static str,
        reason: String,
    },
    /// pasta failed and the tun device is why: `problem` says what to do.
    #[error("pasta cannot give the sandbox its network: {problem}")]
    Tun { problem: String },
    #[error("cannot create {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}

/// A running xdg-dbus-proxy. It stops when `keepalive` is closed (when this value is
/// dropped, or when boxtop dies), and is killed with boxtop in any case.
#[derive(Debug)]
pub struct ProxyProcess {
    child: Child,
    _keepalive: OwnedFd,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes the child die with boxtop.
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe; the closure allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            );
            Ok(())
        });
    }
}

/// Starts xdg-dbus-proxy for `proxy` and waits until its socket listens.
pub fn start_dbus_proxy(proxy: &DbusProxy) -> Result<ProxyProcess, HelperError> {
    const PROGRAM: &str = "xdg-dbus-proxy";
    if let Some(dir) = proxy.socket.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| HelperError::Dir {
                path: dir.display().to_string(),
                source,
            })?;
    }
    let _ = std::fs::remove_file(&proxy.socket);
    let (ready_read, ready_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|errno| HelperError::Start {
            program: PROGRAM,
            source: errno.into(),
        })?;
    let write_fd = ready_write.as_raw_fd();
    let mut cmd = Command::new(PROGRAM);
    cmd.arg("--fd=3")
        .arg(&proxy.bus_address)
        .arg(&proxy.socket)
        .arg("--filter")
        .args(&proxy.rules)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    // SAFETY: dup2 is async-signal-safe; fd 3 becomes the readiness and lifetime pipe.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(write_fd, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    die_with_parent(&mut cmd);
    let child = cmd.spawn().map_err(|source| HelperError::Start {
        program: PROGRAM,
        source,
    })?;
    drop(ready_write);
    let mut process = ProxyProcess {
        child,
        _keepalive: ready_read,
    };
    wait_readable(&process._keepalive, Duration::from_secs(10)).map_err(|reason| {
        let status = process.child.try_wait().ok().flatten();
        HelperError::NotReady {
            program: PROGRAM,
            reason: match status {
                Some(status) => format!("it exited ({status})"),
                None => reason,
            },
        }
    })?;
    let mut byte = [0u8; 1];
    match nix::unistd::read(&process._keepalive, &mut byte) {
        Ok(1) => Ok(process),
        _ => {
            let status = process.child.wait().ok();
            Err(HelperError::NotReady {
                program: PROGRAM,
                reason: format!(
                    "it exited ({})",
                    status.map_or("?".into(), |s| s.to_string())
                ),
            })
        }
    }
}

fn wait_readable(fd: &OwnedFd, timeout: Duration) -> Result<(), String> {
    let mut fds = [PollFd::new(
        std::os::fd::AsFd::as_fd(fd),
        PollFlags::POLLIN | PollFlags::POLLHUP,
    )];
    let millis = PollTimeout::try_from(timeout.as_millis().min(i32::MAX as u128) as i32)
        .unwrap_or(PollTimeout::MAX);
    match poll(&mut fds, millis) {
        Ok(0) => Err(format!("no answer within {} s", timeout.as_secs())),
        Ok(_) => Ok(()),
        Err(errno) => Err(errno.to_string()),
    }
}

/// Connects the network namespace of `pid` (the sandbox's pid 1) to the internet with
/// pasta: addresses and routes copied from the host, DNS at `PASTA_DNS` forwarded to
/// the host's resolver, and no way back to the host: no port forwarding in either
/// direction and no mapping of the gateway address to the host's loopback. pasta
/// detaches once the namespace is configured and exits when the namespace is gone.
pub fn start_pasta(pid: Pid) -> Result<(), HelperError> {
    const PROGRAM: &str = "pasta";
    let mut cmd = Command::new(PROGRAM);
    // pasta refuses to stay root unless told; it never needs more than the caller's uid.
    let runas = format!("{}:{}", nix::unistd::getuid(), nix::unistd::getgid());
    cmd.args(["--config-net", "--quiet", "--no-map-gw", "--runas", &runas])
        .args(["-t", "none", "-u", "none", "-T", "none", "-U", "none"])
        .args(["--dns-forward", PASTA_DNS])
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let output = cmd.output().map_err(|source| HelperError::Start {
        program: PROGRAM,
        source,
    })?;
    if !output.status.success() {
        // pasta's own words ("Failed to open tun socket in namespace") name neither the
        // device nor the fix.
        if let Some(problem) = crate::doctor::tun_problem() {
            return Err(HelperError::Tun { problem });
        }
        return Err(HelperError::NotReady {
            program: PROGRAM,
            reason: format!(
                "{}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(())
}

/// Removes an instance's helper folder (sockets), if empty of anything else.
pub fn remove_instance_dir(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
