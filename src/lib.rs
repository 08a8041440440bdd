//! boxtop: rootless sandboxes for Linux desktop applications.
//!
//! A profile (TOML) becomes a plan of steps (`sandbox::plan`), and one executor
//! (`sandbox::spawn`) applies it inside fresh namespaces. Everything that needs
//! `unsafe` lives under `sys/`; `unsafe_code` is denied everywhere else.
//!
//! The modules form layers: each uses only the layers listed before its own, so no two
//! modules depend on each other (tests/layers.rs reads this list and checks the code):
//!
//! 1. `escape`, `atomic`, `manpage`, `json_output`: terminal-safe text, atomic file
//!    writes, Markdown to man(7), the envelope of every `--json` output.
//! 2. `sys`: the kernel interface (system calls, `/proc`, no-symlink path resolution).
//! 3. `paths`: where boxtop keeps things.
//! 4. `profile`: what a profile says, and the operations on profile files.
//! 5. `access`: what each permission of a profile brings into a sandbox.
//! 6. `sandbox`: the runtime: host scan, plan, mounts, hardening, pid 1.
//! 7. `instance`: running sandboxes: records, supervision, control.
//! 8. `launch`: the one launch API the CLI, the TUI and desktop entries call.
//! 9. `doctor`, `entries`, `import`: host checks, desktop entries, profile import.
//! 10. `tui`: the terminal interface.
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
pub mod sandbox;
#[allow(unsafe_code)]
pub mod sys;
pub mod tui;
