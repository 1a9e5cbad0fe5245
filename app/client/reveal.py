"""Escalation for the SDK: a report's reveal an operator can check without any circle key
(docs/protocol.md §30.3). ``export_reveal`` is the admin's side (the report opened and
verified as a case, with the reported warning's envelope); ``check_reveal`` the operator's
(no account, no key). Python only: the web client has no operator side.
"""

import uuid
from typing import Any

from app.client.cases import open_case
from app.client.entries import _envelope
from app.client.errors import ProtocolError
from app.client.moderation import Moderation
from app.crypto import CryptoError, b64decode, b64encode
from app.crypto.circles import load_json
from app.crypto.entries import ENTRY, EnvelopeContext, verify_commitment
from app.crypto.reports import open_report

__all__ = ["check_reveal", "export_reveal"]


def export_reveal(moderation: Moderation, circle_id: uuid.UUID, case_id: str) -> dict[str, Any]:
    """A report's reveal with the entry's envelope, for someone outside the circle to check."""
    circle, state = moderation.ensure_key(circle_id)
    keys = moderation.secret_keys(circle, state)
    row = moderation.client.request("GET", f"/v1/circles/{circle_id}/moderation/cases/{case_id}")
    if row["kind"] != "report":
        raise ProtocolError("not_a_report", "only reports carry a reveal")
    opened = open_case(moderation, circle, keys, row)  # verifies reporter, reveal, chain
    report, _ = open_report(
        b64decode(row["ciphertext"]),
        key=keys[int(row["generation"])],
        circle_id=circle_id,
        case_id=uuid.UUID(case_id),
        entry_id=uuid.UUID(row["entry_id"]),
        generation=int(row["generation"]),
    )
    entry = moderation.client.request("GET", f"/v1/circles/{circle_id}/entries/{row['entry_id']}")[
        "entry"
    ]
    return {
        "v": 1,
        "type": "backchannel.reveal",
        "circle_id": str(circle_id),
        "entry_id": row["entry_id"],
        "epoch": entry["epoch"],
        "author_key": entry["author_key"],
        "commitment": entry["commitment"],
        "nonce": entry["nonce"],
        "ciphertext": entry["ciphertext"],
        "signature": entry["signature"],
        "body": b64encode(report.body),
        "opening": b64encode(report.opening),
        "reported_by": opened["reporter"],
    }


def check_reveal(reveal: dict[str, Any]) -> dict[str, Any]:
    """What an operator runs on an escalated reveal: no account, no circle key."""
    try:
        circle_id = uuid.UUID(str(reveal["circle_id"]))
        entry_id = uuid.UUID(str(reveal["entry_id"]))
        body, opening = b64decode(reveal["body"]), b64decode(reveal["opening"])
        commitment = b64decode(reveal["commitment"])
        signed = reveal.get("signature") is not None
        if signed:
            envelope = _envelope(reveal)
            if envelope.commitment != commitment:
                raise ProtocolError("reveal_mismatch", "two different commitments")
            envelope.verify(EnvelopeContext(ENTRY, circle_id, int(reveal["epoch"]), entry_id))
        if not verify_commitment(body, opening, commitment):
            raise ProtocolError("reveal_mismatch", "the body does not open the commitment")
        content = load_json(body)
    except (KeyError, TypeError, ValueError, CryptoError) as exc:
        raise ProtocolError("reveal_mismatch", f"the reveal does not verify: {exc}") from exc
    return {
        "ok": True,
        "signed_by_author_key": signed,
        "author_key": reveal["author_key"],
        "content": content,
    }
