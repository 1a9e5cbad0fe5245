"""Deleting a circle, and reading that one was deleted (docs/protocol.md §16.9).

An owner's client signs the deletion at the newest record it verified. Every member's
client checks the tombstone the server shows against the record this device pinned: the
signer must be an owner there, with the key listed there, and the signature must verify.
Only then does it say "deleted by …"; otherwise it says the server claims so.
"""

import uuid
from typing import TYPE_CHECKING, Any

from app.client.errors import ClientError, ProtocolError
from app.crypto import CryptoError, b64decode, b64encode
from app.crypto.circles import KeyRecord, leave_statement, sign_leave
from app.crypto.deletion import deletion_statement, sign_deletion, verify_deletion

if TYPE_CHECKING:
    from app.client.circles import Circles


def delete_circle(circles: "Circles", circle_id: uuid.UUID) -> dict[str, Any]:
    """As an owner: delete the circle for everyone, signed at the newest verified record."""
    circle = circles.sync(circle_id)
    if circle.role != "owner":
        raise ProtocolError("owner_required", "only an owner can delete a circle")
    statement = deletion_statement(
        circle_id=circle_id, by=circles.username, record_seq=circle.record.seq
    )
    result: dict[str, Any] = circles.client.request(
        "POST",
        f"/v1/circles/{circle_id}/delete",
        json={
            "statement": statement.decode("utf-8"),
            "signature": b64encode(sign_deletion(circles.identity, statement)),
        },
    )
    return result


def read_tombstone(
    circles: "Circles", circle_id: uuid.UUID, tombstone: dict[str, Any]
) -> dict[str, Any]:
    """What the list says of a deleted circle: who, when, the name this device last saw,
    and whether the statement verified against this device's pinned record."""
    pin = circles.trust.pin(str(circle_id))
    by = str(tombstone.get("by"))
    verified = False
    if pin.seq >= 0:
        try:
            listed = KeyRecord.parse(pin.record.encode()).member(by)
            if listed is not None and listed.role == "owner":
                keys = circles.client.user_keys(by, verified_fp=listed.fp)
                if keys.fingerprint == listed.fp:
                    deletion = verify_deletion(
                        str(tombstone["statement"]).encode("utf-8"),
                        b64decode(str(tombstone["signature"])),
                        circle_id=circle_id,
                        signer=keys.identity,
                    )
                    verified = deletion.by == by
        except (CryptoError, ClientError, KeyError, ValueError):
            verified = False
    return {"deleted_by": by, "deleted_at": tombstone.get("at"), "verified": verified}


def delete_account(circles: "Circles", *, passphrase: str, warnings: str) -> dict[str, Any]:
    """Delete this account: a signed departure from every circle it is active in, and
    ``warnings`` "retract" (wipe them for everyone) or "keep" (left, as a former member's)."""
    if warnings not in ("retract", "keep"):
        raise ProtocolError("bad_choice", "warnings must be retract or keep")
    departures = []
    for row in circles.client.request("GET", "/v1/circles"):
        if row["status"] != "active" or row.get("deletion") is not None:
            continue
        cid = uuid.UUID(row["circle_id"])
        statement = leave_statement(
            circle_id=cid, user=circles.username, record_seq=int(row["record_seq"])
        )
        departures.append(
            {
                "circle_id": str(cid),
                "statement": statement.decode("utf-8"),
                "signature": b64encode(sign_leave(circles.identity, statement)),
            }
        )
    auth_key = circles.client.reauthenticate(username=circles.username, passphrase=passphrase)
    result: dict[str, Any] = circles.client.request(
        "POST",
        "/v1/me/delete",
        json={"auth_key": auth_key, "warnings": warnings, "departures": departures},
    )
    circles.client.token = None
    return result


def former_members(circles: "Circles", circle_id: uuid.UUID) -> set[str]:
    """Usernames in a circle whose accounts were deleted: what they left shows as a former
    member's (the server's unsigned word: docs/threat-model.md, Deleting an account)."""
    rows = circles.client.request("GET", f"/v1/circles/{circle_id}/members")
    return {row["username"] for row in rows if row.get("account_deleted") is True}
