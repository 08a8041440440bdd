//! The launch API end to end: `boxtop __machine run` (how the TUI launches) answers
//! in JSON, an outcome or a typed error with its kind, message and exit code, and
//! `boxtop run` keeps its exit codes and messages for the same failures.

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use boxtop::json_output::Schema;
use serde_json::{json, Value};

use crate::support::{stderr, stdout, World};

/// `boxtop __machine run` with `request` on stdin: its output, and the one JSON
/// answer it wrote on stdout (its data: schema and version checked).
fn machine_launch(world: &World, request: &Value) -> (Output, Value) {
    let mut child = world
        .boxtop(&["__machine", "run"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run boxtop __machine run");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = stdout(&output);
    assert_eq!(
        text.lines().count(),
        1,
        "one answer line expected:\n{text}\nstderr:\n{}",
        stderr(&output)
    );
    let answer = Schema::MACHINE_ANSWER
        .read(&text)
        .unwrap_or_else(|err| panic!("the answer is not the machine mode's JSON ({err}):\n{text}"));
    (output, answer)
}

fn detached(target: Value) -> Value {
    json!({ "target": target, "origin": "tui", "detach": true })
}

fn file(path: &Path) -> Value {
    json!({ "file": path })
}

/// Kills what a test started, even when it fails.
struct Started<'a> {
    world: &'a World,
    ids: Vec<String>,
}

impl Drop for Started<'_> {
    fn drop(&mut self) {
        for id in &self.ids {
            let _ = self.world.boxtop(&["kill", id]).output();
        }
    }
}

#[test]
fn machine_mode_answers_a_launch_with_the_instance_it_started_or_joined() {
    let world = World::new();
    let config = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&config).unwrap();
    // A persistent private home: a second launch runs in the sandbox holding it.
    std::fs::write(
        config.join("sleeper.toml"),
        "command = [\"/bin/sh\", \"-c\", \"sleep 60\"]\n",
    )
    .unwrap();
    world.fix_owner();
    let mut started = Started {
        world: &world,
        ids: Vec::new(),
    };

    let (output, answer) = machine_launch(&world, &detached(json!({ "name": "sleeper" })));
    assert!(output.status.success(), "{answer}\n{}", stderr(&output));
    let id = answer["outcome"]["started"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no started id in {answer}"))
        .to_string();
    started.ids.push(id.clone());
    let listed = world.ps();
    let status = listed
        .iter()
        .find(|s| s["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} not in ps: {listed:?}"));
    assert_eq!(status["origin"], "tui");
    assert_eq!(status["state"]["state"], "running");

    let (output, again) = machine_launch(&world, &detached(json!({ "name": "sleeper" })));
    assert!(output.status.success(), "{again}\n{}", stderr(&output));
    assert_eq!(again, json!({ "outcome": { "joined": { "id": id } } }));
}

#[test]
fn machine_mode_answers_failures_with_kind_message_and_exit_code() {
    let world = World::new();
    let (output, answer) = machine_launch(&world, &detached(json!({ "name": "no-such-app" })));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(answer["error"]["kind"], "profile_not_found", "{answer}");
    assert_eq!(answer["error"]["exit_code"], 1);
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("no profile named 'no-such-app'"),
        "{message}"
    );

    let absent = world.profile(
        "absent",
        "command = [\"absent\"]\nbinaries = [\"/nonexistent/bin/absent\"]\n",
    );
    let (output, answer) = machine_launch(&world, &detached(file(&absent)));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        answer,
        json!({ "error": {
            "kind": "app_not_installed",
            "message": "profile 'absent': the app is not installed here (looked for /nonexistent/bin/absent)",
            "exit_code": 1,
        } })
    );

    // Built, but its program cannot be run: 127, as `boxtop run` exits.
    let nothere = world.profile(
        "nothere",
        "command = [\"/no/such/app\"]\n[home]\nephemeral = true\n",
    );
    let (output, answer) = machine_launch(&world, &detached(file(&nothere)));
    assert_eq!(output.status.code(), Some(127), "{answer}");
    assert_eq!(answer["error"]["kind"], "app_not_runnable", "{answer}");
    assert_eq!(answer["error"]["exit_code"], 127);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/no/such/app"),
        "{answer}"
    );

    let (output, answer) = machine_launch(&world, &json!({ "target": 7 }));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(answer["error"]["kind"], "bad_request", "{answer}");
}

#[test]
fn run_exits_as_before_for_a_missing_profile_and_a_missing_app() {
    let world = World::new();
    let output = world.boxtop(&["run", "no-such-app"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("boxtop: no-such-app: no profile named 'no-such-app'"),
        "{}",
        stderr(&output)
    );
    assert_eq!(stdout(&output), "");

    let absent = world.profile(
        "absent",
        "command = [\"absent\"]\nbinaries = [\"/nonexistent/bin/absent\"]\n",
    );
    let output = world
        .boxtop(&[
            "run",
            "--detach",
            "--profile-file",
            absent.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        "boxtop: profile 'absent': the app is not installed here (looked for /nonexistent/bin/absent)\n"
    );
    assert_eq!(stdout(&output), "");

    let help = world.boxtop(&["--help"]).output().unwrap();
    assert!(
        !stdout(&help).contains("__machine") && !stdout(&help).contains("__generate"),
        "the machine mode and the generators are hidden:\n{}",
        stdout(&help)
    );
}
