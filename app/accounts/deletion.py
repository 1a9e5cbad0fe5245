"""Deleting an account (docs/api.md, docs/threat-model.md "Deleting an account").

The person proves the passphrase again and chooses what happens to what they posted:
``retract`` wipes every warning they wrote, in every circle, for everyone (their
corroborations stay); ``keep`` leaves them, and members' clients show them as from
"a former member".
They leave every circle with a signed departure (as a leave does), so admins' clients
rotate them out exactly as for any leaver. The ``users`` row stays as a tombstone with no
secret in it: the name is never given out again, and the public keys stay so the warnings
they left, and the key records they signed, still verify.
"""

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.credentials import check_credential, log_authentication
from app.accounts.models import AuthSession, User
from app.accounts.passwords import hash_secret
from app.accounts.schemas import AccountDeleteRequest
from app.accounts.sessions import end_sessions
from app.circles import events, rotation
from app.circles.access import active_member
from app.circles.models import Circle, Membership
from app.circles.schemas import LeaveRequest
from app.crypto.bundle import BUNDLE_BYTES
from app.db import utcnow
from app.entries.models import Entry
from app.entries.service import wipe_entry
from app.errors import DepartureRequired, LastOwner
from app.settings import Settings


@dataclass(frozen=True)
class AccountDeleted:
    circles_left: int
    warnings_retracted: int


def _retract_all(session: Session, *, circle_id: uuid.UUID, user: User) -> int:
    """Wipe the person's live warnings in one circle, under its lock."""
    circle, _ = active_member(session, circle_id=circle_id, user=user, lock=True)
    now = utcnow()
    wiped = 0
    for entry in session.scalars(
        select(Entry).where(
            Entry.circle_id == circle.id,
            Entry.author_id == user.id,
            Entry.status.in_(("live", "hidden")),
        )
    ):
        wipe_entry(session, circle, entry, status="retracted", now=now)
        events.append(
            session,
            circle_id=circle.id,
            kind="entry_retracted",
            actor="" if entry.anonymous else user.username,  # never name an anonymous author
            details={"entry_id": entry.id.hex, "account_deleted": True},
        )
        wiped += 1
    return wiped


def delete_account(
    session: Session,
    settings: Settings,
    *,
    current: AuthSession,
    request: AccountDeleteRequest,
    address: str,
) -> AccountDeleted:
    user = check_credential(
        session,
        settings,
        operation="account_delete",
        username=current.user.username,
        address=address,
        secret=request.auth_key,
    )
    rows = session.execute(
        select(Membership, Circle)
        .join(Circle, Circle.id == Membership.circle_id)
        .where(
            Membership.user_id == user.id,
            Membership.status.in_(("active", "pending")),
            Circle.deleted_at.is_(None),
        )
        .order_by(Circle.id)  # one lock order for every deletion
    ).all()
    departures = {d.circle_id: d for d in request.departures}
    for member, circle in rows:
        if member.status == "active" and member.role == "owner":
            owners = session.scalar(
                select(Membership.user_id)
                .where(
                    Membership.circle_id == circle.id,
                    Membership.status == "active",
                    Membership.role == "owner",
                    Membership.user_id != user.id,
                )
                .limit(1)
            )
            if owners is None:
                raise LastOwner()
        if member.status == "active" and circle.id not in departures:
            raise DepartureRequired()
    retracted = 0
    for member, circle in rows:
        if member.status == "active":
            if request.warnings == "retract":
                retracted += _retract_all(session, circle_id=circle.id, user=user)
            d = departures[circle.id]
            leave = LeaveRequest(statement=d.statement, signature=d.signature)
            rotation.leave_circle(session, circle_id=circle.id, actor=user, request=leave)
        else:
            rotation.leave_circle(session, circle_id=circle.id, actor=user, request=None)
    user.deleted_at = utcnow()
    # No secret is left: a random, never-shown secret's hash, and empty bundles.
    user.auth_hash = hash_secret(settings, secrets.token_bytes(32))
    user.recovery_auth_hash = user.auth_hash
    user.key_bundle = user.recovery_bundle = bytes(BUNDLE_BYTES)
    user.credentials_changed_at = user.deleted_at
    ended = end_sessions(session, user=user)
    log_authentication(
        "account_delete",
        outcome="success",
        user=user.username,
        address=address,
        factor="auth_key",
        sessions_ended=ended,
    )
    return AccountDeleted(circles_left=len(rows), warnings_retracted=retracted)
