//! Attacks on the parts of boxtop an app can see, run from inside by the unprivileged test
//! user: the sandbox's pid 1, the terminal of a command that joins a running sandbox, and
//! the permissions of files the app creates.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{assert_probe_ok, stderr, stdout, wait_until, World};

/// A secret the launching shell has in its environment and on boxtop's command line.
const SECRET: &str = "AKIAboxtopSECRETvalue42";

#[test]
fn pid_1_gives_the_app_nothing_of_boxtop_in_the_foreground_and_detached() {
    let mut world = World::new();
    world
        .env
        .insert("AWS_SECRET_ACCESS_KEY".into(), SECRET.into());
    let profile = world.probe_profile("pidone", "network = \"none\"", "");
    // Landlock keeps the app from pid 1's /proc files as well: the hardening of pid 1 is
    // checked with it switched off too (a debug-build switch), on its own.
    for landlock in [false, true] {
        let mut run = world.boxtop_run(&profile, &["init-hardened", SECRET]);
        if !landlock {
            run.env("BOXTOP_TEST_NO_LANDLOCK", "1");
        }
        let oks = assert_probe_ok(&run.output().unwrap(), 9);
        for item in [
            "seccomp",
            "not-dumpable",
            "environ",
            "mem",
            "fds",
            "pidfd-getfd",
        ] {
            assert!(
                oks.contains(&format!("init-hardened/{item}")),
                "{item} not checked: {oks:?}"
            );
        }
    }

    // The app runs only once pid 1 has hardened itself: with pid 1 made slow to do so (a
    // debug-build switch), the app still finds it hardened.
    let mut run = world.boxtop_run(&profile, &["init-hardened", SECRET]);
    run.env("BOXTOP_TEST_SLOW_INIT", "1");
    run.env("BOXTOP_TEST_NO_LANDLOCK", "1");
    assert_probe_ok(&run.output().unwrap(), 9);

    // pid 1 of a detached instance is forked from its supervisor: the same holds.
    let id = world.detach(&[
        "--profile-file",
        profile.to_str().unwrap(),
        "--",
        "init-hardened",
        SECRET,
    ]);
    let mut log = String::new();
    wait_until(
        "the detached probe's report",
        Duration::from_secs(10),
        || {
            log = stdout(&world.boxtop(&["logs", &id]).output().unwrap());
            log.contains("init-hardened/pidfd-getfd")
        },
    );
    assert!(!log.contains("fail "), "{log}");
    assert!(log.contains("ok init-hardened/environ"), "{log}");
}

/// A pty pair standing for the user's terminal: the test types into `master`; `slave`
/// is the terminal a command started from the user's shell has as its fds 0 to 2. It
/// belongs to the user, as a login or a terminal emulator makes it.
fn terminal(world: &World) -> (OwnedFd, OwnedFd) {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    nix::unistd::fchown(
        &pty.slave,
        Some(nix::unistd::Uid::from_raw(world.uid)),
        Some(nix::unistd::Gid::from_raw(world.gid)),
    )
    .expect("chown the terminal");
    (pty.master, pty.slave)
}

/// What was written to the terminal so far.
fn terminal_output(master: &OwnedFd) -> String {
    let flags = nix::fcntl::fcntl(master, nix::fcntl::FcntlArg::F_GETFL).unwrap();
    let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
    nix::fcntl::fcntl(master, nix::fcntl::FcntlArg::F_SETFL(flags)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = nix::unistd::read(master, &mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs `cmd` with `slave` as its controlling terminal and standard streams, as a shell
/// runs a command in the foreground; returns its exit status.
fn run_on_terminal(mut cmd: Command, slave: &OwnedFd) -> std::process::Output {
    let fd = slave.as_raw_fd();
    cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave.try_clone().unwrap()));
    // SAFETY: setsid and ioctl are async-signal-safe and touch only the child.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 || libc::ioctl(fd, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("run on the terminal")
}

#[test]
fn a_joined_command_never_hands_the_users_terminal_to_the_app() {
    terminal_theft(true);
}

/// The same attack with Landlock off (a debug-build switch): the thief can then open the
/// joined command's terminal, and the pty relay alone keeps the user's typing from it.
#[test]
fn a_joined_command_never_hands_the_users_terminal_to_the_app_even_without_landlock() {
    terminal_theft(false);
}

/// A thief in a running sandbox watches for terminals while a command joins it with
/// `boxtop enter`, then with a second `run` of its profile, each from the "user's"
/// terminal; afterwards the user types a password there. With Landlock the thief may not
/// even open the joined command's terminal (another Landlock domain); without it, it must
/// (so the test shows the attack ran) and still read nothing typed after the join.
fn terminal_theft(landlock: bool) {
    let mut world = World::new();
    if !landlock {
        world
            .env
            .insert("BOXTOP_TEST_NO_LANDLOCK".into(), "1".into());
    }
    // A persistent home: a second `run` joins the running sandbox.
    let profile = world.probe_profile_with("thief", "network = \"none\"", "", "");
    let id = world.detach(&[
        "--profile-file",
        profile.to_str().unwrap(),
        "--",
        "tty-thief",
        "30",
    ]);
    let log = || stdout(&world.boxtop(&["logs", &id]).output().unwrap());

    let joins: [(&str, Vec<&str>); 2] = [
        (
            "enter",
            vec!["enter", &id, "--", "/bin/sh", "-c", "sleep 1; echo joined"],
        ),
        (
            "a second run",
            vec![
                "run",
                "--profile-file",
                profile.to_str().unwrap(),
                "--",
                // The profile's command is the probe: this one watches for a second.
                "tty-thief",
                "1",
            ],
        ),
    ];
    for (what, args) in joins {
        let (master, slave) = terminal(&world);
        let before = log().matches("opened ").count();
        let output = run_on_terminal(world.boxtop(&args), &slave);
        assert!(
            output.status.success(),
            "{what}: {:?}: {}",
            output.status,
            terminal_output(&master)
        );
        // The thief was at work: it opened the joined command's terminal while it ran
        // (a pty of the sandbox's own, with the fix; the user's, without).
        if !landlock {
            wait_until(
                &format!("the thief to open the terminal of {what}"),
                Duration::from_secs(5),
                || log().matches("opened ").count() > before,
            );
        }
        // The joined command has ended; the user types at the shell again.
        let typed = format!("sudo-password-{}\n", what.len());
        nix::unistd::write(&master, typed.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let seen = log();
        assert!(
            !seen.contains("sudo-password"),
            "after {what} ended, the app read what the user typed at the host shell:\n{seen}"
        );
        drop(slave);
        drop(master);
    }
    let _ = world.boxtop(&["kill", &id]).output();
}

#[test]
fn files_the_app_and_joined_commands_create_have_the_users_umask() {
    let world = World::new();
    std::fs::create_dir_all(world.home.join("Documents")).unwrap();
    world.fix_owner();
    let profile = world.profile(
        "maker",
        "command = [\"/bin/sh\", \"-c\"]\n[[home.share]]\npath = \"Documents\"\nmode = \"rw\"\n",
    );
    let with_umask = |mut cmd: Command| {
        // SAFETY: umask is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::umask(0o027);
                Ok(())
            });
        }
        cmd
    };
    let made = |name: &str| {
        let path = world.home.join("Documents").join(name);
        std::fs::metadata(&path)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let app = with_umask(world.boxtop(&[
        "run",
        "--detach",
        "--profile-file",
        profile.to_str().unwrap(),
        "--",
        "touch Documents/by-app; mkdir Documents/dir-by-app; exec sleep 100",
    ]))
    .output()
    .unwrap();
    assert!(app.status.success(), "{}", stderr(&app));
    let id = stdout(&app).trim().to_string();
    wait_until("the app's files", Duration::from_secs(10), || {
        world.home.join("Documents/dir-by-app").exists()
    });
    assert_eq!(made("by-app"), 0o640, "a file the app made");
    assert_eq!(made("dir-by-app"), 0o750, "a folder the app made");
    let joined = with_umask(world.boxtop(&["enter", &id, "--", "touch", "Documents/by-enter"]))
        .output()
        .unwrap();
    assert!(joined.status.success(), "{}", stderr(&joined));
    assert_eq!(made("by-enter"), 0o640, "a file a joined command made");
    let _ = world.boxtop(&["kill", &id]).output();
}
