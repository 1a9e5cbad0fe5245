"""Passphrase → Argon2id root key → keyed-BLAKE2b account subkeys.

The floor (t=3, m=64 MiB) is a module constant, not a setting: no environment
variable or server answer can weaken a real client. Tests lower it by patching
these constants in their own process only.
"""

import unicodedata
from dataclasses import dataclass

import nacl.exceptions
import nacl.pwhash.argon2id
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from app.crypto import labels
from app.crypto.errors import InvalidKey, WeakKdfParameters

MIN_OPSLIMIT = 3
MIN_MEMLIMIT = 64 * 1024 * 1024
# A ceiling too, so a hostile server cannot make the client burn minutes or gigabytes.
MAX_OPSLIMIT = 32
MAX_MEMLIMIT = 1024 * 1024 * 1024

SALT_BYTES = 16
KEY_BYTES = 32


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost, as the server announces it for an account."""

    opslimit: int
    memlimit: int
    algorithm: str = labels.KDF_ALGORITHM

    def check(self) -> None:
        """Raise ``WeakKdfParameters`` unless the parameters are within the client's bounds."""
        if self.algorithm != labels.KDF_ALGORITHM:
            raise WeakKdfParameters(f"unsupported KDF algorithm {self.algorithm!r}")
        if type(self.opslimit) is not int or type(self.memlimit) is not int:  # not bool, str
            raise WeakKdfParameters("Argon2id opslimit and memlimit must be integers")
        if not MIN_OPSLIMIT <= self.opslimit <= MAX_OPSLIMIT:
            raise WeakKdfParameters(f"Argon2id opslimit {self.opslimit} outside the allowed range")
        if not MIN_MEMLIMIT <= self.memlimit <= MAX_MEMLIMIT:
            raise WeakKdfParameters(f"Argon2id memlimit {self.memlimit} outside the allowed range")


def normalise_passphrase(passphrase: str) -> bytes:
    """NFKC then UTF-8, so the same passphrase typed on any keyboard gives the same bytes."""
    return unicodedata.normalize("NFKC", passphrase).encode("utf-8")


def derive_root_key(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    """Argon2id(passphrase, salt) → 32-byte root key, after checking the parameters."""
    params.check()
    if len(salt) != SALT_BYTES:
        raise InvalidKey("salt must be 16 bytes")
    try:
        root: bytes = nacl.pwhash.argon2id.kdf(
            KEY_BYTES,
            normalise_passphrase(passphrase),
            salt,
            opslimit=params.opslimit,
            memlimit=params.memlimit,
            encoder=RawEncoder,
        )
    except nacl.exceptions.RuntimeError as exc:  # libsodium could not allocate memlimit
        raise WeakKdfParameters("Argon2id could not run with these parameters") from exc
    return root


def subkey(key: bytes, person: bytes, size: int = KEY_BYTES) -> bytes:
    """Keyed BLAKE2b of the empty message under ``key`` with a 16-byte personalisation."""
    if len(key) < 16 or len(key) > 64:
        raise InvalidKey("BLAKE2b key must be 16..64 bytes")
    out: bytes = blake2b(b"", digest_size=size, key=key, person=person, encoder=RawEncoder)
    return out


@dataclass(frozen=True, repr=False)
class AccountKeys:
    """What a passphrase yields: ``auth_key`` goes to the server, ``wrap_key`` never does."""

    auth_key: bytes
    wrap_key: bytes

    @classmethod
    def from_root(cls, root: bytes) -> "AccountKeys":
        if len(root) != KEY_BYTES:
            raise InvalidKey("root key must be 32 bytes")
        return cls(
            auth_key=subkey(root, labels.PERSON_AUTH_KEY),
            wrap_key=subkey(root, labels.PERSON_WRAP_KEY),
        )

    @classmethod
    def from_passphrase(cls, passphrase: str, salt: bytes, params: KdfParams) -> "AccountKeys":
        return cls.from_root(derive_root_key(passphrase, salt, params))

    def __repr__(self) -> str:
        return "AccountKeys(<secret>)"
