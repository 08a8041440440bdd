//! Shares added to and removed from a running sandbox: `boxtop share` and `unshare` seen
//! from inside while the app keeps running, read-only shares, refusals of secrets and of
//! the private homes, symlinks planted by the app steering nothing, and `--save`.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::{assert_ok, assert_probe_ok, stderr, stdout, wait_until, KillOnDrop, World};

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The probe run by `boxtop enter ID -- probe ARGS...` inside the running instance.
fn inside(world: &World, id: &str, args: &[&str]) -> Output {
    let probe = world.probe_path().display().to_string();
    let mut all = vec!["enter", id, "--", probe.as_str()];
    all.extend_from_slice(args);
    world.boxtop(&all).output().expect("run boxtop enter")
}

fn logs(world: &World, id: &str) -> String {
    stdout(&world.boxtop(&["logs", id]).output().expect("boxtop logs"))
}

/// The `WORD NS` line of the watcher's log, once it is there.
fn watched(world: &World, id: &str, word: &str) -> u128 {
    let mut at = None;
    wait_until(
        &format!("the watcher to print {word}"),
        Duration::from_secs(10),
        || {
            at = logs(world, id)
                .lines()
                .find_map(|line| line.strip_prefix(word)?.trim().parse::<u128>().ok());
            at.is_some()
        },
    );
    at.unwrap()
}

fn share(world: &World, args: &[&str]) -> Output {
    let mut all = vec!["share"];
    all.extend_from_slice(args);
    world.boxtop(&all).output().expect("run boxtop share")
}

fn unshare(world: &World, args: &[&str]) -> Output {
    let mut all = vec!["unshare"];
    all.extend_from_slice(args);
    world.boxtop(&all).output().expect("run boxtop unshare")
}

/// A running probe profile (sharing only Documents) that watches `~/live`, which the
/// host does not have yet when it starts.
fn watching(world: &World) -> String {
    std::fs::create_dir_all(world.home.join("Documents")).unwrap();
    world.fix_owner();
    let profile = world.probe_profile(
        "watcher",
        "network = \"none\"",
        "[[home.share]]\npath = \"Documents\"\nmode = \"rw\"\n",
    );
    let live = world.home.join("live").display().to_string();
    world.detach(&[
        "--profile-file",
        profile.to_str().unwrap(),
        "--",
        "watch-path",
        &live,
    ])
}

#[test]
fn a_share_appears_in_the_running_sandbox_and_goes_with_unshare() {
    let world = World::new();
    let id = watching(&world);
    let _guard = KillOnDrop(&world, id.clone());
    let live = world.home.join("live");
    std::fs::create_dir_all(&live).unwrap();
    std::fs::write(live.join("note.txt"), "from the host").unwrap();
    world.fix_owner();
    let note = live.join("note.txt").display().to_string();
    // Not there before.
    assert_probe_ok(&inside(&world, &id, &["absent", &note]), 1);

    let before = now_ns();
    let output = share(&world, &[&id, "~/live"]);
    assert_ok(&output, "boxtop share");
    let appeared = watched(&world, &id, "appeared");
    eprintln!(
        "share to visible inside: {:.1} ms (boxtop share printed: {})",
        (appeared.saturating_sub(before)) as f64 / 1e6,
        stdout(&output).trim()
    );
    assert!(
        stdout(&output).contains("read-write"),
        "{}",
        stdout(&output)
    );
    assert_probe_ok(
        &inside(&world, &id, &["read-file", &note, "from the host"]),
        1,
    );
    let written = live.join("written.txt").display().to_string();
    assert_probe_ok(&inside(&world, &id, &["write-file", &written, "inside"]), 1);
    assert_eq!(
        std::fs::read_to_string(live.join("written.txt")).unwrap(),
        "inside"
    );

    assert_ok(&unshare(&world, &[&id, "~/live"]), "boxtop unshare");
    watched(&world, &id, "gone");
    // The app runs on; the read-only share.
    assert_probe_ok(&inside(&world, &id, &["absent", &note]), 1);
    assert_ok(
        &share(&world, &[&id, "~/live", "--ro"]),
        "boxtop share --ro",
    );
    assert_probe_ok(
        &inside(&world, &id, &["read-file", &note, "from the host"]),
        1,
    );
    assert_probe_ok(&inside(&world, &id, &["write-denied", &note]), 1);
    let running = world.ps();
    assert!(
        running
            .iter()
            .any(|s| s["id"] == id.as_str() && s["state"]["state"] == "running"),
        "the app kept running: {running:?}"
    );
    assert_eq!(
        std::fs::read_to_string(live.join("note.txt")).unwrap(),
        "from the host"
    );
    // Unsharing what is not shared says so.
    let output = unshare(&world, &[&id, "~/Music"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("was not shared"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn secrets_the_home_and_private_homes_are_never_shared_live() {
    let world = World::new();
    for dir in [".ssh", ".local/share/boxtop/homes/other"] {
        std::fs::create_dir_all(world.home.join(dir)).unwrap();
    }
    std::fs::write(world.home.join(".ssh/id_rsa"), "KEY-OF-LIVE").unwrap();
    let id = watching(&world);
    let _guard = KillOnDrop(&world, id.clone());
    for (path, what) in [
        ("~/.ssh", "holds secrets"),
        ("~/.ssh/id_rsa", "holds secrets"),
        (
            "~/.local/share/boxtop/homes/other",
            "exposes '.local/share/boxtop'",
        ),
        (
            "~/.local/share/boxtop/homes",
            "exposes '.local/share/boxtop'",
        ),
        ("~", "your home folder"),
        ("/etc", "not in your home"),
    ] {
        let output = share(&world, &[&id, path]);
        assert!(
            !output.status.success(),
            "{path}: shared\n{}",
            stdout(&output)
        );
        assert!(
            stderr(&output).contains(what),
            "{path}: {}",
            stderr(&output)
        );
    }
    let key = world.home.join(".ssh/id_rsa").display().to_string();
    assert_probe_ok(&inside(&world, &id, &["absent", &key]), 1);
}

#[test]
fn symlinks_the_app_plants_do_not_steer_a_live_share() {
    let world = World::new();
    std::fs::create_dir_all(world.home.join(".ssh")).unwrap();
    std::fs::write(world.home.join(".ssh/id_rsa"), "KEY-OF-LIVE").unwrap();
    let id = watching(&world);
    let _guard = KillOnDrop(&world, id.clone());
    // In its private home, where the mount point will be: `~/live -> /` (a folder it may
    // not write); the host's ~/live is a real folder.
    let live = world.home.join("live");
    assert_probe_ok(
        &inside(
            &world,
            &id,
            &["plant-symlink", "/oldroot", &live.display().to_string()],
        ),
        1,
    );
    std::fs::create_dir_all(&live).unwrap();
    world.fix_owner();
    let output = share(&world, &[&id, "~/live"]);
    assert!(!output.status.success(), "shared\n{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.contains(&live.display().to_string())
            && err.contains("live is a symlink (to /oldroot) inside the sandbox"),
        "the error names the symlink: {err}"
    );
    // In a read-write share, on the host side: `~/Documents/keys -> ../.ssh`.
    let keys = world.home.join("Documents/keys");
    assert_probe_ok(
        &inside(
            &world,
            &id,
            &["plant-symlink", "../.ssh", &keys.display().to_string()],
        ),
        1,
    );
    let output = share(&world, &[&id, "~/Documents/keys/id_rsa"]);
    assert!(!output.status.success(), "shared\n{}", stdout(&output));
    assert!(
        stderr(&output).contains("Documents/keys is a symlink (to ../.ssh)"),
        "{}",
        stderr(&output)
    );
    let key = world
        .home
        .join("Documents/keys/id_rsa")
        .display()
        .to_string();
    assert_probe_ok(
        &inside(&world, &id, &["lacks-text", &key, "KEY-OF-LIVE"]),
        1,
    );
}

#[test]
fn share_save_adds_the_share_to_the_profile_keeping_its_comments() {
    let world = World::new();
    std::fs::create_dir_all(world.home.join("Documents")).unwrap();
    std::fs::create_dir_all(world.home.join("live")).unwrap();
    let profiles = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let file = profiles.join("keeper.toml");
    let text = format!(
        "# my watcher, kept by hand\nname = \"keeper\"\ncommand = [\"{}\", \"hold-memory\", \"1\"] # the probe\nnetwork = \"none\"\n\n[[home.share]]\npath = \"probe-bin\" # its program\n",
        world.probe_path().display()
    );
    std::fs::write(&file, &text).unwrap();
    world.fix_owner();
    let id = world.detach(&["keeper"]);
    let _guard = KillOnDrop(&world, id.clone());
    let output = share(&world, &["keeper", "live", "--ro", "--save"]);
    assert_ok(&output, "boxtop share --save");
    let saved = std::fs::read_to_string(&file).unwrap();
    for kept in ["# my watcher, kept by hand", "# the probe", "# its program"] {
        assert!(saved.contains(kept), "{kept:?} lost:\n{saved}");
    }
    assert!(
        saved.contains("[[home.share]]\npath = \"live\"\nmode = \"ro\""),
        "{saved}"
    );
    assert_ok(&world.boxtop(&["check"]).output().unwrap(), "boxtop check");
    let _ = Path::new(&file);
}

/// What an instance has beyond its profile is part of its state: a forwarded file and a
/// live share are listed by `ps --json` and `show ID`, and a share taken back is not.
#[test]
fn ps_and_show_list_what_an_instance_has_beyond_its_profile() {
    let world = World::new();
    for dir in ["Documents", "notes", "live"] {
        std::fs::create_dir_all(world.home.join(dir)).unwrap();
    }
    std::fs::write(world.home.join("notes/todo.txt"), "todo").unwrap();
    world.fix_owner();
    let profile = world.probe_profile("grants", "network = \"none\"\nforward_files = true", "");
    let todo = world.home.join("notes/todo.txt").display().to_string();
    let id = world.detach(&[
        "--profile-file",
        profile.to_str().unwrap(),
        "--",
        "watch-path",
        &todo,
    ]);
    let _guard = KillOnDrop(&world, id.clone());
    assert_ok(&share(&world, &[&id, "~/live", "--ro"]), "boxtop share");
    let entry = world
        .ps()
        .into_iter()
        .find(|status| status["id"] == id.as_str())
        .expect("the instance in ps");
    assert_eq!(
        entry["shares_added"],
        serde_json::json!([
            {"path": "notes/todo.txt", "mode": "rw", "added": "argument", "made_mount_point": false},
            {"path": "live", "mode": "ro", "added": "live", "made_mount_point": true},
        ]),
        "{entry}"
    );
    let shown = stdout(&world.boxtop(&["show", &id]).output().unwrap());
    assert!(
        shown.contains("~/notes/todo.txt") && shown.contains("forwarded"),
        "{shown}"
    );
    assert!(
        shown.contains("~/live") && shown.contains("read-only"),
        "{shown}"
    );
    assert_ok(&unshare(&world, &[&id, "~/live"]), "boxtop unshare");
    let shown = stdout(&world.boxtop(&["show", &id, "--json"]).output().unwrap());
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(
        shown["shares_added"].as_array().map(Vec::len),
        Some(1),
        "{shown}"
    );
}
