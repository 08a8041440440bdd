//! Proof that the process has one thread: what makes `fork` and `clone` sound when the
//! child goes on running Rust code (which allocates and takes locks) instead of only
//! calling `execve`.

use std::marker::PhantomData;
use std::os::unix::fs::MetadataExt;

/// Held by a process that had a single thread when it was checked. The functions that
/// fork and then run boxtop's code in the child take it by reference.
///
/// It cannot be made but by [`SingleThreaded::check`], nor sent or shared with another
/// thread (it is neither `Send` nor `Sync`), and [`crate::sys::process::fork`] checks
/// again right before it forks: a thread started after the check makes the fork fail
/// instead of leaving the child a lock held by a thread that does not exist in it.
#[derive(Debug)]
pub struct SingleThreaded {
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
    Unreadable(String),
}

impl SingleThreaded {
    /// Checks that the calling process has exactly one thread. One `stat` of
    /// `/proc/self/task`: the kernel gives that folder two links plus one per thread.
    pub fn check() -> Result<SingleThreaded, ThreadsError> {
        match threads()? {
            1 => Ok(SingleThreaded {
                _not_send: PhantomData,
            }),
            threads => Err(ThreadsError::Threads { threads }),
        }
    }

    /// Checks again that the process still has one thread (see the type's text).
    pub fn recheck(&self) -> Result<(), ThreadsError> {
        Self::check().map(drop)
    }
}

/// The number of threads of the calling process.
pub fn threads() -> Result<u64, ThreadsError> {
    let meta = std::fs::metadata("/proc/self/task")
        .map_err(|err| ThreadsError::Unreadable(err.to_string()))?;
    meta.nlink()
        .checked_sub(2)
        .filter(|threads| *threads > 0)
        .ok_or_else(|| ThreadsError::Unreadable(format!("{} links", meta.nlink())))
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
