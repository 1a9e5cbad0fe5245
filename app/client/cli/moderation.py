"""`backchannel report|moderation|check-reveal`: reports and the admins' case work."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.box import SIMPLE_HEAD
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from app.client.anon import Anonymous, FileTokenStore
from app.client.audit import Audit, AuditPins
from app.client.cases import PAGE_SIZE, cases_page
from app.client.cli.context import CircleId, circles_session, device_entries
from app.client.cli.ids import case_arg, circle_arg, entry_arg
from app.client.cli.output import (
    JsonFlag,
    emit,
    errors,
    out,
    say,
    short_id,
    shown,
    shown_list,
    token,
)
from app.client.decisions import decide, dismiss_cases, open_takedown_ids
from app.client.errors import ProtocolError
from app.client.moderation import Moderation
from app.client.reveal import check_reveal, export_reveal
from app.client.sealed import Sealed
from app.crypto.decisions import ACTIONS
from app.crypto.reports import REASONS

app = typer.Typer()
moderation_app = typer.Typer(
    no_args_is_help=True, help="Work a circle's reports and takedown requests (admins)."
)
app.add_typer(moderation_app, name="moderation")


@app.command()
def report(
    circle_id: CircleId,
    entry_id: str,
    reason: Annotated[str, typer.Option(help=" | ".join(REASONS))],
    note: Annotated[str, typer.Option(help="For the admins only.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Report a warning to the circle's admins (encrypted to them; they see what it said)."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        result = Moderation(circles).report(
            cid, entry_arg(circles, cid, entry_id), reason=reason, note=note
        )
        emit(
            as_json,
            {"case_id": result["case_id"]},
            say(f"Reported. The admins will review it (case {short_id(result['case_id'])})."),
        )


@moderation_app.command("list")
def moderation_list(
    circle_id: CircleId,
    status: Annotated[
        str | None,
        typer.Option(help="open (and hidden), decided, hidden, dismissed, removed, restored"),
    ] = None,
    kind: Annotated[str | None, typer.Option(help="report or takedown")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Cases on a page.")] = PAGE_SIZE,
    cursor: Annotated[
        str | None, typer.Option(help="Where the previous page ended (it prints this).")
    ] = None,
    details: Annotated[
        bool, typer.Option("--details", help="Every case in full, not a table.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Reports and takedown requests, newest first, a page at a time; decrypted and
    verified on this device."""
    with circles_session(as_json) as circles:
        moderation = Moderation(circles, entries=device_entries(circles))
        cid = circle_arg(circles, circle_id)
        page = cases_page(moderation, cid, status=status, kind=kind, limit=limit, cursor=cursor)
        if as_json:
            emit(True, page.cases, "")
            return
        if not page.cases:
            out.print("No more cases." if cursor else "No cases.")
        elif details:
            for case in page.cases:
                _print_case(case)
        else:
            out.print(_case_table(page.cases))
        if page.next_cursor is not None:
            more = f"backchannel moderation list {cid} --cursor {page.next_cursor}"
            for name, value in (("--status", status), ("--kind", kind)):
                if value is not None:
                    more += f" {name} {value}"
            if limit != PAGE_SIZE:
                more += f" --limit {limit}"
            if details:
                more += " --details"
            token(more, label="More cases:")


def _case_table(cases: list[dict[str, Any]]) -> Table:
    """A page as a table that fits 80 columns: the id, kind, status and day on one side,
    what the case is about (user text, :func:`output.shown`) folded into the rest."""
    grid = Table(box=SIMPLE_HEAD, pad_edge=False, expand=False)
    grid.add_column("case", no_wrap=True, min_width=8)
    grid.add_column("kind", no_wrap=True)
    grid.add_column("status", no_wrap=True)
    grid.add_column("filed", no_wrap=True)
    grid.add_column("about", overflow="fold", ratio=1)
    for case in cases:
        if case.get("unreadable"):
            about = say(("cannot be read: ", "red"), case["unreadable"])
        elif case["kind"] == "report":
            content = case.get("reported_content") or {}
            about = say(f"{case['reason']}: ", shown(content.get("subject")))
        elif case.get("wiped"):
            about = say("request wiped after its decision (server retention)")
        else:
            about = say("name: ", shown(case["name"]))
        grid.add_row(
            short_id(case["case_id"]),
            case.get("kind") or "-",
            case.get("status") or "-",
            str(case.get("created_at") or "")[:10],
            about,
        )
    return grid


def _print_case(case: dict[str, Any]) -> None:
    """One case: its kind, status and id on the first line, then what people wrote, each
    string as written (:func:`output.shown`)."""
    out.print(Rule(style="dim"))
    head = say((f"{case['kind']} ", "bold"), f"{case['status']} · case ")
    out.print(head, end="")
    token(short_id(case["case_id"]))
    if case.get("unreadable"):
        out.print(say("  cannot be read: ", case["unreadable"]), style="red")
        return
    lines: list[Text] = []
    if case["kind"] == "report":
        content = case.get("reported_content") or {}
        lines.append(say("about entry ", short_id(case["entry_id"])))
        lines.append(say(f"{case['reason']} by ", shown(case["reporter"]), ": "))
        lines.append(say("  ", shown(case["note"], multiline=True)))
        lines.append(say("reported warning: ", shown(content.get("subject"))))
        lines.append(say("  ", shown(content.get("text"), multiline=True)))
    elif case.get("wiped"):
        lines.append(
            say("request (name, contact, text) wiped after its decision (server retention)")
        )
    else:
        lines.append(say("name: ", shown(case["name"])))
        lines.append(say("  ", shown(case["text"], multiline=True)))
        lines.append(say("contact: ", shown(case["contact"]) if case["contact"] else "-"))
        for candidate in case["candidates"]:
            lines.append(
                say(
                    f"candidate {short_id(candidate['entry_id'])}: ",
                    shown(candidate["subject"]),
                )
            )
    for decision in case["decisions"]:
        lines.append(
            say(f"{decision['action']} by ", shown(decision["signer"]), ": ")
            + shown(decision["reason"], multiline=True)
        )
        if decision.get("response"):
            lines.append(say("  response: ", shown(decision["response"], multiline=True)))
    for line in lines:
        out.print(Padding(line, (0, 0, 0, 2)))


@moderation_app.command("matches")
def moderation_matches(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """Sealed warnings that matched: k members named the same person. Verified and opened
    on this device; only the circle's admins can read them."""
    with circles_session(as_json) as circles:
        matches = Sealed(Moderation(circles)).matches(circle_arg(circles, circle_id))
        if as_json:
            emit(True, matches, "")
            return
        if not matches:
            out.print("No sealed warnings have matched.")
            return
        for match in matches:
            _print_match(match)


@moderation_app.command("probes")
def moderation_probes(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """Who asked for sealed-warning name evaluations, how many name forms, and when: the
    notes of the audit log's evaluation records, which only the admins can open (the
    server's word, sealed to the moderation key). Many evaluations by one member can mean
    they are probing names."""
    with circles_session(as_json) as circles:
        rows = Audit(circles, AuditPins.load(), tokens=FileTokenStore()).evaluations(
            circle_arg(circles, circle_id)
        )
        if as_json:
            emit(True, rows, "")
            return
        if not rows:
            out.print("Nobody has evaluated a name for a sealed warning.")
            return
        grid = Table(title="Sealed-warning evaluations (a name is one or two forms)")
        for column in ("when", "who", "forms", "audit record"):
            grid.add_column(column)
        for row in rows:
            grid.add_row(
                str(row["at"]),
                shown(row["user"]) if row["user"] is not None else Text("(unreadable)"),
                "?" if row["forms"] is None else str(row["forms"]),
                str(row["seq"]),
            )
        out.print(grid)
        totals: dict[str, list[int]] = {}
        for row in rows:
            if row["user"] is not None:
                total = totals.setdefault(row["user"], [0, 0])
                total[0] += 1
                total[1] += row["forms"] or 0
        for user, (count, forms) in sorted(totals.items(), key=lambda t: (-t[1][0], t[0])):
            out.print(say(shown(user), f": {count} evaluation(s), {forms} form(s)"))


# What an excluded filing's reason means to an admin (§36.7).
_EXCLUDED = {
    "unreadable_share": "its share does not open with the moderation key",
    "bad_share": "its share fails the commitments sealed with it",
    "other_commitments": "it committed to another polynomial than the verified shares",
    "decryption_failed": "its warning does not open with the matched key",
}


def _print_match(match: dict[str, Any]) -> None:
    if match["opened"]:
        title = f"Match {match['match_id']}: {len(match['filers'])} members, k = {match['k']}"
    else:
        title = f"Match {match['match_id']}: waiting, fewer than k = {match['k']} shares verify"
    grid = Table(title=title)
    for column in ("filer", "name", "what happened"):
        grid.add_column(column)
    for warning in match["warnings"]:
        grid.add_row(
            shown(warning["filer"]),
            shown(warning["subject"]),
            shown(warning["text"], multiline=True),
        )
    out.print(grid)
    for left in match["excluded"]:
        out.print(
            say(
                "  left out: ",
                shown(left["filer"]),
                f"'s filing {short_id(left['filing_id'])}: ",
                _EXCLUDED.get(left["reason"], left["reason"]),
            ),
            style="yellow",
        )


@moderation_app.command("decide")
def moderation_decide(
    circle_id: CircleId,
    case_id: str,
    action: Annotated[str, typer.Option(help=" | ".join(ACTIONS))],
    reason: Annotated[str, typer.Option(help="Why (encrypted for the admins).")],
    entry: Annotated[str | None, typer.Option(help="The entry it acts on (takedowns).")] = None,
    response: Annotated[
        str | None, typer.Option(help="Answer to the requester (takedowns; encrypted to them).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Decide a case; the decision is signed by you and lands in the audit log."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        result = decide(
            Moderation(circles, entries=device_entries(circles)),
            cid,
            case_arg(circles, cid, case_id),
            action=action,
            reason=reason,
            entry_id=None if entry is None else entry_arg(circles, cid, entry),
            response=response,
        )
        emit(as_json, result, say(f"Decided: {result['action']} → case {result['status']}."))


@moderation_app.command("dismiss")
def moderation_dismiss(
    circle_id: CircleId,
    case_ids: Annotated[list[str] | None, typer.Argument(help="The cases to dismiss.")] = None,
    reason: Annotated[str, typer.Option(help="Why (encrypted for the admins).")] = "",
    all_open_takedowns: Annotated[
        bool,
        typer.Option(
            "--all-open-takedowns", help="Every open takedown request (up to 1,000 at a time)."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Dismiss many cases at once (a flood of junk requests); each dismissal is signed by you
    and lands in the audit log, as with `decide`."""
    with circles_session(as_json) as circles:
        if not reason.strip():
            raise ProtocolError(
                "missing_reason", "say why (--reason); only the circle's admins can read it"
            )
        moderation = Moderation(circles)
        circle = circle_arg(circles, circle_id)
        chosen = [case_arg(circles, circle, c) for c in case_ids or []]
        if all_open_takedowns:
            chosen += [c for c in open_takedown_ids(moderation, circle) if c not in chosen]
        if not chosen:
            if all_open_takedowns:
                emit(as_json, {"dismissed": [], "more": False}, "No open takedown requests.")
                return
            raise ProtocolError(
                "no_cases", "name the cases to dismiss, or give --all-open-takedowns"
            )
        decided = dismiss_cases(moderation, circle, chosen, reason=reason)
        more = all_open_takedowns and len(chosen) >= 1000
        emit(
            as_json,
            {"dismissed": [d["case_id"] for d in decided], "more": more},
            f"Dismissed {len(decided)} case{'s' if len(decided) != 1 else ''}; each decision "
            "is signed by you and in the audit log."
            + ("\nThere may be more open takedown requests: run it again." if more else ""),
        )


@moderation_app.command("reveal")
def moderation_reveal(circle_id: CircleId, case_id: str, as_json: JsonFlag = False) -> None:
    """Export a report's proof of what the entry said, to escalate to the server operator."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        reveal = export_reveal(Moderation(circles), cid, case_arg(circles, cid, case_id))
        # Without --json too the output is the JSON document itself, so that
        # `moderation reveal … > reveal.json` is what `check-reveal` reads.
        emit(True, reveal, "")


@app.command("check-reveal")
def check_reveal_command(
    path: Annotated[str, typer.Argument(help="A reveal exported by `moderation reveal`.")],
    as_json: JsonFlag = False,
) -> None:
    """Check an escalated reveal (no account, no circle key): what did the author's key sign?"""
    with errors(as_json):
        try:
            reveal = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProtocolError(
                "unreadable_file",
                f"cannot read {path} as a reveal ({exc}): give the file `moderation reveal` wrote",
            ) from exc
        result = check_reveal(reveal)
        signed = (
            "signed by the author key"
            if result["signed_by_author_key"]
            else "matches the stored commitment (the entry's signature was wiped)"
        )
        if as_json:
            emit(True, result, "")
            return
        content = result["content"]
        out.print(say(("reveal verified", "bold green"), f": {signed}"))
        out.print(say("subject: ", shown(content.get("subject"))))
        if content.get("aliases"):
            out.print(say("also: ", shown_list(content["aliases"])))
        out.print(say("text:"))
        out.print(Padding(shown(content.get("text"), multiline=True), (0, 0, 0, 2)))
        out.print(say("author key: "), end="")
        token(result["author_key"])


@moderation_app.command("unmask")
def moderation_unmask(
    circle_id: CircleId,
    entry_id: str,
    corroboration: Annotated[
        str | None, typer.Option(help="Unmask this corroboration of the warning instead.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Who wrote an anonymous warning (or corroboration). Admins only; the circle's log
    records that you asked, for every member to see."""
    with circles_session(as_json) as circles:
        cid = circle_arg(circles, circle_id)
        eid = entry_arg(circles, cid, entry_id)
        found = Anonymous(circles).unmask(cid, eid, corroboration)
        emit(
            as_json,
            {"object_id": found.object_id, "user": found.user, "verified": found.verified},
            say(
                "Written by ",
                shown(found.user),
                "." if found.verified else " (UNVERIFIED: not signed by that member's key).",
            ),
        )
