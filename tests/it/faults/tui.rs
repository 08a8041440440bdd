//! The TUI killed while it launches an instance (run in tmux, as the user runs it).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Faults, Role, DELAYS_MS, PLAIN, SETTLE};
use crate::support::{stderr, stdout};

impl Faults {
    /// A tmux command of the test user on the world's own tmux server, with no
    /// configuration of the host's.
    pub(super) fn tmux(&self, args: &[&str]) -> std::process::Output {
        let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"]
            .into_iter()
            .map(PathBuf::from)
            .find(|path| path.exists())
            .expect("tmux is missing: `make test` installs it (Debian package tmux)");
        let socket = self.world.runtime_dir.join("tmux.sock");
        self.world
            .command(&tmux)
            .arg("-f")
            .arg("/dev/null")
            .arg("-S")
            .arg(&socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn tmux_ok(&self, args: &[&str]) -> String {
        let out = self.tmux(args);
        assert!(out.status.success(), "tmux {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// Reads the pane of `session` until `seen` holds.
    fn wait_for_screen(&self, session: &str, what: &str, seen: impl Fn(&str) -> bool) {
        let started = Instant::now();
        loop {
            let screen = self.tmux_ok(&["capture-pane", "-p", "-t", session]);
            if seen(&screen) {
                return;
            }
            assert!(
                started.elapsed() < SETTLE,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// One fault per delay: the TUI, in a tmux pane, launches the profile with Enter and
    /// is killed that long after the key was sent.
    fn sweep_tui(&mut self) {
        for (n, delay) in DELAYS_MS.iter().enumerate() {
            let what = format!(
                "the TUI killed {delay} ms after Enter launched {}",
                self.profile
            );
            let session = format!("fault{n}");
            let boxtop = self.boxtop.display().to_string();
            self.tmux_ok(&[
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "120",
                "-y",
                "40",
                &boxtop,
            ]);
            self.wait_for_screen(&session, "the TUI's first screen", |screen| {
                screen.contains("┌ Profiles") && screen.contains("┌ Instances")
            });
            self.tmux_ok(&["send-keys", "-t", &session, "/"]);
            self.tmux_ok(&["send-keys", "-t", &session, "-l", &self.profile]);
            self.tmux_ok(&["send-keys", "-t", &session, "Enter"]);
            let selected = format!("▸ {} ", self.profile);
            self.wait_for_screen(
                &session,
                "the filter to leave the profile alone",
                |screen| screen.contains(" Profiles 1/") && screen.contains(&selected),
            );
            let tui = self
                .processes(None)
                .into_iter()
                .find(|p| p.role == Role::Tui);
            let tui = tui.expect("the TUI's process").pid;
            self.tmux_ok(&["send-keys", "-t", &session, "Enter"]);
            std::thread::sleep(Duration::from_millis(*delay));
            self.kill_now(tui);
            let _ = self.tmux(&["kill-session", "-t", &session]);
            self.check(&what);
        }
    }
}

#[test]
fn faults_kill_the_tui_while_it_launches() {
    let mut faults = Faults::new("tuilaunch", PLAIN, |_| {});
    faults.sweep_tui();
    faults.report("the TUI launching an instance");
}
