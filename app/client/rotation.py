"""Removals, rotations and leaving (docs/protocol.md §16.5, §16.6): the rotation half of the
circles client, mirrored by web/src/client/rotation.js.

A new epoch key is made and wrapped on this device, and a listed member is dropped only on
their own signed departure, never on the server's word.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from app.client.errors import ProtocolError
from app.crypto import CryptoError, b64decode, b64encode
from app.crypto.circles import (
    CircleKey,
    KeyRecord,
    RecordMember,
    leave_statement,
    seal_previous_key,
    seal_wrap,
    sign_leave,
    verify_leave,
)

if TYPE_CHECKING:
    from app.client.circles import Circles, Member, VerifiedCircle

__all__ = ["leave", "remove", "rotate", "rotation_body"]


def check_departure(
    circle: "VerifiedCircle", listed: RecordMember, member: "Member | None"
) -> None:
    """Drop a listed member only on their own signed word (§16.6, `unsigned_departure`)."""
    departure = member.departure if member is not None else None
    if member is None or departure is None or member.fingerprint != listed.fp:
        raise ProtocolError(
            "unsigned_departure",
            f"the server says {listed.user} is gone, but they did not sign a departure",
        )
    try:
        seq = verify_leave(
            departure["statement"].encode("utf-8"),
            b64decode(departure["signature"]),
            circle_id=circle.circle_id,
            user=listed.user,
            signer=member.identity,
        )
    except (CryptoError, KeyError, TypeError) as exc:
        raise ProtocolError("unsigned_departure", f"{listed.user}'s departure: {exc}") from exc
    if seq < circle.joined.get(listed.user, 0):  # a departure from an earlier membership
        raise ProtocolError("unsigned_departure", f"{listed.user}'s departure is stale")


def rotation_body(
    circles: "Circles", circle: "VerifiedCircle", *, without: str | None
) -> dict[str, Any]:
    """Epoch n+1 for the active members the signed record vouches for (minus ``without``)."""
    latest = circle.record
    everyone = {m.username: m for m in circles.members(circle.circle_id, trusted=latest)}
    active = {name: m for name, m in everyone.items() if m.status == "active"}
    keep = []
    for listed in latest.members:
        if listed.user == without:
            continue
        if listed.user not in active:
            check_departure(circle, listed, everyone.get(listed.user))
            continue
        if active[listed.user].fingerprint != listed.fp:
            raise ProtocolError(
                "member_key_changed",
                f"{listed.user}'s key changed since it was confirmed "
                f"({listed.fp} → {active[listed.user].fingerprint}); not wrapping to it",
            )
        keep.append(listed)
    new_key = CircleKey.generate()
    epoch = latest.epoch + 1
    record = KeyRecord(
        circle.circle_id,
        latest.seq + 1,
        epoch,
        new_key.key_id,
        tuple(keep),
        latest.hash(),
        circles.username,
    )

    def wrap_for(member: RecordMember) -> dict[str, str]:
        sealed = seal_wrap(
            new_key,
            circle_id=circle.circle_id,
            epoch=epoch,
            recipient=active[member.user].identity.x25519_public,
        )
        return {"username": member.user, "wrap": b64encode(sealed)}

    # libsodium releases the GIL: seal on two threads (10,000 seals are most of the work).
    with ThreadPoolExecutor(max_workers=2) as pool:
        wraps = list(pool.map(wrap_for, keep, chunksize=256))
    return {
        **circles._signed(record),
        "wraps": wraps,
        "prev_key_box": b64encode(
            seal_previous_key(new_key, circle.key, circle_id=circle.circle_id, epoch=epoch)
        ),
    }


def rotate(circles: "Circles", circle_id: uuid.UUID) -> dict[str, Any]:
    """A new epoch key for the members still there (dropping those who signed a departure)."""
    circle = circles.sync(circle_id)
    result: dict[str, Any] = circles.client.request(
        "POST", f"/v1/circles/{circle_id}/rotate", json=rotation_body(circles, circle, without=None)
    )
    return result


def remove(circles: "Circles", circle_id: uuid.UUID, username: str) -> dict[str, Any]:
    """Remove someone; if the signed record lists them, the key rotates in the same request."""
    circle = circles.sync(circle_id)
    body: dict[str, Any] = {"rotation": None}
    if circle.record.member(username) is not None:  # trust the record, not the server
        body["rotation"] = rotation_body(circles, circle, without=username)
    result: dict[str, Any] = circles.client.request(
        "POST", f"/v1/circles/{circle_id}/members/{username}/remove", json=body
    )
    if circles.sync(circle_id).record.member(username) is not None:
        raise ProtocolError(
            "removal_not_applied", f"the server did not rotate {username} out of the circle"
        )
    return result


def leave(circles: "Circles", circle_id: uuid.UUID) -> dict[str, Any]:
    """Leave with a signed departure (or withdraw a pending request, which needs none)."""
    info = circles.client.request("GET", "/v1/circles")
    mine = next((c for c in info if c["circle_id"] == str(circle_id)), None)
    body = None
    if mine is not None and mine["status"] == "active":
        statement = leave_statement(
            circle_id=circle_id, user=circles.username, record_seq=int(mine["record_seq"])
        )
        body = {
            "statement": statement.decode("utf-8"),
            "signature": b64encode(sign_leave(circles.identity, statement)),
        }
    result: dict[str, Any] = circles.client.request(
        "POST", f"/v1/circles/{circle_id}/leave", json=body
    )
    return result
