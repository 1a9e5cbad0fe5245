"""Server-side checks of signed key records: defence in depth, clients verify again."""

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.queries import Account
from app.circles.models import Circle, KeyRecordRow, Membership
from app.circles.schemas import SignedRecord
from app.crypto import CryptoError, PublicIdentity, fingerprint
from app.crypto.circles import KeyRecord, RecordMember, verify_record
from app.db import utcnow
from app.errors import CircleChanged, InvalidRecord, MemberSetMismatch


def identity_of(user: User | Account) -> PublicIdentity:
    return PublicIdentity(
        x25519_public=user.x25519_public,
        ed25519_public=user.ed25519_public,
        x25519_signature=user.x25519_signature,
    )


def user_fingerprint(user: User) -> str:
    return fingerprint(user.ed25519_public, user.x25519_public)


@dataclass(frozen=True)
class ActiveMember:
    """What membership checks need, without loading whole ORM rows (circles reach 10,000)."""

    user_id: uuid.UUID
    username: str
    role: str
    fingerprint: str


def active_members(session: Session, circle: Circle) -> dict[str, ActiveMember]:
    rows = session.execute(
        select(User.id, User.username, User.ed25519_public, User.x25519_public, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.circle_id == circle.id, Membership.status == "active")
    ).all()
    return {
        name: ActiveMember(user_id, name, role, fingerprint(ed_pub, x_pub))
        for user_id, name, ed_pub, x_pub, role in rows
    }


def latest_record(session: Session, circle: Circle) -> KeyRecord:
    row = session.get(KeyRecordRow, (circle.id, circle.record_seq))
    assert row is not None, "a circle always has its latest record"
    return KeyRecord.parse(row.record)


def parse_record(body: SignedRecord) -> KeyRecord:
    try:
        return KeyRecord.parse(body.record.encode("utf-8"))
    except CryptoError as exc:
        raise InvalidRecord(str(exc)) from exc


def accept_record(
    session: Session,
    *,
    circle: Circle,
    actor: User,
    body: SignedRecord,
    epoch: int,
    members: dict[str, tuple[str, str]],
) -> KeyRecord:
    """Check that the record is the next one, signed by the actor, listing exactly ``members``
    (username -> (fingerprint, role)).

    The caller holds the circle row's lock, so ``circle.record_seq`` is current.
    """
    record = parse_record(body)
    if record.circle_id != circle.id or record.signer != actor.username:
        raise InvalidRecord("the record names another circle or signer")
    if record.seq != circle.record_seq + 1 or record.epoch != epoch:
        raise CircleChanged()
    try:
        verify_record(latest_record(session, circle), record, body.signature, identity_of(actor))
    except CryptoError as exc:
        raise InvalidRecord(str(exc)) from exc
    expected = {RecordMember(user=name, fp=fp, role=role) for name, (fp, role) in members.items()}
    if set(record.members) != expected:
        raise MemberSetMismatch()
    session.add(
        KeyRecordRow(
            circle_id=circle.id,
            seq=record.seq,
            epoch=record.epoch,
            record=record.to_bytes(),
            signature=body.signature,
            signer_id=actor.id,
            created_at=utcnow(),
        )
    )
    circle.record_seq = record.seq
    circle.epoch = record.epoch
    return record
