//! The rootless container runtime: host facts, plan, namespaces, mounts, hardening, init.
//! No `unsafe` here: the system calls it needs are in `crate::sys`.

/// Moved to `sys`, named here too for the callers that know them by this path.
pub use crate::sys::{beneath, caps};
pub mod diagnosis;
pub mod exec;
pub mod forward;
pub mod helpers;
pub mod host;
pub mod init;
pub mod landlock;
pub mod live;
pub mod live_net;
pub mod mount;
pub mod net;
pub mod netlink;
pub mod plan;
pub mod process;
pub mod relay;
pub mod report;
pub mod seccomp;
pub mod spawn;
pub mod step;
pub mod userns;
