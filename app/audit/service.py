"""Audit log reads: records, signed tree heads and proofs, for active members of a circle.

The leaves are the circle's membership events in ``seq`` order (each leaf hash
is stored with the event). A tree head is computed from the stored leaf hashes
and signed on request; it says what this server claims the log is, and clients
check it against the records and against the last head they pinned.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit import signing
from app.circles.access import active_member
from app.circles.models import MembershipEvent
from app.crypto import merkle
from app.crypto.audit import TreeHead
from app.db import utcnow
from app.errors import InvalidRequest
from app.settings import Settings

EVENT_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


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


def _tree(session: Session, circle_id: uuid.UUID) -> merkle.MerkleTree:
    hashes = session.scalars(
        select(MembershipEvent.leaf_hash)
        .where(MembershipEvent.circle_id == circle_id)
        .order_by(MembershipEvent.seq)
    )
    return merkle.MerkleTree.from_leaf_hashes(hashes)


def tree_head(
    session: Session, settings: Settings, *, circle_id: uuid.UUID, user: User
) -> SignedHead:
    active_member(session, circle_id=circle_id, user=user)
    tree = _tree(session, circle_id)
    head = TreeHead(
        circle_id=circle_id, size=tree.size, root=tree.root(), at=utcnow().strftime(EVENT_TIME)
    )
    key = signing.active_key(session, settings)
    return SignedHead(head, head.sign(key.signing_key), key.key_id, key.public_key)


def consistency_proof(
    session: Session, *, circle_id: uuid.UUID, user: User, first: int, second: int
) -> list[bytes]:
    active_member(session, circle_id=circle_id, user=user)
    tree = _tree(session, circle_id)
    if not 0 <= first <= second <= tree.size:
        raise ProofRangeInvalid()
    return tree.consistency_proof(first, second)


def inclusion_proof(
    session: Session, *, circle_id: uuid.UUID, user: User, index: int, size: int
) -> tuple[bytes, list[bytes]]:
    active_member(session, circle_id=circle_id, user=user)
    tree = _tree(session, circle_id)
    if not 0 <= index < size <= tree.size:
        raise ProofRangeInvalid()
    return tree.leaf_hash(index), tree.inclusion_proof(index, size)
