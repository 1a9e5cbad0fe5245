"""A warning's signed terms as a reader checks them (docs/protocol.md §24.2).

The author signs the entry's tag and expiry with the key that signs its envelope; a row
that carries terms must show exactly the expiry its author signed.
"""

import uuid
from datetime import datetime
from typing import Any

from app.client.errors import ProtocolError
from app.crypto import CryptoError, b64decode
from app.crypto.entries import verify_terms

__all__ = ["check_terms", "unix_seconds"]


def unix_seconds(stamp: str) -> int:
    """A server time (``...Z``) as whole Unix seconds; anything else is the server's error."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise ProtocolError("bad_terms", f"{stamp!r} is not a time") from None
    seconds = moment.timestamp()
    if moment.tzinfo is None or seconds != int(seconds):
        raise ProtocolError("bad_terms", f"{stamp!r} is not a whole UTC second")
    return int(seconds)


def check_terms(circle_id: uuid.UUID, row: dict[str, Any]) -> None:
    """§24.2: a row that carries terms shows the expiry its author signed. Rows from before
    terms existed carry none (their expiry is the server's word)."""
    if row.get("terms_signature") is None and row.get("author_tag") is None:
        return
    try:
        verify_terms(
            b64decode(row["author_key"]),
            b64decode(row["terms_signature"] or ""),
            circle_id=circle_id,
            entry_id=uuid.UUID(row["entry_id"]),
            tag=b64decode(row["author_tag"] or ""),
            expires_at=unix_seconds(row["expires_at"]),
        )
    except (CryptoError, ValueError) as exc:
        raise ProtocolError(
            "bad_terms", "the warning's expiry is not the one its author signed"
        ) from exc
