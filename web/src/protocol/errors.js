/**
 * Protocol errors. Every failure throws; nothing returns null or undefined.
 *
 * CryptoError
 * ├── InvalidKey          a value has the wrong size or shape
 * ├── WeakKdfParameters   the server offered Argon2id parameters outside the bounds
 * ├── BadSignature        an Ed25519 signature does not verify
 * ├── BadProof            a VOPRF proof does not verify against the pinned public key
 * ├── DecryptionFailed    AEAD authentication failed, or what it opened is malformed
 * ├── RecordChainBroken   a record does not follow the one before it
 * ├── UntrustedSigner     a signer, or a key's id, is not what the circle vouches for
 * ├── WrongEpoch          a wrap, key or sealed value belongs to another context
 * ├── InvalidWork         a proof of work does not meet its challenge
 * ├── ReleaseRollback     a signed web release older than the one pinned
 * └── ReleaseFork         a different signed web release under the pinned release number
 *
 * The names are those of app/crypto/errors.py and docs/protocol.md.
 */

export class CryptoError extends Error {
  get name() {
    return this.constructor.name;
  }
}

export class InvalidKey extends CryptoError {}
export class WeakKdfParameters extends CryptoError {}
export class BadSignature extends CryptoError {}
export class BadProof extends CryptoError {}
export class DecryptionFailed extends CryptoError {}
export class RecordChainBroken extends CryptoError {}
export class UntrustedSigner extends CryptoError {}
export class WrongEpoch extends CryptoError {}
export class InvalidWork extends CryptoError {}
export class ReleaseRollback extends CryptoError {}
export class ReleaseFork extends CryptoError {}

/** An inclusion or consistency proof does not verify (§33.2; the reference's merkle.ProofError). */
export class ProofError extends CryptoError {}
