//! One step of a plan: the filesystem operations the executor applies in order
//! (bubblewrap's `--ro-bind`, `--tmpfs`, ... as data), printable as `boxtop plan` shows
//! them.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::profile::Access;

/// One filesystem operation. Sources are host paths; destinations are paths inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A fresh tmpfs of at most `size` bytes and `inodes` files (see `TmpfsBounds`).
    Tmpfs {
        dest: PathBuf,
        mode: u32,
        size: u64,
        inodes: u64,
    },
    /// A folder on the sandbox's root filesystem.
    Dir {
        dest: PathBuf,
        mode: u32,
    },
    /// A bind mount of a host path, always nosuid and nodev (device nodes excepted).
    /// `pinned` sources are opened before the sandbox starts and bound from that open
    /// file, so a path swapped for a symlink meanwhile cannot redirect the bind.
    Bind {
        src: PathBuf,
        dest: PathBuf,
        access: Access,
        device: bool,
        pinned: bool,
    },
    Symlink {
        target: PathBuf,
        dest: PathBuf,
    },
    /// A copy of a small host file, made as the sandbox starts (no mount: cheaper than
    /// a bind, and the app sees the file as it was at launch). Skipped when the user
    /// cannot read it.
    Copy {
        src: PathBuf,
        dest: PathBuf,
        mode: u32,
    },
    /// A file written fresh for this sandbox.
    File {
        dest: PathBuf,
        contents: Vec<u8>,
        mode: u32,
    },
    /// A new procfs for the sandbox's pid namespace.
    Proc {
        dest: PathBuf,
    },
    /// Binds a path already inside the sandbox onto itself, read-only.
    ReadOnly {
        dest: PathBuf,
    },
    /// A new devpts instance with its own ptmx.
    Devpts {
        dest: PathBuf,
    },
    /// The root filesystem becomes read-only; the last step.
    RemountRootReadOnly,
}

/// What `(pinned)` after a bind of a printed plan means, for `boxtop plan` to say.
pub const PINNED_NOTE: &str = "(pinned): the source is opened, and checked to be that very \
     file, before the sandbox is built, and bound from what was opened: a folder of your \
     home that an app (or anyone) swaps for a symlink meanwhile cannot redirect the bind.";

impl Step {
    /// Whether the step is a bind of a pinned source (see [`PINNED_NOTE`]).
    pub fn is_pinned(&self) -> bool {
        matches!(self, Step::Bind { pinned: true, .. })
    }

    /// Where the step puts something, if it is a mount: used to compare with mountinfo.
    pub fn mount_point(&self) -> Option<&Path> {
        match self {
            Step::Tmpfs { dest, .. }
            | Step::Bind { dest, .. }
            | Step::Proc { dest }
            | Step::ReadOnly { dest }
            | Step::Devpts { dest } => Some(dest),
            Step::RemountRootReadOnly => Some(Path::new("/")),
            Step::Dir { .. } | Step::Symlink { .. } | Step::Copy { .. } | Step::File { .. } => None,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Tmpfs {
                dest,
                mode,
                size,
                inodes,
            } => write!(
                f,
                "tmpfs     {} mode={mode:o} size={} nr_inodes={inodes}",
                dest.display(),
                show_size(*size)
            ),
            Step::Dir { dest, mode } => write!(f, "dir       {} mode={mode:o}", dest.display()),
            Step::Bind {
                src,
                dest,
                access,
                device,
                pinned,
            } => {
                write!(
                    f,
                    "bind-{}   {} <- {}",
                    access.as_str(),
                    dest.display(),
                    src.display()
                )?;
                if *device {
                    write!(f, " (device)")?;
                }
                if *pinned {
                    write!(f, " (pinned)")?;
                }
                Ok(())
            }
            Step::Symlink { target, dest } => {
                write!(f, "symlink   {} -> {}", dest.display(), target.display())
            }
            Step::Copy { src, dest, mode } => {
                write!(
                    f,
                    "copy      {} <- {} mode={mode:o}",
                    dest.display(),
                    src.display()
                )
            }
            Step::File {
                dest,
                contents,
                mode,
            } => {
                write!(
                    f,
                    "file      {} mode={mode:o} ({} bytes)",
                    dest.display(),
                    contents.len()
                )
            }
            Step::Proc { dest } => write!(f, "proc      {}", dest.display()),
            Step::ReadOnly { dest } => write!(f, "read-only {}", dest.display()),
            Step::Devpts { dest } => write!(f, "devpts    {}", dest.display()),
            Step::RemountRootReadOnly => write!(f, "read-only /"),
        }
    }
}

/// `64M`, `1G`, `1536K`: a size in the largest unit that divides it.
fn show_size(bytes: u64) -> String {
    for (unit, factor) in [("G", 1u64 << 30), ("M", 1 << 20), ("K", 1 << 10)] {
        if bytes >= factor && bytes.is_multiple_of(factor) {
            return format!("{}{unit}", bytes / factor);
        }
    }
    bytes.to_string()
}
