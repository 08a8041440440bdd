//! `boxtop desktop` and `boxtop autostart` as a user runs them.

use crate::support::entries::{key, read, validate};

/// The commands as a user runs them: the real binary, as the unprivileged test user, with
/// the machine's own `$XDG_DATA_DIRS` (xterm is installed by `make test`).
#[test]
fn desktop_and_autostart_commands_manage_xterms_entries_as_the_user() {
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
