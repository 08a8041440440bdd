//! The kernel interface: every system call boxtop makes through `unsafe`, each behind a
//! safe function whose contract is upheld inside it (or an `unsafe fn` whose contract is
//! written in its `# Safety` section), and the `/proc` readers and no-symlink path
//! resolution the layers above share. The only module with `unsafe` code; it knows
//! nothing of profiles, plans or instances.
//!
//! Forking and then running boxtop's own code in the child is sound only in a process
//! with one thread: the functions that do take a [`thread::SingleThreaded`] token.

pub mod app;
pub mod beneath;
pub mod caps;
pub mod environ;
pub mod fd;
pub mod landlock;
pub mod mount;
pub mod net;
pub mod process;
pub mod procfs;
pub mod seccomp;
pub mod signal;
pub mod term;
pub mod thread;

pub use thread::{SingleThreaded, ThreadsError};
