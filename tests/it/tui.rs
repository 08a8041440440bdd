//! The terminal UI end to end: the real binary in a tmux pane of the test user, typed at
//! with `send-keys` and read with `capture-pane`, over real instances and real profile
//! files. What is checked is what a person at that terminal would see.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::tmux::Tmux;
use crate::support::World;

const SESSION: &str = "tui";
/// The shell's prompt in the pane, so that the test sees when the shell has the terminal.
const PROMPT: &str = "tui$ ";

/// A shell in a tmux session of the test user (see `support::tmux`).
type Term = Tmux;

impl Tmux {
    /// A world with the user profile `name` (its whole text given), and a shell waiting
    /// at its prompt in a 120x40 tmux pane.
    fn with_profile(name: &str, text: &str) -> (Term, PathBuf) {
        let world = World::new();
        let dir = world.home.join(".config/boxtop/profiles");
        std::fs::create_dir_all(&dir).expect("mkdir profiles");
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, text).expect("write profile");
        world.fix_owner();
        let term = Tmux::new(world, SESSION);
        term.start("/bin/sh", &[], &[("SHELL", "/bin/sh"), ("PS1", PROMPT)]);
        term.wait_for("the shell's prompt", Duration::from_secs(10), |screen| {
            // capture-pane leaves out the spaces that end a line.
            screen.lines().any(|line| line == PROMPT.trim_end())
        });
        (term, path)
    }

    /// Starts the TUI from the shell; the shell says how it exited.
    fn start_tui(&self) -> String {
        let command = format!(
            "{}; echo \"tui-exit=$?\"",
            self.world.bin.join("boxtop").display()
        );
        self.type_text(&command);
        self.keys(&["Enter"]);
        self.wait_for(
            "the TUI's first screen",
            Duration::from_secs(10),
            |screen| screen.contains("┌ Profiles") && screen.contains("┌ Instances"),
        )
    }

    /// `/` and the filter, kept with Enter; waits for `name` to be the only row, selected.
    fn filter_to(&self, name: &str) {
        self.keys(&["/"]);
        self.type_text(name);
        self.keys(&["Enter"]);
        self.wait_for(
            &format!("the filter to leave {name} alone"),
            Duration::from_secs(5),
            |screen| {
                screen.contains(" Profiles 1/")
                    && screen.contains(&format!("▸ {name} "))
                    && screen.contains(&format!("/{name} "))
            },
        );
    }

    fn ps(&self) -> Vec<Value> {
        self.world.ps()
    }

    fn status(&self, id: &str) -> Value {
        self.ps()
            .into_iter()
            .find(|status| status["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed by boxtop ps"))
    }

    /// Writes a profile file as its owner would, through a temporary file and a rename.
    fn replace_file(&self, path: &Path, text: &str) {
        let temporary = path.with_extension("toml.new");
        std::fs::write(&temporary, text).expect("write profile");
        std::os::unix::fs::chown(&temporary, Some(self.world.uid), Some(self.world.gid))
            .expect("chown profile");
        std::fs::rename(&temporary, path).expect("rename profile");
    }
}

/// One row of the instances pane, as shown.
#[derive(Debug)]
struct InstanceRow {
    state: String,
    memory: String,
}

/// The row of the instance whose id ends in `suffix`, from the instances pane only (the
/// lines below its title down to its bottom border).
fn instance_row(screen: &str, suffix: &str) -> Option<InstanceRow> {
    let pane = screen
        .lines()
        .skip_while(|line| !line.starts_with("┌ Instances"))
        .skip(2)
        .take_while(|line| !line.starts_with('└'));
    for line in pane {
        let cells: Vec<&str> = line.trim_matches('│').split_whitespace().collect();
        if let Some(at) = cells.iter().position(|cell| *cell == suffix) {
            let state = cells.get(at + 1).copied().unwrap_or_default();
            let live = matches!(state, "running" | "paused" | "starting" | "stopping");
            // Live: STATE UPTIME CPU% MEM; ended: "exited 0" UPTIME - -.
            let state = match cells.get(at + 2) {
                Some(code) if !live => format!("{state} {code}"),
                _ => state.to_string(),
            };
            let memory = if live { cells.get(at + 4) } else { None };
            return Some(InstanceRow {
                state,
                memory: memory.copied().unwrap_or("-").to_string(),
            });
        }
    }
    None
}

/// Bytes of a figure such as `512B`, `1.5K`, `10M`; None when it is not one.
fn figure_bytes(figure: &str) -> Option<u64> {
    let unit = figure.chars().last()?;
    let scale: u64 = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        _ => return None,
    };
    let number: f64 = figure[..figure.len() - 1].parse().ok()?;
    Some((number * scale as f64) as u64)
}

/// The id in the banner's "launched NAME (ID)".
fn launched_id(screen: &str, name: &str) -> Option<String> {
    let start = screen.find(&format!("launched {name} ("))? + "launched  (".len() + name.len();
    let end = screen[start..].find(')')?;
    Some(screen[start..start + end].to_string())
}

/// The part of an id the instances pane shows: what follows the profile's name.
fn suffix<'a>(id: &'a str, profile: &str) -> &'a str {
    id.strip_prefix(profile)
        .and_then(|rest| rest.strip_prefix('-'))
        .unwrap_or(id)
}

const SLEEPER: &str = "\
# A shell that sleeps until it is asked to stop, then exits with 0.
name = \"e2e-sleeper\"
description = \"sleeps until stopped\"
command = [\"/bin/sh\", \"-c\", \"trap 'exit 0' TERM; echo started; sleep 1000 & wait\"]
display = \"none\"
network = \"none\"

[home]
ephemeral = true
";

/// Launches the selected profile with Enter and waits for it to show as running with
/// some memory; returns its id. `earlier` are the ids launched before.
fn launch_from_tui(term: &Term, name: &str, earlier: &[&str]) -> String {
    term.keys(&["Enter"]);
    let is_new = |id: &String| !earlier.contains(&id.as_str());
    let screen = term.wait_for("the launch's banner", Duration::from_secs(20), |screen| {
        launched_id(screen, name).is_some_and(|id| is_new(&id)) || screen.contains("cannot launch")
    });
    let id = launched_id(&screen, name)
        .unwrap_or_else(|| panic!("the launch failed; the screen:\n{screen}"));
    let status = term.status(&id);
    assert_eq!(status["origin"], "tui", "{status}");
    assert_eq!(status["profile"], name, "{status}");
    let shown = suffix(&id, name).to_string();
    // A shell and a sleep use more than 64K.
    term.wait_for(
        &format!("{id} running with a memory figure over 64K"),
        Duration::from_secs(10),
        |screen| {
            instance_row(screen, &shown).is_some_and(|row| {
                row.state == "running"
                    && figure_bytes(&row.memory).is_some_and(|bytes| bytes >= 64 << 10)
            })
        },
    );
    id
}

#[test]
fn tui_in_tmux_launches_pauses_stops_and_quits_leaving_apps_running() {
    let name = "e2e-sleeper";
    let (term, _) = Term::with_profile(name, SLEEPER);
    term.start_tui();
    assert_eq!(
        term.pane("#{alternate_on}"),
        "1",
        "the TUI uses the alternate screen"
    );
    term.filter_to(name);

    // Enter launches the selected profile: a real instance, started by the TUI.
    let first = launch_from_tui(&term, name, &[]);
    let first_shown = suffix(&first, name).to_string();

    // Tab moves to the instances, where the launched one is selected; p pauses it.
    term.keys(&["Tab", "p"]);
    term.wait_for("the instance paused", Duration::from_secs(5), |screen| {
        instance_row(screen, &first_shown).is_some_and(|row| row.state == "paused")
    });
    assert_eq!(term.status(&first)["state"]["state"], "paused");

    // s stops it: it gets SIGTERM, its trap exits with 0.
    term.keys(&["s"]);
    term.wait_for("the instance exited", Duration::from_secs(15), |screen| {
        instance_row(screen, &first_shown).is_some_and(|row| row.state == "exited 0")
    });
    let status = term.status(&first);
    assert_eq!(status["state"]["state"], "exited", "{status}");
    assert_eq!(status["state"]["code"], 0, "{status}");

    // Back to the profiles: a second launch, which is left running.
    term.keys(&["Tab"]);
    let second = launch_from_tui(&term, name, &[&first]);

    // One started from the command line shows up too, at the next refresh.
    let third = term.world.detach(&[name]);
    let third_shown = suffix(&third, name).to_string();
    let started = Instant::now();
    term.wait_for(
        "the instance started elsewhere",
        Duration::from_millis(2500),
        |screen| instance_row(screen, &third_shown).is_some_and(|row| row.state == "running"),
    );
    eprintln!(
        "an instance started elsewhere was shown after {:?}",
        started.elapsed()
    );

    // q quits: the shell is back, its terminal as it was, and the apps run on.
    term.keys(&["q"]);
    term.wait_for("the TUI to exit", Duration::from_secs(5), |screen| {
        screen.contains("tui-exit=0")
    });
    assert_eq!(term.pane("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(term.pane("#{cursor_flag}"), "1", "cursor shown again");
    assert_eq!(
        term.pane("#{mouse_any_flag}#{mouse_button_flag}#{mouse_standard_flag}"),
        "000",
        "mouse reports off"
    );
    // Raw mode off: the shell reads a line again, ended by Enter.
    term.type_text("echo cooked-$((6 * 7))");
    term.keys(&["Enter"]);
    term.wait_for(
        "the shell to run a command",
        Duration::from_secs(5),
        |screen| screen.lines().any(|line| line == "cooked-42"),
    );
    for id in [&second, &third] {
        assert_eq!(term.status(id)["state"]["state"], "running", "{id}");
    }

    // Closing the terminal as well (tmux gone, the pane hung up) leaves them running.
    term.ok(&["kill-server"]);
    std::thread::sleep(Duration::from_millis(500));
    for id in [&second, &third] {
        assert_eq!(term.status(id)["state"]["state"], "running", "{id}");
    }
}

const EDITED: &str = "\
# e2e-editor: the profile the TUI test edits. This comment must survive a save.
name = \"e2e-editor\"
description = \"before the edit\"

command = [\"/bin/true\"]   # never run by this test
display = \"none\"
# The grant the test changes:
network = \"none\"  # an inline comment

[home]
# Forgotten at exit.
ephemeral = true
";

#[test]
fn tui_in_tmux_saves_a_grant_keeping_comments_and_follows_outside_edits() {
    let name = "e2e-editor";
    let (term, path) = Term::with_profile(name, EDITED);
    term.start_tui();
    term.filter_to(name);

    // e opens the editor; the third setting is the network, → cycles none to host.
    term.keys(&["e"]);
    term.wait_for("the editor", Duration::from_secs(5), |screen| {
        screen.contains(&format!("┌ Edit {name} "))
    });
    term.keys(&["j", "j"]);
    term.wait_for(
        "the network row selected",
        Duration::from_secs(5),
        |screen| screen.contains("▸ Network "),
    );
    term.keys(&["l"]);
    term.wait_for(
        "the new value and its risk, before saving",
        Duration::from_secs(5),
        |screen| {
            screen.lines().any(|line| {
                line.contains("▸ Network ") && line.contains(" host ") && line.contains("MEDIUM")
            }) && screen.contains("Risk MEDIUM  was none")
                && screen.contains("unsaved changes")
        },
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        EDITED,
        "nothing is written before s"
    );
    term.keys(&["s"]);
    term.wait_for("the save's banner", Duration::from_secs(5), |screen| {
        screen.contains(&format!("saved ~/.config/boxtop/profiles/{name}.toml"))
    });
    // The one value changed; every comment, blank line and spacing is where it was.
    let saved = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        saved,
        EDITED.replace("network = \"none\"", "network = \"host\""),
        "the saved file"
    );

    // Changed from outside (an editor's temporary file and rename): shown at once.
    let outside = saved.replace("before the edit", "changed from outside");
    let started = Instant::now();
    term.replace_file(&path, &outside);
    term.wait_for(
        "the outside change on screen",
        Duration::from_secs(2),
        |screen| screen.contains("changed from outside"),
    );
    eprintln!("an outside edit was shown after {:?}", started.elapsed());

    // Broken (invalid TOML, written in place): the banner names the file and the line,
    // and the last good version stays listed.
    let broken = outside.replace("network = \"host\"", "network = = \"host\"");
    std::fs::write(&path, &broken).unwrap();
    let banner = format!(
        "✖ {name}: keeping the last good version; ~/.config/boxtop/profiles/{name}.toml:8:"
    );
    // One predicate for the whole screen: a capture can catch the TUI half-way through
    // drawing a frame, with the banner new and the panes below still the old ones.
    term.wait_for(
        "the error banner over the last good version",
        Duration::from_secs(2),
        |screen| {
            screen.contains(&banner)
                && screen.contains(&format!("▸ {name}! "))
                && screen.contains("changed from outside")
        },
    );

    // Fixed again: the banner goes away by itself.
    term.replace_file(&path, &outside);
    term.wait_for("the banner gone", Duration::from_secs(2), |screen| {
        !screen.contains("keeping the last good version") && screen.contains(&format!("▸ {name} "))
    });

    term.keys(&["q"]);
    term.wait_for("the TUI to exit", Duration::from_secs(5), |screen| {
        screen.contains("tui-exit=0")
    });
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        outside,
        "quitting writes nothing"
    );
}

/// A launch that fails in the real TUI shows the library's typed error: its message and
/// its kind, carried from the launching process as JSON (not scraped from its stderr).
#[test]
fn tui_in_tmux_shows_a_failed_launchs_message_and_kind() {
    let name = "e2e-missing";
    let text = format!(
        "name = \"{name}\"\nbinaries = [\"/opt/no-such-app/bin/app\"]\ncommand = [\"app\"]\n"
    );
    let (term, _) = Term::with_profile(name, &text);
    term.start_tui();
    term.filter_to(name);
    term.keys(&["Enter"]);
    let screen = term.wait_for("the launch's failure", Duration::from_secs(20), |screen| {
        screen.contains("cannot launch")
    });
    let flat: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("the app is not installed here") && flat.contains("(app not installed)"),
        "the failure's message and kind are not shown; the screen:\n{screen}"
    );
    assert!(
        term.ps().iter().all(|status| status["profile"] != name),
        "a failed launch left an instance"
    );
    term.keys(&["q"]);
}
