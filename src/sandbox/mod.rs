//! The rootless container runtime: host facts, plan, namespaces, mounts, hardening, init.
//! The only part of boxtop with `unsafe` code.

pub mod beneath;
pub mod caps;
pub mod exec;
pub mod helpers;
pub mod host;
pub mod init;
pub mod landlock;
pub mod mount;
mod mount_calls;
pub mod net;
pub mod netlink;
pub mod plan;
pub mod process;
pub mod relay;
pub mod seccomp;
pub mod spawn;
pub mod step;
pub mod userns;
