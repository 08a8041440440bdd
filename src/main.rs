//! boxtop's entry point: everything is in `cli` (parsing, dispatch, exit codes).

use std::process::ExitCode;

mod cli;

/// See Cargo.toml: musl's allocator returns memory to the kernel on most frees.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() -> ExitCode {
    cli::main()
}
