//! File forwarding at launch: files and folders named by `boxtop run PROFILE -- ARGS`
//! outside what the sandbox sees are bound in at their own path, read-write, whatever
//! way they are spelled (relative, `~/`, absolute, `file://`); secrets, the home and
//! boxtop's folders are refused; symlinks an app planted steer nothing.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::host::tree_state;
use crate::support::{assert_probe_ok, stderr, stdout, World};

/// A world with `~/Documents` (the one share), `~/notes/todo.txt`, a sibling
/// `~/notes/other.txt` and `~/.ssh/id_rsa`, and a probe profile sharing Documents.
fn notes_world() -> (World, PathBuf) {
    let world = World::new();
    for dir in ["Documents", "notes", ".ssh"] {
        std::fs::create_dir_all(world.home.join(dir)).unwrap();
    }
    std::fs::write(world.home.join("notes/other.txt"), "other").unwrap();
    std::fs::write(world.home.join(".ssh/id_rsa"), "KEY-OF-FORWARD").unwrap();
    world.fix_owner();
    let profile = world.probe_profile(
        "editor",
        "network = \"none\"\nforward_files = true",
        "[[home.share]]\npath = \"Documents\"\nmode = \"rw\"\n",
    );
    (world, profile)
}

fn todo(world: &World) -> PathBuf {
    world.home.join("notes/todo.txt")
}

fn set_todo(world: &World, text: &str) {
    std::fs::write(todo(world), text).unwrap();
    world.fix_owner();
}

/// `boxtop run --profile-file PROFILE -- ARGS...` from `cwd`.
fn run_from(world: &World, profile: &Path, cwd: &Path, args: &[&str]) -> Output {
    world
        .boxtop_run(profile, args)
        .current_dir(cwd)
        .output()
        .expect("run boxtop")
}

fn assert_refused(output: &Output, what: &str) {
    let err = stderr(output);
    assert!(
        !output.status.success() && !stdout(output).contains("ok "),
        "the launch ran\nstdout:\n{}\nstderr:\n{err}",
        stdout(output)
    );
    assert!(err.contains(what), "expected {what:?} in:\n{err}");
}

#[test]
fn a_forwarded_file_is_read_and_written_in_every_spelling_and_its_siblings_stay_hidden() {
    let (world, profile) = notes_world();
    let absolute = todo(&world).display().to_string();
    let uri = format!("file://{}", absolute.replace("todo", "to%64o"));
    for (n, (arg, cwd)) in [
        ("todo.txt", world.home.join("notes")),
        ("../notes/todo.txt", world.home.join("Documents")),
        ("~/notes/todo.txt", world.home.clone()),
        (absolute.as_str(), world.home.clone()),
        (uri.as_str(), world.home.clone()),
    ]
    .iter()
    .enumerate()
    {
        let before = format!("version {n}");
        let after = format!("written {n}");
        set_todo(&world, &before);
        let output = run_from(
            &world,
            &profile,
            cwd,
            &[
                "forwarded",
                arg,
                &format!("content={before}"),
                &format!("write={after}"),
                "hidden=other.txt",
            ],
        );
        assert_probe_ok(&output, 3);
        assert_eq!(
            std::fs::read_to_string(todo(&world)).unwrap(),
            after,
            "{arg}: the host file was not written"
        );
        let err = stderr(&output);
        assert!(
            err.contains(&format!("shared file {absolute} read-write")),
            "{arg}: no line says what was shared:\n{err}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(world.home.join("notes/other.txt")).unwrap(),
        "other"
    );
}

#[test]
fn the_app_starts_in_the_callers_folder_when_the_sandbox_sees_it() {
    let (world, profile) = notes_world();
    let documents = world.home.join("Documents");
    let at = |path: &Path| format!("at={}", path.display());
    assert_probe_ok(
        &run_from(&world, &profile, &documents, &["cwd-is", &at(&documents)]),
        1,
    );
    // ~/notes is not shared: the app starts in its home.
    assert_probe_ok(
        &run_from(
            &world,
            &profile,
            &world.home.join("notes"),
            &["cwd-is", &at(&world.home)],
        ),
        1,
    );
}

#[test]
fn secrets_the_home_and_boxtops_folders_are_never_forwarded() {
    let (world, profile) = notes_world();
    std::fs::create_dir_all(world.home.join(".local/share/boxtop/homes/other")).unwrap();
    world.fix_owner();
    let home = world.home.display().to_string();
    for (arg, cwd, what) in [
        ("~/.ssh/id_rsa", world.home.clone(), "holds secrets"),
        ("id_rsa", world.home.join(".ssh"), "holds secrets"),
        (".ssh", world.home.clone(), "holds secrets"),
        ("~", world.home.clone(), "is your home folder"),
        (home.as_str(), world.home.clone(), "is your home folder"),
        (".", world.home.clone(), "is your home folder"),
        (
            "~/.local/share/boxtop/homes/other",
            world.home.clone(),
            "boxtop's own folder",
        ),
    ] {
        let output = run_from(&world, &profile, &cwd, &["present", arg]);
        assert_refused(&output, what);
        assert!(
            stderr(&output).contains(&format!("argument '{arg}'")),
            "the error names the argument:\n{}",
            stderr(&output)
        );
    }
}

#[test]
fn forward_files_false_leaves_the_arguments_alone() {
    let (world, _) = notes_world();
    set_todo(&world, "kept");
    let profile = world.probe_profile(
        "closed",
        "network = \"none\"\nforward_files = false",
        "[[home.share]]\npath = \"Documents\"\n",
    );
    let output = run_from(
        &world,
        &profile,
        &world.home,
        &["absent", "~/notes/todo.txt"],
    );
    // `~/notes/todo.txt` reaches the app as written: no such file there.
    assert_probe_ok(&output, 1);
    let output = run_from(
        &world,
        &profile,
        &world.home,
        &["absent", &todo(&world).display().to_string()],
    );
    assert_probe_ok(&output, 1);
    assert!(
        stderr(&output).contains("does not see it (forward_files = false)"),
        "{}",
        stderr(&output)
    );
}

/// An attacker with a read-write share plants `~/Documents/inbox -> ../.ssh`; the user
/// then opens `~/Documents/inbox/id_rsa` with another profile that does not share
/// Documents: the forward is refused naming the symlink, and the key never reaches it.
#[test]
fn a_symlink_planted_in_a_share_does_not_steer_a_forwarded_path() {
    let (world, attacker) = notes_world();
    let inbox = world.home.join("Documents/inbox");
    assert_probe_ok(
        &world.run_probe(
            &attacker,
            &["plant-symlink", "../.ssh", &inbox.display().to_string()],
        ),
        1,
    );
    assert!(std::fs::symlink_metadata(&inbox)
        .unwrap()
        .file_type()
        .is_symlink());
    let victim = world.probe_profile("viewer", "network = \"none\"\nforward_files = true", "");
    let ssh = world.home.join(".ssh");
    let before = tree_state(&ssh);
    for arg in ["~/Documents/inbox/id_rsa", "Documents/inbox"] {
        let output = run_from(
            &world,
            &victim,
            &world.home,
            &["lacks-text", arg, "KEY-OF-FORWARD"],
        );
        assert_refused(&output, "Documents/inbox is a symlink (to ../.ssh)");
    }
    assert_eq!(tree_state(&ssh), before, "the host's ~/.ssh changed");
}

/// An attacker plants `~/notes -> /oldroot/HOME/.ssh` in its private home (the host
/// root is reachable while a sandbox is built); the user later opens the real
/// `~/notes/todo.txt` with that profile: the launch fails naming the symlink instead of
/// creating a mount point through it, and the host's `~/.ssh` is untouched.
#[test]
fn a_symlink_planted_in_the_private_home_does_not_steer_a_forwarded_file() {
    let (world, _) = notes_world();
    std::fs::remove_dir_all(world.home.join("notes")).unwrap();
    let profile = world.probe_profile("planter", "network = \"none\"\nforward_files = true", "");
    let ssh = world.home.join(".ssh");
    let notes = world.home.join("notes");
    // The host has no ~/notes yet: the argument is not forwarded, only planted inside.
    assert_probe_ok(
        &world.run_probe(
            &profile,
            &[
                "plant-symlink",
                &format!("/oldroot{}", ssh.display()),
                &notes.display().to_string(),
            ],
        ),
        1,
    );
    std::fs::create_dir_all(&notes).unwrap();
    set_todo(&world, "real notes");
    let before = tree_state(&ssh);
    let output = run_from(
        &world,
        &profile,
        &world.home,
        &["write-file", "~/notes/todo.txt", "PWNED"],
    );
    assert_eq!(tree_state(&ssh), before, "the host's ~/.ssh changed");
    assert_eq!(
        std::fs::read_to_string(todo(&world)).unwrap(),
        "real notes",
        "stdout:\n{}\nstderr:\n{}",
        stdout(&output),
        stderr(&output)
    );
    assert_refused(&output, "symlink");
    assert!(
        stderr(&output).contains(&notes.display().to_string()),
        "{}",
        stderr(&output)
    );
}

/// A second launch of a running profile (which joins its sandbox) shares its file with
/// that sandbox: the command run there reads and writes it, and there is still one
/// sandbox.
#[test]
fn a_launch_that_joins_a_running_sandbox_forwards_its_file_into_it() {
    let (world, profile) = notes_world();
    set_todo(&world, "first");
    let id = world.detach(&[
        "--profile-file",
        profile.to_str().unwrap(),
        "--",
        "hold-memory",
        "1",
    ]);
    let _guard = crate::support::KillOnDrop(&world, id.clone());
    std::fs::write(world.home.join("notes/other.txt"), "second file").unwrap();
    world.fix_owner();
    let output = run_from(
        &world,
        &profile,
        &world.home.join("notes"),
        &[
            "forwarded",
            "other.txt",
            "content=second file",
            "write=written in the running sandbox",
            "hidden=todo.txt",
        ],
    );
    assert_probe_ok(&output, 3);
    let err = stderr(&output);
    assert!(err.contains(&format!("already runs as {id}")), "{err}");
    assert!(
        err.contains(&format!("read-write with the running sandbox {id}")),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(world.home.join("notes/other.txt")).unwrap(),
        "written in the running sandbox"
    );
    let live: Vec<_> = world
        .ps()
        .into_iter()
        .filter(|status| status["profile"] == "editor")
        .collect();
    assert_eq!(live.len(), 1, "one sandbox: {live:?}");
}

/// mousepad in its bundled profile (which shares only Documents), on Xvfb with a session
/// bus: `boxtop run mousepad -- todo.txt` from `~/notes` opens that file (the window's
/// title names it), and a second launch with `~/notes/other.txt` opens it in the same
/// mousepad, its file shared with the running sandbox.
#[test]
fn mousepad_opens_files_outside_its_shares_given_on_the_command_line() {
    use crate::support::{pulse_server, require, wait_for_window, x_world, KillOnDrop, SessionBus};
    use std::time::Duration;
    require("mousepad", "mousepad");
    require("xdg-dbus-proxy", "xdg-dbus-proxy");
    let (mut world, _x, _display) = x_world();
    let _bus = SessionBus::start(&mut world);
    let _pulse = pulse_server(&world, &require("pulseaudio", "pulseaudio"));
    let notes = world.home.join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::create_dir_all(world.home.join("Documents")).unwrap();
    std::fs::write(notes.join("todo.txt"), "buy milk\n").unwrap();
    std::fs::write(notes.join("other.txt"), "call back\n").unwrap();
    world.fix_owner();
    let output = world
        .boxtop(&["run", "--detach", "mousepad", "--", "todo.txt"])
        .current_dir(&notes)
        .output()
        .unwrap();
    crate::support::assert_ok(&output, "boxtop run --detach mousepad -- todo.txt");
    let id = stdout(&output).trim().to_string();
    let _guard = KillOnDrop(&world, id.clone());
    assert!(
        stderr(&output).contains("shared file"),
        "{}",
        stderr(&output)
    );
    // The title names the file by its path from the home: the file of ~/notes, not a
    // new `~/todo.txt` (nor `~/~/notes/...` for a literal `~/` argument).
    wait_for_window(
        &world,
        &id,
        "\"~/notes/todo.txt - Mousepad\"",
        Duration::from_secs(30),
    );
    let again = world
        .boxtop(&["run", "--detach", "mousepad", "--", "~/notes/other.txt"])
        .output()
        .unwrap();
    crate::support::assert_ok(&again, "boxtop run --detach mousepad, again");
    assert_eq!(stdout(&again).trim(), id, "{}", stderr(&again));
    wait_for_window(
        &world,
        &id,
        "\"~/notes/other.txt - Mousepad\"",
        Duration::from_secs(30),
    );
    let mousepads: Vec<_> = world
        .ps()
        .into_iter()
        .filter(|s| s["profile"] == "mousepad" && s["state"]["state"] == "running")
        .collect();
    assert_eq!(mousepads.len(), 1, "one mousepad sandbox: {mousepads:?}");
}

/// A file opened from a file manager: the menu entry `boxtop desktop install` writes
/// (`-- %U`), started by `gio launch` with a file outside the profile's shares (GLib
/// passes a local file as its path, a `file://` URI where the app takes only URIs): the
/// file is shared with the sandbox and the app reads it there.
#[test]
fn gio_launching_the_entry_with_a_file_outside_the_shares_forwards_it() {
    use crate::support::entries::{gio, install_app, READER_ENTRY, READER_PROFILE};
    let mut world = World::new();
    // The app strips `file://` and copies what it reads into its one share.
    let pictures = install_app(
        &mut world,
        "org.example.Reader.desktop",
        READER_ENTRY,
        "reader",
        READER_PROFILE,
    );
    let notes = world.home.join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    let todo = notes.join("todo.txt");
    std::fs::write(&todo, "from the file manager").unwrap();
    world.fix_owner();
    let install = world
        .boxtop(&["desktop", "install", "reader"])
        .output()
        .unwrap();
    crate::support::assert_ok(&install, "boxtop desktop install reader");
    let entry = world
        .home
        .join(".local/share/applications/boxtop-reader.desktop");
    /// Kills the reader's sandboxes, even when an assertion fails first.
    struct KillReaders<'a>(&'a World);
    impl Drop for KillReaders<'_> {
        fn drop(&mut self) {
            for status in self.0.ps() {
                if status["profile"] == "reader" {
                    let id = status["id"].as_str().unwrap_or_default();
                    let _ = self.0.boxtop(&["kill", id]).output();
                }
            }
        }
    }
    let _guard = KillReaders(&world);
    let launched = world
        .command(&gio())
        .arg("launch")
        .arg(&entry)
        .arg(&todo)
        .output()
        .unwrap();
    crate::support::assert_ok(&launched, "gio launch");
    let seen = pictures.join("seen.txt");
    crate::support::wait_until(
        "the sandboxed app to read the file",
        std::time::Duration::from_secs(20),
        || std::fs::read(&seen).is_ok_and(|bytes| bytes == b"from the file manager"),
    );
    let arg = std::fs::read_to_string(pictures.join("arg.txt")).unwrap();
    let arg = arg.trim();
    assert!(
        arg == todo.display().to_string() || arg == format!("file://{}", todo.display()),
        "the app got {arg:?}"
    );
}
