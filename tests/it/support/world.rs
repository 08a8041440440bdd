//! The test world: an unprivileged user with its own home and XDG folders in a temporary
//! folder it can read, a copy of the boxtop binary and of the probe, and helpers to run
//! them as that user and judge what they printed.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The uid the tests run boxtop as when they are started as root.
pub const TEST_UID: u32 = 47_000;

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A user of the tests, with a home and XDG folders of its own.
pub struct World {
    pub root: tempfile::TempDir,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    pub bin: PathBuf,
    pub runtime_dir: PathBuf,
    pub env: BTreeMap<String, String>,
}

pub(crate) fn chown_tree(path: &Path, uid: u32, gid: u32) {
    if !is_root() {
        return;
    }
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{gid}"))
        .arg(path)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown -R {}", path.display());
}

/// The probe binary built by `cargo test` (it is an example target).
pub fn probe_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/it-xxxx -> target/debug/examples/probe
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let probe = dir.join("examples").join("probe");
    assert!(
        probe.exists(),
        "{} is missing: run the tests with `cargo test --all-targets` (or `make test`), which builds the probe example",
        probe.display()
    );
    probe
}

impl World {
    /// `boxtop ps --all --json --interval 0`: every instance's status; the test fails if it
    /// does not succeed with a JSON list.
    pub fn ps(&self) -> Vec<serde_json::Value> {
        let output = self
            .boxtop(&["ps", "--all", "--json", "--interval", "0"])
            .output()
            .expect("run boxtop ps");
        assert!(output.status.success(), "boxtop ps: {}", stderr(&output));
        super::json::instances(&output)
    }

    pub fn new() -> World {
        let root = tempfile::Builder::new()
            .prefix("boxtop-it-")
            .tempdir()
            .expect("tempdir");
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let (uid, gid) = if is_root() {
            (TEST_UID, TEST_UID)
        } else {
            (
                nix::unistd::getuid().as_raw(),
                nix::unistd::getgid().as_raw(),
            )
        };
        let home = root.path().join("home/tester");
        let bin = root.path().join("bin");
        let runtime_dir = root.path().join("run");
        for dir in [&home, &bin, &runtime_dir] {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        std::fs::copy(env!("CARGO_BIN_EXE_boxtop"), bin.join("boxtop")).expect("copy boxtop");
        let mut env = BTreeMap::new();
        env.insert("HOME".into(), home.display().to_string());
        env.insert("USER".into(), "tester".into());
        env.insert("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into());
        env.insert("LANG".into(), "C.UTF-8".into());
        env.insert("XDG_RUNTIME_DIR".into(), runtime_dir.display().to_string());
        env.insert(
            "XDG_CONFIG_HOME".into(),
            home.join(".config").display().to_string(),
        );
        env.insert(
            "XDG_DATA_HOME".into(),
            home.join(".local/share").display().to_string(),
        );
        env.insert(
            "XDG_STATE_HOME".into(),
            home.join(".local/state").display().to_string(),
        );
        let world = World {
            root,
            uid,
            gid,
            home,
            bin,
            runtime_dir,
            env,
        };
        world.install_probe();
        world.fix_owner();
        world
    }

    /// Puts the probe in `~/probe-bin`, the folder test profiles share read-only.
    fn install_probe(&self) {
        let dir = self.home.join("probe-bin");
        std::fs::create_dir_all(&dir).expect("mkdir probe-bin");
        std::fs::copy(probe_binary(), dir.join("probe")).expect("copy probe");
    }

    /// Gives every file of the world to the test user.
    pub fn fix_owner(&self) {
        chown_tree(&self.home, self.uid, self.gid);
        chown_tree(&self.runtime_dir, self.uid, self.gid);
    }

    pub fn probe_path(&self) -> PathBuf {
        self.home.join("probe-bin/probe")
    }

    /// A command that runs `program` as the test user, with the world's environment only.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = if is_root() {
            let mut cmd = Command::new("setpriv");
            cmd.arg(format!("--reuid={}", self.uid))
                .arg(format!("--regid={}", self.gid))
                .arg("--clear-groups")
                .arg("--inh-caps=-all")
                .arg("--bounding-set=-all")
                .arg("--")
                .arg(program);
            cmd
        } else {
            Command::new(program)
        };
        cmd.env_clear()
            .envs(&self.env)
            .current_dir(&self.home)
            .stdin(Stdio::null());
        cmd
    }

    /// `boxtop ARGS...` as the test user.
    pub fn boxtop(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(&self.bin.join("boxtop"));
        cmd.args(args);
        cmd
    }

    /// Writes a profile file (given the body after the name) and returns its path.
    pub fn profile(&self, name: &str, body: &str) -> PathBuf {
        let path = self.root.path().join(format!("{name}.toml"));
        std::fs::write(&path, format!("name = \"{name}\"\n{body}")).expect("write profile");
        path
    }

    /// A profile that runs the probe: `top` holds top-level keys, `home_keys` keys of
    /// `[home]`, `shares` more `[[home.share]]` tables (the probe's folder is shared
    /// read-only first). The probe's arguments name host paths as data to check (`absent
    /// ~/secret.txt`), not files to open: it forwards none unless `top` sets
    /// `forward_files`.
    pub fn probe_profile_with(
        &self,
        name: &str,
        top: &str,
        home_keys: &str,
        shares: &str,
    ) -> PathBuf {
        let top = if top.contains("forward_files") {
            top.to_string()
        } else {
            format!("forward_files = false\n{top}")
        };
        let body = format!(
            "command = [\"{probe}\"]\n{top}\n[home]\n{home_keys}\n[[home.share]]\npath = \"probe-bin\"\nmode = \"ro\"\n{shares}\n",
            probe = self.probe_path().display()
        );
        self.profile(name, &body)
    }

    /// A probe profile with extra top-level keys and extra shares.
    pub fn probe_profile(&self, name: &str, top: &str, shares: &str) -> PathBuf {
        self.probe_profile_with(name, top, "", shares)
    }

    /// `boxtop run --profile-file PROFILE -- ARGS...` as the test user: the profile's
    /// command with `args`, not started yet.
    pub fn boxtop_run(&self, profile: &Path, args: &[&str]) -> Command {
        let mut all = vec![
            "run",
            "--profile-file",
            profile.to_str().expect("utf-8"),
            "--",
        ];
        all.extend_from_slice(args);
        self.boxtop(&all)
    }

    /// Runs the probe with `args` in the sandbox of `profile` and returns its output.
    pub fn run_probe(&self, profile: &Path, args: &[&str]) -> Output {
        self.boxtop_run(profile, args).output().expect("run boxtop")
    }

    /// `boxtop run --detach ARGS...` as the test user, which must succeed: the id of the
    /// instance it printed.
    pub fn detach(&self, args: &[&str]) -> String {
        self.detach_with_env(args, &[])
    }

    /// `detach` with `env` added to the test user's environment.
    pub fn detach_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut all = vec!["run", "--detach"];
        all.extend_from_slice(args);
        let output = self
            .boxtop(&all)
            .envs(env.iter().copied())
            .output()
            .expect("run boxtop");
        assert!(
            output.status.success(),
            "boxtop {}: {:?}\nstdout:\n{}\nstderr:\n{}",
            all.join(" "),
            output.status,
            stdout(&output),
            stderr(&output)
        );
        stdout(&output).trim().to_string()
    }
}

/// The probe's `ok NAME` / `fail NAME: DETAIL` lines, checked one by one: every line must
/// be `ok`, and there must be at least `min_results` of them.
pub fn assert_probe_ok(output: &Output, min_results: usize) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut oks = Vec::new();
    let mut fails = Vec::new();
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("ok ") {
            oks.push(name.to_string());
        } else if let Some(rest) = line.strip_prefix("fail ") {
            fails.push(rest.to_string());
        }
    }
    assert!(
        fails.is_empty(),
        "probe assertions failed:\n  {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        fails.join("\n  ")
    );
    assert!(
        oks.len() >= min_results,
        "expected at least {min_results} probe results, got {}: status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        oks.len(),
        output.status
    );
    assert!(
        output.status.success(),
        "probe exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    oks
}

/// Runs the probe's `check` on `target` as the test user, outside any sandbox, where the
/// calling thread is; the check must pass.
pub fn probe_outside(world: &World, check: &str, target: &str) {
    let out = world
        .command(&probe_binary())
        .args([check, target])
        .output()
        .expect("run the probe");
    assert_probe_ok(&out, 1);
}

/// Whether a server listens on the Unix socket `path`: the file appears when the server
/// binds it, a moment before it listens, when a connection is refused.
pub fn accepts(path: &Path) -> bool {
    std::os::unix::net::UnixStream::connect(path).is_ok()
}

/// Polls `done` until it holds, failing the test after `timeout`.
pub fn wait_until(what: &str, timeout: std::time::Duration, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An instance killed when dropped, even when an assertion fails first.
pub(crate) struct KillOnDrop<'a>(pub(crate) &'a World, pub(crate) String);

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.boxtop(&["kill", &self.1]).output();
    }
}

pub(crate) fn assert_ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}
