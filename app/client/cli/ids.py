"""Ids people can type: the full id, a unique prefix of at least 6 characters (as git takes
a commit), or for a circle its name as this device decrypted it.

Each ``*_arg`` function turns what was typed into the full id, from the candidates the
person can see (their circles, the warnings this device holds, the circle's cases,
invites or sessions). No match and several matches are errors that say what to do: the
second lists the candidates (short id and, for circles, the name).
"""

import re
import unicodedata
import uuid
from collections.abc import Iterable
from typing import Any

from app.client.circles import Circles
from app.client.cli.context import device_entries
from app.client.cli.output import short_id
from app.client.errors import ProtocolError

PREFIX_MIN = 6
_HEX = re.compile(f"[0-9a-f]{{{PREFIX_MIN},32}}")


def _compact(text: str) -> str:
    """What was typed, as the hex digits of an id: whitespace, dashes, <> dropped."""
    return "".join(text.split()).strip("<>").replace("-", "").lower()


def full_uuid(text: str) -> uuid.UUID | None:
    compact = _compact(text)
    if len(compact) != 32 or not _HEX.fullmatch(compact):
        return None
    return uuid.UUID(hex=compact)


def _fold(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def pick(
    what: str,
    text: str,
    candidates: Iterable[tuple[str, str | None]],
    *,
    listed_by: str,
    names: bool = False,
) -> str:
    """The one candidate id ``text`` names: a full id, a unique prefix of 6+ hex digits or,
    with ``names``, a name (any case, spacing or compatibility form)."""
    pool = list(candidates)
    compact = _compact(text)
    matches: list[tuple[str, str | None]] = []
    if _HEX.fullmatch(compact):
        matches = [c for c in pool if c[0].replace("-", "").lower().startswith(compact)]
    if not matches and names:
        matches = [c for c in pool if c[1] is not None and _fold(c[1]) == _fold(text)]
    if len(matches) == 1:
        return matches[0][0]
    code = what.replace(" ", "_")
    if not matches:
        if not _HEX.fullmatch(compact) and not names:
            raise ProtocolError(
                f"bad_{code}_id",
                f"{text!r} is not {_article(what)} {what} id: give the id `{listed_by}` shows "
                f"(its first {PREFIX_MIN} or more characters are enough)",
            )
        raise ProtocolError(
            f"unknown_{code}",
            f"no {what} you can see matches {text!r}: `{listed_by}` lists them"
            + (" (by id or by name)" if names else ""),
        )
    listed = "; ".join(
        short_id(i) + (f" {label!r}" if names and label else "") for i, label in matches[:10]
    )
    raise ProtocolError(
        "ambiguous_id",
        f"{text!r} matches {len(matches)} {'entries' if what == 'entry' else what + 's'} ({listed}"
        + ("; …" if len(matches) > 10 else "")
        + "): give more characters of the id",
    )


def _article(what: str) -> str:
    return "an" if what[0] in "aeiou" else "a"


def circle_arg(circles: Circles, text: str) -> uuid.UUID:
    """A circle by full id, id prefix or name (names only cost a decryption when no id
    prefix matched)."""
    full = full_uuid(text)
    if full is not None:
        return full
    rows: list[dict[str, Any]] = circles.client.request("GET", "/v1/circles")
    ids = [(str(r["circle_id"]), None) for r in rows]
    compact = _compact(text)
    if _HEX.fullmatch(compact) and any(i.replace("-", "").startswith(compact) for i, _ in ids):
        return uuid.UUID(pick("circle", text, ids, listed_by="backchannel circle list"))
    named = [(str(c["circle_id"]), c["name"]) for c in circles.list_circles()]
    return uuid.UUID(pick("circle", text, named, listed_by="backchannel circle list", names=True))


def entry_arg(circles: Circles, circle_id: uuid.UUID, text: str) -> str:
    """A warning by full id or a prefix of one this device holds (synced first)."""
    full = full_uuid(text)
    if full is not None:
        return str(full)
    copy = device_entries(circles).sync(circle_id)
    return pick(
        "entry",
        text,
        [(str(i), None) for i in copy.warnings],
        listed_by=f"backchannel read {short_id(circle_id)} --all",
    )


def case_arg(circles: Circles, circle_id: uuid.UUID, text: str) -> str:
    """A report or takedown case of the circle (admins) by full id or prefix."""
    full = full_uuid(text)
    if full is not None:
        return str(full)
    ids: list[str] = []
    cursor: str | None = None
    while True:  # every case's id, page after page (a prefix may name an old case)
        params: dict[str, Any] = {"limit": 200} | ({} if cursor is None else {"cursor": cursor})
        page: dict[str, Any] = circles.client.request(
            "GET", f"/v1/circles/{circle_id}/moderation/cases", params=params
        )
        ids += [str(r["case_id"]) for r in page["cases"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return pick(
        "case",
        text,
        [(case_id, None) for case_id in ids],
        listed_by=f"backchannel moderation list {short_id(circle_id)}",
    )


def invite_arg(circles: Circles, circle_id: uuid.UUID, text: str) -> str:
    full = full_uuid(text)
    if full is not None:
        return str(full)
    return pick(
        "invite",
        text,
        [(str(r["invite_id"]), None) for r in circles.invites(circle_id)],
        listed_by=f"backchannel invite list {short_id(circle_id)}",
    )
