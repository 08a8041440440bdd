//! Attacks on how a launch builds the sandbox's file system: an app plants symlinks in what
//! it can write (its private home, a read-write share) so that a later launch, of its own
//! profile or of another, creates or binds something else, and an app fills its tmpfs
//! folders past its memory limit. Each attacker is the probe, run by the test user.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::host::tree_state;
use crate::support::{assert_probe_ok, free_display, stderr, stdout, World, Xvfb};

/// A real `~/.ssh` with a private key, owned by the test user.
fn ssh_with_key(world: &World, key: &str) -> PathBuf {
    let ssh = world.home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::write(ssh.join("id_rsa"), key).unwrap();
    world.fix_owner();
    ssh
}

fn inside(world: &World, rel: &str) -> String {
    world.home.join(rel).display().to_string()
}

/// The attack's first launch: the probe, in the sandbox of `profile`, makes `link` (a
/// path inside) a symlink to `target`.
fn plant_symlink(world: &World, profile: &Path, target: &str, link: &str) {
    assert_probe_ok(
        &world.run_probe(profile, &["plant-symlink", target, link]),
        1,
    );
}

fn assert_failed_naming_symlink(output: &Output, path: &str) {
    let err = stderr(output);
    assert!(
        !output.status.success(),
        "the launch succeeded\nstdout:\n{}\nstderr:\n{err}",
        stdout(output)
    );
    assert!(
        err.contains(path) && err.contains("symlink"),
        "the error should name {path} and say it is a symlink:\n{err}\nstdout:\n{}",
        stdout(output)
    );
}

/// Finding 3: a symlink planted in the private home must not make the next launch create
/// mount points in the host's `~/.ssh` (through the host root, reachable while the
/// sandbox is built); the launch fails naming the symlink, and `~/.ssh` is untouched.
#[test]
fn symlink_in_private_home_does_not_steer_the_next_launch_onto_the_host() {
    let world = World::new();
    let ssh = ssh_with_key(&world, "KEY-OF-FINDING-3");
    std::fs::create_dir_all(world.home.join("Documents/notes")).unwrap();
    world.fix_owner();
    let profile = world.probe_profile(
        "planter",
        "network = \"none\"",
        "[[home.share]]\npath = \"Documents/notes\"\nmode = \"rw\"\n",
    );
    // Through the host's root, as it is reachable while the next sandbox is built.
    let target = format!("/oldroot{}", ssh.display());
    let documents = inside(&world, "Documents");
    plant_symlink(&world, &profile, &target, &documents);
    let planted = world
        .home
        .join(".local/share/boxtop/homes/planter/Documents");
    assert!(
        std::fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the attacker's symlink is in the private home"
    );
    let before = tree_state(&ssh);
    let second = world.run_probe(&profile, &["present", "/"]);
    assert_eq!(
        tree_state(&ssh),
        before,
        "the second launch changed the host's ~/.ssh\nstderr:\n{}",
        stderr(&second)
    );
    assert_failed_naming_symlink(&second, &documents);
}

/// Finding 4: a look-and-feel file (`~/.config/gtk-3.0/settings.ini`) turned into a
/// symlink to the private key, through a read-write share of its folder, must not bring
/// the key into a later sandbox with a display: the bind is skipped.
#[test]
fn look_and_feel_symlink_does_not_bind_a_secret() {
    let mut world = World::new();
    ssh_with_key(&world, "KEY-OF-FINDING-4");
    std::fs::create_dir_all(world.home.join(".config/gtk-3.0")).unwrap();
    world.fix_owner();
    let display = free_display();
    let _x = Xvfb::start(&world, display);
    world.env.insert("DISPLAY".into(), format!(":{display}"));
    let planter = world.probe_profile(
        "gtk-editor",
        "network = \"none\"\ndisplay = \"x11\"",
        "[[home.share]]\npath = \".config/gtk-3.0\"\nmode = \"rw\"\n",
    );
    let settings = inside(&world, ".config/gtk-3.0/settings.ini");
    plant_symlink(&world, &planter, "../../.ssh/id_rsa", &settings);
    assert!(
        std::fs::symlink_metadata(world.home.join(".config/gtk-3.0/settings.ini"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let viewer = world.probe_profile("viewer", "network = \"none\"\ndisplay = \"x11\"", "");
    let output = world.run_probe(&viewer, &["lacks-text", &settings, "KEY-OF-FINDING-4"]);
    assert_probe_ok(&output, 1);
    assert!(
        stderr(&output).contains("settings.ini is left out"),
        "the launch should say the setting file was left out:\n{}",
        stderr(&output)
    );
    let again = world.run_probe(&planter, &["lacks-text", &settings, "KEY-OF-FINDING-4"]);
    assert_probe_ok(&again, 1);
}

/// Finding 5: an app with Documents read-write replaces `Documents/inbox` with a symlink
/// to the browser's profile; a second profile sharing `Documents/inbox` must not get that
/// folder: its launch fails naming the symlink.
#[test]
fn read_write_share_cannot_redirect_another_profiles_share() {
    let world = World::new();
    std::fs::create_dir_all(world.home.join("Documents/inbox")).unwrap();
    std::fs::write(world.home.join("Documents/inbox/letter.txt"), "letter").unwrap();
    std::fs::create_dir_all(world.home.join(".mozilla")).unwrap();
    std::fs::write(
        world.home.join(".mozilla/cookies.sqlite"),
        "MOZILLA-COOKIES-OF-FINDING-5",
    )
    .unwrap();
    world.fix_owner();
    let writer = world.probe_profile(
        "writer",
        "network = \"none\"",
        "[[home.share]]\npath = \"Documents\"\nmode = \"rw\"\n",
    );
    let inbox = inside(&world, "Documents/inbox");
    plant_symlink(&world, &writer, "../.mozilla", &inbox);
    let reader = world.probe_profile(
        "reader",
        "network = \"none\"",
        "[[home.share]]\npath = \"Documents/inbox\"\nmode = \"ro\"\n",
    );
    let cookies = inside(&world, "Documents/inbox/cookies.sqlite");
    let output = world.run_probe(
        &reader,
        &["lacks-text", &cookies, "MOZILLA-COOKIES-OF-FINDING-5"],
    );
    assert!(
        !stdout(&output).contains("fail lacks-text"),
        "the reader saw the browser profile through its share:\n{}",
        stdout(&output)
    );
    assert_failed_naming_symlink(&output, "Documents/inbox");
    assert!(
        stderr(&output).contains(".mozilla"),
        "the error should say where the symlink points:\n{}",
        stderr(&output)
    );
}

/// Finding 9: without a cgroup, a profile's memory limit must still bound what the app
/// can put into its tmpfs folders: writing past 64 MiB into /tmp or /dev/shm fails with
/// ENOSPC.
#[test]
fn tmpfs_folders_are_bounded_by_the_memory_limit() {
    let world = World::new();
    let profile = world.probe_profile(
        "filler",
        "network = \"none\"\n[limits]\nmemory = \"64M\"",
        "",
    );
    for dir in ["/tmp", "/dev/shm"] {
        let output = world.run_probe(&profile, &["fill-until-full", dir, "96"]);
        assert_probe_ok(&output, 1);
    }
}

/// The executor refuses a destination through a symlink, the plan's own included
/// (`/lib -> usr/lib` on merged-/usr hosts): a bind is planned at its real path, and the
/// planned symlinks are still made.
#[test]
fn a_bind_through_a_top_level_link_is_made_at_its_real_path() {
    let world = World::new();
    let real = std::fs::canonicalize("/lib").expect("the host has /lib");
    let profile = world.probe_profile(
        "libs",
        "network = \"none\"\n[[binds]]\npath = \"/lib\"\nmode = \"ro\"",
        "",
    );
    let plan = world
        .boxtop(&["plan", "--profile-file", profile.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(plan.status.success(), "{}", stderr(&plan));
    let line = format!("bind-ro   {0} <- {0}\n", real.display());
    assert!(stdout(&plan).contains(&line), "{}", stdout(&plan));
    let output = world.run_probe(
        &profile,
        &["present", "/lib", "/bin", "/var/tmp", "/dev/fd"],
    );
    assert_probe_ok(&output, 4);
}
