//! The sandbox seen from inside: each test starts the real boxtop as the unprivileged
//! test user and runs the probe in the sandbox.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::support::{
    assert_probe_ok, free_display, probe_binary, stderr, stdout, wait_until, World, Xvfb,
};

fn host_ns_inode(name: &str) -> u64 {
    std::fs::metadata(format!("/proc/self/ns/{name}"))
        .expect("ns")
        .ino()
}

fn ns_args(net_same: bool) -> Vec<String> {
    ["user", "mnt", "pid", "ipc", "uts", "cgroup", "net"]
        .iter()
        .map(|name| {
            let ino = host_ns_inode(name);
            if *name == "net" && net_same {
                format!("net=same:{ino}")
            } else {
                format!("{name}={ino}")
            }
        })
        .collect()
}

fn probe(world: &World, profile: &Path, args: &[&str], min: usize) -> Vec<String> {
    let output = world.run_probe(profile, args);
    assert_probe_ok(&output, min)
}

fn basic(world: &World) -> PathBuf {
    world.probe_profile("basic", "network = \"none\"", "")
}

#[test]
fn namespaces_differ_from_the_host() {
    let world = World::new();
    let profile = basic(&world);
    let mut args = vec!["ns-differ".to_string()];
    args.extend(ns_args(false));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    probe(&world, &profile, &args, 7);
}

#[test]
fn host_pids_are_invisible() {
    let world = World::new();
    let pid = std::process::id().to_string();
    probe(&world, &basic(&world), &["host-pid-invisible", &pid], 1);
}

#[test]
fn uid_map_is_the_single_identity_mapping() {
    let world = World::new();
    let (uid, gid) = (world.uid.to_string(), world.gid.to_string());
    probe(&world, &basic(&world), &["uid-map", &uid, &gid], 1);
}

#[test]
fn every_capability_set_is_empty() {
    let world = World::new();
    probe(&world, &basic(&world), &["caps-zero"], 5);
}

#[test]
fn no_new_privs_is_set() {
    let world = World::new();
    probe(&world, &basic(&world), &["no-new-privs"], 1);
}

#[test]
fn seccomp_filter_is_active() {
    let world = World::new();
    probe(&world, &basic(&world), &["seccomp-filter"], 1);
}

#[test]
fn host_secrets_in_etc_are_absent() {
    let world = World::new();
    probe(
        &world,
        &basic(&world),
        &[
            "absent",
            "/etc/shadow",
            "/etc/gshadow",
            "/etc/sudoers",
            "/etc/sudoers.d",
            "/etc/ssh",
            "/root/.bashrc",
            "/home/tester",
        ],
        1,
    );
}

#[test]
fn usr_is_read_only_and_nosuid() {
    let world = World::new();
    probe(&world, &basic(&world), &["readonly-nosuid", "/usr"], 1);
}

/// The mount points `boxtop plan` lists for a profile, those of /proc the kernel lacks
/// left out (the executor skips them).
fn planned_mounts(world: &World, profile: &Path) -> Vec<String> {
    let output = world
        .boxtop(&["plan", "--profile-file", profile.to_str().unwrap()])
        .output()
        .expect("boxtop plan");
    assert!(output.status.success(), "plan failed: {}", stderr(&output));
    let mut points = Vec::new();
    for line in stdout(&output).lines() {
        let mut words = line.split_whitespace();
        let kind = words.next().unwrap_or("");
        let is_mount =
            kind.starts_with("bind-") || matches!(kind, "tmpfs" | "proc" | "read-only" | "devpts");
        if let (true, Some(point)) = (is_mount, words.next()) {
            if point.starts_with("/proc/") && !Path::new(point).exists() {
                continue;
            }
            if !points.iter().any(|known| known == point) {
                points.push(point.to_string());
            }
        }
    }
    points
}

#[test]
fn mountinfo_lists_only_planned_mounts_and_no_staging_leftovers() {
    let world = World::new();
    let profile = basic(&world);
    let planned = planned_mounts(&world, &profile);
    for must in ["/", "/usr", "/proc", "/dev", "/tmp", "/run"] {
        assert!(
            planned.iter().any(|p| p == must),
            "plan lacks {must}: {planned:?}"
        );
    }
    let mut args = vec!["mounts-exactly"];
    args.extend(planned.iter().map(String::as_str));
    probe(&world, &profile, &args, 1);
    probe(
        &world,
        &profile,
        &[
            "absent",
            "/oldroot",
            "/newroot",
            "/tmp/oldroot",
            "/tmp/newroot",
        ],
        1,
    );
}

#[test]
fn dev_holds_only_the_planned_nodes() {
    let world = World::new();
    probe(
        &world,
        &basic(&world),
        &[
            "dev-exactly",
            "null",
            "zero",
            "full",
            "random",
            "urandom",
            "tty",
            "pts",
            "ptmx",
            "shm",
            "fd",
            "stdin",
            "stdout",
            "stderr",
        ],
        1,
    );
}

#[test]
fn host_files_outside_the_shares_are_absent() {
    let world = World::new();
    std::fs::write(world.home.join("secret.txt"), "host secret").unwrap();
    std::fs::create_dir_all(world.home.join("Private")).unwrap();
    world.fix_owner();
    let secret = world.home.join("secret.txt");
    let root = world.root.path().join("bin/boxtop");
    probe(
        &world,
        &basic(&world),
        &[
            "absent",
            secret.to_str().unwrap(),
            world.home.join("Private").to_str().unwrap(),
            root.to_str().unwrap(),
            "/work",
            "/var/lib",
            "/srv",
        ],
        1,
    );
}

#[test]
fn read_only_share_cannot_be_written_and_read_write_share_can() {
    let world = World::new();
    for dir in ["Music", "Documents"] {
        std::fs::create_dir_all(world.home.join(dir)).unwrap();
    }
    world.fix_owner();
    let profile = world.probe_profile(
        "shares",
        "network = \"none\"",
        "[[home.share]]\npath = \"Music\"\nmode = \"ro\"\n[[home.share]]\npath = \"Documents\"\nmode = \"rw\"\n",
    );
    let music = world.home.join("Music/new.txt");
    probe(
        &world,
        &profile,
        &["write-denied", music.to_str().unwrap()],
        1,
    );
    assert!(!music.exists());
    let doc = world.home.join("Documents/from-sandbox.txt");
    probe(
        &world,
        &profile,
        &["write-file", doc.to_str().unwrap(), "hello from inside"],
        1,
    );
    assert_eq!(
        std::fs::read_to_string(&doc).unwrap(),
        "hello from inside",
        "the write is seen on the host"
    );
}

#[test]
fn private_home_is_a_folder_of_its_own_that_persists_across_runs() {
    let world = World::new();
    let profile = basic(&world);
    let file = world.home.join("notes.txt");
    probe(
        &world,
        &profile,
        &["write-file", file.to_str().unwrap(), "kept"],
        1,
    );
    assert!(
        !file.exists(),
        "the write went to the private home, not the real one"
    );
    let private = world.home.join(".local/share/boxtop/homes/basic/notes.txt");
    assert_eq!(std::fs::read_to_string(&private).unwrap(), "kept");
    probe(
        &world,
        &profile,
        &["read-file", file.to_str().unwrap(), "kept"],
        1,
    );
}

#[test]
fn ephemeral_home_is_forgotten() {
    let world = World::new();
    let profile = world.probe_profile_with("eph", "network = \"none\"", "ephemeral = true", "");
    let file = world.home.join("notes.txt");
    probe(
        &world,
        &profile,
        &["write-file", file.to_str().unwrap(), "gone"],
        1,
    );
    probe(&world, &profile, &["absent", file.to_str().unwrap()], 1);
    assert!(!world.home.join(".local/share/boxtop/homes/eph").exists());
}

#[test]
fn inherited_file_descriptors_are_closed() {
    use std::os::unix::process::CommandExt;
    let world = World::new();
    let profile = basic(&world);
    let mut cmd = world.boxtop(&[
        "run",
        "--profile-file",
        profile.to_str().unwrap(),
        "--",
        "fds-closed",
    ]);
    let (keep_read, keep_write) = nix::unistd::pipe().unwrap();
    let (raw_read, raw_write) = {
        use std::os::fd::AsRawFd;
        (keep_read.as_raw_fd(), keep_write.as_raw_fd())
    };
    // SAFETY: dup2 is async-signal-safe; it leaves fds 7 and 8 open across exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::libc::dup2(raw_read, 7);
            nix::libc::dup2(raw_write, 8);
            Ok(())
        });
    }
    let output = cmd.output().unwrap();
    assert_probe_ok(&output, 1);
}

#[test]
fn filtered_syscalls_return_their_errno() {
    let world = World::new();
    let oks = probe(&world, &basic(&world), &["syscalls"], 60);
    for name in [
        "syscalls/keyctl",
        "syscalls/ioctl-tiocsti-highbits",
        "syscalls/clone3",
        "syscalls/socket-packet",
        "syscalls/personality-linux",
        "syscalls/personality-query",
        "syscalls/pidfd_getfd",
        "syscalls/process_madvise",
    ] {
        assert!(
            oks.iter().any(|ok| ok == name),
            "{name} was not checked: {oks:?}"
        );
    }
}

#[test]
fn userns_profiles_may_nest_namespaces_but_nothing_else() {
    let world = World::new();
    let profile = world.probe_profile("nested", "network = \"none\"\nallow_userns = true", "");
    probe(&world, &profile, &["syscalls-userns"], 60);
}

#[test]
fn foreign_syscall_abis_are_killed() {
    let world = World::new();
    probe(&world, &basic(&world), &["foreign-abi-killed"], 2);
}

#[test]
fn ordinary_operations_still_work() {
    let world = World::new();
    probe(&world, &basic(&world), &["controls"], 6);
}

#[test]
fn hostname_is_the_profile_name() {
    let world = World::new();
    probe(&world, &basic(&world), &["hostname", "basic"], 1);
}

#[test]
fn network_none_has_only_lo_and_no_abstract_x_socket() {
    let world = World::new();
    let display = free_display();
    let _x = Xvfb::start(&world, display);
    let name = format!("/tmp/.X11-unix/X{display}");
    // The host can reach the server's abstract socket: the check below can fail.
    let host_probe = world
        .command(&probe_binary())
        .args(["abstract-reachable", &name])
        .output()
        .unwrap();
    assert_probe_ok(&host_probe, 1);
    let profile = basic(&world);
    probe(&world, &profile, &["abstract-unreachable", &name], 1);
    probe(&world, &profile, &["absent", &name], 1);
    probe(&world, &profile, &["only-lo"], 1);
}

#[test]
fn network_host_shares_the_host_network() {
    let world = World::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let profile = world.probe_profile("hostnet", "network = \"host\"", "");
    let mut args = vec!["ns-differ".to_string()];
    args.extend(ns_args(true));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    probe(&world, &profile, &args, 7);
    probe(&world, &profile, &["tcp-reachable", &addr], 1);
    let none = basic(&world);
    probe(&world, &none, &["tcp-unreachable", &addr], 1);
}

#[test]
fn exit_status_of_the_app_is_boxtop_exit_status() {
    let world = World::new();
    let profile = world.profile(
        "exit",
        "command = [\"/bin/sh\", \"-c\"]\n[home]\nephemeral = true\n",
    );
    let run = |script: &str| {
        world
            .boxtop(&[
                "run",
                "--profile-file",
                profile.to_str().unwrap(),
                "--",
                script,
            ])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run("exit 0"), Some(0));
    assert_eq!(run("exit 42"), Some(42));
    assert_eq!(run("kill -9 $$"), Some(128 + 9));
}

/// The `sleep` processes whose environment holds `marker` (set by the profile's env).
fn pids_with_marker(marker: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "sleep")
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .map(|cmd| String::from_utf8_lossy(&cmd).contains(marker))
                    .unwrap_or(false)
        })
        .collect()
}

#[test]
fn the_sandbox_dies_with_boxtop() {
    let world = World::new();
    let marker = format!("boxtop-marker-{}", std::process::id());
    let profile = world.profile(
        "sleeper",
        &format!("command = [\"/bin/sh\", \"-c\"]\n[env]\nTEST_MARKER = \"{marker}\"\n[home]\nephemeral = true\n"),
    );
    let mut child = world
        .boxtop(&[
            "run",
            "--profile-file",
            profile.to_str().unwrap(),
            "--",
            "sleep 1000 & exec sleep 999",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the app to start", Duration::from_secs(10), || {
        !pids_with_marker(&marker).is_empty()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until("the sandbox to die", Duration::from_secs(5), || {
        pids_with_marker(&marker).is_empty()
    });
}

#[test]
fn sigterm_to_boxtop_reaches_the_app() {
    let world = World::new();
    let marker = format!("boxtop-term-{}", std::process::id());
    let profile = world.profile(
        "termed",
        &format!("command = [\"/bin/sh\", \"-c\"]\n[env]\nTEST_MARKER = \"{marker}\"\n[home]\nephemeral = true\n"),
    );
    let child = world
        .boxtop(&[
            "run",
            "--profile-file",
            profile.to_str().unwrap(),
            "--",
            "trap 'exit 7' TERM; sleep 1000 & wait",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the app to start", Duration::from_secs(10), || {
        !pids_with_marker(&marker).is_empty()
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(7),
        "the app's TERM trap ran and its exit code came back"
    );
}

/// Whether `pid` catches SIGTERM (its bit in `SigCgt` of /proc/PID/status).
fn catches_sigterm(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (libc::SIGTERM - 1)) != 0)
}

#[test]
fn sigterm_while_the_sandbox_is_being_built_reaches_the_app() {
    let world = World::new();
    let marker = format!("boxtop-early-{}", std::process::id());
    let profile = world.profile(
        "early",
        &format!("command = [\"/bin/sleep\", \"1000\"]\n[env]\nTEST_MARKER = \"{marker}\"\n[home]\nephemeral = true\n"),
    );
    // Sent as soon as boxtop catches SIGTERM, the signal most often arrives while the
    // sandbox is still being built, before the app exists; five tries at least, up to twenty
    // until one did.
    let mut early = 0;
    for tries in 0..20 {
        if early > 0 && tries >= 5 {
            break;
        }
        let mut child = world
            .boxtop(&["run", "--profile-file", profile.to_str().unwrap()])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !catches_sigterm(child.id()) {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "boxtop never caught SIGTERM"
            );
            std::thread::yield_now();
        }
        let app_was_running = !pids_with_marker(&marker).is_empty();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        if !app_was_running {
            early += 1;
        }
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("the SIGTERM sent while boxtop started never reached the app");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(
            status.code(),
            Some(128 + libc::SIGTERM),
            "boxtop passed the signal on and reported the app's death by it: {status:?}"
        );
        wait_until("the app to be gone", Duration::from_secs(5), || {
            pids_with_marker(&marker).is_empty()
        });
    }
    assert!(
        early > 0,
        "boxtop caught SIGTERM only once the app ran: a signal during the build would kill it"
    );
}
