"""The token issuance keys in a circle's audit log (docs/protocol.md §38.1, §33.6).

A server that wants to recognise one member's anonymous tokens must get that member to take
them under a key nobody else uses: two admins' clients each sign the key the server offers
them, and the server shows one member the second record. Both records verify, so a member's
client cannot see it when it takes tokens. The log can: every accepted record is a leaf
(``anon_issuance_key``), so ``audit verify`` checks that each epoch has **one** key and
that it is the key this device took its tokens under (else ``key_partition``).
"""

import hmac
import uuid
from collections.abc import Callable
from typing import Any

from app.client.errors import AuditFailure
from app.crypto import CryptoError, PublicIdentity, b64decode, b64encode
from app.crypto.anon import IssuanceRecord

__all__ = ["check_issuance_record", "check_keys_used"]


def check_issuance_record(
    circle_id: uuid.UUID,
    seq: int,
    body: dict[str, Any],
    admin_identity: Callable[[str, int], PublicIdentity],
    logged: dict[str, str],
) -> int:
    """1 for an ``anon_issuance_key`` record whose admin signature verified (its key is
    added to ``logged``, epoch → base64 key), 0 for a record of another kind."""
    if body.get("kind") != "anon_issuance_key":
        return 0
    details = body.get("details") or {}
    try:
        record = IssuanceRecord.parse(details["record"].encode())
        signer = admin_identity(record.signer, seq)
        record.verify_signature(b64decode(details["signature"]), signer)
    except (CryptoError, KeyError, AttributeError, TypeError) as exc:
        raise AuditFailure("bad_signature", f"record {seq}: the issuance key's signature") from exc
    if (
        record.circle_id != circle_id
        or details.get("epoch") != record.epoch
        or body.get("actor") != record.signer
    ):
        raise AuditFailure("changed_record", f"record {seq} differs from its signed issuance key")
    epoch, key = str(record.epoch), b64encode(record.oprf_public_key)
    earlier = logged.get(epoch)
    if earlier is not None and not hmac.compare_digest(earlier, key):
        raise AuditFailure(
            "key_partition",
            f"record {seq} is a second token key for epoch {record.epoch}: the server can "
            "tell the tokens of the members it showed one key from the others'",
        )
    logged[epoch] = key
    return 1


def check_keys_used(logged: dict[str, str], used: dict[str, str]) -> None:
    """Every key this device took tokens under is the one the log holds for its epoch."""
    for epoch, key in sorted(used.items()):
        found = logged.get(epoch)
        if found is None or not hmac.compare_digest(found, key):
            raise AuditFailure(
                "key_partition",
                f"this device took tokens of epoch {epoch} under a key the log does not hold "
                "for that epoch: the server showed it a key of its own",
            )
