//! A profile for an installed app that has none, suggested from the app's desktop entry:
//! the program and its fixed arguments come from `Exec`, the description from `Name` and
//! `Comment`, and the grants from `Categories`, each with a comment saying why, as the
//! bundled profiles have them. The app's icon and mime types reach boxtop's menu entry
//! through `desktop_file`. `boxtop new NAME --from-desktop-file` writes it; the user
//! reviews it with `boxtop show`.
//!
//! A suggestion leans to less: one folder for the app's job, no network for apps that
//! work offline, no D-Bus but what the entry says the app needs.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::desktop_file::{DesktopFile, MAIN_GROUP};
use super::exec::{self, ExecError};
use crate::profile::validate::is_valid_name;

/// Why no profile can be suggested from an entry.
#[derive(Debug, thiserror::Error)]
pub enum SuggestError {
    #[error("{path}: not an application entry (Type={kind})")]
    NotApplication { path: PathBuf, kind: String },
    #[error("{path}: it has no Exec line, so it starts no program")]
    NoExec { path: PathBuf },
    #[error("{path}: its Exec line cannot be read: {source}")]
    Exec { path: PathBuf, source: ExecError },
    #[error(
        "{path}: its Exec line starts '{program}', which is not installed (not found in PATH)"
    )]
    NotInstalled { path: PathBuf, program: String },
    #[error("{path}: its Exec line runs '{program}' through a shell; write this profile by hand")]
    Shell { path: PathBuf, program: String },
}

/// A suggested profile.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// The profile's text, a valid profile with a comment on each grant.
    pub text: String,
    /// The program found on the host.
    pub program: PathBuf,
}

/// A folder of the home a category suggests, and why.
struct ShareIdea {
    path: &'static str,
    rw: bool,
    why: &'static str,
}

/// What categories suggest: (categories, folder, read-write, why). The first idea for a
/// folder gives its reason; read-write wins over read-only.
const SHARES: &[(&[&str], ShareIdea)] = &[
    (
        &[
            "TextEditor",
            "WordProcessor",
            "Spreadsheet",
            "Presentation",
            "Office",
        ],
        ShareIdea {
            path: "Documents",
            rw: true,
            why: "opening and saving your documents",
        },
    ),
    (
        &["Viewer"],
        ShareIdea {
            path: "Documents",
            rw: false,
            why: "opening the documents you read; a viewer never changes them",
        },
    ),
    (
        &[
            "RasterGraphics",
            "VectorGraphics",
            "Photography",
            "2DGraphics",
        ],
        ShareIdea {
            path: "Pictures",
            rw: true,
            why: "opening and saving your pictures",
        },
    ),
    (
        &["WebBrowser", "FileTransfer", "Email", "P2P"],
        ShareIdea {
            path: "Downloads",
            rw: true,
            why: "saving what you download, and uploading files you put there",
        },
    ),
    (
        &["Audio", "Music", "AudioVideo"],
        ShareIdea {
            path: "Music",
            rw: false,
            why: "playing your music; a player never needs to change it",
        },
    ),
    (
        &["Video", "AudioVideo"],
        ShareIdea {
            path: "Videos",
            rw: false,
            why: "playing your videos; a player never needs to change them",
        },
    ),
];

const SOUND: &[&str] = &[
    "AudioVideo",
    "Audio",
    "Video",
    "Music",
    "Player",
    "Game",
    "WebBrowser",
    "InstantMessaging",
    "Chat",
    "VideoConference",
    "Telephony",
];
const GPU: &[&str] = &[
    "WebBrowser",
    "Video",
    "Game",
    "3DGraphics",
    "VideoConference",
];
const NETWORK: &[&str] = &[
    "WebBrowser",
    "Network",
    "Email",
    "Chat",
    "InstantMessaging",
    "IRCClient",
    "FileTransfer",
    "News",
    "Feed",
    "P2P",
    "RemoteAccess",
    "VideoConference",
    "Telephony",
];
const WEBCAM: &[&str] = &["VideoConference", "Telephony"];
const OWN_SANDBOX: &[&str] = &["WebBrowser"];
const NOTIFY: &[&str] = &[
    "Email",
    "Chat",
    "InstantMessaging",
    "IRCClient",
    "Telephony",
];

/// Programs that only run another: a profile of the shell is no profile of the app.
const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "fish", "ksh"];

/// A profile named `name` for the app of desktop entry `file` (of id `id`, read from
/// `path`), whose program is looked up in `path_var`.
pub fn suggest(
    name: &str,
    id: &str,
    path: &Path,
    file: &DesktopFile,
    path_var: &OsStr,
) -> Result<Suggestion, SuggestError> {
    suggest_knowing(name, id, path, file, path_var, &[])
}

/// `suggest`, with where the real program of this app is when boxtop knows it (the
/// `binaries` of a bundled profile for the same desktop entry): an entry's `Exec` is often
/// a launcher script (Debian's /usr/bin/chromium reads /etc/chromium.d, which a sandbox
/// does not show), and a profile must name the program itself.
pub fn suggest_knowing(
    name: &str,
    id: &str,
    path: &Path,
    file: &DesktopFile,
    path_var: &OsStr,
    known_binaries: &[String],
) -> Result<Suggestion, SuggestError> {
    let kind = file.string(MAIN_GROUP, "Type").unwrap_or_default();
    if kind != "Application" {
        return Err(SuggestError::NotApplication {
            path: path.to_path_buf(),
            kind,
        });
    }
    let exec_line = file
        .string(MAIN_GROUP, "Exec")
        .ok_or_else(|| SuggestError::NoExec {
            path: path.to_path_buf(),
        })?;
    let args = exec::parse(&exec_line).map_err(|source| SuggestError::Exec {
        path: path.to_path_buf(),
        source,
    })?;
    // `env VAR=value program ...`: the variables go to [env].
    let mut words: Vec<String> = Vec::new();
    let mut env: Vec<(String, String)> = Vec::new();
    let mut started = false;
    for arg in &args {
        // Arguments that stand for the opened files are added by boxtop at run time.
        let Some(text) = arg.as_text() else { continue };
        if !started && words.is_empty() && text == "env" {
            continue;
        }
        if !started {
            if let Some((var, value)) = text.split_once('=') {
                if !var.is_empty() && !var.contains('/') {
                    env.push((var.to_string(), value.to_string()));
                    continue;
                }
            }
        }
        started = true;
        words.push(text);
    }
    let Some(first) = words.first().cloned() else {
        return Err(SuggestError::NoExec {
            path: path.to_path_buf(),
        });
    };
    let base = first.rsplit('/').next().unwrap_or(&first).to_string();
    if SHELLS.contains(&base.as_str()) {
        return Err(SuggestError::Shell {
            path: path.to_path_buf(),
            program: first,
        });
    }
    let program = if first.starts_with('/') {
        Some(PathBuf::from(&first)).filter(|program| program.is_file())
    } else {
        std::env::split_paths(path_var)
            .map(|dir| dir.join(&first))
            .find(|candidate| candidate.is_file())
    };
    let program = program.ok_or_else(|| SuggestError::NotInstalled {
        path: path.to_path_buf(),
        program: first.clone(),
    })?;
    let categories = file.list(MAIN_GROUP, "Categories").unwrap_or_default();
    let has = |wanted: &[&str]| categories.iter().any(|c| wanted.contains(&c.as_str()));
    let terminal = file.boolean(MAIN_GROUP, "Terminal") == Some(true);
    let app_name = file
        .string(MAIN_GROUP, "Name")
        .unwrap_or_else(|| base.clone());
    let comment = file.string(MAIN_GROUP, "Comment");

    let mut out = String::new();
    let about = match &comment {
        Some(comment) => format!("{app_name}: {comment}"),
        None => app_name.clone(),
    };
    out.push_str(&format!(
        "# {name}: {}\n# Suggested by boxtop from {}; read it, then `boxtop show {name}`.\n",
        one_line(&about),
        path.display()
    ));
    out.push_str(&format!("name = {}\n", string(name)));
    out.push_str(&format!("description = {}\n", string(&app_name)));
    out.push_str(&format!("desktop_file = {}\n", string(id)));
    let known_here = known_binaries
        .iter()
        .any(|binary| Path::new(binary).is_file());
    if known_here && is_script(&program) {
        out.push_str(&format!(
            "# The program itself: {} is a launcher script; boxtop's bundled profile of this app knows where the program is.\n",
            program.display()
        ));
        let listed: Vec<String> = known_binaries.iter().map(|binary| string(binary)).collect();
        out.push_str(&format!("binaries = [{}]\n", listed.join(", ")));
    } else {
        out.push_str(&format!(
            "binaries = [{}]\n",
            string(&program.to_string_lossy())
        ));
    }
    let command: Vec<String> = std::iter::once(base.clone())
        .chain(words.iter().skip(1).cloned())
        .map(|word| string(&word))
        .collect();
    out.push_str(&format!("command = [{}]\n", command.join(", ")));
    if terminal {
        out.push_str(
            "# No display: a terminal program, it runs in the terminal that started it.\n\
             display = \"none\"\n",
        );
    } else {
        out.push_str(
            "# Display, Wayland when the session has it, else X11: the app is a window.\n\
             display = \"auto\"\n",
        );
    }
    if has(SOUND) {
        out.push_str(&format!(
            "# Audio, PulseAudio or PipeWire: {}.\naudio = \"auto\"\n",
            reason(&categories, SOUND, "it plays sound")
        ));
    }
    if has(GPU) {
        out.push_str(&format!(
            "# GPU: {}, which is slow or choppy without it.\ngpu = true\n",
            reason(&categories, GPU, "it draws with the graphics card")
        ));
    }
    if has(WEBCAM) {
        out.push_str(&format!(
            "# Webcam: {}. Remove it if you never make video calls.\nwebcam = true\n",
            reason(&categories, WEBCAM, "video calls")
        ));
    }
    if has(NETWORK) {
        out.push_str(&format!(
            "# Isolated network: {}; no access to this machine's or your local network's services.\n\
             network = \"isolated\"\n",
            reason(&categories, NETWORK, "it works online")
        ));
    } else {
        out.push_str(
            "# No network: nothing in its categories needs one, and nothing it reads can leave the machine.\n\
             network = \"none\"\n",
        );
    }
    if has(OWN_SANDBOX) {
        out.push_str(&format!(
            "# Namespaces inside the sandbox: {}: without them it refuses to start or runs unprotected.\n\
             allow_userns = true\n",
            reason(&categories, OWN_SANDBOX, "browsers isolate their tabs in sandboxes of their own")
        ));
    }
    let mut shares: Vec<(&'static str, bool, &'static str)> = Vec::new();
    for (wanted, idea) in SHARES {
        if !has(wanted) {
            continue;
        }
        match shares.iter_mut().find(|(path, _, _)| *path == idea.path) {
            Some(share) => share.1 |= idea.rw,
            None => shares.push((idea.path, idea.rw, idea.why)),
        }
    }
    out.push_str("\n[home]\n");
    if shares.is_empty() {
        out.push_str(
            "# No folder of your home: add one with [[home.share]] when the app needs it.\n",
        );
    }
    for (folder, rw, why) in &shares {
        let (mode, word) = if *rw {
            ("rw", "read-write")
        } else {
            ("ro", "read-only")
        };
        out.push_str(&format!(
            "# {folder}, {word}, created when missing: {why}.\n\
             [[home.share]]\npath = \"{folder}\"\nmode = \"{mode}\"\ncreate = true\n\n"
        ));
    }
    let own_id = file.boolean(MAIN_GROUP, "DBusActivatable") == Some(true);
    let app_id = id.strip_suffix(".desktop").unwrap_or(id);
    if has(NOTIFY) || own_id {
        out.push_str("[dbus]\n");
        if has(NOTIFY) {
            out.push_str(
                "talk = [\n    # Notifications: new messages shown by the desktop.\n    \
                 \"org.freedesktop.Notifications\",\n]\n",
            );
        }
        if own_id {
            out.push_str(&format!(
                "own = [\n    # Its application id: the entry says the app is started on the bus under it.\n    {},\n]\n",
                string(app_id)
            ));
        }
        out.push('\n');
    }
    if !env.is_empty() {
        out.push_str("[env]\n# Set by the app's own menu entry.\n");
        for (var, value) in &env {
            out.push_str(&format!("{} = {}\n", string(var), string(value)));
        }
    }
    Ok(Suggestion {
        text: out.trim_end().to_string() + "\n",
        program,
    })
}

/// Where boxtop's bundled profile for desktop entry `id` says the app's program is, if
/// one of the bundled profiles is for that app.
pub fn bundled_binaries(set: &crate::profile::ProfileSet, id: &str) -> Vec<String> {
    set.entries()
        .filter(|entry| entry.source == crate::profile::Source::Bundled)
        .filter_map(|entry| set.resolve(&entry.name).ok())
        .find(|profile| profile.desktop_file.as_deref() == Some(id))
        .map(|profile| profile.binaries)
        .unwrap_or_default()
}

/// Whether `path` is a script (`#!`), not the program itself.
fn is_script(path: &Path) -> bool {
    use std::io::Read;
    let mut start = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut start))
        .is_ok_and(|()| &start == b"#!")
}

/// A profile name for the app of desktop file id `id`: its last part, in the characters
/// a profile name may have (`org.xfce.mousepad.desktop` → `mousepad`).
pub fn name_for(id: &str) -> Option<String> {
    let stem = id.strip_suffix(".desktop").unwrap_or(id);
    // A reverse-DNS id names the app last; a plain one is the app's name.
    let last = if stem.matches('.').count() >= 2 {
        stem.rsplit('.').next().unwrap_or(stem)
    } else {
        stem
    };
    let name: String = last
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name: String = name.chars().take(63).collect();
    is_valid_name(&name).then_some(name)
}

/// Why a grant is suggested: the categories that asked for it.
fn reason(categories: &[String], wanted: &[&str], what: &str) -> String {
    let matched: Vec<&str> = categories
        .iter()
        .map(String::as_str)
        .filter(|c| wanted.contains(c))
        .collect();
    format!("{what} (its categories: {})", matched.join(", "))
}

/// A TOML string.
fn string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Text for a comment line.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileSet;

    fn bin_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for program in ["editor", "browser", "tool"] {
            std::fs::write(dir.path().join(program), "").unwrap();
        }
        dir
    }

    fn suggest_text(entry: &str, bins: &Path) -> Result<String, SuggestError> {
        let file = DesktopFile::parse(entry).unwrap();
        suggest(
            "app",
            "org.example.App.desktop",
            Path::new("/usr/share/applications/org.example.App.desktop"),
            &file,
            bins.as_os_str(),
        )
        .map(|s| s.text)
    }

    /// The text loads as a profile: boxtop's own validation accepts it.
    fn assert_valid(text: &str) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.toml"), text).unwrap();
        let set = ProfileSet::load(dir.path());
        if let Err(err) = set.resolve("app") {
            panic!("{err}\n{text}");
        }
    }

    #[test]
    fn an_editor_gets_documents_and_no_network() {
        let bins = bin_dir();
        let text = suggest_text(
            "[Desktop Entry]\nType=Application\nName=Editor\nComment=Edit text\n\
             Exec=editor --new %F\nCategories=Utility;TextEditor;\n",
            bins.path(),
        )
        .unwrap();
        assert_valid(&text);
        assert!(text.contains("command = [\"editor\", \"--new\"]"), "{text}");
        assert!(text.contains(&format!(
            "binaries = [\"{}\"]",
            bins.path().join("editor").display()
        )));
        assert!(text.contains("network = \"none\""), "{text}");
        assert!(
            text.contains("path = \"Documents\"\nmode = \"rw\""),
            "{text}"
        );
        assert!(!text.contains("audio"), "{text}");
        assert!(text.contains("desktop_file = \"org.example.App.desktop\""));
    }

    #[test]
    fn a_browser_gets_network_sound_gpu_and_downloads() {
        let bins = bin_dir();
        let text = suggest_text(
            "[Desktop Entry]\nType=Application\nName=Browser\nExec=env MOZ_X=1 browser %u\n\
             Categories=Network;WebBrowser;\n",
            bins.path(),
        )
        .unwrap();
        assert_valid(&text);
        assert!(text.contains("network = \"isolated\""), "{text}");
        assert!(text.contains("audio = \"auto\""), "{text}");
        assert!(text.contains("gpu = true"), "{text}");
        assert!(text.contains("path = \"Downloads\""), "{text}");
        assert!(text.contains("\"MOZ_X\" = \"1\""), "{text}");
        assert!(text.contains("command = [\"browser\"]"), "{text}");
        assert!(text.contains("allow_userns = true"), "{text}");
        assert!(!text.contains("webcam"), "{text}");
    }

    #[test]
    fn a_video_player_shares_music_and_videos_read_only() {
        let bins = bin_dir();
        let text = suggest_text(
            "[Desktop Entry]\nType=Application\nName=Player\nExec=tool\n\
             Categories=AudioVideo;Player;Video;\nDBusActivatable=true\n",
            bins.path(),
        )
        .unwrap();
        assert_valid(&text);
        assert!(text.contains("path = \"Music\"\nmode = \"ro\""), "{text}");
        assert!(text.contains("path = \"Videos\"\nmode = \"ro\""), "{text}");
        assert!(text.contains("\"org.example.App\""), "{text}");
    }

    #[test]
    fn a_launcher_script_gives_way_to_the_program_boxtop_knows() {
        let bins = bin_dir();
        std::fs::write(
            bins.path().join("browser"),
            "#!/bin/sh\nexec /x/real \"$@\"\n",
        )
        .unwrap();
        let real = bins.path().join("real-browser");
        std::fs::write(&real, "\x7fELF").unwrap();
        let entry =
            "[Desktop Entry]\nType=Application\nName=B\nExec=browser %U\nCategories=WebBrowser;\n";
        let file = DesktopFile::parse(entry).unwrap();
        let known = [real.display().to_string()];
        let path = Path::new("/usr/share/applications/b.desktop");
        let text = suggest_knowing(
            "b",
            "b.desktop",
            path,
            &file,
            bins.path().as_os_str(),
            &known,
        )
        .unwrap()
        .text;
        assert!(
            text.contains(&format!("binaries = [\"{}\"]", real.display())),
            "{text}"
        );
        assert!(text.contains("is a launcher script"), "{text}");
        // A real program stays what the entry says.
        let text = suggest("b", "b.desktop", path, &file, bins.path().as_os_str())
            .unwrap()
            .text;
        assert!(
            text.contains(&format!(
                "binaries = [\"{}\"]",
                bins.path().join("browser").display()
            )),
            "{text}"
        );
    }

    #[test]
    fn a_terminal_program_has_no_display() {
        let bins = bin_dir();
        let text = suggest_text(
            "[Desktop Entry]\nType=Application\nName=Top\nExec=tool\nTerminal=true\n",
            bins.path(),
        )
        .unwrap();
        assert_valid(&text);
        assert!(text.contains("display = \"none\""), "{text}");
    }

    #[test]
    fn refuses_missing_programs_shells_and_links() {
        let bins = bin_dir();
        let err = suggest_text(
            "[Desktop Entry]\nType=Application\nName=X\nExec=missing-app %f\n",
            bins.path(),
        )
        .unwrap_err();
        assert!(err
            .to_string()
            .contains("'missing-app', which is not installed"));
        let err = suggest_text(
            "[Desktop Entry]\nType=Application\nName=X\nExec=sh -c \"editor\"\n",
            bins.path(),
        )
        .unwrap_err();
        assert!(matches!(err, SuggestError::Shell { .. }), "{err}");
        let err = suggest_text(
            "[Desktop Entry]\nType=Link\nName=X\nURL=https://example.org\n",
            bins.path(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("Type=Link"), "{err}");
        let err =
            suggest_text("[Desktop Entry]\nType=Application\nName=X\n", bins.path()).unwrap_err();
        assert!(err.to_string().contains("no Exec line"), "{err}");
    }

    #[test]
    fn names_come_from_the_last_part_of_reverse_dns_ids() {
        assert_eq!(
            name_for("org.xfce.mousepad.desktop").as_deref(),
            Some("mousepad")
        );
        assert_eq!(
            name_for("firefox-esr.desktop").as_deref(),
            Some("firefox-esr")
        );
        assert_eq!(
            name_for("org.gnome.TextEditor.desktop").as_deref(),
            Some("texteditor")
        );
        assert_eq!(name_for("vlc.desktop").as_deref(), Some("vlc"));
        assert_eq!(name_for(".desktop"), None);
    }
}
