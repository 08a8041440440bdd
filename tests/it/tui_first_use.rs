//! What a first-time user trips on in the terminal UI (issue 21), end to end: the real
//! binary in a tmux pane of the test user, typed at with `send-keys` and read with
//! `capture-pane`. The in-sandbox shell (`t`) must give the terminal back whether the TUI
//! was started by a job-control shell or directly by tmux, and leave the TUI idle.

use std::time::{Duration, Instant};

use crate::support::tmux::Tmux;
use crate::support::{stderr, stdout, World};

const SESSION: &str = "first";
/// The outer shell's prompt, so that the test sees when that shell has the terminal.
const PROMPT: &str = "outer$ ";

/// How the TUI is started in the pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    /// Typed at an interactive bash with job control, as most users start it.
    JobControlBash,
    /// The pane's own program: tmux starts it in a new session, with no shell around.
    Tmux,
}

/// The pane of the test user's tmux server (see `support::tmux`).
type Pane = Tmux;

impl Tmux {
    /// Starts the session with `program` (and `args`) as the pane's program; `VISUAL`
    /// is the editor the TUI's `E` runs.
    fn start_with_editor(&self, program: &str, args: &[&str], visual: &str) {
        self.start(
            program,
            args,
            &[
                ("PS1", PROMPT),
                ("VISUAL", visual),
                ("SHELL", "/bin/bash"),
                ("TERM", "xterm-256color"),
            ],
        );
    }

    /// The TUI's process: the pane's program, or the outer shell's only child.
    fn tui_pid(&self, parent: Parent) -> u32 {
        let pane: u32 = self.pane("#{pane_pid}").parse().expect("pane pid");
        match parent {
            Parent::Tmux => pane,
            Parent::JobControlBash => {
                let children =
                    std::fs::read_to_string(format!("/proc/{pane}/task/{pane}/children"))
                        .expect("children of the shell");
                children
                    .split_whitespace()
                    .next()
                    .and_then(|pid| pid.parse().ok())
                    .unwrap_or_else(|| panic!("the shell {pane} runs no TUI: {children:?}"))
            }
        }
    }
}

/// Clock ticks of CPU (user + system) `pid` has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read stat");
    // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

const SLEEPER: &str = "\
name = \"first-sleeper\"
description = \"sleeps until stopped\"
command = [\"/bin/sh\", \"-c\", \"trap 'exit 0' TERM; sleep 1000 & wait\"]
display = \"none\"
network = \"none\"

[home]
ephemeral = true
";

/// What the TUI lends the terminal to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lent {
    /// `t` on a running instance, then `tty` and `exit` in its shell.
    Shell,
    /// `E`, with an "editor" that is a job-control shell killed before it could give
    /// the terminal back: the terminal's foreground is left to a group that is gone.
    EditorLeavingTheForeground,
}

/// An editor that takes the terminal's foreground (as any job-control shell does) and
/// dies without giving it back.
const FOREGROUND_THIEF: &str = "bash --norc --noprofile -i -c 'set -m; kill -9 $$'";

/// The TUI lends the terminal, then must be back: drawn, answering keys, in the
/// foreground, and idle.
fn gives_the_terminal_back(parent: Parent, lent: Lent) {
    let world = World::new();
    let dir = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("first-sleeper.toml"), SLEEPER).unwrap();
    world.fix_owner();
    let id = world.detach(&["first-sleeper"]);
    let pane = Pane::new(world, SESSION);
    let boxtop = pane.world.bin.join("boxtop").display().to_string();
    match parent {
        Parent::Tmux => pane.start_with_editor(&boxtop, &[], FOREGROUND_THIEF),
        Parent::JobControlBash => {
            pane.start_with_editor(
                "/bin/bash",
                &["--norc", "--noprofile", "-i"],
                FOREGROUND_THIEF,
            );
            pane.wait_for("the shell's prompt", Duration::from_secs(10), |screen| {
                screen.lines().any(|line| line == PROMPT.trim_end())
            });
            pane.type_text(&format!("{boxtop}; echo \"tui-exit=$?\""));
            pane.keys(&["Enter"]);
        }
    }
    let shown = id.strip_prefix("first-sleeper-").unwrap_or(&id).to_string();
    pane.wait_for(
        "the TUI with the running instance",
        Duration::from_secs(10),
        |screen| {
            screen.contains("┌ Profiles")
                && screen
                    .lines()
                    .any(|line| line.contains(&shown) && line.contains("running"))
        },
    );

    match lent {
        Lent::Shell => use_the_shell_inside(&pane),
        Lent::EditorLeavingTheForeground => pane.keys(&["E"]),
    }
    // The TUI takes the terminal back by itself and redraws.
    let screen = pane.wait_for("the TUI redrawn", Duration::from_secs(10), |screen| {
        screen.contains("┌ Profiles")
            && screen.contains("┌ Instances")
            && (lent == Lent::Shell || screen.contains("edited ~") || screen.contains("editing /"))
    });
    assert!(!screen.contains("Stopped"), "{screen}");
    assert_eq!(pane.pane("#{alternate_on}"), "1", "alternate screen again");

    // It answers keys: the filter (of the profiles) shows what is typed.
    if lent == Lent::Shell {
        pane.keys(&["Tab"]);
    }
    pane.keys(&["/"]);
    pane.type_text("zq");
    pane.wait_for("the filter typed", Duration::from_secs(5), |screen| {
        screen.contains("/zq")
    });
    pane.keys(&["Escape"]);

    // And it is idle: no spinning on the terminal.
    let pid = pane.tui_pid(parent);
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - before;
    assert!(
        used <= 10,
        "the TUI used {used} ticks of CPU in 2 s after the shell (idle is about 0)"
    );

    pane.keys(&["q"]);
    if parent == Parent::JobControlBash {
        pane.wait_for("the TUI to exit", Duration::from_secs(5), |screen| {
            screen.contains("tui-exit=0")
        });
    }
}

/// Tab to the instances, `t`: a shell inside, on a pty of the sandbox's own; `exit`.
fn use_the_shell_inside(pane: &Pane) {
    pane.keys(&["Tab", "t"]);
    pane.wait_for(
        "the TUI to leave the screen",
        Duration::from_secs(10),
        |_| pane.pane("#{alternate_on}") == "0",
    );
    std::thread::sleep(Duration::from_millis(500));
    pane.type_text("tty; echo inside-$((6 * 7))");
    pane.keys(&["Enter"]);
    let screen = pane.wait_for("the shell inside", Duration::from_secs(10), |screen| {
        screen.lines().any(|line| line == "inside-42")
    });
    assert!(
        screen.lines().any(|line| line.starts_with("/dev/pts/")),
        "`tty` inside names a pty; the screen:\n{screen}"
    );
    assert!(!screen.contains("not a tty"), "{screen}");
    pane.type_text("exit");
    pane.keys(&["Enter"]);
}

#[test]
fn tui_shell_gives_the_terminal_back_to_a_job_control_bash() {
    gives_the_terminal_back(Parent::JobControlBash, Lent::Shell);
}

#[test]
fn tui_shell_gives_the_terminal_back_directly_under_tmux() {
    gives_the_terminal_back(Parent::Tmux, Lent::Shell);
}

#[test]
fn tui_takes_the_foreground_back_from_a_program_that_kept_it_under_a_job_control_bash() {
    gives_the_terminal_back(Parent::JobControlBash, Lent::EditorLeavingTheForeground);
}

#[test]
fn tui_takes_the_foreground_back_from_a_program_that_kept_it_directly_under_tmux() {
    gives_the_terminal_back(Parent::Tmux, Lent::EditorLeavingTheForeground);
}

/// Starts the TUI from a job-control bash in `folder` (relative to the home); waits for
/// its first screen and returns it.
fn tui_in(pane: &Pane, folder: &str) -> String {
    let boxtop = pane.world.bin.join("boxtop").display().to_string();
    pane.start_with_editor(
        "/bin/bash",
        &["--norc", "--noprofile", "-i"],
        FOREGROUND_THIEF,
    );
    pane.wait_for("the shell's prompt", Duration::from_secs(10), |screen| {
        screen.lines().any(|line| line == PROMPT.trim_end())
    });
    pane.type_text(&format!("cd ~/{folder} && {boxtop}; echo \"tui-exit=$?\""));
    pane.keys(&["Enter"]);
    pane.wait_for(
        "the TUI's first screen",
        Duration::from_secs(10),
        |screen| screen.contains("┌ Profiles") && screen.contains("┌ Instances"),
    )
}

const ECHO_ARGS: &str = "\
name = \"first-args\"
description = \"prints its arguments\"
command = [\"/bin/sh\", \"-c\", \"for a; do echo \\\"arg=$a\\\"; done; sleep 1000\", \"sh\"]
display = \"none\"
network = \"none\"

[home]
ephemeral = true
";

#[test]
fn tui_launch_arguments_mean_the_home_and_the_folder_boxtop_was_started_in() {
    let world = World::new();
    let dir = world.home.join(".config/boxtop/profiles");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("first-args.toml"), ECHO_ARGS).unwrap();
    std::fs::create_dir_all(world.home.join("notes")).unwrap();
    std::fs::write(world.home.join("notes/n.txt"), "note").unwrap();
    std::fs::create_dir_all(world.home.join("Documents")).unwrap();
    std::fs::write(world.home.join("Documents/report.txt"), "report").unwrap();
    world.fix_owner();
    let home = world.home.display().to_string();
    let pane = Pane::new(world, SESSION);
    tui_in(&pane, "Documents");

    pane.keys(&["/"]);
    pane.type_text("first-args");
    pane.keys(&["Enter", "a"]);
    pane.wait_for("the arguments prompt", Duration::from_secs(5), |screen| {
        screen.contains("Launch first-args with arguments")
    });
    // Tab completes in the home and in the start folder.
    pane.type_text("~/no");
    pane.keys(&["Tab"]);
    pane.type_text("n");
    pane.keys(&["Tab"]);
    pane.type_text(" rep");
    pane.keys(&["Tab"]);
    pane.wait_for("the completed paths", Duration::from_secs(5), |screen| {
        screen.contains("> ~/notes/n.txt report.txt")
    });
    pane.keys(&["Enter"]);
    let screen = pane.wait_for("the launch", Duration::from_secs(20), |screen| {
        screen.contains("launched first-args (") || screen.contains("cannot launch")
    });
    let start = screen.find("launched first-args (").expect("launched") + 21;
    let id = &screen[start..start + screen[start..].find(')').unwrap()];
    let mut log = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !log.contains("arg=") {
        let output = pane.world.boxtop(&["logs", id]).output().unwrap();
        log = stdout(&output);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        log.contains(&format!("arg={home}/notes/n.txt\n")),
        "~ is the home: {log}"
    );
    assert!(
        log.contains(&format!("arg={home}/Documents/report.txt\n")),
        "relative to the folder boxtop started in: {log}"
    );
    pane.keys(&["q"]);
}

#[test]
fn tui_offers_a_profile_for_an_installed_app_without_one_and_writes_a_valid_one() {
    let world = World::new();
    let apps = world.home.join(".local/share/applications");
    std::fs::create_dir_all(&apps).unwrap();
    std::fs::write(
        apps.join("org.example.FirstUse.desktop"),
        "[Desktop Entry]\nType=Application\nName=First Use Notes\nExec=true %F\nCategories=Utility;TextEditor;\n",
    )
    .unwrap();
    world.fix_owner();
    let pane = Pane::new(world, SESSION);
    let screen = tui_in(&pane, "");
    assert!(
        screen.contains("installed apps have no profile: make one?")
            || screen.contains("installed app has no profile: make one?"),
        "{screen}"
    );
    pane.keys(&["i"]);
    pane.wait_for("the list of apps", Duration::from_secs(5), |screen| {
        screen.contains("Installed apps with no profile")
    });
    pane.type_text("First Use");
    pane.wait_for("the app alone", Duration::from_secs(5), |screen| {
        screen.contains("▸ firstuse") && screen.contains("First Use Notes")
    });
    pane.keys(&["Enter"]);
    pane.wait_for(
        "the new profile in the editor",
        Duration::from_secs(5),
        |screen| screen.contains("┌ Edit firstuse "),
    );
    let path = pane
        .world
        .home
        .join(".config/boxtop/profiles/firstuse.toml");
    let text = std::fs::read_to_string(&path).expect("the profile is written");
    assert!(
        text.contains("desktop_file = \"org.example.FirstUse.desktop\""),
        "{text}"
    );
    assert!(text.contains("path = \"Documents\""), "{text}");
    let check = pane
        .world
        .boxtop(&["check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    // Closed, it is selected; the app is no longer offered.
    pane.keys(&["Escape"]);
    pane.wait_for("the profile selected", Duration::from_secs(5), |screen| {
        screen.contains("▸ firstuse ")
    });
    pane.keys(&["i"]);
    let screen = pane.wait_for("the list again", Duration::from_secs(5), |screen| {
        screen.contains("Installed apps with no profile") || screen.contains("every installed app")
    });
    assert!(
        !screen.contains("(org.example.FirstUse.desktop)"),
        "{screen}"
    );
    pane.keys(&["Escape", "q"]);
}

/// State (field 3 of /proc/PID/stat), `None` once the process is gone.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

#[test]
fn tui_ends_instead_of_spinning_when_its_terminal_goes_away() {
    let pane = Pane::new(World::new(), SESSION);
    let boxtop = pane.world.bin.join("boxtop").display().to_string();
    pane.start_with_editor(&boxtop, &[], FOREGROUND_THIEF);
    pane.wait_for(
        "the TUI's first screen",
        Duration::from_secs(10),
        |screen| screen.contains("┌ Profiles"),
    );
    let pid = pane.tui_pid(Parent::Tmux);
    // The terminal hangs up: reads give end of file or EIO from now on.
    pane.ok(&["kill-server"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !matches!(proc_state(pid), None | Some('Z')) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let state = proc_state(pid);
    let alive = matches!(state, Some(s) if s != 'Z');
    let spun = alive.then(|| {
        let before = cpu_ticks(pid);
        std::thread::sleep(Duration::from_secs(1));
        cpu_ticks(pid) - before
    });
    if alive {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(
        !alive,
        "the TUI is still there 5 s after its terminal went away (state {state:?}, {spun:?} ticks of CPU in 1 s)"
    );
}
