"""Everything the CLI prints goes through here: JSON documents, human text, tables, errors.

Both paths of every command (``--json`` and the human one) call these functions, so
how user text is shown, and how a failure is reported, is decided in one place.

User text (anything another person, or the server, wrote) is never read as Rich markup,
emoji codes or escape sequences: :func:`shown` turns it into a ``rich.text.Text`` whose
control characters, escape sequences and bidi controls are written out visibly
(``\\x1b``, ``<U+202E>``), and whose every line is isolated between FSI and PDI so it
cannot reorder what is printed around it (docs/api.md, "How user text is shown"). The
consoles themselves have markup, emoji and highlighting off, so even a string that
escaped :func:`shown` prints literally. ``--json`` carries the exact original.
Tokens (invites, links, receipts, codes, fingerprints, ids) are printed by
:func:`token`, on a line of their own that is never wrapped or cut.
"""

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from app.client.errors import ClientError
from app.crypto import CryptoError

out = Console(markup=False, emoji=False, highlight=False)
err = Console(stderr=True, markup=False, emoji=False, highlight=False)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

FSI, PDI = "\u2068", "\u2069"
# C0 (but the line feed, see below), DEL, C1; the bidi embeddings, overrides, isolates and
# marks; the line and paragraph separators. Everything else is shown as written.
_ESCAPED = "\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_ONE_LINE = re.compile(f"[{_ESCAPED}\n]")
_MULTILINE = re.compile(f"[{_ESCAPED}]")
SHORT_ID = 8  # characters of an id shown in tables and footers (a prefix of 6+ is accepted)

Part = str | Text | tuple[str | Text, str]


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"<U+{code:04X}>"


def visible(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control character, escape and bidi control written out: ESC is
    ``\\x1b``, U+202E is ``<U+202E>``. Line feeds stay line breaks only in ``multiline``
    fields (a warning's text); in a one-line field (a name) they are ``\\x0a``."""
    return (_MULTILINE if multiline else _ONE_LINE).sub(_escape, text)


def shown(text: str | None, *, multiline: bool = False, style: str = "") -> Text:
    """A user string as the terminal shows it: escaped (:func:`visible`), each line between
    FSI and PDI, never markup."""
    lines = visible(text or "", multiline=multiline).split("\n")
    return Text("\n".join(FSI + line + PDI for line in lines), style=style)


def shown_list(texts: Iterable[str], separator: str = ", ") -> Text:
    return Text(separator).join(shown(t) for t in texts)


def say(*parts: Part) -> Text:
    """One line of our own words with user strings in it: a ``str`` part is our text (no
    markup; controls escaped all the same), a ``Text`` part comes from :func:`shown`,
    ``(part, style)`` styles a part."""
    line = Text()
    for part in parts:
        text, style = part if isinstance(part, tuple) else (part, "")
        piece = text.copy() if isinstance(text, Text) else Text(visible(text, multiline=True))
        if style:
            piece.stylize(style)
        line.append_text(piece)
    return line


def author(name: str | None, former: Iterable[str] = ()) -> Text:
    """Who wrote a warning or a "me too": their name, "anonymous", or "a former member" for
    an account since deleted (the web feed says the same)."""
    if not name:
        return Text("anonymous")
    if name in former:
        return Text("a former member")
    return shown(name)


def short_id(value: object) -> str:
    """The short form of an id shown to people (the full one is in ``--json``)."""
    return str(value).replace("-", "")[:SHORT_ID] if value else "-"


def emit(as_json: bool, data: dict[str, Any] | list[Any], human: RenderableType) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
    else:
        out.print(human)


def token(value: str, *, label: str | None = None, console: Console | None = None) -> None:
    """A token people copy (invite, link, receipt, recovery code, fingerprint, id), on a
    line of its own: never wrapped, never cut, whatever the terminal's width."""
    target = console or out
    if label:
        target.print(Text(label))
    target.print(Text(visible(value)), soft_wrap=True, no_wrap=True, overflow="ignore", crop=False)


def table(
    as_json: bool,
    rows: list[dict[str, Any]],
    columns: Sequence[str],
    title: str,
    *,
    ids: Sequence[str] = (),
    empty: str = "None.",
) -> None:
    """Rows as JSON, or as a table whose ``ids`` columns show short ids, never wrapped or
    cut; the free text in the other columns wraps as the terminal's width asks."""
    if as_json:
        emit(True, rows, "")
        return
    if not rows:
        out.print(Text(empty))
        return
    grid = Table(title=title)
    for column in columns:
        if column in ids:
            grid.add_column(column.removesuffix("_id") or column, no_wrap=True, min_width=SHORT_ID)
        else:
            grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(
            *[Text(short_id(row.get(c))) if c in ids else shown(_cell(row.get(c))) for c in columns]
        )
    out.print(grid)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def error_line(code: str, message: str) -> Text:
    """``error [code] message``: the stable code first, as docs/api.md lists them."""
    return say(("error", "bold red"), f" [{code}] {message}")


def usage_error(message: str, help_command: str, *, as_json: bool) -> None:
    """A command line that does not parse: ``error [usage] …`` (JSON on stderr with --json)."""
    if as_json:
        sys.stderr.write(json.dumps({"error": {"code": "usage", "message": message}}) + "\n")
        return
    err.print(error_line("usage", message), soft_wrap=True)
    err.print(say(f"Run `{help_command}` to see what it takes."))


@contextmanager
def errors(as_json: bool) -> Iterator[None]:
    """Every failure: the stable code in the message, JSON on stdout with --json, exit 1."""
    try:
        yield
    except (ClientError, CryptoError) as exc:
        code = getattr(exc, "code", None) or type(exc).__name__
        message = getattr(exc, "message", None) or str(exc)
        if as_json:
            sys.stdout.write(json.dumps({"error": {"code": code, "message": message}}) + "\n")
        err.print(error_line(code, message), soft_wrap=True)  # ids in it stay whole
        raise typer.Exit(code=1) from None


@contextmanager
def working(as_json: bool, message: str) -> Iterator[None]:
    """A spinner on the terminal while slow work runs (never with --json)."""
    if as_json:
        yield
        return
    with out.status(message):
        yield
