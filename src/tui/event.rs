//! The sources of events, all feeding one channel that the event loop blocks on: the
//! terminal (keys, mouse, resizes), a tick at the refresh interval, the user profiles
//! folder watcher, and signals. Nothing here polls on a timer: each thread sleeps in a
//! blocking call until something happens.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// Something happened.
#[derive(Debug)]
pub enum Event {
    Terminal(crossterm::event::Event),
    /// The refresh interval passed.
    Tick,
    /// Files in the user profiles folder changed (several changes in a row come as one).
    ProfilesChanged,
    /// A launch started from the TUI has ended (its result waits in the app).
    Launched,
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT.
    Signal(i32),
    /// Reading the terminal failed: the TUI cannot go on.
    InputFailed(String),
}

pub type EventSender = Sender<Event>;

pub fn channel() -> (EventSender, Receiver<Event>) {
    mpsc::channel()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputState {
    Reading,
    PauseWanted,
    Paused,
}

/// The terminal reader thread. It is paused while another program (an editor, a shell)
/// owns the terminal, so that it does not steal that program's keys.
pub struct Input {
    state: Arc<(Mutex<InputState>, Condvar)>,
    /// Writing a byte here wakes the reader from its wait on the terminal.
    wake: std::fs::File,
}

impl Input {
    pub fn spawn(tx: EventSender) -> std::io::Result<Self> {
        let (wake_read, wake_write) = nix::unistd::pipe()?;
        let state = Arc::new((Mutex::new(InputState::Reading), Condvar::new()));
        let shared = Arc::clone(&state);
        thread::Builder::new()
            .name("tui-input".into())
            .spawn(move || read_terminal(tx, shared, std::fs::File::from(wake_read)))?;
        Ok(Self {
            state,
            wake: std::fs::File::from(wake_write),
        })
    }

    /// Stops reading the terminal; returns once the reader is waiting.
    pub fn pause(&mut self) {
        use std::io::Write;
        let (lock, condvar) = &*self.state;
        let mut state = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *state = InputState::PauseWanted;
        let _ = self.wake.write_all(&[1]);
        while *state == InputState::PauseWanted {
            state = condvar
                .wait_timeout(state, Duration::from_secs(2))
                .map(|(state, _)| state)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
            if *state == InputState::PauseWanted {
                // The reader thread is gone (it reported why): nothing to wait for.
                break;
            }
        }
    }

    pub fn resume(&mut self) {
        let (lock, condvar) = &*self.state;
        *lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = InputState::Reading;
        condvar.notify_all();
    }
}

fn read_terminal(tx: EventSender, state: Arc<(Mutex<InputState>, Condvar)>, wake: std::fs::File) {
    use crossterm::event;
    use std::io::Read;
    let stdin = std::io::stdin();
    loop {
        {
            let (lock, condvar) = &*state;
            let mut current = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if *current == InputState::PauseWanted {
                *current = InputState::Paused;
                condvar.notify_all();
            }
            while *current == InputState::Paused {
                current = condvar
                    .wait(current)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        }
        // Events crossterm has already read and parsed come first.
        loop {
            match event::poll(Duration::ZERO) {
                Ok(true) => match event::read() {
                    Ok(event) => {
                        if tx.send(Event::Terminal(event)).is_err() {
                            return;
                        }
                    }
                    Err(err) => {
                        let _ = tx.send(Event::InputFailed(format!("reading the terminal: {err}")));
                        return;
                    }
                },
                Ok(false) => break,
                Err(err) => {
                    let _ = tx.send(Event::InputFailed(format!("reading the terminal: {err}")));
                    return;
                }
            }
        }
        // Then sleep until the terminal has bytes or the event loop wants the terminal.
        let mut fds = [
            PollFd::new(stdin.as_fd(), PollFlags::POLLIN),
            PollFd::new(wake.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {
                let woken = fds[1]
                    .revents()
                    .is_some_and(|flags| flags.contains(PollFlags::POLLIN));
                if woken {
                    let mut byte = [0u8; 16];
                    let _ = (&wake).read(&mut byte);
                }
                // A terminal that hung up reads as end of file or EIO, which crossterm
                // retries at once forever: it is never handed one.
                let hung_up = fds[0].revents().is_some_and(|flags| {
                    flags.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL)
                });
                if hung_up {
                    let _ = tx.send(Event::InputFailed("the terminal went away".into()));
                    return;
                }
                let readable = fds[0]
                    .revents()
                    .is_some_and(|flags| flags.contains(PollFlags::POLLIN));
                if readable && !is_foreground(&stdin) {
                    // Reading now would fail with EIO (crossterm would retry it at once,
                    // forever) or stop the TUI: wait for the terminal to be ours again
                    // (the event loop takes it back after a program it lent it to).
                    let mut wake_only = [PollFd::new(wake.as_fd(), PollFlags::POLLIN)];
                    let _ = poll(&mut wake_only, PollTimeout::from(250u16));
                }
            }
            Err(nix::errno::Errno::EINTR) => {}
            Err(err) => {
                let _ = tx.send(Event::InputFailed(format!(
                    "waiting for the terminal: {err}"
                )));
                return;
            }
        }
    }
}

/// Whether the TUI's process group is the terminal's foreground group (a terminal that
/// cannot say is taken as ours).
fn is_foreground(stdin: &std::io::Stdin) -> bool {
    match nix::unistd::tcgetpgrp(stdin.as_fd()) {
        Ok(group) => group == nix::unistd::getpgrp(),
        Err(_) => true,
    }
}

/// Sends `Tick` every `interval` until the event loop is gone.
pub fn spawn_ticks(tx: EventSender, interval: Duration) -> std::io::Result<()> {
    thread::Builder::new()
        .name("tui-tick".into())
        .spawn(move || loop {
            thread::sleep(interval);
            if tx.send(Event::Tick).is_err() {
                return;
            }
        })?;
    Ok(())
}

/// Watches the user profiles folder. The folder may not exist yet: `ensure` (called at
/// each tick) starts watching once it does, and stops if it goes away.
pub struct ProfileWatcher {
    dir: PathBuf,
    changed: Sender<()>,
    watcher: Option<notify::RecommendedWatcher>,
}

impl ProfileWatcher {
    pub fn new(dir: PathBuf, tx: EventSender) -> std::io::Result<Self> {
        let (changed, raw) = mpsc::channel::<()>();
        // Saving a file is several file system events (a temporary file, a rename):
        // they are gathered for a moment into one reload.
        thread::Builder::new()
            .name("tui-watch".into())
            .spawn(move || {
                while raw.recv().is_ok() {
                    thread::sleep(Duration::from_millis(100));
                    while raw.try_recv().is_ok() {}
                    if tx.send(Event::ProfilesChanged).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Self {
            dir,
            changed,
            watcher: None,
        })
    }

    pub fn ensure(&mut self) {
        let exists = self.dir.is_dir();
        if self.watcher.is_some() && !exists {
            self.watcher = None;
            let _ = self.changed.send(());
        }
        if self.watcher.is_none() && exists {
            let changed = self.changed.clone();
            let watcher =
                notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
                    if result.is_ok_and(|event| is_profile_change(&event)) {
                        let _ = changed.send(());
                    }
                });
            if let Ok(mut watcher) = watcher {
                use notify::Watcher;
                if watcher
                    .watch(&self.dir, notify::RecursiveMode::NonRecursive)
                    .is_ok()
                {
                    self.watcher = Some(watcher);
                    // Files may have appeared before the watch began.
                    let _ = self.changed.send(());
                }
            }
        }
    }
}

/// A change that can alter a profile: `*.toml` files created, written, renamed or
/// removed. Reads (boxtop's own reloads open the files) are not changes.
fn is_profile_change(event: &notify::Event) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
    let kind_matters = match event.kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other => false,
        EventKind::Any => true,
    };
    kind_matters
        && event
            .paths
            .iter()
            .any(|path| path.extension().is_some_and(|ext| ext == "toml") || is_dir_event(path))
}

fn is_dir_event(path: &Path) -> bool {
    !path.exists() || path.is_dir()
}

/// Forwards SIGTERM, SIGHUP, SIGINT and SIGQUIT as events, and SIGWINCH as a resize.
/// Should the event loop not end within a few seconds of a signal (stuck in a call), the
/// terminal is restored here and the process exits.
pub struct Signals {
    handle: signal_hook::iterator::Handle,
    done: Arc<AtomicBool>,
}

impl Signals {
    pub fn spawn(tx: EventSender) -> std::io::Result<Self> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGWINCH};
        let mut signals =
            signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGWINCH])?;
        let handle = signals.handle();
        let done = Arc::new(AtomicBool::new(false));
        let finished = Arc::clone(&done);
        thread::Builder::new()
            .name("tui-signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    if signal == SIGWINCH {
                        if let Ok((width, height)) = crossterm::terminal::size() {
                            let resize = crossterm::event::Event::Resize(width, height);
                            let _ = tx.send(Event::Terminal(resize));
                        }
                        continue;
                    }
                    let _ = tx.send(Event::Signal(signal));
                    let finished = Arc::clone(&finished);
                    let _ = thread::Builder::new()
                        .name("tui-deadline".into())
                        .spawn(move || {
                            thread::sleep(Duration::from_secs(3));
                            if !finished.load(Ordering::SeqCst) {
                                super::restore_terminal();
                                std::process::exit(128 + signal);
                            }
                        });
                }
            })?;
        Ok(Self { handle, done })
    }

    /// Unregisters the handlers: the signals get their default meaning back.
    pub fn close(self) {
        self.done.store(true, Ordering::SeqCst);
        self.handle.close();
    }
}
