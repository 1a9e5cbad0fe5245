"""Circles: create, read, confirm a pending member, change a role."""

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles import events
from app.circles.access import active_member, circle_admin
from app.circles.models import (
    Circle,
    EpochKey,
    KeyRecordRow,
    Membership,
    MembershipEvent,
    Wrap,
)
from app.circles.records import (
    ActiveMember,
    accept_record,
    active_members,
    identity_of,
    parse_record,
    user_fingerprint,
)
from app.circles.schemas import CircleCreateRequest, ConfirmRequest, RoleRequest
from app.crypto import CryptoError, b64encode
from app.crypto.circles import KeyRecord, check_successor
from app.db import utcnow
from app.errors import (
    CircleExists,
    InvalidRecord,
    LastOwner,
    MemberNotFound,
    OwnerRequired,
    RotationDue,
    WrongMemberState,
)


def create_circle(session: Session, *, actor: User, request: CircleCreateRequest) -> Circle:
    """Epoch 0: the creator's signed first record, their wrap and the encrypted name."""
    record = parse_record(request)
    if record.circle_id != request.circle_id or record.signer != actor.username:
        raise InvalidRecord("the record names another circle or signer")
    try:
        check_successor(None, record)
        if record.members[0].fp != user_fingerprint(actor):
            raise InvalidRecord("the record lists a key that is not yours")
        record.verify_signature(request.signature, identity_of(actor))
    except CryptoError as exc:
        raise InvalidRecord(str(exc)) from exc
    if session.get(Circle, request.circle_id) is not None:
        raise CircleExists()
    now = utcnow()
    circle = Circle(
        id=request.circle_id,
        epoch=0,
        record_seq=0,
        event_seq=-1,
        rotation_due=False,
        meta_epoch=0,
        meta_ciphertext=request.meta,
        entry_seq=0,
        change_seq=0,
        entry_ttl_days=730,
        created_at=now,
    )
    session.add(circle)
    try:
        session.flush()
    except IntegrityError as exc:
        raise CircleExists() from exc
    session.add_all(
        [
            Membership(
                circle_id=circle.id,
                user_id=actor.id,
                role="owner",
                status="active",
                created_at=now,
                updated_at=now,
            ),
            KeyRecordRow(
                circle_id=circle.id,
                seq=0,
                epoch=0,
                record=record.to_bytes(),
                signature=request.signature,
                signer_id=actor.id,
                created_at=now,
            ),
            EpochKey(
                circle_id=circle.id,
                epoch=0,
                key_id=record.key_id,
                prev_key_box=None,
                created_at=now,
            ),
            Wrap(circle_id=circle.id, epoch=0, user_id=actor.id, wrap=request.wrap),
        ]
    )
    session.flush()
    events.append(
        session,
        circle_id=circle.id,
        kind="circle_created",
        actor=actor.username,
        details={"record_seq": 0, "epoch": 0, "record_hash": b64encode(record.hash())},
    )
    return circle


@dataclass(frozen=True)
class MyCircle:
    circle: Circle
    membership: Membership


def list_circles(session: Session, *, user: User, only: uuid.UUID | None = None) -> list[MyCircle]:
    """The user's circles (pending too); a deleted one still shows to its active members,
    with its tombstone, so their clients can say it was deleted and by whom."""
    query = (
        select(Circle, Membership)
        .join(Membership, Membership.circle_id == Circle.id)
        .where(Membership.user_id == user.id, Membership.status.in_(("active", "pending")))
        .order_by(Membership.created_at)
    )
    if only is not None:
        query = query.where(Circle.id == only)
    rows = session.execute(query).all()
    return [MyCircle(circle, member) for circle, member in rows]


def get_circle(session: Session, *, circle_id: uuid.UUID, user: User) -> MyCircle:
    circle, member = active_member(session, circle_id=circle_id, user=user)
    return MyCircle(circle, member)


@dataclass(frozen=True)
class MemberRow:
    username: str
    x25519_public: bytes
    ed25519_public: bytes
    x25519_signature: bytes
    role: str
    status: str
    departure: bytes | None
    departure_signature: bytes | None
    account_deleted: bool


def list_members(session: Session, *, circle_id: uuid.UUID, user: User) -> list[MemberRow]:
    """Every membership of the circle (any status), with public keys; columns only, since
    circles reach 10,000 members."""
    active_member(session, circle_id=circle_id, user=user)
    rows = session.execute(
        select(
            User.username,
            User.x25519_public,
            User.ed25519_public,
            User.x25519_signature,
            Membership.role,
            Membership.status,
            Membership.departure,
            Membership.departure_signature,
            User.deleted_at.is_not(None),
        )
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.circle_id == circle_id)
        .order_by(User.username)
    ).all()
    return [MemberRow(*row) for row in rows]


def list_records(
    session: Session, *, circle_id: uuid.UUID, user: User, after: int
) -> list[tuple[KeyRecordRow, User]]:
    active_member(session, circle_id=circle_id, user=user)
    rows = session.execute(
        select(KeyRecordRow, User)
        .join(User, User.id == KeyRecordRow.signer_id)
        .where(KeyRecordRow.circle_id == circle_id, KeyRecordRow.seq > after)
        .order_by(KeyRecordRow.seq)
    ).all()
    return [(r, u) for r, u in rows]


def list_keys(
    session: Session, *, circle_id: uuid.UUID, user: User
) -> list[tuple[EpochKey, bytes | None]]:
    """Every epoch's key id and previous-key box, with the caller's own wrap where they have one."""
    active_member(session, circle_id=circle_id, user=user)
    rows = session.execute(
        select(EpochKey, Wrap.wrap)
        .outerjoin(
            Wrap,
            (Wrap.circle_id == EpochKey.circle_id)
            & (Wrap.epoch == EpochKey.epoch)
            & (Wrap.user_id == user.id),
        )
        .where(EpochKey.circle_id == circle_id)
        .order_by(EpochKey.epoch)
    ).all()
    return [(key, wrap) for key, wrap in rows]


def list_events(
    session: Session, *, circle_id: uuid.UUID, user: User, after: int
) -> list[MembershipEvent]:
    active_member(session, circle_id=circle_id, user=user)
    return list(
        session.scalars(
            select(MembershipEvent)
            .where(MembershipEvent.circle_id == circle_id, MembershipEvent.seq > after)
            .order_by(MembershipEvent.seq)
        )
    )


def target_membership(
    session: Session, *, circle: Circle, username: str
) -> tuple[User, Membership]:
    row = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.circle_id == circle.id, User.username == username)
    ).first()
    if row is None:
        raise MemberNotFound()
    return row[0], row[1]


def confirm_member(
    session: Session,
    *,
    circle_id: uuid.UUID,
    actor: User,
    username: str,
    request: ConfirmRequest,
) -> tuple[Membership, KeyRecord]:
    """Pending → active: a record adding them (same epoch) and the current key sealed to them."""
    circle, _ = circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    if circle.rotation_due:
        raise RotationDue()
    user, member = target_membership(session, circle=circle, username=username)
    if member.status != "pending":
        raise WrongMemberState()
    members = {name: (m.fingerprint, m.role) for name, m in active_members(session, circle).items()}
    members[user.username] = (user_fingerprint(user), member.role)
    record = accept_record(
        session, circle=circle, actor=actor, body=request, epoch=circle.epoch, members=members
    )
    session.add(Wrap(circle_id=circle.id, epoch=circle.epoch, user_id=user.id, wrap=request.wrap))
    member.status = "active"
    member.updated_at = utcnow()
    events.append(
        session,
        circle_id=circle.id,
        kind="member_confirmed",
        actor=actor.username,
        subject=user.username,
        details={
            "role": member.role,
            "record_seq": record.seq,
            "record_hash": b64encode(record.hash()),
            "epoch": record.epoch,
        },
    )
    return member, record


def _owners(members: dict[str, ActiveMember]) -> int:
    return sum(1 for m in members.values() if m.role == "owner")


def change_role(
    session: Session, *, circle_id: uuid.UUID, actor: User, username: str, request: RoleRequest
) -> Membership:
    """Promote or demote; owners alone make or unmake owners; the last owner stays."""
    circle, actor_member = circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    if circle.rotation_due:
        raise RotationDue()
    user, member = target_membership(session, circle=circle, username=username)
    if member.status != "active":
        raise WrongMemberState()
    if "owner" in (member.role, request.role) and actor_member.role != "owner":
        raise OwnerRequired()
    current = active_members(session, circle)
    if member.role == "owner" and request.role != "owner" and _owners(current) <= 1:
        raise LastOwner()
    members = {name: (m.fingerprint, m.role) for name, m in current.items()}
    members[user.username] = (user_fingerprint(user), request.role)
    record = accept_record(
        session, circle=circle, actor=actor, body=request, epoch=circle.epoch, members=members
    )
    previous_role, member.role = member.role, request.role
    member.updated_at = utcnow()
    events.append(
        session,
        circle_id=circle.id,
        kind="role_changed",
        actor=actor.username,
        subject=user.username,
        details={
            "from": previous_role,
            "to": request.role,
            "record_seq": record.seq,
            "record_hash": b64encode(record.hash()),
        },
    )
    return member
