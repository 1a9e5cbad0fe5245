"""`backchannel audit show|verify`: a circle's tamper-evident log, checked on this device."""

import json
from typing import Annotated

import typer
from rich.padding import Padding

from app.client.anon import FileTokenStore
from app.client.audit import Audit, AuditFailure, AuditPins
from app.client.cli.context import CircleId, circles_session
from app.client.cli.ids import circle_arg
from app.client.cli.output import JsonFlag, emit, err, out, say, shown

app = typer.Typer()
audit_app = typer.Typer(
    no_args_is_help=True, help="Read and verify a circle's tamper-evident audit log."
)
app.add_typer(audit_app, name="audit")


@audit_app.command("show")
def audit_show(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """The circle's audit records (reasons decrypted if you are an admin)."""
    with circles_session(as_json) as circles:
        records = Audit(circles, AuditPins.load(), tokens=FileTokenStore()).show(
            circle_arg(circles, circle_id)
        )
        if as_json:
            emit(True, records, "")
            return
        for r in records:
            line = say(f"#{r['seq']} {str(r['at'])[:19]} ", (str(r["kind"]), "bold"))
            if r["actor"]:
                line += say(" by ", shown(r["actor"]))
            if r["subject"]:
                line += say(" about ", shown(r["subject"]))
            out.print(line)
            for key, value in r["details"].items():
                multiline = key in ("reason", "response")
                shown_value = shown(_detail(value), multiline=multiline)
                out.print(Padding(say(f"{key}: ", shown_value), (0, 0, 0, 4)), style="dim")


def _detail(value: object) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return "-" if value is None else str(value)


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
            result = Audit(circles, AuditPins.load(), tokens=FileTokenStore()).verify(
                circle_arg(circles, circle_id), full=full
            )
        except AuditFailure as exc:
            if as_json:
                emit(True, {"ok": False, "error": exc.code, "message": exc.message}, "")
            err.print(say(("audit log FAILED", "bold red"), f" [{exc.code}] {exc.message}"))
            raise typer.Exit(code=2) from None
        emit(
            as_json,
            result,
            say(
                ("audit log verified", "bold green"),
                f": {result['tree_size']} records, root {result['root'][:16]}…, "
                f"{result['signatures_checked']} signatures checked",
            ),
        )
