"""Write tests/hostile-text.json: the strings both clients must show as written (issue 12).

Every string is at most 200 characters and not blank, so each one fits every field a
warning, a corroboration, a report, a takedown request and a decision has. Each item
says its kind and, under ``shown``, what both clients display for it (docs/api.md,
"How user text is shown"): control characters, escape sequences and bidi controls
visibly escaped, every other character as written, without the isolating FSI/PDI.

Run from the repository root:

    .venv/bin/python -m tests.display.make_hostile_text > tests/hostile-text.json
"""

import json
import sys

from app.client.cli.output import visible

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"

MARKUP = [
    "[/i]",
    "[bold]x[/bold]",
    "[sic]",
    "[redacted]",
    "[/this]",
    "[/]",
    "[",
    "]",
    "[[x]]",
    "\\[bold]not bold\\[/bold]",
    "Jan [Johnny] Novák",
    "He said [redacted] and then [/i] left",
    "[red on white]alarm[/red on white]",
    "[link=https://evil.example/]click here[/link]",
    "[@click=app.quit]quit[/]",
    "[blink]x",
    "[bold italic underline strike reverse]all[/]",
    "[#ff0000]red",
    "[rgb(255,0,0)]red",
    "[url=https://evil.example]trust me[/url]",
    "[b]bold[/b] [i]italic[/i] [u]under[/u]",
    "[img]https://evil.example/x.png[/img]",
    "[quote=admin]I approve[/quote]",
    "[color=red]x[/color]",
    ":warning: :smile: :pile_of_poo:",
    ":cross_mark: verified",
    "<script>alert(1)</script>",
    "<b>bold</b> <i>i</i>",
    '<img src=x onerror="alert(1)">',
    "</bdi></span><b>escaped?</b>",
    "&lt;b&gt; &amp; &#x202E; &nbsp;",
    "**bold** _italic_ `code` ~~strike~~",
    "# heading\n- list",
    "{0} {name} %s %d ${HOME} $(id) `id`",
    "'; DROP TABLE entries; --",
    "../../../../etc/passwd",
    "\\x1b[31m (written with a backslash)",
    "<U+202E> written out",
    "null",
    "None",
    "undefined",
    "true",
    "0",
    "-1",
    "NaN",
    "\\",
    "\"quoted\" 'single' `back`",
]

ANSI = [
    ESC + "[31mred" + ESC + "[0m",
    ESC + "[1;5;7mbold blink reverse" + ESC + "[m",
    ESC + "[2J" + ESC + "[Hscreen cleared",
    ESC + "[1A" + ESC + "[2Kline above erased",
    ESC + "[999C" + ESC + "[10Dmoved",
    ESC + "[s" + ESC + "[u",
    ESC + "[6n",
    ESC + "[8mhidden text" + ESC + "[28m",
    ESC + "[?1049h alternate screen",
    ESC + "[?25l cursor hidden",
    ESC + "c full reset",
    ESC + "]0;pwned title" + BEL,
    ESC + "]2;window title" + ST,
    ESC + "]1;icon" + BEL,
    ESC + "]8;;https://evil.example/" + ST + "looks harmless" + ESC + "]8;;" + ST,
    ESC + "]8;;https://evil.example/" + BEL + "bank" + ESC + "]8;;" + BEL,
    ESC + "]52;c;cm0gLXJmIH4=" + BEL,
    ESC + "]4;1;rgb:ff/00/00" + BEL,
    ESC + "P+q544e" + ST,
    ESC + "_application command" + ST,
    ESC + "^privacy message" + ST,
    ESC + "X start of string" + ST,
    "\x9b31mC1 CSI red\x9b0m",
    "\x9d0;C1 OSC title\x9c",
    "\x90C1 DCS\x9c",
    ESC + "(0lqqk" + ESC + "(B",
    ESC + "#8",
    ESC + "[3;1H" + ESC + "[0K",
    "safe " + ESC + "[38;2;255;0;0mtruecolor" + ESC + "[39m",
    "Jan Nov" + ESC + "[2Dak",
]

C0 = [f"a{chr(c)}b" for c in range(0x20) if c not in (0x0A,)] + ["a\x7fb"]
C1 = [f"a{chr(c)}b" for c in range(0x80, 0xA0)]

BIDI = [
    "abc\u202edcba",
    "\u202eevil.exe\u202c",
    "Jan \u202eNovák\u202c Svoboda",
    "\u202aLRE\u202c \u202bRLE\u202c \u202dLRO\u202c",
    "\u2066LRI\u2069 \u2067RLI\u2069 \u2068FSI\u2069",
    "unterminated \u2067isolate",
    "unterminated \u202eoverride",
    "\u2069\u2069 stray PDI",
    "\u202c stray PDF",
    "a\u200eb\u200fc\u061cd",
    "/*\u202e } \u2066if (admin)\u2069 \u2066 begin admins only */",
    'access_level != \u202e\u2066// Check if admin\u2069\u2066"user"',
    "invoice\u202egpj.exe",
    "\u200fاسم\u200f",
    "100\u202e$\u202c",
]

ZERO_WIDTH = [
    "Jan\u200bNovák",
    "Jan\u200cNovák",
    "Jan\u200dNovák",
    "Jan\u2060Novák",
    "\ufeffJan Novák",
    "Jan\u00adNovák",
    "Jan\u034fNovák",
    "\u180eMongolian vowel separator",
    "\u200b\u200b\u200b",
    "a\u2061b\u2062c\u2063d\u2064e",
    "\u115fHangul filler",
    "\u3164",
]

COMBINING = [
    "e\u0301",
    "Nova\u0301k",
    "\u0301leading combining mark",
    "Z\u0351\u0364\u0367\u0363\u0315a\u0334\u0322l\u0338\u0328g\u0337o\u0340\u0361",
    "a" + "\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309" * 5,
    "\u0915\u094d\u0937",
    "\u0e01\u0e34\u0e4a",
    "\u1100\u1161\u11a8",
    "o\u0308\u0332",
    "\u20dd\u20de\u20df",
]

HUGE = [
    "a" * 200,
    "https://evil.example/" + "x" * 150,
    "Novák" * 40,
    "漢" * 200,
    "\U0001f600" * 100,
    "-" * 196,
    "x" * 199 + "\u202e",
    "w" + "\u0301" * 199,
    "bcinvite1." + "A" * 150,
    ("word " * 40).strip(),
]

EMOJI = [
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f469\U0001f3fd\u200d\U0001f4bb",
    "\U0001f3f3\ufe0f\u200d\U0001f308",
    "\U0001f3f4\u200d\u2620\ufe0f",
    "\U0001f1e8\U0001f1ff \U0001f1fa\U0001f1e6",
    "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "1\ufe0f\u20e3 #\ufe0f\u20e3",
    "\U0001f44d\U0001f3ff",
    "\u2764\ufe0f\u200d\U0001f525",
    "\U0001f9d1\u200d\U0001f91d\u200d\U0001f9d1",
    "\u263a\ufe0e \u263a\ufe0f",
    "\U0001f1e6",
]

RTL = [
    "שלום עולם",
    "יאן נובק",
    "مرحبا بالعالم",
    "يان نوفاك",
    "می\u200cخواهم",
    "abc שלום 123 def",
    "Jan (יאן) Novák",
    "٠١٢٣٤٥٦٧٨٩",
    "اردو زبان",
    "ܫܠܡܐ",
    "ދިވެހި",
    "ߒߞߏ",
    "שלום, Jan!",
    "عربي: 12 - 34",
]

LINES = [
    "first\nsecond",
    "first\r\nsecond",
    "first\rsecond",
    "first\n\n\nfourth",
    "trailing newline\n",
    "\nleading newline",
    "first\u2028second",
    "first\u2029second",
    "first\x85second",
    "first\x0bsecond",
    "first\x0csecond",
    "a\r\n\r\nb\n\rc",
    "by alice\n╰── 3 corroboration(s) · by admin",
    "fake\rerror [bad_signature] forged",
]

NUL = ["\x00", "a\x00\x00b", "\x00" * 5, "Jan\x00Novák", "\x00\x00x"]

SCRIPTS = [
    "Ян Новак",
    "Γιάννης Νόβακ",
    "Յան Նովակ",
    "იან ნოვაკი",
    "ヤン・ノヴァーク",
    "얀 노바크",
    "杨·诺瓦克",
    "जान नोवाक",
    "ஜான் நோவாக்",
    "ยาน โนวัก",
    "ጃን ኖቫክ",
    "Jаn Nоvák (Cyrillic а and о)",
    "Ｊａｎ　Ｎｏｖáｋ",
    "𝐉𝐚𝐧 𝐍𝐨𝐯á𝐤",
    "ﬁ ﬂ ﬀ",
    "\ue000\uf8ff private use",
    "\ufffd replacement",
    "\U0010fffd plane 16",
    "\ufdd0 noncharacter",
    "\U0001d11e music",
    " leading and trailing spaces ",
    "\u00a0\u2003\u3000 wide spaces",
    "\t",
    " ",
]

KINDS = {
    "markup": MARKUP,
    "ansi": ANSI,
    "c0": C0,
    "c1": C1,
    "bidi": BIDI,
    "zero-width": ZERO_WIDTH,
    "combining": COMBINING,
    "huge": HUGE,
    "emoji": EMOJI,
    "rtl": RTL,
    "lines": LINES,
    "nul": NUL,
    "scripts": SCRIPTS,
}


def corpus() -> list[dict[str, str]]:
    items = []
    for kind, strings in KINDS.items():
        for text in strings:
            assert 0 < len(text) <= 200, text
            items.append(
                {
                    "kind": kind,
                    "text": text,
                    "shown": visible(text),
                    "shown_multiline": visible(text, multiline=True),
                }
            )
    assert len({item["text"] for item in items}) == len(items)
    return items


if __name__ == "__main__":
    items = corpus()
    json.dump(
        {
            "about": "Hostile user text for both clients' renderers (issue 12); "
            "made by tests/display/make_hostile_text.py. 'shown' is a one-line field's "
            "display, 'shown_multiline' a text field's (line feeds kept), both without the "
            "FSI/PDI (terminal) or <bdi dir=auto> (web) around each string.",
            "strings": items,
        },
        sys.stdout,
        ensure_ascii=True,
        indent=1,
    )
    sys.stdout.write("\n")
