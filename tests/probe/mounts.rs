//! The shape of the sandbox's tree: the exact set of mount points, no staging folders of
//! the setup left in it, and the exact entries of /dev.

use std::collections::BTreeSet;

use crate::args::{at_least_one, Usage};
use crate::report::{io_text, list, Report};

const MOUNTINFO: &str = "/proc/self/mountinfo";

/// Names of the setup's staging folders, which must not show in any mount.
const STAGING_NAMES: [&str; 2] = ["oldroot", "newroot"];

/// One line of mountinfo, escapes decoded.
struct Mount {
    /// Field 4: the folder of the source file system that is mounted.
    root: String,
    /// Field 5: where it is mounted.
    point: String,
}

/// `mounts-exactly MOUNTPOINT...`: results `missing`, `extra` and `no-staging`.
pub fn mounts_exactly(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let expected: BTreeSet<String> = at_least_one(args)?
        .iter()
        .map(|point| without_trailing_slash(point))
        .collect();
    match read_mounts() {
        Err(detail) => {
            for item in ["missing", "extra", "no-staging"] {
                report.item(item, Err(detail.clone()));
            }
        }
        Ok(mounts) => {
            let seen: BTreeSet<String> = mounts.iter().map(|mount| mount.point.clone()).collect();
            compare_sets(report, &seen, &expected, "mounted");
            let staging: Vec<String> = mounts
                .iter()
                .filter(|mount| {
                    STAGING_NAMES
                        .iter()
                        .any(|name| mount.point.contains(name) || mount.root.contains(name))
                })
                .map(|mount| format!("{} (root {})", mount.point, mount.root))
                .collect();
            report.item(
                "no-staging",
                if staging.is_empty() {
                    Ok(())
                } else {
                    Err(format!("staging folders still mounted: {}", list(&staging)))
                },
            );
        }
    }
    Ok(())
}

fn without_trailing_slash(point: &str) -> String {
    match point.trim_end_matches('/') {
        "" => "/".to_string(),
        trimmed => trimmed.to_string(),
    }
}

fn read_mounts() -> Result<Vec<Mount>, String> {
    let text = std::fs::read_to_string(MOUNTINFO)
        .map_err(|error| format!("cannot read {MOUNTINFO}: {}", io_text(&error)))?;
    text.lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut fields = line.split(' ').skip(3);
            match (fields.next(), fields.next()) {
                (Some(root), Some(point)) => Ok(Mount {
                    root: decode_octal(root),
                    point: decode_octal(point),
                }),
                _ => Err(format!(
                    "{MOUNTINFO} has a line without a mount point: {line:?}"
                )),
            }
        })
        .collect()
}

/// Undoes the kernel's escapes of space, tab, newline and backslash (`\040` and so on).
fn decode_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&byte, tail)) = rest.split_first() {
        let escaped = if byte == b'\\' {
            tail.get(..3).and_then(octal_byte)
        } else {
            None
        };
        match escaped {
            Some(value) => {
                decoded.push(value);
                rest = tail.get(3..).unwrap_or_default();
            }
            None => {
                decoded.push(byte);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn octal_byte(digits: &[u8]) -> Option<u8> {
    let value = digits.iter().try_fold(0u32, |value, &digit| {
        matches!(digit, b'0'..=b'7').then(|| value * 8 + u32::from(digit - b'0'))
    })?;
    u8::try_from(value).ok()
}

/// `dev-exactly NAME...`: results `missing` and `extra` for the entries of /dev.
pub fn dev_exactly(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let expected: BTreeSet<String> = at_least_one(args)?.iter().cloned().collect();
    let seen = std::fs::read_dir("/dev")
        .map_err(|error| format!("cannot list /dev: {}", io_text(&error)))
        .and_then(|entries| {
            entries
                .map(|entry| {
                    entry
                        .map(|entry| entry.file_name().to_string_lossy().into_owned())
                        .map_err(|error| format!("cannot list /dev: {}", io_text(&error)))
                })
                .collect::<Result<BTreeSet<String>, String>>()
        });
    match seen {
        Ok(seen) => compare_sets(report, &seen, &expected, "in /dev"),
        Err(detail) => {
            report.item("missing", Err(detail.clone()));
            report.item("extra", Err(detail));
        }
    }
    Ok(())
}

/// Reports `missing` (expected, not seen) and `extra` (seen, not expected).
fn compare_sets(
    report: &mut Report,
    seen: &BTreeSet<String>,
    expected: &BTreeSet<String>,
    where_seen: &str,
) {
    let missing: Vec<&String> = expected.difference(seen).collect();
    let extra: Vec<&String> = seen.difference(expected).collect();
    report.item(
        "missing",
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("expected but not {where_seen}: {}", list(missing)))
        },
    );
    report.item(
        "extra",
        if extra.is_empty() {
            Ok(())
        } else {
            Err(format!("{where_seen} but not expected: {}", list(extra)))
        },
    );
}
