/**
 * Circle keys (§8, §9, §11-§13): epoch keys and their subkeys, wraps sealed to a
 * member's X25519 key, the previous-key box and the encrypted circle metadata.
 */
import { sodium } from "./sodium.js";
import { DecryptionFailed, InvalidKey, UntrustedSigner, WrongEpoch } from "./errors.js";
import { concat, uint64be, uuidBytes } from "./encoding.js";
import { blake2b, equalBytes, kdf, openBox, requireSize, sealBox } from "./hash.js";
import { canonicalJson, parseJson } from "./json.js";
import * as labels from "./labels.js";
import { randomBytes } from "./random.js";

/** ctx(circle, epoch) = circle_id_bytes (16) || uint64_be(epoch) (8) (§8). */
export function epochContext(circleId, epoch) {
  return concat(uuidBytes(circleId), uint64be(epoch));
}

/** One epoch's 32-byte key (§9). It only derives subkeys and seals the previous key. */
export class CircleKey {
  #raw;

  constructor(raw) {
    this.#raw = Uint8Array.from(requireSize(raw, 32, "an epoch key"));
    this.keyId = blake2b(new Uint8Array(0), { size: 16, key: this.#raw, personal: labels.PERSON_KEY_ID });
    Object.freeze(this);
  }

  static generate() {
    return new CircleKey(randomBytes(32));
  }

  /** The raw key: only for sealing it into a wrap or a previous-key box. */
  toBytes() {
    return Uint8Array.from(this.#raw);
  }

  get entryKey() {
    return kdf(this.#raw, labels.PERSON_ENTRY_KEY);
  }

  get metaKey() {
    return kdf(this.#raw, labels.PERSON_META_KEY);
  }

  equals(other) {
    return other instanceof CircleKey && equalBytes(this.#raw, other.toBytes());
  }
}

/** "backchannel.wrap.v1\0" || ctx(circle, epoch) || epoch_key (76 bytes, §11). */
export function wrapPlaintext(key, { circleId, epoch }) {
  return concat(labels.WRAP_PREFIX, epochContext(circleId, epoch), key.toBytes());
}

/** The epoch key sealed to a member's X25519 public key (crypto_box_seal, §11). */
export function sealWrap(key, { circleId, epoch, recipient }) {
  requireSize(recipient, 32, "an X25519 public key");
  return sodium.crypto_box_seal(wrapPlaintext(key, { circleId, epoch }), recipient);
}

/**
 * Open one's own wrap (§11). `keyId` is the key_id the verified record for that epoch
 * names: a sealed box does not say who sealed it, the signed key_id does.
 */
export function openWrap(sealed, { circleId, epoch, keyId, identity }) {
  let plaintext;
  try {
    plaintext = sodium.crypto_box_seal_open(sealed, identity.x25519Public, identity.x25519Secret);
  } catch {
    throw new DecryptionFailed("the wrap does not open with this identity");
  }
  const prefix = concat(labels.WRAP_PREFIX, epochContext(circleId, epoch));
  if (plaintext.length !== prefix.length + 32 || !equalBytes(plaintext.subarray(0, prefix.length), prefix)) {
    throw new WrongEpoch("the wrap is for another circle or epoch");
  }
  const key = new CircleKey(plaintext.subarray(prefix.length));
  if (!equalBytes(key.keyId, keyId)) {
    throw new UntrustedSigner("the wrapped key is not the one the record names");
  }
  return key;
}

/** "backchannel.prev-key.v1\0" || ctx(circle, n), with n the new epoch (§12). */
export function previousKeyAssociatedData({ circleId, epoch }) {
  return concat(labels.PREV_KEY_AD_PREFIX, epochContext(circleId, epoch));
}

/** nonce || AEAD(key = epoch_key[n], epoch_key[n-1], ad) (§12); `epoch` is n >= 1. */
export function sealPreviousKey(newKey, previousKey, { circleId, epoch }) {
  const ad = previousKeyAssociatedData({ circleId, epoch });
  return sealBox(newKey.toBytes(), previousKey.toBytes(), ad, randomBytes(24));
}

/** The key of epoch n - 1, checked against the key_id expected for it (§12). */
export function openPreviousKey(box, { newKey, circleId, epoch, keyId }) {
  const ad = previousKeyAssociatedData({ circleId, epoch });
  const raw = openBox(newKey.toBytes(), box, ad, "the previous-key box does not open");
  if (raw.length !== 32) {
    throw new DecryptionFailed("the previous-key box does not hold a key");
  }
  const key = new CircleKey(raw);
  if (!equalBytes(key.keyId, keyId)) {
    throw new UntrustedSigner("the previous key is not the one the record names");
  }
  return key;
}

/** "backchannel.circle-meta.v1\0" || ctx(circle, epoch) (§13). */
export function circleMetaAssociatedData({ circleId, epoch }) {
  return concat(labels.CIRCLE_META_AD_PREFIX, epochContext(circleId, epoch));
}

/** nonce || AEAD(meta_key, canonical JSON of {"description", "name"}, ad) (§13). */
export function sealCircleMeta({ name, description }, { key, circleId, epoch }) {
  if (typeof name !== "string" || typeof description !== "string") {
    throw new InvalidKey("a circle's name and description are strings");
  }
  const ad = circleMetaAssociatedData({ circleId, epoch });
  return sealBox(key.metaKey, canonicalJson({ description, name }), ad, randomBytes(24));
}

/** The metadata object (every value a string); any failure is DecryptionFailed (§13). */
export function openCircleMeta(box, { key, circleId, epoch }) {
  const ad = circleMetaAssociatedData({ circleId, epoch });
  const plaintext = openBox(key.metaKey, box, ad, "the circle metadata does not open");
  let meta;
  try {
    meta = parseJson(plaintext);
  } catch {
    throw new DecryptionFailed("the circle metadata is not UTF-8 JSON");
  }
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
    throw new DecryptionFailed("the circle metadata is not an object");
  }
  if (!Object.values(meta).every((value) => typeof value === "string")) {
    throw new DecryptionFailed("the circle metadata holds a value that is not a string");
  }
  return meta;
}
