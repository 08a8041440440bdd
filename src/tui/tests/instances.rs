//! The instances pane, logs and launches: what reaches the backend and how it ends.

use super::*;
use crate::launch::{ErrorKind, Failure};
use crate::tui::components::logs::Logs;

#[test]
fn instances_pane_with_live_rows() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    for cpu in [5.0, 20.0, 45.0, 80.0, 100.0, 60.0, 30.0, 10.0] {
        fixture.fake.state().instances[0].cpu_percent = cpu;
        app.update(Action::Tick);
    }
    press(&mut app, &["Tab"]);
    snapshot!("instances", screen(&app));
    press(&mut app, &["j", "j", "j"]);
    snapshot!("instances_failed_reason", screen(&app));
}

#[test]
fn instance_keys_reach_the_backend() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    press(&mut app, &["Tab", "s", "X", "p", "j", "p", "j", "s"]);
    assert_eq!(
        fixture.fake.calls(),
        [
            "stop f1e2d3c4",
            "kill f1e2d3c4",
            "pause f1e2d3c4",
            "resume a9b8c7d6"
        ]
    );
    let message = app.banner().unwrap();
    assert!(message.text.contains("has already ended"), "{message:?}");
    press(&mut app, &["k", "k", "t"]);
    let external = app.take_external().expect("a shell to run");
    let args: Vec<_> = external.command.get_args().collect();
    assert_eq!(args, ["enter", "f1e2d3c4"]);
}

/// An unreadable state file and a log that cannot be written are said in the banner,
/// not hidden (issue 14, items 5 and 6).
#[test]
fn instance_troubles_are_shown_in_the_banner() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    assert!(app.banner().is_none(), "{:?}", app.banner());
    fixture.fake.state().instances[0].log_problem =
        Some("cannot write the log /l/x.log (No space left on device): 12 bytes".into());
    fixture.fake.state().unreadable = vec!["instance state file /r/b-1.json is unreadable".into()];
    app.update(Action::Tick);
    let banner = app.banner().expect("a banner");
    assert_eq!(banner.level, Level::Error);
    assert!(
        banner
            .text
            .starts_with("instance state file /r/b-1.json is unreadable (and 1 more"),
        "{banner:?}"
    );
    fixture.fake.state().unreadable.clear();
    app.update(Action::Tick);
    let banner = app.banner().expect("a banner");
    assert!(
        banner.text.contains("No space left on device") && banner.text.contains("12 bytes"),
        "{banner:?}"
    );
    // Ended, it is no longer a banner; selected, its trouble is shown under the list.
    fixture.fake.state().instances[0].state = State::Exited { code: 0 };
    app.update(Action::Tick);
    assert!(app.banner().is_none(), "{:?}", app.banner());
    press(&mut app, &["Tab"]);
    for _ in 0..app.instances.list.len() {
        if app.selected_instance().unwrap().log_problem.is_some() {
            break;
        }
        press(&mut app, &["j"]);
    }
    assert!(
        screen(&app).contains("No space left on device"),
        "{}",
        screen(&app)
    );
}

/// The selected instance's systemd scope is named under the list, and once the manager
/// stopped it, that is said instead (issue 20).
#[test]
fn the_selected_instances_scope_and_who_ended_it_are_shown() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    let id = fixture.fake.state().instances[0].id.clone();
    fixture.fake.state().instances[0].unit = Some("app-boxtop-editor-1a2b3c.scope".into());
    app.update(Action::Tick);
    press(&mut app, &["Tab"]);
    for _ in 0..app.instances.list.len() {
        if app.selected_instance().unwrap().id == id {
            break;
        }
        press(&mut app, &["j"]);
    }
    assert!(
        screen(&app).contains(" app-boxtop-editor-1a2b3c.scope "),
        "{}",
        screen(&app)
    );
    fixture.fake.state().instances[0].state = State::Killed { signal: 15 };
    fixture.fake.state().instances[0].ended_by = Some(
        "the systemd user manager stopped its scope app-boxtop-editor-1a2b3c.scope (job 7)".into(),
    );
    app.update(Action::Tick);
    assert!(
        screen(&app).contains("the systemd user manager stopped its scope"),
        "{}",
        screen(&app)
    );
}

#[test]
fn logs_follow_new_lines() {
    let fixture = Fixture::new().with_instances();
    let log = fixture.paths.state.join("logs/f1e2d3c4.log");
    let lines: String = (1..=30).map(|n| format!("line {n}\n")).collect();
    std::fs::write(&log, lines).unwrap();
    let mut app = fixture.app();
    press(&mut app, &["Tab", "l"]);
    let Screen::Logs(Logs { view }) = &app.screen else {
        panic!("logs open")
    };
    assert_eq!(view.lines.len(), 30);
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        writeln!(file, "a new line").unwrap();
    }
    app.update(Action::Tick);
    snapshot!("logs", screen(&app));
    press(&mut app, &["k"]);
    let Screen::Logs(Logs { view }) = &app.screen else {
        panic!("logs open")
    };
    assert!(!view.following);
    press(&mut app, &["End", "Esc"]);
    assert!(matches!(app.screen, Screen::Main));
}

#[test]
fn launch_with_arguments_and_a_failed_launch() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "firefox");
    press(&mut app, &["a"]);
    type_text(&mut app, "--new-window 'https://example.org/a b'");
    press(&mut app, &["Enter"]);
    assert_eq!(
        fixture.fake.calls(),
        [r#"launch firefox ["--new-window", "https://example.org/a b"]"#]
    );
    assert_eq!(app.instances.live_count("firefox"), 1);
    assert!(screen(&app).contains("launched firefox (firenew1)"));
    press(&mut app, &["Enter"]);
    assert_eq!(app.instances.live_count("firefox"), 1);
    assert!(
        screen(&app).contains("firefox already runs as firenew1: launched again in it"),
        "{}",
        screen(&app)
    );
    fixture.fake.state().launch_error =
        Some("the app is not installed here (looked for /usr/bin/mousepad)".into());
    select(&mut app, "mousepad");
    press(&mut app, &["Enter"]);
    snapshot!("launch_failed", screen(&app));
    select(&mut app, "broken");
    press(&mut app, &["Enter"]);
    assert_eq!(
        fixture.fake.calls().len(),
        3,
        "a broken profile is not launched"
    );
}

/// A launch that failed in boxtop shows its message and what kind of failure it was.
#[test]
fn a_typed_launch_failure_shows_its_message_and_kind() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    fixture.fake.state().launch_error = Some(LaunchFailure::from(Failure {
        kind: ErrorKind::AppNotInstalled,
        message: "profile 'mousepad': the app is not installed here (looked for \
                  /usr/bin/mousepad)"
            .into(),
        exit_code: 1,
    }));
    select(&mut app, "mousepad");
    press(&mut app, &["Enter"]);
    let text = screen(&app);
    assert!(
        text.contains("cannot launch mousepad: profile 'mousepad': the app is not installed"),
        "{text}"
    );
    assert!(text.contains("(app not installed)"), "{text}");
    assert_eq!(app.instances.live_count("mousepad"), 0);
    snapshot!("launch_failed_typed", text);
}

#[test]
fn the_tui_stays_usable_while_a_launch_is_under_way() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    fixture.fake.state().defer_launches = true;
    select(&mut app, "firefox");
    press(&mut app, &["Enter"]);
    assert!(
        screen(&app).contains("starting firefox…"),
        "{}",
        screen(&app)
    );
    assert_eq!(app.instances.live_count("firefox"), 0);
    // Keys work meanwhile.
    select(&mut app, "mousepad");
    assert_eq!(app.selected_row().unwrap().name, "mousepad");
    let done = fixture.fake.state().deferred.pop().unwrap();
    fixture.fake.state().instances.push(status(
        "firenew1",
        "firefox",
        State::Running,
        0.0,
        10 << 20,
        0,
    ));
    done(Ok(Outcome::Started {
        id: "firenew1".into(),
    }));
    app.update(Action::LaunchFinished);
    assert!(
        screen(&app).contains("launched firefox (firenew1)"),
        "{}",
        screen(&app)
    );
    assert_eq!(app.instances.live_count("firefox"), 1);
    assert_eq!(app.selected_instance().unwrap().id, "firenew1");

    press(&mut app, &["Enter"]);
    let done = fixture.fake.state().deferred.pop().unwrap();
    done(Err("the app is not installed here".into()));
    app.update(Action::LaunchFinished);
    assert!(
        screen(&app).contains("cannot launch mousepad: the app is not installed here"),
        "{}",
        screen(&app)
    );
}

#[test]
fn quitting_stops_nothing() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    press(&mut app, &["q"]);
    assert!(app.should_quit());
    assert!(fixture.fake.calls().is_empty());
}
