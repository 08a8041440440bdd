//! Words and text shapes shared by the components and the drawing: how a grant's value
//! is written, paths with `~`, and text cut or wrapped to a width. No state, no I/O.

use std::path::Path;

use crate::profile::schema::{Audio, Display, Network};

pub fn display_str(display: Display) -> &'static str {
    match display {
        Display::None => "none",
        Display::Wayland => "wayland",
        Display::X11 => "x11",
        Display::Auto => "auto",
    }
}

pub fn audio_str(audio: Audio) -> &'static str {
    match audio {
        Audio::None => "none",
        Audio::Pulseaudio => "pulseaudio",
        Audio::Pipewire => "pipewire",
        Audio::Auto => "auto",
    }
}

pub fn network_str(network: Network) -> &'static str {
    match network {
        Network::None => "none",
        Network::Host => "host",
        Network::Isolated => "isolated",
    }
}

pub fn on_off(value: bool) -> &'static str {
    if value {
        "on"
    } else {
        "off"
    }
}

/// `~/x` for paths in the home folder.
pub fn tilde(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) => format!("~/{}", rest.display()),
        Err(_) => path.display().to_string(),
    }
}

/// `text` with the home folder written `~`, as in paths shown to the user.
pub fn tilde_in(text: &str, home: &Path) -> String {
    let home = format!("{}/", home.display());
    if home.len() <= 2 {
        return text.to_string();
    }
    text.replace(&home, "~/")
}

/// `text` cut to `width` characters (with `…`) and padded to exactly `width`.
pub fn fit(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        format!("{text}{}", " ".repeat(width - count))
    } else if width == 0 {
        String::new()
    } else {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    }
}

/// `text` right-aligned in `width` characters.
pub fn fit_right(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count >= width {
        fit(text, width)
    } else {
        format!("{}{text}", " ".repeat(width - count))
    }
}

/// Splits text into lines of at most `width` characters at spaces (long words are cut).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: String = word.to_string();
        loop {
            let line_len = line.chars().count();
            let word_len = word.chars().count();
            let needed = if line.is_empty() {
                word_len
            } else {
                line_len + 1 + word_len
            };
            if needed <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}
