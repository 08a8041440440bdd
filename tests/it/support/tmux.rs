//! A tmux server of the test user, for end-to-end tests of the terminal UI: the real
//! binary in a pane, typed at with `send-keys` and read with `capture-pane`. Every live
//! instance of the world and the server are killed when it is dropped.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::world::{stderr, stdout, World};

pub(crate) struct Tmux {
    pub(crate) world: World,
    binary: PathBuf,
    socket: PathBuf,
    /// The session's name, the target of every command.
    pub(crate) session: &'static str,
}

impl Drop for Tmux {
    fn drop(&mut self) {
        for status in self.world.ps() {
            let live = matches!(
                status["state"]["state"].as_str(),
                Some("running" | "paused" | "starting" | "stopping")
            );
            if live {
                let id = status["id"].as_str().unwrap_or_default().to_string();
                let _ = self.world.boxtop(&["kill", &id]).output();
            }
        }
        let _ = self.run(&["kill-server"]);
    }
}

impl Tmux {
    /// A server for `world`, its socket in the world's runtime folder; no session yet.
    pub(crate) fn new(world: World, session: &'static str) -> Tmux {
        let binary = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"]
            .into_iter()
            .map(PathBuf::from)
            .find(|path| path.exists())
            .expect("tmux is missing: `make test` installs it (Debian package tmux)");
        let socket = world.runtime_dir.join("tmux.sock");
        Tmux {
            world,
            binary,
            socket,
            session,
        }
    }

    /// `tmux` as the test user, on this server, with no tmux.conf of the host's. The
    /// server keeps the environment it was started with, which the pane inherits.
    pub(crate) fn command(&self) -> Command {
        let mut command = self.world.command(&self.binary);
        command
            .arg("-f")
            .arg("/dev/null")
            .arg("-S")
            .arg(&self.socket);
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run tmux")
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "tmux {args:?}: {:?}\n{}",
            output.status,
            stderr(&output)
        );
        stdout(&output)
    }

    /// Starts the session, 120x40, with `program` and `args` as the pane's program and
    /// `env` added to its environment.
    pub(crate) fn start(&self, program: &str, args: &[&str], env: &[(&str, &str)]) {
        let output = self
            .command()
            .envs(env.iter().copied())
            .args([
                "new-session",
                "-d",
                "-s",
                self.session,
                "-x",
                "120",
                "-y",
                "40",
            ])
            .arg(program)
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            output.status.success(),
            "tmux new-session: {}",
            stderr(&output)
        );
    }

    /// Key names as tmux knows them: `Enter`, `Tab`, `q`...
    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session];
        args.extend_from_slice(keys);
        self.ok(&args);
    }

    /// Text typed as it is.
    pub(crate) fn type_text(&self, text: &str) {
        self.ok(&["send-keys", "-t", self.session, "-l", text]);
    }

    pub(crate) fn screen(&self) -> String {
        self.ok(&["capture-pane", "-p", "-t", self.session])
    }

    /// A tmux format of the pane, such as `#{alternate_on}`.
    pub(crate) fn pane(&self, format: &str) -> String {
        self.ok(&["display-message", "-p", "-t", self.session, format])
            .trim()
            .to_string()
    }

    /// Reads the screen until `seen` holds, and returns that screen; fails with the last
    /// screen read after `timeout`.
    pub(crate) fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        seen: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if seen(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out after {timeout:?} waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
