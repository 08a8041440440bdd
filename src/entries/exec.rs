//! The `Exec` command line of the Desktop Entry spec: arguments split on spaces, double
//! quotes with `\"`, `` \` ``, `\$` and `\\` inside them, `%` field codes and `%%` for a
//! literal percent sign. This works on the value after the string escapes are undone
//! (`desktop_file::unescape`); writing does the reverse in the same order.

/// Part of one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// `%f`, `%U`...: the letter.
    Field(char),
}

/// One argument of a command line, as pieces of text and field codes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Arg(pub Vec<Piece>);

/// Why an `Exec` value cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    #[error("a double quote is not closed")]
    UnclosedDoubleQuote,
    #[error("a single quote is not closed")]
    UnclosedSingleQuote,
    #[error("a '%' ends the command line (write '%%' for a percent sign)")]
    LonePercent,
    #[error("the command line is empty")]
    Empty,
}

/// Characters that the spec reserves: an argument holding one must be quoted.
const RESERVED: &[char] = &[
    ' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')',
    '`',
];

/// Characters that take a backslash inside double quotes.
const ESCAPED_IN_QUOTES: &[char] = &['"', '`', '$', '\\'];

/// Field codes the spec marks deprecated: dropped wherever they appear.
pub const DEPRECATED_FIELDS: &[char] = &['d', 'D', 'n', 'N', 'v', 'm'];

/// Field codes that stand for the files or URLs the entry is opened with.
pub const FILE_FIELDS: &[char] = &['f', 'F', 'u', 'U'];

impl Arg {
    /// An argument of plain text.
    pub fn text(text: &str) -> Self {
        Arg(vec![Piece::Text(text.to_string())])
    }

    /// The text of an argument with no field code.
    pub fn as_text(&self) -> Option<String> {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Field(_) => return None,
            }
        }
        Some(out)
    }

    /// The field codes this argument holds.
    pub fn fields(&self) -> impl Iterator<Item = char> + '_ {
        self.0.iter().filter_map(|piece| match piece {
            Piece::Field(code) => Some(*code),
            Piece::Text(_) => None,
        })
    }

    pub fn has_fields(&self) -> bool {
        self.fields().next().is_some()
    }

    /// The argument as written in an `Exec` value (before string escaping). Text is
    /// quoted when it holds a reserved character; field codes cannot be quoted (the spec
    /// leaves that undefined), so an argument mixing them with such text has no form.
    pub fn to_exec(&self) -> Option<String> {
        if let Some(text) = self.as_text() {
            return Some(quote(&text));
        }
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(text) if text.contains(RESERVED) => return None,
                Piece::Text(text) => out.push_str(&text.replace('%', "%%")),
                Piece::Field(code) => {
                    out.push('%');
                    out.push(*code);
                }
            }
        }
        Some(out)
    }
}

/// Splits an `Exec` value (string escapes already undone) into arguments.
///
/// Beyond the spec, and like GLib, it accepts single quotes and backslashes outside
/// double quotes, so that files desktops run are read the way desktops read them.
pub fn parse(value: &str) -> Result<Vec<Arg>, ExecError> {
    enum Quote {
        None,
        Double,
        Single,
    }
    let mut args = Vec::new();
    let mut current: Option<Arg> = None;
    let mut quote = Quote::None;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match (&quote, c) {
            (Quote::None, ' ' | '\t' | '\n') => {
                if let Some(arg) = current.take() {
                    args.push(arg);
                }
                continue;
            }
            (Quote::None, '"') => quote = Quote::Double,
            (Quote::None, '\'') => quote = Quote::Single,
            (Quote::Double, '"') | (Quote::Single, '\'') => quote = Quote::None,
            (Quote::None, '\\') => {
                if let Some(next) = chars.next() {
                    push_char(current.get_or_insert_with(Arg::default), next);
                }
            }
            (Quote::Double, '\\') => {
                let arg = current.get_or_insert_with(Arg::default);
                match chars.peek() {
                    Some(&next) if ESCAPED_IN_QUOTES.contains(&next) => {
                        chars.next();
                        push_char(arg, next);
                    }
                    _ => push_char(arg, '\\'),
                }
            }
            (_, '%') => {
                let arg = current.get_or_insert_with(Arg::default);
                match chars.next() {
                    Some('%') => push_char(arg, '%'),
                    Some(code) => arg.0.push(Piece::Field(code)),
                    None => return Err(ExecError::LonePercent),
                }
            }
            (_, c) => push_char(current.get_or_insert_with(Arg::default), c),
        }
        // An opening quote starts an argument even when it is empty: `""`.
        current.get_or_insert_with(Arg::default);
    }
    match quote {
        Quote::Double => return Err(ExecError::UnclosedDoubleQuote),
        Quote::Single => return Err(ExecError::UnclosedSingleQuote),
        Quote::None => {}
    }
    if let Some(arg) = current.take() {
        args.push(arg);
    }
    if args.is_empty() {
        return Err(ExecError::Empty);
    }
    Ok(args)
}

fn push_char(arg: &mut Arg, c: char) {
    match arg.0.last_mut() {
        Some(Piece::Text(text)) => text.push(c),
        _ => arg.0.push(Piece::Text(c.to_string())),
    }
}

/// One literal argument as written in an `Exec` value: `%` doubled, and in double quotes
/// (with `"`, `` ` ``, `$`, `\` escaped) when it is empty or holds a reserved character.
pub fn quote(text: &str) -> String {
    let text = text.replace('%', "%%");
    if !text.is_empty() && !text.contains(RESERVED) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if ESCAPED_IN_QUOTES.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Arguments joined into an `Exec` value; those that cannot be written are left out.
pub fn join(args: &[Arg]) -> String {
    args.iter()
        .filter_map(Arg::to_exec)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The name of the program an `Exec` starts, for comparing two command lines: the file
/// name of the first argument (`/usr/bin/chat` and `chat` are the same program).
pub fn program_name(args: &[Arg]) -> Option<String> {
    let first = args.first()?.as_text()?;
    let name = first.rsplit('/').next().unwrap_or(&first);
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(value: &str) -> Vec<String> {
        parse(value)
            .unwrap()
            .iter()
            .map(|arg| match arg.as_text() {
                Some(text) => text,
                None => arg.to_exec().unwrap(),
            })
            .collect()
    }

    #[test]
    fn splits_on_spaces_and_reads_field_codes() {
        let args = parse("chat --new-window %U").unwrap();
        assert_eq!(args.len(), 3);
        assert_eq!(args[0], Arg::text("chat"));
        assert_eq!(args[2], Arg(vec![Piece::Field('U')]));
        assert_eq!(texts("  a   b\tc "), vec!["a", "b", "c"]);
    }

    #[test]
    fn reads_double_quotes_with_their_escapes() {
        assert_eq!(
            texts(r#""/opt/My App/run" "say \"hi\"" "\$HOME" "a\\b" "\`x\`""#),
            vec!["/opt/My App/run", "say \"hi\"", "$HOME", "a\\b", "`x`"]
        );
        // A backslash before another character stays.
        assert_eq!(texts(r#""a\qb""#), vec!["a\\qb"]);
        assert_eq!(texts(r#"x "" y"#), vec!["x", "", "y"]);
    }

    #[test]
    fn percent_percent_is_a_literal_percent() {
        assert_eq!(
            texts("app --zoom=100%% %f"),
            vec!["app", "--zoom=100%", "%f"]
        );
        assert_eq!(texts(r#""50%% off""#), vec!["50% off"]);
        assert_eq!(parse("app %"), Err(ExecError::LonePercent));
    }

    #[test]
    fn reads_what_glib_reads_beyond_the_spec() {
        assert_eq!(texts("sh -c 'echo hi'"), vec!["sh", "-c", "echo hi"]);
        assert_eq!(texts(r"a\ b"), vec!["a b"]);
    }

    #[test]
    fn refuses_broken_command_lines() {
        assert_eq!(parse(r#"app "open"#), Err(ExecError::UnclosedDoubleQuote));
        assert_eq!(parse("app 'open"), Err(ExecError::UnclosedSingleQuote));
        assert_eq!(parse("   "), Err(ExecError::Empty));
    }

    #[test]
    fn mixed_text_and_field_codes_stay_one_argument() {
        let args = parse("app --url=%u").unwrap();
        assert_eq!(
            args[1],
            Arg(vec![Piece::Text("--url=".into()), Piece::Field('u')])
        );
        assert_eq!(args[1].to_exec().as_deref(), Some("--url=%u"));
        // Reserved text next to a field code cannot be quoted: no form.
        let bad = Arg(vec![Piece::Text("a b".into()), Piece::Field('f')]);
        assert_eq!(bad.to_exec(), None);
    }

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("/usr/bin/boxtop"), "/usr/bin/boxtop");
        assert_eq!(
            quote("/home/me/My Apps/boxtop"),
            "\"/home/me/My Apps/boxtop\""
        );
        assert_eq!(quote("a\"b"), r#""a\"b""#);
        assert_eq!(quote("cost$5"), r#""cost\$5""#);
        assert_eq!(quote("back\\slash"), r#""back\\slash""#);
        assert_eq!(quote("`cmd`"), r#""\`cmd\`""#);
        assert_eq!(quote("100%"), "100%%");
        assert_eq!(quote("50% off"), "\"50%% off\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("it's"), "\"it's\"");
    }

    #[test]
    fn quoting_then_parsing_gives_the_argument_back() {
        let samples = [
            "/opt/Weird \"App\"/bin/run",
            "$HOME\\x",
            "100%",
            "%U",
            "tab\there",
            "semi;colon",
            "~user",
            "",
            "ünïcødé",
        ];
        for sample in samples {
            let args = parse(&format!("prog {}", quote(sample))).unwrap();
            assert_eq!(args[1].as_text().as_deref(), Some(sample), "{sample:?}");
        }
    }

    #[test]
    fn program_name_ignores_the_folder() {
        assert_eq!(
            program_name(&parse("/usr/bin/chat %U").unwrap()).as_deref(),
            Some("chat")
        );
        assert_eq!(
            program_name(&parse("chat").unwrap()).as_deref(),
            Some("chat")
        );
    }
}
