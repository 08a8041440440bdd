//! What a failure of the host's making means and how to fix it: user namespaces a
//! setting forbids, a tun device pasta cannot open. Said by a failed launch and by
//! `boxtop doctor`, which lists them with the other checks.

use std::path::Path;

use nix::errno::Errno;

pub fn read_sysctl(path: &str) -> Option<i64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Why user namespaces cannot be created here, if a known setting forbids them.
pub fn userns_problem() -> Option<String> {
    if read_sysctl("/proc/sys/user/max_user_namespaces") == Some(0) {
        return Some(
            "user namespaces are disabled: /proc/sys/user/max_user_namespaces is 0. Fix: \
             `sudo sysctl -w user.max_user_namespaces=15000` (and put it in /etc/sysctl.d/ to keep it)"
                .into(),
        );
    }
    if read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == Some(0) {
        return Some(
            "unprivileged user namespaces are disabled: kernel.unprivileged_userns_clone is 0. \
             Fix: `sudo sysctl -w kernel.unprivileged_userns_clone=1` (and put it in /etc/sysctl.d/)"
                .into(),
        );
    }
    if read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == Some(1) {
        return Some(
            "AppArmor restricts unprivileged user namespaces \
             (kernel.apparmor_restrict_unprivileged_userns = 1, as on Ubuntu 23.10 and later). \
             Fix: install boxtop's AppArmor profile: `sudo install -m644 assets/apparmor/boxtop \
             /etc/apparmor.d/boxtop && sudo apparmor_parser -r /etc/apparmor.d/boxtop` (see docs/apparmor.md)"
                .into(),
        );
    }
    None
}

/// The explanation to give when creating namespaces failed with `errno`.
pub fn userns_hint(errno: Errno) -> String {
    if let Some(problem) = userns_problem() {
        return problem;
    }
    match errno {
        Errno::ENOSPC => "the limit of user namespaces is reached: see /proc/sys/user/max_user_namespaces".into(),
        Errno::EPERM => "the kernel refused to create a user namespace; inside a container, \
                         allow nested user namespaces (e.g. docker --security-opt seccomp=unconfined)"
            .into(),
        Errno::EINVAL => "this kernel lacks one of the namespaces boxtop needs (user, mount, pid, \
                          ipc, uts, cgroup, net)"
            .into(),
        _ => "run `boxtop doctor` for details".into(),
    }
}

/// The device pasta opens to give `network = "isolated"` its own network stack.
pub const TUN_DEVICE: &str = "/dev/net/tun";

/// Why the user cannot open the tun device, with the fix; `None` when it opens. pasta
/// runs as the user, so `network = "isolated"` needs this to hold.
pub fn tun_problem() -> Option<String> {
    tun_status(Path::new(TUN_DEVICE))
        .err()
        .map(|(what, fix)| format!("{what}; pasta needs it for network = \"isolated\". Fix: {fix}"))
}

/// Opens `path` for reading and writing, as pasta does, and closes it again: `Err` holds
/// what went wrong and the fix.
pub fn tun_status(path: &Path) -> Result<(), (String, String)> {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(error) => Err(tun_diagnosis(path, &error)),
    }
}

/// What an error opening the tun device at `path` means, and the fix.
pub fn tun_diagnosis(path: &Path, error: &std::io::Error) -> (String, String) {
    let shown = path.display();
    let errno = error.raw_os_error().map(Errno::from_raw);
    // "Permission denied" rather than "Permission denied (os error 13)".
    let error = errno.map_or_else(|| error.to_string(), |errno| errno.desc().to_string());
    match errno {
        Some(Errno::ENOENT | Errno::ENODEV | Errno::ENXIO) => (
            format!("{shown} is missing ({error})"),
            "load the tun module: `sudo modprobe tun` (and list `tun` in /etc/modules-load.d/ \
             to keep it)"
                .into(),
        ),
        Some(Errno::EACCES | Errno::EPERM) => (
            format!(
                "{shown} cannot be opened by uid {} ({error})",
                nix::unistd::getuid()
            ),
            format!(
                "`sudo chmod 0666 {shown}`, the mode most distributions give it (systemd's \
                 udev rules do); to keep it across reboots, add the udev rule \
                 `KERNEL==\"tun\", MODE=\"0666\"` in /etc/udev/rules.d/60-tun.rules"
            ),
        ),
        _ => (
            format!("{shown} cannot be opened ({error})"),
            "use a kernel built with CONFIG_TUN, and make the device readable and writable \
             by you"
                .into(),
        ),
    }
}
