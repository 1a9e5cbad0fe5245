"""Server-side keyed hashes: session tokens, fake salts, throttle keys."""

import secrets

from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from app.crypto import labels

TOKEN_BYTES = 32  # 256 bits from the OS CSPRNG


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def keyed_hash(secret_key: bytes, person: bytes, message: bytes, size: int = 32) -> bytes:
    out: bytes = blake2b(
        message, digest_size=size, key=secret_key, person=person, encoder=RawEncoder
    )
    return out


def token_hash(secret_key: bytes, token: str) -> bytes:
    return keyed_hash(secret_key, labels.PERSON_TOKEN_HASH, token.encode("ascii", "replace"))


def fake_salt(secret_key: bytes, username: str) -> bytes:
    """Deterministic per-username salt for accounts that do not exist."""
    return keyed_hash(secret_key, labels.PERSON_FAKE_SALT, username.encode("utf-8"), size=16)
