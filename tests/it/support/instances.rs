//! Running instances of the test user: a world that kills them when dropped, `ps` as
//! JSON, and what the host's /proc says of a sandbox's processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use boxtop::json_output::Schema;
use serde_json::Value;

use super::world::{stderr, stdout, wait_until, World};

/// A world whose instances are all killed when it is dropped.
pub(crate) struct Box {
    pub(crate) world: World,
}

impl Drop for Box {
    fn drop(&mut self) {
        for status in self.ps_now() {
            if is_live(&status) {
                let id = status["id"].as_str().unwrap_or_default().to_string();
                let _ = self.world.boxtop(&["kill", &id]).output();
            }
        }
    }
}

pub(crate) fn is_live(status: &Value) -> bool {
    matches!(
        status["state"]["state"].as_str(),
        Some("running" | "paused" | "starting" | "stopping")
    )
}

impl Box {
    pub(crate) fn new() -> Box {
        Box {
            world: World::new(),
        }
    }

    /// A profile running `script` with /bin/sh, and the probe's folder shared.
    pub(crate) fn sh_profile(&self, name: &str, script: &str, extra: &str) -> PathBuf {
        let script = script.replace('\\', "\\\\").replace('"', "\\\"");
        self.world.profile(
            name,
            &format!(
                "command = [\"/bin/sh\", \"-c\", \"{script}\"]\n{extra}\n[home]\nephemeral = true\n[[home.share]]\npath = \"probe-bin\"\nmode = \"ro\"\n"
            ),
        )
    }

    pub(crate) fn detach_cmd(&self, profile: &Path) -> Command {
        self.world.boxtop(&[
            "run",
            "--detach",
            "--profile-file",
            profile.to_str().unwrap(),
        ])
    }

    /// `boxtop run --detach`, which must return with the instance id.
    pub(crate) fn detach(&self, profile: &Path) -> String {
        let started = Instant::now();
        let id = self
            .world
            .detach(&["--profile-file", profile.to_str().unwrap()]);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "run --detach did not return promptly"
        );
        assert!(!id.is_empty() && !id.contains('\n'), "id: {id:?}");
        id
    }

    pub(crate) fn ps_output(&self, interval_ms: u32) -> Output {
        self.world
            .boxtop(&[
                "ps",
                "--all",
                "--json",
                "--interval",
                &interval_ms.to_string(),
            ])
            .output()
            .expect("run boxtop ps")
    }

    pub(crate) fn ps_with(&self, interval_ms: u32) -> Vec<Value> {
        let output = self.ps_output(interval_ms);
        assert!(output.status.success(), "ps: {}", stderr(&output));
        super::json::instances(&output)
    }

    pub(crate) fn ps_now(&self) -> Vec<Value> {
        self.ps_output(0).pipe(|output| {
            super::json::try_data(Schema::PS, &output)
                .ok()
                .and_then(|mut data| match data["instances"].take() {
                    Value::Array(instances) => Some(instances),
                    _ => None,
                })
                .unwrap_or_default()
        })
    }

    pub(crate) fn status(&self, id: &str, interval_ms: u32) -> Value {
        self.ps_with(interval_ms)
            .into_iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed by ps"))
    }

    pub(crate) fn state(&self, id: &str) -> String {
        self.status(id, 0)["state"]["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub(crate) fn wait_processes(&self, id: &str, count: u64) {
        wait_until(
            &format!("{id} to have {count} processes"),
            Duration::from_secs(10),
            || self.status(id, 0)["processes"] == count,
        );
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.world.boxtop(args).output().expect("run boxtop");
        assert!(
            output.status.success(),
            "boxtop {args:?}: {:?}\nstdout:\n{}\nstderr:\n{}",
            output.status,
            stdout(&output),
            stderr(&output)
        );
        stdout(&output)
    }
}

pub(crate) trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}

impl<T> Pipe for T {}

/// Host pids of the sandbox: its init and everything below it.
pub(crate) fn sandbox_pids(b: &Box, id: &str) -> Vec<i32> {
    let init = b.status(id, 0)["pid"].as_i64().unwrap() as i32;
    let mut all = vec![init];
    let mut i = 0;
    while i < all.len() {
        let pid = all[i];
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            all.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
        i += 1;
    }
    all
}

pub(crate) fn stat_fields(pid: i32) -> Vec<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &text[text.rfind(')').unwrap() + 2..];
    rest.split_whitespace().map(str::to_string).collect()
}

pub(crate) fn proc_state(pid: i32) -> char {
    stat_fields(pid)[0].chars().next().unwrap()
}

pub(crate) fn cpu_ticks(pids: &[i32]) -> u64 {
    pids.iter()
        .map(|pid| {
            let f = stat_fields(*pid);
            f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
        })
        .sum()
}
