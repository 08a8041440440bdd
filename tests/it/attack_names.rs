//! Attacks through names, as the unprivileged test user with the real binary: profile
//! files whose names climb out of the private homes folder (`..toml`, `...toml`), names
//! and values that carry terminal escape sequences, forged state files, and boxtop's
//! runtime folder removed under a running instance.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use boxtop::json_output::Schema;

use crate::support::json;
use crate::support::{stderr, stdout, wait_until, World};

/// Every path under `dir`, folders included.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

fn run(world: &World, args: &[&str]) -> Output {
    world.boxtop(args).output().expect("run boxtop")
}

/// The user's profile folder, made and given to the test user.
fn user_profiles(world: &World) -> PathBuf {
    let dir = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&dir).expect("mkdir profiles");
    dir
}

/// Fails the test if boxtop panicked or wrote a raw control character (other than
/// newline) to a terminal-bound stream.
fn assert_clean(what: &str, output: &Output) {
    let err = stderr(output);
    assert!(
        !err.contains("panicked") && output.status.code() != Some(101),
        "{what}: boxtop panicked: {err}"
    );
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        let raw: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .collect();
        assert!(
            raw.is_empty(),
            "{what}: raw control characters {raw:?} in {stream}:\n{}",
            text.escape_debug()
        );
    }
}

fn assert_refused(what: &str, output: &Output, needles: &[&str]) {
    assert_clean(what, output);
    assert!(
        !output.status.success(),
        "{what} succeeded:\nstdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
    let both = format!("{}{}", stdout(output), stderr(output));
    for needle in needles {
        assert!(both.contains(needle), "{what}: lacks {needle:?}:\n{both}");
    }
}

#[test]
fn dot_named_profile_files_are_refused_and_reach_no_folder_outside_the_homes() {
    let world = World::new();
    let data = world.home.join(".local/share/boxtop");
    let homes = data.join("homes");
    // Another profile's home, which `..toml` would get as its own, and boxtop's data
    // folder, which `...toml` would get.
    std::fs::create_dir_all(homes.join("victim")).expect("mkdir victim home");
    let dir = user_profiles(&world);
    // No `name` key: the file name is all the profile has for one.
    let body = "command = [\"/bin/sh\", \"-c\", \"echo planted > \\\"$HOME/planted\\\"\"]\n";
    let files: Vec<PathBuf> = ["..toml", "...toml"]
        .iter()
        .map(|name| {
            let path = dir.join(name);
            std::fs::write(&path, body).expect("write profile");
            path
        })
        .collect();
    world.fix_owner();
    let before = tree(&world.home);

    for file in &files {
        let path = file.to_str().unwrap();
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let named = format!("the profile name '{stem}', which is not a valid profile name");
        let needles = [path, named.as_str(), "1 to 63 lowercase letters"];
        let ran = run(&world, &["run", "--profile-file", path]);
        // What the app would have done with the folder it got as its home.
        for planted in [homes.join("planted"), data.join("planted")] {
            assert!(
                !planted.exists(),
                "run {path}: the sandbox wrote {} ({:?})",
                planted.display(),
                ran.status
            );
        }
        assert_refused(&format!("run {path}"), &ran, &needles);
        let ran = run(&world, &["run", "--detach", "--profile-file", path]);
        assert_refused(&format!("run --detach {path}"), &ran, &needles);
        let planned = run(&world, &["plan", "--profile-file", path]);
        assert_refused(&format!("plan {path}"), &planned, &needles);
        let checked = run(&world, &["check", path]);
        assert_refused(&format!("check {path}"), &checked, &needles);
    }
    let checked = run(&world, &["check"]);
    assert_refused("check (every profile)", &checked, &["..toml", "...toml"]);

    // Nothing ran: no file planted in the folder of every home, in boxtop's data folder
    // or anywhere else; nothing new outside the private homes folder.
    for path in [homes.join("planted"), data.join("planted")] {
        assert!(!path.exists(), "the sandbox wrote {}", path.display());
    }
    let after = tree(&world.home);
    let new: Vec<&PathBuf> = after.iter().filter(|path| !before.contains(path)).collect();
    assert!(
        new.iter().all(|path| path.starts_with(&homes)),
        "created outside {}: {new:?}",
        homes.display()
    );
    assert!(
        !after.iter().any(|path| path.ends_with("planted")),
        "{after:?}"
    );
}

#[test]
fn escape_sequences_in_names_and_values_never_reach_the_terminal() {
    let world = World::new();
    let dir = user_profiles(&world);
    // A file name holding an escape sequence, no `name` key.
    let esc_file = dir.join("a\x1b[31mb.toml");
    std::fs::write(&esc_file, "command = [\"/bin/true\"]\n").expect("write");
    // A `name` key with control characters (a window title change and a bell).
    let key_file = dir.join("key.toml");
    std::fs::write(
        &key_file,
        "name = \"x\\u001b]0;pwned\\u0007\"\ncommand = [\"/bin/true\"]\n",
    )
    .expect("write");
    // A valid profile whose values hold escapes: its description, a command that cannot
    // run (its failure is recorded and listed by ps).
    let loud_file = dir.join("loud.toml");
    std::fs::write(
        &loud_file,
        "name = \"loud\"\ndescription = \"\\u001b[2Jwiped \\u009b31mred\"\n\
         command = [\"/nonexistent/\\u001b[31mapp\", \"\\u001b]52;c;ZXZpbA==\\u0007\"]\n\
         [home]\nephemeral = true\n",
    )
    .expect("write");
    world.fix_owner();
    let esc = esc_file.to_str().unwrap();
    let key = key_file.to_str().unwrap();
    let loud = loud_file.to_str().unwrap();

    let checked = run(&world, &["check"]);
    assert_refused(
        "check",
        &checked,
        &["a\\e[31mb.toml", "'a\\e[31mb'", "not a valid profile name"],
    );
    let checked = run(&world, &["check", esc, key]);
    assert_refused(
        "check FILES",
        &checked,
        &["a\\e[31mb", "x\\e]0;pwned\\x07", "1 to 63"],
    );
    for file in [esc, key] {
        let ran = run(&world, &["run", "--detach", "--profile-file", file]);
        assert_refused(
            &format!("run {file:?}"),
            &ran,
            &["not a valid profile name"],
        );
        let planned = run(&world, &["plan", "--profile-file", file]);
        assert_refused(
            &format!("plan {file:?}"),
            &planned,
            &["not a valid profile name"],
        );
    }

    // The valid profile runs its course; what it holds is shown escaped everywhere.
    let listed = run(&world, &["list"]);
    assert_clean("list", &listed);
    assert!(stdout(&listed).contains("loud"), "{}", stdout(&listed));
    let shown = run(&world, &["show", "loud"]);
    assert_clean("show", &shown);
    assert!(
        stdout(&shown).contains("\\e[2Jwiped \\x9b31mred"),
        "{}",
        stdout(&shown)
    );
    let planned = run(&world, &["plan", "--profile-file", loud]);
    assert_clean("plan", &planned);
    assert!(
        stdout(&planned).contains("/nonexistent/\\e[31mapp \\e]52;c;ZXZpbA==\\x07"),
        "{}",
        stdout(&planned)
    );
    let ran = run(&world, &["run", "--detach", "loud"]);
    assert_refused("run --detach loud", &ran, &["/nonexistent/\\e[31mapp"]);
    let ps = run(&world, &["ps", "--all", "--interval", "0"]);
    assert_clean("ps", &ps);
    assert!(stdout(&ps).contains("\\e[31mapp"), "{}", stdout(&ps));
    // JSON stays JSON, its strings escaped by JSON's own rules.
    let json = run(&world, &["ps", "--all", "--json", "--interval", "0"]);
    assert_clean("ps --json", &json);
    let statuses = json::data(Schema::PS, &json);
    assert!(
        statuses.to_string().contains("\\u001b[31mapp"),
        "{statuses}"
    );
    let shown = run(&world, &["show", "loud", "--json"]);
    assert_clean("show --json", &shown);
    let profile = json::data(Schema::SHOW, &shown);
    assert_eq!(
        profile["profile"]["description"],
        "\u{1b}[2Jwiped \u{9b}31mred"
    );
    // Names given on the command line are escaped back, and make no path.
    for args in [
        ["stop", "\x1b[31m"],
        ["logs", "../x"],
        ["show", "\x1b]0;t\x07"],
        ["enter", ".."],
    ] {
        let output = run(&world, &args);
        assert_refused(&format!("{args:?}"), &output, &[]);
    }
}

#[test]
fn forged_state_files_are_reported_not_listed_or_printed_raw() {
    let world = World::new();
    let store = world.runtime_dir.join("boxtop");
    std::fs::create_dir_all(&store).expect("mkdir store");
    let record = |id: &str, profile: &str| {
        serde_json::json!({
            "id": id, "profile": profile, "origin": "cli", "detached": true,
            "supervisor": { "pid": 1, "start": 1 }, "init": null, "pid_ns": null,
            "own_network": true, "cgroup": null, "limit_notes": [], "log": null,
            "env": [], "cwd": "/", "allow_userns": false, "started_at": 1,
            "ended_at": 2, "phase": { "phase": "exited", "code": 0 }
        })
        .to_string()
    };
    std::fs::write(store.join("esc.json"), record("esc", "a\x1b[31mb")).expect("write");
    std::fs::write(store.join("up.json"), record("../../../x", "ok")).expect("write");
    world.fix_owner();

    let ps = run(&world, &["ps", "--all", "--interval", "0"]);
    assert_clean("ps", &ps);
    assert!(ps.status.success(), "{}", stderr(&ps));
    let listed = stdout(&ps);
    assert!(
        !listed.contains("esc") && !listed.contains("../"),
        "forged records are listed:\n{listed}"
    );
    let warned = stderr(&ps);
    assert!(
        warned.contains("esc.json") && warned.contains("up.json"),
        "{warned}"
    );
    let json = run(&world, &["ps", "--all", "--json", "--interval", "0"]);
    assert_clean("ps --json", &json);
    assert_eq!(json::instances(&json), Vec::<serde_json::Value>::new());
}

#[test]
fn the_runtime_folder_removed_under_a_running_instance_comes_back_private() {
    let world = World::new();
    let gate = world.home.join("gate");
    std::fs::create_dir_all(&gate).expect("mkdir gate");
    let profile = world.profile(
        "gated",
        "command = [\"/bin/sh\", \"-c\", \"while [ ! -e \\\"$HOME/gate/go\\\" ]; do sleep 0.05; done\"]\n\
         [home]\nephemeral = true\n[[home.share]]\npath = \"gate\"\nmode = \"ro\"\n",
    );
    world.fix_owner();
    let store = world.runtime_dir.join("boxtop");
    let id = world.detach(&["--profile-file", profile.to_str().unwrap()]);
    let state_file = store.join(format!("{id}.json"));
    assert!(state_file.exists(), "{} is missing", state_file.display());

    // The instance's supervisor may write in the folder while it goes (its keeper notes):
    // removing it is tried again until nothing is left, as a cleaner would.
    let mut tries = 0;
    while let Err(error) = std::fs::remove_dir_all(&store) {
        tries += 1;
        assert!(
            tries < 50 && error.kind() == std::io::ErrorKind::DirectoryNotEmpty,
            "remove the runtime folder: {error}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The app ends; its supervisor records the end, making the folder again.
    std::fs::write(gate.join("go"), "").expect("open the gate");
    wait_until(
        "the supervisor to record the end",
        Duration::from_secs(20),
        || {
            std::fs::read(&state_file)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .is_some_and(|record| record["phase"]["phase"] == "exited")
        },
    );
    let mode = std::fs::metadata(&store)
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(
        mode,
        0o700,
        "{} was made again with mode {mode:o}",
        store.display()
    );
}
