//! Markdown to a man(7) page: `boxtop-profile(5)` is rendered from `docs/profiles.md`, so
//! the manual page and the document cannot say different things.
//!
//! Only the Markdown that boxtop's documents use: headings, paragraphs, bullet and numbered
//! lists (with indented continuation lines and code blocks), fenced code blocks, tables of
//! two or more columns (rendered as tagged paragraphs), `code`, **bold**, *emphasis* and
//! links (their text; the address too when it leaves the document set).

/// The page's `.TH` line and its NAME section.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// e.g. `boxtop-profile`.
    pub name: &'a str,
    /// e.g. 5.
    pub section: u8,
    /// The one line of the NAME section after the dash.
    pub summary: &'a str,
    /// e.g. `boxtop 0.1.0`.
    pub source: &'a str,
    /// e.g. `File Formats Manual`.
    pub manual: &'a str,
}

/// The man(7) source of `markdown`. The document's first `#` heading is its title and is
/// replaced by the NAME section.
pub fn render(markdown: &str, page: &Page) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        ".TH {} {} \"\" \"{}\" \"{}\"\n",
        page.name.to_uppercase(),
        page.section,
        quoted(page.source),
        quoted(page.manual)
    ));
    out.push_str(&format!(
        ".SH NAME\n{} \\- {}\n",
        escape_line(page.name),
        escape_line(page.summary)
    ));
    let mut seen_description = false;
    let lines: Vec<&str> = markdown.lines().collect();
    let mut i = 0;
    let mut paragraph: Vec<String> = Vec::new();
    // Inside a list item: its text's indentation, so that indented lines continue it.
    let mut item_indent: Option<usize> = None;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() {
            flush(&mut out, &mut paragraph);
            i += 1;
            continue;
        }
        if let Some(fence) = trimmed.strip_prefix("```") {
            flush(&mut out, &mut paragraph);
            let _language = fence;
            let inside = item_indent.is_some_and(|item| indent >= item);
            if inside {
                out.push_str(".sp\n");
            } else {
                item_indent = None;
                out.push_str(".PP\n");
            }
            out.push_str(".RS 4\n.EX\n");
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                let code = lines[i];
                let code = code.get(indent.min(leading_spaces(code))..).unwrap_or("");
                out.push_str(&guard_line_start(code_text(code)));
                out.push('\n');
                i += 1;
            }
            out.push_str(".EE\n.RE\n");
            i += 1;
            continue;
        }
        if indent == 0 && trimmed.starts_with('#') {
            flush(&mut out, &mut paragraph);
            item_indent = None;
            let level = trimmed.chars().take_while(|c| *c == '#').count();
            let text = inline(trimmed[level..].trim());
            match level {
                1 => {}
                2 => out.push_str(&format!(".SH {}\n", text.to_uppercase())),
                _ => out.push_str(&format!(".SS {text}\n")),
            }
            if level == 1 && !seen_description {
                seen_description = true;
                out.push_str(".SH DESCRIPTION\n");
            }
            i += 1;
            continue;
        }
        if indent == 0 && trimmed.starts_with('|') {
            flush(&mut out, &mut paragraph);
            item_indent = None;
            let mut rows = Vec::new();
            while i < lines.len() && lines[i].trim_start().starts_with('|') {
                rows.push(cells(lines[i]));
                i += 1;
            }
            // The header, then the `---` line under it.
            for row in rows.iter().skip(2) {
                let Some((first, rest)) = row.split_first() else {
                    continue;
                };
                out.push_str(&format!(".TP\n{}\n", inline(first)));
                let rest: Vec<String> = rest.iter().map(|cell| inline(cell)).collect();
                out.push_str(&rest.join(" \\(em "));
                out.push('\n');
            }
            continue;
        }
        if let Some((marker, text)) = list_item(trimmed) {
            flush(&mut out, &mut paragraph);
            if item_indent.is_none() && out.ends_with(".RE\n") {
                out.push_str(".PP\n");
            }
            item_indent = Some(indent + (trimmed.len() - text.len()));
            out.push_str(&format!(".IP {marker} 4\n"));
            paragraph.push(text.to_string());
            i += 1;
            continue;
        }
        if paragraph.is_empty() {
            match item_indent {
                Some(item) if indent >= item => out.push_str(".IP \"\" 4\n"),
                _ => {
                    item_indent = None;
                    out.push_str(".PP\n");
                }
            }
        }
        paragraph.push(trimmed.to_string());
        i += 1;
    }
    flush(&mut out, &mut paragraph);
    out
}

/// Writes the paragraph gathered so far as one filled line.
fn flush(out: &mut String, paragraph: &mut Vec<String>) {
    if paragraph.is_empty() {
        return;
    }
    let text = inline(&paragraph.join(" "));
    out.push_str(&text);
    out.push('\n');
    paragraph.clear();
}

fn leading_spaces(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `- text` or `12. text`: the marker as roff shows it, and the text.
fn list_item(line: &str) -> Option<(String, &str)> {
    if let Some(text) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        return Some(("\\(bu".to_string(), text));
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let text = line[digits..].strip_prefix(". ")?;
    (digits > 0).then(|| (format!("{}.", &line[..digits]), text))
}

/// The cells of a table row `| a | b |`, trimmed. A `|` inside backticks stays in its cell.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut in_code = false;
    for c in inner.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                cell.push(c);
            }
            '|' if !in_code => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    cells.push(cell.trim().to_string());
    cells
}

/// Inline Markdown to roff: code and bold in bold, emphasis in italics, links as their
/// text. The result is escaped for roff and safe at the start of a line.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            if let Some(end) = find(&chars, i + 1, "`") {
                let code: String = chars[i + 1..end].iter().collect();
                out.push_str("\\fB");
                out.push_str(&code_text(&code));
                out.push_str("\\fR");
                i = end + 1;
                continue;
            }
        }
        if c == '*' && chars.get(i + 1) == Some(&'*') {
            if let Some(end) = find(&chars, i + 2, "**") {
                let bold: String = chars[i + 2..end].iter().collect();
                out.push_str("\\fB");
                out.push_str(&inline(&bold));
                out.push_str("\\fR");
                i = end + 2;
                continue;
            }
        }
        if c == '*' || (c == '_' && (i == 0 || !chars[i - 1].is_alphanumeric())) {
            let close = c.to_string();
            if let Some(end) = find(&chars, i + 1, &close) {
                let after_ok = chars
                    .get(end + 1)
                    .is_none_or(|next| !next.is_alphanumeric());
                if end > i + 1 && after_ok && !chars[i + 1].is_whitespace() {
                    let em: String = chars[i + 1..end].iter().collect();
                    out.push_str("\\fI");
                    out.push_str(&inline(&em));
                    out.push_str("\\fR");
                    i = end + 1;
                    continue;
                }
            }
        }
        if c == '[' {
            if let Some(close) = find(&chars, i + 1, "](") {
                if let Some(end) = find(&chars, close + 2, ")") {
                    let label: String = chars[i + 1..close].iter().collect();
                    let target: String = chars[close + 2..end].iter().collect();
                    out.push_str(&inline(&label));
                    if target.starts_with("http://") || target.starts_with("https://") {
                        out.push_str(" <");
                        out.push_str(&escape(&target));
                        out.push('>');
                    }
                    i = end + 1;
                    continue;
                }
            }
        }
        out.push_str(&escape(&c.to_string()));
        i += 1;
    }
    guard_line_start(out)
}

/// Where `needle` next starts at or after `from`.
fn find(chars: &[char], from: usize, needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    (from..chars.len()).find(|&at| chars[at..].starts_with(&needle))
}

/// Code is shown as typed: its hyphens are minus signs, so that a copied option works.
fn code_text(code: &str) -> String {
    code.replace('\\', "\\e").replace('-', "\\-")
}

/// Escapes roff's backslash.
fn escape(text: &str) -> String {
    text.replace('\\', "\\e")
}

/// A line of plain text, escaped.
fn escape_line(text: &str) -> String {
    guard_line_start(escape(text))
}

/// A line that starts with `.` or `'` would be read as a request.
fn guard_line_start(line: String) -> String {
    if line.starts_with('.') || line.starts_with('\'') {
        format!("\\&{line}")
    } else {
        line
    }
}

/// A string inside a `"..."` argument of a request.
fn quoted(text: &str) -> String {
    text.replace('"', "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Page<'static> {
        Page {
            name: "boxtop-profile",
            section: 5,
            summary: "profile format",
            source: "boxtop 0.1.0",
            manual: "File Formats Manual",
        }
    }

    #[test]
    fn headings_become_sections_and_subsections() {
        let out = render(
            "# Title\n\nIntro.\n\n## Keys\n\n### `name`\n\nText.\n",
            &page(),
        );
        assert!(out.starts_with(".TH BOXTOP-PROFILE 5 "), "{out}");
        assert!(out.contains(".SH NAME\nboxtop-profile \\- profile format\n"));
        assert!(out.contains(".SH DESCRIPTION\n.PP\nIntro.\n"), "{out}");
        assert!(
            out.contains(".SH KEYS\n.SS \\fBname\\fR\n.PP\nText.\n"),
            "{out}"
        );
    }

    #[test]
    fn code_blocks_keep_their_lines_with_minus_signs() {
        let out = render("```toml\nname = \"a-b\"\n.hidden = 1\n```\n", &page());
        assert!(
            out.contains(".EX\nname = \"a\\-b\"\n\\&.hidden = 1\n.EE\n"),
            "{out}"
        );
    }

    #[test]
    fn list_items_with_indented_continuations_and_code() {
        let md =
            "- **One** thing\n  goes on\n\n  ```sh\n  boxtop run x\n  ```\n\n- two\n\nAfter.\n";
        let out = render(md, &page());
        assert!(
            out.contains(".IP \\(bu 4\n\\fBOne\\fR thing goes on\n"),
            "{out}"
        );
        assert!(
            out.contains(".sp\n.RS 4\n.EX\nboxtop run x\n.EE\n.RE\n"),
            "{out}"
        );
        assert!(out.contains(".IP \\(bu 4\ntwo\n.PP\nAfter.\n"), "{out}");
    }

    #[test]
    fn tables_become_tagged_paragraphs() {
        let md =
            "| value | meaning |\n| --- | --- |\n| `none` | no display |\n| `x\\|y` | pipe |\n";
        let out = render(md, &page());
        assert!(out.contains(".TP\n\\fBnone\\fR\nno display\n"), "{out}");
    }

    #[test]
    fn links_show_their_text_and_outside_addresses() {
        let out = render(
            "See [keys](#keys) and [the site](https://example.org/x).\n",
            &page(),
        );
        assert!(
            out.contains("See keys and the site <https://example.org/x>.\n"),
            "{out}"
        );
    }

    #[test]
    fn emphasis_is_not_taken_from_inside_words() {
        let out = render("snake_case and *this* and a_b_c.\n", &page());
        assert!(
            out.contains("snake_case and \\fIthis\\fR and a_b_c.\n"),
            "{out}"
        );
    }

    #[test]
    fn a_line_starting_with_a_dot_is_not_a_request() {
        let out = render("`.config` is a folder.\n", &page());
        assert!(out.contains("\\fB.config\\fR"), "{out}");
        let out = render(".config is a folder.\n", &page());
        assert!(out.contains("\n\\&.config is a folder.\n"), "{out}");
    }
}
