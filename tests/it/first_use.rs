//! What a first-time user trips on (issue 21), the command line's side: D-Bus names two
//! profiles own, ...

use std::path::PathBuf;
use std::time::Duration;

use crate::support::instances::Box;
use crate::support::world::chown_tree;
use crate::support::{require, stderr, stdout, SessionBus, World};

/// Writes the user profile `name` (in `~/.config/boxtop/profiles`), given the body after
/// its name.
fn user_profile(world: &World, name: &str, body: &str) -> PathBuf {
    let dir = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("name = \"{name}\"\n{body}")).unwrap();
    chown_tree(&world.home.join(".config"), world.uid, world.gid);
    path
}

/// A profile running `script` with /bin/sh in an ephemeral home, owning `own`.
fn owning_profile(world: &World, name: &str, script: &str, own: &str) -> PathBuf {
    user_profile(
        world,
        name,
        &format!(
            "command = [\"/bin/sh\", \"-c\", \"{script}\"]\nnetwork = \"none\"\n\
             [home]\nephemeral = true\n[dbus]\nown = [{own}]\n"
        ),
    )
}

#[test]
fn a_launch_is_refused_while_another_profiles_sandbox_owns_its_dbus_name() {
    require("xdg-dbus-proxy", "xdg-dbus-proxy");
    let dbus_send = require("dbus-send", "dbus-bin");
    let mut b = Box::new();
    let _bus = SessionBus::start(&mut b.world);
    let world = &b.world;
    // A service that keeps the name while it runs, as a single-instance app does.
    let echo = require("dbus-test-tool", "dbus-tests");
    owning_profile(
        world,
        "holder",
        &format!("exec {} echo --name=org.example.Single", echo.display()),
        "\"org.example.Single\"",
    );
    // A copy owning the name through a wildcard, as an edited copy may.
    owning_profile(world, "copy", "echo copy ran", "\"org.example.*\"");
    owning_profile(world, "other", "echo other ran", "\"org.example2.Other\"");

    let id = world.detach(&["holder"]);
    let has_owner = || {
        let out = world
            .command(&dbus_send)
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.example.Single",
            ])
            .output()
            .unwrap();
        stdout(&out).contains("boolean true")
    };
    let start = std::time::Instant::now();
    while !has_owner() {
        let log = world.boxtop(&["logs", &id]).output().unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the holder's sandbox did not take org.example.Single; its log:\n{}{}",
            stdout(&log),
            stderr(&log)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let copy = world.boxtop(&["run", "copy"]).output().unwrap();
    let said = stderr(&copy);
    assert_eq!(
        copy.status.code(),
        Some(1),
        "a launch owning a name a running sandbox of another profile owns was not refused\n\
         stdout:\n{}\nstderr:\n{said}",
        stdout(&copy)
    );
    assert!(
        !stdout(&copy).contains("copy ran"),
        "the refused app ran: {}",
        stdout(&copy)
    );
    for needed in [
        "org.example.*",
        &id,
        "profile 'holder'",
        &format!("boxtop stop {id}"),
        "--new-instance does not help",
    ] {
        assert!(
            said.contains(needed),
            "the refusal does not say {needed:?}:\n{said}"
        );
    }
    // The holder was left alone, and a profile owning other names still runs.
    assert!(has_owner(), "the holder lost its name");
    let other = world.boxtop(&["run", "other"]).output().unwrap();
    assert!(
        other.status.success() && stdout(&other).contains("other ran"),
        "a profile owning other names was refused: {}",
        stderr(&other)
    );

    // `check` names the pair, and only that pair.
    let check = world.boxtop(&["check"]).output().unwrap();
    let report = stdout(&check);
    let warnings: Vec<&str> = report
        .lines()
        .filter(|line| line.starts_with("warning") && !line.contains("firefox"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "check should warn of holder and copy only:\n{report}"
    );
    assert!(
        warnings[0].contains("'copy' and 'holder'") && warnings[0].contains("org.example.*"),
        "check's warning: {}",
        warnings[0]
    );
}

/// `boxtop ARGS` as the test user, which must succeed: its stdout.
fn ok(world: &World, args: &[&str]) -> String {
    let out = world.boxtop(args).output().unwrap();
    assert!(
        out.status.success(),
        "boxtop {args:?}: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn an_edited_bundled_profile_is_saved_as_its_changes_shown_and_reset() {
    let world = World::new();
    // The "editor": changes the display and the network of the copy it is given.
    let editor = world.root.path().join("edit.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i -e 's/^display = \"auto\"/display = \"x11\"/' \
         -e 's/^network = \"none\"/network = \"isolated\"/' \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = world
        .boxtop(&["edit", "mousepad"])
        .env("EDITOR", &editor)
        .output()
        .unwrap();
    assert!(out.status.success(), "edit: {}", stderr(&out));
    let file = world.home.join(".config/boxtop/profiles/mousepad.toml");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        saved.contains("extends = \"mousepad\"")
            && saved.contains("display = \"x11\"")
            && saved.contains("network = \"isolated\""),
        "the override is not `extends` plus the changes:\n{saved}"
    );
    for inherited in ["command", "binaries", "Documents", "org.xfce.mousepad"] {
        assert!(
            !saved.contains(inherited),
            "the override copies the unchanged {inherited}:\n{saved}"
        );
    }
    // A comment of a changed key stays with it.
    assert!(saved.contains("# Display, Wayland"), "{saved}");

    let shown = ok(&world, &["show", "mousepad"]);
    assert!(
        shown.contains("changed    display, network"),
        "show does not mark the changes:\n{shown}"
    );
    let listed = ok(&world, &["list"]);
    let line = listed.lines().find(|l| l.starts_with("mousepad ")).unwrap();
    assert!(line.contains("[changed: display, network]"), "list: {line}");

    let said = ok(&world, &["reset", "mousepad", "display"]);
    assert!(said.contains("still sets network"), "{said}");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        !saved.contains("display") && saved.contains("network = \"isolated\""),
        "{saved}"
    );
    let shown = ok(&world, &["show", "mousepad", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(json["changed_from_bundled"], serde_json::json!(["network"]));
    assert_eq!(json["profile"]["display"], "auto");

    // A key the override does not change: said, nothing touched.
    let out = world
        .boxtop(&["reset", "mousepad", "gpu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("does not change `gpu`; it changes: network"),
        "{}",
        stderr(&out)
    );
    ok(&world, &["reset", "mousepad"]);
    assert!(!file.exists(), "reset left the override");
    let out = world.boxtop(&["reset", "mousepad"]).output().unwrap();
    assert!(
        stderr(&out).contains("not an override of a bundled profile"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn show_says_a_missing_share_folder_stops_the_launch_as_run_does() {
    let world = World::new();
    user_profile(
        &world,
        "music",
        "command = [\"/bin/true\"]\nnetwork = \"none\"\n[home]\nephemeral = true\n\
         [[home.share]]\npath = \"Music\"\nmode = \"ro\"\n",
    );
    let shown = ok(&world, &["show", "music"]);
    let run = world.boxtop(&["run", "music"]).output().unwrap();
    assert!(!run.status.success(), "run started without ~/Music");
    let refused = stderr(&run);
    let music = world.home.join("Music");
    let expected = format!("{} does not exist (create it", music.display());
    assert!(refused.contains(&expected), "run: {refused}");
    assert!(
        !shown.contains("everything it is granted is available"),
        "show says all is available, run refuses:\n{shown}\nrun: {refused}"
    );
    let line = shown
        .lines()
        .find(|line| line.contains("cannot run"))
        .unwrap_or_else(|| panic!("show names nothing that stops the launch:\n{shown}"));
    assert!(line.contains(&expected), "show: {line}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&world, &["show", "music", "--json"])).unwrap();
    assert_eq!(json["missing_here"][0]["grant"], "home.share", "{json}");

    // Made, both agree it can run.
    std::fs::create_dir(&music).unwrap();
    chown_tree(&music, world.uid, world.gid);
    let shown = ok(&world, &["show", "music"]);
    assert!(
        shown.contains("everything it is granted is available"),
        "{shown}"
    );
    ok(&world, &["run", "music"]);
}

#[test]
fn a_one_off_launch_takes_its_grants_from_flags_and_prints_its_profile() {
    let world = World::new();
    let music = world.home.join("Music");
    let notes = world.home.join("notes");
    for dir in [&music, &notes] {
        std::fs::create_dir(dir).unwrap();
        std::fs::write(dir.join("in.txt"), "from the host\n").unwrap();
    }
    chown_tree(&world.home, world.uid, world.gid);
    // No profile: the command after `--`, granted only what the flags say.
    let script = "cat ~/Music/in.txt; echo written > ~/notes/out.txt; \
                  if echo no > ~/Music/out.txt 2>/dev/null; then echo music-writable; fi";
    let out = world
        .boxtop(&[
            "run",
            "--share",
            "~/Music",
            "--share",
            "notes:rw",
            "--network",
            "none",
            "--",
            "/bin/sh",
            "-c",
            script,
        ])
        .output()
        .unwrap();
    let said = stdout(&out);
    assert!(
        out.status.success(),
        "one-off run: {:?}\n{said}{}",
        out.status,
        stderr(&out)
    );
    assert!(
        said.contains("from the host"),
        "the share is not visible: {said}"
    );
    assert!(
        !said.contains("music-writable"),
        "~/Music is writable: {said}"
    );
    assert_eq!(
        std::fs::read_to_string(notes.join("out.txt")).unwrap(),
        "written\n"
    );
    assert!(!music.join("out.txt").exists());
    // A share the profile checks refuse in a file is refused as a flag too.
    let out = world
        .boxtop(&["run", "--share", "~/.ssh", "--", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("holds secrets"), "{}", stderr(&out));

    // On a named profile, printed to keep: it extends it, and runs again by name.
    user_profile(
        &world,
        "lister",
        "command = [\"/bin/ls\"]\nnetwork = \"none\"\n[home]\nephemeral = true\n",
    );
    let printed = ok(
        &world,
        &[
            "run",
            "--print-profile",
            "--share",
            "~/Music",
            "--network",
            "isolated",
            "lister",
        ],
    );
    assert!(
        printed.contains("extends = \"lister\"")
            && printed.contains("network = \"isolated\"")
            && printed.contains("path = \"Music\""),
        "{printed}"
    );
    user_profile(
        &world,
        "kept",
        &printed.replace("name = \"lister-oneoff\"\n", ""),
    );
    let listed = ok(&world, &["run", "kept", "--", "Music"]);
    assert!(listed.contains("in.txt"), "the kept profile: {listed}");
}

#[test]
fn desktop_install_shims_writes_wrappers_that_run_sandboxed_and_removes_only_its_own() {
    let world = World::new();
    user_profile(
        &world,
        "hello",
        "command = [\"/bin/sh\", \"-c\", \"echo hello from $(cat /proc/1/comm) \\\"$@\\\"\", \"sh\"]\n\
         [home]\nephemeral = true\n",
    );
    user_profile(&world, "mine", "command = [\"/bin/true\"]\n");
    let bin = world.home.join(".local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let own = bin.join("mine");
    std::fs::write(&own, "#!/bin/sh\necho the user's own\n").unwrap();
    chown_tree(&world.home, world.uid, world.gid);

    let out = world
        .boxtop(&["desktop", "install", "--all", "--shims"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    let shim = bin.join("hello");
    assert!(
        said.contains(&format!("installed a shim: {}", shim.display())),
        "{said}"
    );
    assert!(said.contains("no shim for 'mine'"), "{said}");
    assert_eq!(
        std::fs::read_to_string(&own).unwrap(),
        "#!/bin/sh\necho the user's own\n",
        "a file boxtop did not write was replaced"
    );
    // The world's PATH lacks ~/.local/bin: said.
    assert!(
        stderr(&out).contains(&format!("{} is not in your PATH", bin.display())),
        "{}",
        stderr(&out)
    );
    // Typed in a terminal, the shim runs the app in its sandbox (pid 1 is boxtop's init,
    // an instance of the profile is recorded), with the arguments given.
    let ran = world.command(&shim).arg("world").output().unwrap();
    assert!(ran.status.success(), "{}", stderr(&ran));
    assert_eq!(stdout(&ran), "hello from boxtop-init world\n");
    assert!(
        world.ps().iter().any(|s| s["profile"] == "hello"),
        "no sandbox of 'hello' ran: {:?}",
        world.ps()
    );

    let out = ok(&world, &["desktop", "remove", "--all"]);
    assert!(
        out.contains(&format!("removed {}", shim.display())),
        "{out}"
    );
    assert!(!shim.exists(), "the shim stayed");
    assert!(own.exists(), "the user's own file was removed");
}

#[test]
fn logs_of_a_profile_whose_instance_ended_shows_its_latest_instance() {
    let b = Box::new();
    let profile = b.sh_profile("quick", "echo first run", "");
    let first = b.detach(&profile);
    crate::support::wait_until("the first run to end", Duration::from_secs(10), || {
        b.state(&first) == "exited"
    });
    let profile = b.sh_profile("quick", "echo second run", "");
    let second = b.detach(&profile);
    crate::support::wait_until("the second run to end", Duration::from_secs(10), || {
        b.state(&second) == "exited"
    });
    let out = b.world.boxtop(&["logs", "quick"]).output().unwrap();
    assert!(
        out.status.success(),
        "logs PROFILE after it ended: {}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("second run") && !stdout(&out).contains("first run"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(&format!(
            "the log of its latest, {second} (exited with code 0)"
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_mistyped_profile_gets_a_suggestion_and_plan_explains_pinned() {
    let world = World::new();
    let out = world.boxtop(&["run", "firefx"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no profile named 'firefx' (did you mean firefox"),
        "{}",
        stderr(&out)
    );
    std::fs::create_dir(world.home.join("Music")).unwrap();
    chown_tree(&world.home, world.uid, world.gid);
    user_profile(
        &world,
        "music",
        "command = [\"/bin/true\"]\n[home]\n[[home.share]]\npath = \"Music\"\n",
    );
    let plan = ok(&world, &["plan", "music"]);
    assert!(plan.contains(" (pinned)\n"), "{plan}");
    assert!(
        plan.contains("\n(pinned): the source is opened"),
        "plan does not explain (pinned):\n{plan}"
    );
}

#[test]
fn the_gpu_warning_is_said_once_per_session_on_a_host_without_gpu() {
    if std::path::Path::new("/dev/dri").exists() {
        eprintln!("skipped: this host has /dev/dri, so a GPU grant draws no warning");
        return;
    }
    let world = World::new();
    user_profile(
        &world,
        "drawing",
        "command = [\"/bin/true\"]\ngpu = true\n[home]\nephemeral = true\n",
    );
    let warning = "warning: gpu grant: no GPU device";
    let first = world.boxtop(&["run", "drawing"]).output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stderr(&first).contains(warning), "{}", stderr(&first));
    let second = world.boxtop(&["run", "drawing"]).output().unwrap();
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        !stderr(&second).contains(warning),
        "said again in the same session: {}",
        stderr(&second)
    );
    // A new session (its runtime folder is new at login) says it again.
    std::fs::remove_dir_all(world.runtime_dir.join("boxtop")).unwrap();
    let later = world.boxtop(&["run", "drawing"]).output().unwrap();
    assert!(stderr(&later).contains(warning), "{}", stderr(&later));
}

/// `xdg-mime query default TYPE` as the test user.
fn default_handler(world: &World, mime: &str) -> String {
    let out = world
        .command(&require("xdg-mime", "xdg-utils"))
        .args(["query", "default", mime])
        .output()
        .unwrap();
    stdout(&out).trim().to_string()
}

#[test]
fn desktop_install_without_replace_leaves_the_default_handler_alone() {
    let mut world = World::new();
    let data_dirs = world.root.path().join("system-data");
    let apps = data_dirs.join("applications");
    std::fs::create_dir_all(&apps).unwrap();
    std::fs::write(
        apps.join("org.example.Notes.desktop"),
        "[Desktop Entry]\nType=Application\nName=Notes\nExec=notes %f\nMimeType=text/plain;\n",
    )
    .unwrap();
    let status =
        std::process::Command::new(require("update-desktop-database", "desktop-file-utils"))
            .arg(&apps)
            .status()
            .unwrap();
    assert!(status.success());
    world
        .env
        .insert("XDG_DATA_DIRS".into(), data_dirs.display().to_string());
    user_profile(
        &world,
        "notes",
        "desktop_file = \"org.example.Notes\"\ncommand = [\"/bin/true\"]\n",
    );
    assert_eq!(
        default_handler(&world, "text/plain"),
        "org.example.Notes.desktop"
    );
    ok(&world, &["desktop", "install", "notes"]);
    assert_eq!(
        default_handler(&world, "text/plain"),
        "org.example.Notes.desktop",
        "desktop install without --replace took over text/plain"
    );
    // --replace takes over the app's own id, which stays the default: now sandboxed.
    ok(&world, &["desktop", "install", "notes", "--replace"]);
    assert_eq!(
        default_handler(&world, "text/plain"),
        "org.example.Notes.desktop"
    );
    let replacement = world
        .home
        .join(".local/share/applications/org.example.Notes.desktop");
    let text = std::fs::read_to_string(&replacement).unwrap();
    assert!(
        text.contains("MimeType=text/plain;") && text.contains("X-Boxtop-Profile=notes"),
        "{text}"
    );
}

/// The issue's own case, with real apps: mousepad runs; a copy of its profile (which owns
/// the same application id) must not hand its file to it.
#[test]
fn a_copy_of_the_mousepad_profile_is_refused_while_mousepad_runs() {
    require("mousepad", "mousepad");
    require("xdg-dbus-proxy", "xdg-dbus-proxy");
    let (mut world, _x, _display) = crate::support::x_world();
    let _bus = SessionBus::start(&mut world);
    let documents = world.home.join("Documents");
    std::fs::create_dir_all(&documents).unwrap();
    let note = documents.join("boxtop-n.txt");
    std::fs::write(&note, "a note\n").unwrap();
    world.fix_owner();
    let id = world.detach(&["mousepad"]);
    let _guard = crate::support::KillOnDrop(&world, id.clone());
    crate::support::wait_for_window(&world, &id, "Mousepad", Duration::from_secs(30));
    ok(&world, &["new", "mousepad-notes", "--from", "mousepad"]);
    let out = world
        .boxtop(&["run", "mousepad-notes", "--", note.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "the running sandbox {id} of profile 'mousepad' owns D-Bus names that \
             'mousepad-notes' owns too (org.xfce.mousepad)"
        )),
        "{}",
        stderr(&out)
    );
    // The running mousepad did not get the file.
    std::thread::sleep(Duration::from_secs(1));
    let windows = crate::support::x11::x_windows(&world);
    assert!(!windows.contains("boxtop-n.txt"), "{windows}");
}
