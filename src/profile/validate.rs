//! Checks a profile file's keys and turns a merged `RawProfile` into the effective
//! `Profile`. Pure: no file system access (symlinks are checked when a sandbox is planned).

use std::path::{Component, Path};

use super::error::{key_path, KeyPath, KeySeg, ProfileError};
use super::schema::{Dbus, Home, Limits, Profile, RawProfile};
use crate::escape;

/// Folders that hold secrets or let a sandboxed app change what runs outside it: sharing
/// one of them, or a folder that contains one, needs `force = true`.
pub const SENSITIVE: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".local/share/keyrings",
    ".password-store",
    ".pki",
    ".config/boxtop",
    ".local/share/boxtop",
    ".config/autostart",
    ".config/systemd",
    ".config/environment.d",
    // Menu entries and file associations: what they name runs outside the sandbox.
    ".local/share/applications",
    ".config/mimeapps.list",
    // Read by `boxtop import firejail`: a planted profile would become a broad one.
    ".config/firejail",
    ".bashrc",
    ".profile",
    ".bash_profile",
    ".zshrc",
    ".zprofile",
    ".xprofile",
    ".config/fish",
];

/// Where a profile came from, to name it in errors.
pub struct Origin<'a> {
    pub file: &'a str,
    pub text: Option<&'a str>,
}

impl Origin<'_> {
    fn error(&self, key: &[KeySeg], message: impl Into<String>) -> ProfileError {
        ProfileError::at_key(self.file, self.text, key, message)
    }
}

/// What a profile name may be, for error hints.
pub const NAME_RULE: &str =
    "a name is 1 to 63 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit";

/// Whether `name` can name a profile (and a hostname, a file, a cgroup): it is never
/// `.` or `..`, holds no `/` and no control character, so it stays one file name in the
/// folders it names things in.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// Whether `id` can be a desktop file id (`org.example.App` or `org.example.App.desktop`):
/// a file name, not hidden, with no `.` or `..` among its `-`-separated parts (desktops
/// read those parts as subfolders).
pub fn is_valid_desktop_id(id: &str) -> bool {
    let stem = id.strip_suffix(".desktop").unwrap_or(id);
    !stem.is_empty()
        && id.len() <= 200
        && !id.starts_with(['.', '-'])
        && !id.contains('/')
        && !id.chars().any(char::is_control)
        && !stem.split('-').any(|part| part == "." || part == "..")
}

/// Checks the keys this file itself sets.
pub fn check_raw(raw: &RawProfile, origin: &Origin) -> Result<(), ProfileError> {
    if let Some(name) = &raw.name {
        if !is_valid_name(name) {
            return Err(origin
                .error(
                    &key_path(&["name"]),
                    format!("'{}' is not a valid profile name", escape::controls(name)),
                )
                .with_hint(NAME_RULE));
        }
    }
    if let Some(parent) = &raw.extends {
        if !is_valid_name(parent) {
            return Err(origin
                .error(
                    &key_path(&["extends"]),
                    format!("'{}' is not a profile name", escape::controls(parent)),
                )
                .with_hint(NAME_RULE));
        }
    }
    if let Some(id) = &raw.desktop_file {
        if !is_valid_desktop_id(id) {
            return Err(origin
                .error(
                    &key_path(&["desktop_file"]),
                    format!("'{}' is not a desktop file id", escape::controls(id)),
                )
                .with_hint("write the id of the app's menu entry, like \"org.example.App.desktop\": a file name with no '/'"));
        }
    }
    if let Some(command) = &raw.command {
        if let Some(index) = command.iter().position(|arg| arg.contains('\0')) {
            let mut key = key_path(&["command"]);
            key.push(KeySeg::Index(index));
            return Err(origin
                .error(
                    &key,
                    "holds a NUL byte, which no program argument can carry",
                )
                .with_hint("remove the \\u0000 from it"));
        }
        if command.is_empty() || command[0].is_empty() {
            return Err(origin
                .error(&key_path(&["command"]), "the command is empty")
                .with_hint("give the program and its arguments, e.g. command = [\"mousepad\"]"));
        }
    }
    if let Some(binaries) = &raw.binaries {
        for (index, binary) in binaries.iter().enumerate() {
            if !binary.starts_with('/') {
                return Err(origin
                    .error(
                        &index_key("binaries", index),
                        format!("'{binary}' is not an absolute path"),
                    )
                    .with_hint(
                        "list where the program may be installed, e.g. \"/usr/bin/firefox\"",
                    ));
            }
        }
    }
    if let Some(home) = &raw.home {
        for (index, share) in home.share.iter().flatten().enumerate() {
            let key = vec![
                KeySeg::Key("home".into()),
                KeySeg::Key("share".into()),
                KeySeg::Index(index),
                KeySeg::Key("path".into()),
            ];
            check_share_path(&share.path, share.force)
                .map_err(|(message, hint)| origin.error(&key, message).with_hint(hint))?;
        }
    }
    for (index, bind) in raw.binds.iter().flatten().enumerate() {
        let mut key = index_key("binds", index);
        key.push(KeySeg::Key("path".into()));
        check_bind_path(&bind.path)
            .map_err(|(message, hint)| origin.error(&key, message).with_hint(hint))?;
    }
    if let Some(dbus) = &raw.dbus {
        let lists = [
            ("talk", &dbus.talk),
            ("own", &dbus.own),
            ("see", &dbus.see),
            ("system_talk", &dbus.system_talk),
        ];
        for (list, names) in lists {
            for (index, name) in names.iter().flatten().enumerate() {
                if !is_valid_bus_name(name) {
                    let mut key = key_path(&["dbus"]);
                    key.push(KeySeg::Key(list.into()));
                    key.push(KeySeg::Index(index));
                    return Err(origin
                        .error(&key, format!("'{name}' is not a D-Bus name"))
                        .with_hint("use a well-known name like org.mpris.MediaPlayer2.vlc, optionally ending in .*"));
                }
            }
        }
    }
    if let Some(env) = &raw.env {
        for name in env.keys() {
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                return Err(origin
                    .error(
                        &key_path(&["env"]),
                        format!("'{name}' is not a valid variable name"),
                    )
                    .with_hint("variable names cannot be empty or contain '='"));
            }
        }
    }
    if let Some(limits) = &raw.limits {
        if let Some(memory) = &limits.memory {
            let key = key_path(&["limits", "memory"]);
            match size_problem(memory) {
                None => {}
                Some(SizeProblem::NotASize) => {
                    return Err(origin
                        .error(&key, format!("'{memory}' is not a size"))
                        .with_hint("write a size like \"512M\" or \"2G\""))
                }
                Some(SizeProblem::TooSmall) => {
                    return Err(origin
                        .error(
                            &key,
                            format!(
                                "'{memory}' is too small: no app starts in less than {} MiB",
                                MIN_MEMORY >> 20
                            ),
                        )
                        .with_hint("write a size like \"512M\" or \"2G\""))
                }
                Some(SizeProblem::TooLarge) => {
                    return Err(origin
                        .error(
                            &key,
                            format!("'{memory}' is too large: at most 16 EiB can be counted"),
                        )
                        .with_hint(
                            "leave the limit out for no limit, or write a size like \"8G\"",
                        ))
                }
            }
        }
        if let Some(cpu) = limits.cpu {
            if !(cpu > 0.0 && cpu <= 4096.0) {
                return Err(origin
                    .error(
                        &key_path(&["limits", "cpu"]),
                        format!("{cpu} is not a number of CPU cores"),
                    )
                    .with_hint("write a positive number such as 1 or 2.5"));
            }
        }
        if limits.pids == Some(0) {
            return Err(origin
                .error(
                    &key_path(&["limits", "pids"]),
                    "0 processes would not even start the app",
                )
                .with_hint("write at least 1, or remove the key"));
        }
    }
    Ok(())
}

/// Turns a merged raw profile into the effective profile named `name`.
pub fn finish(raw: RawProfile, name: &str, origin: &Origin) -> Result<Profile, ProfileError> {
    check_raw(&raw, origin)?;
    // Every profile is made here: its name becomes a folder, a lock file, a hostname.
    if !is_valid_name(name) {
        return Err(origin
            .error(
                &[],
                format!("'{}' is not a valid profile name", escape::controls(name)),
            )
            .with_hint(NAME_RULE));
    }
    let command = raw.command.ok_or_else(|| {
        origin
            .error(&[], "the profile has no `command`")
            .with_hint("add command = [\"program\", \"args\"...], or extends = \"another-profile\"")
    })?;
    let home = raw.home.unwrap_or_default();
    let dbus = raw.dbus.unwrap_or_default();
    let limits = raw.limits.unwrap_or_default();
    Ok(Profile {
        name: name.to_string(),
        description: raw.description.unwrap_or_default(),
        extends: raw.extends,
        desktop_file: raw.desktop_file,
        binaries: raw.binaries.unwrap_or_default(),
        command,
        display: raw.display.unwrap_or_default(),
        audio: raw.audio.unwrap_or_default(),
        gpu: raw.gpu.unwrap_or(false),
        webcam: raw.webcam.unwrap_or(false),
        network: raw.network.unwrap_or_default(),
        allow_userns: raw.allow_userns.unwrap_or(false),
        forward_files: raw.forward_files.unwrap_or(true),
        home: Home {
            ephemeral: home.ephemeral.unwrap_or(false),
            share: home.share.unwrap_or_default(),
        },
        binds: raw.binds.unwrap_or_default(),
        dbus: Dbus {
            talk: dbus.talk.unwrap_or_default(),
            own: dbus.own.unwrap_or_default(),
            see: dbus.see.unwrap_or_default(),
            system_talk: dbus.system_talk.unwrap_or_default(),
        },
        env: raw.env.unwrap_or_default(),
        limits: Limits {
            memory_bytes: limits.memory.as_deref().and_then(parse_size),
            cpu: limits.cpu,
            pids: limits.pids,
        },
    })
}

fn index_key(list: &str, index: usize) -> KeyPath {
    vec![KeySeg::Key(list.into()), KeySeg::Index(index)]
}

/// A share path must stay strictly inside the home: relative, no `..`, not the home
/// itself; secrets need `force`. Returns (message, hint) on error.
pub fn check_share_path(path: &str, force: bool) -> Result<(), (String, String)> {
    if path.starts_with('/') || path.starts_with('~') {
        return Err((
            format!("'{path}' is not relative to the home folder"),
            "write the path relative to your home, e.g. \"Documents\"; use `binds` for paths outside it".into(),
        ));
    }
    let mut depth = 0usize;
    for component in Path::new(path).components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                return Err((
                    format!("'{path}' leaves the home folder"),
                    "'..' is not allowed in a share path".into(),
                ))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err((
                    format!("'{path}' is not relative to the home folder"),
                    "write the path relative to your home".into(),
                ))
            }
        }
    }
    if depth == 0 {
        return Err((
            format!("'{path}' is the whole home folder"),
            "share the folders the app needs, e.g. \"Documents\"".into(),
        ));
    }
    if !force {
        let normalized = normalize_relative(path);
        for secret in SENSITIVE {
            if is_same_or_inside(&normalized, secret) || is_same_or_inside(secret, &normalized) {
                return Err((
                    format!("'{path}' exposes '{secret}', which holds secrets or can change what runs outside the sandbox"),
                    "add force = true to this share if you really mean it".into(),
                ));
            }
        }
    }
    Ok(())
}

/// `a/./b/` becomes `a/b`.
pub fn normalize_relative(path: &str) -> String {
    Path::new(path)
        .components()
        .filter_map(|component| match component {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `path` is `base` or below it (both normalized, relative or absolute alike).
pub fn is_same_or_inside(path: &str, base: &str) -> bool {
    path == base || (path.starts_with(base) && path[base.len()..].starts_with('/'))
}

/// Paths outside the home that a profile may bind.
pub fn check_bind_path(path: &str) -> Result<(), (String, String)> {
    if !path.starts_with('/') {
        return Err((
            format!("'{path}' is not an absolute path"),
            "binds take absolute paths like \"/media\"; use home.share for folders of your home"
                .into(),
        ));
    }
    if Path::new(path)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err((
            format!("'{path}' contains '..'"),
            "write the path without '..'".into(),
        ));
    }
    let normalized = format!("/{}", normalize_relative(path.trim_start_matches('/')));
    const RESERVED: &[(&str, &str)] = &[
        ("/proc", "the sandbox has its own /proc"),
        ("/dev", "use gpu = true or webcam = true for devices"),
        ("/sys", "the sandbox does not see /sys"),
        (
            "/run",
            "the sandbox has its own /run; grants bring the sockets they need",
        ),
        (
            "/tmp",
            "the sandbox has its own /tmp; grants bring the sockets they need",
        ),
        ("/etc", "the sandbox has its own /etc"),
        ("/var/tmp", "the sandbox's /var/tmp is its own /tmp"),
        ("/home", "use home.share for folders of your home"),
        ("/root", "use home.share for folders of your home"),
    ];
    if normalized == "/" {
        return Err((
            "'/' would expose the whole host".into(),
            "bind only the folders the app needs".into(),
        ));
    }
    for (reserved, hint) in RESERVED {
        if is_same_or_inside(&normalized, reserved) {
            return Err((format!("'{path}' cannot be bound"), (*hint).to_string()));
        }
    }
    Ok(())
}

/// A well-known D-Bus name, optionally ending in `.*` as xdg-dbus-proxy takes it.
pub fn is_valid_bus_name(name: &str) -> bool {
    let name = name.strip_suffix(".*").unwrap_or(name);
    let parts: Vec<&str> = name.split('.').collect();
    name.len() <= 255
        && parts.len() >= 2
        && parts.iter().all(|part| {
            !part.is_empty()
                && !part.starts_with(|c: char| c.is_ascii_digit())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

/// `"512M"`, `"2G"`, `"1.5GiB"`, `"1048576"` into bytes.
/// The smallest memory limit accepted: below it even a shell dies of SIGSEGV at start.
pub const MIN_MEMORY: u64 = 16 << 20;

/// Why a memory size is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeProblem {
    NotASize,
    TooSmall,
    TooLarge,
}

/// What is wrong with `text` as a memory limit, if anything.
pub fn size_problem(text: &str) -> Option<SizeProblem> {
    match parse_size(text) {
        Some(bytes) if bytes < MIN_MEMORY => Some(SizeProblem::TooSmall),
        Some(_) => None,
        None => {
            // A number with a known unit that parse_size refuses is out of range.
            let normalized = text.trim();
            let digits = normalized
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(normalized.len());
            let (number, unit) = normalized.split_at(digits);
            let unit_known = matches!(
                unit.trim().to_ascii_lowercase().as_str(),
                "" | "b"
                    | "k"
                    | "kb"
                    | "kib"
                    | "m"
                    | "mb"
                    | "mib"
                    | "g"
                    | "gb"
                    | "gib"
                    | "t"
                    | "tb"
                    | "tib"
            );
            match number.parse::<f64>() {
                Ok(value) if unit_known && value < 1.0 => Some(SizeProblem::TooSmall),
                Ok(_) if unit_known => Some(SizeProblem::TooLarge),
                _ => Some(SizeProblem::NotASize),
            }
        }
    }
}

pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * factor;
    (bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_too_small_too_large_or_not_sizes_say_which() {
        assert_eq!(size_problem("512M"), None);
        assert_eq!(size_problem("1"), Some(SizeProblem::TooSmall));
        assert_eq!(size_problem("0"), Some(SizeProblem::TooSmall));
        assert_eq!(size_problem("99999999999T"), Some(SizeProblem::TooLarge));
        assert_eq!(size_problem("lots"), Some(SizeProblem::NotASize));
        assert_eq!(size_problem("5Q"), Some(SizeProblem::NotASize));
    }

    #[test]
    fn share_paths_must_stay_inside_home() {
        assert!(check_share_path("Documents", false).is_ok());
        assert!(check_share_path("./Music/", false).is_ok());
        assert!(check_share_path("../x", false).is_err());
        assert!(check_share_path("Documents/../../x", false).is_err());
        assert!(check_share_path("/etc", false).is_err());
        assert!(check_share_path(".", false).is_err());
        assert!(check_share_path("", false).is_err());
        assert!(check_share_path("~/x", false).is_err());
    }

    #[test]
    fn secrets_need_force_and_so_do_their_parents() {
        assert!(check_share_path(".ssh", false).is_err());
        assert!(check_share_path(".ssh", true).is_ok());
        assert!(check_share_path(".local/share", false).is_err());
        assert!(check_share_path(".local/share/fonts", false).is_ok());
        assert!(check_share_path(".config", false).is_err());
        assert!(check_share_path(".sshx", false).is_ok());
    }

    /// What runs outside the sandbox when a menu entry is picked or a file opened, and
    /// what `boxtop import firejail` reads, are guarded like the login scripts.
    #[test]
    fn menu_entries_file_associations_and_firejail_profiles_need_force() {
        for path in [
            ".local/share/applications",
            ".local/share/applications/evil.desktop",
            ".config/mimeapps.list",
            ".config/firejail",
            ".config/environment.d",
            ".config/fish",
            ".zprofile",
            ".xprofile",
        ] {
            assert!(check_share_path(path, false).is_err(), "{path}");
            assert!(check_share_path(path, true).is_ok(), "{path}");
        }
    }

    #[test]
    fn binds_refuse_the_sandbox_own_folders() {
        assert!(check_bind_path("/media").is_ok());
        assert!(check_bind_path("/opt/google/chrome").is_ok());
        assert!(check_bind_path("/").is_err());
        assert!(check_bind_path("/proc/1").is_err());
        assert!(check_bind_path("//etc/").is_err());
        assert!(check_bind_path("media").is_err());
        assert!(check_bind_path("/media/../etc").is_err());
    }

    #[test]
    fn sizes_and_names() {
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Some(3 << 29));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("lots"), None);
        assert!(is_valid_name("firefox-esr"));
        assert!(!is_valid_name("Firefox"));
        assert!(!is_valid_name("-x"));
        assert!(is_valid_bus_name("org.mpris.MediaPlayer2.*"));
        assert!(!is_valid_bus_name("nodots"));
    }
}
