//! Bad input gets a clear message and a non-zero exit, never a panic, and creates
//! nothing outside boxtop's data folder.

use std::path::{Path, PathBuf};

use crate::support::{stderr, stdout, World};

/// Every path under `dir`, except boxtop's data folder.
fn tree(dir: &Path, skip: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.starts_with(skip) {
                continue;
            }
            if path.is_dir() && !path.is_symlink() {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Runs boxtop with `args`, expects failure with each of `needles` in stderr, no panic,
/// and no new file outside the data folder.
fn expect_error(world: &World, args: &[&str], needles: &[&str]) -> String {
    let data = world.home.join(".local/share/boxtop");
    let before = tree(&world.home, &data);
    let output = world.boxtop(args).output().expect("run boxtop");
    let err = stderr(&output);
    assert!(
        !output.status.success(),
        "boxtop {args:?} succeeded; stderr: {err}"
    );
    assert_ne!(output.status.code(), Some(101), "boxtop panicked: {err}");
    assert!(!err.contains("panicked"), "boxtop panicked: {err}");
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    assert_eq!(
        tree(&world.home, &data),
        before,
        "boxtop created files outside its data folder"
    );
    err
}

#[test]
fn unknown_profile_is_named() {
    let world = World::new();
    expect_error(
        &world,
        &["run", "no-such-app"],
        &["no profile named 'no-such-app'", "boxtop list"],
    );
}

#[test]
fn missing_profile_file_is_named() {
    let world = World::new();
    expect_error(
        &world,
        &["run", "--profile-file", "/nonexistent/x.toml"],
        &["/nonexistent/x.toml", "cannot read"],
    );
}

#[test]
fn bad_toml_names_file_line_and_column() {
    let world = World::new();
    let path = world.profile("bad", "command = [\"x\"\nnetwork = \"none\"\n");
    let file = path.to_str().unwrap();
    expect_error(
        &world,
        &["run", "--profile-file", file],
        &[&format!("{file}:")],
    );
}

#[test]
fn wrong_value_names_the_key_and_line() {
    let world = World::new();
    let path = world.profile("wrong", "command = [\"x\"]\nnetwork = \"internet\"\n");
    let file = path.to_str().unwrap();
    expect_error(
        &world,
        &["run", "--profile-file", file],
        &[&format!("{file}:3:"), "key `network`", "internet"],
    );
}

/// What `run` would refuse (or die of), `check` refuses first, saying why (issue 14,
/// item 9): a NUL byte in the command, and memory limits too small or too large.
#[test]
fn check_refuses_what_run_could_not_use_and_says_why() {
    let world = World::new();
    let nul = world.profile("nul", "command = [\"sh\", \"a\\u0000b\"]\n");
    let nul = nul.to_str().unwrap();
    expect_error(
        &world,
        &["run", "--profile-file", nul],
        &["key `command[1]`", "NUL byte"],
    );
    // `check` reports on standard output and fails.
    let check = |file: &str, needles: &[&str]| {
        let output = world.boxtop(&["check", file]).output().unwrap();
        let text = stdout(&output);
        assert!(!output.status.success(), "check {file} passed:\n{text}");
        for needle in needles {
            assert!(text.contains(needle), "check lacks {needle:?}:\n{text}");
        }
    };
    check(nul, &["key `command[1]`", "NUL byte"]);
    for (memory, why) in [
        ("1", "too small"),
        ("0", "too small"),
        ("99999999999T", "too large"),
        ("lots", "is not a size"),
    ] {
        let path = world.profile(
            "mem",
            &format!("command = [\"true\"]\n[limits]\nmemory = \"{memory}\"\n"),
        );
        check(path.to_str().unwrap(), &["key `limits.memory`", why]);
    }
}

/// `boxtop edit` never loses the profile (issue 14, item 7): an editor that writes a
/// broken file, or fails after writing, leaves the profile as it was, and what it wrote
/// is kept beside it, said where.
#[test]
fn edit_keeps_the_original_when_the_edit_is_broken_or_the_editor_fails() {
    let mut world = World::new();
    let profiles = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let original = "name = \"mine\"\ncommand = [\"true\"]\n";
    std::fs::write(profiles.join("mine.toml"), original).unwrap();
    // Editors as scripts: one writes a broken profile, one writes a valid change and
    // exits 1, one writes a valid change.
    let editor = |name: &str, body: &str| {
        let path = world.bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        path.display().to_string()
    };
    let broken = editor(
        "broken-editor",
        "printf 'name = \"mine\"\\ncommand = [\\n' > \"$1\"",
    );
    let failing = editor(
        "failing-editor",
        "printf 'name = \"mine\"\\ncommand = [\"false\"]\\n' > \"$1\"; exit 1",
    );
    let good = editor(
        "good-editor",
        "printf 'name = \"mine\"\\ncommand = [\"echo\"]\\n' > \"$1\"",
    );
    world.fix_owner();
    let profile = || std::fs::read_to_string(profiles.join("mine.toml")).unwrap();
    let rejected = || std::fs::read_to_string(profiles.join("mine.toml.rejected"));

    world.env.insert("EDITOR".into(), broken);
    let output = world.boxtop(&["edit", "mine"]).output().unwrap();
    assert!(!output.status.success(), "a broken edit was accepted");
    assert_eq!(profile(), original, "a broken edit replaced the profile");
    assert!(
        rejected().unwrap().contains("command = ["),
        "the broken edit was not kept"
    );
    assert!(
        stderr(&output).contains("mine.toml.rejected"),
        "{}",
        stderr(&output)
    );

    world.env.insert("EDITOR".into(), failing);
    let output = world.boxtop(&["edit", "mine"]).output().unwrap();
    assert!(!output.status.success());
    assert_eq!(
        profile(),
        original,
        "a failed editor's file replaced the profile"
    );
    assert!(
        rejected().unwrap().contains("false"),
        "the failed editor's file was lost"
    );
    assert!(
        !stderr(&output).contains("unchanged by boxtop"),
        "{}",
        stderr(&output)
    );

    world.env.insert("EDITOR".into(), good);
    let output = world.boxtop(&["edit", "mine"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(profile().contains("echo"), "a valid edit was not saved");
    // No working copy is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&profiles)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".edit-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The folders of `create = true` shares are not left behind by a launch that fails
/// after making them (issue 14, item 11): here the program is missing.
#[test]
fn a_failed_launch_leaves_no_share_folder_it_made() {
    let world = World::new();
    let path = world.profile(
        "makesdirs",
        "command = [\"no-such-program-here\"]\n[home]\nephemeral = true\n[[home.share]]\npath = \"Fresh/inner\"\nmode = \"rw\"\ncreate = true\n",
    );
    expect_error(
        &world,
        &["run", "--profile-file", path.to_str().unwrap()],
        &["no-such-program-here"],
    );
    assert!(
        !world.home.join("Fresh").exists(),
        "the failed launch left ~/Fresh behind"
    );
}

#[test]
fn unknown_key_is_refused() {
    let world = World::new();
    let path = world.profile("unknown", "command = [\"x\"]\n[home]\nshare_all = true\n");
    let file = path.to_str().unwrap();
    expect_error(
        &world,
        &["run", "--profile-file", file],
        &[&format!("{file}:4:"), "share_all"],
    );
}

#[test]
fn escaping_share_path_is_refused_with_its_key() {
    let world = World::new();
    let path = world.profile(
        "escape",
        "command = [\"/bin/true\"]\n[[home.share]]\npath = \"../other\"\n",
    );
    let file = path.to_str().unwrap();
    expect_error(
        &world,
        &["run", "--profile-file", file],
        &[
            &format!("{file}:4:"),
            "key `home.share[0].path`",
            "leaves the home folder",
        ],
    );
}

#[test]
fn share_symlink_pointing_out_of_home_is_refused() {
    let world = World::new();
    let outside = world.root.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, world.home.join("Sneaky")).unwrap();
    world.fix_owner();
    let path = world.profile(
        "sneaky",
        "command = [\"/bin/true\"]\n[[home.share]]\npath = \"Sneaky\"\n",
    );
    expect_error(
        &world,
        &["run", "--profile-file", path.to_str().unwrap()],
        &["Sneaky", "is a symlink", "outside", "share the real folder"],
    );
}

#[test]
fn missing_share_folder_is_named() {
    let world = World::new();
    let path = world.profile(
        "noshare",
        "command = [\"/bin/true\"]\n[[home.share]]\npath = \"Nope\"\n",
    );
    expect_error(
        &world,
        &["run", "--profile-file", path.to_str().unwrap()],
        &["Nope", "does not exist", "create = true"],
    );
}

#[test]
fn sharing_ssh_needs_force() {
    let world = World::new();
    std::fs::create_dir_all(world.home.join(".ssh")).unwrap();
    world.fix_owner();
    let path = world.profile(
        "ssh",
        "command = [\"/bin/true\"]\n[[home.share]]\npath = \".ssh\"\n",
    );
    expect_error(
        &world,
        &["run", "--profile-file", path.to_str().unwrap()],
        &[".ssh", "force = true"],
    );
}

#[test]
fn missing_program_says_where_it_looked() {
    let world = World::new();
    let path = world.profile(
        "ghost",
        "command = [\"no-such-program-xyz\"]\n[home]\nephemeral = true\n",
    );
    let output = world
        .boxtop(&["run", "--profile-file", path.to_str().unwrap()])
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(127), "{err}");
    for needle in [
        "no-such-program-xyz",
        "not found inside the sandbox",
        "/usr/bin",
        "grants are visible",
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
    let absolute = world.profile(
        "ghost2",
        "command = [\"/opt/ghost/app\"]\n[home]\nephemeral = true\n",
    );
    expect_error(
        &world,
        &["run", "--profile-file", absolute.to_str().unwrap()],
        &["/opt/ghost/app", "not found inside the sandbox"],
    );
}

#[test]
fn host_without_user_namespaces_gets_the_fix() {
    let world = World::new();
    let path = world.profile(
        "nouserns",
        "command = [\"/bin/true\"]\n[home]\nephemeral = true\n",
    );
    // A user namespace of the test's own, where creating further ones is forbidden
    // (max_user_namespaces is per user namespace): boxtop must explain, not crash.
    let script = format!(
        "echo 0 > /proc/sys/user/max_user_namespaces && exec {} run --profile-file {}",
        world.bin.join("boxtop").display(),
        path.display()
    );
    let output = world
        .command(Path::new("/usr/bin/unshare"))
        .args(["--user", "--map-root-user", "/bin/sh", "-c", &script])
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(125), "{err}");
    for needle in [
        "cannot create the sandbox's namespaces",
        "max_user_namespaces is 0",
        "sysctl",
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
}

/// `boxtop plan` shows what a launch would do and changes nothing: a `create = true`
/// share that does not exist yet is planned, not made; the launch makes it.
#[test]
fn plan_does_not_create_share_folders_but_run_does() {
    let world = World::new();
    let profile = world.profile(
        "maker",
        "command = [\"/bin/true\"]\n[home]\nephemeral = true\n\
         [[home.share]]\npath = \"Made/Here\"\nmode = \"rw\"\ncreate = true\n",
    );
    let folder = world.home.join("Made/Here");
    let plan = world
        .boxtop(&["plan", "--profile-file", profile.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(plan.status.success(), "{}", stderr(&plan));
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains(&format!("{} <- {}", folder.display(), folder.display())),
        "{text}"
    );
    assert!(
        !world.home.join("Made").exists(),
        "plan created the share folder"
    );
    let run = world
        .boxtop(&["run", "--profile-file", profile.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(folder.is_dir(), "run did not create the share folder");
}

/// Every file in `profiles/` passes `boxtop check` as a file (the bundled copies are the
/// same files, embedded; this checks the ones in the tree).
#[test]
fn every_profile_in_the_tree_passes_boxtop_check() {
    let world = World::new();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let copies = world.root.path().join("tree-profiles");
    std::fs::create_dir_all(&copies).unwrap();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&source).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            let copy = copies.join(path.file_name().unwrap());
            std::fs::copy(&path, &copy).unwrap();
            files.push(copy);
        }
    }
    assert!(files.len() >= 20, "{} profiles in profiles/", files.len());
    let mut args = vec!["check".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = world.boxtop(&args).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}\n{}", stderr(&output));
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        files.len(),
        "{text}"
    );
}
