//! Audio grants: PulseAudio and PipeWire reached with their grant, absent without.

use std::time::Duration;

use super::{assert_unreachable, run_in_background, sh};
use crate::support::audio::{pipewire_server, wav};
use crate::support::{assert_ok, pulse_server, require, stderr, stdout, wait_until, World};

#[test]
fn pulseaudio_playback_reaches_the_server_only_with_its_grant() {
    let pulseaudio = require("pulseaudio", "pulseaudio");
    let pactl = require("pactl", "pulseaudio-utils");
    require("paplay", "pulseaudio-utils");
    let world = World::new();
    std::fs::create_dir_all(world.home.join("Music")).unwrap();
    std::fs::write(world.home.join("Music/tone.wav"), wav(8)).unwrap();
    world.fix_owner();
    let server = pulse_server(&world, &pulseaudio);
    let info = sh(
        &world,
        "pa",
        "audio = \"pulseaudio\"",
        "pactl info >/dev/null && echo pulse-ok",
    );
    assert_ok(&info, "pactl info inside a pulseaudio sandbox");
    assert!(stdout(&info).contains("pulse-ok"));

    let profile = world.profile("player", "command = [\"paplay\"]\naudio = \"pulseaudio\"\n[home]\nephemeral = true\n[[home.share]]\npath = \"Music\"\n");
    let tone = world.home.join("Music/tone.wav");
    let player = run_in_background(&world, &profile, &[tone.to_str().unwrap()]);
    wait_until(
        "the sandboxed stream in `pactl list sink-inputs`",
        Duration::from_secs(15),
        || {
            world
                .command(&pactl)
                .args(["list", "short", "sink-inputs"])
                .output()
                .map(|o| !stdout(&o).trim().is_empty())
                .unwrap_or(false)
        },
    );
    drop(player);

    assert_unreachable(
        &world,
        "pano",
        "audio = \"none\"",
        "pactl info",
        "$XDG_RUNTIME_DIR/pulse/native",
    );
    drop(server);
}

#[test]
fn pipewire_daemon_is_reachable_only_with_an_audio_grant() {
    let world = World::new();
    let server = pipewire_server(&world);
    // `pw-cli info 0` asks the daemon for its core object: it answers only over a working
    // connection.
    let script = "pw-cli info 0 | grep -q 'PipeWire:Interface:Core' && echo pipewire-ok; \
                  ls -A \"$XDG_RUNTIME_DIR\"";
    for grant in ["pipewire", "auto"] {
        let inside = sh(&world, "pw", &format!("audio = \"{grant}\""), script);
        assert_ok(
            &inside,
            &format!("pw-cli info 0 inside an audio = {grant} sandbox"),
        );
        let text = stdout(&inside);
        assert!(
            text.contains("pipewire-ok"),
            "audio = {grant}: {text}\n{}",
            stderr(&inside)
        );
        assert!(
            text.contains("pipewire-0") && !text.contains("pulse"),
            "audio = {grant}: the runtime folder should hold the PipeWire socket and no PulseAudio one: {text}"
        );
    }

    // A client that stays connected, `pw-mon`, is seen from outside among the daemon's.
    let profile = world.profile(
        "monitor",
        "command = [\"pw-mon\"]\naudio = \"pipewire\"\n[home]\nephemeral = true\n",
    );
    let monitor = run_in_background(&world, &profile, &[]);
    let pw_cli = require("pw-cli", "pipewire-bin");
    wait_until(
        "the sandboxed pw-mon in `pw-cli ls Client`",
        Duration::from_secs(15),
        || {
            world
                .command(&pw_cli)
                .args(["ls", "Client"])
                .output()
                .map(|o| stdout(&o).contains("application.name = \"pw-mon\""))
                .unwrap_or(false)
        },
    );
    drop(monitor);

    assert_unreachable(
        &world,
        "pwno",
        "audio = \"none\"",
        "pw-cli info 0",
        "$XDG_RUNTIME_DIR/pipewire-0",
    );
    drop(server);
}
