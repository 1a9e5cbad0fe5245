"""A user's identity: an X25519 key to receive wrapped keys and an Ed25519 key to sign."""

import hashlib
import hmac
import re
import struct
from dataclasses import dataclass

import nacl.exceptions
from nacl.public import PrivateKey
from nacl.signing import SigningKey, VerifyKey

from app.crypto import labels
from app.crypto.errors import BadSignature, InvalidKey

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
FINGERPRINT_BYTES = 12  # 96 bits, shown as six groups of five digits


def _check_size(value: bytes, size: int, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != size:
        raise InvalidKey(f"{what} must be {size} bytes")


@dataclass(frozen=True, eq=False)
class PublicIdentity:
    """The public half of an identity, as the server publishes it."""

    x25519_public: bytes
    ed25519_public: bytes
    x25519_signature: bytes

    def __post_init__(self) -> None:
        _check_size(self.x25519_public, PUBLIC_KEY_BYTES, "X25519 public key")
        _check_size(self.ed25519_public, PUBLIC_KEY_BYTES, "Ed25519 public key")
        _check_size(self.x25519_signature, SIGNATURE_BYTES, "identity signature")

    def verify(self) -> None:
        """Raise ``BadSignature`` unless the Ed25519 key signed this X25519 key."""
        message = labels.IDENTITY_SIGNATURE_CONTEXT + self.x25519_public
        try:
            VerifyKey(self.ed25519_public).verify(message, self.x25519_signature)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError) as exc:
            raise BadSignature("identity signature does not verify") from exc

    def fingerprint(self) -> str:
        return fingerprint(self.ed25519_public, self.x25519_public)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicIdentity):
            return NotImplemented
        mine = self.ed25519_public + self.x25519_public + self.x25519_signature
        theirs = other.ed25519_public + other.x25519_public + other.x25519_signature
        return hmac.compare_digest(mine, theirs)

    def __hash__(self) -> int:
        return hash(self.ed25519_public)


_CANONICAL_FINGERPRINT = re.compile(r"[0-9]{5}(?: [0-9]{5}){5}")


def fingerprint(ed25519_public: bytes, x25519_public: bytes) -> str:
    """BLAKE2b-96 over both public keys, as six groups of five decimal digits."""
    _check_size(ed25519_public, PUBLIC_KEY_BYTES, "Ed25519 public key")
    _check_size(x25519_public, PUBLIC_KEY_BYTES, "X25519 public key")
    # hashlib's BLAKE2b is libsodium's BLAKE2b (zero salt, NUL-padded personalisation) without
    # PyNaCl's per-call overhead; member lists of 10,000 compute this per member.
    digest = hashlib.blake2b(
        ed25519_public + x25519_public,
        digest_size=FINGERPRINT_BYTES,
        person=labels.PERSON_FINGERPRINT,
    ).digest()
    return "%05d %05d %05d %05d %05d %05d" % struct.unpack(">6H", digest)  # noqa: UP031


def normalise_fingerprint(text: str) -> str:
    """Accept a fingerprint typed with any spacing or dashes; return the canonical form."""
    if _CANONICAL_FINGERPRINT.fullmatch(text):
        return text
    if len(text) > 80 or any(ch not in "0123456789 -\t\r\n" for ch in text):
        raise InvalidKey("a fingerprint is 30 digits")
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) != 30:
        raise InvalidKey("a fingerprint is 30 digits")
    return " ".join(digits[i : i + 5] for i in range(0, 30, 5))


class IdentityKeys:
    """The secret identity. Made once at registration; travels only inside key bundles."""

    SECRET_BYTES = 64  # X25519 secret key (32) || Ed25519 seed (32)

    def __init__(self, x25519_secret: bytes, ed25519_seed: bytes) -> None:
        _check_size(x25519_secret, 32, "X25519 secret key")
        _check_size(ed25519_seed, 32, "Ed25519 seed")
        self.box_key = PrivateKey(x25519_secret)
        self.signing_key = SigningKey(ed25519_seed)

    @classmethod
    def generate(cls) -> "IdentityKeys":
        return cls(bytes(PrivateKey.generate()), bytes(SigningKey.generate()))

    @classmethod
    def from_bytes(cls, raw: bytes) -> "IdentityKeys":
        _check_size(raw, cls.SECRET_BYTES, "identity secret")
        return cls(raw[:32], raw[32:])

    def __bytes__(self) -> bytes:
        return bytes(self.box_key) + bytes(self.signing_key)

    def public(self) -> PublicIdentity:
        x_pub = bytes(self.box_key.public_key)
        signature = self.signing_key.sign(labels.IDENTITY_SIGNATURE_CONTEXT + x_pub).signature
        return PublicIdentity(
            x25519_public=x_pub,
            ed25519_public=bytes(self.signing_key.verify_key),
            x25519_signature=signature,
        )

    def __repr__(self) -> str:
        return "IdentityKeys(<secret>)"
