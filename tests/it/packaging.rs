//! Installing boxtop as software: `make install`'s script puts exactly its listed files
//! under DESTDIR/PREFIX and `make uninstall`'s removes them; the manual pages render; the
//! Debian package built by cargo-deb installs with dpkg, runs a sandbox from /usr/bin as
//! an unprivileged user, completes a running instance's id in bash, and leaves nothing
//! behind when purged.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::instances::Box;
use crate::support::{is_root, require, stderr, stdout};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// `scripts/install.sh MODE` with the test's binary and folders.
fn install_sh(mode: &str, gen: &Path, destdir: &Path, prefix: &str) -> Output {
    let output = Command::new("bash")
        .arg("scripts/install.sh")
        .arg(mode)
        .current_dir(MANIFEST_DIR)
        .env("BOXTOP", env!("CARGO_BIN_EXE_boxtop"))
        .env("GEN", gen)
        .env("DESTDIR", destdir)
        .env("PREFIX", prefix)
        .env("APPARMOR", "yes")
        .output()
        .expect("run scripts/install.sh");
    assert!(
        output.status.success(),
        "install.sh {mode}: {}\n{}",
        stdout(&output),
        stderr(&output)
    );
    output
}

/// Every file below `root`, as paths from `root` (`/usr/bin/boxtop`).
fn files_below(root: &Path) -> BTreeSet<String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(&path, root, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.insert(format!("/{}", rel.display()));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

/// The names of boxtop's commands, from its own `--help`.
fn commands() -> Vec<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_boxtop"))
        .arg("--help")
        .output()
        .expect("boxtop --help");
    let text = stdout(&output);
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in text.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
            continue;
        }
        if in_commands {
            let Some(name) = line.split_whitespace().next() else {
                break;
            };
            if !line.starts_with("  ") {
                break;
            }
            if name != "help" {
                names.push(name.to_string());
            }
        }
    }
    assert!(names.len() > 10, "too few commands in --help:\n{text}");
    names
}

/// The files `make install` must put under `prefix`, for man pages in `gen`.
fn expected_files(prefix: &str, gen: &Path) -> BTreeSet<String> {
    let mut expected = BTreeSet::new();
    expected.insert(format!("{prefix}/bin/boxtop"));
    for entry in std::fs::read_dir(gen.join("man")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let section = name.rsplit('.').next().unwrap().to_string();
        expected.insert(format!("{prefix}/share/man/man{section}/{name}"));
    }
    expected.insert(format!("{prefix}/share/bash-completion/completions/boxtop"));
    expected.insert(format!("{prefix}/share/zsh/vendor-completions/_boxtop"));
    expected.insert(format!(
        "{prefix}/share/fish/vendor_completions.d/boxtop.fish"
    ));
    expected.insert(format!("{prefix}/share/doc/boxtop/README.md"));
    for entry in std::fs::read_dir(Path::new(MANIFEST_DIR).join("docs"))
        .unwrap()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            expected.insert(format!("{prefix}/share/doc/boxtop/{name}"));
        }
    }
    expected.insert(format!("{prefix}/share/doc/boxtop/installed-files"));
    expected.insert("/etc/apparmor.d/boxtop".to_string());
    expected
}

/// `man -l FILE`, rendered as text, with groff's warnings.
fn render_man(file: &Path) -> (String, String) {
    let output = Command::new("man")
        .arg("-l")
        .arg(file)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .env("LANG", "C.UTF-8")
        .output()
        .expect("run man -l");
    assert!(
        output.status.success(),
        "man -l {}: {}",
        file.display(),
        stderr(&output)
    );
    (stdout(&output), stderr(&output))
}

#[test]
fn install_puts_exactly_its_files_under_destdir_and_uninstall_removes_them() {
    require("man", "man-db");
    let tmp = tempfile::tempdir().unwrap();
    let gen = tmp.path().join("gen");
    let dest = tmp.path().join("dest");
    install_sh("generate", &gen, &dest, "/usr");
    // One page per command (and per subcommand), and the profile format's.
    let pages: BTreeSet<String> = std::fs::read_dir(gen.join("man"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    for command in commands() {
        assert!(
            pages.contains(&format!("boxtop-{command}.1")),
            "no page for `boxtop {command}`: {pages:?}"
        );
    }
    for page in [
        "boxtop.1",
        "boxtop-desktop-install.1",
        "boxtop-import-firejail.1",
        "boxtop-profile.5",
    ] {
        assert!(pages.contains(page), "{page} missing: {pages:?}");
    }
    assert!(
        !pages.iter().any(|page| page.contains("__")),
        "a hidden command has a page: {pages:?}"
    );

    install_sh("install", &gen, &dest, "/usr");
    let installed = files_below(&dest);
    assert_eq!(installed, expected_files("/usr", &gen));
    let listed: BTreeSet<String> =
        std::fs::read_to_string(dest.join("usr/share/doc/boxtop/installed-files"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
    assert_eq!(listed, installed, "the list of installed files is wrong");
    assert_eq!(
        std::fs::read(dest.join("usr/bin/boxtop")).unwrap(),
        std::fs::read(env!("CARGO_BIN_EXE_boxtop")).unwrap()
    );

    // The pages render without a warning from groff, and the profile page is the
    // document's content.
    let (text, warnings) = render_man(&dest.join("usr/share/man/man5/boxtop-profile.5"));
    assert!(warnings.trim().is_empty(), "groff warns: {warnings}");
    for needle in [
        "BOXTOP-PROFILE(5)",
        "WHERE PROFILES LIVE",
        "[[home.share]]",
        "allow_userns",
        "SECRETS FOLDERS NEED FORCE",
    ] {
        assert!(text.contains(needle), "'{needle}' missing:\n{text}");
    }
    let (text, warnings) = render_man(&dest.join("usr/share/man/man1/boxtop-run.1"));
    assert!(warnings.trim().is_empty(), "groff warns: {warnings}");
    assert!(text.contains("--detach"), "{text}");

    install_sh("uninstall", &gen, &dest, "/usr");
    let left = files_below(&dest);
    assert!(left.is_empty(), "uninstall left {left:?}");
}

/// cargo-deb, which `make deps-test` installs with cargo.
fn cargo_deb() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
    let candidates = [
        cargo_home.join("bin/cargo-deb"),
        PathBuf::from("/usr/local/bin/cargo-deb"),
    ];
    if let Some(found) = candidates.iter().find(|path| path.exists()) {
        return found.clone();
    }
    require("cargo-deb", "cargo-deb (cargo install cargo-deb --locked)")
}

fn dpkg(args: &[&str]) -> Output {
    Command::new("dpkg").args(args).output().expect("run dpkg")
}

#[test]
fn the_debian_package_installs_runs_a_sandbox_completes_ids_and_purges_cleanly() {
    assert!(
        is_root(),
        "this test installs a package with dpkg: run it as root (CI does)"
    );
    require("dpkg-deb", "dpkg");
    require("man", "man-db");
    let cargo_deb = cargo_deb();
    let installed_before = dpkg(&["-s", "boxtop"]);
    assert!(
        !installed_before.status.success(),
        "a boxtop package is installed already; remove it (dpkg --purge boxtop) to run this test"
    );
    // The package is built from the test's binary (the dev profile's): what it packs is
    // the same list `make deb` packs with the release binary.
    let tmp = tempfile::tempdir().unwrap();
    let gen = Path::new(MANIFEST_DIR).join("target/gen");
    install_sh("generate", &gen, &tmp.path().join("unused"), "/usr");
    let deb = tmp.path().join("boxtop.deb");
    let output = Command::new(&cargo_deb)
        .args([
            "deb",
            "--no-build",
            "--no-strip",
            "--fast",
            "--profile",
            "dev",
            "-o",
        ])
        .arg(&deb)
        .current_dir(MANIFEST_DIR)
        .output()
        .expect("run cargo deb");
    assert!(
        output.status.success() && deb.exists(),
        "cargo deb: {}",
        stderr(&output)
    );
    // The package holds what `make install PREFIX=/usr` installs (pages gzipped, as
    // Debian wants; dpkg keeps its own list, and the copyright file is Debian's).
    let contents = Command::new("dpkg-deb")
        .arg("-c")
        .arg(&deb)
        .output()
        .unwrap();
    let packed: BTreeSet<String> = stdout(&contents)
        .lines()
        .filter_map(|line| line.split_whitespace().last())
        .filter(|path| !path.ends_with('/'))
        .map(|path| {
            path.trim_start_matches('.')
                .trim_end_matches(".gz")
                .to_string()
        })
        .filter(|path| path != "/usr/share/doc/boxtop/copyright")
        .collect();
    let mut expected = expected_files("/usr", &gen);
    expected.remove("/usr/share/doc/boxtop/installed-files");
    assert_eq!(packed, expected);

    let output = dpkg(&["-i", deb.to_str().unwrap()]);
    if !output.status.success() {
        let fixed = Command::new("apt-get")
            .args(["-f", "install", "-y", "-q"])
            .output()
            .expect("apt-get -f install");
        assert!(fixed.status.success(), "dpkg -i: {}", stderr(&output));
    }
    let purge = Purge;
    let listed = dpkg(&["-L", "boxtop"]);
    let package_files: Vec<PathBuf> = stdout(&listed)
        .lines()
        .map(PathBuf::from)
        .filter(|path| path.is_file())
        .collect();
    assert!(
        package_files.contains(&PathBuf::from("/usr/bin/boxtop")),
        "{package_files:?}"
    );

    // The installed binary, as the unprivileged user.
    let b = Box::new();
    let world = &b.world;
    let doctor = world
        .command(Path::new("/usr/bin/boxtop"))
        .arg("doctor")
        .output()
        .unwrap();
    assert!(doctor.status.success(), "doctor: {}", stderr(&doctor));
    assert!(
        stdout(&doctor).contains("user namespaces"),
        "{}",
        stdout(&doctor)
    );
    let profile = b.sh_profile("packaged", "echo inside-$(id -u); exec sleep 1000", "");
    let output = world
        .command(Path::new("/usr/bin/boxtop"))
        .args(["run", "--detach", "--profile-file"])
        .arg(&profile)
        .output()
        .unwrap();
    assert!(output.status.success(), "run --detach: {}", stderr(&output));
    let id = stdout(&output).trim().to_string();
    assert!(!id.is_empty());

    // Bash completion of `boxtop stop <TAB>` offers the running instance's id, by calling
    // the installed boxtop back.
    let script = "source /usr/share/bash-completion/completions/boxtop\n\
                  COMP_WORDS=(boxtop stop '')\nCOMP_CWORD=2\nCOMP_TYPE=9\n\
                  _clap_complete_boxtop boxtop '' stop\n\
                  printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    let completion = world
        .command(Path::new("/bin/bash"))
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    let offered = stdout(&completion);
    assert!(
        offered.lines().any(|line| line.trim() == id),
        "completion of `boxtop stop ` did not offer {id}:\n{offered}\n{}",
        stderr(&completion)
    );
    assert!(
        offered.lines().any(|line| line.trim() == "packaged"),
        "completion did not offer the profile of the running instance:\n{offered}"
    );
    let stop = world
        .command(Path::new("/usr/bin/boxtop"))
        .args(["stop", &id])
        .output()
        .unwrap();
    assert!(stop.status.success(), "stop: {}", stderr(&stop));

    // The installed manual pages render.
    let (text, _) = render_man(Path::new("/usr/share/man/man1/boxtop.1.gz"));
    assert!(text.contains("boxtop"), "{text}");
    let (text, _) = render_man(Path::new("/usr/share/man/man5/boxtop-profile.5.gz"));
    assert!(text.contains("[[home.share]]"), "{text}");

    drop(purge);
    let left: Vec<&PathBuf> = package_files.iter().filter(|path| path.exists()).collect();
    assert!(left.is_empty(), "dpkg --purge left {left:?}");
    assert!(!dpkg(&["-s", "boxtop"]).status.success());
}

/// Purges the package when the test ends, passed or not.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let output = dpkg(&["--purge", "boxtop"]);
        if !output.status.success() {
            eprintln!("dpkg --purge boxtop: {}", stderr(&output));
        }
    }
}
