//! `boxtop import firejail`: real Firejail profiles (Debian's firejail-profiles package in
//! /etc/firejail) and small ones written here, converted by the real binary as the test
//! user, and the written profiles checked by `boxtop check` and `boxtop show`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use boxtop::json_output::Schema;

use crate::support::json;
use crate::support::{stderr, stdout, World};

const FIREJAIL: &str = "/etc/firejail";

/// Whether Debian's Firejail profiles are installed (CI installs them: package
/// firejail-profiles, through scripts/install-deps.sh).
fn has_firejail_profiles(test: &str) -> bool {
    let count = std::fs::read_dir(FIREJAIL)
        .map(|read| {
            read.flatten()
                .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "profile"))
                .count()
        })
        .unwrap_or(0);
    if count < 1000 {
        eprintln!("skipping {test}: {FIREJAIL} has {count} profiles; install firejail-profiles");
        return false;
    }
    true
}

/// A folder of Firejail files for one test, readable by the test user.
fn fixtures(world: &World, files: &[(&str, &str)]) -> PathBuf {
    let dir = world.root.path().join("firejail");
    std::fs::create_dir_all(&dir).expect("mkdir fixtures");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write fixture");
    }
    dir
}

fn import(world: &World, args: &[&str]) -> Output {
    let mut all = vec!["import", "firejail"];
    all.extend_from_slice(args);
    let output = world.boxtop(&all).output().expect("run boxtop import");
    assert_ne!(
        output.status.code(),
        Some(101),
        "boxtop panicked: {}",
        stderr(&output)
    );
    output
}

fn import_ok(world: &World, args: &[&str]) -> String {
    let output = import(world, args);
    assert!(
        output.status.success(),
        "boxtop import firejail {args:?}: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// Runs an import that must fail: its stderr, with nothing written to `out`.
fn import_fails(world: &World, args: &[&str], out: &Path, needles: &[&str]) -> String {
    let output = import(world, args);
    let err = stderr(&output);
    assert!(
        !output.status.success(),
        "import {args:?} succeeded: {}",
        stdout(&output)
    );
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    assert!(
        !out.exists() || std::fs::read_dir(out).unwrap().next().is_none(),
        "a failed import wrote into {}",
        out.display()
    );
    err
}

/// `boxtop show NAME --json`'s profile, for the profiles of `~/.config/boxtop/profiles`.
fn shown(world: &World, name: &str) -> serde_json::Value {
    let output = world
        .boxtop(&["show", name, "--json"])
        .output()
        .expect("run show");
    assert!(
        output.status.success(),
        "boxtop show {name}: {}",
        stderr(&output)
    );
    json::data(Schema::SHOW, &output)["profile"].take()
}

/// (path, mode, create) of each share of a shown profile.
fn shares(profile: &serde_json::Value) -> BTreeSet<(String, String, bool)> {
    profile["home"]["share"]
        .as_array()
        .expect("shares")
        .iter()
        .map(|share| {
            (
                share["path"].as_str().unwrap().to_string(),
                share["mode"].as_str().unwrap().to_string(),
                share["create"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// The `${HOME}` whitelists of a Firejail profile and of the files it includes from
/// /etc/firejail, read line by line here, independently of boxtop's reader.
fn home_whitelists(file: &Path, seen: &mut BTreeSet<PathBuf>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    if !seen.insert(file.to_path_buf()) {
        return found;
    }
    let text = std::fs::read_to_string(file).unwrap_or_default();
    for line in text.lines().map(str::trim) {
        if let Some(path) = line.strip_prefix("whitelist ${HOME}/") {
            found.insert(path.trim().to_string());
        } else if let Some(name) = line.strip_prefix("include ") {
            let included = Path::new(FIREJAIL).join(name.trim());
            if included.is_file() {
                found.extend(home_whitelists(&included, seen));
            }
        }
    }
    found
}

#[test]
fn all_of_debians_firejail_profiles_convert_to_valid_profiles_needs_firejail_profiles() {
    if !has_firejail_profiles("all_of_debians_firejail_profiles_convert") {
        return;
    }
    let world = World::new();
    let out = world.home.join("converted");
    let output = import(
        &world,
        &["--all", FIREJAIL, "--output", out.to_str().unwrap()],
    );
    let text = stdout(&output);
    let line = text
        .lines()
        .find(|line| line.starts_with("converted "))
        .unwrap_or_else(|| panic!("no count in:\n{text}\n{}", stderr(&output)));
    let words: Vec<&str> = line.split_whitespace().collect();
    let converted: usize = words[1].parse().expect("count");
    let total: usize = words[3].parse().expect("total");
    println!("{line}");
    assert!(total >= 1000, "{line}");
    assert!(
        converted * 100 >= total * 95,
        "fewer than 95% converted: {line}"
    );
    assert!(
        text.contains("most common Firejail commands with no boxtop equivalent"),
        "{text}"
    );
    assert!(text.contains("blacklist"), "{text}");
    // Every file written is one `boxtop check` accepts, and there is one per conversion.
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|entry| entry.path().display().to_string())
        .collect();
    files.sort();
    assert_eq!(files.len(), converted, "files written: {files:?}");
    let mut args = vec!["check".to_string()];
    args.extend(files);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let checked = world.boxtop(&args).output().expect("run check");
    let report = stdout(&checked);
    assert!(checked.status.success(), "{report}");
    assert!(
        report.contains(&format!("{converted} checked, 0 with errors")),
        "{report}"
    );
}

#[test]
fn converted_mousepad_keeps_firejails_confinement_needs_firejail_profiles() {
    if !has_firejail_profiles("converted_mousepad") {
        return;
    }
    let world = World::new();
    let text = import_ok(&world, &["mousepad"]);
    let written = world.home.join(".config/boxtop/profiles/mousepad.toml");
    assert!(
        text.contains(&format!("wrote {}", written.display())),
        "{text}"
    );
    assert!(
        text.contains("overrides the bundled profile 'mousepad'"),
        "{text}"
    );
    let profile = shown(&world, "mousepad");
    assert_eq!(profile["network"], "none", "{profile}");
    assert_eq!(profile["audio"], "none", "{profile}");
    // Firejail's mousepad whitelists no folder of the home (it shows the whole home but
    // what it blacklists): boxtop shares none, and says so.
    let whitelisted = home_whitelists(
        &Path::new(FIREJAIL).join("mousepad.profile"),
        &mut BTreeSet::new(),
    );
    let shared: BTreeSet<String> = shares(&profile)
        .into_iter()
        .map(|(path, _, _)| path)
        .collect();
    assert_eq!(shared, whitelisted);
    let file = std::fs::read_to_string(&written).unwrap();
    assert!(
        file.contains("Firejail shows this app your whole home"),
        "{file}"
    );
    assert!(
        file.contains("`private-bin mousepad` (/etc/firejail/mousepad.profile:"),
        "{file}"
    );

    // firefox-esr redirects to firefox.profile, which whitelists and creates its folders:
    // each whitelisted path there becomes a read-write share created when missing.
    import_ok(&world, &["firefox-esr"]);
    let profile = shown(&world, "firefox-esr");
    assert_eq!(profile["network"], "isolated", "{profile}");
    let firefox = home_whitelists(
        &Path::new(FIREJAIL).join("firefox.profile"),
        &mut BTreeSet::new(),
    );
    assert!(firefox.contains(".mozilla"), "{firefox:?}");
    let shared = shares(&profile);
    for path in [".mozilla", ".cache/mozilla/firefox"] {
        assert!(firefox.contains(path));
        assert!(
            shared.contains(&(path.to_string(), "rw".to_string(), true)),
            "{path}: {shared:?}"
        );
    }
    assert_eq!(profile["dbus"]["own"][0], "org.mozilla.*", "{profile}");
}

#[test]
fn includes_are_followed_and_their_lines_named() {
    let world = World::new();
    std::fs::create_dir_all(world.home.join("Existing")).unwrap();
    std::fs::create_dir_all(world.home.join("Papers")).unwrap();
    world.fix_owner();
    let dir = fixtures(
        &world,
        &[
            (
                "editor.profile",
                "# Description: A test editor\ninclude editor.local\ninclude common.inc\n\
                 whitelist ${HOME}/Existing\nwhitelist ${HOME}/Missing\nignore nosound\n\
                 include sound.inc\n",
            ),
            (
                "common.inc",
                "net none\nmkdir ${HOME}/.config/editor\nwhitelist ${HOME}/.config/editor\n\
                 whitelist ${HOME}/Papers\nread-only ${HOME}/Papers\nwhitelist ${HOME}/.ssh\n\
                 dbus-user filter\ndbus-user.own org.example.Editor\nprivate-bin editor\n",
            ),
            ("sound.inc", "nosound\nno3d\n"),
        ],
    );
    let out = world.home.join("out");
    let text = import_ok(
        &world,
        &[
            dir.join("editor.profile").to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert!(text.contains("(3 files read)"), "{text}");
    let file = std::fs::read_to_string(out.join("editor.toml")).unwrap();
    let common = dir.join("common.inc").display().to_string();
    assert!(file.contains(&format!("`net none` ({common}:1)")), "{file}");
    assert!(file.contains("description = \"A test editor\""), "{file}");
    assert!(
        file.contains(&format!("`private-bin editor` ({common}:9)")),
        "{file}"
    );
    assert!(file.contains("Missing (rw)"), "{file}");
    assert!(file.contains("'.ssh' exposes '.ssh'"), "{file}");
    let checked = world
        .boxtop(&["check", out.join("editor.toml").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(checked.status.success(), "{}", stdout(&checked));

    // Placed in the profile folder, it is a profile like any other.
    std::fs::create_dir_all(world.home.join(".config/boxtop/profiles")).unwrap();
    std::fs::copy(
        out.join("editor.toml"),
        world.home.join(".config/boxtop/profiles/editor.toml"),
    )
    .unwrap();
    world.fix_owner();
    let profile = shown(&world, "editor");
    assert_eq!(profile["network"], "none");
    // `ignore nosound` came before sound.inc: audio stays; no3d applies.
    assert_eq!(profile["audio"], "auto");
    assert_eq!(profile["gpu"], false);
    assert_eq!(
        shares(&profile),
        BTreeSet::from([
            (".config/editor".to_string(), "rw".to_string(), true),
            ("Papers".to_string(), "ro".to_string(), false),
            ("Existing".to_string(), "rw".to_string(), false),
        ])
    );
    assert_eq!(profile["dbus"]["own"][0], "org.example.Editor");
}

#[test]
fn an_existing_profile_is_replaced_only_with_force() {
    let world = World::new();
    let dir = fixtures(&world, &[("tool.profile", "net none\n")]);
    let file = dir.join("tool.profile");
    let out = world.home.join("out");
    let args = [file.to_str().unwrap(), "--output", out.to_str().unwrap()];
    import_ok(&world, &args);
    let written = out.join("tool.toml");
    std::fs::write(&written, "# mine\ncommand = [\"tool\"]\n").unwrap();
    let output = import(&world, &args);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("exists; --force replaces it"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(&written).unwrap(),
        "# mine\ncommand = [\"tool\"]\n"
    );
    let mut forced = args.to_vec();
    forced.push("--force");
    import_ok(&world, &forced);
    assert!(std::fs::read_to_string(&written)
        .unwrap()
        .contains("network = \"none\""));
    // A name boxtop cannot use is refused before anything is read.
    let output = import(&world, &[file.to_str().unwrap(), "--name", "Bad Name"]);
    assert!(
        stderr(&output).contains("'Bad Name' is not a valid profile name"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_broken_firejail_file_is_refused_with_its_file_and_line() {
    let world = World::new();
    let dir = fixtures(
        &world,
        &[
            ("broken.profile", "include broken.inc\n"),
            ("broken.inc", "nosound\n\n# fine so far\nnet\n"),
        ],
    );
    let out = world.home.join("out");
    let inc = dir.join("broken.inc").display().to_string();
    import_fails(
        &world,
        &[
            dir.join("broken.profile").to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        &out,
        &[&format!("{inc}:4: `net` needs an argument")],
    );
}

#[test]
fn an_include_loop_is_refused_with_the_loop() {
    let world = World::new();
    let dir = fixtures(
        &world,
        &[
            ("loop.profile", "include one.inc\n"),
            ("one.inc", "nosound\ninclude two.inc\n"),
            ("two.inc", "include one.inc\n"),
        ],
    );
    let out = world.home.join("out");
    import_fails(
        &world,
        &[
            dir.join("loop.profile").to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        &out,
        &["two.inc:1: the includes loop: one.inc -> two.inc -> one.inc"],
    );
}

#[test]
fn a_whitelist_reaching_outside_the_home_shares_nothing_there() {
    let world = World::new();
    let dir = fixtures(
        &world,
        &[(
            "escape.profile",
            "net none\nwhitelist ${HOME}/Documents/../../../etc\n",
        )],
    );
    let out = world.home.join("out");
    let file = dir.join("escape.profile").display().to_string();
    import_fails(
        &world,
        &[&file, "--output", out.to_str().unwrap()],
        &out,
        &[&format!("{file}:2: "), "leaves the home folder"],
    );

    // A folder of the home that is a symlink to outside it is listed, never shared.
    std::os::unix::fs::symlink("/etc", world.home.join("sneaky")).unwrap();
    let dir = fixtures(&world, &[("link.profile", "whitelist ${HOME}/sneaky\n")]);
    let text = import_ok(
        &world,
        &[
            dir.join("link.profile").to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert!(text.contains("~/sneaky is a symlink"), "{text}");
    let written = std::fs::read_to_string(out.join("link.toml")).unwrap();
    assert!(!written.contains("[[home.share]]"), "{written}");
}

/// Imports Firejail's profile `name` into the profile folder (over the bundled one) and
/// launches it under Xvfb with a session bus and a PulseAudio server, as a desktop has
/// them, until a window whose line in `xwininfo -root -tree` holds `needle` shows.
fn converted_app_shows_its_window(name: &str, args: &[&str], needle: &str) {
    crate::support::require(name, name);
    let desktop = crate::support::x11::Desktop::new();
    let world = &desktop.world;
    import_ok(world, &[name]);
    let mut all = vec![name, "--"];
    all.extend_from_slice(args);
    desktop.run_until_window(&all, needle);
    let plan = stdout(&world.boxtop(&["plan", name]).output().unwrap());
    println!("{name}: window seen; its plan:\n{plan}");
}

#[test]
fn converted_mousepad_shows_its_window_needs_firejail_profiles() {
    if has_firejail_profiles("converted_mousepad_shows_its_window") {
        converted_app_shows_its_window("mousepad", &[], "Mousepad");
    }
}

#[test]
fn converted_chromium_shows_its_window_needs_firejail_profiles() {
    if has_firejail_profiles("converted_chromium_shows_its_window") {
        converted_app_shows_its_window("chromium", &["--no-first-run", "about:blank"], "Chromium");
    }
}

#[test]
fn converted_firefox_esr_shows_its_window_needs_firejail_profiles() {
    if has_firejail_profiles("converted_firefox_esr_shows_its_window") {
        converted_app_shows_its_window(
            "firefox-esr",
            &["--new-instance", "about:blank"],
            "Firefox",
        );
    }
}
