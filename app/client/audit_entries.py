"""The author-signed entry records of a circle's audit log (docs/protocol.md §24, §33.6).

``entry_retracted`` carries the author's retraction signature; ``entry_expired`` carries
the terms the author signed (author tag, expiry). Any member's ``audit verify`` checks
both, so neither is the server's word: a retraction nobody signed, or an expiry earlier
than the author asked for, fails the check. Records written before these signatures
existed (schema 0011) carry only the entry id and are counted as unsigned.
"""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.client.errors import AuditFailure
from app.crypto import CryptoError, b64decode
from app.crypto.entries import verify_retraction, verify_terms

__all__ = ["check_entry_record"]


def _moment(stamp: object) -> float:
    if not isinstance(stamp, str):
        raise ValueError("no time")
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("not UTC")
    return moment.timestamp()


def check_entry_record(
    circle_id: uuid.UUID, seq: int, body: dict[str, Any], named_key: Callable[[str], bytes]
) -> int:
    """1 when the record's author signature verified, 0 for a record without one.

    ``named_key(username)`` is a named author's Ed25519 key, as the member list shows it.
    """
    kind, details = body.get("kind"), body.get("details") or {}
    if kind == "entry_retracted" and "signature" in details:
        try:
            entry_id = uuid.UUID(hex=details["entry_id"])
            author_key = b64decode(details["author_key"])
            verify_retraction(
                author_key,
                b64decode(details["signature"]),
                circle_id=circle_id,
                entry_id=entry_id,
            )
        except (CryptoError, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise AuditFailure(
                "bad_signature", f"record {seq}: the retraction's signature"
            ) from exc
        actor = body.get("actor")
        if actor and named_key(str(actor)) != author_key:
            raise AuditFailure(
                "bad_signature", f"record {seq}: the retraction is not signed by {actor}"
            )
        return 1
    if kind == "entry_expired" and "terms_signature" in details:
        try:
            expires_at = details["expires_at"]
            if type(expires_at) is not int:
                raise ValueError("expires_at is whole seconds")
            verify_terms(
                b64decode(details["author_key"]),
                b64decode(details["terms_signature"]),
                circle_id=circle_id,
                entry_id=uuid.UUID(hex=details["entry_id"]),
                tag=b64decode(details["author_tag"]),
                expires_at=expires_at,
            )
            at = _moment(body.get("at"))
        except (CryptoError, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise AuditFailure("bad_signature", f"record {seq}: the expiry's signed terms") from exc
        if at < expires_at:
            raise AuditFailure(
                "early_expiry",
                f"record {seq}: the server expired a warning before the time its author signed",
            )
        return 1
    return 0
