//! The instance view: a running instance's grants now, live shares toggled with path
//! completion, the network switched, a live share saved into the profile, and the risk
//! summary following each change.

use super::*;

/// The mousepad instance of the fixture (paused, so live), its view open.
fn open_mousepad(fixture: &Fixture) -> App {
    let mut app = fixture.app();
    press(&mut app, &["Tab", "j", "i"]);
    assert!(
        matches!(app.screen, Screen::Instance(_)),
        "the view did not open: {}",
        screen(&app)
    );
    app
}

#[test]
fn instance_view_shows_the_profile_grants_and_follows_live_changes() {
    let fixture = Fixture::new().with_instances();
    let mut app = open_mousepad(&fixture);
    snapshot!("instance_view", screen(&app));

    // A share, typed with completion: `Mus` Tab gives `Music/`.
    press(&mut app, &["+", "M", "u", "s", "Tab"]);
    match &app.dialog {
        Some(Dialog::Prompt(prompt)) => assert_eq!(prompt.input, "Music/"),
        other => panic!("no share prompt: {other:?}"),
    }
    press(&mut app, &["Enter"]);
    assert!(app.dialog.is_none(), "{}", screen(&app));
    // The network, switched.
    press(&mut app, &["n"]);
    snapshot!("instance_view_live_changes", screen(&app));
    let text = screen(&app);
    assert!(text.contains("~/Music"), "{text}");
    assert!(text.contains("isolated"), "{text}");
    assert!(
        text.contains("(read-write)"),
        "the risk summary lists the live share: {text}"
    );

    // Saved into the profile, its text kept.
    press(&mut app, &["w"]);
    let saved = std::fs::read_to_string(fixture.profile_file("mousepad")).unwrap();
    assert!(saved.starts_with(MOUSEPAD), "{saved}");
    assert!(saved.contains("path = \"Music\""), "{saved}");

    // Taken back, and the network cut off.
    press(&mut app, &["-", "n"]);
    assert_eq!(
        fixture.fake.calls(),
        [
            "share a9b8c7d6 Music rw",
            "net a9b8c7d6 Isolated",
            "unshare a9b8c7d6 Music",
            "net a9b8c7d6 None",
        ]
    );
    let text = screen(&app);
    assert!(!text.contains("+ ~/Music"), "{text}");
    // A file opened in it: `~/Docu` Tab completes the folder.
    std::fs::write(fixture.paths.home.join("Documents/todo.txt"), "x").unwrap();
    press(&mut app, &["o"]);
    for c in "~/Docu".chars() {
        press(&mut app, &[&c.to_string()]);
    }
    press(&mut app, &["Tab"]);
    match &app.dialog {
        Some(Dialog::Prompt(prompt)) => assert_eq!(prompt.input, "~/Documents/"),
        other => panic!("no open prompt: {other:?}"),
    }
    for c in "todo.txt".chars() {
        press(&mut app, &[&c.to_string()]);
    }
    press(&mut app, &["Enter"]);
    assert_eq!(
        fixture.fake.calls().last().map(String::as_str),
        Some("open a9b8c7d6 Documents/todo.txt")
    );
    press(&mut app, &["Esc"]);
    assert!(matches!(app.screen, Screen::Main));
}

#[test]
fn instance_view_refuses_what_cannot_change() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    // An ended instance has no view.
    press(&mut app, &["Tab", "j", "j", "i"]);
    assert!(matches!(app.screen, Screen::Main));
    assert!(app.banner().unwrap().text.contains("has ended"));
    // firefox shares the host's network; a profile share cannot be saved as live.
    press(&mut app, &["g", "i", "n"]);
    assert!(
        app.banner()
            .unwrap()
            .text
            .contains("this machine's network"),
        "{:?}",
        app.banner()
    );
    press(&mut app, &["j", "w"]);
    assert!(
        app.banner().unwrap().text.contains("marked live"),
        "{:?}",
        app.banner()
    );
    assert!(
        fixture.fake.calls().is_empty(),
        "{:?}",
        fixture.fake.calls()
    );
}
