//! The desktop entry tests' user: explicit XDG folders over the app fixtures of
//! `tests/entries/`, desktop-file-utils and gio to check and run what boxtop writes, and
//! readers of the written files.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use boxtop::entries::desktop_file::{DesktopFile, MAIN_GROUP};
use boxtop::entries::Env;
use boxtop::profile::{Profile, ProfileSet};

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/entries")
}

/// A program of desktop-file-utils; the tests need it and say how to get it.
pub(crate) fn desktop_file_utils(program: &str) -> PathBuf {
    let found = ["/usr/bin", "/usr/local/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "{program} is missing: install desktop-file-utils (`make test` installs it; \
             Debian: apt-get install desktop-file-utils)"
        )
    })
}

pub(crate) fn gio() -> PathBuf {
    let path = PathBuf::from("/usr/bin/gio");
    assert!(
        path.is_file(),
        "gio is missing: install libglib2.0-bin (`make test` installs it)"
    );
    path
}

/// Runs desktop-file-validate on a file and fails on any error or warning.
pub(crate) fn validate(path: &Path) {
    let output = Command::new(desktop_file_utils("desktop-file-validate"))
        .arg(path)
        .output()
        .expect("run desktop-file-validate");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        output.status.success() && !report.contains("error:") && !report.contains("warning:"),
        "desktop-file-validate {}:\n{report}\n--- the file:\n{text}",
        path.display()
    );
}

/// A user with empty data and config homes, over the fixture apps.
pub(crate) struct Setup {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) env: Env,
    pub(crate) profiles: ProfileSet,
}

impl Setup {
    pub(crate) fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let env = Env {
            data_home: home.join(".local/share"),
            config_home: home.join(".config"),
            data_dirs: vec![fixtures().join("data"), fixtures().join("low")],
            config_dirs: vec![fixtures().join("config")],
            boxtop: dir.path().join("bin/boxtop"),
            state_dir: home.join(".local/share/boxtop"),
            update_desktop_database: Some(desktop_file_utils("update-desktop-database")),
        };
        let mut profiles = ProfileSet::default();
        profiles.add_user_dir(&fixtures().join("profiles"));
        Setup { dir, env, profiles }
    }

    pub(crate) fn profile(&self, name: &str) -> Profile {
        self.profiles.resolve(name).expect("fixture profile")
    }

    pub(crate) fn apps(&self) -> PathBuf {
        self.env.applications_dir()
    }

    pub(crate) fn autostart(&self) -> PathBuf {
        self.env.autostart_dir()
    }
}

pub(crate) fn read(path: &Path) -> DesktopFile {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    DesktopFile::parse(&text).expect("boxtop's file parses")
}

pub(crate) fn key(file: &DesktopFile, key: &str) -> Option<String> {
    file.raw(MAIN_GROUP, key).map(str::to_string)
}

pub(crate) fn localized(file: &DesktopFile, key: &str, locale: &str) -> Option<String> {
    file.raw_localized(MAIN_GROUP, key, Some(locale))
        .map(str::to_string)
}

/// Every path under `dir` (relative) with its bytes (None for a folder); None when `dir`
/// does not exist.
pub(crate) fn snapshot(dir: &Path) -> Option<BTreeMap<PathBuf, Option<Vec<u8>>>> {
    if !dir.exists() {
        return None;
    }
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().to_path_buf();
            if path.is_dir() {
                stack.push(path);
                out.insert(relative, None);
            } else {
                out.insert(relative, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    Some(out)
}

pub(crate) fn names(snapshot: &Option<BTreeMap<PathBuf, Option<Vec<u8>>>>) -> Vec<PathBuf> {
    snapshot
        .as_ref()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default()
}

/// A stand-in for boxtop that writes its arguments, one a line, to `args.txt` beside it.
pub(crate) fn recording_boxtop(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let script = dir.join("boxtop");
    std::fs::write(
        &script,
        "#!/bin/sh\nout=\"$(dirname \"$0\")/args.txt\"\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$out.tmp\"\nmv \"$out.tmp\" \"$out\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

pub(crate) fn launched_args(dir: &Path) -> Vec<String> {
    let file = dir.join("args.txt");
    let start = Instant::now();
    while !file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the entry did not start boxtop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The system's own folders, as a user of this machine has them.
pub(crate) fn system_env(dir: &Path) -> Env {
    Env {
        data_home: dir.join("home/.local/share"),
        config_home: dir.join("home/.config"),
        data_dirs: vec!["/usr/local/share".into(), "/usr/share".into()],
        config_dirs: vec!["/etc/xdg".into()],
        boxtop: PathBuf::from("/usr/local/bin/boxtop"),
        state_dir: dir.join("home/.local/share/boxtop"),
        update_desktop_database: None,
    }
}

/// A fake app that copies what it is opened with into its one share (Pictures): it
/// writes the argument it got to `arg.txt` and the file's contents (a `file://` URI
/// stripped) to `seen.txt`, then stays running.
pub(crate) const READER_PROFILE: &str = r#"name = "reader"
desktop_file = "org.example.Reader"
command = ["/bin/sh", "-c", "printf '%s\n' \"$1\" > \"$HOME/Pictures/arg.txt\"; cat \"${1#file://}\" > \"$HOME/Pictures/seen.txt\"; exec sleep 1000", "reader"]
[home]
ephemeral = true
[[home.share]]
path = "Pictures"
mode = "rw"
"#;

/// The reader's own desktop entry: it takes URIs and plain text.
pub(crate) const READER_ENTRY: &str =
    "[Desktop Entry]\nType=Application\nName=Reader\nExec=reader %U\nMimeType=text/plain;\n";

/// Installs an app on the world's system: its desktop entry `id` (with `entry` as its
/// text) in a data folder of the world's own (`XDG_DATA_DIRS`), and the user profile
/// `profile` (its file's text) for it. Returns the world's Pictures folder, made.
pub(crate) fn install_app(
    world: &mut crate::support::World,
    id: &str,
    entry: &str,
    profile: &str,
    profile_text: &str,
) -> PathBuf {
    let data_dirs = world.root.path().join("system-data");
    let apps = data_dirs.join("applications");
    std::fs::create_dir_all(&apps).unwrap();
    std::fs::write(apps.join(id), entry).unwrap();
    world
        .env
        .insert("XDG_DATA_DIRS".into(), data_dirs.display().to_string());
    let profiles = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(profiles.join(format!("{profile}.toml")), profile_text).unwrap();
    let pictures = world.home.join("Pictures");
    std::fs::create_dir_all(&pictures).unwrap();
    pictures
}
