//! The standard helper programs a grant may need, run outside the sandbox and tied to
//! its lifetime: xdg-dbus-proxy (D-Bus filtering) and pasta (user-mode networking).

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
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

/// Makes the child die with boxtop. (Should boxtop die before the child asks, its pid 1
/// has died with it, and pasta, finding no namespace to serve, ends.) `pause`: see
/// `process::test_pause_at`.
fn die_with_parent(cmd: &mut Command, pause: bool) {
    crate::sys::process::die_with_parent(cmd, pause);
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
    // fd 3 becomes the readiness and lifetime pipe.
    crate::sys::process::pass_fd(&mut cmd, write_fd, 3);
    die_with_parent(&mut cmd, false);
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
    let temp = std::env::temp_dir();
    // Those of launches killed while pasta started.
    remove_abandoned(&temp, PASTA_SCRATCH);
    let scratch = LockedDir::create_unique(&temp, PASTA_SCRATCH)?;
    // Dropped on return: pasta has its pid file and its log open, or has ended; neither
    // needs a name now.
    run_pasta(pid, scratch.path())
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
    die_with_parent(&mut cmd, super::process::is_test_pause("pasta"));
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
            if let Some(problem) = super::diagnosis::tun_problem() {
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

/// The lock file in a helper folder.
const LOCK: &str = "lock";
/// The prefix of a folder while it is made, before it is locked: `.making-PID-NAME`,
/// PID the maker's.
const MAKING: &str = ".making-";
/// How old an unlocked folder being made must be to count as abandoned although a
/// process has its maker's pid (a pid reused since, or the maker in another pid
/// namespace).
const MAKING_GRACE: Duration = Duration::from_secs(60);

/// The temporary name of the folder `name` while this process makes it.
fn making_name(name: &str) -> String {
    format!("{MAKING}{}-{name}", std::process::id())
}
/// The prefix of pasta's scratch folders in the temporary folder.
const PASTA_SCRATCH: &str = "boxtop-pasta-";

/// A folder of a launch (an instance's `instances/ID`, with the D-Bus proxies' sockets;
/// pasta's scratch folder), removed when dropped. The process that made it holds an
/// flock on its `lock` file while it is used: a SIGKILL leaves no time to remove the
/// folder, and a folder whose lock is free is known to be left behind; a later launch
/// removes it (`take_abandoned`).
#[derive(Debug)]
pub struct LockedDir {
    path: PathBuf,
    _lock: File,
}

impl LockedDir {
    /// Makes the private folder `path` with its lock held. It is made under a temporary
    /// name and renamed once locked, so that no launch ever sees it unlocked.
    pub fn create(path: &Path) -> Result<LockedDir, HelperError> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(dir_error(
                path,
                std::io::Error::other("not a folder inside another"),
            ));
        };
        crate::paths::ensure_private_dir(parent)?;
        let making = parent.join(making_name(&name.to_string_lossy()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&making)
            .map_err(|err| dir_error(&making, err))?;
        Self::lock_and_name(making, path.to_path_buf())
    }

    /// A new private folder in `parent` named `prefix` and six random characters.
    fn create_unique(parent: &Path, prefix: &str) -> Result<LockedDir, HelperError> {
        let temporary = making_name(prefix);
        let template = parent.join(format!("{temporary}XXXXXX"));
        let making =
            nix::unistd::mkdtemp(&template).map_err(|errno| dir_error(&template, errno.into()))?;
        let random = making
            .file_name()
            .map(|name| name.to_string_lossy()[temporary.len()..].to_string())
            .unwrap_or_default();
        let name = format!("{prefix}{random}");
        Self::lock_and_name(making, parent.join(name))
    }

    fn lock_and_name(making: PathBuf, path: PathBuf) -> Result<LockedDir, HelperError> {
        super::process::test_pause_at("making");
        let lock_path = making.join(LOCK);
        let locked = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&lock_path)
            .map_err(|err| dir_error(&lock_path, err))
            .and_then(
                |lock| match super::process::try_lock_exclusive(lock.as_fd()) {
                    Ok(true) => Ok(lock),
                    Ok(false) => Err(dir_error(
                        &lock_path,
                        std::io::Error::other("locked by another process"),
                    )),
                    Err(errno) => Err(dir_error(&lock_path, errno.into())),
                },
            )
            .and_then(|lock| {
                std::fs::rename(&making, &path).map_err(|err| dir_error(&path, err))?;
                Ok(lock)
            });
        match locked {
            Ok(lock) => Ok(LockedDir { path, _lock: lock }),
            Err(err) => {
                let _ = std::fs::remove_dir_all(&making);
                Err(err)
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Unlocks the folder and leaves it in place (for a later launch to try again).
    pub fn keep(mut self) {
        self.path = PathBuf::new();
    }
}

impl Drop for LockedDir {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn dir_error(path: &Path, source: std::io::Error) -> HelperError {
    HelperError::Dir {
        path: path.display().to_string(),
        source,
    }
}

/// Whether `dir` is a folder of the lock protocol (`LockedDir`): `take_abandoned` removes
/// it, once no process holds its lock, and nothing else should.
pub fn is_locked_dir(dir: &Path) -> bool {
    dir.join(LOCK).exists()
}

/// Removes the folders in `parent` whose names start with `prefix` that their launch
/// left behind when it was killed (see `take_abandoned`).
pub fn remove_abandoned(parent: &Path, prefix: &str) {
    drop(take_abandoned(parent, prefix));
}

/// Whether the process `pid` exists and has not exited (a zombie whose parent has not
/// reaped it yet has).
fn is_live(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rfind(')')
            .and_then(|end| stat[end + 1..].trim_start().chars().next());
        !matches!(state, Some('Z' | 'X') | None)
    })
}

/// The folders in `parent` whose names start with `prefix` that their launch left behind
/// when it was killed: those whose lock no process holds, now locked by this one and
/// removed when dropped. Those still being made, with no lock yet, whose maker is gone
/// (or that are far older than any launch) are removed at once.
pub fn take_abandoned(parent: &Path, prefix: &str) -> Vec<LockedDir> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut abandoned = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // `.making-PID-NAME`: the maker's pid.
        let maker = name.strip_prefix(MAKING).and_then(|rest| {
            let (pid, name) = rest.split_once('-')?;
            name.starts_with(prefix).then_some(pid)
        });
        if maker.is_none() && !name.starts_with(prefix) {
            continue;
        }
        let path = entry.path();
        match File::open(path.join(LOCK)) {
            Ok(lock) => {
                if super::process::try_lock_exclusive(lock.as_fd()) == Ok(true) {
                    abandoned.push(LockedDir { path, _lock: lock });
                }
            }
            Err(_) => {
                let Some(pid) = maker else { continue };
                let maker_gone = pid
                    .parse::<u32>()
                    .is_ok_and(|pid| pid != std::process::id() && !is_live(pid));
                let stale = entry
                    .metadata()
                    .and_then(|meta| meta.modified())
                    .is_ok_and(|made| made.elapsed().is_ok_and(|age| age > MAKING_GRACE));
                if maker_gone || stale {
                    let _ = std::fs::remove_dir_all(&path);
                }
            }
        }
    }
    abandoned
}
