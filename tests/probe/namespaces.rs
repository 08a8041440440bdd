//! Where the probe lives: its namespaces against the host's, its id maps, its host name,
//! and whether it can see a host process.

use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::{gethostname, Pid};

use crate::args::{at_least_one, exact, number, Usage};
use crate::report::{errno_text, io_text, Outcome, Report};

/// What the sandbox's namespace must be, given the host's inode.
enum Expected {
    /// A namespace of its own: any inode but the host's.
    Differs(u64),
    /// The host's namespace (`net=same:INODE`, for network = "host").
    Same(u64),
}

/// `ns-differ NAME=INODE | NAME=same:INODE ...`
pub fn ns_differ(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let wanted = at_least_one(args)?
        .iter()
        .map(|arg| parse_ns_arg(arg))
        .collect::<Result<Vec<_>, _>>()?;
    for (name, expected) in wanted {
        report.item(name, compare_ns(name, &expected));
    }
    Ok(())
}

fn parse_ns_arg(arg: &str) -> Result<(&str, Expected), Usage> {
    let Some((name, value)) = arg.split_once('=') else {
        return Err(Usage(format!("{arg:?} is not NAME=INODE")));
    };
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(Usage(format!("{name:?} is not a namespace name")));
    }
    let expected = match value.strip_prefix("same:") {
        Some(inode) => Expected::Same(number("inode", inode)?),
        None => Expected::Differs(number("inode", value)?),
    };
    Ok((name, expected))
}

fn compare_ns(name: &str, expected: &Expected) -> Outcome {
    let link = format!("/proc/self/ns/{name}");
    // stat follows the link to the namespace's nsfs inode, the number in `net:[4026531840]`.
    let inode = std::fs::metadata(&link)
        .map_err(|error| format!("cannot stat {link}: {}", io_text(&error)))?
        .ino();
    match *expected {
        Expected::Differs(host) if inode == host => Err(format!(
            "inode {inode} is the host's: expected a namespace of its own"
        )),
        Expected::Same(host) if inode != host => {
            Err(format!("inode {inode}, expected the host's {host}"))
        }
        _ => Ok(()),
    }
}

/// `host-pid-invisible PID`: signal 0 to a host pid finds no such process.
pub fn host_pid_invisible(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [pid] = exact::<1>(args)?;
    let pid: i32 = number("pid", pid)?;
    if pid <= 0 {
        return Err(Usage(format!("pid {pid} is not a process")));
    }
    report.whole(match kill(Pid::from_raw(pid), None) {
        Err(Errno::ESRCH) => Ok(()),
        Ok(()) => Err(format!(
            "kill({pid}, 0) succeeded, expected ESRCH: the process is visible"
        )),
        Err(errno) => Err(format!(
            "kill({pid}, 0) failed with {}, expected ESRCH: the process is visible",
            errno_text(errno)
        )),
    });
    Ok(())
}

/// `uid-map UID GID`: the only mapping is the user to itself, and setgroups is denied.
pub fn uid_map(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [uid, gid] = exact::<2>(args)?;
    let uid: u32 = number("uid", uid)?;
    let gid: u32 = number("gid", gid)?;
    report.item("uid_map", is_identity_map("/proc/self/uid_map", uid));
    report.item("gid_map", is_identity_map("/proc/self/gid_map", gid));
    report.item("setgroups", is_setgroups_denied());
    Ok(())
}

fn is_identity_map(path: &str, id: u32) -> Outcome {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {path}: {}", io_text(&error)))?;
    let lines: Vec<String> = text
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect();
    let expected = format!("{id} {id} 1");
    if lines == [expected.as_str()] {
        Ok(())
    } else {
        Err(format!(
            "{path} is {:?}, expected exactly {expected:?}",
            lines.join(" | ")
        ))
    }
}

fn is_setgroups_denied() -> Outcome {
    let path = "/proc/self/setgroups";
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {path}: {}", io_text(&error)))?;
    if text.trim() == "deny" {
        Ok(())
    } else {
        Err(format!("{path} is {:?}, expected \"deny\"", text.trim()))
    }
}

/// `hostname NAME`: the UTS node name.
pub fn hostname(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [expected] = exact::<1>(args)?;
    report.whole(match gethostname() {
        Ok(name) if name.to_str() == Some(expected.as_str()) => Ok(()),
        Ok(name) => Err(format!("node name is {name:?}, expected {expected:?}")),
        Err(errno) => Err(format!("uname failed with {}", errno_text(errno))),
    });
    Ok(())
}
