//! A real cgroup v2 subtree delegated to the test user, as systemd delegates one.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::world::World;

/// A cgroup v2 folder delegated to the test user the way systemd delegates
/// `user@UID.service`: the folder and its `cgroup.procs`, `cgroup.subtree_control` and
/// `cgroup.threads` chowned, and a leaf `session` the user's processes start in.
pub(crate) struct Delegated {
    pub(crate) dir: PathBuf,
}

impl Delegated {
    pub(crate) fn create(uid: u32) -> Delegated {
        let mount = cgroup2_mount().expect("a cgroup v2 hierarchy");
        let dir = mount.join(format!("boxtop-test-{}", std::process::id()));
        let _ = std::fs::create_dir(&dir);
        // Offer the controllers the root has (on a hybrid host it may have none).
        let offered = std::fs::read_to_string(mount.join("cgroup.controllers")).unwrap_or_default();
        for controller in ["pids", "memory", "cpu"] {
            if offered.split_whitespace().any(|c| c == controller) {
                let _ = std::fs::write(
                    mount.join("cgroup.subtree_control"),
                    format!("+{controller}"),
                );
            }
        }
        let session = dir.join("session");
        std::fs::create_dir_all(&session).unwrap();
        for path in [
            dir.clone(),
            dir.join("cgroup.procs"),
            dir.join("cgroup.subtree_control"),
            dir.join("cgroup.threads"),
            session.clone(),
            session.join("cgroup.procs"),
            session.join("cgroup.subtree_control"),
            session.join("cgroup.threads"),
        ] {
            nix::unistd::chown(
                &path,
                Some(nix::unistd::Uid::from_raw(uid)),
                Some(nix::unistd::Gid::from_raw(uid)),
            )
            .unwrap();
        }
        Delegated { dir }
    }

    /// A command that starts in the `session` leaf, as the test user.
    pub(crate) fn command(&self, world: &World, args: &[&str]) -> Command {
        let mut cmd = world.boxtop(args);
        cmd.env("BOXTOP_CGROUP_ROOT", &self.dir);
        let procs = self.dir.join("session/cgroup.procs");
        use std::os::unix::process::CommandExt;
        // SAFETY: only a write(2) to a cgroup file between fork and exec (still root here;
        // setpriv drops to the test user right after).
        unsafe {
            cmd.pre_exec(move || std::fs::write(&procs, "0"));
        }
        cmd
    }
}

impl Drop for Delegated {
    fn drop(&mut self) {
        // Children first; each is empty once its instance has ended.
        for _ in 0..50 {
            let children: Vec<PathBuf> = std::fs::read_dir(&self.dir)
                .map(|d| {
                    d.flatten()
                        .filter(|e| e.path().is_dir())
                        .map(|e| e.path())
                        .collect()
                })
                .unwrap_or_default();
            for child in &children {
                let _ = std::fs::remove_dir(child);
            }
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

pub(crate) fn cgroup2_mount() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2")
            .then(|| PathBuf::from(left.split_whitespace().nth(4).unwrap()))
    })
}
