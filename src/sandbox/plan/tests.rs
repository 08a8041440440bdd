use super::*;
use crate::profile::schema::{Home, Share};

pub fn test_host() -> Host {
    Host {
        uid: 1000,
        gid: 1000,
        user: "ada".into(),
        home: "/home/ada".into(),
        runtime_dir: "/run/user/1000".into(),
        private_homes: "/home/ada/.local/share/boxtop/homes".into(),
        top_level: vec![
            ("bin".into(), HostEntry::Symlink("usr/bin".into())),
            ("lib".into(), HostEntry::Symlink("usr/lib".into())),
            ("lib64".into(), HostEntry::Dir),
        ],
        etc: vec![
            ("ld.so.cache".into(), HostEntry::File),
            (
                "os-release".into(),
                HostEntry::Symlink("../usr/lib/os-release".into()),
            ),
        ],
        env: vec![("LANG".into(), "C.UTF-8".into())],
        session: crate::access::Session::default(),
        ram_bytes: 8 << 30,
    }
}

#[allow(clippy::result_large_err)]
pub fn test_profile() -> Profile {
    crate::profile::load::parse("t.toml", "name = \"demo\"\ncommand = [\"demo\", \"--x\"]\n")
        .and_then(|raw| {
            crate::profile::validate::finish(
                raw,
                "demo",
                &crate::profile::validate::Origin {
                    file: "t.toml",
                    text: None,
                },
            )
        })
        .expect("valid profile")
}

#[test]
fn plan_orders_security_relevant_steps() {
    let mut profile = test_profile();
    profile.home = Home {
        ephemeral: false,
        share: vec![Share {
            path: "Documents".into(),
            mode: Access::Rw,
            create: false,
            force: false,
        }],
    };
    let input = PlanInput {
        shares: vec![ResolvedShare {
            rel: "Documents".into(),
            real: "/home/ada/Documents".into(),
            access: Access::Rw,
            is_dir: true,
        }],
        extra_args: vec!["file.txt".into()],
        ..PlanInput::default()
    };
    let plan = Plan::new(&profile, &test_host(), &input).unwrap();
    assert_eq!(
        plan.namespaces.len(),
        7,
        "network none has its own net namespace"
    );
    assert_eq!(plan.steps.last(), Some(&Step::RemountRootReadOnly));
    assert_eq!(plan.argv, vec!["demo", "--x", "file.txt"]);
    let home_bind = plan
        .steps
        .iter()
        .position(|s| matches!(s, Step::Bind { dest, .. } if dest == Path::new("/home/ada")))
        .unwrap();
    let share_bind = plan
        .steps
        .iter()
        .position(
            |s| matches!(s, Step::Bind { dest, .. } if dest == Path::new("/home/ada/Documents")),
        )
        .unwrap();
    assert!(
        home_bind < share_bind,
        "shares are bound over the private home"
    );
    assert!(plan.steps.contains(&Step::Dir {
        dest: "/home".into(),
        mode: 0o755
    }));
    assert!(!plan
        .steps
        .iter()
        .any(|s| matches!(s, Step::Bind { src, .. } if src.starts_with("/etc/shadow"))));
    let text = plan.to_string();
    assert!(text.contains("bind-ro   /usr <- /usr"), "{text}");
    assert!(text.contains("symlink   /bin -> usr/bin"), "{text}");
    assert!(
        text.contains("bind-rw   /home/ada/Documents <- /home/ada/Documents (pinned)"),
        "{text}"
    );
}

#[test]
fn host_network_shares_the_namespace_and_resolv_conf() {
    let mut profile = test_profile();
    profile.network = Network::Host;
    let plan = Plan::new(&profile, &test_host(), &PlanInput::default()).unwrap();
    assert!(!plan.namespaces.contains(&Namespace::Net));
    assert!(plan
        .mount_points()
        .contains(&PathBuf::from("/etc/resolv.conf")));
    let none = Plan::new(&test_profile(), &test_host(), &PlanInput::default()).unwrap();
    assert!(!none
        .mount_points()
        .contains(&PathBuf::from("/etc/resolv.conf")));
}

/// The devices and `/sys` entries in a plan, one per line, as `boxtop plan` prints them.
fn device_lines(plan: &Plan) -> String {
    plan.to_string()
        .lines()
        .filter(|line| {
            line.contains("/dev/dri")
                || line.contains("/dev/nvidia")
                || line.contains("/dev/video")
                || line.contains("/dev/media")
                || line.contains("/sys/")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn gpu_and_webcam_nodes_come_only_with_their_grants() {
    let mut host = test_host();
    host.session.dri = vec!["/dev/dri/card0".into(), "/dev/dri/renderD128".into()];
    host.session.nvidia = vec!["/dev/nvidia0".into(), "/dev/nvidiactl".into()];
    host.session.video = vec!["/dev/video0".into(), "/dev/media0".into()];
    host.session.gpu_sys = vec!["/sys/dev/char".into(), "/sys/devices/pci0000:00".into()];
    let mut profile = test_profile();
    let none = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
    assert_eq!(device_lines(&none), "");
    profile.gpu = true;
    let gpu = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
    insta::assert_snapshot!("gpu_grant_devices", device_lines(&gpu));
    profile.gpu = false;
    profile.webcam = true;
    let webcam = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
    insta::assert_snapshot!("webcam_grant_devices", device_lines(&webcam));
}

#[test]
fn etc_gets_what_the_grants_use() {
    let mut host = test_host();
    host.etc.extend([
        ("fonts".into(), HostEntry::Dir),
        ("ssl".into(), HostEntry::Dir),
        ("asound.conf".into(), HostEntry::File),
        ("services".into(), HostEntry::File),
    ]);
    let dests = |profile: &Profile| -> Vec<String> {
        Plan::new(profile, &host, &PlanInput::default())
            .unwrap()
            .steps
            .iter()
            .filter_map(|step| match step {
                Step::Bind { dest, .. } | Step::Copy { dest, .. } => {
                    Some(dest.display().to_string())
                }
                _ => None,
            })
            .filter(|dest| dest.starts_with("/etc/"))
            .collect()
    };
    let mut profile = test_profile();
    assert_eq!(dests(&profile), ["/etc/ld.so.cache"]);
    profile.display = crate::profile::Display::X11;
    profile.audio = crate::profile::Audio::Pulseaudio;
    profile.network = Network::Isolated;
    assert_eq!(
        dests(&profile),
        [
            "/etc/ld.so.cache",
            "/etc/fonts",
            "/etc/ssl",
            "/etc/asound.conf",
            "/etc/services"
        ]
    );
    // Small files are copies, folders and large files are binds.
    let plan = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
    assert!(plan.steps.contains(&Step::Copy {
        src: "/etc/services".into(),
        dest: "/etc/services".into(),
        mode: 0o644
    }));
    assert!(plan.mount_points().contains(&PathBuf::from("/etc/fonts")));
    let mut host = host.clone();
    host.etc.push(("ld.so.cache".into(), HostEntry::LargeFile));
    host.etc
        .retain(|(name, entry)| name != "ld.so.cache" || *entry == HostEntry::LargeFile);
    let plan = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
    assert!(plan
        .mount_points()
        .contains(&PathBuf::from("/etc/ld.so.cache")));
    assert!(!plan
        .steps
        .iter()
        .any(|step| matches!(step, Step::Copy { dest, .. } if dest.ends_with("ld.so.cache"))));
}

#[test]
fn environment_is_rebuilt_from_allowlist_and_profile() {
    let mut profile = test_profile();
    profile.env.insert("LANG".into(), "de_DE.UTF-8".into());
    let plan = Plan::new(&profile, &test_host(), &PlanInput::default()).unwrap();
    let lang: Vec<_> = plan.env.iter().filter(|(k, _)| k == "LANG").collect();
    assert_eq!(lang, vec![&("LANG".to_string(), "de_DE.UTF-8".to_string())]);
    assert!(plan
        .env
        .iter()
        .any(|(k, v)| k == "HOME" && v == "/home/ada"));
}

#[test]
fn a_hundred_thousand_variables_plan_in_linear_time() {
    let mut profile = test_profile();
    for n in 0..100_000 {
        profile.env.insert(format!("V{n}"), "x".into());
    }
    profile.env.insert("LANG".into(), "C".into());
    let started = std::time::Instant::now();
    let plan = Plan::new(&profile, &test_host(), &PlanInput::default()).unwrap();
    // Linear, this takes tens of milliseconds; quadratic, as it was, half a minute.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(plan.env.iter().filter(|(k, _)| k == "LANG").count(), 1);
    assert!(plan.env.iter().any(|(k, v)| k == "LANG" && v == "C"));
}

#[test]
fn ephemeral_home_is_a_tmpfs() {
    let mut profile = test_profile();
    profile.home.ephemeral = true;
    let plan = Plan::new(&profile, &test_host(), &PlanInput::default()).unwrap();
    assert!(plan.private_home.is_none());
    assert!(plan.steps.contains(&Step::Tmpfs {
        dest: "/home/ada".into(),
        mode: 0o700,
        size: 2 << 30,
        inodes: (2 << 30) / 4096,
    }));
}

#[test]
fn a_name_that_leaves_the_homes_folder_makes_no_plan() {
    let mut profile = test_profile();
    for bad in [".", "..", "a/../..", ""] {
        profile.name = bad.into();
        assert!(
            Plan::new(&profile, &test_host(), &PlanInput::default()).is_err(),
            "{bad:?}"
        );
    }
}

/// The tmpfs lines of a plan, as `boxtop plan` prints them.
fn tmpfs_lines(plan: &Plan) -> Vec<String> {
    plan.to_string()
        .lines()
        .filter(|line| line.starts_with("tmpfs"))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_tmpfs_is_sized_by_the_memory_limit_or_the_ram() {
    let mut profile = test_profile();
    profile.home.ephemeral = true;
    let unlimited = Plan::new(&profile, &test_host(), &PlanInput::default()).unwrap();
    assert_eq!(
        tmpfs_lines(&unlimited),
        [
            "tmpfs     /dev mode=755 size=1M nr_inodes=256",
            "tmpfs     /dev/shm mode=1777 size=2G nr_inodes=524288",
            "tmpfs     /tmp mode=1777 size=2G nr_inodes=524288",
            "tmpfs     /run mode=755 size=2G nr_inodes=524288",
            "tmpfs     /home/ada mode=700 size=2G nr_inodes=524288",
        ]
    );
    profile.limits.memory_bytes = Some(64 << 20);
    let mut host = test_host();
    host.runtime_dir = "/var/run-elsewhere/1000".into();
    let limited = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
    assert_eq!(
        tmpfs_lines(&limited),
        [
            "tmpfs     /dev mode=755 size=1M nr_inodes=256",
            "tmpfs     /dev/shm mode=1777 size=64M nr_inodes=16384",
            "tmpfs     /tmp mode=1777 size=64M nr_inodes=16384",
            "tmpfs     /run mode=755 size=1M nr_inodes=256",
            "tmpfs     /var/run-elsewhere/1000 mode=700 size=64M nr_inodes=16384",
            "tmpfs     /home/ada mode=700 size=64M nr_inodes=16384",
        ]
    );
    // A limit too small to start anything still leaves room for a few files.
    assert_eq!(TmpfsBounds::new(Some(1000), 8 << 30).data, 4 << 20);
    assert_eq!(
        TmpfsBounds::new(Some((64 << 20) + 1), 0).data,
        (64 << 20) + 4096
    );
}

#[test]
fn grants_from_the_home_are_pinned_and_skipped_looks_are_shown() {
    let mut host = test_host();
    host.session.x11 = Some(crate::access::X11 {
        number: 0,
        socket: "/tmp/.X11-unix/X0".into(),
        cookie: None,
    });
    host.session.look = vec!["/home/ada/.icons".into()];
    host.session.look_skipped = vec![(
        "/home/ada/.config/gtk-3.0/settings.ini".into(),
        "a symlink".into(),
    )];
    let mut profile = test_profile();
    let none = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
    assert!(!none.to_string().contains("skipped"));
    profile.display = crate::profile::Display::X11;
    let plan = Plan::new(&profile, &host, &PlanInput::default()).unwrap();
    let text = plan.to_string();
    assert!(
        text.contains("bind-ro   /home/ada/.icons <- /home/ada/.icons (pinned)"),
        "{text}"
    );
    assert!(
        text.contains("bind-rw   /tmp/.X11-unix/X0 <- /tmp/.X11-unix/X0\n"),
        "{text}"
    );
    assert!(
        text.contains("skipped   /home/ada/.config/gtk-3.0/settings.ini (a symlink)"),
        "{text}"
    );
}

/// Destinations are made by walking from `/` with no symlink: none may pass through a
/// symlink the plan itself makes, or the executor refuses it.
#[test]
fn no_destination_passes_through_a_planned_symlink() {
    let mut host = test_host();
    host.session.x11 = Some(crate::access::X11 {
        number: 0,
        socket: "/tmp/.X11-unix/X0".into(),
        cookie: Some(b"cookie".to_vec()),
    });
    host.session.gpu_sys = vec!["/sys/dev/char".into()];
    host.session.dri = vec!["/dev/dri/card0".into()];
    host.session.look = vec!["/home/ada/.icons".into()];
    host.etc.push(("fonts".into(), HostEntry::Dir));
    let mut profile = test_profile();
    profile.display = crate::profile::Display::X11;
    profile.gpu = true;
    profile.network = Network::Host;
    let input = PlanInput {
        binds: vec![Bind {
            path: "/usr/lib/firmware".into(),
            mode: Access::Ro,
            optional: false,
        }],
        shares: vec![ResolvedShare {
            rel: "Documents".into(),
            real: "/home/ada/Documents".into(),
            access: Access::Rw,
            is_dir: true,
        }],
        ..PlanInput::default()
    };
    for ephemeral in [false, true] {
        profile.home.ephemeral = ephemeral;
        let plan = Plan::new(&profile, &host, &input).unwrap();
        let links: Vec<&Path> = plan
            .steps
            .iter()
            .filter_map(|step| match step {
                Step::Symlink { dest, .. } => Some(dest.as_path()),
                _ => None,
            })
            .collect();
        for step in &plan.steps {
            let dest = match step {
                Step::Tmpfs { dest, .. }
                | Step::Dir { dest, .. }
                | Step::Bind { dest, .. }
                | Step::Symlink { dest, .. }
                | Step::Copy { dest, .. }
                | Step::File { dest, .. }
                | Step::Proc { dest }
                | Step::ReadOnly { dest }
                | Step::Devpts { dest } => dest,
                Step::RemountRootReadOnly => continue,
            };
            for link in &links {
                assert!(
                    dest == link || !dest.starts_with(link),
                    "{step} passes through the planned symlink {}",
                    link.display()
                );
            }
        }
    }
}
