//! The standard helper programs a grant may need, run outside the sandbox and tied to
//! its lifetime: xdg-dbus-proxy (D-Bus filtering) and pasta (user-mode networking).

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    #[error("{0}")]
    PrivateDir(#[from] crate::paths::PrivateDirError),
    #[error("cannot create {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}

/// A helper serving one sandbox: an xdg-dbus-proxy, or pasta, the proxy of its network.
/// It is killed when this value is dropped, and with boxtop in any case.
#[derive(Debug)]
pub struct ProxyProcess {
    child: Child,
    /// xdg-dbus-proxy also stops when this is closed.
    _keepalive: Option<OwnedFd>,
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
        crate::paths::ensure_private_dir(dir)?;
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
        .stdout(Stdio::null())
        // The terminal's Ctrl-C is boxtop's to forward to the app; the bus stays up while
        // the app shuts down.
        .process_group(0);
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
        _keepalive: None,
    };
    wait_readable(&ready_read, READY_TIMEOUT).map_err(|reason| {
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
    match nix::unistd::read(&ready_read, &mut byte) {
        Ok(1) => {
            process._keepalive = Some(ready_read);
            Ok(process)
        }
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

pub(super) fn wait_readable(fd: &OwnedFd, timeout: Duration) -> Result<(), String> {
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

/// How long a helper may take to become ready.
pub(super) const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects the network namespace of `pid` (the sandbox's pid 1) to the internet with
/// pasta: addresses and routes copied from the host, DNS at `PASTA_DNS` forwarded to
/// the host's resolver, and no way back to the host: no port forwarding in either
/// direction and no mapping of the gateway address to the host's loopback; the host's
/// other addresses are `net::start_host_guard`'s. Returns once the namespace is
/// configured.
///
/// pasta stays boxtop's child, in the foreground, to be stopped with the sandbox: given a
/// pid rather than a namespace path, it does not notice the namespace going away (the
/// 2023 releases at least), and would outlive the sandbox.
pub fn start_pasta(pid: Pid) -> Result<ProxyProcess, HelperError> {
    let template = std::env::temp_dir().join("boxtop-pasta-XXXXXX");
    let scratch = nix::unistd::mkdtemp(&template).map_err(|errno| HelperError::Dir {
        path: template.display().to_string(),
        source: errno.into(),
    })?;
    let result = run_pasta(pid, &scratch);
    // pasta has its pid file and its log open, or has ended: neither needs a name now.
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

/// Starts pasta with its pid file and its messages in `scratch`, and waits until it
/// writes the pid file, which it does once the namespace is configured.
fn run_pasta(pid: Pid, scratch: &Path) -> Result<ProxyProcess, HelperError> {
    const PROGRAM: &str = "pasta";
    let pid_file = scratch.join("pid");
    let log_path = scratch.join("log");
    let log = std::fs::File::create(&log_path).map_err(|source| HelperError::Dir {
        path: log_path.display().to_string(),
        source,
    })?;
    let mut cmd = Command::new(PROGRAM);
    // pasta refuses to stay root unless told; it never needs more than the caller's uid.
    let runas = format!("{}:{}", nix::unistd::getuid(), nix::unistd::getgid());
    cmd.args(["--config-net", "--quiet", "--foreground", "--no-map-gw"])
        .args(["--runas", &runas])
        .arg("--pid")
        .arg(&pid_file)
        .args(["-t", "none", "-u", "none", "-T", "none", "-U", "none"])
        .args(["--dns-forward", PASTA_DNS])
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        // The terminal's Ctrl-C is boxtop's to forward to the app; the network stays up
        // while the app shuts down.
        .process_group(0);
    die_with_parent(&mut cmd);
    let child = cmd.spawn().map_err(|source| HelperError::Start {
        program: PROGRAM,
        source,
    })?;
    let mut process = ProxyProcess {
        child,
        _keepalive: None,
    };
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if std::fs::read_to_string(&pid_file).is_ok_and(|text| text.ends_with('\n')) {
            return Ok(process);
        }
        let exited = process.child.try_wait().ok().flatten();
        if let Some(status) = exited {
            // pasta's own words ("Failed to open tun socket in namespace") name neither
            // the device nor the fix.
            if let Some(problem) = crate::doctor::tun_problem() {
                return Err(HelperError::Tun { problem });
            }
            let words = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(HelperError::NotReady {
                program: PROGRAM,
                reason: format!("{status}: {}", words.trim()),
            });
        }
        if Instant::now() >= deadline {
            return Err(HelperError::NotReady {
                program: PROGRAM,
                reason: format!("no answer within {} s", READY_TIMEOUT.as_secs()),
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Removes an instance's helper folder (sockets), if empty of anything else.
pub fn remove_instance_dir(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}
