"""Removal, leaving and key rotation: the use cases that change who holds the circle key."""

import uuid
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles import events
from app.circles.access import circle_admin, membership
from app.circles.models import Circle, EpochKey, Membership, Wrap
from app.circles.records import ActiveMember, accept_record, active_members, identity_of
from app.circles.schemas import LeaveRequest, Rotation
from app.circles.service import _owners, target_membership
from app.crypto import CryptoError, b64encode
from app.crypto.circles import verify_leave
from app.db import utcnow
from app.errors import (
    CircleChanged,
    DepartureRequired,
    InvalidDeparture,
    LastOwner,
    MemberSetMismatch,
    NotAMember,
    OwnerRequired,
    RotationRequired,
    WrongMemberState,
)
from app.sealed import service as sealed

_WRAPS = cast(Table, Wrap.__table__)


def _insert_wraps(session: Session, rows: list[tuple[uuid.UUID, int, uuid.UUID, bytes]]) -> None:
    """One statement for every wrap of an epoch (10,000 for a large circle): COPY on
    PostgreSQL, a driver executemany on SQLite; both inside the use case's transaction."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy("COPY wraps (circle_id, epoch, user_id, wrap) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    # A driver-level executemany: SQLAlchemy's per-row parameter processing for a Core
    # insert cost three times the insert itself. The ids are bound exactly as the column
    # type binds them.
    bind = _WRAPS.c.user_id.type.bind_processor(connection.dialect)

    def as_id(value: uuid.UUID) -> object:
        return value if bind is None else bind(value)

    connection.exec_driver_sql(
        "INSERT INTO wraps (circle_id, epoch, user_id, wrap) VALUES (?, ?, ?, ?)",
        [
            (as_id(circle_id), epoch, as_id(user_id), wrap)
            for circle_id, epoch, user_id, wrap in rows
        ],
    )


def _rotate(
    session: Session,
    *,
    circle: Circle,
    actor: User,
    rotation: Rotation,
    members: dict[str, ActiveMember],
) -> int:
    """Accept epoch n+1 only if its record and wraps cover exactly ``members``."""
    wrap_names = [w.username for w in rotation.wraps]
    if len(set(wrap_names)) != len(wrap_names) or set(wrap_names) != set(members):
        raise MemberSetMismatch("the wraps must cover exactly the remaining active members")
    record = accept_record(
        session,
        circle=circle,
        actor=actor,
        body=rotation,
        epoch=circle.epoch + 1,
        members={name: (m.fingerprint, m.role) for name, m in members.items()},
    )
    session.add(
        EpochKey(
            circle_id=circle.id,
            epoch=record.epoch,
            key_id=record.key_id,
            prev_key_box=rotation.prev_key_box,
            created_at=utcnow(),
        )
    )
    session.flush()
    _insert_wraps(
        session,
        [(circle.id, record.epoch, members[w.username].user_id, w.wrap) for w in rotation.wraps],
    )
    if rotation.meta is not None:
        circle.meta_ciphertext = rotation.meta
        circle.meta_epoch = record.epoch
    circle.rotation_due = False
    events.append(
        session,
        circle_id=circle.id,
        kind="key_rotated",
        actor=actor.username,
        details={
            "epoch": record.epoch,
            "record_seq": record.seq,
            "record_hash": b64encode(record.hash()),
            "members": len(members),
        },
    )
    return record.epoch


def remove_member(
    session: Session,
    *,
    circle_id: uuid.UUID,
    actor: User,
    username: str,
    rotation: Rotation | None,
) -> tuple[Membership, int]:
    """Remove someone; an active member's removal rotates the key in the same transaction."""
    circle, actor_member = circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    user, member = target_membership(session, circle=circle, username=username)
    if user.id == actor.id:
        raise WrongMemberState("use leave to remove yourself")
    if member.status not in ("pending", "active"):
        raise WrongMemberState()
    if member.role == "owner" and actor_member.role != "owner":
        raise OwnerRequired()
    was = member.status
    member.status = "removed"
    member.updated_at = utcnow()
    sealed.void_departed(session, circle_id=circle.id, user_id=user.id)
    epoch = circle.epoch
    remaining = None
    if was == "active":
        if rotation is None:
            raise RotationRequired()
        remaining = active_members(session, circle)
        remaining.pop(user.username, None)
        if _owners(remaining) < 1:
            raise LastOwner()
    session.flush()
    events.append(
        session,
        circle_id=circle.id,
        kind="member_removed",
        actor=actor.username,
        subject=user.username,
        details={"was": was},
    )
    if remaining is not None and rotation is not None:
        epoch = _rotate(session, circle=circle, actor=actor, rotation=rotation, members=remaining)
    return member, epoch


def leave_circle(
    session: Session, *, circle_id: uuid.UUID, actor: User, request: LeaveRequest | None
) -> tuple[Membership, Circle]:
    """Leave (or withdraw a pending request). An active member signs their departure.

    Until an admin rotates, the leaver's old key opens only what the server no longer
    hands them.
    """
    circle, member = membership(session, circle_id=circle_id, user=actor, lock=True)
    if member.status not in ("pending", "active"):
        raise NotAMember()
    sole_owner = member.role == "owner" and _owners(active_members(session, circle)) <= 1
    if member.status == "active" and sole_owner:
        raise LastOwner()
    was = member.status
    if was == "active":
        if request is None:
            raise DepartureRequired()
        statement = request.statement.encode("utf-8")
        try:
            seq = verify_leave(
                statement,
                request.signature,
                circle_id=circle.id,
                user=actor.username,
                signer=identity_of(actor),
            )
        except CryptoError as exc:
            raise InvalidDeparture(str(exc)) from exc
        if seq != circle.record_seq:
            raise CircleChanged()
        member.departure, member.departure_signature = statement, request.signature
        circle.rotation_due = True
    member.status = "left"
    member.updated_at = utcnow()
    sealed.void_departed(session, circle_id=circle.id, user_id=actor.id)
    events.append(
        session,
        circle_id=circle.id,
        kind="member_left",
        actor=actor.username,
        subject=actor.username,
        details={"was": was}
        if request is None or was != "active"
        else {"was": was, "departure_signature": b64encode(request.signature)},
    )
    return member, circle


def rotate_key(session: Session, *, circle_id: uuid.UUID, actor: User, rotation: Rotation) -> int:
    """A rotation with no removal: after someone left, or whenever an admin wants one."""
    circle, _ = circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    return _rotate(
        session,
        circle=circle,
        actor=actor,
        rotation=rotation,
        members=active_members(session, circle),
    )
