"""The Backchannel protocol: pure functions over bytes, shared by client and server.

Nothing here performs I/O, reads the clock or imports FastAPI or SQLAlchemy.
"""

from app.crypto.bundle import RecoveryCode, open_key_bundle, seal_key_bundle
from app.crypto.encoding import b64decode, b64encode
from app.crypto.errors import (
    BadSignature,
    CryptoError,
    DecryptionFailed,
    InvalidKey,
    WeakKdfParameters,
)
from app.crypto.identity import IdentityKeys, PublicIdentity, fingerprint, normalise_fingerprint
from app.crypto.kdf import AccountKeys, KdfParams, derive_root_key
from app.crypto.usernames import normalise_username

__all__ = [
    "AccountKeys",
    "BadSignature",
    "CryptoError",
    "DecryptionFailed",
    "IdentityKeys",
    "InvalidKey",
    "KdfParams",
    "PublicIdentity",
    "RecoveryCode",
    "WeakKdfParameters",
    "b64decode",
    "b64encode",
    "derive_root_key",
    "fingerprint",
    "normalise_fingerprint",
    "normalise_username",
    "open_key_bundle",
    "seal_key_bundle",
]
