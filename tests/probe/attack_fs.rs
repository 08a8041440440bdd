//! Attacks on the file system a later launch builds: symlinks an app plants in what it can
//! write (its private home, a read-write share), a secret it hopes to find bound in, and
//! tmpfs folders it tries to fill beyond the profile's memory limit.

use std::fs;
use std::io::Write;
use std::path::Path;

use nix::errno::Errno;

use crate::args::{exact, number, Usage};
use crate::report::{io_text, is_errno, Report};

/// `plant-symlink TARGET LINK`: LINK becomes a symlink to TARGET; what was at LINK is
/// renamed to `LINK.probe-old` first (a folder holding a mount point cannot be removed,
/// but it can be renamed away).
pub fn plant_symlink(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [target, link] = exact::<2>(args)?;
    let outcome = (|| {
        if fs::symlink_metadata(link).is_ok() {
            let old = format!("{link}.probe-old");
            fs::rename(link, &old)
                .map_err(|error| format!("cannot rename {link} away: {}", io_text(&error)))?;
        }
        std::os::unix::fs::symlink(target, link).map_err(|error| {
            format!(
                "cannot create the symlink {link} -> {target}: {}",
                io_text(&error)
            )
        })
    })();
    report.whole(outcome);
    Ok(())
}

/// `lacks-text PATH TEXT`: PATH cannot be read, or what it holds does not contain TEXT.
pub fn lacks_text(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [path, text] = exact::<2>(args)?;
    report.whole(match fs::read(path) {
        Err(_) => Ok(()),
        Ok(seen) if contains(&seen, text.as_bytes()) => Err(format!(
            "{path} holds {text:?} ({} bytes read), expected it not to",
            seen.len()
        )),
        Ok(_) => Ok(()),
    });
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// `fill-until-full DIR MIB`: writes a file of up to MIB mebibytes in DIR, one mebibyte at
/// a time; passes when a write fails with ENOSPC first. The file is removed afterwards.
pub fn fill_until_full(args: &[String], report: &mut Report) -> Result<(), Usage> {
    let [dir, mib] = exact::<2>(args)?;
    let mib: usize = number("MIB", mib)?;
    let path = Path::new(dir).join(format!(".probe-fill-{}", std::process::id()));
    let outcome = (|| {
        let mut file = fs::File::create(&path)
            .map_err(|error| format!("cannot create {}: {}", path.display(), io_text(&error)))?;
        let chunk = vec![0x5au8; 1 << 20];
        for written in 0..mib {
            match file.write_all(&chunk).and_then(|()| file.sync_data()) {
                Ok(()) => {}
                Err(error) if is_errno(&error, Errno::ENOSPC) => return Ok(()),
                Err(error) => {
                    return Err(format!(
                        "writing past {written} MiB failed with {}, expected ENOSPC",
                        io_text(&error)
                    ))
                }
            }
        }
        Err(format!(
            "wrote {mib} MiB into {dir} without ENOSPC, expected the tmpfs to be full first"
        ))
    })();
    let _ = fs::remove_file(&path);
    report.whole(outcome);
    Ok(())
}
