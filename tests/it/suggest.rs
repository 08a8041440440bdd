//! Profiles for installed apps: `boxtop new NAME --from-desktop-file ID` writes a valid
//! profile from the app's own desktop entry, whose app then starts in its sandbox (window
//! seen under Xvfb); `desktop install --all` gives every profile of an installed app a menu
//! entry and `desktop remove --all` takes them all away again.

use std::path::Path;

use crate::support::entries::validate;
use crate::support::x11::Desktop;
use crate::support::{require, stderr, stdout, World};

/// `boxtop new NAME --from-desktop-file ID` as the test user, which must succeed; the
/// profile text it wrote.
fn suggest(world: &World, name: &str, id: &str) -> String {
    let output = world
        .boxtop(&["new", name, "--from-desktop-file", id])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "new {name} --from-desktop-file {id}: {}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("wrote "), "{}", stdout(&output));
    let path = world
        .home
        .join(format!(".config/boxtop/profiles/{name}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Writes the suggested profile for desktop entry `id`, checks it, and runs it under Xvfb
/// (with a session bus and a sound server, as a desktop has them) until a window whose
/// line in `xwininfo -root -tree` holds `needle` shows.
fn suggested_app_shows_its_window(
    program: &str,
    package: &str,
    id: &str,
    name: &str,
    args: &[&str],
    needle: &str,
) -> String {
    require(program, package);
    let desktop = Desktop::new();
    let world = &desktop.world;
    let text = suggest(world, name, id);
    let file_id = if id.ends_with(".desktop") {
        id.to_string()
    } else {
        format!("{id}.desktop")
    };
    assert!(
        text.contains(&format!("desktop_file = \"{file_id}\"")),
        "{text}"
    );
    let check = world.boxtop(&["check"]).output().unwrap();
    assert!(check.status.success(), "check: {}", stderr(&check));
    let mut all = vec![name, "--"];
    all.extend_from_slice(args);
    desktop.run_until_window(&all, needle);
    text
}

#[test]
fn a_profile_from_mousepads_entry_is_an_offline_editor_of_documents_that_starts() {
    let text = suggested_app_shows_its_window(
        "mousepad",
        "mousepad",
        "org.xfce.mousepad",
        "mousepad",
        &[],
        "Mousepad",
    );
    assert!(text.contains("network = \"none\""), "{text}");
    assert!(
        text.contains("path = \"Documents\"\nmode = \"rw\""),
        "{text}"
    );
    assert!(!text.contains("gpu"), "{text}");
}

#[test]
fn a_profile_from_firefoxs_entry_is_an_isolated_browser_that_starts() {
    let text = suggested_app_shows_its_window(
        "firefox-esr",
        "firefox-esr",
        "firefox-esr.desktop",
        "ff",
        &["--new-instance", "about:blank"],
        "Firefox",
    );
    assert!(text.contains("network = \"isolated\""), "{text}");
    assert!(text.contains("path = \"Downloads\""), "{text}");
    assert!(text.contains("allow_userns = true"), "{text}");
}

#[test]
fn a_profile_from_chromiums_entry_is_an_isolated_browser_that_starts() {
    let text = suggested_app_shows_its_window(
        "chromium",
        "chromium",
        "chromium",
        "chrome-suggested",
        &["--no-first-run", "about:blank"],
        "Chromium",
    );
    assert!(text.contains("network = \"isolated\""), "{text}");
    assert!(text.contains("allow_userns = true"), "{text}");
}

#[test]
fn a_profile_from_xterms_entry_starts_its_window() {
    let text = suggested_app_shows_its_window(
        "xterm",
        "xterm",
        "debian-xterm.desktop",
        "term",
        &["-title", "suggested-xterm"],
        "suggested-xterm",
    );
    assert!(text.contains("network = \"none\""), "{text}");
}

#[test]
fn a_profile_from_vlcs_entry_plays_media_read_only_and_starts() {
    let text = suggested_app_shows_its_window("vlc", "vlc", "vlc", "player", &[], "VLC");
    assert!(text.contains("audio = \"auto\""), "{text}");
    assert!(text.contains("path = \"Music\"\nmode = \"ro\""), "{text}");
    assert!(text.contains("path = \"Videos\"\nmode = \"ro\""), "{text}");
}

#[test]
fn a_desktop_file_that_is_no_app_or_names_a_missing_program_writes_nothing() {
    let world = World::new();
    let dir = world.root.path().join("entries");
    std::fs::create_dir_all(&dir).unwrap();
    for (file, body, needle) in [
        (
            "gone.desktop",
            "[Desktop Entry]\nType=Application\nName=Gone\nExec=no-such-program %f\n",
            "'no-such-program', which is not installed",
        ),
        (
            "link.desktop",
            "[Desktop Entry]\nType=Link\nName=Site\nURL=https://example.org\n",
            "not an application entry",
        ),
        (
            "wrapped.desktop",
            "[Desktop Entry]\nType=Application\nName=W\nExec=sh -c \"xterm\"\n",
            "through a shell",
        ),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, body).unwrap();
        let output = world
            .boxtop(&["new", "x", "--from-desktop-file", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{file} was accepted");
        assert!(
            stderr(&output).contains(needle),
            "{file}: {}",
            stderr(&output)
        );
        assert!(!world.home.join(".config/boxtop/profiles/x.toml").exists());
    }
    let output = world
        .boxtop(&["new", "x", "--from-desktop-file", "org.example.NoSuchApp"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no desktop entry org.example.NoSuchApp.desktop"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn desktop_install_all_gives_installed_apps_entries_and_remove_all_takes_them_away() {
    require("mousepad", "mousepad");
    require("xterm", "xterm");
    let world = World::new();
    let apps = world.home.join(".local/share/applications");
    // The user's own entry, which boxtop must leave alone.
    std::fs::create_dir_all(&apps).unwrap();
    let own = apps.join("my-own.desktop");
    std::fs::write(
        &own,
        "[Desktop Entry]\nType=Application\nName=Mine\nExec=xterm\n",
    )
    .unwrap();
    world.fix_owner();
    // A replacement made before stays through --all.
    let replace = world
        .boxtop(&["desktop", "install", "mousepad", "--replace"])
        .output()
        .unwrap();
    assert!(replace.status.success(), "{}", stderr(&replace));

    let output = world
        .boxtop(&["desktop", "install", "--all"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for name in ["mousepad", "xterm"] {
        let entry = apps.join(format!("boxtop-{name}.desktop"));
        assert!(entry.exists(), "no entry for {name}:\n{text}");
        validate(&entry);
    }
    assert!(apps.join("org.xfce.mousepad.desktop").exists(), "{text}");
    // Bundled profiles of apps not installed here get none, and are named.
    assert!(
        text.contains("whose app is not installed here") && text.contains("spotify"),
        "{text}"
    );
    assert!(!apps.join("boxtop-spotify.desktop").exists());

    let output = world
        .boxtop(&["desktop", "remove", "--all"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let left: Vec<String> = std::fs::read_dir(&apps)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".desktop"))
        .collect();
    assert_eq!(left, ["my-own.desktop"], "{}", stdout(&output));
    assert!(Path::new(&own).exists());
}
