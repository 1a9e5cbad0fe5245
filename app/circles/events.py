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

from sqlalchemy.orm import Session

from app.audit.models import node_key
from app.circles import queries
from app.circles.models import MembershipEvent
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
    """Take the next sequence number under the circle row's lock and chain the event. The
    rows are written with Core (``queries``) and the event returned is not in the session."""
    # What the use case added to the session so far (a new circle, a membership) is written
    # first, as the ORM's autoflush did: the Core statements below go straight to the
    # database and must see it.
    session.flush()
    seq = queries.next_event_seq(session, circle_id)
    prev = queries.event_hash(session, circle_id, seq - 1) if seq > 0 else None
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
    queries.insert_event(session, event)
    _add_nodes(session, circle_id, seq, event.leaf_hash)
    return event


def _add_nodes(session: Session, circle_id: uuid.UUID, seq: int, leaf: bytes) -> None:
    """Store the audit tree's complete subtrees that leaf ``seq`` closes (the leaf, and one
    more per trailing 1 bit of ``seq``: two rows per leaf on average), each from its left
    sibling, which is stored already (docs/protocol.md §33.5); the siblings are read in one
    statement."""
    closed = merkle.complete_subtrees_ending_at(seq)[1:]
    lefts = [node_key(level - 1, position * 2) for level, position in closed]
    stored = queries.audit_nodes(session, circle_id, lefts)
    current = leaf
    nodes = {node_key(0, seq): leaf}
    for (level, position), left in zip(closed, lefts, strict=True):
        if left not in stored:  # every earlier leaf stored its nodes (migration 0014 backfilled)
            raise RuntimeError(f"audit node {level - 1}/{position * 2} of {circle_id} is missing")
        current = merkle.node_hash(stored[left], current)
        nodes[node_key(level, position)] = current
    queries.insert_audit_nodes(session, circle_id, nodes)
