//! An instance's captured output: `$XDG_STATE_HOME/boxtop/logs/ID.log`, capped in size
//! (the older half moves to `ID.log.1`), read back and followed by `boxtop logs`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The size at which a log is rotated; with the one older file kept, a log never takes
/// more than twice this.
pub const LOG_CAP: u64 = 1 << 20;

/// How many logs are kept in the folder; the oldest beyond this are removed.
pub const KEEP_LOGS: usize = 100;

pub fn log_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.log"))
}

fn rotated(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// Appends to a log, rotating it at `cap` bytes; output it cannot write is counted, said
/// by [`LogWriter::problem`], and noted in the log once it can be written again.
pub struct LogWriter {
    path: PathBuf,
    file: File,
    size: u64,
    cap: u64,
    /// Bytes that could not be written, in all.
    lost: u64,
    /// Of those, the bytes not yet noted in the log.
    lost_unsaid: u64,
    /// The first error that lost output.
    error: Option<String>,
}

impl LogWriter {
    pub fn create(path: &Path, cap: u64) -> std::io::Result<LogWriter> {
        if let Some(dir) = path.parent() {
            crate::paths::ensure_private_dir(dir).map_err(std::io::Error::other)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(LogWriter {
            path: path.to_path_buf(),
            file,
            size,
            cap,
            lost: 0,
            lost_unsaid: 0,
            error: None,
        })
    }

    /// Appends `bytes`; when they cannot be written, they are counted as lost.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.lost_unsaid > 0 {
            let note = format!(
                "[boxtop] {} bytes of output could not be written here ({})\n",
                self.lost_unsaid,
                self.error.as_deref().unwrap_or("unknown error")
            );
            if self.append(note.as_bytes()).is_ok() {
                self.lost_unsaid = 0;
            }
        }
        self.append(bytes).inspect_err(|err| {
            self.lost += bytes.len() as u64;
            self.lost_unsaid += bytes.len() as u64;
            self.error.get_or_insert_with(|| err.to_string());
        })
    }

    /// Why output was lost, and how much, once some was.
    pub fn problem(&self) -> Option<String> {
        let error = self.error.as_ref()?;
        Some(format!(
            "cannot write the log {} ({error}): {} bytes of output lost",
            self.path.display(),
            self.lost
        ))
    }

    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.size > 0 && self.size + bytes.len() as u64 > self.cap {
            std::fs::rename(&self.path, rotated(&self.path))?;
            self.file = open_append(&self.path)?;
            self.size = 0;
        }
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.size += bytes.len() as u64;
                Ok(())
            }
            Err(err) => {
                // What was written before the failure counts toward the cap all the same.
                self.size = self.file.metadata().map_or(self.size, |meta| meta.len());
                Err(err)
            }
        }
    }

    /// A line of boxtop's own, marked as such.
    pub fn note(&mut self, text: &str) {
        let _ = self.write(format!("[boxtop] {text}\n").as_bytes());
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Everything the log holds: the rotated part, then the current one.
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut out = std::fs::read(rotated(path)).unwrap_or_default();
    out.extend(std::fs::read(path)?);
    Ok(out)
}

/// An app's output made safe to show on a terminal: an app in a sandbox must not be
/// able to drive the terminal of the user reading its log (escape sequences set the
/// title, write the clipboard, move the cursor...). Control characters other than
/// newline and tab are shown in caret notation (`^[` for ESC), C1 controls as `?`.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            '\u{7f}' => out.push_str("^?"),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from((c as u8) ^ 0x40));
            }
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// A writer that passes text on through `printable`, holding back a UTF-8 character
/// split between two writes.
pub struct PrintableWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> PrintableWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for PrintableWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let complete = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // An incomplete character at the end waits for the next write.
            Err(err) if err.error_len().is_none() => err.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        let text = String::from_utf8_lossy(&self.pending[..complete]).into_owned();
        self.inner.write_all(printable(&text).as_bytes())?;
        self.pending.drain(..complete);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the log to `out`, then what is appended to it, until `is_done` says the writer
/// has finished and nothing more came.
pub fn follow(
    path: &Path,
    out: &mut dyn Write,
    mut is_done: impl FnMut() -> bool,
) -> std::io::Result<()> {
    out.write_all(&read(path)?)?;
    out.flush()?;
    let mut file = File::open(path)?;
    let mut inode = file.metadata()?.ino();
    let mut pos = file.seek(SeekFrom::End(0))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let done = is_done();
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            pos += n as u64;
            out.write_all(&buf[..n])?;
        }
        out.flush()?;
        // Rotated: the rest of the old file was read above; go on with the new one.
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.ino() != inode || meta.len() < pos {
                file = File::open(path)?;
                inode = file.metadata()?.ino();
                pos = 0;
                continue;
            }
        }
        if done {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Removes the oldest logs beyond `KEEP_LOGS`, never those in `keep`.
pub fn prune(dir: &Path, keep: &[String]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut logs: Vec<(std::time::SystemTime, PathBuf, String)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_string();
            let id = name.strip_suffix(".log")?.to_string();
            let modified = entry.metadata().ok()?.modified().ok()?;
            Some((modified, entry.path(), id))
        })
        .collect();
    logs.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    for (_, path, id) in logs.into_iter().skip(KEEP_LOGS) {
        if !keep.contains(&id) {
            let _ = std::fs::remove_file(rotated(&path));
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_defuses_terminal_escapes() {
        let app_output = "ok\tline\n\x1b]52;c;ZXZpbA==\x07\x1b[2J\r\u{9b}31m\u{7f}é\n";
        assert_eq!(
            printable(app_output),
            "ok\tline\n^[]52;c;ZXZpbA==^G^[[2J^M?31m^?é\n"
        );
    }

    #[test]
    fn the_writer_keeps_characters_split_between_writes() {
        let mut out = PrintableWriter::new(Vec::new());
        let text = "é\x1b[0m".as_bytes();
        out.write_all(&text[..1]).unwrap();
        out.write_all(&text[1..]).unwrap();
        assert_eq!(String::from_utf8(out.inner).unwrap(), "é^[[0m");
    }

    #[test]
    fn rotates_at_the_cap_and_reads_both_parts_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(dir.path(), "x-1");
        let mut log = LogWriter::create(&path, 10).unwrap();
        log.write(b"aaaaaa").unwrap();
        log.write(b"bbbbbb").unwrap();
        log.write(b"cccccc").unwrap();
        assert_eq!(std::fs::read(rotated(&path)).unwrap(), b"bbbbbb");
        assert_eq!(std::fs::read(&path).unwrap(), b"cccccc");
        // The oldest part is gone: the log is capped.
        assert_eq!(read(&path).unwrap(), b"bbbbbbcccccc");
    }

    #[test]
    fn output_that_cannot_be_written_is_counted_said_and_noted_once_it_can() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(dir.path(), "x-3");
        let mut log = LogWriter::create(&path, LOG_CAP).unwrap();
        log.write(b"kept\n").unwrap();
        assert_eq!(log.problem(), None);
        // A full disk: /dev/full fails every write with ENOSPC.
        let real = std::mem::replace(
            &mut log.file,
            File::options().write(true).open("/dev/full").unwrap(),
        );
        assert!(log.write(b"lost one\n").is_err());
        assert!(log.write(b"lost two\n").is_err());
        let problem = log.problem().expect("a problem");
        assert!(
            problem.contains("x-3.log") && problem.contains("No space left on device"),
            "{problem}"
        );
        assert!(problem.ends_with(": 18 bytes of output lost"), "{problem}");
        log.file = real;
        log.write(b"back\n").unwrap();
        let text = String::from_utf8(read(&path).unwrap()).unwrap();
        assert_eq!(
            text,
            "kept\n[boxtop] 18 bytes of output could not be written here (No space left on \
             device (os error 28))\nback\n"
        );
        // Said once; the count stays.
        log.write(b"more\n").unwrap();
        assert!(read(&path).unwrap().ends_with(b"back\nmore\n"));
        assert!(log
            .problem()
            .unwrap()
            .ends_with(": 18 bytes of output lost"));
    }

    #[test]
    fn follow_sees_appended_and_rotated_output() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(dir.path(), "x-2");
        let mut log = LogWriter::create(&path, 8).unwrap();
        log.write(b"one\n").unwrap();
        let mut out = Vec::new();
        let mut rounds = 0;
        follow(&path, &mut out, || {
            rounds += 1;
            match rounds {
                1 => log.write(b"two\n").unwrap(),
                2 => log.write(b"three\n").unwrap(),
                _ => {}
            }
            rounds > 3
        })
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "one\ntwo\nthree\n");
    }

    #[test]
    fn prune_keeps_the_newest_and_the_live() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..(KEEP_LOGS + 2) {
            let path = log_path(dir.path(), &format!("p-{n:03}"));
            std::fs::write(&path, b"x").unwrap();
            let time = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1000 + n as u64);
            File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(time)
                .unwrap();
        }
        prune(dir.path(), &["p-000".to_string()]);
        assert!(log_path(dir.path(), "p-000").exists());
        assert!(!log_path(dir.path(), "p-001").exists());
        assert!(log_path(dir.path(), "p-002").exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            KEEP_LOGS + 1
        );
    }
}
