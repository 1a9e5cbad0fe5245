"""Key bundles: the identity secret encrypted for storage on the server.

Wire format: ``version (1 byte) || nonce (24) || XChaCha20-Poly1305 ciphertext``.
Associated data: ``"backchannel.keybundle.v1\\0" || purpose || "\\0" || username``,
so a bundle cannot be moved to another account or from the recovery slot to
the passphrase slot.
"""

import secrets

import nacl.exceptions
import nacl.secret
from nacl.encoding import RawEncoder

from app.crypto import labels
from app.crypto.errors import DecryptionFailed, InvalidKey
from app.crypto.identity import IdentityKeys
from app.crypto.kdf import KEY_BYTES, subkey

NONCE_BYTES = nacl.secret.Aead.NONCE_SIZE
BUNDLE_BYTES = 1 + NONCE_BYTES + IdentityKeys.SECRET_BYTES + nacl.secret.Aead.MACBYTES
_PURPOSES = (labels.BUNDLE_PURPOSE_PASSPHRASE, labels.BUNDLE_PURPOSE_RECOVERY)


def bundle_associated_data(username: str, purpose: str) -> bytes:
    if purpose not in _PURPOSES:
        raise ValueError(f"unknown bundle purpose {purpose!r}")
    return (
        labels.KEY_BUNDLE_AD_PREFIX + purpose.encode("ascii") + b"\x00" + username.encode("utf-8")
    )


def seal_key_bundle(identity: IdentityKeys, *, key: bytes, username: str, purpose: str) -> bytes:
    """Encrypt the identity secret under ``key`` with a fresh random nonce."""
    if len(key) != KEY_BYTES:
        raise InvalidKey("bundle key must be 32 bytes")
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nacl.secret.Aead(key).encrypt(
        bytes(identity), bundle_associated_data(username, purpose), nonce, encoder=RawEncoder
    )
    return bytes([labels.KEY_BUNDLE_VERSION]) + bytes(sealed)


def open_key_bundle(bundle: bytes, *, key: bytes, username: str, purpose: str) -> IdentityKeys:
    """Decrypt and authenticate a bundle; raise ``DecryptionFailed`` on any mismatch."""
    if len(key) != KEY_BYTES:
        raise InvalidKey("bundle key must be 32 bytes")
    if len(bundle) != BUNDLE_BYTES or bundle[0] != labels.KEY_BUNDLE_VERSION:
        raise DecryptionFailed("key bundle has an unknown version or size")
    try:
        raw = nacl.secret.Aead(key).decrypt(
            bundle[1:], bundle_associated_data(username, purpose), encoder=RawEncoder
        )
    except nacl.exceptions.CryptoError as exc:
        raise DecryptionFailed("key bundle does not open with this key") from exc
    return IdentityKeys.from_bytes(raw)


# Recovery codes: 160 random bits as 32 Crockford base32 characters in 8 groups of 4.
RECOVERY_CODE_BYTES = 20
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_ALIASES = {"O": "0", "I": "1", "L": "1"}


class RecoveryCode:
    """A one-time code that opens the recovery copy of the key bundle."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != RECOVERY_CODE_BYTES:
            raise InvalidKey("recovery code must be 20 bytes")
        self._raw = raw

    @classmethod
    def generate(cls) -> "RecoveryCode":
        return cls(secrets.token_bytes(RECOVERY_CODE_BYTES))

    @classmethod
    def parse(cls, text: str) -> "RecoveryCode":
        """Accept any case, spaces or dashes, and the usual O/0, I/L/1 confusions."""
        if len(text) > 80 or not text.isascii():
            raise InvalidKey("a recovery code is 32 characters")
        chars = [_CROCKFORD_ALIASES.get(ch, ch) for ch in text.upper() if ch not in " -\t\r\n"]
        if len(chars) != 32 or any(ch not in _CROCKFORD for ch in chars):
            raise InvalidKey("a recovery code is 32 characters of 0-9 and A-Z")
        value = 0
        for ch in chars:
            value = (value << 5) | _CROCKFORD.index(ch)
        return cls(value.to_bytes(RECOVERY_CODE_BYTES, "big"))

    def __str__(self) -> str:
        value = int.from_bytes(self._raw, "big")
        chars = [_CROCKFORD[(value >> (5 * (31 - i))) & 31] for i in range(32)]
        return "-".join("".join(chars[i : i + 4]) for i in range(0, 32, 4))

    def __repr__(self) -> str:
        return "RecoveryCode(<secret>)"

    @property
    def bundle_key(self) -> bytes:
        return subkey(self._raw, labels.PERSON_RECOVERY_KEY)

    @property
    def auth_key(self) -> bytes:
        return subkey(self._raw, labels.PERSON_RECOVERY_AUTH)
