//! How pid 1 starts the app: a process that shares pid 1's memory (no page copied for a
//! process that replaces itself at once), prepares and hardens itself, and executes the
//! app only once pid 1 has hardened itself too, so that the app never sees pid 1 with
//! boxtop's environment, capabilities or no seccomp filter.
//!
//! The two processes hand over twice, through two pipes, and never run boxtop code at the
//! same time over the memory they share: the app's process prepares while pid 1 waits for
//! its "ready"; pid 1 hardens itself while the app's process waits at the "gate"; then
//! the app's process only calls `execve` with strings made before, which pid 1 never
//! changes or frees.

use std::ffi::{c_char, CString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::resource::Resource;
use nix::unistd::Pid;

use super::super::exec::{find_program, harden, reset_signals};
use super::{fail, Prepared};

/// What the app's process starts with.
struct AppStart<'a> {
    prepared: &'a Prepared,
    error_fd: RawFd,
    rlimits: &'a [(Resource, u64)],
    /// The CPUs the app may run on: both processes keep to pid 1's CPU until the app
    /// executes (see `keep_to_this_cpu`).
    cpus: Option<nix::sched::CpuSet>,
    /// The app's process writes a byte here once it is ready to execute...
    ready: RawFd,
    /// ... and reads one here, written once pid 1 has hardened itself.
    gate: RawFd,
}

/// Bytes of the stack the app's process uses until it executes.
const APP_STACK: usize = 1 << 20;

/// The app's process, waiting at the gate; `open_gate` lets it execute.
pub(super) struct Gate {
    pub app: Pid,
    gate: OwnedFd,
}

impl Gate {
    /// Lets the app execute: pid 1 has hardened itself. Dropping the gate instead (pid 1
    /// failed) makes the app's process exit without executing anything.
    pub fn open(self) {
        let _ = nix::unistd::write(&self.gate, b"g");
    }
}

/// Starts the app's process (CLONE_VM, on a stack of its own) and returns once it is
/// ready to execute, or has ended (having said why on the error pipe).
pub(super) fn spawn_app(
    prepared: &Prepared,
    error_fd: RawFd,
    rlimits: &[(Resource, u64)],
) -> Result<Gate, Errno> {
    let (ready_read, ready_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let (gate_read, gate_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: an anonymous private mapping; nothing else refers to it.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            APP_STACK,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        return Err(Errno::last());
    }
    // The lowest page stays unmapped for reading and writing: an overflow faults there
    // instead of writing into pid 1's memory.
    // SAFETY: the first page of the mapping made above.
    unsafe { libc::mprotect(stack, 4096, libc::PROT_NONE) };
    let start = AppStart {
        prepared,
        error_fd,
        rlimits,
        cpus: keep_to_this_cpu(),
        ready: ready_write.as_raw_fd(),
        gate: gate_read.as_raw_fd(),
    };
    // SAFETY: the child runs `app_entry` on the new stack, sharing this process's memory
    // but with its own descriptors, signal handlers and credentials (no CLONE_FILES,
    // SIGHAND). This process is single-threaded and only waits (a read below) while the
    // child uses `start` and allocates; the child copies out what it needs before it says
    // it is ready, and then waits while this process runs (see the module's text).
    let pid = unsafe {
        libc::clone(
            app_entry,
            (stack as *mut u8).add(APP_STACK).cast(),
            libc::CLONE_VM | libc::SIGCHLD,
            &start as *const AppStart as *mut libc::c_void,
        )
    };
    let errno = Errno::last();
    if pid < 0 {
        restore_cpus(start.cpus.as_ref());
        // SAFETY: no process uses the stack: the clone failed.
        unsafe { libc::munmap(stack, APP_STACK) };
        return Err(errno);
    }
    // The child's copies are its own: this process sees end of file if the child ends.
    drop(ready_write);
    drop(gate_read);
    let mut byte = [0u8; 1];
    while let Err(Errno::EINTR) = nix::unistd::read(&ready_read, &mut byte) {}
    restore_cpus(start.cpus.as_ref());
    // The stack stays mapped: the app's process runs on it until it executes, and pid 1
    // cannot know when that is. It is freed when pid 1 ends.
    Ok(Gate {
        app: Pid::from_raw(pid),
        gate: gate_write,
    })
}

extern "C" fn app_entry(start: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `spawn_app` passes a pointer to an `AppStart` in its frame, which it keeps
    // until this process has said it is ready (or ended); `exec_app` reads it only before.
    let start = unsafe { &*(start as *const AppStart) };
    exec_app(start)
}

/// The app's process: its setup and hardening in order, "ready", the gate, `execve`.
fn exec_app(start: &AppStart) -> ! {
    let prepared = start.prepared;
    let error_fd = start.error_fd;
    let fail_setup = |what: &str, errno: Errno| fail(error_fd, b'S', &format!("{what}: {errno}"));
    reset_signals();

    let program = match find_program(&prepared.argv[0], &prepared.path_var) {
        Ok(program) => program,
        Err(message) => fail(error_fd, b'E', &message),
    };
    if let Err(errno) = nix::unistd::chdir(&prepared.cwd) {
        fail_setup(&format!("chdir {}", prepared.cwd.display()), errno);
    }
    for (resource, value) in start.rlimits {
        if let Err(errno) = nix::sys::resource::setrlimit(*resource, *value, *value) {
            fail_setup(&format!("setting {resource:?} to {value}"), errno);
        }
    }
    // Files the app creates in shares get the user's permissions, not pid 1's 0.
    nix::sys::stat::umask(prepared.umask);
    if let Err((what, errno)) = harden(
        &[error_fd, start.ready, start.gate],
        true,
        prepared.last_cap,
        prepared.landlock.as_ref(),
        &prepared.bpf,
    ) {
        fail_setup(what, errno);
    }
    let argv = null_terminated(&prepared.argv);
    let envp = null_terminated(&prepared.envp);
    let (cpus, ready, gate) = (start.cpus, start.ready, start.gate);
    // From here on this process allocates nothing: pid 1 runs again once it reads this.
    // SAFETY: writing one byte from the stack to a pipe fd of this process.
    unsafe { libc::write(ready, b"r".as_ptr().cast(), 1) };
    let mut byte = 0u8;
    let opened = loop {
        // SAFETY: reading one byte into the stack from a pipe fd of this process.
        match unsafe { libc::read(gate, (&mut byte as *mut u8).cast(), 1) } {
            1 => break true,
            -1 if Errno::last() == Errno::EINTR => continue,
            _ => break false,
        }
    };
    if !opened {
        // pid 1 could not harden itself (it said why) or is gone: nothing is executed.
        // SAFETY: exiting without running destructors of pid 1's state.
        unsafe { libc::_exit(125) }
    }
    restore_cpus(cpus.as_ref());
    // SAFETY: `program`, `argv` and `envp` are NUL-terminated strings and null-terminated
    // arrays of them, made above and alive until execve replaces this process.
    unsafe { libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    exec_failed(error_fd, &program, Errno::last())
}

/// The array of pointers `execve` takes, ending with a null pointer.
fn null_terminated(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|string| string.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Says on the error pipe that `program` could not be executed, without allocating (pid 1
/// may be running over the same memory), and exits.
fn exec_failed(error_fd: RawFd, program: &CString, errno: Errno) -> ! {
    let parts: [&[u8]; 5] = [
        b"E",
        b"cannot execute ",
        program.as_bytes(),
        b": ",
        errno.desc().as_bytes(),
    ];
    let iov = parts.map(|part| libc::iovec {
        iov_base: part.as_ptr() as *mut libc::c_void,
        iov_len: part.len(),
    });
    // SAFETY: the iovecs point at the byte slices above, alive for the call; then this
    // process exits without running destructors of pid 1's state.
    unsafe {
        libc::writev(error_fd, iov.as_ptr(), iov.len() as libc::c_int);
        libc::_exit(127)
    }
}

/// Keeps this process to the CPU it runs on, and returns the CPUs it could run on before:
/// the app's process then starts on this CPU, free as soon as pid 1 waits, instead of on
/// another that may first have to wake up (on a virtual machine, an idle CPU takes a few
/// hundred microseconds to), and the two hand over on it. `None` when the CPU is not known.
fn keep_to_this_cpu() -> Option<nix::sched::CpuSet> {
    let before = nix::sched::sched_getaffinity(Pid::from_raw(0)).ok()?;
    let cpu = nix::sched::sched_getcpu().ok()?;
    let mut this = nix::sched::CpuSet::new();
    this.set(cpu).ok()?;
    nix::sched::sched_setaffinity(Pid::from_raw(0), &this).ok()?;
    Some(before)
}

/// Gives back the CPUs `keep_to_this_cpu` took.
fn restore_cpus(cpus: Option<&nix::sched::CpuSet>) {
    if let Some(cpus) = cpus {
        let _ = nix::sched::sched_setaffinity(Pid::from_raw(0), cpus);
    }
}
