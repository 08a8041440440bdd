//! The profiles list and detail, and what is done to profile files: new, delete, open in
//! the editor, reload after an outside edit.

use super::*;

#[test]
fn main_screen() {
    let fixture = Fixture::new().with_instances();
    let app = fixture.app();
    snapshot!("main_screen", screen(&app));
}

#[test]
fn detail_of_a_high_risk_profile() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    select(&mut app, "ssh-keys");
    snapshot!("detail_critical", screen(&app));
    select(&mut app, "firefox");
    press(&mut app, &["J"]);
    snapshot!("detail_firefox_scrolled", screen(&app));
}

#[test]
fn filter_narrows_the_list() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    press(&mut app, &["/"]);
    type_text(&mut app, "edit");
    let names: Vec<_> = app
        .profiles
        .visible()
        .iter()
        .map(|&i| app.profiles.rows[i].name.clone())
        .collect();
    assert_eq!(names, ["mousepad"], "matches the description 'Text editor'");
    press(&mut app, &["Enter", "j"]);
    assert_eq!(app.profiles.filter, "edit", "Enter keeps the filter");
    press(&mut app, &["Esc"]);
    assert_eq!(app.profiles.visible().len(), 5);
}

#[test]
fn menu_and_autostart_entries_toggle_from_the_profiles_pane() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "firefox");
    press(&mut app, &["m", "A"]);
    select(&mut app, "broken");
    press(&mut app, &["m"]);
    assert_eq!(
        fixture.fake.calls(),
        ["menu entry firefox", "autostart firefox"],
        "a broken profile gets no entries"
    );
    let text = screen(&app);
    assert!(text.contains("fix it before adding entries"), "{text}");
}

#[test]
fn an_invalid_edit_outside_shows_a_banner_and_keeps_the_last_good_version() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    select(&mut app, "firefox");
    std::fs::write(
        fixture.profile_file("firefox"),
        FIREFOX.replace("network = \"host\"", "network = \"everywhere\""),
    )
    .unwrap();
    app.update(Action::ProfilesChanged);
    let row = app.selected_row().unwrap();
    assert!(matches!(row.state, RowState::Stale { .. }));
    assert_eq!(
        row.profile().unwrap().network,
        crate::profile::Network::Host
    );
    snapshot!("error_banner", screen(&app));
    // Fixed outside: the banner goes, the new version is shown.
    std::fs::write(
        fixture.profile_file("firefox"),
        FIREFOX.replace("network = \"host\"", "network = \"none\""),
    )
    .unwrap();
    app.update(Action::ProfilesChanged);
    assert!(app.banner().is_none());
    let row = app.selected_row().unwrap();
    assert_eq!(
        row.profile().unwrap().network,
        crate::profile::Network::None
    );
}

#[test]
fn new_profile_from_the_template_and_from_another() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    press(&mut app, &["n"]);
    type_text(&mut app, "Bad Name");
    press(&mut app, &["Enter"]);
    assert!(
        matches!(app.dialog, Some(Dialog::Prompt(_))),
        "refused, still asking"
    );
    press(&mut app, &["C-u"]);
    type_text(&mut app, "gimp");
    press(&mut app, &["Enter"]);
    assert!(
        matches!(app.screen, Screen::Editor(_)),
        "the new profile opens in the editor"
    );
    press(&mut app, &["Esc"]);
    assert!(fixture.profile_file("gimp").is_file());
    assert_eq!(app.selected_row().unwrap().name, "gimp");
    select(&mut app, "firefox");
    press(&mut app, &["c"]);
    type_text(&mut app, "firefox-work");
    press(&mut app, &["Enter", "Esc"]);
    let row = app
        .profiles
        .rows
        .iter()
        .find(|row| row.name == "firefox-work")
        .unwrap();
    assert_eq!(
        row.profile().unwrap().network,
        crate::profile::Network::Host,
        "extends firefox"
    );
}

#[test]
fn deleting_asks_and_keeps_the_private_home_unless_asked() {
    let fixture = Fixture::new();
    let home = fixture.paths.private_home("mousepad").unwrap();
    std::fs::create_dir_all(home.join(".config")).unwrap();
    std::fs::write(home.join(".config/settings"), vec![b'x'; 3000]).unwrap();
    let mut app = fixture.app();
    select(&mut app, "mousepad");
    press(&mut app, &["D"]);
    snapshot!("delete_question", screen(&app));
    press(&mut app, &["n"]);
    assert!(fixture.profile_file("mousepad").exists());
    press(&mut app, &["D", "y"]);
    assert!(!fixture.profile_file("mousepad").exists());
    assert!(home.join(".config/settings").exists(), "the home is kept");
    assert!(app.profiles.rows.iter().all(|row| row.name != "mousepad"));

    select(&mut app, "calc");
    std::fs::create_dir_all(fixture.paths.private_home("calc").unwrap()).unwrap();
    press(&mut app, &["D", "h"]);
    assert!(!fixture.profile_file("calc").exists());
    assert!(!fixture.paths.private_home("calc").unwrap().exists());
}

#[test]
fn external_editor_on_a_bundled_profile_copies_it_first() {
    let fixture = Fixture::new();
    let mut app = App::new(
        fixture.paths.clone(),
        Config::default(),
        Box::new(fixture.fake.clone()),
    );
    let name = app
        .profiles
        .rows
        .iter()
        .find(|row| row.source == Source::Bundled)
        .map(|row| row.name.clone())
        .expect("bundled profiles");
    select(&mut app, &name);
    press(&mut app, &["E"]);
    let external = app.take_external().expect("an editor to run");
    let path = fixture.profile_file(&name);
    assert!(
        path.is_file(),
        "the override is written before the editor opens"
    );
    let args: Vec<_> = external.command.get_args().collect();
    assert_eq!(args.last().unwrap(), &path.as_os_str());
    app.update(Action::Resumed { outcome: Ok(()) });
    let row = app
        .profiles
        .rows
        .iter()
        .find(|row| row.name == name)
        .unwrap();
    assert_eq!(row.source, Source::Override);
}

/// ratatui drops control characters from the text it draws (`Buffer::set_stringn`,
/// `Span::styled_graphemes`), so names, paths and values with escape sequences reach the
/// terminal as plain text; this holds boxtop to it if a widget or ratatui changes.
#[test]
fn escape_sequences_in_profiles_and_instances_never_reach_the_screen() {
    let fixture = Fixture::new();
    std::fs::write(
        fixture.profile_file("loud"),
        "name = \"loud\"\ndescription = \"\\u001b[2Jwiped \\u009b31m\"\n\
         command = [\"/bin/\\u001b]0;title\\u0007x\"]\n",
    )
    .unwrap();
    std::fs::write(fixture.profile_file("a\x1b[31mb"), CALC).unwrap();
    fixture.fake.state().instances = vec![status(
        "loud-000001",
        "loud",
        State::Failed {
            reason: "cannot run /bin/\x1b]0;title\x07x".into(),
        },
        0.0,
        0,
        0,
    )];
    let mut app = fixture.app();
    let mut screens = vec![draw(&app, 100, 30)];
    select(&mut app, "loud");
    screens.push(draw(&app, 100, 30));
    press(&mut app, &["Tab"]);
    screens.push(draw(&app, 100, 30));
    for terminal in &screens {
        let cells = terminal.backend().buffer().content();
        let raw: Vec<&str> = cells
            .iter()
            .map(|cell| cell.symbol())
            .filter(|symbol| symbol.contains(char::is_control))
            .collect();
        assert!(raw.is_empty(), "raw controls drawn: {raw:?}");
    }
    let text = screens[1].backend().to_string();
    assert!(text.contains("wiped"), "{text}");
}

#[test]
fn a_new_profile_is_written_from_the_one_template_with_an_automatic_display() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    press(&mut app, &["n"]);
    type_text(&mut app, "gimp");
    press(&mut app, &["Enter", "Esc"]);
    assert!(fixture
        .fake
        .calls()
        .contains(&"create gimp from None".to_string()));
    let text = std::fs::read_to_string(fixture.profile_file("gimp")).unwrap();
    assert_eq!(
        text,
        crate::profile::ops::template("gimp"),
        "the CLI's template"
    );
    assert!(text.contains("display = \"auto\""), "{text}");
    let row = app.profiles.row_named("gimp").unwrap();
    assert_eq!(
        row.profile().unwrap().display,
        crate::profile::Display::Auto
    );
}

#[test]
fn a_new_profile_that_would_not_resolve_is_refused_and_not_written() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "broken");
    press(&mut app, &["c"]);
    type_text(&mut app, "broken-copy");
    press(&mut app, &["Enter"]);
    let Some(Dialog::Prompt(prompt)) = &app.dialog else {
        panic!("refused, still asking: {:?}", app.dialog)
    };
    let error = prompt.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("would not be valid") && error.contains("internet"),
        "{error}"
    );
    assert!(
        !fixture.profile_file("broken-copy").exists(),
        "nothing written"
    );
    assert!(matches!(app.screen, Screen::Main));
}

#[test]
fn deleting_goes_through_the_backend_and_says_what_went() {
    let fixture = Fixture::new();
    let home = fixture.paths.private_home("calc").unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let mut app = fixture.app();
    select(&mut app, "mousepad");
    press(&mut app, &["D", "y"]);
    select(&mut app, "calc");
    press(&mut app, &["D", "h"]);
    let calls = fixture.fake.calls();
    assert!(calls.contains(&"delete mousepad with_home=false".to_string()));
    assert!(calls.contains(&"delete calc with_home=true".to_string()));
    let banner = app.banner().unwrap();
    assert_eq!(banner.level, Level::Info);
    assert_eq!(
        banner.text,
        "deleted ~/.config/boxtop/profiles/calc.toml and ~/.local/share/boxtop/homes/calc"
    );
}

#[test]
fn a_failed_delete_is_shown_and_the_profile_stays() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    select(&mut app, "mousepad");
    // The file goes away behind the TUI's back: the backend cannot delete it.
    std::fs::rename(
        fixture.profile_file("mousepad"),
        fixture.paths.home.join("mousepad.toml"),
    )
    .unwrap();
    press(&mut app, &["D", "y"]);
    let banner = app.banner().unwrap();
    assert_eq!(banner.level, Level::Error);
    assert!(
        banner
            .text
            .starts_with("cannot delete ~/.config/boxtop/profiles/mousepad.toml"),
        "{}",
        banner.text
    );
}
