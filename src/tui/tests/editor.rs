//! The permission editor: changes shown before saving, prompts, refusals, saving.

use super::*;

#[test]
fn editor_shows_the_new_risk_before_saving() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "mousepad");
    press(&mut app, &["e"]);
    assert!(matches!(app.screen, Screen::Editor(_)));
    // Display wayland -> x11 (high), network none -> host, webcam on.
    press(&mut app, &["Right", "j", "j", "Right", "j", "j", "Space"]);
    snapshot!("editor", screen(&app));
    let before = std::fs::read_to_string(fixture.profile_file("mousepad")).unwrap();
    assert_eq!(before, MOUSEPAD, "nothing is written before saving");
    press(&mut app, &["s"]);
    assert!(matches!(app.screen, Screen::Main));
    let after = std::fs::read_to_string(fixture.profile_file("mousepad")).unwrap();
    assert_eq!(
        after,
        MOUSEPAD.replace(
            "display = \"wayland\"",
            "display = \"x11\"\nnetwork = \"host\"\nwebcam = true"
        ),
    );
    let row = app.selected_row().unwrap();
    assert_eq!(row.name, "mousepad");
    assert_eq!(row.highest(), Some(crate::profile::risk::Risk::High));
}

#[test]
fn editor_shares_with_completion_and_refusal() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "firefox");
    press(&mut app, &["e"]);
    // Down to the "add a folder" row, after the 7 settings and the one share.
    press(&mut app, &["j", "j", "j", "j", "j", "j", "j", "j", "Enter"]);
    assert!(matches!(app.dialog, Some(Dialog::Prompt(_))));
    type_text(&mut app, "../etc");
    press(&mut app, &["Enter"]);
    let Some(Dialog::Prompt(prompt)) = &app.dialog else {
        panic!("the prompt stays open")
    };
    assert!(prompt
        .error
        .as_deref()
        .unwrap()
        .contains("leaves the home folder"));
    press(&mut app, &["C-u"]);
    type_text(&mut app, "Mu");
    press(&mut app, &["Tab"]);
    let Some(Dialog::Prompt(prompt)) = &app.dialog else {
        panic!("prompt")
    };
    assert_eq!(prompt.input, "Music/");
    snapshot!("editor_share_prompt", screen(&app));
    press(&mut app, &["Enter"]);
    assert!(app.dialog.is_none());
    // The new share is selected: Space makes it read-write; d removes Downloads.
    press(&mut app, &["Space", "k", "d"]);
    press(&mut app, &["C-s"]);
    let text = std::fs::read_to_string(fixture.profile_file("firefox")).unwrap();
    assert!(
        text.starts_with("# Firefox, the way I like it.\n"),
        "{text}"
    );
    assert!(
        text.contains("display = \"auto\"   # X11 when there is no Wayland"),
        "{text}"
    );
    assert!(text.contains("path = \"Music\"\nmode = \"rw\""), "{text}");
    assert!(!text.contains("Downloads"), "{text}");
}

#[test]
fn editor_asks_before_discarding_changes() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "calc");
    press(&mut app, &["e", "j", "j", "Right", "Esc"]);
    assert!(matches!(
        app.dialog,
        Some(Dialog::Confirm(Question::DiscardChanges))
    ));
    press(&mut app, &["n"]);
    assert!(matches!(app.screen, Screen::Editor(_)));
    press(&mut app, &["q", "y"]);
    assert!(matches!(app.screen, Screen::Main));
    assert_eq!(
        std::fs::read_to_string(fixture.profile_file("calc")).unwrap(),
        CALC
    );
}

#[test]
fn editor_adds_dbus_names_and_variables_and_refuses_bad_ones() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "mousepad");
    press(&mut app, &["e"]);
    // Rows: 7 settings, ~/Documents, add share, then "add a name" for talk.
    for _ in 0..9 {
        press(&mut app, &["j"]);
    }
    press(&mut app, &["a"]);
    type_text(&mut app, "nodots");
    press(&mut app, &["Enter"]);
    let Some(Dialog::Prompt(prompt)) = &app.dialog else {
        panic!("refused, the prompt stays")
    };
    assert!(
        prompt
            .error
            .as_deref()
            .unwrap()
            .contains("is not a D-Bus name"),
        "{prompt:?}"
    );
    press(&mut app, &["C-u"]);
    type_text(&mut app, "org.freedesktop.portal.Flatpak");
    press(&mut app, &["Enter"]);
    let Screen::Editor(editor) = &app.screen else {
        panic!("editor")
    };
    let (what, grant) = editor.last_change.clone().unwrap();
    assert!(what.contains("org.freedesktop.portal.Flatpak"), "{what}");
    assert_eq!(
        grant.unwrap().risk,
        crate::profile::risk::Risk::Critical,
        "shown before saving"
    );
    press(&mut app, &["d", "G", "a"]);
    type_text(&mut app, "GTK_THEME=Adwaita:dark");
    press(&mut app, &["Enter", "s"]);
    let text = std::fs::read_to_string(fixture.profile_file("mousepad")).unwrap();
    assert!(!text.contains("Flatpak"), "removed again: {text}");
    assert!(
        text.ends_with("[env]\nGTK_THEME = \"Adwaita:dark\"\n"),
        "{text}"
    );
}

#[test]
fn a_bundled_profile_saved_from_the_editor_becomes_an_override() {
    let fixture = Fixture::new();
    let dir = fixture.paths.user_profiles();
    for entry in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let mut app = App::new(
        fixture.paths.clone(),
        Config::default(),
        Box::new(fixture.fake.clone()),
    );
    let row = app
        .profiles
        .rows
        .iter()
        .find(|row| matches!(row.state, RowState::Ok(_)))
        .expect("a usable bundled profile");
    let name = row.name.clone();
    assert_eq!(row.source, Source::Bundled);
    select(&mut app, &name);
    press(&mut app, &["e"]);
    press(&mut app, &["j", "j", "j", "Space", "s"]);
    let row = app
        .profiles
        .rows
        .iter()
        .find(|row| row.name == name)
        .unwrap();
    assert_eq!(row.source, Source::Override);
    assert!(fixture.profile_file(&name).is_file());
}

#[test]
fn saving_from_the_editor_goes_through_the_backend() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "mousepad");
    press(&mut app, &["e", "j", "j", "j", "Space", "s"]);
    let path = fixture.profile_file("mousepad");
    assert!(
        fixture
            .fake
            .calls()
            .contains(&format!("save {}", path.display())),
        "{:?}",
        fixture.fake.calls()
    );
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("gpu = true"));
    assert!(matches!(app.screen, Screen::Main));
}

/// An edit of a bundled profile in the editor becomes an override holding only what
/// changed (`extends` the bundled one), so later fixes of the bundled profile reach it.
#[test]
fn an_edited_bundled_profile_is_saved_as_its_changes() {
    let fixture = Fixture::new();
    // The fixture's own mousepad would hide the bundled one.
    std::fs::remove_file(fixture.profile_file("mousepad")).unwrap();
    let dir = fixture.paths.user_profiles();
    let mut app = App::with_loader(
        fixture.paths.clone(),
        Config::default(),
        Box::new(fixture.fake.clone()),
        Box::new(move || ProfileSet::load(&dir)),
    );
    app.update(Action::Resize {
        width: 80,
        height: 24,
    });
    select(&mut app, "mousepad");
    press(&mut app, &["e", "j", "j", "j", "Space", "s"]);
    let path = fixture.profile_file("mousepad");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("extends = \"mousepad\""), "{text}");
    assert!(text.contains("gpu = true"), "{text}");
    assert!(
        !text.contains("binaries"),
        "the whole profile was copied:\n{text}"
    );
    assert!(
        screen(&app).contains("only what you changed"),
        "{}",
        screen(&app)
    );
}
