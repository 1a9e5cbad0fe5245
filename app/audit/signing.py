"""The server's Ed25519 tree-head key: made once, stored sealed, rotated only with notice.

Every worker reads the same key from the database, so several workers (and a
restart) sign with one key. The seed is encrypted under a key derived from
``BACKCHANNEL_SECRET_KEY``; a server started with another secret refuses to
sign instead of silently making a new key. A rotation adds a successor with a
``not_before`` time (the notice) and the outgoing key's signature over it;
clients follow that signature from the key they pinned (docs/protocol.md §33.4).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import nacl.exceptions
import nacl.secret
from nacl.signing import SigningKey
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.tokens import keyed_hash
from app.audit.models import ServerSigningKey
from app.crypto import labels
from app.crypto.audit import succession_message
from app.db import utcnow
from app.errors import BackchannelError
from app.settings import Settings

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class SigningKeyUnavailable(BackchannelError):
    status_code = 503
    code = "signing_key_unavailable"
    message = "The server's tree-head key cannot be opened with this server's secret key."


@dataclass(frozen=True)
class ActiveKey:
    key_id: int
    signing_key: SigningKey

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)


def _seal_key(settings: Settings) -> bytes:
    return keyed_hash(settings.server_key, labels.PERSON_SIGNING_SEAL, b"")


def _seal(settings: Settings, seed: bytes, public: bytes) -> bytes:
    nonce = secrets.token_bytes(nacl.secret.Aead.NONCE_SIZE)
    aead = nacl.secret.Aead(_seal_key(settings))
    return bytes(aead.encrypt(seed, labels.SIGNING_SEED_AD_PREFIX + public, nonce))


def _unseal(settings: Settings, row: ServerSigningKey) -> SigningKey:
    try:
        seed = nacl.secret.Aead(_seal_key(settings)).decrypt(
            row.sealed_seed, labels.SIGNING_SEED_AD_PREFIX + row.public_key
        )
    except nacl.exceptions.CryptoError as exc:
        raise SigningKeyUnavailable() from exc
    key = SigningKey(seed)
    if bytes(key.verify_key) != row.public_key:
        raise SigningKeyUnavailable()
    return key


def _new_row(
    settings: Settings, *, key_id: int, not_before: datetime
) -> tuple[ServerSigningKey, SigningKey]:
    key = SigningKey.generate()
    public = bytes(key.verify_key)
    row = ServerSigningKey(
        id=key_id,
        public_key=public,
        sealed_seed=_seal(settings, bytes(key), public),
        status="active",
        created_at=utcnow(),
        not_before=not_before.strftime(TIME_FORMAT),
        succession_signature=None,
    )
    return row, key


def ensure_key(session: Session, settings: Settings) -> None:
    """Make the first key if there is none (id 1: two workers racing make only one)."""
    if session.scalar(select(func.count()).select_from(ServerSigningKey)):
        return
    row, _ = _new_row(settings, key_id=1, not_before=utcnow() - timedelta(seconds=1))
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        pass


def active_key(session: Session, settings: Settings) -> ActiveKey:
    """The newest key whose notice period is over."""
    ensure_key(session, settings)
    now = utcnow().strftime(TIME_FORMAT)
    row = session.scalars(
        select(ServerSigningKey)
        .where(ServerSigningKey.not_before <= now)
        .order_by(ServerSigningKey.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise SigningKeyUnavailable()
    return ActiveKey(row.id, _unseal(settings, row))


def all_keys(session: Session, settings: Settings) -> list[ServerSigningKey]:
    ensure_key(session, settings)
    return list(session.scalars(select(ServerSigningKey).order_by(ServerSigningKey.id)))


def rotate(session: Session, settings: Settings, *, notice: timedelta) -> ServerSigningKey:
    """Announce a successor of the newest key, signed by it, taking over after ``notice``."""
    ensure_key(session, settings)
    newest = session.scalars(
        select(ServerSigningKey).order_by(ServerSigningKey.id.desc()).limit(1).with_for_update()
    ).one()
    outgoing = _unseal(settings, newest)
    row, _ = _new_row(settings, key_id=newest.id + 1, not_before=utcnow() + notice)
    row.succession_signature = bytes(
        outgoing.sign(
            succession_message(newest.public_key, row.public_key, row.not_before)
        ).signature
    )
    session.add(row)
    return row
