//! Every key of the profile schema is editable in the TUI editor (issue 21, item 4): the
//! program, the description, `[limits]`, `[[binds]]`, the system bus, through prompts
//! that start from the value; invalid input is refused with the reason and nothing is
//! written; saving goes through the backend.

use super::*;
use crate::tui::components::editor::EditRow;
use crate::tui::edit::Field;

/// Moves the editor's selection to the row of `field`.
fn go_to(app: &mut App, field: Field) {
    press(app, &["g"]);
    for _ in 0..200 {
        let Screen::Editor(editor) = &app.screen else {
            panic!("not in the editor")
        };
        if editor.rows.get(editor.selected) == Some(&EditRow::Field(field)) {
            return;
        }
        press(app, &["j"]);
    }
    panic!("no row for {field:?}");
}

fn prompt_of(app: &App) -> &crate::tui::prompt::Prompt {
    match &app.dialog {
        Some(Dialog::Prompt(prompt)) => prompt,
        other => panic!("no prompt: {other:?}"),
    }
}

/// Enter on the field's row, the prompt cleared, `text` typed and accepted.
fn set(app: &mut App, field: Field, text: &str) {
    go_to(app, field);
    press(app, &["Enter", "C-u"]);
    type_text(app, text);
    press(app, &["Enter"]);
}

fn preview(app: &App) -> &Profile {
    match &app.screen {
        Screen::Editor(editor) => &editor.preview,
        _ => panic!("not in the editor"),
    }
}

#[test]
fn the_program_limits_binds_and_system_bus_are_edited_and_saved() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "calc");
    press(&mut app, &["e"]);

    // The prompt starts from the value.
    go_to(&mut app, Field::Command);
    press(&mut app, &["Enter"]);
    assert_eq!(prompt_of(&app).input, "calc");
    assert_eq!(prompt_of(&app).title(), "Command (command)");
    press(&mut app, &["Esc"]);

    set(&mut app, Field::Command, "xcalc --mode 'two words'");
    assert!(app.dialog.is_none(), "{:?}", app.dialog);
    assert_eq!(preview(&app).command, ["xcalc", "--mode", "two words"]);
    set(
        &mut app,
        Field::Binaries,
        "/usr/bin/xcalc /opt/calc/bin/xcalc",
    );
    set(&mut app, Field::Description, "A calculator, sandboxed");
    set(&mut app, Field::Memory, "512M");
    set(&mut app, Field::Cpu, "1.5");
    set(&mut app, Field::Pids, "64");
    set(&mut app, Field::Binds, "/media:rw? /opt/calc");
    set(&mut app, Field::SystemBus, "org.freedesktop.UPower");
    let profile = preview(&app).clone();
    assert_eq!(profile.binaries, ["/usr/bin/xcalc", "/opt/calc/bin/xcalc"]);
    assert_eq!(profile.description, "A calculator, sandboxed");
    assert_eq!(profile.limits.memory_bytes, Some(512 << 20));
    assert_eq!(profile.limits.cpu, Some(1.5));
    assert_eq!(profile.limits.pids, Some(64));
    assert_eq!(profile.binds.len(), 2);
    assert_eq!(profile.binds[0].path, "/media");
    assert!(profile.binds[0].optional);
    assert_eq!(profile.dbus.system_talk, ["org.freedesktop.UPower"]);
    let shown = screen(&app);
    assert!(shown.contains("unsaved changes"), "{shown}");
    assert_eq!(
        std::fs::read_to_string(fixture.profile_file("calc")).unwrap(),
        CALC,
        "nothing is written before s"
    );

    press(&mut app, &["s"]);
    assert!(matches!(app.screen, Screen::Main));
    assert!(fixture
        .fake
        .calls()
        .contains(&format!("save {}", fixture.profile_file("calc").display())));
    let saved = std::fs::read_to_string(fixture.profile_file("calc")).unwrap();
    let mut set = ProfileSet::default();
    set.add_user_dir(&fixture.paths.user_profiles());
    let reread = set.resolve("calc").expect("the saved file is valid");
    assert_eq!(reread.command, profile.command, "{saved}");
    assert_eq!(reread.limits, profile.limits, "{saved}");
    assert_eq!(reread.binds, profile.binds, "{saved}");
    assert_eq!(reread.dbus.system_talk, profile.dbus.system_talk, "{saved}");
    assert!(saved.contains("[[binds]]"), "{saved}");
}

#[test]
fn invalid_values_are_refused_with_the_reason_and_nothing_changes() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "calc");
    press(&mut app, &["e"]);
    let before = preview(&app).clone();
    for (field, typed, reason) in [
        (Field::Memory, "lots", "memory"),
        (Field::Cpu, "many", "not a number"),
        (Field::Pids, "-3", "not a whole number"),
        (Field::Binds, "/media:rx", "no mode"),
        (Field::Binds, "relative/path", "bind"),
        (Field::Command, "'unclosed", "quote"),
    ] {
        set(&mut app, field, typed);
        let prompt = prompt_of(&app);
        let error = prompt.error.clone().unwrap_or_default();
        assert!(
            error.to_lowercase().contains(reason),
            "{field:?} {typed}: {error}"
        );
        press(&mut app, &["Esc"]);
        assert_eq!(preview(&app), &before, "{field:?} {typed}");
    }
    // d removes a key the file sets: the command is required, so that is refused too.
    go_to(&mut app, Field::Command);
    press(&mut app, &["d"]);
    assert_eq!(preview(&app).command, ["calc"]);
    let Screen::Editor(editor) = &app.screen else {
        panic!()
    };
    assert!(editor.error.is_some());
    press(&mut app, &["Esc"]);
    assert_eq!(
        std::fs::read_to_string(fixture.profile_file("calc")).unwrap(),
        CALC
    );
}

#[test]
fn tab_completes_the_program_from_path_and_from_installed_apps() {
    let fixture = Fixture::new();
    fixture.fake.state().apps = vec![InstalledApp {
        id: "org.xfce.mousepad.desktop".into(),
        path: "/usr/share/applications/org.xfce.mousepad.desktop".into(),
        title: "Text Editor".into(),
        profile_name: "mousepad".into(),
        program: "mousepad".into(),
    }];
    let mut app = fixture.app();
    select(&mut app, "calc");
    press(&mut app, &["e"]);
    go_to(&mut app, Field::Command);
    // Through the app's title.
    press(&mut app, &["Enter", "C-u"]);
    type_text(&mut app, "text");
    press(&mut app, &["Tab"]);
    assert_eq!(prompt_of(&app).input, "mousepad");
    // A program of $PATH (coreutils' sha1sum is on every system).
    press(&mut app, &["C-u"]);
    type_text(&mut app, "sha1");
    press(&mut app, &["Tab"]);
    assert_eq!(prompt_of(&app).input, "sha1sum");
    press(&mut app, &["Esc"]);
    go_to(&mut app, Field::DesktopFile);
    press(&mut app, &["Enter"]);
    type_text(&mut app, "org.x");
    press(&mut app, &["Tab"]);
    assert_eq!(prompt_of(&app).input, "org.xfce.mousepad.desktop");
}

#[test]
fn a_share_is_added_with_its_mode_and_flags_and_a_sensitive_one_needs_force() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "calc");
    press(&mut app, &["e"]);
    // The "add a folder" row: after the 7 settings (calc has no share).
    press(&mut app, &["g", "j", "j", "j", "j", "j", "j", "j", "Enter"]);
    type_text(&mut app, "Music:rw+create");
    press(&mut app, &["Enter"]);
    assert!(app.dialog.is_none(), "{:?}", app.dialog);
    let share = preview(&app).home.share[0].clone();
    assert_eq!(
        (share.path.as_str(), share.mode, share.create, share.force),
        ("Music", crate::profile::schema::Access::Rw, true, false)
    );
    assert!(screen(&app).contains("~/Music rw +create"));
    press(&mut app, &["a"]);
    type_text(&mut app, ".ssh");
    press(&mut app, &["Enter"]);
    assert!(prompt_of(&app).error.is_some(), "sensitive without +force");
    type_text(&mut app, "+force");
    press(&mut app, &["Enter"]);
    assert!(app.dialog.is_none(), "{:?}", app.dialog);
    assert!(preview(&app)
        .home
        .share
        .iter()
        .any(|s| s.path == ".ssh" && s.force));
    press(&mut app, &["s"]);
    let saved = std::fs::read_to_string(fixture.profile_file("calc")).unwrap();
    assert!(
        saved.contains("create = true") && saved.contains("force = true"),
        "{saved}"
    );
}
