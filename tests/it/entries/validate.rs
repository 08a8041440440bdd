//! Entries for real apps: every bundled profile and this machine's own entries give files
//! `desktop-file-validate` accepts.

use std::path::Path;

use boxtop::entries::{self, install, remove, render_autostart, render_entry, Role};
use boxtop::profile::ProfileSet;

use crate::support::entries::{key, localized, read, snapshot, system_env, validate};

#[test]
fn every_bundled_profile_gets_valid_entries() {
    let dir = tempfile::tempdir().unwrap();
    let env = system_env(dir.path());
    let profiles = ProfileSet::bundled();
    let mut validated = Vec::new();
    let mut generic = Vec::new();
    let mut copied = Vec::new();
    for entry in profiles.entries() {
        let profile = profiles
            .resolve(&entry.name)
            .unwrap_or_else(|err| panic!("bundled profile {}: {err}", entry.name));
        let mut warnings = Vec::new();
        let (_, original) = entries::install::app_entry(&env, &profile, &mut warnings)
            .unwrap_or_else(|err| panic!("{}: {err}", profile.name));
        let original = original.map(|found| found.file);
        for (kind, text) in [
            (
                "menu",
                render_entry(&profile, original.as_ref(), &env.boxtop, Role::Menu),
            ),
            (
                "replacement",
                render_entry(&profile, original.as_ref(), &env.boxtop, Role::Replacement),
            ),
            (
                "autostart",
                render_autostart(&profile, original.as_ref(), None, None, &env.boxtop),
            ),
        ] {
            let path = dir.path().join(format!("{}-{kind}.desktop", profile.name));
            std::fs::write(&path, text.expect("render")).unwrap();
            validate(&path);
        }
        validated.push(profile.name.clone());
        match original {
            Some(_) => copied.push(profile.name.clone()),
            None => generic.push(profile.name.clone()),
        }
    }
    assert!(
        validated.len() >= 5,
        "expected at least five bundled profiles, validated {validated:?}"
    );
    assert!(
        !generic.is_empty(),
        "expected a bundled profile whose app has no entry here (the generic entry): {validated:?}"
    );
    if Path::new("/usr/share/applications/debian-xterm.desktop").exists() {
        assert!(copied.contains(&"xterm".to_string()), "{copied:?}");
    }
}

#[test]
fn this_machines_xterm_and_mousepad_entries_give_valid_replacements() {
    let dir = tempfile::tempdir().unwrap();
    let env = system_env(dir.path());
    for (toml, id) in [
        ("name = \"xterm\"\ndesktop_file = \"debian-xterm.desktop\"\ncommand = [\"xterm\"]\n", "debian-xterm.desktop"),
        (
            "name = \"mousepad\"\ndesktop_file = \"org.xfce.mousepad.desktop\"\ncommand = [\"mousepad\"]\n",
            "org.xfce.mousepad.desktop",
        ),
    ] {
        let system = Path::new("/usr/share/applications").join(id);
        assert!(
            system.exists(),
            "{} is missing: `make test` installs xterm and mousepad",
            system.display()
        );
        let file = dir.path().join("p.toml");
        std::fs::write(&file, toml).unwrap();
        let profile = ProfileSet::default().resolve_file(&file).unwrap();
        let done = install(&env, &profile, true).expect("install --replace");
        assert_eq!(done.original.as_deref(), Some(system.as_path()));
        validate(&done.entry);
        validate(&done.replacement.as_ref().unwrap().1);
        let entry = read(&done.entry);
        match profile.name.as_str() {
            "xterm" => {
                assert_eq!(key(&entry, "Name").as_deref(), Some("XTerm [boxtop]"));
                assert_eq!(key(&entry, "Icon").as_deref(), Some("mini.xterm"));
                assert_eq!(
                    key(&entry, "Exec").as_deref(),
                    Some("/usr/local/bin/boxtop run --detach --origin desktop xterm")
                );
            }
            _ => {
                assert_eq!(localized(&entry, "Name", "de").as_deref(), Some("Mousepad [boxtop]"));
                assert_eq!(
                    key(&entry, "Exec").as_deref(),
                    Some("/usr/local/bin/boxtop run --detach --origin desktop mousepad -- %U")
                );
                assert_eq!(key(&entry, "MimeType"), None);
                let replacement = read(&done.replacement.as_ref().unwrap().1);
                assert_eq!(key(&replacement, "MimeType").as_deref(), Some("text/plain;"));
                assert_eq!(
                    entry.raw("Desktop Action preferences", "Exec"),
                    Some("/usr/local/bin/boxtop run --detach --origin desktop mousepad -- --preferences")
                );
            }
        }
        remove(&env, &profile.name).unwrap();
        assert_eq!(snapshot(&env.applications_dir()), None);
    }
}
