"""Protocol errors. Every failure raises; nothing returns ``None``.

CryptoError
├── InvalidKey          a value has the wrong size or shape
├── WeakKdfParameters   the server offered Argon2id parameters below the floor
├── BadSignature        an Ed25519 signature does not verify
├── BadProof            a VOPRF proof does not verify against the pinned public key
├── DecryptionFailed    AEAD authentication failed (wrong key, nonce or associated data)
├── RecordChainBroken   a key record does not follow the one before it
├── UntrustedSigner     a record's signer, or a key's id, is not what the circle vouches for
├── WrongEpoch          a wrap or key is for another circle or epoch
├── InvalidWork         a proof of work does not meet its challenge
├── ReleaseRollback     a signed web release older than the one pinned
└── ReleaseFork         a different signed web release under the pinned release number
"""


class CryptoError(Exception):
    """Base of every error raised by ``app.crypto``."""


class InvalidKey(CryptoError):
    """A key, nonce or encoded value has the wrong size or format."""


class WeakKdfParameters(CryptoError):
    """The key-derivation parameters are below the client's floor or above its ceiling."""


class BadSignature(CryptoError):
    """A signature does not verify against the key that should have made it."""


class BadProof(CryptoError):
    """A VOPRF evaluation's proof does not verify: another key, or altered elements (§34)."""


class DecryptionFailed(CryptoError):
    """Authenticated decryption failed: wrong key, tampered bytes or wrong context."""


class RecordChainBroken(CryptoError):
    """A key record does not follow from the one before it (sequence, hash, epoch or key)."""


class UntrustedSigner(CryptoError):
    """A record or wrap is signed by someone who was not an admin with the listed key."""


class WrongEpoch(CryptoError):
    """A wrap or key belongs to another circle or epoch than the one it is used for."""


class InvalidWork(CryptoError):
    """A proof of work does not meet its challenge's work, or is not in its canonical form."""


class ReleaseRollback(CryptoError):
    """A web release manifest is properly signed but older than the release pinned (§35.4)."""


class ReleaseFork(CryptoError):
    """A web release manifest has the pinned release number but other content (§35.4)."""
