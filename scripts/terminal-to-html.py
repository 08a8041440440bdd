#!/usr/bin/env python3
"""Turns a terminal screen captured with colours (`tmux capture-pane -e -p`) into one
HTML page that a browser renders as the terminal showed it: a <pre> of spans, in a
monospace font, on a dark terminal palette.

    terminal-to-html.py COLUMNS ROWS < screen.ansi > screen.html

Understands the SGR codes tmux writes: reset, bold, reverse (and their ends), the 16
colours as 30-37/90-97 and 40-47/100-107, 256 colours (38;5;N / 48;5;N) and 24-bit
colours (38;2;R;G;B / 48;2;R;G;B). Anything else in the input is dropped.
"""

import html
import re
import sys

# A dark palette for the 16 colours (black ... white, then the bright ones).
PALETTE = [
    "#1d1f21", "#cc6666", "#8fbf5f", "#e0b050", "#6699cc", "#b08cc8", "#5fb3b3", "#c5c8c6",
    "#5c6370", "#f07878", "#b5e07a", "#f0d070", "#88bbee", "#d0a8e8", "#8ad8d8", "#ffffff",
]
FOREGROUND = "#d8dadb"
BACKGROUND = "#16181a"
FONT_PX = 15
# DejaVu Sans Mono's advance width per pixel of size.
ADVANCE = 0.602
# A little under the font's ascent + descent (1.164 em), so that the box-drawing
# characters of one line overlap the next instead of leaving a gap.
LINE_PX = 17
PADDING_PX = 14

SGR = re.compile(r"\x1b\[([0-9;]*)m")
OTHER_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|.)")


def color_256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        r, g, b = steps[n // 36], steps[(n // 6) % 6], steps[n % 6]
        return f"#{r:02x}{g:02x}{b:02x}"
    level = 8 + (n - 232) * 10
    return f"#{level:02x}{level:02x}{level:02x}"


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = False
        self.reverse = False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code == 0:
                self.reset()
            elif code == 1:
                self.bold = True
            elif code == 22:
                self.bold = False
            elif code == 7:
                self.reverse = True
            elif code == 27:
                self.reverse = False
            elif 30 <= code <= 37:
                self.fg = PALETTE[code - 30]
            elif 90 <= code <= 97:
                self.fg = PALETTE[code - 90 + 8]
            elif code == 39:
                self.fg = None
            elif 40 <= code <= 47:
                self.bg = PALETTE[code - 40]
            elif 100 <= code <= 107:
                self.bg = PALETTE[code - 100 + 8]
            elif code == 49:
                self.bg = None
            elif code in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    value = color_256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    value = "#{:02x}{:02x}{:02x}".format(*codes[i + 2 : i + 5])
                    i += 4
                else:
                    value = None
                if code == 38:
                    self.fg = value
                else:
                    self.bg = value
            i += 1

    def css(self):
        fg, bg = self.fg, self.bg
        if self.reverse:
            fg, bg = (bg or BACKGROUND), (fg or FOREGROUND)
        rules = []
        if fg:
            rules.append(f"color:{fg}")
        if bg:
            rules.append(f"background:{bg}")
        if self.bold:
            rules.append("font-weight:bold")
        return ";".join(rules)


def convert(text):
    style = Style()
    out = []
    for line in text.split("\n"):
        position = 0
        for match in SGR.finditer(line):
            out.append(span(OTHER_ESCAPE.sub("", line[position : match.start()]), style))
            style.apply(match.group(1))
            position = match.end()
        out.append(span(OTHER_ESCAPE.sub("", line[position:]), style))
        out.append("\n")
    return "".join(out).rstrip("\n")


def span(text, style):
    if not text:
        return ""
    css = style.css()
    text = html.escape(text)
    return f'<span style="{css}">{text}</span>' if css else text


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: terminal-to-html.py COLUMNS ROWS < screen.ansi > screen.html")
    columns, rows = int(sys.argv[1]), int(sys.argv[2])
    screen = sys.stdin.read()
    # capture-pane ends each line where its text ends: pad the page to the full size.
    width = round(columns * ADVANCE * FONT_PX) + 2 * PADDING_PX
    height = rows * LINE_PX + 2 * PADDING_PX
    sys.stdout.write(
        f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>boxtop</title><style>
html, body {{ margin: 0; background: {BACKGROUND}; }}
pre {{
  margin: 0; padding: {PADDING_PX}px; width: {width - 2 * PADDING_PX}px;
  height: {height - 2 * PADDING_PX}px; overflow: hidden;
  font-family: "DejaVu Sans Mono", monospace; font-size: {FONT_PX}px; line-height: {LINE_PX}px;
  color: {FOREGROUND}; background: {BACKGROUND};
}}
</style></head>
<body data-width="{width}" data-height="{height}"><pre>{convert(screen)}</pre></body></html>
"""
    )


if __name__ == "__main__":
    main()
