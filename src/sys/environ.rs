//! What `/proc/PID/environ` and `/proc/PID/cmdline` show of a process: the memory of its
//! initial stack, which it can clear.

use super::thread::SingleThreaded;

/// Clears the environment and overwrites the argument and environment strings the
/// process was started with (the kernel reads `/proc/PID/cmdline` and `environ` from
/// those bytes of its memory), leaving `name` as its command line. The process must not
/// read its arguments (`std::env::args`) afterwards: they read as empty.
pub fn wipe_process_strings(_single: &SingleThreaded, name: &[u8]) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    // Fields 48 to 51 (after the command name, which may hold spaces): arg_start, arg_end,
    // env_start, env_end.
    let Some(rest) = stat.rsplit_once(") ").map(|(_, rest)| rest) else {
        return;
    };
    let fields: Vec<usize> = rest
        .split_whitespace()
        .skip(45)
        .take(4)
        .filter_map(|field| field.parse().ok())
        .collect();
    let [arg_start, arg_end, env_start, env_end] = fields[..] else {
        return;
    };
    // SAFETY: the process has one thread (the token), so no other reads the environment
    // while clearenv resets libc's `environ`.
    unsafe { libc::clearenv() };
    for (start, end) in [(env_start, env_end), (arg_start, arg_end)] {
        if start == 0 || end <= start {
            continue;
        }
        // SAFETY: [start, end) is this process's own argument or environment area on its
        // initial stack, mapped read-write for the life of the process, as the kernel
        // reports it; `environ` no longer points into it, and std keeps only pointers to
        // the arguments, read by `std::env::args` (see above), never written.
        unsafe { std::ptr::write_bytes(start as *mut u8, 0, end - start) };
    }
    if arg_end > arg_start {
        let len = name.len().min(arg_end - arg_start - 1);
        // SAFETY: as above; `len` bytes fit before the area's last byte, which stays NUL.
        unsafe { std::ptr::copy_nonoverlapping(name.as_ptr(), arg_start as *mut u8, len) };
    }
}
