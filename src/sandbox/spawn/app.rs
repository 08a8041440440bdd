//! How pid 1 starts the app: a process that shares pid 1's memory (no page copied for a
//! process that replaces itself at once, see `sys::app`), prepares and hardens itself,
//! and executes the app only once pid 1 has hardened itself too, so that the app never
//! sees pid 1 with boxtop's environment, capabilities or no seccomp filter.
//!
//! The two processes hand over twice: the app's process prepares while pid 1 waits for
//! its "ready"; pid 1 hardens itself while the app's process waits at the "gate"; then
//! the app's process only calls `execve` with strings it copied before.

use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::sys::resource::Resource;

use super::super::exec::{find_program, harden, reset_signals};
use super::super::report::Failure;
use super::{fail, Prepared};
use crate::sys::app::{self, ExecImage, Gate, Handover};
use crate::sys::SingleThreaded;

/// Starts the app's process and returns once it is ready to execute, or has ended
/// (having said why on the error pipe). A process whose gate is dropped exits with the
/// code of a failed setup: pid 1 said why.
pub(super) fn spawn_app(
    single: &SingleThreaded,
    prepared: &Prepared,
    error_fd: RawFd,
    rlimits: &[(Resource, u64)],
) -> Result<Gate, Errno> {
    let mut prepare = |handover: Handover| prepare_app(prepared, error_fd, rlimits, handover);
    app::spawn(single, &mut prepare, i32::from(Failure::Setup.exit_code()))
}

/// The app's process until it is ready: its setup and hardening in order, and what it
/// executes, copied out of pid 1's `Prepared`.
fn prepare_app(
    prepared: &Prepared,
    error_fd: RawFd,
    rlimits: &[(Resource, u64)],
    handover: Handover,
) -> ExecImage {
    let fail_setup =
        |what: &str, errno: Errno| fail(error_fd, Failure::Setup, &format!("{what}: {errno}"));
    reset_signals();

    let program = match find_program(&prepared.argv[0], &prepared.path_var) {
        Ok(program) => program,
        Err(message) => fail(error_fd, Failure::Exec, &message),
    };
    if let Err(errno) = nix::unistd::chdir(&prepared.cwd) {
        fail_setup(&format!("chdir {}", prepared.cwd.display()), errno);
    }
    for (resource, value) in rlimits {
        if let Err(errno) = nix::sys::resource::setrlimit(*resource, *value, *value) {
            fail_setup(&format!("setting {resource:?} to {value}"), errno);
        }
    }
    // Files the app creates in shares get the user's permissions, not pid 1's 0.
    nix::sys::stat::umask(prepared.umask);
    if let Err((what, errno)) = harden(
        &[error_fd, handover.ready, handover.gate],
        true,
        prepared.last_cap,
        prepared.landlock.as_ref(),
        &prepared.bpf,
    ) {
        fail_setup(what, errno);
    }
    ExecImage {
        program,
        argv: prepared.argv.clone(),
        envp: prepared.envp.clone(),
        failure_fd: error_fd,
        failure_prefix: Failure::Exec.tag(),
        failure_code: i32::from(Failure::Exec.exit_code()),
        setup_failure_prefix: Failure::Setup.tag(),
    }
}
