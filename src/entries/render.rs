//! The files boxtop writes, as text: a menu entry that starts an app in its sandbox, the
//! same under the app's own id (`--replace`), and an autostart file. Pure: the app's own
//! files come in already read.
//!
//! What is copied from the app's entry is what describes the app (names in every
//! language, icon, categories, keywords, window class, actions that run the same program;
//! its MIME types only in the replacement, so that only `--replace` changes which app
//! opens a file type); what starts it is boxtop's: `Exec` runs `boxtop run --detach NAME --`
//! with the field codes the app used, so it still receives the files and URLs it is
//! opened with.

use std::path::Path;

use super::desktop_file::{escape, DesktopFile, MAIN_GROUP};
use super::error::EntriesError;
use super::exec::{self, Arg, Piece, DEPRECATED_FIELDS};
use super::xdg::{FORMAT_VERSION, MARKER_KEY, VERSION_KEY};
use crate::profile::Profile;

/// The spec version the files declare. They follow 1.5, and use no key whose meaning
/// differs from 1.4; "1.4" keeps them valid for desktop-file-validate 0.26 (Debian 12),
/// which refuses "1.5" as an unknown version.
pub const SPEC_VERSION: &str = "1.4";

/// Appended to the app's name in every language: boxtop's name, which no language
/// translates and every font can show, where an English word ("sandboxed") would stand
/// untranslated in fifty languages and a symbol may be missing from the menu's font.
pub const NAME_SUFFIX: &str = " [boxtop]";

/// For an app with no entry of its own.
pub const FALLBACK_ICON: &str = "application-x-executable";
pub const FALLBACK_CATEGORIES: &[&str] = &["Utility"];

/// Keys copied as written, with their localized forms.
const LOCALIZED_KEYS: &[&str] = &["GenericName", "Comment", "Icon", "Keywords"];

/// Keys copied as written (no localized forms).
const PLAIN_KEYS: &[&str] = &[
    "Categories",
    "MimeType",
    "StartupWMClass",
    "OnlyShowIn",
    "NotShowIn",
];

/// Keys of the app's autostart file worth keeping in boxtop's.
const AUTOSTART_KEYS: &[&str] = &["OnlyShowIn", "NotShowIn", "X-GNOME-Autostart-Delay"];

/// Which of boxtop's entries is being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `boxtop-NAME.desktop`, shown in menus.
    Menu,
    /// `boxtop-NAME.desktop` while a replacement holds the app's own id: hidden from
    /// menus, so that the app shows once (through the replacement).
    MenuBehindReplacement,
    /// The user entry with the app's own id, so that menus, `xdg-open` and MIME handlers
    /// start the sandboxed app.
    Replacement,
}

/// A menu entry (or a replacement) for `profile`; `original` is the app's own entry when
/// it has one; `boxtop` is the absolute path of the program the entry starts.
pub fn render_entry(
    profile: &Profile,
    original: Option<&DesktopFile>,
    boxtop: &Path,
    role: Role,
) -> Result<String, EntriesError> {
    let boxtop = checked_path(boxtop)?;
    let mut file = DesktopFile::new();
    file.comment(&match role {
        Role::Menu | Role::MenuBehindReplacement => format!(
            "Written by boxtop for profile '{name}': `boxtop desktop sync` rewrites it,\n\
             `boxtop desktop remove {name}` removes it.",
            name = profile.name
        ),
        Role::Replacement => format!(
            "Written by boxtop: the app's own entry, made to start it in profile '{name}''s sandbox.\n\
             `boxtop desktop remove {name}` removes this file, which restores the app's own entry.",
            name = profile.name
        ),
    });
    let main_exec = original.and_then(|original| parse_exec(original, MAIN_GROUP));
    let is_terminal = original.and_then(|o| o.boolean(MAIN_GROUP, "Terminal")) == Some(true);
    file.set(MAIN_GROUP, "Type", "Application");
    file.set(MAIN_GROUP, "Version", SPEC_VERSION);
    write_names(&mut file, profile, original);
    let extra = main_exec
        .as_deref()
        .map(|args| extra_args(args, args, true))
        .unwrap_or_default();
    file.set(
        MAIN_GROUP,
        "Exec",
        &launch_line(boxtop, &profile.name, !is_terminal, "desktop", extra),
    );
    file.set(MAIN_GROUP, "TryExec", boxtop);
    // A terminal app gets its terminal, and runs in the foreground in it.
    file.set(
        MAIN_GROUP,
        "Terminal",
        if is_terminal { "true" } else { "false" },
    );
    match original {
        Some(original) => {
            for key in PLAIN_KEYS {
                // A file type listed by an entry of the user's folder makes it the type's
                // default handler wherever no default is chosen (the user's MIME cache is
                // read first): only the replacement, which `--replace` asks for, may.
                if *key == "MimeType" && role != Role::Replacement {
                    continue;
                }
                copy(&mut file, original, MAIN_GROUP, key);
            }
            if file.raw(MAIN_GROUP, "Categories").is_none() {
                file.set_list(MAIN_GROUP, "Categories", FALLBACK_CATEGORIES);
            }
        }
        None => file.set_list(MAIN_GROUP, "Categories", FALLBACK_CATEGORIES),
    }
    match role {
        Role::Menu => {}
        Role::MenuBehindReplacement => file.set(MAIN_GROUP, "NoDisplay", "true"),
        Role::Replacement => {
            if let Some(original) = original {
                copy(&mut file, original, MAIN_GROUP, "NoDisplay");
            }
        }
    }
    if let (Some(original), Some(main_exec)) = (original, main_exec.as_deref()) {
        write_actions(
            &mut file,
            original,
            main_exec,
            boxtop,
            &profile.name,
            !is_terminal,
        );
    }
    write_marker(&mut file, &profile.name);
    Ok(file.to_string())
}

/// An autostart file for `profile`. `original` is the app's own entry, `app_autostart`
/// the app's own autostart file (its arguments, like `--start-minimized`, are kept),
/// `previous` boxtop's file being rewritten, whose on/off switches the user may have
/// flipped and are kept.
pub fn render_autostart(
    profile: &Profile,
    original: Option<&DesktopFile>,
    app_autostart: Option<&DesktopFile>,
    previous: Option<&DesktopFile>,
    boxtop: &Path,
) -> Result<String, EntriesError> {
    let boxtop = checked_path(boxtop)?;
    let mut file = DesktopFile::new();
    file.comment(&format!(
        "Written by boxtop: starts profile '{name}' at login.\n\
         `boxtop autostart disable {name}` removes it.",
        name = profile.name
    ));
    file.set(MAIN_GROUP, "Type", "Application");
    file.set(MAIN_GROUP, "Version", SPEC_VERSION);
    write_names(&mut file, profile, original.or(app_autostart));
    let args = autostart_args(original, app_autostart);
    file.set(
        MAIN_GROUP,
        "Exec",
        &launch_line(boxtop, &profile.name, true, "autostart", args),
    );
    file.set(MAIN_GROUP, "TryExec", boxtop);
    file.set(MAIN_GROUP, "Terminal", "false");
    if let Some(app_autostart) = app_autostart {
        for key in AUTOSTART_KEYS {
            copy(&mut file, app_autostart, MAIN_GROUP, key);
        }
    }
    let kept = |key: &str| previous.and_then(|previous| previous.raw(MAIN_GROUP, key));
    file.set_raw(
        MAIN_GROUP,
        "X-GNOME-Autostart-enabled",
        None,
        kept("X-GNOME-Autostart-enabled").unwrap_or("true"),
    );
    if let Some(hidden) = kept("Hidden") {
        file.set_raw(MAIN_GROUP, "Hidden", None, hidden);
    }
    write_marker(&mut file, &profile.name);
    Ok(file.to_string())
}

/// The arguments the app's autostart file adds to its usual command line: those of its
/// `Exec` that the app's entry does not have, with no field code (no file is opened at
/// login).
pub fn autostart_args(
    original: Option<&DesktopFile>,
    app_autostart: Option<&DesktopFile>,
) -> Vec<Arg> {
    let Some(autostart) = app_autostart.and_then(|file| parse_exec(file, MAIN_GROUP)) else {
        return Vec::new();
    };
    let reference = original
        .and_then(|file| parse_exec(file, MAIN_GROUP))
        .unwrap_or_default();
    extra_args(&reference, &autostart, false)
}

fn checked_path(boxtop: &Path) -> Result<&str, EntriesError> {
    if !boxtop.is_absolute() {
        return Err(EntriesError::RelativePath {
            path: boxtop.to_path_buf(),
        });
    }
    boxtop.to_str().ok_or_else(|| EntriesError::NotUtf8Path {
        path: boxtop.to_path_buf(),
    })
}

/// `Name` (with `NAME_SUFFIX`, in every language), `GenericName`, `Comment`, `Icon` and
/// `Keywords` from the app's entry; the profile's name and description when it has none.
fn write_names(file: &mut DesktopFile, profile: &Profile, original: Option<&DesktopFile>) {
    let name = original.and_then(|original| original.string(MAIN_GROUP, "Name"));
    let Some((original, name)) = original.zip(name) else {
        file.set(
            MAIN_GROUP,
            "Name",
            &format!("{}{NAME_SUFFIX}", profile.name),
        );
        if !profile.description.is_empty() {
            file.set(MAIN_GROUP, "Comment", &profile.description);
        }
        file.set(MAIN_GROUP, "Icon", FALLBACK_ICON);
        return;
    };
    file.set(MAIN_GROUP, "Name", &format!("{name}{NAME_SUFFIX}"));
    for (locale, raw) in original.localized(MAIN_GROUP, "Name") {
        let localized = format!("{}{NAME_SUFFIX}", super::desktop_file::unescape(&raw));
        file.set_raw(MAIN_GROUP, "Name", Some(&locale), &escape(&localized));
    }
    for key in LOCALIZED_KEYS {
        copy(file, original, MAIN_GROUP, key);
        for (locale, raw) in original.localized(MAIN_GROUP, key) {
            file.set_raw(MAIN_GROUP, key, Some(&locale), &raw);
        }
    }
    if file.raw(MAIN_GROUP, "Icon").is_none() {
        file.set(MAIN_GROUP, "Icon", FALLBACK_ICON);
    }
}

/// The app's actions (`[Desktop Action ...]`, like "New Private Window") that run the
/// same program as its main command, each started in the sandbox with its own arguments.
fn write_actions(
    file: &mut DesktopFile,
    original: &DesktopFile,
    main_exec: &[Arg],
    boxtop: &str,
    profile: &str,
    detach: bool,
) {
    let Some(ids) = original.list(MAIN_GROUP, "Actions") else {
        return;
    };
    let program = exec::program_name(main_exec);
    let mut kept = Vec::new();
    for id in ids {
        let group = format!("Desktop Action {id}");
        let Some(action_exec) = parse_exec(original, &group) else {
            continue;
        };
        if original.raw(&group, "Name").is_none() || exec::program_name(&action_exec) != program {
            continue;
        }
        let args = extra_args(main_exec, &action_exec, true);
        file.blank();
        for key in ["Name", "Icon"] {
            copy(file, original, &group, key);
            for (locale, raw) in original.localized(&group, key) {
                file.set_raw(&group, key, Some(&locale), &raw);
            }
        }
        file.set(
            &group,
            "Exec",
            &launch_line(boxtop, profile, detach, "desktop", args),
        );
        kept.push(id);
    }
    if !kept.is_empty() {
        file.set_list(MAIN_GROUP, "Actions", &kept);
    }
}

fn write_marker(file: &mut DesktopFile, profile: &str) {
    file.set(MAIN_GROUP, MARKER_KEY, profile);
    file.set(MAIN_GROUP, VERSION_KEY, &FORMAT_VERSION.to_string());
}

/// Copies `key` as written, when the app's file has it.
fn copy(file: &mut DesktopFile, original: &DesktopFile, group: &str, key: &str) {
    if let Some(raw) = original.raw(group, key) {
        file.set_raw(group, key, None, raw);
    }
}

/// The `Exec` of a group, as arguments; None when it is missing or cannot be read (the
/// caller checks it beforehand to tell the user, see `check_exec`).
fn parse_exec(file: &DesktopFile, group: &str) -> Option<Vec<Arg>> {
    exec::parse(&file.string(group, "Exec")?).ok()
}

/// `boxtop run [--detach] --origin ORIGIN NAME [-- ARGS...]`, as an `Exec` value (not
/// yet escaped). The origin shows in `boxtop ps`, and makes a failed launch a desktop
/// notification (there is no terminal to print it in).
pub fn launch_line(
    boxtop: &str,
    profile: &str,
    detach: bool,
    origin: &str,
    extra: Vec<Arg>,
) -> String {
    let mut args = vec![Arg::text(boxtop), Arg::text("run")];
    if detach {
        args.push(Arg::text("--detach"));
    }
    args.push(Arg::text("--origin"));
    args.push(Arg::text(origin));
    args.push(Arg::text(profile));
    if !extra.is_empty() {
        args.push(Arg::text("--"));
        args.extend(extra);
    }
    exec::join(&args)
}

/// The arguments of `args` (after its program) to pass on to the app: those holding a
/// field code (when `with_fields`), and literal ones that `reference` (after its program)
/// does not have, in order. Deprecated field codes and `%k` (it would name boxtop's file,
/// not the app's) are dropped.
fn extra_args(reference: &[Arg], args: &[Arg], with_fields: bool) -> Vec<Arg> {
    let mut unmatched: Vec<&Arg> = reference
        .iter()
        .skip(1)
        .filter(|a| !a.has_fields())
        .collect();
    let mut out = Vec::new();
    for arg in args.iter().skip(1) {
        if arg.has_fields() {
            if !with_fields {
                continue;
            }
            let pieces: Vec<Piece> = arg
                .0
                .iter()
                .filter(|piece| match piece {
                    Piece::Field(code) => !DEPRECATED_FIELDS.contains(code) && *code != 'k',
                    Piece::Text(_) => true,
                })
                .cloned()
                .collect();
            let cleaned = Arg(pieces);
            if cleaned.has_fields() && cleaned.to_exec().is_some() {
                out.push(cleaned);
            }
            continue;
        }
        match unmatched.iter().position(|seen| *seen == arg) {
            Some(index) => {
                unmatched.remove(index);
            }
            None => out.push(arg.clone()),
        }
    }
    out
}

/// Why an app's `Exec` cannot be read, to warn the user that its field codes are lost.
pub fn check_exec(file: &DesktopFile) -> Option<String> {
    let value = file.string(MAIN_GROUP, "Exec")?;
    exec::parse(&value).err().map(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(value: &str) -> Vec<Arg> {
        exec::parse(value).unwrap()
    }

    fn joined(list: Vec<Arg>) -> String {
        exec::join(&list)
    }

    #[test]
    fn main_command_keeps_only_its_field_codes() {
        let main = args("/usr/bin/chat --no-sandbox %U");
        assert_eq!(joined(extra_args(&main, &main, true)), "%U");
        let old = args("app %d %k %i %c --file=%f");
        assert_eq!(joined(extra_args(&old, &old, true)), "%i %c --file=%f");
    }

    #[test]
    fn action_and_autostart_keep_what_they_add() {
        let main = args("firefox %u");
        let private = args("/usr/bin/firefox --private-window %u");
        assert_eq!(
            joined(extra_args(&main, &private, true)),
            "--private-window %u"
        );
        let chat = args("chat --no-sandbox %U");
        let autostart = args("chat --no-sandbox --start-minimized");
        assert_eq!(
            joined(extra_args(&chat, &autostart, false)),
            "--start-minimized"
        );
    }

    #[test]
    fn launch_line_quotes_boxtop_and_omits_an_empty_separator() {
        assert_eq!(
            launch_line("/usr/bin/boxtop", "xterm", true, "desktop", vec![]),
            "/usr/bin/boxtop run --detach --origin desktop xterm"
        );
        assert_eq!(
            launch_line(
                "/home/me/my bin/boxtop",
                "vim",
                false,
                "desktop",
                args("x %F")[1..].to_vec()
            ),
            "\"/home/me/my bin/boxtop\" run --origin desktop vim -- %F"
        );
        assert_eq!(
            launch_line("/opt/100%/boxtop", "a", true, "autostart", vec![]),
            "/opt/100%%/boxtop run --detach --origin autostart a"
        );
    }
}
