//! The sandbox's own network namespace: `lo`, which starts down, brought up so that
//! local sockets inside work; and, for an isolated network, the guard that keeps every
//! address of the host out of reach.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use super::helpers;
use super::netlink::{self, RouteChange, Rtnetlink};
use super::report::{Failure, Report};
use crate::sys::process::{ForkError, Forked};
use crate::sys::{self, SingleThreaded};

pub use crate::sys::net::loopback_up;

/// Why the guard of the host's addresses could not start.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("cannot watch this machine's network addresses: {0}")]
    Watch(Errno),
    #[error("cannot open the sandbox's {ns} namespace: {errno}")]
    Namespace { ns: &'static str, errno: Errno },
    #[error("cannot start the guard of this machine's addresses: {0}")]
    Fork(Errno),
    #[error("cannot start the guard of this machine's addresses: {0}")]
    Forking(#[from] ForkError),
    #[error("cannot make this machine's addresses unreachable from the sandbox: {0}")]
    Failed(String),
}

/// The process that keeps every address of the host unreachable from an isolated
/// sandbox, for as long as it runs: killed when this value is dropped, and with boxtop.
#[derive(Debug)]
pub struct HostGuard {
    pid: Pid,
}

impl Drop for HostGuard {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(self.pid, Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(self.pid, None);
    }
}

/// Makes every address of this machine unreachable from the network namespace of
/// `sandbox` (its pid 1), and keeps it so as addresses come and go, until the returned
/// guard is dropped.
///
/// pasta connects the sandbox to the internet through sockets of the host's network
/// namespace: a connection to an address of the host itself (a second interface, a
/// container bridge, a VPN) would end at the host's own services. So the namespace gets a
/// `prohibit` route to each of them. The guard is a process forked from boxtop that hears
/// of the host's address changes on a netlink socket opened here, joins the sandbox's
/// user namespace (where boxtop's uid has every capability) and network namespace, and
/// changes the routes there. It returns once the routes of the addresses of the moment
/// are in place; an address added later is unreachable once the guard has heard of it,
/// milliseconds later. If the guard cannot add a route, it kills the sandbox.
///
/// It forks: the process must have one thread (the token).
pub fn start_host_guard(single: &SingleThreaded, sandbox: Pid) -> Result<HostGuard, GuardError> {
    // Subscribed before the first listing: a change made meanwhile is heard of.
    let events = Rtnetlink::open(netlink::ADDRESS_GROUPS).map_err(GuardError::Watch)?;
    let host = Rtnetlink::open(0).map_err(GuardError::Watch)?;
    let namespace = |ns: &'static str| {
        nix::fcntl::open(
            format!("/proc/{sandbox}/ns/{ns}").as_str(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| GuardError::Namespace { ns, errno })
    };
    let user = namespace("user")?;
    let net = namespace("net")?;
    let pidfd = super::process::pidfd_open(sandbox).map_err(GuardError::Fork)?;
    let (ready_read, ready_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(GuardError::Fork)?;
    let pause = super::process::is_test_pause("guard");
    let boxtop = nix::unistd::getpid();
    // The child runs `guard_main` and never returns.
    match sys::process::fork(single)? {
        Forked::Child => {
            // The guard follows the host's addresses until it is killed: it dies with
            // boxtop, and at once if boxtop is gone already, which the death signal,
            // sent only for a death after this call, would not catch.
            crate::sys::caps::set_parent_death_signal();
            if nix::unistd::getppid() != boxtop {
                sys::process::exit_now(1)
            }
            if pause {
                let _ = nix::sys::signal::raise(Signal::SIGSTOP);
            }
            drop(ready_read);
            let keep = [
                events.fd().as_raw_fd(),
                host.fd().as_raw_fd(),
                user.as_raw_fd(),
                net.as_raw_fd(),
                pidfd.as_raw_fd(),
                ready_write.as_raw_fd(),
            ];
            super::exec::close_fds_except(&keep);
            guard_main(events, host, (user, net), pidfd, ready_write)
        }
        Forked::Parent { child } => {
            drop(ready_write);
            let guard = HostGuard { pid: child };
            // The guard reports once, then closes the pipe or exits.
            helpers::wait_readable(&ready_read, helpers::READY_TIMEOUT)
                .map_err(|reason| GuardError::Failed(format!("the guard is silent: {reason}")))?;
            match Report::read_from(std::fs::File::from(ready_read)) {
                Some(Ok(Report::Started)) => Ok(guard),
                Some(Ok(Report::Failed { reason, .. })) => Err(GuardError::Failed(reason)),
                Some(Ok(other)) => Err(GuardError::Failed(format!("the guard said {other:?}"))),
                Some(Err(err)) => Err(GuardError::Failed(format!("the guard sent {err}"))),
                None => Err(GuardError::Failed("the guard ended without a word".into())),
            }
        }
    }
}

/// The guard process: sets up, reports `Started` (or why not) on `ready`, then
/// follows the host's addresses until it is killed.
fn guard_main(
    mut events: Rtnetlink,
    mut host: Rtnetlink,
    (user, net): (OwnedFd, OwnedFd),
    sandbox: OwnedFd,
    ready: OwnedFd,
) -> ! {
    // Leaving the forked child without running the parent's cleanup.
    let fail = |message: String| -> ! {
        let _ = nix::unistd::write(&ready, &Report::failed(Failure::Setup, message).encode());
        sys::process::exit_now(1)
    };
    // The terminal's signals are boxtop's to forward to the app, and the handlers boxtop
    // holds them with mean nothing here.
    let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
    for signal in super::init::FORWARDED {
        sys::process::default_disposition(*signal);
    }
    let _ = crate::sys::caps::set_no_new_privs();
    for (ns, fd, flag) in [
        ("user", &user, CloneFlags::CLONE_NEWUSER),
        ("network", &net, CloneFlags::CLONE_NEWNET),
    ] {
        if let Err(errno) = nix::sched::setns(fd, flag) {
            fail(format!("joining the sandbox's {ns} namespace: {errno}"));
        }
    }
    drop((user, net));
    let mut inside = Rtnetlink::open(0)
        .unwrap_or_else(|errno| fail(format!("opening a netlink socket inside: {errno}")));
    let mut blocked = BTreeSet::new();
    if let Err(message) = follow(&mut host, &mut inside, &mut blocked) {
        fail(message);
    }
    let _ = nix::unistd::write(&ready, &Report::Started.encode());
    drop(ready);
    loop {
        let outcome = events
            .wait_for_change()
            .map_err(|errno| format!("listening for address changes: {errno}"))
            .and_then(|()| follow(&mut host, &mut inside, &mut blocked));
        if let Err(message) = outcome {
            // Fail closed: a sandbox that might reach the host does not go on.
            eprintln!("boxtop: {message}; stopping the sandbox");
            let _ = super::process::pidfd_kill(sandbox.as_fd(), Signal::SIGKILL);
            sys::process::exit_now(1)
        }
    }
}

/// Brings the sandbox's `prohibit` routes in line with the host's addresses of the
/// moment: `blocked` holds those the guard installed.
fn follow(
    host: &mut Rtnetlink,
    inside: &mut Rtnetlink,
    blocked: &mut BTreeSet<IpAddr>,
) -> Result<(), String> {
    let now: BTreeSet<IpAddr> = host
        .addresses()
        .map_err(|errno| format!("listing this machine's addresses: {errno}"))?
        .into_iter()
        .filter(|address| to_block(*address))
        .collect();
    for address in now.difference(blocked) {
        inside
            .prohibit(RouteChange::Add, *address)
            .map_err(|errno| format!("adding a prohibit route to {address} inside: {errno}"))?;
    }
    // An address the host no longer has may be a machine of the network again. One whose
    // route stays is merely still unreachable: tried again at the next change.
    let gone: Vec<IpAddr> = blocked.difference(&now).copied().collect();
    let kept = gone
        .into_iter()
        .filter(|address| inside.prohibit(RouteChange::Remove, *address).is_err());
    *blocked = now.into_iter().chain(kept).collect();
    Ok(())
}

/// Whether a host address needs a route: loopback addresses reach the sandbox's own `lo`.
fn to_block(address: IpAddr) -> bool {
    !address.is_loopback()
}
