//! Desktop entries and autostart files, through the library API with explicit XDG
//! folders: the app fixtures of `tests/entries/` (read-only, as `$XDG_DATA_DIRS` and
//! `$XDG_CONFIG_DIRS`), a temporary user data and config home, every written file checked
//! by the real `desktop-file-validate`, and launch lines run by GLib's `gio launch`.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use boxtop::entries::desktop_file::{DesktopFile, MAIN_GROUP};
use boxtop::entries::{
    self, disable, enable, install, list, remove, render_autostart, render_entry, sync, Disabled,
    EntriesError, Env, Kind, Role,
};
use boxtop::profile::{Profile, ProfileSet};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/entries")
}

/// A program of desktop-file-utils; the tests need it and say how to get it.
fn desktop_file_utils(program: &str) -> PathBuf {
    let found = ["/usr/bin", "/usr/local/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "{program} is missing: install desktop-file-utils (`make test` installs it; \
             Debian: apt-get install desktop-file-utils)"
        )
    })
}

fn gio() -> PathBuf {
    let path = PathBuf::from("/usr/bin/gio");
    assert!(
        path.is_file(),
        "gio is missing: install libglib2.0-bin (`make test` installs it)"
    );
    path
}

/// Runs desktop-file-validate on a file and fails on any error or warning.
fn validate(path: &Path) {
    let output = Command::new(desktop_file_utils("desktop-file-validate"))
        .arg(path)
        .output()
        .expect("run desktop-file-validate");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        output.status.success() && !report.contains("error:") && !report.contains("warning:"),
        "desktop-file-validate {}:\n{report}\n--- the file:\n{text}",
        path.display()
    );
}

/// A user with empty data and config homes, over the fixture apps.
struct Setup {
    dir: tempfile::TempDir,
    env: Env,
    profiles: ProfileSet,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let env = Env {
            data_home: home.join(".local/share"),
            config_home: home.join(".config"),
            data_dirs: vec![fixtures().join("data"), fixtures().join("low")],
            config_dirs: vec![fixtures().join("config")],
            boxtop: dir.path().join("bin/boxtop"),
            state_dir: home.join(".local/share/boxtop"),
            update_desktop_database: Some(desktop_file_utils("update-desktop-database")),
        };
        let mut profiles = ProfileSet::default();
        profiles.add_user_dir(&fixtures().join("profiles"));
        Setup { dir, env, profiles }
    }

    fn profile(&self, name: &str) -> Profile {
        self.profiles.resolve(name).expect("fixture profile")
    }

    fn apps(&self) -> PathBuf {
        self.env.applications_dir()
    }

    fn autostart(&self) -> PathBuf {
        self.env.autostart_dir()
    }
}

fn read(path: &Path) -> DesktopFile {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    DesktopFile::parse(&text).expect("boxtop's file parses")
}

fn key(file: &DesktopFile, key: &str) -> Option<String> {
    file.raw(MAIN_GROUP, key).map(str::to_string)
}

fn localized(file: &DesktopFile, key: &str, locale: &str) -> Option<String> {
    file.raw_localized(MAIN_GROUP, key, Some(locale))
        .map(str::to_string)
}

/// Every path under `dir` (relative) with its bytes (None for a folder); None when `dir`
/// does not exist.
fn snapshot(dir: &Path) -> Option<BTreeMap<PathBuf, Option<Vec<u8>>>> {
    if !dir.exists() {
        return None;
    }
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().to_path_buf();
            if path.is_dir() {
                stack.push(path);
                out.insert(relative, None);
            } else {
                out.insert(relative, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    Some(out)
}

fn names(snapshot: &Option<BTreeMap<PathBuf, Option<Vec<u8>>>>) -> Vec<PathBuf> {
    snapshot
        .as_ref()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn install_copies_the_apps_names_icon_types_and_field_codes() {
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
    assert_eq!(key(&file, "Name").as_deref(), Some("Chat (sandboxed)"));
    assert_eq!(
        localized(&file, "Name", "de").as_deref(),
        Some("Plaudern (sandboxed)")
    );
    assert_eq!(
        localized(&file, "Name", "fr").as_deref(),
        Some("Discussion (sandboxed)")
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
        key(&file, "MimeType").as_deref(),
        Some("x-scheme-handler/chat;text/x-chat;")
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
fn subfolder_ids_paths_with_spaces_and_odd_command_lines() {
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
        Some("Example Viewer (sandboxed)")
    );
    assert_eq!(
        localized(&file, "Name", "ja").as_deref(),
        Some("ビューア (sandboxed)")
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
    assert_eq!(key(&file, "Name").as_deref(), Some("Odd 100% (sandboxed)"));
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
        assert_eq!(key(&file, "Name"), Some(format!("{name} (sandboxed)")));
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

/// A stand-in for boxtop that writes its arguments, one a line, to `args.txt` beside it.
fn recording_boxtop(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let script = dir.join("boxtop");
    std::fs::write(
        &script,
        "#!/bin/sh\nout=\"$(dirname \"$0\")/args.txt\"\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$out.tmp\"\nmv \"$out.tmp\" \"$out\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn launched_args(dir: &Path) -> Vec<String> {
    let file = dir.join("args.txt");
    let start = Instant::now();
    while !file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the entry did not start boxtop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn gio_launches_boxtop_from_a_folder_with_reserved_characters_with_the_files() {
    let mut setup = Setup::new();
    // Space, dollar, quotes and backslash: each needs its own escape. (Not '%': GLib
    // looks for the program before it turns `%%` into `%`, see `percent_in_boxtop_path`.)
    let bin = setup.dir.path().join("my apps/$HOME/it's \"q\" \\b");
    setup.env.boxtop = recording_boxtop(&bin);
    let done = install(&setup.env, &setup.profile("viewer"), false).expect("install");
    validate(&done.entry);
    let picture = setup.dir.path().join("holiday photo.png");
    std::fs::write(&picture, b"png").unwrap();
    let output = Command::new(gio())
        .arg("launch")
        .arg(&done.entry)
        .arg(&picture)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run gio");
    assert!(
        output.status.success(),
        "gio launch: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        launched_args(&bin),
        vec![
            "run".to_string(),
            "--detach".into(),
            "--origin".into(),
            "desktop".into(),
            "viewer".into(),
            "--".into(),
            picture.display().to_string(),
        ]
    );
}

#[test]
fn percent_in_boxtop_path_is_written_as_the_spec_says_with_a_warning() {
    let mut setup = Setup::new();
    setup.env.boxtop = PathBuf::from("/opt/100% tools/boxtop");
    let done = install(&setup.env, &setup.profile("chat"), false).expect("install");
    validate(&done.entry);
    assert_eq!(
        key(&read(&done.entry), "Exec").as_deref(),
        Some("\"/opt/100%% tools/boxtop\" run --detach --origin desktop chat -- %U")
    );
    assert!(
        done.warnings.iter().any(|w| w.contains("holds '%'")),
        "{:?}",
        done.warnings
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
        assert_eq!(key(&shown, "Name").as_deref(), Some("Chat (sandboxed)"));
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
        Some("My Chat (sandboxed)")
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
fn a_replacement_of_another_profile_is_refused_and_install_without_replace_drops_ours() {
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
fn autostart_keeps_the_apps_own_arguments_and_goes_away_cleanly() {
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
    assert_eq!(key(&file, "Name").as_deref(), Some("Chat (sandboxed)"));
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

/// The system's own folders, as a user of this machine has them.
fn system_env(dir: &Path) -> Env {
    Env {
        data_home: dir.join("home/.local/share"),
        config_home: dir.join("home/.config"),
        data_dirs: vec!["/usr/local/share".into(), "/usr/share".into()],
        config_dirs: vec!["/etc/xdg".into()],
        boxtop: PathBuf::from("/usr/local/bin/boxtop"),
        state_dir: dir.join("home/.local/share/boxtop"),
        update_desktop_database: None,
    }
}

#[test]
fn every_bundled_profile_gets_valid_entries() {
    let dir = tempfile::tempdir().unwrap();
    let env = system_env(dir.path());
    let profiles = ProfileSet::bundled();
    let mut validated = Vec::new();
    let mut generic = Vec::new();
    let mut copied = Vec::new();
    for entry in profiles.entries() {
        let profile = profiles
            .resolve(&entry.name)
            .unwrap_or_else(|err| panic!("bundled profile {}: {err}", entry.name));
        let mut warnings = Vec::new();
        let (_, original) = entries::install::app_entry(&env, &profile, &mut warnings)
            .unwrap_or_else(|err| panic!("{}: {err}", profile.name));
        let original = original.map(|found| found.file);
        for (kind, text) in [
            (
                "menu",
                render_entry(&profile, original.as_ref(), &env.boxtop, Role::Menu),
            ),
            (
                "replacement",
                render_entry(&profile, original.as_ref(), &env.boxtop, Role::Replacement),
            ),
            (
                "autostart",
                render_autostart(&profile, original.as_ref(), None, None, &env.boxtop),
            ),
        ] {
            let path = dir.path().join(format!("{}-{kind}.desktop", profile.name));
            std::fs::write(&path, text.expect("render")).unwrap();
            validate(&path);
        }
        validated.push(profile.name.clone());
        match original {
            Some(_) => copied.push(profile.name.clone()),
            None => generic.push(profile.name.clone()),
        }
    }
    assert!(
        validated.len() >= 5,
        "expected at least five bundled profiles, validated {validated:?}"
    );
    assert!(
        !generic.is_empty(),
        "expected a bundled profile whose app has no entry here (the generic entry): {validated:?}"
    );
    if Path::new("/usr/share/applications/debian-xterm.desktop").exists() {
        assert!(copied.contains(&"xterm".to_string()), "{copied:?}");
    }
}

#[test]
fn real_xterm_and_mousepad_entries_from_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let env = system_env(dir.path());
    for (toml, id) in [
        ("name = \"xterm\"\ndesktop_file = \"debian-xterm.desktop\"\ncommand = [\"xterm\"]\n", "debian-xterm.desktop"),
        (
            "name = \"mousepad\"\ndesktop_file = \"org.xfce.mousepad.desktop\"\ncommand = [\"mousepad\"]\n",
            "org.xfce.mousepad.desktop",
        ),
    ] {
        let system = Path::new("/usr/share/applications").join(id);
        assert!(
            system.exists(),
            "{} is missing: `make test` installs xterm and mousepad",
            system.display()
        );
        let file = dir.path().join("p.toml");
        std::fs::write(&file, toml).unwrap();
        let profile = ProfileSet::default().resolve_file(&file).unwrap();
        let done = install(&env, &profile, true).expect("install --replace");
        assert_eq!(done.original.as_deref(), Some(system.as_path()));
        validate(&done.entry);
        validate(&done.replacement.as_ref().unwrap().1);
        let entry = read(&done.entry);
        match profile.name.as_str() {
            "xterm" => {
                assert_eq!(key(&entry, "Name").as_deref(), Some("XTerm (sandboxed)"));
                assert_eq!(key(&entry, "Icon").as_deref(), Some("mini.xterm"));
                assert_eq!(
                    key(&entry, "Exec").as_deref(),
                    Some("/usr/local/bin/boxtop run --detach --origin desktop xterm")
                );
            }
            _ => {
                assert_eq!(localized(&entry, "Name", "de").as_deref(), Some("Mousepad (sandboxed)"));
                assert_eq!(
                    key(&entry, "Exec").as_deref(),
                    Some("/usr/local/bin/boxtop run --detach --origin desktop mousepad -- %U")
                );
                assert_eq!(key(&entry, "MimeType").as_deref(), Some("text/plain;"));
                assert_eq!(
                    entry.raw("Desktop Action preferences", "Exec"),
                    Some("/usr/local/bin/boxtop run --detach --origin desktop mousepad -- --preferences")
                );
            }
        }
        remove(&env, &profile.name).unwrap();
        assert_eq!(snapshot(&env.applications_dir()), None);
    }
}

/// The commands as a user runs them: the real binary, as the unprivileged test user, with
/// the machine's own `$XDG_DATA_DIRS` (xterm is installed by `make test`).
#[test]
fn cli_install_list_autostart_and_remove_xterm() {
    let world = crate::support::World::new();
    let apps = world.home.join(".local/share/applications");
    let autostart = world.home.join(".config/autostart");
    let run = |args: &[&str]| {
        let output = world.boxtop(args).output().expect("run boxtop");
        (
            output.status.code(),
            crate::support::stdout(&output),
            crate::support::stderr(&output),
        )
    };

    let (code, out, err) = run(&["desktop", "install", "xterm", "--replace"]);
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let entry = apps.join("boxtop-xterm.desktop");
    assert!(out.contains(&entry.display().to_string()), "{out}");
    validate(&entry);
    validate(&apps.join("debian-xterm.desktop"));
    let file = read(&entry);
    assert_eq!(
        key(&file, "Exec"),
        Some(format!(
            "{} run --detach --origin desktop xterm",
            world.bin.join("boxtop").display()
        )),
        "the entry starts this boxtop by its absolute path"
    );

    let (code, out, _) = run(&["desktop", "list"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("replacement") && out.contains("debian-xterm.desktop"),
        "{out}"
    );

    let (code, out, err) = run(&["autostart", "enable", "xterm"]);
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    validate(&autostart.join("boxtop-xterm.desktop"));
    let (code, _, _) = run(&["autostart", "disable", "xterm"]);
    assert_eq!(code, Some(0));

    let (code, out, err) = run(&["desktop", "remove", "xterm"]);
    assert_eq!(code, Some(0), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        !apps.exists(),
        "the folder boxtop created goes with its last file"
    );
    assert!(!autostart.exists());

    let (code, _, err) = run(&["desktop", "install", "no-such-profile"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no profile named 'no-such-profile'"), "{err}");
}

/// End to end: the menu entry `boxtop desktop install` writes, started by `gio launch`
/// with a file as a launcher would, runs the app in its sandbox (listed by `boxtop ps`
/// as started from the desktop) and the app reads the file from a shared folder.
#[test]
fn gio_launching_the_entry_starts_the_app_sandboxed_with_the_file() {
    let mut world = crate::support::World::new();
    let data_dirs = world.root.path().join("system-data");
    let apps = data_dirs.join("applications");
    std::fs::create_dir_all(&apps).unwrap();
    std::fs::write(
        apps.join("org.example.Viewer.desktop"),
        "[Desktop Entry]\nType=Application\nName=Viewer\nExec=viewer %f\nIcon=viewer\nMimeType=image/png;\n",
    )
    .unwrap();
    world
        .env
        .insert("XDG_DATA_DIRS".into(), data_dirs.display().to_string());
    let profiles = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        profiles.join("viewer.toml"),
        r#"name = "viewer"
desktop_file = "org.example.Viewer"
command = ["/bin/sh", "-c", "cat \"$1\" > \"$HOME/Pictures/seen.txt\"; exec sleep 1000", "viewer"]
[home]
ephemeral = true
[[home.share]]
path = "Pictures"
mode = "rw"
"#,
    )
    .unwrap();
    let pictures = world.home.join("Pictures");
    std::fs::create_dir_all(&pictures).unwrap();
    let picture = pictures.join("holiday photo.png");
    std::fs::write(&picture, b"not really a png").unwrap();
    world.fix_owner();

    let install = world
        .boxtop(&["desktop", "install", "viewer"])
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        crate::support::stderr(&install)
    );
    let entry = world
        .home
        .join(".local/share/applications/boxtop-viewer.desktop");
    validate(&entry);

    let launched = world
        .command(&gio())
        .arg("launch")
        .arg(&entry)
        .arg(&picture)
        .output()
        .unwrap();
    assert!(
        launched.status.success(),
        "gio launch: {}",
        crate::support::stderr(&launched)
    );
    let seen = pictures.join("seen.txt");
    crate::support::wait_until(
        "the sandboxed app to read the file",
        Duration::from_secs(20),
        || std::fs::read(&seen).is_ok_and(|bytes| bytes == b"not really a png"),
    );
    let listed = world.ps();
    let ids: Vec<String> = listed
        .iter()
        .filter(|s| s["profile"] == "viewer")
        .map(|s| {
            assert_eq!(s["origin"], "desktop", "{s}");
            assert_eq!(s["state"]["state"], "running", "{s}");
            s["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{listed:?}");
    let stop = world.boxtop(&["kill", &ids[0]]).output().unwrap();
    assert!(stop.status.success(), "{}", crate::support::stderr(&stop));

    // The autostart entry, started as a session would at login.
    std::fs::remove_file(&seen).unwrap();
    let enable = world
        .boxtop(&["autostart", "enable", "viewer"])
        .output()
        .unwrap();
    assert!(
        enable.status.success(),
        "{}",
        crate::support::stderr(&enable)
    );
    let autostart = world.home.join(".config/autostart/boxtop-viewer.desktop");
    validate(&autostart);
    let launched = world
        .command(&gio())
        .arg("launch")
        .arg(&autostart)
        .output()
        .unwrap();
    assert!(
        launched.status.success(),
        "{}",
        crate::support::stderr(&launched)
    );
    crate::support::wait_until("the autostarted instance", Duration::from_secs(20), || {
        let listed = world.ps();
        listed.iter().any(|s| {
            s["profile"] == "viewer"
                && s["origin"] == "autostart"
                && s["state"]["state"] == "running"
        })
    });
    let stop = world
        .boxtop(&["stop", "viewer", "--timeout", "2"])
        .output()
        .unwrap();
    assert!(stop.status.success(), "{}", crate::support::stderr(&stop));
}
