"""`backchannel seal` and `backchannel sealed list|withdraw|publish|settings`: warnings
that open to the admins only when k members name the same person (docs/protocol.md §36)."""

from typing import Annotated

import typer
from rich.table import Table

from app.client.cli.context import CircleId, circles_session, device_entries
from app.client.cli.ids import circle_arg, full_uuid
from app.client.cli.output import JsonFlag, emit, out, shown, working
from app.client.errors import ProtocolError
from app.client.moderation import Moderation
from app.client.sealed import Sealed
from app.crypto.sealed import MAX_EVALUATIONS, MAX_K, MIN_K

app = typer.Typer()


def _filing(text: str) -> str:
    """A filing id as `sealed list` prints it (the full id)."""
    found = full_uuid(text)
    if found is None:
        raise ProtocolError("bad_filing_id", f"{text!r} is not a filing id (see `sealed list`)")
    return str(found)


sealed_app = typer.Typer(
    no_args_is_help=True,
    help="Your sealed warnings: opened to the admins only if others name the same person.",
)
app.add_typer(sealed_app, name="sealed")

STATUS = {
    "open": "sealed: nobody can read it",
    "matched": "MATCHED: the admins can read it",
    "withdrawn": "withdrawn",
    "void": "void (you left the circle)",
}


@app.command()
def seal(
    circle_id: CircleId,
    subject: Annotated[str, typer.Option(help="The person's name.")],
    text: Annotated[str, typer.Option(help="What happened.")],
    category: Annotated[list[str], typer.Option(help="One or more categories.")],
    alias: Annotated[list[str] | None, typer.Option(help="Other names (at most 4).")] = None,
    severity: Annotated[str | None, typer.Option(help="concern, serious or severe")] = None,
    affiliation: Annotated[str | None, typer.Option()] = None,
    happened: Annotated[str | None, typer.Option(help="YYYY-MM")] = None,
    contact: Annotated[str | None, typer.Option(help="How the admins can reach you.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """File a sealed warning: nobody (not the server, not the admins) can read it or learn
    whom it names until k members of the circle have named the same person."""
    with circles_session(as_json) as circles, working(as_json, "Sealing…"):
        result = Sealed(Moderation(circles)).seal(
            circle_arg(circles, circle_id),
            subject=subject,
            text=text,
            categories=category,
            aliases=alias or [],
            severity=severity,
            affiliation=affiliation,
            happened=happened,
            contact=contact,
        )
        human = f"Sealed (filing {result['filing_id']}). " + (
            "It matched: the circle's admins can now read it and the others naming this person."
            if result["status"] == "matched"
            else f"It opens to the admins only when {result['k']} members have named this person."
        )
        emit(as_json, result, human)


@sealed_app.command("list")
def sealed_list(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """Your own sealed warnings in this circle, and whether each has matched."""
    with circles_session(as_json) as circles:
        rows = Sealed(Moderation(circles)).filings(circle_arg(circles, circle_id))
        if as_json:
            emit(True, rows, "")
            return
        if not rows:
            out.print("You have no sealed warnings in this circle.")
            return
        grid = Table(title="Your sealed warnings")
        for column in ("filing", "name", "status", "filed"):
            grid.add_column(column)
        for row in rows:
            status = STATUS.get(row["status"], row["status"])
            if row["status"] == "open" and not row["counts"]:
                status += " (filed under an earlier k: withdraw and seal again)"
            grid.add_row(
                row["filing_id"], shown(row["subject"] or "-"), status, row["created_at"][:10]
            )
        out.print(grid)


@sealed_app.command("withdraw")
def sealed_withdraw(circle_id: CircleId, filing_id: str, as_json: JsonFlag = False) -> None:
    """Withdraw a sealed warning that has not matched; it is deleted from the server."""
    with circles_session(as_json) as circles:
        result = Sealed(Moderation(circles)).withdraw(
            circle_arg(circles, circle_id), _filing(filing_id)
        )
        emit(as_json, result, "Withdrawn: it can no longer match and is deleted.")


@sealed_app.command("publish")
def sealed_publish(
    circle_id: CircleId,
    filing_id: str,
    anonymous: Annotated[bool, typer.Option("--anonymous", help="Hide your name.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Post your own sealed warning to the whole circle (named or anonymous)."""
    with circles_session(as_json) as circles:
        entries = device_entries(circles)
        result = Sealed(Moderation(circles, entries=entries), entries=entries).publish(
            circle_arg(circles, circle_id), _filing(filing_id), anonymous=anonymous
        )
        emit(
            as_json,
            {"entry_id": result["entry_id"]},
            f"Published to the circle as entry {result['entry_id']}"
            + (" (anonymous)." if anonymous else "."),
        )


@sealed_app.command("settings")
def sealed_settings(
    circle_id: CircleId,
    k: Annotated[
        int | None, typer.Option(min=MIN_K, max=MAX_K, help="Members needed to open a match.")
    ] = None,
    evaluations_per_day: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_EVALUATIONS, help="Names a member may evaluate a day."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Admins: set up sealed warnings, or change k or the daily limit (signed, audited)."""
    with circles_session(as_json) as circles:
        record = Sealed(Moderation(circles)).configure(
            circle_arg(circles, circle_id), k=k, evaluations_per_day=evaluations_per_day
        )
        emit(
            as_json,
            {"k": record.k, "evaluations_per_day": record.evaluations_per_day, "seq": record.seq},
            f"Sealed warnings: k = {record.k}, {record.evaluations_per_day} name evaluations "
            "per member per day (signed by you; in the audit log).",
        )
