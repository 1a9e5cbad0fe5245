"""Accounts and sessions: registration, login, logout, passphrase change, recovery."""

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts import queries, registration
from app.accounts.credentials import check_credential, log_authentication
from app.accounts.models import AuthSession, User
from app.accounts.passwords import hash_secret
from app.accounts.queries import SignedIn
from app.accounts.schemas import (
    KdfParamsIn,
    PassphraseChangeRequest,
    RecoveryCompleteRequest,
    RegisterRequest,
)
from app.accounts.sessions import end_sessions
from app.accounts.tokens import fake_salt, new_token, token_hash
from app.crypto import BadSignature, PublicIdentity
from app.db import coarse, utcnow
from app.errors import (
    InvalidIdentity,
    InviteRequired,
    KdfParametersRejected,
    NotAuthenticated,
    SessionEnded,
    UsernameTaken,
    UserNotFound,
)
from app.invites.service import admit_signup
from app.settings import Settings

# last_used_at is a whole hour (app/retention.py): it cannot be joined with an anonymous
# post's time, and a session is written at most once an hour, not on every request.


@dataclass(frozen=True)
class KdfAnnouncement:
    opslimit: int
    memlimit: int
    salt: bytes


@dataclass(frozen=True, repr=False)
class NewSession:
    token: str
    record: AuthSession
    user: User


def auth_params(session: Session, settings: Settings, *, username: str) -> KdfAnnouncement:
    """Same shape for every username; unknown ones get a stable salt keyed by the server secret."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return KdfAnnouncement(
            opslimit=settings.kdf_opslimit,
            memlimit=settings.kdf_memlimit,
            salt=fake_salt(settings.server_key, username),
        )
    return KdfAnnouncement(
        opslimit=user.kdf_opslimit, memlimit=user.kdf_memlimit, salt=user.kdf_salt
    )


def _check_kdf(settings: Settings, kdf: KdfParamsIn, user: User | None = None) -> None:
    """New credentials use the server's current parameters (or, for an existing account,
    the ones it already has), so params answers cannot tell accounts apart."""
    allowed = {(settings.kdf_opslimit, settings.kdf_memlimit)}
    if user is not None:
        allowed.add((user.kdf_opslimit, user.kdf_memlimit))
    if (kdf.opslimit, kdf.memlimit) not in allowed:
        raise KdfParametersRejected()


def _end_previous(session: Session, settings: Settings, previous: str | None) -> None:
    """A new login on a device ends the session that device presented (ASVS 7.2.4)."""
    if not previous or len(previous) > 128:
        return
    session.execute(
        update(AuthSession)
        .where(
            AuthSession.token_hash == token_hash(settings.server_key, previous),
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )


def _start_session(
    session: Session,
    settings: Settings,
    user: User,
    *,
    previous: str | None = None,
    device_label: str | None = None,
) -> NewSession:
    _end_previous(session, settings, previous)
    now = utcnow()
    token = new_token()
    record = AuthSession(
        user=user,
        token_hash=token_hash(settings.server_key, token),
        created_at=now,
        last_used_at=coarse(now),
        expires_at=now + timedelta(seconds=settings.session_lifetime_seconds),
        device_label=device_label,
    )
    session.add(record)
    session.flush()
    return NewSession(token=token, record=record, user=user)


def _admit(
    session: Session, settings: Settings, *, request: RegisterRequest, address: str, record: bool
) -> None:
    """Everything that can refuse a registration; ``record``: also spend one of the invite's
    signups and count the account in the limit windows (in ``session``'s transaction)."""
    if settings.registration == "invite":
        if request.invite is None:
            raise InviteRequired()
        admit_signup(
            session,
            circle_id=request.invite.circle_id,
            invite_id=request.invite.invite_id,
            secret=request.invite.secret,
            spend=record,
        )
    # Before the name check, so an address at its limit cannot probe names either.
    registration.admit(session, settings, address=address, record=record)
    if session.scalar(select(User.id).where(User.username == request.username)) is not None:
        raise UsernameTaken()


def register(
    session: Session,
    settings: Settings,
    *,
    reader: Session,
    request: RegisterRequest,
    address: str,
    previous: str | None = None,
) -> NewSession:
    """Check in ``reader`` (no write lock), hash, then check again and write in ``session``.

    A refused registration costs no Argon2; and no write lock is held while the two hashes
    run (at nice 19, slowly under load): on SQLite a write transaction locks the database
    from its first statement, and every login would wait for it."""
    _check_kdf(settings, request.kdf)
    identity = PublicIdentity(
        x25519_public=request.identity.x25519_public,
        ed25519_public=request.identity.ed25519_public,
        x25519_signature=request.identity.x25519_signature,
    )
    try:
        identity.verify()
    except BadSignature as exc:
        raise InvalidIdentity() from exc
    try:
        _admit(reader, settings, request=request, address=address, record=False)
    finally:
        reader.rollback()
    auth_hash = hash_secret(settings, request.auth_key, public=True)
    recovery_auth_hash = hash_secret(settings, request.recovery.auth_key, public=True)
    _admit(session, settings, request=request, address=address, record=True)  # it may have moved
    now = utcnow()
    user = User(
        username=request.username,
        kdf_salt=request.kdf.salt,
        kdf_opslimit=request.kdf.opslimit,
        kdf_memlimit=request.kdf.memlimit,
        auth_hash=auth_hash,
        x25519_public=identity.x25519_public,
        ed25519_public=identity.ed25519_public,
        x25519_signature=identity.x25519_signature,
        key_bundle=request.key_bundle,
        recovery_auth_hash=recovery_auth_hash,
        recovery_bundle=request.recovery.key_bundle,
        created_at=now,
        credentials_changed_at=now,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration won the name
        raise UsernameTaken() from exc
    log_authentication(
        "register", outcome="success", user=user.username, address=address, factor="auth_key"
    )
    return _start_session(
        session, settings, user, previous=previous, device_label=request.device_label
    )


def login(
    session: Session,
    settings: Settings,
    *,
    username: str,
    auth_key: bytes,
    address: str,
    previous: str | None = None,
    device_label: str | None = None,
) -> NewSession:
    user = check_credential(
        session, settings, operation="login", username=username, address=address, secret=auth_key
    )
    log_authentication(
        "login", outcome="success", user=username, address=address, factor="auth_key"
    )
    return _start_session(session, settings, user, previous=previous, device_label=device_label)


def authenticate(session: Session, settings: Settings, *, token: str) -> SignedIn:
    """Resolve a bearer token to a live session; raise ``NotAuthenticated`` otherwise. The
    lookup is one prebuilt Core statement (``queries.session_by_digest``): every
    authenticated request makes it."""
    if not token or len(token) > 128:
        raise NotAuthenticated()
    digest = token_hash(settings.server_key, token)
    record = queries.session_by_digest(session, digest)
    # The lookup is by keyed hash; compare again in constant time for defence in depth.
    if record is None or not hmac.compare_digest(record.token_hash, digest):
        raise NotAuthenticated()
    if session_ended(record, settings):
        raise SessionEnded()
    return record


def session_ended(record: AuthSession | Any, settings: Settings) -> bool:
    """Revoked, past its lifetime or idle too long: the one rule every check of a session
    applies (a request's ``authenticate``, each tick of a live update stream)."""
    now = utcnow()
    idle_deadline = record.last_used_at + timedelta(seconds=settings.session_idle_seconds)
    return record.revoked_at is not None or now >= record.expires_at or now >= idle_deadline


def use_due(record: AuthSession | SignedIn) -> bool:
    """Whether this use of the session should be recorded (``record_use``)."""
    return coarse(utcnow()) > record.last_used_at


def record_use(session: Session, record: AuthSession | SignedIn) -> None:
    """Move the session's idle deadline, in ``session``: the request's own transaction for a
    write, a short write transaction of its own for a read. (A read's transaction must not
    write: on SQLite, turning a read snapshot into a write fails outright when another
    request wrote since, so parallel reads with one token would fail at the moment the use
    is due.) Conditional, so parallel requests record it once."""
    queries.record_use(session, session_id=record.id, hour=coarse(utcnow()))


def logout(session: Session, *, current: AuthSession, address: str) -> None:
    current.revoked_at = utcnow()
    log_authentication(
        "logout",
        outcome="success",
        user=current.user.username,
        address=address,
        factor="session_token",
    )


def _store_passphrase(
    settings: Settings, user: User, request: PassphraseChangeRequest | RecoveryCompleteRequest
) -> None:
    """The new passphrase's KDF parameters, the hash of its auth key and the key bundle it
    seals (a passphrase change and a completed recovery store the same five)."""
    user.kdf_salt = request.kdf.salt
    user.kdf_opslimit = request.kdf.opslimit
    user.kdf_memlimit = request.kdf.memlimit
    user.auth_hash = hash_secret(settings, request.auth_key)
    user.key_bundle = request.key_bundle


def change_passphrase(
    session: Session,
    settings: Settings,
    *,
    current: AuthSession,
    request: PassphraseChangeRequest,
    address: str,
) -> User:
    """Re-authenticate with the current auth key, store the new one, end every other session."""
    _check_kdf(settings, request.kdf, current.user)
    user = check_credential(
        session,
        settings,
        operation="passphrase_change",
        username=current.user.username,
        address=address,
        secret=request.current_auth_key,
    )
    _store_passphrase(settings, user, request)
    user.credentials_changed_at = utcnow()
    ended = end_sessions(session, user=user, keep=current)
    log_authentication(
        "passphrase_change",
        outcome="success",
        user=user.username,
        address=address,
        factor="auth_key",
        sessions_ended=ended,
    )
    return user


def recovery_bundle(
    session: Session, settings: Settings, *, username: str, recovery_auth_key: bytes, address: str
) -> User:
    user = check_credential(
        session,
        settings,
        operation="recovery_bundle",
        username=username,
        address=address,
        secret=recovery_auth_key,
        recovery=True,
    )
    log_authentication(
        "recovery_bundle", outcome="success", user=username, address=address, factor="recovery_code"
    )
    return user


def complete_recovery(
    session: Session,
    settings: Settings,
    *,
    request: RecoveryCompleteRequest,
    address: str,
    previous: str | None = None,
) -> NewSession:
    """Replace passphrase and recovery credentials (the code is one-time); end every session."""
    _check_kdf(
        settings,
        request.kdf,
        session.scalar(select(User).where(User.username == request.username)),
    )
    user = check_credential(
        session,
        settings,
        operation="recovery_complete",
        username=request.username,
        address=address,
        secret=request.recovery_auth_key,
        recovery=True,
    )
    _store_passphrase(settings, user, request)
    user.recovery_auth_hash = hash_secret(settings, request.recovery.auth_key)
    user.recovery_bundle = request.recovery.key_bundle
    user.credentials_changed_at = utcnow()
    ended = end_sessions(session, user=user, keep=None)
    log_authentication(
        "recovery_complete",
        outcome="success",
        user=user.username,
        address=address,
        factor="recovery_code",
        sessions_ended=ended,
    )
    return _start_session(
        session, settings, user, previous=previous, device_label=request.device_label
    )


def get_user(session: Session, *, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserNotFound()
    return user
