//! Proof that the process has one thread: what makes `fork` and `clone` sound when the
//! child goes on running Rust code (which allocates and takes locks) instead of only
//! calling `execve`.

use std::marker::PhantomData;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

/// Held by a process that had a single thread when it was checked. The functions that
/// fork and then run boxtop's code in the child take it by reference.
///
/// It cannot be made but by [`SingleThreaded::check`], nor sent or shared with another
/// thread (it is neither `Send` nor `Sync`), and [`crate::sys::process::fork`] checks
/// again right before it forks: a thread started after the check makes the fork fail
/// instead of leaving the child a lock held by a thread that does not exist in it.
#[derive(Debug)]
pub struct SingleThreaded {
    /// `/proc/self/task` of this process, kept open: the check made again before a fork
    /// reads it through this descriptor, which still names this process once `/proc` is
    /// another pid namespace's (`boxtop enter` forks after joining the sandbox's mounts).
    task_dir: OwnedFd,
    _not_send: PhantomData<*const ()>,
}

/// Why a process that forks and runs code in the child cannot do so here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThreadsError {
    #[error(
        "this process runs {threads} threads; starting or joining a sandbox forks, which is \
         only sound in a process with one thread (run `boxtop run` as a program of its own \
         instead)"
    )]
    Threads { threads: u64 },
    #[error("cannot count the threads of this process in /proc/self/task: {0}")]
    Unreadable(Errno),
}

impl SingleThreaded {
    /// Checks that the calling process has exactly one thread: one `open` and one `fstat`
    /// of `/proc/self/task`, which the kernel gives two links plus one per thread.
    pub fn check() -> Result<SingleThreaded, ThreadsError> {
        let task_dir = nix::fcntl::open(
            "/proc/self/task",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(ThreadsError::Unreadable)?;
        let single = SingleThreaded {
            task_dir,
            _not_send: PhantomData,
        };
        single.recheck()?;
        Ok(single)
    }

    /// Checks again that the process still has one thread (see the type's text).
    pub fn recheck(&self) -> Result<(), ThreadsError> {
        match threads_of(&self.task_dir)? {
            1 => Ok(()),
            threads => Err(ThreadsError::Threads { threads }),
        }
    }
}

/// The number of threads of the process whose `/proc/PID/task` is `task_dir`.
fn threads_of(task_dir: &OwnedFd) -> Result<u64, ThreadsError> {
    let links = nix::sys::stat::fstat(task_dir)
        .map_err(ThreadsError::Unreadable)?
        .st_nlink;
    (links as u64)
        .checked_sub(2)
        .filter(|threads| *threads > 0)
        .ok_or(ThreadsError::Unreadable(Errno::EINVAL))
}

/// The number of threads of the calling process.
pub fn threads() -> Result<u64, ThreadsError> {
    let task_dir = nix::fcntl::open(
        "/proc/self/task",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(ThreadsError::Unreadable)?;
    threads_of(&task_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_thread_is_counted_and_refused() {
        // The test harness may run tests on threads of its own: only the difference counts.
        let before = threads().unwrap();
        let (started, wait) = std::sync::mpsc::channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || {
            started.send(()).unwrap();
            let _ = stopped.recv();
        });
        wait.recv().unwrap();
        assert_eq!(threads().unwrap(), before + 1);
        let refused = SingleThreaded::check().unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("threads; starting or joining a sandbox forks"),
            "{refused}"
        );
        stop.send(()).unwrap();
        other.join().unwrap();
    }
}
