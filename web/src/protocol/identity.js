/**
 * Identity keys (§4), fingerprints (§4.1) and key bundles (§5).
 *
 * IdentityKeys holds the secret in private fields: it is never serialised except by
 * toBytes() for a key bundle, and lives in memory for the tab's life.
 */
import { DecryptionFailed, InvalidKey } from "./errors.js";
import { b64, concat, fromB64, utf8 } from "./encoding.js";
import {
  aeadDecrypt,
  aeadEncrypt,
  equalBytes,
  hash,
  requireSize,
  sign,
  signingKeyPair,
  verifySignature,
  x25519Public,
} from "./hash.js";
import * as labels from "./labels.js";
import { randomBytes } from "./random.js";

const CANONICAL_FINGERPRINT = /^[0-9]{5}(?: [0-9]{5}){5}$/;

/** The six 5-digit groups of HASH("bc.v1.fingerprnt", ed25519_public || x25519_public, 12). */
export function fingerprint(ed25519Public, x25519PublicKey) {
  requireSize(ed25519Public, 32, "an Ed25519 public key");
  requireSize(x25519PublicKey, 32, "an X25519 public key");
  const digest = hash(labels.PERSON_FINGERPRINT, concat(ed25519Public, x25519PublicKey), 12);
  const groups = [];
  for (let i = 0; i < 6; i++) {
    groups.push(String((digest[2 * i] << 8) | digest[2 * i + 1]).padStart(5, "0"));
  }
  return groups.join(" ");
}

export function isCanonicalFingerprint(text) {
  return typeof text === "string" && CANONICAL_FINGERPRINT.test(text);
}

/** A typed or pasted fingerprint: ASCII digits with spaces, tabs or dashes (§4.1). */
export function normaliseFingerprint(text) {
  if (isCanonicalFingerprint(text)) {
    return text;
  }
  if (typeof text !== "string" || text.length > 80 || !/^[0-9 \t\r\n-]*$/.test(text)) {
    throw new InvalidKey("a fingerprint is 30 digits");
  }
  const digits = text.replace(/[ \t\r\n-]/g, "");
  if (digits.length !== 30) {
    throw new InvalidKey("a fingerprint is 30 digits");
  }
  return digits.match(/.{5}/g).join(" ");
}

function identityMessage(x25519PublicKey) {
  return concat(labels.IDENTITY_SIGNATURE_CONTEXT, x25519PublicKey);
}

/** (x25519_public, ed25519_public, x25519_signature): what the server publishes. */
export class PublicIdentity {
  constructor({ x25519Public, ed25519Public, x25519Signature }) {
    this.x25519Public = Uint8Array.from(requireSize(x25519Public, 32, "an X25519 public key"));
    this.ed25519Public = Uint8Array.from(requireSize(ed25519Public, 32, "an Ed25519 public key"));
    this.x25519Signature = Uint8Array.from(requireSize(x25519Signature, 64, "an identity signature"));
    Object.freeze(this);
  }

  /** The `Identity` JSON object of §7 (strict base64, exact sizes). */
  static fromJson(value) {
    if (value === null || typeof value !== "object") {
      throw new InvalidKey("an identity is an object");
    }
    return new PublicIdentity({
      x25519Public: fromB64(value.x25519_public, 32, "x25519_public"),
      ed25519Public: fromB64(value.ed25519_public, 32, "ed25519_public"),
      x25519Signature: fromB64(value.x25519_signature, 64, "x25519_signature"),
    });
  }

  toJson() {
    return {
      x25519_public: b64(this.x25519Public),
      ed25519_public: b64(this.ed25519Public),
      x25519_signature: b64(this.x25519Signature),
    };
  }

  /** BadSignature unless the Ed25519 key certifies the X25519 key (§4). */
  verify() {
    verifySignature(this.x25519Signature, identityMessage(this.x25519Public), this.ed25519Public, "identity signature");
  }

  /** Computed by the client from the keys, never taken from the server (§4.1). */
  get fingerprint() {
    return fingerprint(this.ed25519Public, this.x25519Public);
  }

  /** All three fields equal, as §7.2 step 4 compares them. */
  equals(other) {
    return (
      other instanceof PublicIdentity &&
      equalBytes(this.x25519Public, other.x25519Public) &&
      equalBytes(this.ed25519Public, other.ed25519Public) &&
      equalBytes(this.x25519Signature, other.x25519Signature)
    );
  }
}

/** The secret identity: x25519_secret || ed25519_seed (64 bytes). */
export class IdentityKeys {
  #x25519Secret;
  #ed25519Seed;
  #signing;

  constructor(x25519Secret, ed25519Seed) {
    this.#x25519Secret = Uint8Array.from(requireSize(x25519Secret, 32, "an X25519 secret key"));
    this.#ed25519Seed = Uint8Array.from(requireSize(ed25519Seed, 32, "an Ed25519 seed"));
    this.#signing = signingKeyPair(this.#ed25519Seed);
    this.x25519Public = x25519Public(this.#x25519Secret);
    this.ed25519Public = this.#signing.publicKey;
    Object.freeze(this);
  }

  static generate() {
    return new IdentityKeys(randomBytes(32), randomBytes(32));
  }

  static fromBytes(raw) {
    requireSize(raw, 64, "an identity secret");
    return new IdentityKeys(raw.subarray(0, 32), raw.subarray(32));
  }

  /** The identity secret, only ever to be sealed into a key bundle (§5). */
  toBytes() {
    return concat(this.#x25519Secret, this.#ed25519Seed);
  }

  /** The X25519 secret, for opening sealed boxes addressed to this identity. */
  get x25519Secret() {
    return Uint8Array.from(this.#x25519Secret);
  }

  /** The 32-byte Ed25519 seed: the BLAKE2b key of an anonymous signing key (§22.1). */
  get ed25519Seed() {
    return Uint8Array.from(this.#ed25519Seed);
  }

  /** Deterministic Ed25519 signature (RFC 8032) with the identity key. */
  sign(message) {
    return sign(message, this.#signing.privateKey);
  }

  /** Re-derives both public keys and re-signs (deterministic), as §7.2 step 4 needs. */
  publicIdentity() {
    return new PublicIdentity({
      x25519Public: this.x25519Public,
      ed25519Public: this.ed25519Public,
      x25519Signature: this.sign(identityMessage(this.x25519Public)),
    });
  }

  get fingerprint() {
    return fingerprint(this.ed25519Public, this.x25519Public);
  }
}

const BUNDLE_PURPOSES = [labels.BUNDLE_PURPOSE_PASSPHRASE, labels.BUNDLE_PURPOSE_RECOVERY];
const BUNDLE_BYTES = 1 + 24 + 64 + 16;

/** "backchannel.keybundle.v1\0" || purpose || "\0" || UTF-8(username) (§5). */
export function bundleAssociatedData(username, purpose) {
  if (!BUNDLE_PURPOSES.includes(purpose)) {
    throw new InvalidKey(`unknown bundle purpose ${String(purpose)}`);
  }
  return concat(labels.KEY_BUNDLE_AD_PREFIX, utf8(purpose), new Uint8Array(1), utf8(username));
}

/** 0x01 || nonce || AEAD(key, nonce, identity secret, ad): 105 bytes (§5). */
export function sealKeyBundle(identity, { key, username, purpose }) {
  const ad = bundleAssociatedData(username, purpose);
  const nonce = randomBytes(24);
  return concat(
    Uint8Array.of(labels.KEY_BUNDLE_VERSION),
    nonce,
    aeadEncrypt(requireSize(key, 32, "a bundle key"), nonce, identity.toBytes(), ad),
  );
}

/** The identity in a bundle, opened with the username and purpose the client expects. */
export function openKeyBundle(bundle, { key, username, purpose }) {
  requireSize(key, 32, "a bundle key");
  const ad = bundleAssociatedData(username, purpose);
  if (bundle.length !== BUNDLE_BYTES || bundle[0] !== labels.KEY_BUNDLE_VERSION) {
    throw new DecryptionFailed("key bundle has an unknown version or size");
  }
  const raw = aeadDecrypt(
    key,
    bundle.subarray(1, 25),
    bundle.subarray(25),
    ad,
    "key bundle does not open with this key",
  );
  return IdentityKeys.fromBytes(raw);
}
