//! The network of a running sandbox switched between `none` and `isolated`: a keeper
//! process, detached from the boxtop that asked, starts the guard of the host's
//! addresses and then pasta on the sandbox's own network namespace, and holds both until
//! it is told to stop (SIGTERM) or the sandbox ends. Stopping kills pasta, whose tap
//! device goes with its descriptor (its addresses and routes with it), kills the guard,
//! and removes the guard's routes: the namespace is left with `lo` alone, as at launch.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::CloneFlags;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::SignalFd;
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use super::netlink::{RouteChange, Rtnetlink};
use super::report::{Failure, Report};
use crate::sys::process::Forked;
use crate::sys::{self, SingleThreaded};

#[derive(Debug, thiserror::Error)]
pub enum LiveNetError {
    #[error("{0}")]
    Fork(#[from] sys::process::ForkError),
    #[error("cannot create a pipe: {0}")]
    Pipe(Errno),
    #[error("the sandbox's pid 1 is gone")]
    Gone,
    #[error("{0}")]
    Failed(String),
    #[error("the process holding its network (pid {pid}) did not stop within {} s; it was killed", STOP_TIMEOUT.as_secs())]
    StopTimeout { pid: i32 },
}

/// How long the keeper may take to stop pasta and clean up.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The sandbox whose network changes.
pub struct Target<'a> {
    /// Its pid 1, whose end ends the keeper.
    pub init: Pid,
    /// A process of it in its recorded namespaces, and its start time
    /// (`process::network_member`): pid 1's namespaces are closed to us.
    pub member: (Pid, u64),
    /// The namespaces recorded at launch.
    pub namespaces: &'a [(String, u64)],
}

/// Connects the network namespace of `target` to the internet as
/// `network = "isolated"` does at launch, from a keeper process that outlives this one.
/// Returns the keeper's pid once pasta has configured the namespace. It forks: the
/// process must have one thread (the token).
pub fn connect(single: &SingleThreaded, target: &Target<'_>) -> Result<Pid, LiveNetError> {
    let sandbox_fd = super::process::pidfd_open(target.init).map_err(|_| LiveNetError::Gone)?;
    let (report_read, report_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(LiveNetError::Pipe)?;
    match sys::process::fork(single)? {
        Forked::Parent { child } => {
            drop(report_write);
            drop(sandbox_fd);
            match Report::read_from(std::fs::File::from(report_read)) {
                Some(Ok(Report::Started)) => Ok(child),
                Some(Ok(Report::Failed { reason, .. })) => {
                    let _ = nix::sys::wait::waitpid(child, None);
                    Err(LiveNetError::Failed(reason))
                }
                Some(Ok(other)) => Err(LiveNetError::Failed(format!(
                    "the keeper of its network said {other:?}"
                ))),
                Some(Err(err)) => Err(LiveNetError::Failed(format!(
                    "the keeper of its network sent {err}"
                ))),
                None => {
                    let _ = nix::sys::wait::waitpid(child, None);
                    Err(LiveNetError::Failed(
                        "the keeper of its network ended without a word".into(),
                    ))
                }
            }
        }
        Forked::Child => {
            drop(report_read);
            let code = keeper_main(target, sandbox_fd, report_write);
            sys::process::exit_now(code)
        }
    }
}

/// Tells the keeper `keeper` (pid and start time) to cut the sandbox off, and waits until
/// it has: pasta gone, the guard's routes removed.
pub fn disconnect(keeper: Pid, start: u64) -> Result<(), LiveNetError> {
    let pidfd = match super::process::pidfd_open(keeper) {
        Ok(fd) => fd,
        // Gone already: with the sandbox, which took its network with it.
        Err(_) => return Ok(()),
    };
    let same = sys::procfs::Stat::read(keeper.as_raw())
        .is_ok_and(|stat| stat.start_ticks == start && stat.state != 'Z');
    if !same {
        return Ok(());
    }
    super::process::pidfd_kill(pidfd.as_fd(), Signal::SIGTERM)
        .map_err(|errno| LiveNetError::Failed(format!("cannot stop pid {keeper}: {errno}")))?;
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    let millis = PollTimeout::try_from(STOP_TIMEOUT.as_millis() as i32).unwrap_or(PollTimeout::MAX);
    loop {
        match poll(&mut fds, millis) {
            Ok(0) => {
                let _ = super::process::pidfd_kill(pidfd.as_fd(), Signal::SIGKILL);
                return Err(LiveNetError::StopTimeout {
                    pid: keeper.as_raw(),
                });
            }
            Err(Errno::EINTR) => continue,
            Ok(_) | Err(_) => return Ok(()),
        }
    }
}

/// The keeper: its own session and no descriptor of the caller's (the caller's output
/// pipes close when the caller ends), the guard of the host's addresses first (pasta's
/// sockets would otherwise reach them), then pasta; `Started` on `report`; then it waits
/// for SIGTERM or the sandbox's end.
fn keeper_main(target: &Target<'_>, sandbox_fd: OwnedFd, report: OwnedFd) -> i32 {
    let fail = |message: String| {
        let _ = nix::unistd::write(&report, &Report::failed(Failure::Setup, message).encode());
        1
    };
    if nix::unistd::setsid().is_err() {
        return fail("cannot leave boxtop's session".into());
    }
    if let Err(errno) = super::process::redirect_stdio(None) {
        return fail(format!("cannot point its output at /dev/null: {errno}"));
    }
    super::exec::close_fds_except(&[sandbox_fd.as_raw_fd(), report.as_raw_fd()]);
    // The parent's token names the parent's threads: this process checks its own.
    let single = match SingleThreaded::check() {
        Ok(single) => single,
        Err(err) => return fail(err.to_string()),
    };
    let (member, member_start) = target.member;
    // Kept to clean up after pasta, whatever becomes of the member.
    let namespaces = match open_namespaces(member) {
        Ok(namespaces) => namespaces,
        Err(message) => return fail(message),
    };
    let guard = match super::net::start_host_guard(&single, member) {
        Ok(guard) => guard,
        Err(err) => return fail(err.to_string()),
    };
    let pasta = match super::helpers::start_pasta(member) {
        Ok(pasta) => pasta,
        Err(err) => return fail(err.to_string()),
    };
    // Still the same process: its pid named the sandbox's namespaces all along.
    if !super::process::network_member_is(member, member_start, target.namespaces) {
        drop(pasta);
        drop(guard);
        return fail(format!(
            "process {member} of the sandbox ended or changed while its network was being connected; try again"
        ));
    }
    // Blocked here, after the helpers started: they must not inherit the mask.
    let mut stops = SigSet::empty();
    for signal in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        stops.add(signal);
    }
    let signals = stops
        .thread_block()
        .map_err(|errno| errno.to_string())
        .and_then(|()| SignalFd::new(&stops).map_err(|errno| errno.to_string()));
    let signals = match signals {
        Ok(signals) => signals,
        Err(reason) => return fail(format!("cannot wait for its stop signal: {reason}")),
    };
    let _ = nix::unistd::write(&report, &Report::Started.encode());
    drop(report);
    loop {
        let mut fds = [
            PollFd::new(sandbox_fd.as_fd(), PollFlags::POLLIN),
            PollFd::new(signals.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            _ => break,
        }
    }
    drop(pasta);
    drop(guard);
    let sandbox_runs = {
        let mut fds = [PollFd::new(sandbox_fd.as_fd(), PollFlags::POLLIN)];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(0))
    };
    if sandbox_runs {
        if let Err(message) = remove_guard_routes(namespaces) {
            eprintln!("boxtop: {message}");
            return 1;
        }
    }
    0
}

/// The user and network namespaces of `member`, opened.
fn open_namespaces(member: Pid) -> Result<[(OwnedFd, CloneFlags, &'static str); 2], String> {
    let open = |ns: &'static str| {
        nix::fcntl::open(
            format!("/proc/{member}/ns/{ns}").as_str(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| format!("cannot open the sandbox's {ns} namespace: {errno}"))
    };
    Ok([
        (open("user")?, CloneFlags::CLONE_NEWUSER, "user"),
        (open("net")?, CloneFlags::CLONE_NEWNET, "network"),
    ])
}

/// Removes the `prohibit` routes the guard made in the sandbox's network namespace (one
/// per address of this machine, as the guard keeps them).
fn remove_guard_routes(namespaces: [(OwnedFd, CloneFlags, &'static str); 2]) -> Result<(), String> {
    let mut host = Rtnetlink::open(0).map_err(|errno| format!("netlink: {errno}"))?;
    let addresses = host
        .addresses()
        .map_err(|errno| format!("listing this machine's addresses: {errno}"))?;
    for (fd, flag, ns) in namespaces {
        nix::sched::setns(&fd, flag)
            .map_err(|errno| format!("cannot join the sandbox's {ns} namespace: {errno}"))?;
    }
    let mut inside =
        Rtnetlink::open(0).map_err(|errno| format!("netlink inside the sandbox: {errno}"))?;
    for address in addresses.into_iter().filter(|a| !a.is_loopback()) {
        // A route the guard never made (an address gone meanwhile) is no error.
        let _ = inside.prohibit(RouteChange::Remove, address);
    }
    Ok(())
}
