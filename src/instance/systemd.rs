//! The user's systemd manager, over the session bus: each instance a transient scope
//! `app-boxtop-APPID-INSTANCE.scope` in `app.slice` (the names systemd's desktop
//! integration gives apps), and pause, resume, kill and the unit's state through it.
//!
//! Why: the user manager owns its cgroup subtree ("single writer"); a cgroup boxtop made
//! there behind its back is invisible to `systemctl --user`, systemd-oomd, the desktops'
//! resource views and the portal's app identification. A scope asked for is not.
//!
//! zbus's blocking connection runs threads of its own: a process that forks afterwards
//! (a launch, before its app runs) talks to the manager from a forked child instead
//! (`instance::launch`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use zbus::blocking::Connection;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

use crate::profile::Limits;
use crate::sys::SingleThreaded;
use nix::unistd::Pid;
use std::os::fd::OwnedFd;

mod watch;
pub use watch::StopWatch;

const DESTINATION: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const UNIT: &str = "org.freedesktop.systemd1.Unit";
const SCOPE: &str = "org.freedesktop.systemd1.Scope";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// The slice desktop apps run in.
pub const SLICE: &str = "app.slice";

/// How long a scope's start (connecting, the call, its job) may take: it only moves
/// processes, so anything longer means a manager that does not get to it.
const JOB_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call to the manager may take before boxtop gives up on it.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error(
        "no session bus: DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does \
         not exist"
    )]
    NoBus,
    #[error("the session bus {address}: {reason}")]
    Bus { address: String, reason: String },
    #[error("no systemd user manager answers on the session bus {address}: {reason}")]
    NoManager { address: String, reason: String },
    #[error("systemd user manager: {what} {unit}: {reason}")]
    Call {
        what: &'static str,
        unit: String,
        reason: String,
    },
}

impl ManagerError {
    /// Whether the manager (or a bus with it) is not there at all, rather than refusing.
    pub fn is_absent(&self) -> bool {
        matches!(
            self,
            ManagerError::NoBus | ManagerError::Bus { .. } | ManagerError::NoManager { .. }
        )
    }
}

/// The session bus's address: `DBUS_SESSION_BUS_ADDRESS`, else `$XDG_RUNTIME_DIR/bus`
/// when that socket exists (where systemd and dbus-broker put it).
pub fn session_bus_address() -> Option<String> {
    if let Some(address) = std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .ok()
        .filter(|a| !a.is_empty())
    {
        return Some(address);
    }
    let socket = runtime_dir()?.join("bus");
    socket
        .exists()
        .then(|| format!("unix:path={}", socket.display()))
}

fn runtime_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Whether a user manager runs for this session, without a round trip: it keeps its
/// private socket at `$XDG_RUNTIME_DIR/systemd/private`. Only a launch's guess, made
/// before it forks; the call that makes the scope says for sure.
pub fn is_likely_running() -> bool {
    runtime_dir().is_some_and(|dir| dir.join("systemd/private").exists())
        && session_bus_address().is_some()
}

/// `name` escaped as one part of a unit name, as `systemd-escape` does: ASCII letters,
/// digits, `:`, `_` and `.` (not leading) stay, every other byte (`-` included, which
/// separates the parts) becomes `\xHH`.
pub fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (index, byte) in name.bytes().enumerate() {
        let plain = byte.is_ascii_alphanumeric() || byte == b':' || byte == b'_';
        if plain || (byte == b'.' && index > 0) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

/// The scope of instance `id` of `profile`: `app-boxtop-APPID-INSTANCE.scope`, APPID the
/// escaped profile name and INSTANCE what the id adds to it.
pub fn unit_name(profile: &str, id: &str) -> String {
    let instance = id
        .strip_prefix(profile)
        .and_then(|rest| rest.strip_prefix('-'))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(id);
    format!("app-boxtop-{}-{}.scope", escape(profile), escape(instance))
}

/// What a scope is made with.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeSpec {
    pub unit: String,
    pub description: String,
    pub pids: Vec<u32>,
    pub limits: Limits,
}

impl ScopeSpec {
    /// The unit's properties, as `StartTransientUnit` takes them.
    pub fn properties(&self) -> Vec<(&'static str, Value<'_>)> {
        let mut properties = vec![
            ("Description", Value::from(self.description.as_str())),
            ("Slice", Value::from(SLICE)),
            ("PIDs", Value::from(self.pids.clone())),
            // boxtop's pid 1 makes a cgroup namespace rooted at the scope and the app
            // may manage what is below it.
            ("Delegate", Value::from(true)),
        ];
        if let Some(bytes) = self.limits.memory_bytes {
            properties.push(("MemoryMax", Value::from(bytes)));
        }
        if let Some(cpu) = self.limits.cpu {
            // CPUQuota=150% is 1.5 s of CPU time each second.
            let usec = ((cpu * 1_000_000.0).round() as u64).max(10_000);
            properties.push(("CPUQuotaPerSecUSec", Value::from(usec)));
        }
        if let Some(tasks) = self.limits.pids {
            properties.push(("TasksMax", Value::from(u64::from(tasks))));
        }
        properties
    }
}

/// A unit's state, as the manager tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitState {
    pub active: String,
    pub sub: String,
    /// The scope's `Result` (`success`, `oom-kill`, `timeout`...).
    pub result: String,
}

/// A connection to the user's systemd manager.
pub struct Manager {
    connection: Connection,
    address: String,
}

impl Manager {
    /// Connects to the session bus (see `session_bus_address`) and checks that a systemd
    /// manager answers there.
    pub fn connect() -> Result<Manager, ManagerError> {
        let manager = Manager::connect_unchecked()?;
        manager.version()?;
        Ok(manager)
    }

    /// Connects to the session bus only: whether a manager answers there, the first call
    /// says (a `ServiceUnknown` error then counts as absent, see `call`).
    fn connect_unchecked() -> Result<Manager, ManagerError> {
        let address = session_bus_address().ok_or(ManagerError::NoBus)?;
        let bus = |err: zbus::Error| ManagerError::Bus {
            address: address.clone(),
            reason: err.to_string(),
        };
        let connection = zbus::blocking::connection::Builder::address(address.as_str())
            .map_err(bus)?
            .method_timeout(CALL_TIMEOUT)
            .build()
            .map_err(bus)?;
        Ok(Manager {
            connection,
            address,
        })
    }

    /// The manager's version (`systemd 252 (...)`): proof that it answers.
    pub fn version(&self) -> Result<String, ManagerError> {
        let value =
            self.get(MANAGER_PATH, MANAGER, "Version")
                .map_err(|err| ManagerError::NoManager {
                    address: self.address.clone(),
                    reason: reason(&err),
                })?;
        Ok(String::try_from(value).unwrap_or_default())
    }

    fn get(&self, path: &str, interface: &str, name: &str) -> zbus::Result<OwnedValue> {
        let reply = self.connection.call_method(
            Some(DESTINATION),
            path,
            Some(PROPERTIES),
            "Get",
            &(interface, name),
        )?;
        reply.body().deserialize::<OwnedValue>()
    }

    fn call<B>(
        &self,
        what: &'static str,
        unit: &str,
        method: &str,
        body: &B,
    ) -> Result<zbus::Message, ManagerError>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        self.connection
            .call_method(Some(DESTINATION), MANAGER_PATH, Some(MANAGER), method, body)
            .map_err(|err| match &err {
                zbus::Error::MethodError(name, _, _) if is_no_owner(name.as_str()) => {
                    ManagerError::NoManager {
                        address: self.address.clone(),
                        reason: reason(&err),
                    }
                }
                _ => ManagerError::Call {
                    what,
                    unit: unit.to_string(),
                    reason: reason(&err),
                },
            })
    }

    fn unit_path(&self, unit: &str) -> Result<OwnedObjectPath, ManagerError> {
        self.call("looking up", unit, "GetUnit", &(unit,))?
            .body()
            .deserialize::<OwnedObjectPath>()
            .map_err(|err| ManagerError::Call {
                what: "looking up",
                unit: unit.to_string(),
                reason: err.to_string(),
            })
    }

    /// The unit's state; an error once it is unloaded (a scope is, once it has ended).
    pub fn state(&self, unit: &str) -> Result<UnitState, ManagerError> {
        let path = self.unit_path(unit)?;
        let text = |interface: &str, name: &str| {
            self.get(path.as_str(), interface, name)
                .ok()
                .and_then(|value| String::try_from(value).ok())
                .unwrap_or_default()
        };
        Ok(UnitState {
            active: text(UNIT, "ActiveState"),
            sub: text(UNIT, "SubState"),
            result: text(SCOPE, "Result"),
        })
    }

    /// Freezes (or thaws) every process of the unit. `Ok(false)` when the manager cannot:
    /// too old (systemd < 246), or on a host whose cgroups are not all v2 (systemd then
    /// says the unit "does not support freezing"); the caller writes the scope's
    /// `cgroup.freeze` instead.
    pub fn freeze(&self, unit: &str, frozen: bool) -> Result<bool, ManagerError> {
        let (what, method) = if frozen {
            ("freezing", "FreezeUnit")
        } else {
            ("thawing", "ThawUnit")
        };
        match self.connection.call_method(
            Some(DESTINATION),
            MANAGER_PATH,
            Some(MANAGER),
            method,
            &(unit,),
        ) {
            Ok(_) => Ok(true),
            Err(zbus::Error::MethodError(name, _, _))
                if [
                    "org.freedesktop.DBus.Error.UnknownMethod",
                    "org.freedesktop.DBus.Error.NotSupported",
                ]
                .contains(&name.as_str()) =>
            {
                Ok(false)
            }
            Err(err) => Err(ManagerError::Call {
                what,
                unit: unit.to_string(),
                reason: reason(&err),
            }),
        }
    }

    /// Sends `signal` to every process of the unit.
    pub fn kill(&self, unit: &str, signal: i32) -> Result<(), ManagerError> {
        self.call("killing", unit, "KillUnit", &(unit, "all", signal))
            .map(drop)
    }

    /// Moves process `pid` (the caller's own, or one it may move) into the unit.
    pub fn attach(&self, unit: &str, pid: u32) -> Result<(), ManagerError> {
        self.call(
            "attaching a process to",
            unit,
            "AttachProcessesToUnit",
            &(unit, "/", vec![pid]),
        )
        .map(drop)
    }

    /// Asks the manager to send unit signals to this connection (it sends none to a
    /// bus no client subscribed on).
    pub fn subscribe(&self) -> Result<(), ManagerError> {
        self.call("subscribing to", "units", "Subscribe", &())
            .map(drop)
    }

    pub fn connection(&self) -> &Connection {
        &self.connection
    }
}

/// How a call made from a forked child went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forked {
    Done,
    /// No manager (or no bus) answered: the caller goes on without one.
    Absent(String),
    Failed(String),
}

/// Runs `call` with a connection to the manager in a child process, and waits for it: the
/// connection's threads end with the child, and this process can still fork (see the
/// module's text).
pub fn call_forked(
    single: &SingleThreaded,
    call: impl FnOnce(&Manager) -> Result<(), ManagerError>,
) -> Forked {
    use crate::sys::process::{exit_now, fork, Forked as Side};
    let (read, write) = match nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) {
        Ok(pair) => pair,
        Err(errno) => return Forked::Failed(format!("cannot create a pipe: {errno}")),
    };
    match fork(single) {
        Ok(Side::Child) => {
            drop(read);
            let said = match Manager::connect().and_then(|manager| call(&manager)) {
                Ok(()) => "done\n".to_string(),
                Err(err) if err.is_absent() => format!("absent\n{err}"),
                Err(err) => format!("failed\n{err}"),
            };
            let _ = nix::unistd::write(&write, said.as_bytes());
            exit_now(0)
        }
        Ok(Side::Parent { child }) => {
            drop(write);
            let said = String::from_utf8_lossy(&read_to_end(&read)).into_owned();
            while let Err(nix::errno::Errno::EINTR) = nix::sys::wait::waitpid(child, None) {}
            parse_answer(&said)
        }
        Err(err) => Forked::Failed(format!("cannot fork to talk to the systemd manager: {err}")),
    }
}

/// A child process, forked before the sandbox is, that connects to the manager while
/// the sandbox's pid 1 sets itself up, then makes the scope for the pid it is given and
/// waits for the start job's `JobRemoved`: the launch waits only for the call itself.
pub struct ScopeStarter {
    worker: Pid,
    pid_write: Option<OwnedFd>,
    answer: OwnedFd,
    used: bool,
}

impl ScopeStarter {
    /// Forks the worker for `spec` (its `pids` are given to `start`).
    pub fn fork(single: &SingleThreaded, spec: &ScopeSpec) -> Result<ScopeStarter, String> {
        use crate::sys::process::{exit_now, fork, Forked as Side};
        let pipe = || {
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|errno| format!("cannot create a pipe: {errno}"))
        };
        let (pid_read, pid_write) = pipe()?;
        let (answer_read, answer_write) = pipe()?;
        match fork(single) {
            Ok(Side::Child) => {
                drop(pid_write);
                drop(answer_read);
                // A manager that never answers does not keep the launch waiting: SIGALRM
                // ends the worker (whatever the launch did with the signal).
                crate::sys::process::default_disposition(nix::sys::signal::Signal::SIGALRM);
                let _ = nix::sys::signal::SigSet::from(nix::sys::signal::Signal::SIGALRM)
                    .thread_unblock();
                let _ = nix::unistd::alarm::set(JOB_TIMEOUT.as_secs() as u32 + 1);
                let said = match start_when_told(spec, &pid_read) {
                    Ok(()) => "done\n".to_string(),
                    Err(err) if err.is_absent() => format!("absent\n{err}"),
                    Err(err) => format!("failed\n{err}"),
                };
                let _ = nix::unistd::write(&answer_write, said.as_bytes());
                exit_now(0)
            }
            Ok(Side::Parent { child }) => Ok(ScopeStarter {
                worker: child,
                pid_write: Some(pid_write),
                answer: answer_read,
                used: false,
            }),
            Err(err) => Err(format!("cannot fork to talk to the systemd manager: {err}")),
        }
    }

    /// Puts `pid` in the new scope and returns once its start job is done.
    pub fn start(mut self, pid: u32) -> Forked {
        self.used = true;
        if let Some(write) = self.pid_write.take() {
            let _ = nix::unistd::write(&write, format!("{pid}\n").as_bytes());
        }
        let said = String::from_utf8_lossy(&read_to_end(&self.answer)).into_owned();
        parse_answer(&said)
    }
}

impl Drop for ScopeStarter {
    fn drop(&mut self) {
        // Not used (the launch failed before): the worker has nothing to do.
        if !self.used {
            let _ = nix::sys::signal::kill(self.worker, nix::sys::signal::Signal::SIGKILL);
        }
        self.pid_write = None;
        while let Err(nix::errno::Errno::EINTR) = nix::sys::wait::waitpid(self.worker, None) {}
    }
}

/// The worker of `ScopeStarter`: connects, subscribes to job signals, then waits for the
/// pid and starts the scope.
fn start_when_told(spec: &ScopeSpec, pid_read: &OwnedFd) -> Result<(), ManagerError> {
    use zbus::message::Type;
    // No check that the manager answers, and no `Subscribe`: each would be a round trip
    // to it before the scope can be asked for. The start call says if it is absent, and
    // the manager sends a job's JobRemoved to the client that asked for the job.
    let manager = Manager::connect_unchecked()?;
    let failed = |err: zbus::Error| ManagerError::Call {
        what: "starting",
        unit: spec.unit.clone(),
        reason: err.to_string(),
    };
    let rule = zbus::MatchRule::builder()
        .msg_type(Type::Signal)
        .path(MANAGER_PATH)
        .and_then(|b| b.interface(MANAGER))
        .and_then(|b| b.member("JobRemoved"))
        .map_err(failed)?
        .build();
    let jobs = zbus::blocking::MessageIterator::for_match_rule(
        rule.to_owned(),
        manager.connection(),
        None,
    )
    .map_err(failed)?;
    // One line: the sandbox's pid 1, cloned after this worker, holds the pipe's write end
    // too (until it closes every descriptor), so its end is not waited for.
    let told = String::from_utf8_lossy(&read_line(pid_read)).into_owned();
    let Ok(pid) = told.trim().parse::<u32>() else {
        // The launch gave up: nothing to start.
        return Ok(());
    };
    let spec = ScopeSpec {
        pids: vec![pid],
        ..spec.clone()
    };
    let aux: Vec<(&str, Vec<(&str, Value)>)> = Vec::new();
    let job: OwnedObjectPath = manager
        .call(
            "starting",
            &spec.unit,
            "StartTransientUnit",
            &(spec.unit.as_str(), "fail", spec.properties(), aux),
        )?
        .body()
        .deserialize()
        .map_err(failed)?;
    for message in jobs {
        let Ok(message) = message else { continue };
        let Ok((_, path, _, result)) = message
            .body()
            .deserialize::<(u32, OwnedObjectPath, String, String)>()
        else {
            continue;
        };
        if path == job {
            return match result.as_str() {
                "done" => Ok(()),
                other => Err(ManagerError::Call {
                    what: "starting",
                    unit: spec.unit.clone(),
                    reason: format!(
                        "its start job ended '{other}': see `systemctl --user status {}`",
                        spec.unit
                    ),
                }),
            };
        }
    }
    Err(ManagerError::Call {
        what: "starting",
        unit: spec.unit.clone(),
        reason: "the connection to the manager ended before its start job did".into(),
    })
}

/// What `fd` holds until its writers close it (or an error).
fn read_to_end(fd: &OwnedFd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    out
}

/// What `fd` holds up to its first newline (or its end).
fn read_line(fd: &OwnedFd) -> Vec<u8> {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match nix::unistd::read(fd, &mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => out.push(byte[0]),
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    out
}

/// A worker's answer: `done`, `absent` or `failed` on its first line, why after it.
fn parse_answer(said: &str) -> Forked {
    match said.split_once('\n') {
        Some(("done", _)) => Forked::Done,
        Some(("absent", why)) => Forked::Absent(why.to_string()),
        Some(("failed", why)) => Forked::Failed(why.to_string()),
        _ => Forked::Failed(format!(
            "the process talking to the systemd manager ended without an answer (none \
             within {} s, or it died)",
            JOB_TIMEOUT.as_secs() + 1
        )),
    }
}

/// Whether a D-Bus error says no one owns the manager's name on the bus.
fn is_no_owner(name: &str) -> bool {
    [
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    ]
    .contains(&name)
}

/// What a D-Bus error says, without zbus's wrapping.
fn reason(err: &zbus::Error) -> String {
    match err {
        zbus::Error::MethodError(name, Some(text), _) => format!("{text} ({})", name.as_str()),
        zbus::Error::MethodError(name, None, _) => name.as_str().to_string(),
        other => other.to_string(),
    }
}

/// The cgroup v2 folder a process is in, from `/proc/PID/cgroup`.
pub fn cgroup_of(pid: i32, mount: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let relative = text.lines().find_map(|line| line.strip_prefix("0::"))?;
    Some(mount.join(relative.trim_start_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_as_systemd_escape_does() {
        assert_eq!(escape("firefox"), "firefox");
        assert_eq!(escape("gnome-calculator"), "gnome\\x2dcalculator");
        assert_eq!(escape("org.gnome.Maps"), "org.gnome.Maps");
        assert_eq!(escape(".hidden"), "\\x2ehidden");
        assert_eq!(escape("a b/ü"), "a\\x20b\\x2f\\xc3\\xbc");
    }

    #[test]
    fn unit_names_follow_the_desktop_naming() {
        assert_eq!(
            unit_name("firefox", "firefox-1a2b3c"),
            "app-boxtop-firefox-1a2b3c.scope"
        );
        assert_eq!(
            unit_name("my-editor", "my-editor-0f0f0f"),
            "app-boxtop-my\\x2deditor-0f0f0f.scope"
        );
        // An id not made from the profile's name keeps all of it.
        assert_eq!(unit_name("a", "b-1"), "app-boxtop-a-b\\x2d1.scope");
    }

    #[test]
    fn limits_become_unit_properties() {
        let spec = ScopeSpec {
            unit: "app-boxtop-x-1.scope".into(),
            description: "boxtop: x".into(),
            pids: vec![42],
            limits: Limits {
                memory_bytes: Some(256 << 20),
                cpu: Some(1.5),
                pids: Some(64),
            },
        };
        let properties = spec.properties();
        let find = |name: &str| {
            properties
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(find("MemoryMax"), Some(Value::from(256u64 << 20)));
        assert_eq!(find("CPUQuotaPerSecUSec"), Some(Value::from(1_500_000u64)));
        assert_eq!(find("TasksMax"), Some(Value::from(64u64)));
        assert_eq!(find("Delegate"), Some(Value::from(true)));
        assert_eq!(find("Slice"), Some(Value::from("app.slice")));
        assert_eq!(find("PIDs"), Some(Value::from(vec![42u32])));
        let none = ScopeSpec {
            limits: Limits::default(),
            ..spec
        };
        assert!(none.properties().iter().all(|(n, _)| ![
            "MemoryMax",
            "CPUQuotaPerSecUSec",
            "TasksMax"
        ]
        .contains(n)));
    }
}
