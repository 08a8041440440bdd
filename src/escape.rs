//! Text from outside boxtop (file names, profile names, ids, paths, a profile's values)
//! made safe to print on a terminal: a control character in it must not move the
//! cursor, recolour, retitle the window or write the clipboard of the user reading it.
//!
//! ESC is shown as `\e`, every other C0 control, DEL and every C1 control as `\xNN`;
//! the rest of Unicode is kept. (An app's own output, read with `boxtop logs`, has its
//! own caret notation in `instance::logs::printable`.)

use std::borrow::Cow;

/// `text` with every control character escaped: for one name, id or path.
pub fn controls(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// `text` with every control character escaped but newline and tab: for a whole message
/// or table, whose lines are boxtop's own.
pub fn message(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

/// JSON made by serde_json, safe on a terminal and still the same JSON: serde_json writes
/// C0 controls as `\u00XX` already, but DEL and the C1 controls raw. Outside strings JSON
/// is plain ASCII, so each of those is inside a string, where `\u00XX` means the same.
pub fn json(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unescaped_by_serde) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unescaped_by_serde(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_unescaped_by_serde(c: char) -> bool {
    c.is_control() && c as u32 >= 0x7f
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if keep(c) || !c.is_control() => out.push(c),
            '\x1b' => out.push_str("\\e"),
            c => out.push_str(&format!("\\x{:02x}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// Writes `text`, escaped by [`message`], to standard output. A reader that has gone
/// away (`boxtop ps | head -1`, a launcher that died) is not an error worth a crash: the
/// rest is dropped, as `println!` would have aborted the process instead.
pub fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(message(text).as_bytes())
        .and_then(|()| stdout.flush());
}

/// Writes JSON text (through [`json`]) and a newline to standard output, as [`out`] does.
pub fn out_json(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(json(text).as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
}

/// [`out`] for standard error.
pub fn err(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(message(text).as_bytes());
}

/// `println!` for the user to read: the formatted line goes through [`message`], and a
/// closed standard output is not a crash (see [`out`]).
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::escape::out(&::std::format!("{}\n", ::std::format_args!($($arg)*)))
    };
}

/// `eprintln!` for the user to read: the formatted line goes through [`message`].
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::escape::err(&::std::format!("{}\n", ::std::format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_unicode_is_kept() {
        assert_eq!(controls("firefox"), "firefox");
        assert!(matches!(controls("plain é 名前"), Cow::Borrowed(_)));
        assert_eq!(controls("a\x1b[31mb"), "a\\e[31mb");
        assert_eq!(
            controls("bell\x07 nul\0 del\x7f"),
            "bell\\x07 nul\\x00 del\\x7f"
        );
        assert_eq!(controls("\u{9b}31m \u{85}"), "\\x9b31m \\x85");
        assert_eq!(controls("two\nlines\ttab\r"), "two\\x0alines\\x09tab\\x0d");
        assert_eq!(controls("é\x1b]0;title\x07ü"), "é\\e]0;title\\x07ü");
    }

    #[test]
    fn messages_keep_their_lines() {
        assert_eq!(
            message("error: 'a\x1b[2Jb'\n  hint\tx\r"),
            "error: 'a\\e[2Jb'\n  hint\tx\\x0d"
        );
    }

    #[test]
    fn json_stays_the_same_json_without_raw_controls() {
        let value = serde_json::json!({ "name": "a\x1b[31m\u{7f}\u{9b}b é" });
        let text = serde_json::to_string_pretty(&value).unwrap();
        // serde_json leaves DEL and C1 raw: that is why `json` exists.
        assert!(text.contains('\u{9b}') && text.contains('\u{7f}'));
        assert!(!text.contains('\x1b'));
        let safe = json(&text);
        assert!(!safe.chars().any(|c| c.is_control() && c != '\n'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }
}
