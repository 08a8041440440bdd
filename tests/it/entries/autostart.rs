//! Autostart files: the app's own arguments, and the user's own files honoured.

use boxtop::entries::{disable, enable, Disabled, EntriesError};

use crate::support::entries::{fixtures, key, read, snapshot, validate, Setup};

#[test]
fn autostart_runs_the_app_with_its_own_arguments_until_disabled() {
    let setup = Setup::new();
    let before = snapshot(&setup.autostart());
    let done = enable(&setup.env, &setup.profile("chat")).expect("enable");
    assert_eq!(done.path, setup.autostart().join("boxtop-chat.desktop"));
    assert_eq!(done.args, vec!["--start-minimized".to_string()]);
    assert_eq!(
        done.also_unsandboxed,
        Some(fixtures().join("config/autostart/org.example.Chat.desktop"))
    );
    validate(&done.path);
    let file = read(&done.path);
    assert_eq!(
        key(&file, "Exec"),
        Some(format!(
            "{} run --detach --origin autostart chat -- --start-minimized",
            setup.env.boxtop.display()
        ))
    );
    assert_eq!(
        key(&file, "X-GNOME-Autostart-enabled").as_deref(),
        Some("true")
    );
    assert_eq!(key(&file, "X-GNOME-Autostart-Delay").as_deref(), Some("5"));
    assert_eq!(key(&file, "Name").as_deref(), Some("Chat [boxtop]"));
    assert_eq!(key(&file, "X-Boxtop-Profile").as_deref(), Some("chat"));

    // No autostart file of its own: no arguments.
    let plain = enable(&setup.env, &setup.profile("viewer")).expect("enable viewer");
    validate(&plain.path);
    assert!(key(&read(&plain.path), "Exec")
        .unwrap()
        .ends_with(" run --detach --origin autostart viewer"));

    assert_eq!(
        disable(&setup.env, "chat").unwrap(),
        Disabled::Removed(done.path.clone())
    );
    assert_eq!(disable(&setup.env, "chat").unwrap(), Disabled::NotEnabled);
    disable(&setup.env, "viewer").unwrap();
    assert_eq!(before, None);
    assert_eq!(
        snapshot(&setup.autostart()),
        None,
        "the folder boxtop created goes too"
    );
}

#[test]
fn autostart_honours_the_users_own_files() {
    let setup = Setup::new();
    std::fs::create_dir_all(setup.autostart()).unwrap();
    let path = setup.autostart().join("boxtop-chat.desktop");
    let hidden = "[Desktop Entry]\nType=Application\nName=Chat\nHidden=true\n";
    std::fs::write(&path, hidden).unwrap();
    let err = enable(&setup.env, &setup.profile("chat")).unwrap_err();
    assert!(
        matches!(err, EntriesError::HiddenOverride { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("Hidden=true"), "{err}");
    assert_eq!(
        disable(&setup.env, "chat").unwrap(),
        Disabled::HiddenByUser(path.clone())
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), hidden);

    let own = "[Desktop Entry]\nType=Application\nName=Chat\nExec=chat\n";
    std::fs::write(&path, own).unwrap();
    assert!(matches!(
        enable(&setup.env, &setup.profile("chat")),
        Err(EntriesError::NotOurs { .. })
    ));
    assert!(matches!(
        disable(&setup.env, "chat"),
        Err(EntriesError::NotOurs { .. })
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), own);
}
