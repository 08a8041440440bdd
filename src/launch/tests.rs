//! The launch API's errors: each kind, its exit code and its message as `boxtop run`
//! prints it, and the machine mode's answers as JSON.

use std::path::{Path, PathBuf};

use super::machine::{self, Answer};
use super::*;
use crate::instance::launch::LaunchError as InstanceError;
use crate::paths::Paths;
use crate::sandbox::host::CreateShares;

/// A home with boxtop's folders under it, and one profile per `(name, text)`.
fn paths_with(dir: &Path, profiles: &[(&str, &str)]) -> Paths {
    let paths = Paths {
        home: dir.join("home"),
        config: dir.join("config"),
        data: dir.join("data"),
        state: dir.join("state"),
        runtime: Some(dir.join("runtime")),
        xdg_runtime_dir: Some(dir.join("run")),
    };
    std::fs::create_dir_all(&paths.home).unwrap();
    std::fs::create_dir_all(paths.user_profiles()).unwrap();
    for (name, text) in profiles {
        std::fs::write(paths.user_profiles().join(format!("{name}.toml")), text).unwrap();
    }
    paths
}

fn by_name(name: &str) -> Request {
    Request::detached(name, &[], crate::instance::status::Origin::Cli)
}

fn plan_error(paths: &Paths, request: &Request) -> LaunchError {
    match plan(paths, request, CreateShares::DryRun) {
        Ok(planned) => panic!("{} was planned", planned.profile.name),
        Err(err) => err,
    }
}

#[test]
fn an_unknown_profile_is_not_found_and_exits_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths_with(dir.path(), &[]);
    let err = plan_error(&paths, &by_name("no-such-app"));
    assert_eq!(err.kind(), ErrorKind::ProfileNotFound);
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.to_string()
            .starts_with("no-such-app: no profile named 'no-such-app'"),
        "{err}"
    );
    let mut request = by_name("x");
    request.target = Target::File(PathBuf::from("/nonexistent/x.toml"));
    let err = plan_error(&paths, &request);
    assert_eq!(err.kind(), ErrorKind::ProfileNotFound);
    assert!(err.to_string().contains("cannot read"), "{err}");
}

#[test]
fn a_profile_that_does_not_load_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths_with(dir.path(), &[("bad", "command = [\"x\"\n")]);
    let err = plan_error(&paths, &by_name("bad"));
    assert_eq!(err.kind(), ErrorKind::ProfileInvalid);
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().contains("bad.toml:"), "{err}");
}

#[test]
fn a_missing_program_is_app_not_installed_and_exits_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let text = "command = [\"gone\"]\nbinaries = [\"/nonexistent/bin/gone\"]\n";
    let paths = paths_with(dir.path(), &[("gone", text)]);
    let err = plan_error(&paths, &by_name("gone"));
    assert_eq!(err.kind(), ErrorKind::AppNotInstalled);
    assert_eq!(err.exit_code(), 1);
    assert_eq!(
        err.to_string(),
        "profile 'gone': the app is not installed here (looked for /nonexistent/bin/gone)"
    );
}

#[test]
fn a_profile_that_plans_gives_its_plan_and_an_id_of_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths_with(dir.path(), &[("plain", "command = [\"true\"]\n")]);
    let mut request = by_name("plain");
    request.args = vec!["--flag".into()];
    let planned = plan(&paths, &request, CreateShares::DryRun).unwrap();
    assert_eq!(planned.profile.name, "plain");
    assert!(planned.id.starts_with("plai"), "{}", planned.id);
    assert!(
        planned.plan.argv.ends_with(&["--flag".to_string()]),
        "{:?}",
        planned.plan.argv
    );
}

#[test]
fn missing_grants_exit_with_125_and_name_each_grant() {
    let err = LaunchError::HostLacks {
        profile: "mousepad".into(),
        missing: vec![
            "display grant: no display".into(),
            "audio grant: no server".into(),
        ],
    };
    assert_eq!(err.kind(), ErrorKind::HostLacks);
    assert_eq!(err.exit_code(), 125);
    assert_eq!(
        err.to_string(),
        "profile 'mousepad': display grant: no display; audio grant: no server"
    );
}

#[test]
fn a_failed_sandbox_keeps_the_runtime_exit_code_and_names_its_log() {
    let failed = |code| LaunchError::Sandbox {
        profile: "calc".into(),
        error: Box::new(InstanceError::Failed {
            reason: "why".into(),
            code,
        }),
        log: Some(PathBuf::from("/logs/calc-1.log")),
    };
    let not_runnable = failed(127);
    assert_eq!(not_runnable.kind(), ErrorKind::AppNotRunnable);
    assert_eq!(not_runnable.exit_code(), 127);
    assert_eq!(
        not_runnable.to_string(),
        "profile 'calc': why\nlog: /logs/calc-1.log"
    );
    let not_built = failed(125);
    assert_eq!(not_built.kind(), ErrorKind::SandboxFailed);
    assert_eq!(not_built.exit_code(), 125);
    let supervisor = LaunchError::Sandbox {
        profile: "calc".into(),
        error: Box::new(InstanceError::Supervisor("no fork".into())),
        log: None,
    };
    assert_eq!(supervisor.exit_code(), 125);
    assert_eq!(
        supervisor.to_string(),
        "profile 'calc': cannot start the supervisor: no fork"
    );
}

#[test]
fn the_machine_mode_answers_in_json_with_kind_message_and_code() {
    let dir = tempfile::tempdir().unwrap();
    let text = "command = [\"gone\"]\nbinaries = [\"/nonexistent/bin/gone\"]\n";
    let paths = paths_with(dir.path(), &[("gone", text)]);
    let request = serde_json::to_string(&by_name("gone")).unwrap();
    let answer = machine::serve(&paths, &request);
    assert_eq!(answer.exit_code(), 1);
    let line = answer.to_line().unwrap();
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(json["schema"], "boxtop.machine-answer");
    assert_eq!(json["version"], 1);
    assert_eq!(json["error"]["kind"], "app_not_installed");
    assert_eq!(json["error"]["exit_code"], 1);
    assert_eq!(Answer::from_line(&line), Ok(answer));

    let garbled = machine::serve(&paths, "{\"target\":");
    let Answer::Error(failure) = &garbled else {
        panic!("{garbled:?}")
    };
    assert_eq!(failure.kind, ErrorKind::BadRequest);
    assert_eq!(garbled.exit_code(), 2);

    let mut foreground = by_name("gone");
    foreground.detach = false;
    let answer = machine::serve(&paths, &serde_json::to_string(&foreground).unwrap());
    assert!(
        matches!(&answer, Answer::Error(f) if f.kind == ErrorKind::BadRequest
            && f.message.contains("detached")),
        "{answer:?}"
    );
}

#[test]
fn outcomes_read_back_from_json() {
    for outcome in [
        Outcome::Started { id: "a-1".into() },
        Outcome::Joined { id: "a-2".into() },
        Outcome::Exited {
            id: "a-3".into(),
            code: 3,
        },
    ] {
        let answer = Answer::Outcome(outcome.clone());
        let text = answer.to_line().unwrap();
        assert_eq!(Answer::from_line(&text).unwrap().into_result(), Ok(outcome));
    }
    assert_eq!(
        Answer::Outcome(Outcome::Started { id: "x".into() })
            .to_line()
            .unwrap(),
        r#"{"schema":"boxtop.machine-answer","version":1,"outcome":{"started":{"id":"x"}}}"#
    );
    // An answer of another version (a boxtop of another release) is not misread.
    let later =
        r#"{"schema":"boxtop.machine-answer","version":2,"outcome":{"started":{"id":"x"}}}"#;
    let err = Answer::from_line(later).unwrap_err();
    assert!(err.contains("version 2"), "{err}");
}
