"""Audit log reads: records, signed tree heads and proofs, for active members of a circle.

The leaves are the circle's membership events in ``seq`` order (each leaf hash
is stored with the event, and every complete subtree's hash in ``audit_nodes`` as
leaves are appended: ``app.circles.events``). A tree head and each proof are
computed from the O(log n) stored nodes they need, and a head is signed on
request; it says what this server claims the log is, and clients check it
against the records and against the last head they pinned.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit import signing
from app.audit.models import AuditNode, node_key
from app.circles.access import active_member
from app.circles.models import MembershipEvent
from app.crypto import merkle
from app.crypto.audit import TreeHead
from app.db import utcnow
from app.errors import InvalidRequest
from app.settings import Settings

EVENT_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
T = TypeVar("T")


class ProofRangeInvalid(InvalidRequest):
    code = "proof_range_invalid"
    message = "The proof range is outside the log."


@dataclass(frozen=True)
class SignedHead:
    head: TreeHead
    signature: bytes
    key_id: int
    public_key: bytes


def list_records(
    session: Session, *, circle_id: uuid.UUID, user: User, after: int, limit: int
) -> list[MembershipEvent]:
    active_member(session, circle_id=circle_id, user=user)
    return list(
        session.scalars(
            select(MembershipEvent)
            .where(MembershipEvent.circle_id == circle_id, MembershipEvent.seq > after)
            .order_by(MembershipEvent.seq)
            .limit(limit)
        )
    )


def _size(session: Session, circle_id: uuid.UUID) -> int:
    """The log's size now: the newest event's seq + 1 (the primary key's last entry)."""
    newest = session.scalar(
        select(func.max(MembershipEvent.seq)).where(MembershipEvent.circle_id == circle_id)
    )
    return 0 if newest is None else int(newest) + 1


def _answer(
    session: Session, circle_id: uuid.UUID, size: int, ask: Callable[[merkle.NodeTree], T]
) -> T:
    """``ask`` a tree of ``size`` leaves, reading only the stored nodes it needs: O(log n)
    for a head, O(log² n) at most for a proof, in one primary-key ``IN``."""
    needed = {
        node_key(level, position): (level, position)
        for level, position in merkle.nodes_needed(size, ask)
    }
    nodes: dict[tuple[int, int], bytes] = {}
    if needed:
        rows = session.execute(
            select(AuditNode.node, AuditNode.hash).where(
                AuditNode.circle_id == circle_id, AuditNode.node.in_(list(needed))
            )
        )
        nodes = {needed[int(key)]: bytes(h) for key, h in rows}
    return ask(merkle.NodeTree(size, nodes))


def tree_head(
    session: Session, settings: Settings, *, circle_id: uuid.UUID, user: User
) -> SignedHead:
    active_member(session, circle_id=circle_id, user=user)
    size = _size(session, circle_id)
    root = _answer(session, circle_id, size, lambda tree: tree.root())
    head = TreeHead(circle_id=circle_id, size=size, root=root, at=utcnow().strftime(EVENT_TIME))
    key = signing.active_key(session, settings)
    return SignedHead(head, head.sign(key.signing_key), key.key_id, key.public_key)


def consistency_proof(
    session: Session, *, circle_id: uuid.UUID, user: User, first: int, second: int
) -> list[bytes]:
    active_member(session, circle_id=circle_id, user=user)
    if not 0 <= first <= second <= _size(session, circle_id):
        raise ProofRangeInvalid()
    return _answer(session, circle_id, second, lambda tree: tree.consistency_proof(first))


def inclusion_proof(
    session: Session, *, circle_id: uuid.UUID, user: User, index: int, size: int
) -> tuple[bytes, list[bytes]]:
    active_member(session, circle_id=circle_id, user=user)
    if not 0 <= index < size <= _size(session, circle_id):
        raise ProofRangeInvalid()
    return _answer(
        session, circle_id, size, lambda tree: (tree.node(0, index), tree.inclusion_proof(index))
    )
