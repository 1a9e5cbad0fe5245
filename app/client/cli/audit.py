"""`backchannel audit show|verify`: a circle's tamper-evident log, checked on this device."""

from typing import Annotated

import typer
from rich.table import Table

from app.client.audit import Audit, AuditFailure, AuditPins
from app.client.cli.context import CircleId, circles_session, parse_uuid
from app.client.cli.output import JsonFlag, emit, err, out

app = typer.Typer()
audit_app = typer.Typer(
    no_args_is_help=True, help="Read and verify a circle's tamper-evident audit log."
)
app.add_typer(audit_app, name="audit")


@audit_app.command("show")
def audit_show(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """The circle's audit records (reasons decrypted if you are an admin)."""
    with circles_session(as_json) as circles:
        records = Audit(circles, AuditPins.load()).show(parse_uuid(circle_id))
        if as_json:
            emit(True, records, "")
            return
        table = Table(title="Audit log")
        for column in ("#", "when", "what", "by", "about", "details"):
            table.add_column(column)
        for r in records:
            details = ", ".join(f"{k}={v}" for k, v in r["details"].items())
            table.add_row(
                str(r["seq"]),
                r["at"][:19],
                r["kind"],
                r["actor"] or "-",
                r["subject"] or "-",
                details,
            )
        out.print(table)


@audit_app.command("verify")
def audit_verify(
    circle_id: CircleId,
    as_json: JsonFlag = False,
    full: Annotated[
        bool, typer.Option("--full", help="Fetch and check every record again, not only new ones.")
    ] = False,
) -> None:
    """Check the log against the server's signed tree head and what this device saw before
    (only the records since the last verify, unless --full)."""
    with circles_session(as_json) as circles:
        try:
            result = Audit(circles, AuditPins.load()).verify(parse_uuid(circle_id), full=full)
        except AuditFailure as exc:
            if as_json:
                emit(True, {"ok": False, "error": exc.code, "message": exc.message}, "")
                err.print(f"[bold red]audit log FAILED[/] [{exc.code}] {exc.message}")
                raise typer.Exit(code=2) from None
            err.print(f"[bold red]audit log FAILED[/] [{exc.code}] {exc.message}")
            raise typer.Exit(code=2) from None
        emit(
            as_json,
            result,
            f"[bold green]audit log verified[/]: {result['tree_size']} records, "
            f"root {result['root'][:16]}…, {result['signatures_checked']} signatures checked",
        )
