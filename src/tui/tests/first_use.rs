//! What a first-time user trips on (issue 21) and the offer of profiles for installed
//! apps (issue 18): new profiles start from an installed app, the apps without a profile
//! are offered once, and the launch prompt's paths mean what a shell would make of them.

use std::path::PathBuf;

use super::*;
use crate::tui::prompt::PromptKind;

fn app_of(id: &str, profile_name: &str, title: &str) -> InstalledApp {
    InstalledApp {
        id: id.into(),
        path: PathBuf::from(format!("/usr/share/applications/{id}")),
        title: title.into(),
        profile_name: profile_name.into(),
        program: profile_name
            .rsplit('-')
            .next()
            .unwrap_or(profile_name)
            .into(),
    }
}

/// Three installed apps; the fixture's mousepad profile names the first's entry.
fn with_apps(fixture: &Fixture) {
    let mousepad = fixture.profile_file("mousepad");
    let text = std::fs::read_to_string(&mousepad).unwrap();
    std::fs::write(
        &mousepad,
        text.replace(
            "command = [\"mousepad\"]",
            "desktop_file = \"org.xfce.mousepad\"\ncommand = [\"mousepad\"]",
        ),
    )
    .unwrap();
    fixture.fake.state().apps = vec![
        app_of("org.xfce.mousepad.desktop", "mousepad", "Mousepad"),
        app_of("debian-xterm.desktop", "debian-xterm", "XTerm"),
        app_of("vim.desktop", "vim", "Vim"),
    ];
}

fn prompt(app: &App) -> &crate::tui::prompt::Prompt {
    match &app.dialog {
        Some(Dialog::Prompt(prompt)) => prompt,
        other => panic!("no prompt open: {other:?}"),
    }
}

#[test]
fn the_apps_without_a_profile_are_offered_once_and_one_is_made_from_the_list() {
    let fixture = Fixture::new();
    with_apps(&fixture);
    let mut app = fixture.app();
    let banner = app.banner().expect("the offer");
    assert_eq!(
        banner.text,
        "2 installed apps have no profile: make one? i lists them, Esc dismisses this"
    );
    assert!(screen(&app).contains("2 installed apps have no profile: make one?"));

    // Esc dismisses it; it is not shown again after a reload.
    press(&mut app, &["Esc"]);
    assert!(app.banner().is_none());
    app.update(Action::ProfilesChanged);
    assert!(app.banner().is_none());

    // i lists them (mousepad has a profile naming its entry); ↓ picks the second.
    press(&mut app, &["i"]);
    let listed: Vec<&str> = prompt(&app)
        .matching_apps()
        .iter()
        .map(|app| app.id.as_str())
        .collect();
    assert_eq!(listed, ["debian-xterm.desktop", "vim.desktop"]);
    let shown = screen(&app);
    assert!(
        shown.contains("Installed apps with no profile (2)"),
        "{shown}"
    );
    assert!(shown.contains("▸ debian-xterm"), "{shown}");
    press(&mut app, &["Down", "Down"]);
    assert!(screen(&app).contains("▸ vim"));
    press(&mut app, &["Enter"]);
    assert!(
        fixture
            .fake
            .calls()
            .contains(&"create vim for app vim.desktop".to_string()),
        "{:?}",
        fixture.fake.calls()
    );
    assert!(fixture.profile_file("vim").exists());
    assert!(app.profiles.row_named("vim").is_some());
    // It is selected, and open in the editor to check its grants.
    assert!(matches!(app.screen, Screen::Editor(_)));
    press(&mut app, &["Esc"]);
    assert_eq!(app.selected_row().unwrap().name, "vim");

    // Only xterm is left without one.
    assert_eq!(app.apps_without_profile().len(), 1);
}

#[test]
fn no_offer_when_every_app_has_a_profile() {
    let fixture = Fixture::new();
    with_apps(&fixture);
    fixture.fake.state().apps.truncate(1);
    let mut app = fixture.app();
    assert!(app.banner().is_none());
    press(&mut app, &["i"]);
    assert!(app.dialog.is_none());
    assert!(app.banner().unwrap().text.contains("every installed app"));
}

#[test]
fn a_new_profile_starts_from_the_app_typed_or_from_the_template_for_another_name() {
    let fixture = Fixture::new();
    with_apps(&fixture);
    let mut app = fixture.app();
    press(&mut app, &["Esc", "n"]);
    assert_eq!(prompt(&app).kind, PromptKind::NewProfile { from: None });
    assert_eq!(prompt(&app).matching_apps().len(), 3, "every installed app");
    // Tab completes an app's profile name; Enter makes it from its entry. The name is
    // taken by the fixture's mousepad: the next free one is used.
    type_text(&mut app, "xte");
    assert_eq!(prompt(&app).matching_apps().len(), 1);
    press(&mut app, &["Tab"]);
    assert_eq!(prompt(&app).input, "debian-xterm");
    press(&mut app, &["Enter"]);
    assert!(fixture
        .fake
        .calls()
        .contains(&"create debian-xterm for app debian-xterm.desktop".to_string()));
    let text = std::fs::read_to_string(fixture.profile_file("debian-xterm")).unwrap();
    assert!(
        text.contains("desktop_file = \"debian-xterm.desktop\""),
        "{text}"
    );

    // ↑↓ pick an app whose name is taken: a free name is made.
    press(&mut app, &["Esc", "n"]);
    type_text(&mut app, "mouse");
    press(&mut app, &["Down", "Enter"]);
    assert!(fixture
        .fake
        .calls()
        .contains(&"create mousepad-2 for app org.xfce.mousepad.desktop".to_string()));

    // A name that is no app: the template, as before.
    press(&mut app, &["Esc", "n"]);
    type_text(&mut app, "myxterm");
    assert!(prompt(&app).chosen_app().is_none());
    assert!(screen(&app).contains("no installed app matches"));
    press(&mut app, &["Enter"]);
    assert!(fixture
        .fake
        .calls()
        .contains(&"create myxterm from None".to_string()));
}

#[test]
fn launch_arguments_expand_the_home_and_the_start_folder_and_tab_completes_paths() {
    let fixture = Fixture::new();
    let home = fixture.paths.home.clone();
    std::fs::create_dir_all(home.join("notes")).unwrap();
    std::fs::write(home.join("notes/n.txt"), "").unwrap();
    let start = home.join("Documents");
    std::fs::write(start.join("report.txt"), "").unwrap();
    let mut app = fixture.app();
    app.start_dir = start.clone();
    select(&mut app, "calc");

    // ~/no, Tab: ~/notes/ (a folder); n, Tab: the one file.
    press(&mut app, &["a"]);
    type_text(&mut app, "--new-window ~/no");
    press(&mut app, &["Tab"]);
    assert_eq!(prompt(&app).input, "--new-window ~/notes/");
    type_text(&mut app, "n");
    assert_eq!(prompt(&app).candidates, ["~/notes/n.txt"]);
    press(&mut app, &["Tab"]);
    assert_eq!(prompt(&app).input, "--new-window ~/notes/n.txt");
    // A relative path is the start folder's: rep, Tab gives report.txt.
    type_text(&mut app, " rep");
    press(&mut app, &["Tab"]);
    assert_eq!(prompt(&app).input, "--new-window ~/notes/n.txt report.txt");
    type_text(&mut app, " ~ https://example.org/a/b");
    press(&mut app, &["Enter"]);
    let expected = vec![
        "--new-window".to_string(),
        home.join("notes/n.txt").display().to_string(),
        start.join("report.txt").display().to_string(),
        home.display().to_string(),
        "https://example.org/a/b".to_string(),
    ];
    assert!(
        fixture
            .fake
            .calls()
            .contains(&format!("launch calc {expected:?}")),
        "{:?}",
        fixture.fake.calls()
    );
}

#[test]
fn the_instances_pane_lists_the_live_and_the_latest_ended_and_a_shows_all() {
    let fixture = Fixture::new().with_instances();
    {
        let mut state = fixture.fake.state();
        for n in 0..6u64 {
            let mut ended = status(
                &format!("e{n}"),
                "calc",
                State::Exited { code: 0 },
                0.0,
                0,
                5,
            );
            ended.ended_at = Some(1_700_000_000 + n);
            state.instances.push(ended);
        }
    }
    let mut app = fixture.app();
    // Live first, then the 5 latest ended (of 8).
    let ids: Vec<&str> = app.instances.list.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        ["f1e2d3c4", "a9b8c7d6", "0c0c0c0c", "5e5e5e5e", "e5", "e4", "e3"]
    );
    let shown = screen(&app);
    // The header and the pane say the same counts.
    assert!(shown.contains("1 running, 1 paused"), "{shown}");
    assert!(
        shown.contains("Instances 1 running, 1 paused, 5 ended (+3 older: a)"),
        "{shown}"
    );
    press(&mut app, &["Tab", "a"]);
    assert_eq!(app.instances.list.len(), 10);
    assert!(screen(&app).contains("Instances 1 running, 1 paused, 8 ended "));
    press(&mut app, &["a"]);
    assert_eq!(app.instances.list.len(), 7);
}
