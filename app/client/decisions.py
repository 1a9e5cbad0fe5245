"""Signing the admins' decisions on cases for the SDK (docs/protocol.md §32.3): one
decision (``decide``) or a dismissal of many (``dismiss_cases``), each extending the case's
verified chain, with its reason sealed to the admins. As web/src/client/decisions.js; opening
cases and their chains is in ``cases``.
"""

import hmac
import uuid
from typing import Any

from app.client.cases import case_rows, open_decisions
from app.client.circles import VerifiedCircle
from app.client.errors import ProtocolError
from app.client.moderation import Moderation, ModerationState
from app.crypto import CryptoError, b64decode, b64encode
from app.crypto.decisions import ACTIONS, Decision, blob_hash, seal_decision_note
from app.crypto.moderation import ModerationKey
from app.crypto.reports import case_hash
from app.crypto.takedowns import seal_response

__all__ = ["BATCH", "decide", "dismiss_cases", "open_takedown_ids"]


def decide(
    moderation: Moderation,
    circle_id: uuid.UUID,
    case_id: str,
    *,
    action: str,
    reason: str,
    entry_id: str | None = None,
    response: str | None = None,
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ProtocolError("bad_decision", f"action must be one of {', '.join(ACTIONS)}")
    circle, state = moderation.ensure_key(circle_id)
    keys = moderation.secret_keys(circle, state)
    row = moderation.client.request("GET", f"/v1/circles/{circle_id}/moderation/cases/{case_id}")
    if row["kind"] == "report":
        if entry_id is not None and entry_id != row["entry_id"]:
            raise ProtocolError("bad_decision", "a report's decision acts on the reported entry")
        target = None if action == "dismiss" else row["entry_id"]
    else:
        if action != "dismiss" and entry_id is None:
            raise ProtocolError(
                "bad_decision", "say which entry this acts on (--entry; see the candidates)"
            )
        target = entry_id
    body = _signed_decision(
        moderation,
        circle,
        state,
        keys,
        row,
        action=action,
        reason=reason,
        target=target,
        response=response,
    )
    result = moderation.client.request(
        "POST", f"/v1/circles/{circle_id}/moderation/cases/{case_id}/decisions", json=body
    )
    return {
        "case_id": case_id,
        "action": action,
        "entry_id": target,
        "status": result["status"],
    }


def _signed_decision(
    moderation: Moderation,
    circle: VerifiedCircle,
    state: ModerationState,
    keys: dict[int, ModerationKey],
    row: dict[str, Any],
    *,
    action: str,
    reason: str,
    target: str | None,
    response: str | None = None,
) -> dict[str, Any]:
    """The next decision on the case ``row`` (its chain verified first), signed by this
    admin, with the reason sealed to the newest moderation key (§32)."""
    assert state.current is not None
    ciphertext = b64decode(row["ciphertext"])
    if not hmac.compare_digest(case_hash(ciphertext), b64decode(row["case_hash"])):
        raise ProtocolError("case_changed", f"case {row['case_id']} does not match its hash")
    open_decisions(moderation, circle, keys, row, case_hash(ciphertext))  # the chain we extend
    decisions = row["decisions"]
    prev = Decision.parse(decisions[-1]["decision"].encode()).hash() if decisions else None
    cid = uuid.UUID(row["case_id"])
    try:
        note = seal_decision_note(
            reason,
            public_key=state.current.public_key,
            circle_id=circle.circle_id,
            case_id=cid,
            generation=state.current.generation,
        )
        sealed_response = None
        if response is not None:
            if row["kind"] != "takedown":
                raise ProtocolError("bad_decision", "only takedown requests get a response")
            generation = int(row["generation"])
            sealed_response = seal_response(
                response,
                key=keys[generation],
                receipt_public=b64decode(row["receipt_key"]),
                circle_id=circle.circle_id,
                case_id=cid,
                generation=generation,
            )
    except CryptoError as exc:
        raise ProtocolError("bad_decision", str(exc)) from exc
    decision = Decision(
        circle_id=circle.circle_id,
        case_id=cid,
        seq=len(decisions),
        action=action,
        entry_id=None if target is None else uuid.UUID(target),
        case_hash=case_hash(ciphertext),
        generation=state.current.generation,
        note_hash=blob_hash(note),
        response_hash=None if sealed_response is None else blob_hash(sealed_response),
        prev=prev,
        signer=moderation.circles.username,
    )
    return {
        "decision": decision.to_bytes().decode(),
        "signature": b64encode(decision.sign(moderation.circles.identity)),
        "note": b64encode(note),
        "response": None if sealed_response is None else b64encode(sealed_response),
    }


BATCH = 100  # decisions per request (the server's limit)


def open_takedown_ids(moderation: Moderation, circle_id: uuid.UUID) -> list[str]:
    """Every open takedown request's case id, newest first, as a bulk dismissal picks
    them (page after page)."""
    moderation.ensure_key(circle_id)
    return [
        str(row["case_id"])
        for row in case_rows(moderation, circle_id, status="open", kind="takedown")
    ]


def dismiss_cases(
    moderation: Moderation, circle_id: uuid.UUID, case_ids: list[str], *, reason: str
) -> list[dict[str, Any]]:
    """Dismiss many cases at once (a flood of junk requests), each by its own signed
    decision and audit record, as ``decide`` would make it; sent ``BATCH`` at a time, each
    batch all or nothing."""
    if len(set(case_ids)) != len(case_ids):
        raise ProtocolError("bad_decision", "a case is named twice")
    circle, state = moderation.ensure_key(circle_id)
    keys = moderation.secret_keys(circle, state)
    base = f"/v1/circles/{circle_id}/moderation"
    wanted = set(case_ids)
    open_rows: dict[str, dict[str, Any]] = {}
    if len(wanted) > 1:  # the open cases page by page, until every one asked for is found
        for row in case_rows(moderation, circle_id, status="open"):
            if str(row["case_id"]) in wanted:
                open_rows[str(row["case_id"])] = row
                if len(open_rows) == len(wanted):
                    break
    decided: list[dict[str, Any]] = []
    for start in range(0, len(case_ids), BATCH):
        batch = []
        for case_id in case_ids[start : start + BATCH]:
            row = open_rows.get(case_id) or moderation.client.request(
                "GET", f"{base}/cases/{case_id}"
            )
            body = _signed_decision(
                moderation, circle, state, keys, row, action="dismiss", reason=reason, target=None
            )
            batch.append({"case_id": case_id, **body})
        decided += moderation.client.request("POST", f"{base}/decisions", json={"decisions": batch})
    return decided
