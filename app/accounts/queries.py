"""Core statements for the session check every authenticated request makes (issue 19): the
session and its account in one prebuilt query, read without ORM objects. The rule (revoked,
expired, idle; when a use is recorded) stays in ``service``; a test holds this to the ORM
path it replaced (tests/accounts/test_session_queries.py)."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from app.accounts.models import AuthSession, User
from app.direct import Direct


@dataclass(slots=True, frozen=True)
class Account:
    """The caller's account as the hot routes need it (the feed, posts, ``GET /v1/me``):
    public keys and public KDF parameters, never a credential hash."""

    id: uuid.UUID
    username: str
    kdf_salt: bytes
    kdf_opslimit: int
    kdf_memlimit: int
    x25519_public: bytes
    ed25519_public: bytes
    x25519_signature: bytes
    key_bundle: bytes
    created_at: datetime
    deleted_at: datetime | None


@dataclass(slots=True, frozen=True)
class SignedIn:
    """A session row and its account, as ``service.authenticate`` decides on them."""

    id: uuid.UUID
    user_id: uuid.UUID
    token_hash: bytes
    last_used_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    user: Account


_ACCOUNT_COLUMNS = (
    User.id,
    User.username,
    User.kdf_salt,
    User.kdf_opslimit,
    User.kdf_memlimit,
    User.x25519_public,
    User.ed25519_public,
    User.x25519_signature,
    User.key_bundle,
    User.created_at,
    User.deleted_at,
)
_SESSION_COLUMNS = (
    AuthSession.id,
    AuthSession.user_id,
    AuthSession.token_hash,
    AuthSession.last_used_at,
    AuthSession.expires_at,
    AuthSession.revoked_at,
)
_SPLIT = len(_SESSION_COLUMNS)

# Built once: every authenticated request runs it, and building it costs more than running it.
_SESSION_BY_TOKEN = Direct(
    select(*_SESSION_COLUMNS, *_ACCOUNT_COLUMNS)
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.token_hash == bindparam("digest"))
)
_SESSIONS: Table = AuthSession.__table__  # type: ignore[assignment]
_RECORD_USE = Direct(
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("session_id"), _SESSIONS.c.last_used_at < bindparam("hour"))
    .values(last_used_at=bindparam("hour"))
)


def session_by_digest(session: Session, digest: bytes) -> SignedIn | None:
    """The session whose token hashes to ``digest``, with its account, or None: on the
    request's own transaction, straight on the driver (``app.direct``), no ORM object."""
    row: Any = _SESSION_BY_TOKEN.one_or_none(session, {"digest": digest})
    if row is None:
        return None
    sid, user_id, digest_, last_used_at, expires_at, revoked_at = row[:_SPLIT]
    return SignedIn(
        sid, user_id, digest_, last_used_at, expires_at, revoked_at, Account(*row[_SPLIT:])
    )


def record_use(session: Session, *, session_id: uuid.UUID, hour: datetime) -> None:
    """Set the session's last use to ``hour`` unless it is already that late."""
    _RECORD_USE.execute(session, {"session_id": session_id, "hour": hour})
