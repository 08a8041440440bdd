//! Device grants: GPU render nodes and webcams, on a `/dev` the test makes.

use crate::support::{assert_ok, stdout, with_private_mounts, World};

/// GPU and webcam nodes reach the sandbox only with their grants. This host may have no
/// GPU or camera: the test gives boxtop a `/dev` of its own (a tmpfs with the standard
/// nodes plus a DRM render node and a video node, made with mknod as root in a private
/// mount namespace; the host's `/dev` is not touched).
#[test]
fn gpu_and_webcam_nodes_are_visible_only_with_their_grants() {
    let world = World::new();
    let fake = world.root.path().join("dev");
    let setup = format!(
        "mkdir -p {dev} && mount -t tmpfs -o mode=755 tmpfs {dev} && cd {dev} && \
         mknod -m 666 null c 1 3 && mknod -m 666 zero c 1 5 && mknod -m 666 full c 1 7 && \
         mknod -m 666 random c 1 8 && mknod -m 666 urandom c 1 9 && mknod -m 666 tty c 5 0 && \
         mkdir dri && mknod -m 666 dri/renderD128 c 226 128 && \
         mknod -m 666 video0 c 81 0 && mount --bind {dev} /dev",
        dev = fake.display()
    );
    let run = |keys: &str| -> String {
        let profile = world.profile(
            "devices",
            &format!(
                "command = [\"/bin/sh\", \"-c\", \"ls /dev/dri /dev/video0 2>&1; true\"]\n{keys}\n[home]\nephemeral = true\n"
            ),
        );
        let out = with_private_mounts(&world, &setup, &world.bin.join("boxtop"))
            .args(["run", "--profile-file", profile.to_str().unwrap()])
            .output()
            .unwrap();
        assert_ok(&out, &format!("a sandbox with {keys:?}"));
        stdout(&out)
    };
    let absent = |text: &str, path: &str| text.contains(&format!("cannot access '{path}'"));
    let none = run("");
    assert!(
        absent(&none, "/dev/dri") && absent(&none, "/dev/video0"),
        "{none}"
    );
    let gpu = run("gpu = true");
    assert!(gpu.lines().any(|l| l.trim() == "renderD128"), "{gpu}");
    assert!(absent(&gpu, "/dev/video0"), "{gpu}");
    let webcam = run("webcam = true");
    assert!(absent(&webcam, "/dev/dri"), "{webcam}");
    assert!(
        webcam.lines().any(|l| l.trim() == "/dev/video0"),
        "{webcam}"
    );
}
