//! The TUI's instance view end to end: the real binary in a tmux pane of the test user,
//! over a real running sandbox. A folder shared there (typed with Tab completion) is seen
//! from inside the app at once, and taken back from there it is gone again.

use std::time::Duration;

use crate::support::tmux::Tmux;
use crate::support::{assert_probe_ok, stdout, wait_until, World};

const PROMPT: &str = "tuiv$ ";

/// The `WORD NS` line of the watcher's log, once it is there.
fn watched(world: &World, id: &str, word: &str) {
    wait_until(
        &format!("the app inside to print {word}"),
        Duration::from_secs(10),
        || {
            let logs = stdout(&world.boxtop(&["logs", id]).output().expect("boxtop logs"));
            logs.lines().any(|line| line.starts_with(word))
        },
    );
}

#[test]
fn a_share_toggled_in_the_instance_view_is_seen_inside_the_app() {
    let world = World::new();
    std::fs::create_dir_all(world.home.join("Documents")).unwrap();
    let live = world.home.join("livefolder");
    std::fs::create_dir_all(&live).unwrap();
    std::fs::write(live.join("note.txt"), "from the host").unwrap();
    world.fix_owner();
    let profile = world.probe_profile(
        "watcher",
        "network = \"none\"",
        "[[home.share]]\npath = \"Documents\"\nmode = \"rw\"\n",
    );
    // Also a profile of the user's, which the view reads the instance's grants from.
    let profiles = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::copy(&profile, profiles.join("watcher.toml")).unwrap();
    world.fix_owner();
    let note = live.join("note.txt").display().to_string();
    let id = world.detach(&[
        "--profile-file",
        profile.to_str().unwrap(),
        "--",
        "watch-path",
        &note,
    ]);
    let term = Tmux::new(world, "tui-instance");
    let world = &term.world;
    term.start("/bin/sh", &[], &[("SHELL", "/bin/sh"), ("PS1", PROMPT)]);
    term.wait_for("the shell's prompt", Duration::from_secs(10), |screen| {
        screen.lines().any(|line| line == PROMPT.trim_end())
    });
    term.type_text(&world.bin.join("boxtop").display().to_string());
    term.keys(&["Enter"]);
    term.wait_for("the TUI", Duration::from_secs(10), |screen| {
        screen.contains("┌ Instances") && screen.contains("watcher ") && screen.contains("running")
    });

    term.keys(&["Tab", "i"]);
    term.wait_for("the instance view", Duration::from_secs(5), |screen| {
        screen.contains("what it may reach now") && screen.contains("~/Documents")
    });
    term.keys(&["+"]);
    term.type_text("livef");
    term.keys(&["Tab"]);
    term.wait_for("the path completed", Duration::from_secs(5), |screen| {
        screen.contains("livefolder/")
    });
    term.keys(&["Enter"]);
    term.wait_for("the live share listed", Duration::from_secs(10), |screen| {
        screen.contains("+ ~/livefolder")
    });
    watched(world, &id, "appeared");
    let probe = world.probe_path().display().to_string();
    let inside = world
        .boxtop(&[
            "enter",
            &id,
            "--",
            &probe,
            "read-file",
            &note,
            "from the host",
        ])
        .output()
        .unwrap();
    assert_probe_ok(&inside, 1);

    // The live share is selected after it is made: `-` takes it back.
    term.keys(&["-"]);
    term.wait_for(
        "the share gone from the view",
        Duration::from_secs(10),
        |screen| !screen.contains("+ ~/livefolder"),
    );
    watched(world, &id, "gone");
    term.keys(&["Escape", "q"]);
}

#[test]
fn a_file_opened_from_the_instance_view_reaches_the_running_app() {
    let world = World::new();
    std::fs::create_dir_all(world.home.join("Documents")).unwrap();
    std::fs::create_dir_all(world.home.join("notes")).unwrap();
    std::fs::write(world.home.join("notes/todo.txt"), "buy milk").unwrap();
    // The app: waits when started with `wait`; given a file, copies it into Documents.
    let text = "command = [\"/bin/sh\", \"-c\", \"if [ \\\"$0\\\" = wait ]; then exec sleep 600; \
                else cat \\\"$0\\\" > $HOME/Documents/seen.txt; fi\"]\nforward_files = false\n\
                network = \"none\"\n[home]\nephemeral = true\n[[home.share]]\npath = \"Documents\"\n\
                mode = \"rw\"\n";
    let profiles = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let profile = profiles.join("opener.toml");
    std::fs::write(&profile, text).unwrap();
    world.fix_owner();
    let id = world.detach(&["--profile-file", profile.to_str().unwrap(), "--", "wait"]);
    let term = Tmux::new(world, "tui-open");
    let world = &term.world;
    term.start("/bin/sh", &[], &[("SHELL", "/bin/sh"), ("PS1", PROMPT)]);
    term.wait_for("the shell's prompt", Duration::from_secs(10), |screen| {
        screen.lines().any(|line| line == PROMPT.trim_end())
    });
    term.type_text(&world.bin.join("boxtop").display().to_string());
    term.keys(&["Enter"]);
    term.wait_for("the TUI", Duration::from_secs(10), |screen| {
        screen.contains("┌ Instances") && screen.contains("opener ") && screen.contains("running")
    });
    term.keys(&["Tab", "i"]);
    term.wait_for("the instance view", Duration::from_secs(5), |screen| {
        screen.contains("what it may reach now") && screen.contains("~/Documents")
    });
    term.keys(&["o"]);
    term.type_text("~/notes/to");
    term.keys(&["Tab"]);
    term.wait_for("the path completed", Duration::from_secs(5), |screen| {
        screen.contains("~/notes/todo.txt")
    });
    term.keys(&["Enter"]);
    term.wait_for(
        "the file listed as forwarded",
        Duration::from_secs(10),
        |screen| screen.contains("+ ~/notes/todo.txt"),
    );
    let seen = world.home.join("Documents/seen.txt");
    wait_until("the app to copy the file", Duration::from_secs(10), || {
        std::fs::read_to_string(&seen).is_ok_and(|text| text == "buy milk")
    });
    let listed = world.ps();
    let entry = listed.iter().find(|s| s["id"] == id.as_str()).unwrap();
    assert_eq!(
        entry["shares_added"][0]["path"], "notes/todo.txt",
        "{entry}"
    );
    assert_eq!(entry["shares_added"][0]["added"], "argument", "{entry}");
    term.keys(&["Escape", "q"]);
}
