"""Membership events: an append-only, hash-chained log per circle (the audit log's leaves).

Each event's body is canonical JSON holding the previous event's hash; the event
hash is BLAKE2b-256 with personalisation ``bc.v1.event`` over the body bytes.

An event's time (``at``, and the row's ``created_at``) is a whole hour (``app.db.PRECISION``),
as coarse as every other stored time an anonymous act could be joined by: the log's
integrity rests on ``seq``, the hash chain and the signed tree heads, never on ``at``. The
one exception is ``entry_expired``: members check that it is not earlier than the expiry
its author signed (docs/protocol.md §24.2), which a floored hour could be; it names no
person, and its time says only when the retention pass ran.
"""

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditNode, node_key
from app.circles.models import Circle, MembershipEvent
from app.crypto import merkle
from app.crypto.circles import canonical_json, event_hash
from app.crypto.encoding import b64encode
from app.db import coarse, utcnow

# Kinds whose exact time the log's checks need (see the module docstring).
EXACT_TIME_KINDS = frozenset({"entry_expired"})


def append(
    session: Session,
    *,
    circle_id: uuid.UUID,
    kind: str,
    actor: str,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> MembershipEvent:
    """Take the next sequence number under the circle row's lock and chain the event."""
    seq = session.execute(
        update(Circle)
        .where(Circle.id == circle_id)
        .values(event_seq=Circle.event_seq + 1)
        .returning(Circle.event_seq)
    ).scalar_one()
    prev = None
    if seq > 0:
        prev = session.scalar(
            select(MembershipEvent.record_hash).where(
                MembershipEvent.circle_id == circle_id, MembershipEvent.seq == seq - 1
            )
        )
    now = utcnow() if kind in EXACT_TIME_KINDS else coarse(utcnow())
    body = canonical_json(
        {
            "v": 1,
            "circle": circle_id.hex,
            "seq": seq,
            "kind": kind,
            "actor": actor,
            "subject": subject,
            "details": details or {},
            "at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "prev": None if prev is None else b64encode(prev),
        }
    )
    event = MembershipEvent(
        circle_id=circle_id,
        seq=seq,
        body=body.decode(),
        record_hash=event_hash(body),
        leaf_hash=merkle.leaf_hash(body),
        created_at=now,
    )
    session.add(event)
    _add_nodes(session, circle_id, seq, event.leaf_hash)
    return event


def _add_nodes(session: Session, circle_id: uuid.UUID, seq: int, leaf: bytes) -> None:
    """Store the audit tree's complete subtrees that leaf ``seq`` closes (the leaf, and one
    more per trailing 1 bit of ``seq``: two rows per leaf on average), each from its left
    sibling, which is stored already (docs/protocol.md §33.5)."""
    closed = merkle.complete_subtrees_ending_at(seq)
    current = leaf
    session.add(AuditNode(circle_id=circle_id, node=node_key(0, seq), hash=leaf))
    for level, position in closed[1:]:
        left = session.get(AuditNode, (circle_id, node_key(level - 1, position * 2)))
        if left is None:  # every earlier leaf stored its nodes (migration 0014 backfilled)
            raise RuntimeError(f"audit node {level - 1}/{position * 2} of {circle_id} is missing")
        current = merkle.node_hash(left.hash, current)
        session.add(AuditNode(circle_id=circle_id, node=node_key(level, position), hash=current))
