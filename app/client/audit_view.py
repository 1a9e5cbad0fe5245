"""Reading a circle's audit log as people see it: the verified records with decision
reasons for admins (``show``, the CLI's ``audit show``), and who asked for sealed-warning
evaluations (``evaluations``, admins only; docs/protocol.md §36.4). Both verify first
through ``Audit`` (app/client/audit.py) and then open what only admins may read with the
circle's moderation keys. Mirrors web/src/client/auditview.js.
"""

import hmac
import re
import uuid
from typing import TYPE_CHECKING, Any

from app.client.circles import VerifiedCircle
from app.client.errors import AuditFailure, ClientError, ProtocolError
from app.crypto import CryptoError, b64decode, merkle
from app.crypto.circles import ADMIN_ROLES
from app.crypto.decisions import Decision, blob_hash, open_decision_note
from app.crypto.moderation import ModerationKey

if TYPE_CHECKING:
    from app.client.audit import Audit

__all__ = ["evaluations", "show"]


def show(audit: "Audit", circle_id: uuid.UUID) -> list[dict[str, Any]]:
    """The records, verified first (``verify``), with decision reasons for admins."""
    verified = audit.verify(circle_id)
    size = int(verified["tree_size"])
    circle = audit.circles.sync(circle_id)
    records = audit.fetch_records(circle_id, size)
    audit.check_chain(records, None)
    root = merkle.MerkleTree.from_leaf_hashes(r.leaf for r in records).root()
    if root.hex() != verified["root"]:
        raise AuditFailure(
            "root_mismatch", "the records shown do not hash to the head just verified"
        )
    keys: dict[int, ModerationKey] = {}
    if circle.role in ADMIN_ROLES:
        try:  # read-only: never makes a key generation here
            keys = audit.moderation.secret_keys(circle, audit.moderation.state(circle))
        except ClientError:
            keys = {}
    out = []
    for record in records:
        body = record.body
        details = dict(body.get("details") or {})
        if body.get("kind") == "case_decided" and "decision" in details:
            decision = Decision.parse(details.pop("decision").encode())  # verified above
            details.pop("signature", None)
            details["signer"] = decision.signer
            key = keys.get(decision.generation)
            if key is not None:
                details["reason"] = _decision_reason(audit, circle, decision, key)
        out.append(
            {
                "seq": record.seq,
                "kind": body.get("kind"),
                # As everywhere else in the SDK: null for none, ids with dashes.
                "actor": body.get("actor") or None,
                "subject": body.get("subject") or None,
                "at": body.get("at"),
                "details": {key: _dashed(key, value) for key, value in details.items()},
                "leaf_hash": record.leaf.hex(),
            }
        )
    return out


def evaluations(audit: "Audit", circle_id: uuid.UUID) -> list[dict[str, Any]]:
    """Who asked for sealed-warning evaluations, how many name forms, when (admins;
    docs/protocol.md §36.4): the ``sealed_evaluation`` records of the verified log, each
    note opened with the moderation key of its generation. The note is the server's
    word (it made it), sealed so that only the admins read it; a note that does not
    open is listed with ``user`` null. Oldest first."""
    circle = audit.circles.sync(circle_id)
    if circle.role not in ADMIN_ROLES:
        raise ProtocolError(
            "not_a_moderator", "only the circle's admins can read who evaluated names"
        )
    from app.crypto.sealed import open_evaluation_note  # rbcl: loaded only when needed

    keys = audit.moderation.secret_keys(circle, audit.moderation.state(circle))
    out = []
    for record in show(audit, circle_id):
        if record["kind"] != "sealed_evaluation":
            continue
        details = record["details"]
        note: dict[str, Any] = {}
        key = keys.get(int(details.get("generation", -1)))
        if key is not None:
            try:
                note = open_evaluation_note(
                    b64decode(str(details.get("note", ""))),
                    key=key,
                    circle_id=circle_id,
                    generation=int(details["generation"]),
                )
            except (CryptoError, ValueError):
                note = {}
        user, elements = note.get("user"), note.get("elements")
        out.append(
            {
                "seq": record["seq"],
                "at": record["at"],
                "user": user if isinstance(user, str) else None,
                "forms": elements if isinstance(elements, int) else None,
            }
        )
    return out


def _decision_reason(
    audit: "Audit", circle: VerifiedCircle, decision: Decision, key: ModerationKey
) -> str | None:
    row = audit.client.request(
        "GET", f"/v1/circles/{circle.circle_id}/moderation/cases/{decision.case_id}"
    )
    for item in row["decisions"]:
        if int(item["seq"]) == decision.seq:
            note = b64decode(item["note"])
            if not hmac.compare_digest(blob_hash(note), decision.note_hash):
                raise AuditFailure("changed_record", "a decision's reason was changed")
            try:
                return open_decision_note(
                    note,
                    key=key,
                    circle_id=circle.circle_id,
                    case_id=decision.case_id,
                    generation=decision.generation,
                )
            except CryptoError:
                return None
    return None


def _dashed(key: str, value: Any) -> Any:
    """An id in a record's details (stored as 32 hex digits) in the SDK's usual form."""
    if key.endswith("_id") and isinstance(value, str) and re.fullmatch("[0-9a-f]{32}", value):
        return str(uuid.UUID(hex=value))
    return value
