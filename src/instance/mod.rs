//! Running sandboxes: state files, supervision, live status, cgroups, logs.

pub mod status;
