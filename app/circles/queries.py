"""Core statements for the hot paths (issue 19): the rows ``access`` decides on, read
without ORM objects, and the audit log's append (``events``). The rules stay in ``access`` and
``events``; tests hold these to the ORM path and the audit tree."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditNode
from app.circles.models import Circle, Membership, MembershipEvent
from app.direct import Direct


@dataclass(slots=True)
class CircleCounters:
    """What a post reads and bumps on its circle, read under the circle row's lock."""

    id: uuid.UUID
    epoch: int
    entry_seq: int
    change_seq: int
    entry_ttl_days: int
    deleted_at: datetime | None


_LOCK_CIRCLE = Direct(
    select(
        Circle.id,
        Circle.epoch,
        Circle.entry_seq,
        Circle.change_seq,
        Circle.entry_ttl_days,
        Circle.deleted_at,
    )
    .where(Circle.id == bindparam("circle_id"))
    .with_for_update()
)
_MEMBERSHIP = Direct(
    select(Membership.status, Membership.role).where(
        Membership.circle_id == bindparam("circle_id"), Membership.user_id == bindparam("user_id")
    )
)


class MembershipRow(NamedTuple):
    """The caller's membership as ``access`` decides on it."""

    status: str
    role: str


# Reads only: one round trip for both rows. A mutation locks the circle first and reads the
# membership after (``lock_circle``; access.py says why).
_CIRCLE_AND_MEMBERSHIP = Direct(
    select(
        Circle.id,
        Circle.epoch,
        Circle.entry_seq,
        Circle.change_seq,
        Circle.entry_ttl_days,
        Circle.deleted_at,
        Membership.status,
    )
    .outerjoin(
        Membership,
        (Membership.circle_id == Circle.id) & (Membership.user_id == bindparam("user_id")),
    )
    .where(Circle.id == bindparam("circle_id"))
)
_CIRCLES: Table = Circle.__table__  # type: ignore[assignment]
_STORE_COUNTERS = Direct(
    update(_CIRCLES)
    .where(_CIRCLES.c.id == bindparam("circle_id"))
    .values(entry_seq=bindparam("new_entry_seq"), change_seq=bindparam("new_change_seq"))
)


def lock_circle(
    session: Session, *, circle_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[CircleCounters | None, MembershipRow | None]:
    """The circle's counters with its row locked, then the caller's membership (status,
    role) read after the lock is held, as ``access.membership(lock=True)`` reads them.
    Straight on the driver, in the request's transaction (``app.direct``)."""
    row = _LOCK_CIRCLE.one_or_none(session, {"circle_id": circle_id})
    if row is None:
        return None, None
    found = _MEMBERSHIP.one_or_none(session, {"circle_id": circle_id, "user_id": user_id})
    return CircleCounters(*row), None if found is None else MembershipRow(*found)


def circle_and_membership(
    session: Session, *, circle_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[CircleCounters | None, str | None]:
    """The circle's counters and the caller's membership status (None if not a member), in
    one statement, for reads (``access.membership`` without ``lock``)."""
    row = _CIRCLE_AND_MEMBERSHIP.one_or_none(session, {"circle_id": circle_id, "user_id": user_id})
    if row is None:
        return None, None
    return CircleCounters(*row[:-1]), row[-1]


def lock_circle_alone(session: Session, *, circle_id: uuid.UUID) -> CircleCounters | None:
    """The circle's counters with its row locked, for a request with no session (an
    anonymous post, §38): no membership is read, the token stands for it."""
    row = _LOCK_CIRCLE.one_or_none(session, {"circle_id": circle_id})
    return None if row is None else CircleCounters(*row)


def store_counters(session: Session, circle: CircleCounters) -> None:
    """Write the counters back (the post path loads no ``Circle`` object: none goes stale)."""
    _STORE_COUNTERS.execute(
        session,
        {
            "circle_id": circle.id,
            "new_entry_seq": circle.entry_seq,
            "new_change_seq": circle.change_seq,
        },
    )


# --- the audit log's append (``events.append``) ------------------------------------------

_CIRCLE_ID: BindParameter[Any] = bindparam("circle_id")
_NEXT_EVENT_SEQ = (
    update(_CIRCLES)
    .where(_CIRCLES.c.id == _CIRCLE_ID)
    .values(event_seq=_CIRCLES.c.event_seq + 1)
    .returning(_CIRCLES.c.event_seq)
)
_EVENT_HASH = select(MembershipEvent.record_hash).where(
    MembershipEvent.circle_id == _CIRCLE_ID, MembershipEvent.seq == bindparam("seq")
)
_ADD_EVENT = insert(MembershipEvent)
_AUDIT_NODES = select(AuditNode.node, AuditNode.hash).where(
    AuditNode.circle_id == _CIRCLE_ID, AuditNode.node.in_(bindparam("nodes", expanding=True))
)
_ADD_AUDIT_NODES = insert(AuditNode)


def next_event_seq(session: Session, circle_id: uuid.UUID) -> int:
    """Take the circle's next event number (the row's lock is held until commit)."""
    found = session.connection().execute(_NEXT_EVENT_SEQ, {"circle_id": circle_id})
    return int(found.scalar_one())


def event_hash(session: Session, circle_id: uuid.UUID, seq: int) -> bytes | None:
    found = session.connection().execute(_EVENT_HASH, {"circle_id": circle_id, "seq": seq})
    value: bytes | None = found.scalar_one_or_none()
    return value


def insert_event(session: Session, event: MembershipEvent) -> None:
    """Insert a transient ``MembershipEvent`` (never added to the session)."""
    session.connection().execute(
        _ADD_EVENT,
        {
            "circle_id": event.circle_id,
            "seq": event.seq,
            "body": event.body,
            "record_hash": event.record_hash,
            "leaf_hash": event.leaf_hash,
            "created_at": event.created_at,
        },
    )


def audit_nodes(session: Session, circle_id: uuid.UUID, nodes: list[int]) -> dict[int, bytes]:
    """Stored audit-tree nodes by key (``app.audit.models.node_key``)."""
    if not nodes:
        return {}
    found = session.connection().execute(_AUDIT_NODES, {"circle_id": circle_id, "nodes": nodes})
    return {node: hash_ for node, hash_ in found}


def insert_audit_nodes(session: Session, circle_id: uuid.UUID, nodes: dict[int, bytes]) -> None:
    session.connection().execute(
        _ADD_AUDIT_NODES,
        [{"circle_id": circle_id, "node": node, "hash": hash_} for node, hash_ in nodes.items()],
    )
