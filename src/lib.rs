//! boxtop: rootless sandboxes for Linux desktop applications.
//!
//! A profile (TOML) becomes a plan of steps (`sandbox::plan`), and one executor
//! (`sandbox::spawn`) applies it inside fresh namespaces. Everything that needs
//! `unsafe` lives under `sandbox/`.
#![deny(unsafe_code)]

pub mod access;
pub mod atomic;
pub mod doctor;
pub mod entries;
pub mod escape;
pub mod import;
pub mod instance;
pub mod json_output;
pub mod launch;
pub mod manpage;
pub mod paths;
pub mod profile;
#[allow(unsafe_code)]
pub mod sandbox;
pub mod tui;
