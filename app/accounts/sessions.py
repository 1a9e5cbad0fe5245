"""Seeing and ending sessions: by their user (after re-authenticating) and by the operator."""

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.credentials import check_credential, log_authentication
from app.accounts.models import AuthSession, User
from app.db import utcnow
from app.errors import UserNotFound
from app.settings import Settings


def end_sessions(
    session: Session,
    *,
    user: User | None,
    keep: AuthSession | None = None,
    only: list[uuid.UUID] | None = None,
) -> int:
    """Revoke live sessions of ``user`` (every user's when None); return how many ended."""
    stmt = update(AuthSession).where(AuthSession.revoked_at.is_(None)).values(revoked_at=utcnow())
    if user is not None:
        stmt = stmt.where(AuthSession.user_id == user.id)
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep.id)
    if only is not None:
        stmt = stmt.where(AuthSession.id.in_(only))
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def active_sessions(session: Session, settings: Settings, *, user: User) -> list[AuthSession]:
    """The user's sessions that could still authenticate, oldest first."""
    now = utcnow()
    idle_since = now - timedelta(seconds=settings.session_idle_seconds)
    return list(
        session.scalars(
            select(AuthSession)
            .where(
                AuthSession.user_id == user.id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
                AuthSession.last_used_at > idle_since,
            )
            .order_by(AuthSession.created_at, AuthSession.id)
        )
    )


def end_own_sessions(
    session: Session,
    settings: Settings,
    *,
    current: AuthSession,
    auth_key: bytes,
    only: list[uuid.UUID] | None,
    address: str,
) -> int:
    """End the named sessions (or every other one) after checking the passphrase-derived key
    again (ASVS 7.5.2): a stolen token alone cannot lock its owner out."""
    user = check_credential(
        session,
        settings,
        operation="sessions_end",
        username=current.user.username,
        address=address,
        secret=auth_key,
    )
    keep = current if only is None else None
    ended = end_sessions(session, user=user, keep=keep, only=only)
    log_authentication(
        "sessions_end",
        outcome="success",
        user=user.username,
        address=address,
        factor="auth_key",
        sessions_ended=ended,
    )
    return ended


def end_sessions_by_operator(session: Session, *, username: str | None) -> int:
    """The operator ends one user's sessions, or everyone's (ASVS 7.4.5)."""
    user = None
    if username is not None:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise UserNotFound()
    ended = end_sessions(session, user=user)
    log_authentication(
        "sessions_end",
        outcome="success",
        user=username,
        address=None,
        factor="operator",
        sessions_ended=ended,
    )
    return ended
