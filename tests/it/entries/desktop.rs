//! Menu entries: what `install` copies of the app's own entry, the replacement of the
//! app's entry (and what removing it leaves), and `list`/`sync` following profiles.

use std::path::PathBuf;
use std::process::Command;

use boxtop::entries::desktop_file::MAIN_GROUP;
use boxtop::entries::{enable, install, list, remove, sync, EntriesError, Kind};
use boxtop::profile::ProfileSet;

use crate::support::entries::{
    desktop_file_utils, fixtures, key, localized, names, read, snapshot, validate, Setup,
};

#[test]
fn install_copies_the_apps_names_icon_and_field_codes_but_not_its_file_types() {
    let setup = Setup::new();
    let done = install(&setup.env, &setup.profile("chat"), false).expect("install");
    assert_eq!(done.entry, setup.apps().join("boxtop-chat.desktop"));
    assert_eq!(
        done.original,
        Some(fixtures().join("data/applications/org.example.Chat.desktop")),
        "the first of $XDG_DATA_DIRS wins over the lower one"
    );
    assert!(done.warnings.is_empty(), "{:?}", done.warnings);
    validate(&done.entry);
    let file = read(&done.entry);
    let boxtop = setup.env.boxtop.display().to_string();
    assert_eq!(key(&file, "Name").as_deref(), Some("Chat [boxtop]"));
    assert_eq!(
        localized(&file, "Name", "de").as_deref(),
        Some("Plaudern [boxtop]")
    );
    assert_eq!(
        localized(&file, "Name", "fr").as_deref(),
        Some("Discussion [boxtop]")
    );
    assert_eq!(
        localized(&file, "GenericName", "de").as_deref(),
        Some("Sofortnachrichten")
    );
    assert_eq!(
        file.string(MAIN_GROUP, "Comment").as_deref(),
        Some("Talk to friends, safely")
    );
    assert_eq!(
        localized(&file, "Comment", "de").as_deref(),
        Some("Mit Freunden reden")
    );
    assert_eq!(key(&file, "Icon").as_deref(), Some("org.example.Chat"));
    assert_eq!(
        key(&file, "Categories").as_deref(),
        Some("Network;InstantMessaging;")
    );
    assert_eq!(
        key(&file, "MimeType"),
        None,
        "a menu entry listing file types would become their default handler"
    );
    assert_eq!(
        localized(&file, "Keywords", "de").as_deref(),
        Some("reden;Nachricht;")
    );
    assert_eq!(key(&file, "StartupWMClass").as_deref(), Some("ChatWindow"));
    assert_eq!(
        key(&file, "Exec"),
        Some(format!("{boxtop} run --detach --origin desktop chat -- %U")),
        "only the field code of the app's command line is passed on"
    );
    assert_eq!(key(&file, "TryExec"), Some(boxtop.clone()));
    assert_eq!(key(&file, "Terminal").as_deref(), Some("false"));
    assert_eq!(key(&file, "X-Boxtop-Profile").as_deref(), Some("chat"));
    assert_eq!(key(&file, "X-Boxtop-Version").as_deref(), Some("1"));
    assert_eq!(key(&file, "NoDisplay"), None);
    // The action that runs the same program is kept with what it adds; the other is not.
    assert_eq!(key(&file, "Actions").as_deref(), Some("new-window;"));
    assert_eq!(
        file.raw("Desktop Action new-window", "Exec"),
        Some(format!("{boxtop} run --detach --origin desktop chat -- --new-window %U").as_str())
    );
    assert_eq!(
        file.raw_localized("Desktop Action new-window", "Name", Some("de")),
        Some("Neues Fenster")
    );
    assert!(!file.has_group("Desktop Action settings"));
}

#[test]
fn install_copies_entries_with_subfolder_ids_spaced_paths_and_odd_command_lines() {
    let setup = Setup::new();
    let viewer = install(&setup.env, &setup.profile("viewer"), false).expect("install viewer");
    assert_eq!(
        viewer.original,
        Some(fixtures().join("data/applications/example/viewer.desktop")),
        "example-viewer.desktop is example/viewer.desktop"
    );
    validate(&viewer.entry);
    let file = read(&viewer.entry);
    assert_eq!(
        file.string(MAIN_GROUP, "Name").as_deref(),
        Some("Example Viewer [boxtop]")
    );
    assert_eq!(
        localized(&file, "Name", "ja").as_deref(),
        Some("ビューア [boxtop]")
    );
    assert_eq!(
        key(&file, "Icon").as_deref(),
        Some("/opt/Example Viewer/viewer.png")
    );
    assert!(key(&file, "Exec")
        .unwrap()
        .ends_with(" run --detach --origin desktop viewer -- %F"));

    let odd = install(&setup.env, &setup.profile("odd"), false).expect("install odd");
    validate(&odd.entry);
    let file = read(&odd.entry);
    assert_eq!(key(&file, "Name").as_deref(), Some("Odd 100% [boxtop]"));
    assert!(
        key(&file, "Exec")
            .unwrap()
            .ends_with(" run --detach --origin desktop odd -- %i --open=%f"),
        "deprecated %d and %k are dropped, the quoted title is the app's own: {:?}",
        key(&file, "Exec")
    );
}

#[test]
fn apps_with_no_entry_get_a_generic_one() {
    let setup = Setup::new();
    for (name, comment) in [
        ("noapp", "A tool with no desktop entry"),
        ("missing", "Fixture app missing"),
        // Hidden=true in the first folder deletes the app, even with a copy below.
        ("removed", "Fixture app removed"),
    ] {
        let done = install(&setup.env, &setup.profile(name), false).expect("install");
        assert_eq!(done.original, None, "{name}");
        validate(&done.entry);
        let file = read(&done.entry);
        assert_eq!(key(&file, "Name"), Some(format!("{name} [boxtop]")));
        assert_eq!(key(&file, "Comment").as_deref(), Some(comment));
        assert_eq!(
            key(&file, "Icon").as_deref(),
            Some("application-x-executable")
        );
        assert_eq!(key(&file, "Categories").as_deref(), Some("Utility;"));
        assert_eq!(
            key(&file, "Exec"),
            Some(format!(
                "{} run --detach --origin desktop {name}",
                setup.env.boxtop.display()
            ))
        );
    }
}

#[test]
fn terminal_apps_keep_their_terminal_and_run_in_the_foreground() {
    let setup = Setup::new();
    let done = install(&setup.env, &setup.profile("term"), false).expect("install");
    validate(&done.entry);
    let file = read(&done.entry);
    assert_eq!(key(&file, "Terminal").as_deref(), Some("true"));
    assert_eq!(
        key(&file, "Exec"),
        Some(format!(
            "{} run --origin desktop term -- %F",
            setup.env.boxtop.display()
        ))
    );
}

#[test]
fn replace_then_remove_leaves_the_folder_byte_identical() {
    // A folder with the user's own entries and no MIME cache; one with a cache
    // update-desktop-database wrote; and no folder at all.
    for case in ["files", "cache", "none"] {
        let setup = Setup::new();
        let apps = setup.apps();
        if case != "none" {
            std::fs::create_dir_all(apps.join("mine")).unwrap();
            std::fs::write(
                apps.join("mine/notes.desktop"),
                "[Desktop Entry]\nType=Application\nName=Notes\nExec=notes %f\nMimeType=text/plain;\n",
            )
            .unwrap();
            std::fs::write(apps.join("mimeapps.list"), "[Default Applications]\n").unwrap();
        }
        if case == "cache" {
            let status = Command::new(desktop_file_utils("update-desktop-database"))
                .arg(&apps)
                .status()
                .unwrap();
            assert!(status.success());
        }
        let before = snapshot(&apps);
        let config_before = snapshot(&setup.env.config_home);

        let done = install(&setup.env, &setup.profile("chat"), true).expect("install --replace");
        let (id, replacement) = done.replacement.clone().expect("a replacement");
        assert_eq!(id, "org.example.Chat.desktop");
        assert_eq!(replacement, apps.join("org.example.Chat.desktop"));
        validate(&done.entry);
        validate(&replacement);
        let shown = read(&replacement);
        assert_eq!(key(&shown, "Name").as_deref(), Some("Chat [boxtop]"));
        assert_eq!(key(&shown, "X-Boxtop-Profile").as_deref(), Some("chat"));
        assert_eq!(key(&shown, "NoDisplay"), None);
        assert_eq!(
            key(&read(&done.entry), "NoDisplay").as_deref(),
            Some("true"),
            "the app shows once in menus, through its own id"
        );
        let cache = std::fs::read_to_string(apps.join("mimeinfo.cache")).expect("MIME cache");
        assert!(
            cache.contains("x-scheme-handler/chat=") && cache.contains("org.example.Chat.desktop"),
            "{cache}"
        );

        let removed = remove(&setup.env, "chat").expect("remove");
        assert_eq!(removed.removed.len(), 2, "{removed:?}");
        assert_eq!(
            snapshot(&apps),
            before,
            "case {case}: before {:?}, after {:?}",
            names(&before),
            names(&snapshot(&apps))
        );
        assert_eq!(snapshot(&setup.env.config_home), config_before);
        assert!(
            !setup.env.state_dir.join("entries-created").exists(),
            "boxtop's notes go with its last file"
        );
    }
}

#[test]
fn replace_never_overwrites_a_user_entry() {
    let setup = Setup::new();
    let apps = setup.apps();
    std::fs::create_dir_all(&apps).unwrap();
    let mine = apps.join("org.example.Chat.desktop");
    std::fs::write(
        &mine,
        "[Desktop Entry]\nType=Application\nName=My Chat\nExec=chat --my-flags %U\n",
    )
    .unwrap();
    let before = snapshot(&apps);
    let err = install(&setup.env, &setup.profile("chat"), true).unwrap_err();
    assert!(matches!(err, EntriesError::NotOurs { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&mine.display().to_string())
            && message.contains("not written by boxtop")
            && message.contains("without --replace"),
        "{message}"
    );
    assert_eq!(snapshot(&apps), before, "nothing is written when refused");

    // The menu entry alone can be installed, and the user's entry is what it copies.
    let done = install(&setup.env, &setup.profile("chat"), false).expect("install");
    assert_eq!(done.original.as_deref(), Some(mine.as_path()));
    assert_eq!(
        key(&read(&done.entry), "Name").as_deref(),
        Some("My Chat [boxtop]")
    );
    remove(&setup.env, "chat").expect("remove");
    assert_eq!(snapshot(&apps), before);
}

#[test]
fn a_boxtop_named_file_without_the_marker_is_left_alone() {
    let setup = Setup::new();
    let apps = setup.apps();
    std::fs::create_dir_all(&apps).unwrap();
    let handmade = apps.join("boxtop-chat.desktop");
    let text = "[Desktop Entry]\nType=Application\nName=Hand made\nExec=boxtop run chat\n";
    std::fs::write(&handmade, text).unwrap();
    let err = install(&setup.env, &setup.profile("chat"), false).unwrap_err();
    assert!(err.to_string().contains("boxtop-chat.desktop"), "{err}");
    let removed = remove(&setup.env, "chat").expect("remove");
    assert!(removed.removed.is_empty());
    assert_eq!(removed.left, vec![handmade.clone()]);
    assert_eq!(std::fs::read_to_string(&handmade).unwrap(), text);
}

#[test]
fn an_app_has_one_replacement_until_install_without_replace_drops_it() {
    let mut setup = Setup::new();
    // A second profile for the same app.
    let extra = setup.dir.path().join("chat-work.toml");
    std::fs::write(
        &extra,
        "name = \"chat-work\"\nextends = \"chat\"\ndescription = \"Chat for work\"\n",
    )
    .unwrap();
    setup.profiles.add_user_file(&extra);
    install(&setup.env, &setup.profile("chat"), true).expect("install --replace");
    let err = install(&setup.env, &setup.profile("chat-work"), true).unwrap_err();
    assert!(
        err.to_string().contains("boxtop desktop remove chat"),
        "{err}"
    );
    let done = install(&setup.env, &setup.profile("chat"), false).expect("install");
    assert_eq!(
        done.unreplaced,
        vec![setup.apps().join("org.example.Chat.desktop")]
    );
    assert!(!setup.apps().join("org.example.Chat.desktop").exists());
    assert_eq!(key(&read(&done.entry), "NoDisplay"), None);
}

#[test]
fn replace_needs_a_desktop_file_id() {
    let setup = Setup::new();
    let err = install(&setup.env, &setup.profile("noapp"), true).unwrap_err();
    assert!(
        matches!(err, EntriesError::NothingToReplace { .. }),
        "{err}"
    );
    assert!(!setup.apps().exists(), "nothing is created when refused");
}

#[test]
fn list_and_sync_follow_profiles_and_a_moved_boxtop() {
    let mut setup = Setup::new();
    setup.env.boxtop = PathBuf::from("/old place/boxtop");
    install(&setup.env, &setup.profile("chat"), true).unwrap();
    install(&setup.env, &setup.profile("viewer"), false).unwrap();
    let autostart = enable(&setup.env, &setup.profile("chat")).unwrap().path;
    // The user turns autostart off from their desktop's settings, which edit the file.
    let text = std::fs::read_to_string(&autostart).unwrap().replace(
        "X-GNOME-Autostart-enabled=true",
        "X-GNOME-Autostart-enabled=false",
    );
    std::fs::write(&autostart, text).unwrap();
    let unrelated = setup.apps().join("unrelated.desktop");
    let unrelated_text = "[Desktop Entry]\nType=Application\nName=U\nExec=u\n";
    std::fs::write(&unrelated, unrelated_text).unwrap();

    let rows = list(&setup.env, &setup.profiles);
    let summary: Vec<(Kind, &str, Option<&str>)> = rows
        .iter()
        .map(|row| (row.kind, row.profile.as_str(), row.replaces.as_deref()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Kind::Menu, "chat", None),
            (Kind::Menu, "viewer", None),
            (Kind::Replacement, "chat", Some("org.example.Chat.desktop")),
            (Kind::Autostart, "chat", None),
        ]
    );
    assert!(rows.iter().all(|row| row.profile_exists));

    // boxtop moved, and the viewer profile is gone.
    setup.env.boxtop = PathBuf::from("/new/boxtop");
    let mut profiles = ProfileSet::default();
    profiles.add_user_file(&fixtures().join("profiles/chat.toml"));
    let gone = list(&setup.env, &profiles);
    assert!(gone
        .iter()
        .any(|row| row.profile == "viewer" && !row.profile_exists));

    let done = sync(&setup.env, &profiles).expect("sync");
    assert_eq!(
        done.removed,
        vec![setup.apps().join("boxtop-viewer.desktop")]
    );
    assert_eq!(done.rewritten.len(), 3, "{done:?}");
    assert!(done.skipped.is_empty(), "{:?}", done.skipped);
    for path in [
        setup.apps().join("boxtop-chat.desktop"),
        setup.apps().join("org.example.Chat.desktop"),
        autostart.clone(),
    ] {
        validate(&path);
        let file = read(&path);
        assert!(
            key(&file, "Exec")
                .unwrap()
                .starts_with("/new/boxtop run --detach --origin "),
            "{}",
            path.display()
        );
        assert_eq!(key(&file, "TryExec").as_deref(), Some("/new/boxtop"));
    }
    assert_eq!(
        key(
            &read(&setup.apps().join("boxtop-chat.desktop")),
            "NoDisplay"
        )
        .as_deref(),
        Some("true"),
        "still behind its replacement"
    );
    assert_eq!(
        key(&read(&autostart), "X-GNOME-Autostart-enabled").as_deref(),
        Some("false"),
        "the user's switch is kept"
    );
    assert_eq!(std::fs::read_to_string(&unrelated).unwrap(), unrelated_text);

    let again = sync(&setup.env, &profiles).expect("sync again");
    assert!(again.rewritten.is_empty() && again.removed.is_empty());
    assert_eq!(again.unchanged.len(), 3);
}

#[test]
fn a_broken_app_entry_is_a_warning_and_the_entry_is_generic() {
    let mut setup = Setup::new();
    let data = setup.dir.path().join("broken-data");
    std::fs::create_dir_all(data.join("applications")).unwrap();
    std::fs::write(
        data.join("applications/org.example.Chat.desktop"),
        "[Desktop Entry]\nthis line is not a key\n",
    )
    .unwrap();
    setup.env.data_dirs.insert(0, data.clone());
    let done = install(&setup.env, &setup.profile("chat"), false).expect("install");
    assert_eq!(done.original, None);
    assert_eq!(done.warnings.len(), 1, "{:?}", done.warnings);
    assert!(
        done.warnings[0].contains("org.example.Chat.desktop:2:"),
        "{:?}",
        done.warnings
    );
    validate(&done.entry);
}
