"""`backchannel post|read|check|corroborate|retract|show`: warnings from the command line."""

import json
import uuid
from collections.abc import Iterable
from typing import Annotated

import typer
from rich.padding import Padding
from rich.rule import Rule
from rich.text import Text

from app.client.circles import Circles
from app.client.cli.context import (
    CircleId,
    anonymous_entries,
    circles_session,
    device_entries,
    set_up_moderation,
    stock_tokens,
)
from app.client.cli.ids import circle_arg, entry_arg
from app.client.cli.output import (
    JsonFlag,
    author,
    emit,
    err,
    out,
    say,
    short_id,
    shown,
    shown_list,
    table,
    token,
    working,
)
from app.client.deletion import former_members
from app.client.entries import Entries, ReadEntry
from app.client.moderation import Moderation
from app.client.profile import home, write_private
from app.crypto.entries import CATEGORIES, SEVERITIES

app = typer.Typer()
CURSOR_FILE = "cursors.json"
# What a named warning proves and to whom (docs/threat-model.md, Attribution); the web says
# the same at its post form.
NAMED_PROOF = (
    "A named warning is signed with your key, so any member can prove to anyone, even outside "
    "this circle, that you wrote its text; an anonymous warning carries no such proof, and the "
    "server does not learn who posted it (only the circle's admins can unmask it, and every "
    "member sees that they did)."
)


def _cursors() -> dict[str, int]:
    try:
        data = json.loads((home() / CURSOR_FILE).read_text())
        return {str(k): int(v) for k, v in data.items()}
    except (FileNotFoundError, ValueError, AttributeError):
        return {}


def _save_cursor(circle_id: str, seq: int) -> None:
    cursors = _cursors()
    cursors[circle_id] = seq
    write_private(home() / CURSOR_FILE, json.dumps(cursors).encode())


def _print_entry(entry: ReadEntry, former: Iterable[str] = ()) -> None:
    """One warning: who it is about, what it says, then its details and its id, each
    user string shown exactly as written (:func:`output.shown`); the author of a deleted
    account (``former``) is "a former member", as the web shows it."""
    if entry.subject is None:
        out.print(say((entry.status, "dim"), "  id "), end="")
        token(short_id(entry.entry_id))
        return
    out.print(Rule(style="dim"))
    heading = say((shown(entry.subject), "bold"))
    if entry.aliases:
        heading.append_text(say(" (also: ", shown_list(entry.aliases), ")"))
    out.print(heading)
    out.print(Padding(shown(entry.text, multiline=True), (0, 0, 0, 2)))
    details = [
        say("categories: ", ", ".join(entry.categories))
        + (say("; ", entry.severity) if entry.severity else Text()),
        say("by ", author(entry.author, former)),
    ]
    if entry.affiliation:
        details.append(say("affiliation: ", shown(entry.affiliation)))
    if entry.happened:
        details.append(say("when: ", shown(entry.happened)))
    if entry.contact:
        details.append(say("contact the author: ", shown(entry.contact)))
    details.append(say(f"{entry.corroborations} corroboration(s) · posted {entry.created_at[:10]}"))
    for line in details:
        out.print(say("  ", line), style="dim")
    out.print(Text("  id ", style="dim"), end="")
    token(short_id(entry.entry_id))


@app.command()
def post(
    circle_id: CircleId,
    subject: Annotated[str, typer.Option(help="The person's name.")],
    text: Annotated[str, typer.Option(help="What happened.")],
    category: Annotated[
        list[str],
        typer.Option(help=f"What happened; repeat for several: {', '.join(CATEGORIES)}."),
    ],
    alias: Annotated[list[str] | None, typer.Option(help="Other names or handles.")] = None,
    severity: Annotated[str | None, typer.Option(help=" | ".join(SEVERITIES))] = None,
    affiliation: Annotated[
        str | None, typer.Option(help="Where they work or what group they belong to.")
    ] = None,
    happened: Annotated[str | None, typer.Option(help="YYYY-MM")] = None,
    contact: Annotated[str | None, typer.Option(help="How members can reach you.")] = None,
    anonymous: Annotated[
        bool,
        typer.Option(
            "--anonymous",
            help="Hide your name: members cannot see, or prove to anyone, that you wrote it.",
        ),
    ] = False,
    expires_in: Annotated[int | None, typer.Option(min=1, max=3650, help="Days.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Post a warning. It is encrypted and signed on this device.

    A named warning is signed with your key, so any member can prove to anyone, even outside
    this circle, that you wrote its text; an anonymous warning carries no such proof, and the
    server does not learn who posted it (only the circle's admins can unmask it, and every
    member sees that they did)."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        entries = anonymous_entries(circles)
        # Tokens taken now would sit right before the post in the server's records (§38.2).
        at_post = anonymous and not entries.anonymous.held(circles.sync(cid))
        if at_post and not as_json:
            err.print(Text(TOKENS_AT_POST, style="yellow"))
        result = entries.post(
            cid,
            subject=subject,
            text=text,
            categories=category,
            aliases=alias or [],
            severity=severity,
            affiliation=affiliation,
            happened=happened,
            contact=contact,
            anonymous=anonymous,
            expires_in_days=expires_in,
        )
        answer = {"entry_id": result["entry_id"]}
        if anonymous:
            answer["tokens_taken_at_post"] = at_post
        emit(
            as_json,
            answer,
            say(f"Posted ({'anonymously' if anonymous else 'under your name'}): ")
            + say((short_id(result["entry_id"]), "bold")),
        )
        if not as_json and not anonymous:
            out.print(Text(NAMED_PROOF, style="dim"))


TOKENS_AT_POST = (
    "This device holds no anonymous posting tokens for this circle, so it takes them now, "
    "just before the post: the server's records would then put the two side by side. To keep "
    "them apart, run `backchannel read CIRCLE` first and post later."
)


def _new_counts(circles: Circles, as_json: bool) -> None:
    """Per circle, how many live warnings are new since your last read: an incremental sync
    of each circle's copy on this device (only what changed since the last one)."""
    cursors = _cursors()
    rows = []
    with working(as_json, "syncing and verifying"):
        for row in circles.list_circles():
            if row["status"] != "active":
                continue
            copy = device_entries(circles).sync(uuid.UUID(row["circle_id"]))
            after = cursors.get(str(copy.circle_id), 0)
            new = sum(
                1
                for held in copy.warnings.values()
                if held.data["seq"] > after and held.data["subject"] is not None
            )
            rows.append({"circle_id": row["circle_id"], "name": row["name"], "new": new})
    table(
        as_json,
        rows,
        ["circle_id", "name", "new"],
        "New since your last read",
        ids=["circle_id"],
        empty="You are in no circle yet.",
    )


@app.command()
def read(
    circle_id: Annotated[
        str | None,
        typer.Argument(
            help="The circle: its name, its id, or the first 6+ characters of the id. "
            "Without one: how many warnings are new in each circle."
        ),
    ] = None,
    all_entries: Annotated[bool, typer.Option("--all", help="Ignore the saved cursor.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Read what is new since your last read (everything the first time); without a circle,
    count what is new in each."""
    with circles_session(as_json) as circles:
        if circle_id is None:
            _new_counts(circles, as_json)
            return
        cid = circle_arg(circles, circle_id)
        after = 0 if all_entries else _cursors().get(str(cid), 0)
        with working(as_json, "syncing and verifying"):
            copy = device_entries(circles).sync(cid)
            circle = circles.sync(cid)
            set_up_moderation(circles, circle)
            stock_tokens(circles, circle)
        entries = [
            ReadEntry.from_held(held.data)
            for held in copy.warnings.values()
            if held.data["seq"] > after
        ]
        newest_first = sorted(entries, key=lambda e: e.seq, reverse=True)
        if as_json:
            emit(True, [e.as_json() for e in newest_first], "")
        elif not entries:
            out.print("Nothing new.")
        former = set() if as_json or not entries else former_members(circles, cid)
        for entry in [] if as_json else newest_first:
            _print_entry(entry, former)
        # Only once every entry was shown: a failure above leaves them new for the next read.
        if copy.last_seq > after:
            _save_cursor(str(cid), copy.last_seq)


# What each level promises (docs/protocol.md §25.3); the web page says the same.
LEVELS = {
    "exact": "Same name: the same words in any order, ignoring accents, capitals, "
    "spacing and punctuation",
    "partial": "Part of the name: a surname or given name alone, initials, or a middle "
    "name more or less. It may be someone else",
    "possible": "Possible match: sounds alike, or another spelling or script. It may "
    "well be someone else: read the details",
}
NOT_CHECKED = (
    "Not checked: nicknames (Bill for William), other forms of a surname (Novakova for "
    "Novak), other misspellings, and warnings that are hidden, retracted or expired. Try "
    "the surname alone too."
)


@app.command()
def check(circle_id: CircleId, name: str, as_json: JsonFlag = False) -> None:
    """Check a name before you meet, hire or work with someone. The name never leaves this
    device: it is matched against the warnings this device has synced."""
    with circles_session(as_json) as circles:
        with working(as_json, "syncing and verifying"):
            result = device_entries(circles).check(circle_arg(circles, circle_id), name)
        if as_json:
            emit(True, result.as_json(), "")
            return
        held = f"the {result.searched} warning(s) this device holds from this circle"
        if not result.matches:
            out.print(
                say(('No match for "', "bold"), shown(name, style="bold"), f'" among {held}.')
            )
            out.print(
                say(
                    "Checked: the same words in any order, ignoring accents, capitals, "
                    'spacing and punctuation ("',
                    shown(" ".join(result.words)),
                    '"); each word alone and initials; similar-sounding spellings and the '
                    "Latin spelling of Cyrillic, Greek, Armenian, Georgian, Hebrew and Arabic "
                    "names.",
                )
            )
            out.print(Text(NOT_CHECKED, style="dim"))
            return
        out.print(
            say(
                f'{len(result.matches)} warning(s) may be about "',
                shown(name),
                f'" (searched {held}).',
            )
        )
        for level, meaning in LEVELS.items():
            found = [m for m in result.matches if m.level == level]
            if not found:
                continue
            out.print(Text(f"\n{level.upper()} ({len(found)}). {meaning}.", style="bold"))
            for match in found:
                row = match.warning
                out.print(
                    say(
                        '- matched "',
                        shown(match.matched_name),
                        '": ',
                        (shown(row["subject"]), "bold"),
                        f" ({', '.join(row['categories'])}; "
                        f"{row['corroborations']} corroboration(s); "
                        f"id {short_id(row['entry_id'])})",
                    )
                )
                out.print(Padding(shown(row["text"], multiline=True), (0, 0, 0, 2)))


@app.command()
def corroborate(
    circle_id: CircleId,
    entry_id: str,
    text: Annotated[str, typer.Option(help="What you add.")],
    anonymous: Annotated[bool, typer.Option("--anonymous")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add your "me too" to a warning (once per warning)."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        # Never on your own warning: the SDK refuses it (self_corroboration) before sending.
        result = anonymous_entries(circles).corroborate(
            cid, entry_arg(circles, cid, entry_id), text=text, anonymous=anonymous
        )
        emit(
            as_json,
            {"corroboration_id": result["corroboration_id"], "entry_id": result["entry_id"]},
            "Corroboration added.",
        )


@app.command()
def retract(circle_id: CircleId, entry_id: str, as_json: JsonFlag = False) -> None:
    """Withdraw your warning: its content is wiped from the server; a tombstone remains."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        result = Entries(circles).retract(cid, entry_arg(circles, cid, entry_id))
        emit(as_json, {"entry_id": result["entry_id"], "status": result["status"]}, "Retracted.")


@app.command()
def show(circle_id: CircleId, entry_id: str, as_json: JsonFlag = False) -> None:
    """One warning with its corroborations."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        entry, items = Entries(circles).show(cid, entry_arg(circles, cid, entry_id))
        # Its author (and the admins) see whether it was reported and the outcome.
        cases = Moderation(circles).entry_cases(cid, entry.entry_id)
        if as_json:
            data = {**entry.as_json(), "corroboration_texts": items}
            if cases is not None:
                data["moderation"] = cases
            emit(True, data, "")
            return
        former = former_members(circles, cid)
        _print_entry(entry, former)
        for item in items:
            out.print(
                say("  + ", author(item["author"], former), ": ")
                + shown(item["text"], multiline=True)
            )
        for case in cases or []:
            outcome = ", ".join(case["actions"]) or "no decision yet"
            out.print(
                say(f"{case['kind']} {short_id(case['case_id'])}: {case['status']} ({outcome})"),
                style="yellow",
            )
