//! Running instances, as the unprivileged test user with the real binary: detached
//! launches, `ps` figures against what the test started, stop, kill, pause, logs, enter,
//! and a real delegated cgroup v2 subtree.

mod cgroup;
mod detach;
mod join;
mod lifecycle;
mod listing;
