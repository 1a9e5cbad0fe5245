"""Moderation keys (docs/protocol.md, the moderation key): every generation is made by an
admin's client for exactly the circle's current admins, signed, and chained to the one before.

The server checks the chain, the signer, the admin set and the wraps, then stores bytes and
appends an audit record; it never holds a private moderation key.
"""

import hmac
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles import events
from app.circles.access import active_member, circle_admin
from app.circles.records import active_members, identity_of
from app.crypto import CryptoError
from app.crypto.circles import ADMIN_ROLES
from app.crypto.encoding import b64encode
from app.crypto.moderation import ModerationKeyRecord, check_moderation_successor
from app.db import utcnow
from app.errors import InvalidModerationKey, ModerationKeyConflict, ModeratorSetMismatch
from app.moderation.models import ModerationKeyRow, ModerationWrap
from app.moderation.schemas import ModerationKeyCreate

__all__ = ["KeyView", "create_key", "latest_key", "list_keys"]


@dataclass(frozen=True)
class KeyView:
    row: ModerationKeyRow
    signer: str
    wrap: bytes | None


def list_keys(session: Session, *, circle_id: uuid.UUID, user: User) -> list[KeyView]:
    """Every generation (members need the records to encrypt reports; admins their wraps)."""
    active_member(session, circle_id=circle_id, user=user)
    rows = session.execute(
        select(ModerationKeyRow, User.username, ModerationWrap.wrap)
        .join(User, User.id == ModerationKeyRow.signer_id)
        .outerjoin(
            ModerationWrap,
            (ModerationWrap.circle_id == ModerationKeyRow.circle_id)
            & (ModerationWrap.generation == ModerationKeyRow.generation)
            & (ModerationWrap.user_id == user.id),
        )
        .where(ModerationKeyRow.circle_id == circle_id)
        .order_by(ModerationKeyRow.generation)
    ).all()
    return [KeyView(row, signer, wrap) for row, signer, wrap in rows]


def latest_key(session: Session, circle_id: uuid.UUID) -> ModerationKeyRow | None:
    return session.scalars(
        select(ModerationKeyRow)
        .where(ModerationKeyRow.circle_id == circle_id)
        .order_by(ModerationKeyRow.generation.desc())
        .limit(1)
    ).first()


def create_key(
    session: Session, *, circle_id: uuid.UUID, actor: User, request: ModerationKeyCreate
) -> ModerationKeyRow:
    """Accept generation ``latest + 1`` made for exactly the circle's current admins."""
    circle, _ = circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    latest = latest_key(session, circle.id)
    expected = 0 if latest is None else latest.generation + 1
    if request.generation != expected:
        raise ModerationKeyConflict()
    try:
        record = ModerationKeyRecord.parse(request.record.encode("utf-8"))
        record.verify_signature(request.signature, identity_of(actor))
    except CryptoError as exc:
        raise InvalidModerationKey(str(exc)) from exc
    previous = None if latest is None else ModerationKeyRecord.parse(latest.record)
    previous_hash = None if previous is None else previous.hash()
    try:
        check_moderation_successor(previous, record)
    except CryptoError as exc:
        raise InvalidModerationKey(str(exc)) from exc
    used = session.scalars(
        select(ModerationKeyRow.public_key).where(ModerationKeyRow.circle_id == circle.id)
    )
    if any(hmac.compare_digest(key, record.public_key) for key in used):
        raise InvalidModerationKey("a new generation must have a new key")
    if (
        record.circle_id != circle.id
        or record.generation != request.generation
        or record.signer != actor.username
        or record.record_seq > circle.record_seq
        or (previous_hash is None) != (record.prev is None)
        or (
            previous_hash is not None and not hmac.compare_digest(previous_hash, record.prev or b"")
        )
        or (latest is None) != (request.prev_key_box is None)
    ):
        raise InvalidModerationKey()
    admins = {
        name: member
        for name, member in active_members(session, circle).items()
        if member.role in ADMIN_ROLES
    }
    named = {a.user: a.fp for a in record.admins}
    if named != {name: m.fingerprint for name, m in admins.items()}:
        raise ModeratorSetMismatch()
    wraps = {w.username: w.wrap for w in request.wraps}
    if len(wraps) != len(request.wraps) or set(wraps) != set(admins):
        raise ModeratorSetMismatch()
    row = ModerationKeyRow(
        circle_id=circle.id,
        generation=record.generation,
        public_key=record.public_key,
        record=request.record.encode("utf-8"),
        signature=request.signature,
        signer_id=actor.id,
        prev_key_box=request.prev_key_box,
        created_at=utcnow(),
    )
    session.add(row)
    session.add_all(
        ModerationWrap(
            circle_id=circle.id,
            generation=record.generation,
            user_id=admins[name].user_id,
            wrap=wrap,
        )
        for name, wrap in wraps.items()
    )
    events.append(
        session,
        circle_id=circle.id,
        kind="moderation_key_rotated",
        actor=actor.username,
        details={
            "generation": record.generation,
            "record_hash": b64encode(record.hash()),
            "signature": b64encode(request.signature),
            "admins": len(admins),
        },
    )
    session.flush()
    return row
