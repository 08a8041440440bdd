//! The standard streams of a command joining a running sandbox. No descriptor of the
//! user's crosses into the sandbox: a command started from a terminal gets a terminal of
//! the sandbox's own (a pty from the sandbox's devpts, as `podman exec -t` does), other
//! commands get pipes, and the joining process outside relays between them and its own
//! streams. When the command ends the relay stops and closes its ends, so a process of the
//! sandbox that kept the pty or a pipe open reads nothing of the user's afterwards.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{self, SetArg, Termios};
use nix::unistd::Pid;

use crate::sys::term;

/// The command's side and the relay's side of its streams.
pub enum Streams {
    /// A pty: the command gets the peer as its controlling terminal and fds 0 to 2.
    Pty { master: OwnedFd, peer: OwnedFd },
    /// Three pipes: (read end, write end) each.
    Pipes {
        stdin: (OwnedFd, OwnedFd),
        stdout: (OwnedFd, OwnedFd),
        stderr: (OwnedFd, OwnedFd),
    },
}

/// Whether the caller's standard input is a terminal: then the command gets a pty.
pub fn wants_pty() -> bool {
    nix::unistd::isatty(std::io::stdin()).unwrap_or(false)
}

impl Streams {
    /// Opens the streams. For a pty, the caller must already be in the sandbox's mount
    /// namespace: the pty is allocated from the sandbox's own `/dev/ptmx`.
    pub fn open(pty: bool) -> Result<Streams, Errno> {
        if !pty {
            let pipe = || nix::unistd::pipe2(OFlag::O_CLOEXEC);
            return Ok(Streams::Pipes {
                stdin: pipe()?,
                stdout: pipe()?,
                stderr: pipe()?,
            });
        }
        let master = nix::fcntl::open(
            "/dev/ptmx",
            OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )?;
        // The peer from the master itself, not by a path an app could have prepared.
        let peer = term::unlock_and_open_peer(master.as_fd())?;
        // The size of the user's terminal, for full-screen programs.
        term::copy_window_size(std::io::stdin().as_fd(), master.as_fd());
        Ok(Streams::Pty { master, peer })
    }

    /// In the forked command, before its hardening: a new session, then the streams as
    /// its fds 0, 1 and 2 (the pty becomes its controlling terminal).
    pub fn attach(&self) -> Result<(), (&'static str, Errno)> {
        nix::unistd::setsid().map_err(|errno| ("setsid", errno))?;
        match self {
            Streams::Pty { peer, .. } => {
                term::set_controlling(peer.as_fd()).map_err(|errno| ("TIOCSCTTY", errno))?;
                for fd in 0..3 {
                    dup_onto(peer.as_raw_fd(), fd)?;
                }
            }
            Streams::Pipes {
                stdin,
                stdout,
                stderr,
            } => {
                dup_onto(stdin.0.as_raw_fd(), 0)?;
                dup_onto(stdout.1.as_raw_fd(), 1)?;
                dup_onto(stderr.1.as_raw_fd(), 2)?;
            }
        }
        Ok(())
    }

    /// In the joining process once the command is forked: keeps only the relay's ends.
    pub fn into_relay(self) -> Relay {
        match self {
            Streams::Pty { master, .. } => Relay {
                input: master.try_clone().ok(),
                output: Some(master),
                errors: None,
                terminal: RawTerminal::enter(),
            },
            Streams::Pipes {
                stdin,
                stdout,
                stderr,
            } => Relay {
                input: Some(stdin.1),
                output: Some(stdout.0),
                errors: Some(stderr.0),
                terminal: None,
            },
        }
    }
}

fn dup_onto(from: RawFd, to: RawFd) -> Result<(), (&'static str, Errno)> {
    crate::sys::fd::dup_onto(from, to).map_err(|errno| ("dup2", errno))
}

/// The user's terminal in raw mode while the relay runs (keys go to the pty unchanged,
/// the sandbox's terminal does the echo and line editing); set back when dropped.
struct RawTerminal {
    saved: Termios,
}

impl RawTerminal {
    fn enter() -> Option<RawTerminal> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(&stdin, SetArg::TCSANOW, &raw).ok()?;
        Some(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), SetArg::TCSADRAIN, &self.saved);
    }
}

/// The joining process's side of the streams.
pub struct Relay {
    /// Where the user's input goes; `None` once closed (end of input), or when the pty
    /// could not be duplicated (the input is then not read at all).
    input: Option<OwnedFd>,
    output: Option<OwnedFd>,
    errors: Option<OwnedFd>,
    terminal: Option<RawTerminal>,
}

/// How long output still arriving after the command ended is waited for.
const DRAIN: Duration = Duration::from_millis(100);

/// The most input held for a command that does not read it.
const MAX_PENDING: usize = 1 << 16;

impl Relay {
    /// Relays until `child` has exited and its output is drained, then closes every end.
    pub fn run(mut self, child: Pid) -> Result<(), Errno> {
        let exited = super::process::pidfd_open(child)?;
        let resized = Arc::new(AtomicBool::new(false));
        let _ = signal_hook::flag::register(libc::SIGWINCH, Arc::clone(&resized));
        for fd in [&self.input, &self.output, &self.errors]
            .into_iter()
            .flatten()
        {
            set_nonblocking(fd.as_fd())?;
        }
        let stdin = std::io::stdin();
        let mut stdin_open = self.input.is_some();
        let mut pending: Vec<u8> = Vec::new();
        let mut ended_at: Option<Instant> = None;
        let mut buf = vec![0u8; 1 << 15];
        loop {
            if resized.swap(false, Ordering::Relaxed) {
                if let (Some(_), Some(out)) = (&self.terminal, &self.output) {
                    term::copy_window_size(stdin.as_fd(), out.as_fd());
                }
            }
            if let Some(at) = ended_at {
                if at.elapsed() >= DRAIN || (self.output.is_none() && self.errors.is_none()) {
                    break;
                }
            }
            let timeout = match ended_at {
                Some(at) => DRAIN.saturating_sub(at.elapsed()),
                None => Duration::from_secs(3600),
            };
            let timeout = PollTimeout::try_from(timeout.as_millis().min(i32::MAX as u128) as i32)
                .unwrap_or(PollTimeout::MAX);
            let ready: Vec<Source> = {
                let input_fd = self.input.as_ref();
                let mut watched: Vec<(Source, BorrowedFd, PollFlags)> = Vec::with_capacity(5);
                let mut watch = |source, fd, flags| watched.push((source, fd, flags));
                if ended_at.is_none() {
                    watch(Source::Exited, exited.as_fd(), PollFlags::POLLIN);
                }
                if stdin_open && pending.len() < MAX_PENDING && ended_at.is_none() {
                    watch(Source::Stdin, stdin.as_fd(), PollFlags::POLLIN);
                }
                if let (Some(fd), false) = (input_fd, pending.is_empty()) {
                    watch(Source::Input, fd.as_fd(), PollFlags::POLLOUT);
                }
                if let Some(fd) = &self.output {
                    watch(Source::Output, fd.as_fd(), PollFlags::POLLIN);
                }
                if let Some(fd) = &self.errors {
                    watch(Source::Errors, fd.as_fd(), PollFlags::POLLIN);
                }
                let (sources, mut polled): (Vec<Source>, Vec<PollFd>) = watched
                    .into_iter()
                    .map(|(source, fd, flags)| (source, PollFd::new(fd, flags)))
                    .unzip();
                match poll(&mut polled, timeout) {
                    Ok(0) => continue,
                    Ok(_) => {}
                    Err(Errno::EINTR) => continue,
                    Err(errno) => return Err(errno),
                }
                sources
                    .into_iter()
                    .zip(&polled)
                    .filter(|(_, fd)| fd.revents().is_some_and(|r| !r.is_empty()))
                    .map(|(source, _)| source)
                    .collect()
            };
            for source in ready {
                match source {
                    Source::Exited => ended_at = Some(Instant::now()),
                    Source::Stdin => match nix::unistd::read(&stdin, &mut buf) {
                        Ok(0) | Err(Errno::EIO) => {
                            stdin_open = false;
                            if pending.is_empty() && self.terminal.is_none() {
                                // End of input: the command sees its stdin end.
                                self.input = None;
                            }
                        }
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                        Err(Errno::EINTR) | Err(Errno::EAGAIN) => {}
                        Err(_) => stdin_open = false,
                    },
                    Source::Input => {
                        if let Some(fd) = &self.input {
                            match nix::unistd::write(fd, &pending) {
                                Ok(n) => {
                                    pending.drain(..n);
                                }
                                Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
                                Err(_) => pending.clear(),
                            }
                        }
                        if pending.is_empty() && !stdin_open && self.terminal.is_none() {
                            self.input = None;
                        }
                    }
                    Source::Output => {
                        if !copy_out(&mut self.output, &mut std::io::stdout(), &mut buf) {
                            self.output = None;
                        }
                    }
                    Source::Errors => {
                        if !copy_out(&mut self.errors, &mut std::io::stderr(), &mut buf) {
                            self.errors = None;
                        }
                    }
                }
            }
        }
        drop(self.terminal.take());
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Source {
    Exited,
    Stdin,
    Input,
    Output,
    Errors,
}

/// Copies what `from` has now to `to`; false once `from` has ended (end of file, or EIO
/// from a pty whose last user is gone).
fn copy_out(from: &mut Option<OwnedFd>, to: &mut impl Write, buf: &mut [u8]) -> bool {
    let Some(fd) = from else {
        return false;
    };
    match nix::unistd::read(&*fd, buf) {
        Ok(0) | Err(Errno::EIO) => false,
        Ok(n) => {
            let _ = to.write_all(&buf[..n]);
            let _ = to.flush();
            true
        }
        Err(Errno::EAGAIN) | Err(Errno::EINTR) => true,
        Err(_) => false,
    }
}

fn set_nonblocking(fd: BorrowedFd) -> Result<(), Errno> {
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).map(drop)
}
