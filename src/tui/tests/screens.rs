//! Whole-screen concerns: help, mouse, colour, sizes, configuration.

use super::*;

#[test]
fn help_lists_every_key() {
    let fixture = Fixture::new();
    let mut app = fixture.app();
    press(&mut app, &["?"]);
    snapshot!("help", screen(&app));
    press(&mut app, &["Space"]);
    snapshot!("help_page_2", screen(&app));
    press(&mut app, &["Esc"]);
    assert!(!app.help.is_open());
}

#[test]
fn mouse_selects_rows_and_presses_buttons() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    // Profiles list rows start under the border and the column header.
    app.update(Action::Click { column: 5, row: 6 });
    assert_eq!(app.selected_row().unwrap().name, "mousepad");
    // The second instance row.
    let instances_top = app.areas().instance_list().y;
    app.update(Action::Click {
        column: 10,
        row: instances_top + 1,
    });
    assert_eq!(app.selected_instance().unwrap().profile, "mousepad");
    // The footer's help button.
    let screen = screen(&app);
    let footer = screen.lines().last().unwrap();
    let column = footer.find("? help").unwrap() as u16 - 1; // the opening quote
    let column = footer[..column as usize + 1].chars().count() as u16 - 1;
    app.update(Action::Click { column, row: 23 });
    assert!(app.help.is_open(), "{footer}");
}

#[test]
fn no_color_draws_no_colour() {
    let fixture = Fixture::new().with_instances();
    let colored = fixture.app();
    let plain = fixture.app_with(Config {
        color: false,
        ..Config::default()
    });
    let colors = |app: &App| {
        let terminal = draw(app, 80, 24);
        let buffer = terminal.backend().buffer().clone();
        buffer
            .content()
            .iter()
            .filter(|cell| cell.fg != Color::Reset || cell.bg != Color::Reset)
            .count()
    };
    assert!(colors(&colored) > 0);
    assert_eq!(colors(&plain), 0);
    assert_eq!(
        screen(&colored),
        screen(&plain),
        "the same words either way"
    );
}

/// Non-blank cells whose text has the colour of their background.
fn unreadable_cells(app: &App) -> Vec<(u16, u16, String)> {
    let terminal = draw(app, app.size.width, app.size.height);
    let buffer = terminal.backend().buffer().clone();
    let mut unreadable = Vec::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            let cell = &buffer[(x, y)];
            if cell.symbol().trim().is_empty() || cell.fg == Color::Reset {
                continue;
            }
            if cell.fg == cell.bg {
                unreadable.push((x, y, cell.symbol().to_string()));
            }
        }
    }
    unreadable
}

#[test]
fn selected_rows_of_the_list_without_focus_stay_readable() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    // The ended calc instance selected, the instances pane left: its state is dim text
    // on the grey bar of an unfocused selection.
    press(&mut app, &["Tab", "j", "j", "Tab"]);
    assert_eq!(app.selected_instance().unwrap().profile, "calc");
    assert_eq!(unreadable_cells(&app), vec![]);
    // The same for the profiles pane: calc's "none" badge is dim.
    select(&mut app, "calc");
    press(&mut app, &["Tab"]);
    assert_eq!(unreadable_cells(&app), vec![]);
}

#[test]
fn any_size_draws_without_panicking() {
    let fixture = Fixture::new().with_instances();
    let mut app = fixture.app();
    for (width, height) in [
        (0, 0),
        (1, 1),
        (10, 4),
        (20, 8),
        (40, 12),
        (80, 24),
        (200, 60),
    ] {
        app.update(Action::Resize { width, height });
        draw(&app, width, height);
        press(&mut app, &["?"]);
        draw(&app, width, height);
        press(&mut app, &["Esc"]);
    }
    app.update(Action::Resize {
        width: 120,
        height: 30,
    });
    snapshot!("wide_screen", screen(&app));
}

#[test]
fn config_defaults_and_no_color() {
    use std::ffi::OsStr;
    assert_eq!(Config::default().refresh, Duration::from_secs(1));
    assert!(Config::default().color);
    assert!(crate::tui::color_allowed(None));
    assert!(crate::tui::color_allowed(Some(OsStr::new(""))));
    assert!(!crate::tui::color_allowed(Some(OsStr::new("1"))));
}
