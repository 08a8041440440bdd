//! Sound servers of the test user (PulseAudio with a null sink, PipeWire) and a tone to
//! play into them.

use std::path::Path;

use super::host::{require, server_with_socket, Server};
use super::world::World;

/// A WAV file of `seconds` of a 440 Hz tone, 16-bit mono 8 kHz.
pub(crate) fn wav(seconds: u32) -> Vec<u8> {
    let rate = 8000u32;
    let samples = rate * seconds;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + samples * 2).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples * 2).to_le_bytes());
    for i in 0..samples {
        let value =
            ((i as f64 * 440.0 * 2.0 * std::f64::consts::PI / rate as f64).sin() * 8000.0) as i16;
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

/// A PulseAudio server of the test user with a null sink, listening where sessions keep
/// it (`$XDG_RUNTIME_DIR/pulse/native`); returns once the socket is there.
pub(crate) fn pulse_server(world: &World, pulseaudio: &Path) -> Server {
    let mut command = world.command(pulseaudio);
    command
        .args([
            "--daemonize=no",
            "--exit-idle-time=-1",
            "-n",
            "--disallow-exit",
            "--log-target=stderr",
        ])
        .args([
            "--load=module-native-protocol-unix",
            "--load=module-null-sink sink_name=boxtop_null",
            "--load=module-always-sink",
        ]);
    server_with_socket(world, command, "pulse/native", "PulseAudio's socket")
}

/// A PipeWire daemon of the test user (the configuration its package ships), listening
/// where sessions keep it (`$XDG_RUNTIME_DIR/pipewire-0`); returns once the socket is there.
pub(crate) fn pipewire_server(world: &World) -> Server {
    let command = world.command(&require("pipewire", "pipewire-bin"));
    server_with_socket(world, command, "pipewire-0", "PipeWire's socket")
}
