"""`backchannel report|takedown|moderation|audit` and `circle takedown-link`."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from app.client import cli as base
from app.client.audit import Audit, AuditFailure, AuditPins
from app.client.cli_circles import _circles, _uuid, circle_app
from app.client.errors import ClientError
from app.client.moderation import (
    Moderation,
    check_reveal,
    export_reveal,
    file_takedown,
    takedown_status,
)
from app.crypto import CryptoError
from app.crypto.moderation import ACTIONS, REASONS, Receipt, TakedownLink

JsonFlag = base.JsonFlag
CircleId = Annotated[str, typer.Argument(help="The circle's id.")]

takedown_app = typer.Typer(help="Ask a circle's admins to take down what it says about you.")
moderation_app = typer.Typer(help="Work a circle's reports and takedown requests (admins).")
audit_app = typer.Typer(help="Read and verify a circle's tamper-evident audit log.")


def report(
    circle_id: CircleId,
    entry_id: str,
    reason: Annotated[str, typer.Option(help=" | ".join(REASONS))],
    note: Annotated[str, typer.Option(help="For the admins only.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Report a warning to the circle's admins (encrypted to them; they see what it said)."""
    with _circles(as_json) as circles:
        result = Moderation(circles).report(
            _uuid(circle_id), str(_uuid(entry_id)), reason=reason, note=note
        )
        base._emit(
            as_json,
            {"case_id": result["case_id"]},
            f"Reported. The admins will review it (case {result['case_id']}).",
        )


@circle_app.command("takedown-link")
def takedown_link(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """A link anyone can use to send this circle's admins an encrypted takedown request."""
    with _circles(as_json) as circles:
        link = Moderation(circles).takedown_link(_uuid(circle_id))
        base._emit(
            as_json, {"link": link}, f"Takedown link (publish it where people find it):\n{link}"
        )


def _http(url: str) -> Any:
    return base.state.http_factory(url) if base.state.http_factory else None


@takedown_app.command("request")
def takedown_request(
    link: Annotated[str, typer.Argument(help="The circle's takedown link.")],
    name: Annotated[str, typer.Option(help="The name the warnings may be about (yours).")],
    text: Annotated[str, typer.Option(help="What you ask for, and why.")],
    contact: Annotated[str, typer.Option(help="How the admins can reach you.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """File a takedown request; no account needed. Keep the receipt it prints."""
    with base._errors(as_json):
        try:
            base_url = TakedownLink.parse(link).base_url
        except CryptoError as exc:
            raise ClientError(str(exc)) from exc
        result = file_takedown(link, name=name, contact=contact, text=text, http=_http(base_url))
        base._emit(
            as_json,
            {"case_id": result["case_id"], "receipt": result["receipt"]},
            "Sent, encrypted to the circle's admins. Keep this receipt to check the status "
            f"(it is the only way to read their answer):\n{result['receipt']}",
        )


@takedown_app.command("status")
def takedown_check(
    receipt: Annotated[str, typer.Argument(help="The receipt from `takedown request`.")],
    as_json: JsonFlag = False,
) -> None:
    """The status of your takedown request and the admins' response, if any."""
    with base._errors(as_json):
        try:
            base_url = Receipt.parse(receipt).base_url
        except CryptoError as exc:
            raise ClientError(str(exc)) from exc
        result = takedown_status(receipt, http=_http(base_url))
        human = f"Status: [bold]{result['status']}[/]"
        if result["response"]:
            human += f"\nResponse from the admins:\n{result['response']}"
        base._emit(as_json, {"status": result["status"], "response": result["response"]}, human)


@moderation_app.command("list")
def moderation_list(
    circle_id: CircleId,
    status: Annotated[str | None, typer.Option(help="open, hidden, dismissed, removed…")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Reports and takedown requests, decrypted and verified on this device."""
    with _circles(as_json) as circles:
        cases = Moderation(circles).list_cases(_uuid(circle_id), status=status)
        if as_json:
            base._emit(True, cases, "")
            return
        if not cases:
            base.out.print("No cases.")
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
        base.out.print(table)


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
    with _circles(as_json) as circles:
        result = Moderation(circles).decide(
            _uuid(circle_id),
            str(_uuid(case_id)),
            action=action,
            reason=reason,
            entry_id=None if entry is None else str(_uuid(entry)),
            response=response,
        )
        base._emit(as_json, result, f"Decided: {result['action']} → case {result['status']}.")


@moderation_app.command("reveal")
def moderation_reveal(circle_id: CircleId, case_id: str, as_json: JsonFlag = False) -> None:
    """Export a report's proof of what the entry said, to escalate to the server operator."""
    with _circles(as_json) as circles:
        reveal = export_reveal(Moderation(circles), _uuid(circle_id), str(_uuid(case_id)))
        base._emit(as_json, reveal, json.dumps(reveal, indent=1))


def check_reveal_command(
    path: Annotated[str, typer.Argument(help="A reveal exported by `moderation reveal`.")],
    as_json: JsonFlag = False,
) -> None:
    """Check an escalated reveal (no account, no circle key): what did the author's key sign?"""
    with base._errors(as_json):
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
        base._emit(
            as_json, result, f"[bold green]reveal verified[/]: {signed}\n{result['content']}"
        )


@audit_app.command("show")
def audit_show(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """The circle's audit records (reasons decrypted if you are an admin)."""
    with _circles(as_json) as circles:
        records = Audit(circles, AuditPins.load()).show(_uuid(circle_id))
        if as_json:
            base._emit(True, records, "")
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
        base.out.print(table)


@audit_app.command("verify")
def audit_verify(circle_id: CircleId, as_json: JsonFlag = False) -> None:
    """Check the log against the server's signed tree head and what this device saw before."""
    with _circles(as_json) as circles:
        try:
            result = Audit(circles, AuditPins.load()).verify(_uuid(circle_id))
        except AuditFailure as exc:
            if as_json:
                base._emit(True, {"ok": False, "error": exc.code, "message": exc.message}, "")
                base.err.print(f"[bold red]audit log FAILED[/] [{exc.code}] {exc.message}")
                raise typer.Exit(code=2) from None
            base.err.print(f"[bold red]audit log FAILED[/] [{exc.code}] {exc.message}")
            raise typer.Exit(code=2) from None
        base._emit(
            as_json,
            result,
            f"[bold green]audit log verified[/]: {result['tree_size']} records, "
            f"root {result['root'][:16]}…, {result['signatures_checked']} signatures checked",
        )


def install(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("check-reveal")(check_reveal_command)
    app.add_typer(takedown_app, name="takedown")
    app.add_typer(moderation_app, name="moderation")
    app.add_typer(audit_app, name="audit")
