"""Invites: created by admins with a client-made secret, redeemed into a pending membership."""

import hmac
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles import events
from app.circles.access import circle_admin
from app.circles.models import Circle, Membership
from app.crypto.circles import invite_secret_hash
from app.db import utcnow
from app.errors import (
    AlreadyMember,
    CircleNotFound,
    Conflict,
    InviteExpired,
    InviteNotFound,
    InviteRevoked,
    InviteUsedUp,
)
from app.invites.models import InviteRow
from app.invites.schemas import InviteCreateRequest


def create_invite(
    session: Session, *, circle_id: uuid.UUID, actor: User, request: InviteCreateRequest
) -> InviteRow:
    circle, _ = circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    if session.get(InviteRow, request.invite_id) is not None:
        raise Conflict("an invite with this id exists")
    now = utcnow()
    invite = InviteRow(
        id=request.invite_id,
        circle_id=circle.id,
        secret_hash=request.secret_hash,
        created_by=actor.id,
        role=request.role,
        max_uses=request.max_uses,
        uses=0,
        expires_at=now + timedelta(days=request.expires_in_days),
        revoked_at=None,
        created_at=now,
    )
    session.add(invite)
    session.flush()
    events.append(
        session,
        circle_id=circle.id,
        kind="invite_created",
        actor=actor.username,
        details={"invite_id": invite.id.hex, "role": invite.role, "max_uses": invite.max_uses},
    )
    return invite


def list_invites(
    session: Session, *, circle_id: uuid.UUID, actor: User
) -> list[tuple[InviteRow, User]]:
    circle_admin(session, circle_id=circle_id, user=actor)
    rows = session.execute(
        select(InviteRow, User)
        .join(User, User.id == InviteRow.created_by)
        .where(InviteRow.circle_id == circle_id)
        .order_by(InviteRow.created_at)
    ).all()
    return [(i, u) for i, u in rows]


def revoke_invite(
    session: Session, *, circle_id: uuid.UUID, invite_id: uuid.UUID, actor: User
) -> InviteRow:
    circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    invite = session.get(InviteRow, invite_id)
    if invite is None or invite.circle_id != circle_id:
        raise InviteNotFound()
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        events.append(
            session,
            circle_id=circle_id,
            kind="invite_revoked",
            actor=actor.username,
            details={"invite_id": invite.id.hex},
        )
    return invite


def _valid_invite(
    session: Session,
    *,
    circle_id: uuid.UUID,
    invite_id: uuid.UUID,
    secret: bytes,
    lock: bool = True,
) -> InviteRow:
    """The invite, if the secret is right and it is neither revoked nor expired (in that
    order); ``lock``: the circle row is locked, so uses and signups are counted one at a
    time."""
    circle = session.get(Circle, circle_id, with_for_update=lock)
    invite = session.get(InviteRow, invite_id)
    if circle is None or invite is None or invite.circle_id != circle_id:
        raise InviteNotFound()
    if not hmac.compare_digest(invite.secret_hash, invite_secret_hash(secret)):
        raise InviteNotFound()
    if invite.revoked_at is not None:
        raise InviteRevoked()
    if utcnow() >= invite.expires_at:
        raise InviteExpired()
    return invite


def admit_signup(
    session: Session,
    *,
    circle_id: uuid.UUID,
    invite_id: uuid.UUID,
    secret: bytes,
    spend: bool = True,
) -> None:
    """An account may be made with this invite (``BACKCHANNEL_REGISTRATION=invite``);
    ``spend``: spend one of its signups.

    Making the account does not redeem the invite (the new account redeems it as any
    account would, and the joiner's client checks the inviter then); it counts one of the
    invite's ``max_uses`` signups, so one invite cannot mint accounts without bound."""
    invite = _valid_invite(
        session, circle_id=circle_id, invite_id=invite_id, secret=secret, lock=spend
    )
    if invite.signups >= invite.max_uses:
        raise InviteUsedUp()
    if spend:
        invite.signups += 1


def redeem_invite(
    session: Session, *, circle_id: uuid.UUID, invite_id: uuid.UUID, secret: bytes, actor: User
) -> tuple[Membership, User]:
    """Check secret, revocation, expiry and uses (in that order); the joiner becomes pending."""
    invite = _valid_invite(session, circle_id=circle_id, invite_id=invite_id, secret=secret)
    # Before the uses: someone who redeems their own single-use invite again is told they
    # are in (or waiting), not that the invite is used up.
    member = session.get(Membership, (circle_id, actor.id))
    if member is not None and member.status in ("active", "pending"):
        raise AlreadyMember()
    if invite.uses >= invite.max_uses:
        raise InviteUsedUp()
    now = utcnow()
    if member is None:
        member = Membership(circle_id=circle_id, user_id=actor.id, created_at=now)
        session.add(member)
    member.role = invite.role
    member.status = "pending"
    member.departure = member.departure_signature = None  # an old departure must not replay
    member.invite_id = invite.id
    member.updated_at = now
    invite.uses += 1
    inviter = session.get(User, invite.created_by)
    if inviter is None:
        raise CircleNotFound()
    session.flush()
    events.append(
        session,
        circle_id=circle_id,
        kind="invite_redeemed",
        actor=actor.username,
        subject=actor.username,
        details={"invite_id": invite.id.hex},
    )
    return member, inviter
