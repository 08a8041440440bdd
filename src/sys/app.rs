//! A process that shares its parent's memory (`CLONE_VM`, on a stack of its own) and
//! replaces itself with a program: the way the sandbox's pid 1 starts the app without
//! copying a page of its own. Sound because the two never run code over the memory they
//! share at the same time: the parent waits while the child prepares (it may allocate
//! then); once the child says it is ready it only makes system calls on what it owns, and
//! never returns into code of the parent's.

use std::ffi::{c_char, CString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::unistd::Pid;

use super::thread::SingleThreaded;

/// Bytes of the stack the child uses until it executes.
const STACK: usize = 1 << 20;

/// What the child executes once the gate opens, all of it its own: the parent cannot
/// change or free it while the child reads it after saying it is ready.
pub struct ExecImage {
    pub program: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    /// Where to say that `execve` failed, and how: `prefix`, then `cannot execute
    /// PROGRAM: REASON`; then the child exits with `code`.
    pub failure_fd: RawFd,
    pub failure_prefix: &'static [u8],
    pub failure_code: i32,
    /// The prefix of a failure to set up (the code is `spawn`'s `closed_gate_code`).
    pub setup_failure_prefix: &'static [u8],
}

/// The child, waiting at the gate; `open` lets it execute.
pub struct Gate {
    pub child: Pid,
    gate: OwnedFd,
}

impl Gate {
    /// Lets the child execute. Dropping the gate instead makes it exit without executing
    /// anything, with the `code` given to `spawn`.
    pub fn open(self) {
        let _ = nix::unistd::write(&self.gate, b"g");
    }
}

/// The handover descriptors, for `prepare` to keep when it closes the others.
#[derive(Debug, Clone, Copy)]
pub struct Handover {
    pub ready: RawFd,
    pub gate: RawFd,
}

struct Start<'a> {
    prepare: &'a mut dyn FnMut(Handover) -> ExecImage,
    handover: Handover,
    cpus: Option<nix::sched::CpuSet>,
    closed_gate_code: i32,
}

/// Starts the child, which runs `prepare` (its setup and hardening: it may allocate, and
/// may end itself with `process::exit_now` after saying why), then says it is ready,
/// waits at the gate and executes the image `prepare` returned. Returns once the child is
/// ready to execute, or has ended. A child whose gate is dropped exits with
/// `closed_gate_code`.
///
/// The two never run at once over their memory, whatever `prepare` does: should it close
/// the handover's descriptors, this process waits for the child to end; should it leave
/// a thread running, the child ends (with `closed_gate_code`) before it says it is ready.
pub fn spawn(
    _single: &SingleThreaded,
    prepare: &mut dyn FnMut(Handover) -> ExecImage,
    closed_gate_code: i32,
) -> Result<Gate, Errno> {
    let (ready_read, ready_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let (gate_read, gate_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    // SAFETY: an anonymous private mapping; nothing else refers to it.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            STACK,
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
    // instead of writing into the parent's memory.
    // SAFETY: the first page of the mapping made above.
    unsafe { libc::mprotect(stack, 4096, libc::PROT_NONE) };
    let mut start = Start {
        prepare,
        handover: Handover {
            ready: ready_write.as_raw_fd(),
            gate: gate_read.as_raw_fd(),
        },
        cpus: keep_to_this_cpu(),
        closed_gate_code,
    };
    // SAFETY: the child runs `entry` on the new stack, sharing this process's memory but
    // with its own descriptors, signal handlers and credentials (no CLONE_FILES,
    // SIGHAND). This process has one thread (the token) and only waits (the read below)
    // while the child uses `start` and allocates; after it says it is ready the child
    // touches only what `prepare` gave it, with system calls (see `run`).
    let pid = unsafe {
        libc::clone(
            entry,
            (stack as *mut u8).add(STACK).cast(),
            libc::CLONE_VM | libc::SIGCHLD,
            &mut start as *mut Start as *mut libc::c_void,
        )
    };
    let errno = Errno::last();
    if pid < 0 {
        restore_cpus(start.cpus.as_ref());
        // SAFETY: no process uses the stack: the clone failed.
        unsafe { libc::munmap(stack, STACK) };
        return Err(errno);
    }
    // The child's copies are its own: this process sees end of file if the child ends.
    drop(ready_write);
    drop(gate_read);
    let child = Pid::from_raw(pid);
    if super::fd::read_byte(ready_read.as_raw_fd()).is_none() {
        // The child ended, or closed its end while it may still run `prepare`: this
        // process goes on only once the child is gone (left unreaped for its parent's
        // wait, which sees how it ended).
        wait_gone(child);
    }
    restore_cpus(start.cpus.as_ref());
    // The stack stays mapped: the child runs on it until it executes, which this process
    // cannot know the moment of. It is freed when this process ends.
    Ok(Gate {
        child,
        gate: gate_write,
    })
}

extern "C" fn entry(start: *mut libc::c_void) -> libc::c_int {
    // Nothing of `start` is used after "ready": the parent reads it again then.
    let (image, handover, cpus, closed_gate_code) = {
        // SAFETY: `spawn` passes a pointer to a `Start` in its frame, which it keeps and
        // does not touch until this process has said it is ready (or ended).
        let start = unsafe { &mut *(start as *mut Start) };
        let image = (start.prepare)(start.handover);
        // A thread `prepare` left running would run on beside the parent over the
        // memory they share: the child ends instead, before it says it is ready.
        if super::thread::threads() != Ok(1) {
            super::fd::write_parts(
                image.failure_fd,
                &[
                    image.setup_failure_prefix,
                    b"the app's process ran threads before it executed",
                    b"",
                    b"",
                    b"",
                ],
            );
            super::process::exit_now(start.closed_gate_code)
        }
        (image, start.handover, start.cpus, start.closed_gate_code)
    };
    run(image, handover, cpus, closed_gate_code)
}

/// The child once prepared: "ready", the gate, `execve`. Nothing here allocates.
fn run(
    image: ExecImage,
    handover: Handover,
    cpus: Option<nix::sched::CpuSet>,
    closed_gate_code: i32,
) -> ! {
    // Made before "ready": the last allocations of this process.
    let argv = null_terminated(&image.argv);
    let envp = null_terminated(&image.envp);
    // From here on this process allocates nothing: the parent runs again once it reads this.
    super::fd::write_raw(handover.ready, b"r");
    if super::fd::read_byte(handover.gate).is_none() {
        // The parent dropped the gate (it said why) or is gone: nothing is executed.
        super::process::exit_now(closed_gate_code)
    }
    restore_cpus(cpus.as_ref());
    // SAFETY: `program`, `argv` and `envp` are NUL-terminated strings and null-terminated
    // arrays of them, owned by this frame and alive until execve replaces this process.
    unsafe { libc::execve(image.program.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    let errno = Errno::last();
    super::fd::write_parts(
        image.failure_fd,
        &[
            image.failure_prefix,
            b"cannot execute ",
            image.program.as_bytes(),
            b": ",
            errno.desc().as_bytes(),
        ],
    );
    super::process::exit_now(image.failure_code)
}

/// Waits until `child` has ended, without reaping it.
fn wait_gone(child: Pid) {
    use nix::sys::wait::{waitid, Id, WaitPidFlag};
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
    while let Err(Errno::EINTR) = waitid(Id::Pid(child), flags) {}
}

/// The array of pointers `execve` takes, ending with a null pointer.
fn null_terminated(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|string| string.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Keeps this process to the CPU it runs on, and returns the CPUs it could run on before:
/// the child then starts on this CPU, free as soon as the parent waits, instead of on
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
