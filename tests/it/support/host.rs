//! What the tests start or change on the host around boxtop: required programs, servers
//! killed when dropped, commands in a mount namespace of their own, small full folders.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::world::{accepts, is_root, wait_until, World};

/// A server process killed when dropped.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where the host's `program` is; the test fails, naming the Debian package that has it,
/// when it is not installed.
pub(crate) fn require(program: &str, package: &str) -> PathBuf {
    let path = ["/usr/bin", "/usr/sbin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.exists());
    path.unwrap_or_else(|| {
        panic!("{program} is missing: `make test` installs it (Debian package {package})")
    })
}

/// A server started by `command`, its output discarded, once the socket `socket`
/// (relative to the runtime folder) is there.
pub(crate) fn server_with_socket(
    world: &World,
    mut command: Command,
    socket: &str,
    what: &str,
) -> Server {
    let server = Server(
        command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let socket = world.runtime_dir.join(socket);
    wait_until(what, Duration::from_secs(20), || accepts(&socket));
    server
}

/// `program` as the test user, in a mount namespace of its own that `setup`, a shell
/// command run as root first, changed. Arguments added to the command go to `program`.
pub(crate) fn with_private_mounts(world: &World, setup: &str, program: &Path) -> Command {
    assert!(
        is_root(),
        "this test gives a process a mount namespace of its own, which needs root: run the \
         tests as root, as CI does"
    );
    let inner = world.command(program);
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
        .arg(format!("{setup} && exec \"$@\""))
        .arg("sh")
        .arg(inner.get_program())
        .args(inner.get_args())
        .env_clear()
        .envs(&world.env)
        .current_dir(&world.home)
        .stdin(Stdio::null());
    cmd
}

/// A tmpfs of `size` mounted over a folder of the test user, unmounted when dropped.
pub(crate) struct SmallFolder {
    path: PathBuf,
}

impl SmallFolder {
    pub(crate) fn mount(path: &Path, size: &str, uid: u32) -> SmallFolder {
        assert!(
            is_root(),
            "a full folder is a small tmpfs the test mounts, which needs root: run the \
             tests as root (`make test` and CI do)"
        );
        std::fs::create_dir_all(path).expect("mkdir the mount point");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("tmpfs")
            .arg(path)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount a tmpfs on {}", path.display());
        let folder = SmallFolder {
            path: path.to_path_buf(),
        };
        nix::unistd::chown(
            path,
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(uid)),
        )
        .expect("chown the tmpfs");
        folder
    }

    fn filler(&self) -> PathBuf {
        self.path.join("filler")
    }

    /// Fills the folder to the last byte (as root, which tmpfs does not favour).
    pub(crate) fn fill(&self) {
        use std::io::Write;
        let mut file = std::fs::File::create(self.filler()).expect("create the filler");
        let block = vec![0u8; 4096];
        let small = [0u8; 1];
        while file.write_all(&block).is_ok() {}
        while file.write_all(&small).is_ok() {}
        let _ = file.sync_all();
        let stat = nix::sys::statvfs::statvfs(&self.path).expect("statvfs");
        assert_eq!(
            stat.blocks_available(),
            0,
            "{} is not full",
            self.path.display()
        );
    }

    pub(crate) fn free(&self) {
        std::fs::remove_file(self.filler()).expect("remove the filler");
    }
}

impl Drop for SmallFolder {
    fn drop(&mut self) {
        // Lazily: a process of a failed test may still have a file open there.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// Everything below `dir` (itself included): path, type and mode, size, inode, mtime and
/// ctime, to tell that nothing was created, changed or replaced there.
pub(crate) fn tree_state(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(path) = todo.pop() {
        let meta = std::fs::symlink_metadata(&path).expect("lstat");
        out.push(format!(
            "{} mode={:o} size={} ino={} mtime={}.{} ctime={}.{}",
            path.display(),
            meta.mode(),
            meta.size(),
            meta.ino(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec()
        ));
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read_dir") {
                todo.push(entry.expect("entry").path());
            }
        }
    }
    out.sort();
    out
}
