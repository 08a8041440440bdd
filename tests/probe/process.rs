//! What the probe process holds: capability sets, no_new_privs, seccomp mode (all from
//! /proc/self/status) and open file descriptors.

use std::io::ErrorKind;

use crate::args::{exact, Usage};
use crate::report::{io_text, Outcome, Report};

const STATUS: &str = "/proc/self/status";

/// The capability sets of /proc/self/status, each of which must be empty.
const CAPABILITY_SETS: [&str; 5] = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"];

fn read_status() -> Result<String, String> {
    std::fs::read_to_string(STATUS)
        .map_err(|error| format!("cannot read {STATUS}: {}", io_text(&error)))
}

/// The value of a `Key:\tvalue` line.
fn status_field<'a>(status: &'a str, key: &str) -> Result<&'a str, String> {
    status
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            (name == key).then(|| value.trim())
        })
        .ok_or_else(|| format!("{STATUS} has no {key} line"))
}

/// `caps-zero`: one result per capability set.
pub fn caps_zero(args: &[String], report: &mut Report) -> Result<(), Usage> {
    exact::<0>(args)?;
    let status = read_status();
    for key in CAPABILITY_SETS {
        report.item(
            key,
            status.clone().and_then(|status| is_empty_set(&status, key)),
        );
    }
    Ok(())
}

fn is_empty_set(status: &str, key: &str) -> Outcome {
    let value = status_field(status, key)?;
    match u64::from_str_radix(value, 16) {
        Ok(0) => Ok(()),
        Ok(_) => Err(format!("{key} is {value}, expected 0")),
        Err(_) => Err(format!("{key} is {value:?}, not a hexadecimal mask")),
    }
}

/// `no-new-privs`: NoNewPrivs is 1.
pub fn no_new_privs(args: &[String], report: &mut Report) -> Result<(), Usage> {
    exact::<0>(args)?;
    report.whole(read_status().and_then(|status| has_field_value(&status, "NoNewPrivs", "1")));
    Ok(())
}

/// `seccomp-filter`: Seccomp is 2 (SECCOMP_MODE_FILTER).
pub fn seccomp_filter(args: &[String], report: &mut Report) -> Result<(), Usage> {
    exact::<0>(args)?;
    report.whole(read_status().and_then(|status| has_field_value(&status, "Seccomp", "2")));
    Ok(())
}

fn has_field_value(status: &str, key: &str, expected: &str) -> Outcome {
    let value = status_field(status, key)?;
    if value == expected {
        Ok(())
    } else {
        Err(format!("{key} is {value}, expected {expected}"))
    }
}

/// `fds-closed`: the open descriptors are exactly 0, 1 and 2.
pub fn fds_closed(args: &[String], report: &mut Report) -> Result<(), Usage> {
    exact::<0>(args)?;
    report.whole(open_fds().and_then(|open| {
        let numbers: Vec<i32> = open.iter().map(|(fd, _)| *fd).collect();
        if numbers == [0, 1, 2] {
            Ok(())
        } else {
            let seen: Vec<String> = open
                .iter()
                .map(|(fd, target)| format!("{fd} ({target})"))
                .collect();
            Err(format!(
                "open: {}; expected exactly 0, 1, 2",
                seen.join(", ")
            ))
        }
    }));
    Ok(())
}

/// The open descriptors, sorted, each with what it points to.
fn open_fds() -> Result<Vec<(i32, String)>, String> {
    let dir = "/proc/self/fd";
    let listed: Vec<i32> = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot list {dir}: {}", io_text(&error)))?
        .map(|entry| {
            let entry = entry.map_err(|error| format!("cannot list {dir}: {}", io_text(&error)))?;
            let name = entry.file_name();
            name.to_str()
                .and_then(|name| name.parse().ok())
                .ok_or_else(|| format!("{dir} has an entry {name:?} that is not a number"))
        })
        .collect::<Result<_, _>>()?;
    // The listing's own descriptor is closed by now: its link is gone, so it drops out here.
    let mut open: Vec<(i32, String)> = listed
        .into_iter()
        .filter_map(|fd| match std::fs::read_link(format!("{dir}/{fd}")) {
            Ok(target) => Some((fd, target.display().to_string())),
            Err(error) if error.kind() == ErrorKind::NotFound => None,
            Err(error) => Some((fd, format!("unreadable: {}", io_text(&error)))),
        })
        .collect();
    open.sort();
    Ok(open)
}
