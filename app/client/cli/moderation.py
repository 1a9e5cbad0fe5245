"""`backchannel report|moderation|check-reveal`: reports and the admins' case work."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from app.client.cases import (
    check_reveal,
    decide,
    dismiss_cases,
    export_reveal,
    list_cases,
    open_takedown_ids,
)
from app.client.cli.context import CircleId, circles_session, device_entries, parse_uuid
from app.client.cli.output import JsonFlag, emit, errors, out
from app.client.errors import ClientError
from app.client.moderation import Moderation
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
        result = Moderation(circles).report(
            parse_uuid(circle_id), str(parse_uuid(entry_id)), reason=reason, note=note
        )
        emit(
            as_json,
            {"case_id": result["case_id"]},
            f"Reported. The admins will review it (case {result['case_id']}).",
        )


@moderation_app.command("list")
def moderation_list(
    circle_id: CircleId,
    status: Annotated[str | None, typer.Option(help="open, hidden, dismissed, removed…")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Reports and takedown requests, decrypted and verified on this device."""
    with circles_session(as_json) as circles:
        moderation = Moderation(circles, entries=device_entries(circles))
        cases = list_cases(moderation, parse_uuid(circle_id), status=status)
        if as_json:
            emit(True, cases, "")
            return
        if not cases:
            out.print("No cases.")
            return
        table = Table(title="Moderation cases")
        for column in ("case", "kind", "status", "about", "details"):
            table.add_column(column)
        for case in cases:
            if case["kind"] == "report":
                about = f"entry {case['entry_id']}"
                details = f"{case['reason']} by {case['reporter']}: {case['note']}"
                content = case.get("reported_content") or {}
                details += (
                    f"\n[dim]reported text ({content.get('subject')}): {content.get('text')}[/]"
                )
            else:
                about = f"name: {case['name']}"
                details = f"{case['text']}\n[dim]contact: {case['contact'] or '-'}[/]"
                for candidate in case["candidates"]:
                    details += (
                        f"\n[dim]candidate {candidate['entry_id']}: {candidate['subject']}[/]"
                    )
            for decision in case["decisions"]:
                details += (
                    f"\n[dim]{decision['action']} by {decision['signer']}: {decision['reason']}[/]"
                )
            table.add_row(case["case_id"], case["kind"], case["status"], about, details)
        out.print(table)


@moderation_app.command("matches")
def moderation_matches(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """Sealed warnings that matched: k members named the same person. Verified and opened
    on this device; only the circle's admins can read them."""
    with circles_session(as_json) as circles:
        matches = Sealed(Moderation(circles)).matches(parse_uuid(circle_id))
        if as_json:
            emit(True, matches, "")
            return
        if not matches:
            out.print("No sealed warnings have matched.")
            return
        for match in matches:
            grid = Table(
                title=f"Match {match['match_id']}: {len(match['filers'])} members, k = {match['k']}"
            )
            for column in ("filer", "name", "what happened"):
                grid.add_column(column)
            for warning in match["warnings"]:
                grid.add_row(
                    warning["filer"], Text(warning["subject"] or ""), Text(warning["text"] or "")
                )
            out.print(grid)


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
        result = decide(
            Moderation(circles, entries=device_entries(circles)),
            parse_uuid(circle_id),
            str(parse_uuid(case_id)),
            action=action,
            reason=reason,
            entry_id=None if entry is None else str(parse_uuid(entry)),
            response=response,
        )
        emit(as_json, result, f"Decided: {result['action']} → case {result['status']}.")


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
            raise ClientError("say why (--reason); only the circle's admins can read it")
        moderation = Moderation(circles)
        circle = parse_uuid(circle_id)
        chosen = [str(parse_uuid(c)) for c in case_ids or []]
        if all_open_takedowns:
            chosen += [c for c in open_takedown_ids(moderation, circle) if c not in chosen]
        if not chosen:
            if all_open_takedowns:
                emit(as_json, {"dismissed": [], "more": False}, "No open takedown requests.")
                return
            raise ClientError("name the cases to dismiss, or give --all-open-takedowns")
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
        reveal = export_reveal(Moderation(circles), parse_uuid(circle_id), str(parse_uuid(case_id)))
        emit(as_json, reveal, json.dumps(reveal, indent=1))


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
            raise ClientError(f"cannot read {path}: {exc}") from exc
        result = check_reveal(reveal)
        signed = (
            "signed by the author key"
            if result["signed_by_author_key"]
            else ("matches the stored commitment (the entry's signature was wiped)")
        )
        emit(as_json, result, f"[bold green]reveal verified[/]: {signed}\n{result['content']}")
