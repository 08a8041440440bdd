//! The profile commands: list, show, check, new, edit, reset.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use boxtop::access;
use boxtop::atomic::write_atomic;
use boxtop::escape;
use boxtop::json_output::Schema;
use boxtop::paths::Paths;
use boxtop::profile::risk::{self, Risk};
use boxtop::profile::{bus_names, ops, overrides};
use boxtop::profile::{Entry, Profile, ProfileSet};
use boxtop::sandbox::host;
use boxtop::{errln, outln};

/// One row of `boxtop list`.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    installed: bool,
    source: &'static str,
    file: String,
    risk: Option<Risk>,
    description: String,
    error: Option<String>,
    /// For an override of a bundled profile: the keys it changes.
    changed_from_bundled: Option<Vec<String>>,
}

fn row(set: &ProfileSet, entry: &Entry) -> Row {
    let resolved = set.resolve(&entry.name);
    match resolved {
        Ok(profile) => Row {
            name: entry.name.clone(),
            installed: host::is_installed(&profile),
            source: entry.source.as_str(),
            file: entry.file.clone(),
            risk: risk::highest(&profile),
            description: profile.description.clone(),
            error: None,
            changed_from_bundled: overrides::changes(set, &entry.name),
        },
        Err(err) => Row {
            name: entry.name.clone(),
            installed: false,
            source: entry.source.as_str(),
            file: entry.file.clone(),
            risk: None,
            description: String::new(),
            error: Some(err.to_string()),
            changed_from_bundled: None,
        },
    }
}

pub fn list(paths: &Paths, json: bool) -> Result<ExitCode> {
    let set = ProfileSet::load(&paths.user_profiles());
    let rows: Vec<Row> = set.entries().map(|entry| row(&set, entry)).collect();
    if json {
        #[derive(Serialize)]
        struct Listed<'a> {
            profiles: &'a [Row],
        }
        escape::out_json(&Schema::LIST.to_pretty(&Listed { profiles: &rows })?);
    } else {
        outln!(
            "{:<20} {:<9} {:<9} {:<9} DESCRIPTION",
            "NAME",
            "INSTALLED",
            "SOURCE",
            "RISK"
        );
        for row in &rows {
            let risk = match (&row.error, row.risk) {
                (Some(_), _) => "BROKEN",
                (None, Some(risk)) => risk.as_str(),
                (None, None) => "none",
            };
            let installed = if row.installed { "yes" } else { "no" };
            let mut description = row.error.as_deref().unwrap_or(&row.description).to_string();
            match row.changed_from_bundled.as_deref() {
                Some([]) => description.push_str(" [same as bundled]"),
                Some(changed) => {
                    description.push_str(&format!(" [changed: {}]", changed.join(", ")))
                }
                None => {}
            }
            outln!(
                "{:<20} {:<9} {:<9} {:<9} {}",
                row.name,
                installed,
                row.source,
                risk,
                description
            );
        }
    }
    for problem in set.problems() {
        errln!("boxtop: {problem}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(paths: &Paths, name: &str, json: bool) -> Result<ExitCode> {
    let set = ProfileSet::load(&paths.user_profiles());
    if set.get(name).is_none() {
        if let Some(shown) = super::live::show_instance(paths, &set, name, json) {
            return shown;
        }
    }
    let profile = set.resolve(name).map_err(|err| anyhow::anyhow!("{err}"))?;
    let entry = set.get(name).context("profile vanished")?;
    let landlock = boxtop::sandbox::landlock::Support::detect();
    let grants = risk::summarize_here(&profile, Some(landlock.has_scopes()));
    let session = access::Session::detect(&paths.home, paths.xdg_runtime_dir.as_deref());
    let mut missing = access::missing(&profile, &session);
    // The shares and binds a launch would refuse, by the checks `run` makes.
    missing.extend(
        host::path_problems(&profile, &paths.home, &paths.private_homes())
            .into_iter()
            .map(|problem| access::Missing {
                grant: problem.grant(),
                severity: access::Severity::Error,
                message: problem.to_string(),
            }),
    );
    let changed = overrides::changes(&set, name);
    if json {
        #[derive(Serialize)]
        struct Shown<'a> {
            profile: &'a Profile,
            source: &'static str,
            file: &'a str,
            installed: bool,
            permissions: &'a [risk::Grant],
            /// Granted things this host cannot provide right now.
            missing_here: &'a [access::Missing],
            /// What Landlock enforces on this host.
            landlock_here: String,
            /// For an override of a bundled profile: the keys it changes.
            changed_from_bundled: Option<Vec<String>>,
        }
        let shown = Shown {
            profile: &profile,
            source: entry.source.as_str(),
            file: &entry.file,
            installed: host::is_installed(&profile),
            permissions: &grants,
            missing_here: &missing,
            landlock_here: landlock.describe(),
            changed_from_bundled: changed,
        };
        escape::out_json(&Schema::SHOW.to_pretty(&shown)?);
        return Ok(ExitCode::SUCCESS);
    }
    escape::out(&render_show(
        &profile,
        entry,
        changed.as_deref(),
        &missing,
        landlock,
    ));
    Ok(ExitCode::SUCCESS)
}

/// The text of `boxtop show`: header, permissions highest risk first, effective settings.
fn render_show(
    profile: &Profile,
    entry: &Entry,
    changed: Option<&[String]>,
    missing: &[access::Missing],
    landlock: boxtop::sandbox::landlock::Support,
) -> String {
    let mut out = String::new();
    let title = if profile.description.is_empty() {
        profile.name.clone()
    } else {
        format!("{} - {}", profile.name, profile.description)
    };
    out.push_str(&format!("{title}\n"));
    out.push_str(&format!(
        "  from       {} ({})\n",
        entry.source.as_str(),
        entry.file
    ));
    if let Some(parent) = &profile.extends {
        out.push_str(&format!("  extends    {parent}\n"));
    }
    match changed {
        Some([]) => out.push_str("  changed    nothing: the same as the bundled profile\n"),
        Some(changed) => out.push_str(&format!(
            "  changed    {} (from the bundled profile: `boxtop reset {} [KEY]` undoes it)\n",
            changed.join(", "),
            profile.name
        )),
        None => {}
    }
    let installed = match host::find_binary(profile) {
        Some(path) => format!("yes ({})", path.display()),
        None if host::is_installed(profile) => "yes".into(),
        None => "no".into(),
    };
    out.push_str(&format!("  installed  {installed}\n"));
    out.push_str(&format!("  command    {}\n", profile.command.join(" ")));
    let home = if profile.home.ephemeral {
        "ephemeral (forgotten at exit)"
    } else {
        "private, kept between runs"
    };
    out.push_str(&format!("  home       {home}\n\n"));
    let grants = risk::summarize_here(profile, Some(landlock.has_scopes()));
    if grants.is_empty() {
        out.push_str(
            "Permissions: none. The app sees only its own home and the system's programs.\n",
        );
    } else {
        out.push_str("Permissions, highest risk first:\n");
        for grant in &grants {
            out.push_str(&format!(
                "  {:<9} {}\n            {}\n",
                grant.risk.as_str().to_uppercase(),
                grant.what,
                grant.why
            ));
        }
    }
    if !grants.is_empty() {
        if missing.is_empty() {
            out.push_str("\nHere now: everything it is granted is available.\n");
        } else {
            out.push_str("\nHere now, missing:\n");
            for item in missing {
                let level = match item.severity {
                    access::Severity::Error => "cannot run",
                    access::Severity::Warning => "degraded",
                };
                out.push_str(&format!(
                    "  {:<10} {}: {}\n",
                    level, item.grant, item.message
                ));
            }
        }
    }
    out.push_str(&format!("\nSecond wall here: {}\n", landlock.describe()));
    if !profile.env.is_empty() {
        out.push_str("\nEnvironment:\n");
        for (name, value) in &profile.env {
            out.push_str(&format!("  {name}={value}\n"));
        }
    }
    if profile.limits.memory_bytes.is_some()
        || profile.limits.cpu.is_some()
        || profile.limits.pids.is_some()
    {
        out.push_str("\nLimits:\n");
        if let Some(bytes) = profile.limits.memory_bytes {
            out.push_str(&format!("  memory  {} MiB\n", bytes >> 20));
        }
        if let Some(cpu) = profile.limits.cpu {
            out.push_str(&format!("  cpu     {cpu} cores\n"));
        }
        if let Some(pids) = profile.limits.pids {
            out.push_str(&format!("  pids    {pids}\n"));
        }
    }
    out
}

pub fn check(paths: &Paths, files: &[PathBuf]) -> Result<ExitCode> {
    let set = ProfileSet::load(&paths.user_profiles());
    let mut failed = 0;
    let mut checked = 0;
    let mut report =
        |label: &str, result: std::result::Result<Profile, boxtop::profile::ProfileError>| {
            checked += 1;
            match result {
                Ok(_) => outln!("ok     {label}"),
                Err(err) => {
                    failed += 1;
                    outln!("error  {err}");
                }
            }
        };
    // Every profile that loads, for the D-Bus names they own in common; with files
    // named, only pairs with one of them are said.
    let mut loaded = Vec::new();
    let mut named: Vec<String> = Vec::new();
    if files.is_empty() {
        for entry in set.entries() {
            let result = set.resolve(&entry.name);
            if let Ok(profile) = &result {
                loaded.push(profile.clone());
            }
            report(&entry.file, result);
        }
        for problem in set.problems() {
            report(&problem.file, Err(problem.clone()));
        }
    } else {
        for file in files {
            let result = set.resolve_file(file);
            if let Ok(profile) = &result {
                loaded.push(profile.clone());
            }
            report(&file.display().to_string(), result);
        }
        // A file is checked against the installed profiles too.
        named = loaded.iter().map(|p| p.name.clone()).collect();
        loaded.extend(
            set.entries()
                .filter(|entry| !named.contains(&entry.name))
                .filter_map(|entry| set.resolve(&entry.name).ok()),
        );
    }
    let said = |c: &bus_names::Collision| {
        named.is_empty() || named.contains(&c.first) || named.contains(&c.second)
    };
    for collision in bus_names::collisions(&loaded).into_iter().filter(said) {
        outln!(
            "warning  profiles '{}' and '{}' own the same D-Bus names ({}): while one runs, \
             the other's app hands its work to it (boxtop refuses that launch); give one \
             of them other names to own in [dbus] own",
            collision.first,
            collision.second,
            collision.names.join(", ")
        );
    }
    outln!("{} checked, {} with errors", checked, failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `boxtop new NAME [--from OTHER | --from-desktop-file FILE|ID]`.
pub fn new(
    paths: &Paths,
    name: &str,
    from: Option<&str>,
    desktop_file: Option<&str>,
) -> Result<ExitCode> {
    let set = ProfileSet::load(&paths.user_profiles());
    let user_dir = paths.user_profiles();
    let path = match desktop_file {
        Some(wanted) => {
            let suggestion = suggest_from_desktop_file(paths, name, wanted)?;
            let path = ops::create_with_text(&set, &user_dir, name, &suggestion.text)?;
            outln!(
                "wrote {} for {}, with grants suggested from the app's categories",
                path.display(),
                suggestion.program.display()
            );
            outln!("  read it, then `boxtop show {name}`; change it with `boxtop edit {name}`");
            return Ok(ExitCode::SUCCESS);
        }
        None => ops::create(&set, &user_dir, name, from)?,
    };
    outln!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// The suggestion for the app of a desktop file given as a path or as a desktop file id
/// (`org.xfce.mousepad` or `org.xfce.mousepad.desktop`), looked up as desktops do.
fn suggest_from_desktop_file(
    paths: &Paths,
    name: &str,
    wanted: &str,
) -> Result<boxtop::entries::suggest::Suggestion> {
    use boxtop::entries::{suggest, xdg};
    let (id, found) = if wanted.contains('/') {
        let path = std::path::Path::new(wanted);
        let found = xdg::Found::read(path)?;
        let id = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| wanted.to_string());
        (id, found)
    } else {
        let id = if wanted.ends_with(".desktop") {
            wanted.to_string()
        } else {
            format!("{wanted}.desktop")
        };
        let env = xdg::Env::from_process(paths)?;
        let found = xdg::find_entry(&env, &id)?.ok_or_else(|| {
            anyhow::anyhow!(
                "no desktop entry {id} in {}: give the file's path, or the id of an installed app",
                env.application_dirs()
                    .iter()
                    .map(|dir| dir.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        (id, found)
    };
    let path_var =
        std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    // A bundled profile of the same app knows where its real program is.
    let set = ProfileSet::load(&paths.user_profiles());
    let known = suggest::bundled_binaries(&set, &id);
    Ok(suggest::suggest_knowing(
        name,
        &id,
        &found.path,
        &found.file,
        &path_var,
        &known,
    )?)
}

pub fn edit(paths: &Paths, name: &str) -> Result<ExitCode> {
    let set = ProfileSet::load(&paths.user_profiles());
    let entry = set
        .get(name)
        .ok_or_else(|| anyhow::anyhow!("no profile named '{name}' (see `boxtop list`)"))?;
    // A bundled profile becomes an override of the user's once an edit of it is saved.
    let path = ops::target_path(entry, &paths.user_profiles());
    let original = entry.text.clone().unwrap_or_default();
    // The editor works on a copy beside the profile; the profile is replaced, atomically,
    // only by a copy that is valid. A copy that is not is kept as NAME.toml.rejected.
    let dir = path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let draft = dir.join(format!(".{name}.toml.edit-{}", std::process::id()));
    let rejected = dir.join(format!("{name}.toml.rejected"));
    write_atomic(&draft, original.as_bytes())
        .with_context(|| format!("writing {}", draft.display()))?;
    let keep_rejected = |text: &str| -> Result<()> {
        write_atomic(&rejected, text.as_bytes())
            .with_context(|| format!("writing {}", rejected.display()))?;
        let _ = std::fs::remove_file(&draft);
        Ok(())
    };
    loop {
        let ops::EditorCommand {
            mut command,
            editor,
        } = ops::editor_command(&draft);
        let status = command.status();
        let text = std::fs::read_to_string(&draft).unwrap_or_else(|_| original.clone());
        let status = match status {
            Ok(status) => status,
            Err(err) => {
                let _ = std::fs::remove_file(&draft);
                return Err(err).with_context(|| format!("starting the editor '{editor}'"));
            }
        };
        if !status.success() {
            if text == original {
                let _ = std::fs::remove_file(&draft);
                bail!(
                    "the editor '{editor}' failed ({status}); {} is unchanged",
                    path.display()
                );
            }
            keep_rejected(&text)?;
            bail!(
                "the editor '{editor}' failed ({status}); {} is unchanged, and what was \
                 written is kept in {}",
                path.display(),
                rejected.display()
            );
        }
        if text == original {
            let _ = std::fs::remove_file(&draft);
            outln!("{} is unchanged", path.display());
            return Ok(ExitCode::SUCCESS);
        }
        let file = path.display().to_string();
        match set.resolve_text(name, &file, &text, Some(&path)) {
            Ok(_) => {
                let saved = ops::save_edit(&set, name, &path, &text)?;
                let _ = std::fs::remove_file(&draft);
                let how = match saved {
                    ops::Saved::AsWritten => String::new(),
                    ops::Saved::Delta => format!(
                        ", as what differs from the bundled '{name}' profile \
                         (`boxtop reset {name}` undoes it)"
                    ),
                    ops::Saved::Whole => format!(
                        ", whole: it removes what the bundled '{name}' profile grants, so \
                         later fixes of the bundled profile do not reach it"
                    ),
                };
                outln!("{} is valid and saved{how}", path.display());
                return Ok(ExitCode::SUCCESS);
            }
            Err(err) => {
                errln!("boxtop: {err}");
                if !ask_yes("re-open the edit to fix it? [Y/n] ")? {
                    keep_rejected(&text)?;
                    errln!(
                        "boxtop: {} is unchanged; the rejected edit is kept in {}",
                        path.display(),
                        rejected.display()
                    );
                    return Ok(ExitCode::from(1));
                }
            }
        }
    }
}

/// Asks a yes/no question on the terminal; no terminal means no.
fn ask_yes(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprint!("{}", escape::message(question));
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    let answer = answer.trim().to_ascii_lowercase();
    Ok(answer.is_empty() || answer == "y" || answer == "yes")
}

/// `boxtop reset NAME [KEY]`.
pub fn reset(paths: &Paths, name: &str, key: Option<&str>) -> Result<ExitCode> {
    let set = ProfileSet::load(&paths.user_profiles());
    match overrides::reset(&set, name, key).map_err(|err| anyhow::anyhow!("{err}"))? {
        overrides::Reset::Removed(file) => outln!(
            "removed {}: '{name}' is the bundled profile again",
            file.display()
        ),
        overrides::Reset::KeyDropped { file, left } => outln!(
            "{}: `{}` is as bundled again; the override still sets {}",
            file.display(),
            key.unwrap_or_default(),
            left.join(", ")
        ),
    }
    Ok(ExitCode::SUCCESS)
}
