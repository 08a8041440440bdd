//! Running sandboxes: state files, supervision, live status, cgroups, logs.

pub mod census;
pub mod cgroup;
pub mod collect;
pub mod control;
pub mod grants;
pub mod join;
pub mod keeper;
pub mod launch;
pub mod live;
pub mod live_net;
pub mod logs;
/// Kept under its old name for callers outside the library's layers.
pub use crate::sys::procfs;
pub mod reconcile;
pub mod record;
pub mod status;
pub mod systemd;
pub mod windows;
