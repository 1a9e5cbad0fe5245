/**
 * The moderation key (§28, §29): X25519 generations held by a circle's admins, their
 * signed records, wraps, previous-generation boxes, and seal_to, which reports and
 * decision notes are sealed with.
 */
import { sodium } from "./sodium.js";
import { DecryptionFailed, InvalidKey, RecordChainBroken, UntrustedSigner, WrongEpoch } from "./errors.js";
import { b64, concat, fromB64, fromUtf8, uint64be, utf8, uuidBytes } from "./encoding.js";
import { equalBytes, hash, kdf, openBox, requireSize, sealBox, verifySignature, x25519Public } from "./hash.js";
import { isCanonicalFingerprint } from "./identity.js";
import {
  canonicalJson,
  compareCodePoints,
  hasExactFields,
  isCount,
  isHex32,
  parseJson,
  requireCanonical,
} from "./json.js";
import * as labels from "./labels.js";
import { randomBytes } from "./random.js";
import { ADMIN_ROLES } from "./records.js";

/** gctx(circle, generation) = circle_id_bytes (16) || uint64_be(generation) (8) (§28). */
export function generationContext(circleId, generation) {
  return concat(uuidBytes(circleId), uint64be(generation));
}

/** shared(secret, public) = crypto_box_beforenm(public, secret) (§28); a low-order public key is InvalidKey. */
export function sharedKey(secret, publicKey) {
  requireSize(secret, 32, "an X25519 secret key");
  requireSize(publicKey, 32, "an X25519 public key");
  try {
    return sodium.crypto_box_beforenm(publicKey, secret);
  } catch {
    throw new InvalidKey("unusable X25519 public key");
  }
}

/**
 * seal_to(public, plaintext, ad) of §28: epk || nonce || AEAD(shared(esk, public)).
 * `adFor(epk)` builds the associated data, which ends with epk and `publicKey`.
 */
export function sealTo(publicKey, plaintext, adFor) {
  const esk = randomBytes(32);
  const epk = x25519Public(esk);
  const nonce = randomBytes(24);
  return concat(epk, sealBox(sharedKey(esk, publicKey), plaintext, adFor(epk), nonce));
}

/**
 * Open epk || nonce || AEAD with a generation's key; `adFor(epk)` as for sealTo. A box
 * shorter than `minimum` bytes is DecryptionFailed; a low-order epk is InvalidKey.
 */
export function openSealed(key, sealed, { adFor, minimum, why }) {
  if (sealed.length < minimum) {
    throw new DecryptionFailed(why);
  }
  const epk = sealed.subarray(0, 32);
  return openBox(key.shared(epk), sealed.subarray(32), adFor(epk), why);
}

/** One generation's 32-byte X25519 secret; admins hold it, nobody else (§29.1). */
export class ModerationKey {
  #secret;

  constructor(secret) {
    this.#secret = Uint8Array.from(requireSize(secret, 32, "a moderation key"));
    this.publicKey = x25519Public(this.#secret);
    Object.freeze(this);
  }

  static generate() {
    return new ModerationKey(randomBytes(32));
  }

  toBytes() {
    return Uint8Array.from(this.#secret);
  }

  /** box_key = KDF(secret, "bc.v1.modkey-box"): the key of the previous-generation box (§29.6). */
  get boxKey() {
    return kdf(this.#secret, labels.PERSON_MODKEY_BOX);
  }

  /** shared(secret, public) for opening what was sealed to this generation. */
  shared(publicKey) {
    return sharedKey(this.#secret, publicKey);
  }
}

const MODKEY_FIELDS = ["admins", "circle", "generation", "prev", "public_key", "record_seq", "signer", "type", "v"];
const ADMIN_FIELDS = ["fp", "user"];

/** The owners and admins of a key record, as {fp, user} in the record's (user) order. */
export function adminSet(keyRecord) {
  return keyRecord.members.filter((m) => ADMIN_ROLES.includes(m.role)).map(({ fp, user }) => ({ fp, user }));
}

/** A moderation key record (§29.2); construct with create(), forKeyRecord() or parse(). */
export class ModerationKeyRecord {
  constructor({ circle, generation, publicKey, admins, recordSeq, prev, signer }) {
    if (!isHex32(circle) || !isCount(generation) || !isCount(recordSeq) || typeof signer !== "string") {
      throw new InvalidKey("a moderation key record has a circle, generation >= 0, record_seq >= 0 and a signer");
    }
    requireSize(publicKey, 32, "a moderation public key");
    if ((prev === null) !== (generation === 0) || (prev !== null && prev.length !== 32)) {
      throw new InvalidKey("prev is a 32-byte hash, null exactly for generation 0");
    }
    if (!Array.isArray(admins) || admins.length === 0) {
      throw new InvalidKey("a generation has at least one admin");
    }
    admins.forEach(({ fp, user }, i) => {
      if (!isCanonicalFingerprint(fp) || typeof user !== "string") {
        throw new InvalidKey("an admin is {fp, user} with a canonical fingerprint");
      }
      if (i > 0 && compareCodePoints(admins[i - 1].user, user) >= 0) {
        throw new InvalidKey("admins are sorted by user, each listed once");
      }
    });
    if (!admins.some(({ user }) => user === signer)) {
      throw new InvalidKey("the signer is one of the admins");
    }
    this.circle = circle;
    this.generation = generation;
    this.publicKey = Uint8Array.from(publicKey);
    this.admins = Object.freeze(admins.map(({ fp, user }) => Object.freeze({ fp, user })));
    this.recordSeq = recordSeq;
    this.prev = prev === null ? null : Uint8Array.from(prev);
    this.signer = signer;
    this.bytes = canonicalJson(this.toJson());
    Object.freeze(this);
  }

  /** The record for a new generation made for key record `keyRecord` (§29.8). */
  static forKeyRecord(keyRecord, { key, generation, prev, signer }) {
    return new ModerationKeyRecord({
      circle: keyRecord.circle,
      generation,
      publicKey: key.publicKey,
      admins: adminSet(keyRecord),
      recordSeq: keyRecord.seq,
      prev,
      signer,
    });
  }

  /** Parse signed record bytes (or text); InvalidKey unless exactly canonical (§29.2). */
  static parse(raw) {
    const bytes = typeof raw === "string" ? utf8(raw) : raw;
    const value = parseJson(bytes);
    if (!hasExactFields(value, MODKEY_FIELDS) || value.v !== 1 || value.type !== labels.MODKEY_TYPE) {
      throw new InvalidKey("not a version 1 moderation key record");
    }
    if (!Array.isArray(value.admins) || !value.admins.every((a) => hasExactFields(a, ADMIN_FIELDS))) {
      throw new InvalidKey("an admin has exactly fp and user");
    }
    const record = new ModerationKeyRecord({
      circle: value.circle,
      generation: value.generation,
      publicKey: fromB64(value.public_key, 32, "public_key"),
      admins: value.admins,
      recordSeq: value.record_seq,
      prev: value.prev === null ? null : fromB64(value.prev, 32, "prev"),
      signer: value.signer,
    });
    requireCanonical(bytes, record.toJson());
    return record;
  }

  toJson() {
    return {
      admins: this.admins.map(({ fp, user }) => ({ fp, user })),
      circle: this.circle,
      generation: this.generation,
      prev: this.prev === null ? null : b64(this.prev),
      public_key: b64(this.publicKey),
      record_seq: this.recordSeq,
      signer: this.signer,
      type: labels.MODKEY_TYPE,
      v: 1,
    };
  }

  get text() {
    return fromUtf8(this.bytes);
  }

  /** modkey_hash = HASH("bc.v1.modkey", record_bytes, 32) (§29.3). */
  hash() {
    return hash(labels.PERSON_MODKEY_HASH, this.bytes);
  }

  signatureMessage() {
    return concat(labels.MODKEY_SIGNATURE_CONTEXT, this.bytes);
  }

  sign(identity) {
    return identity.sign(this.signatureMessage());
  }

  verifySignature(signature, signerIdentity) {
    const message = this.signatureMessage();
    verifySignature(signature, message, signerIdentity.ed25519Public, "moderation key record signature");
  }

  /** Is this generation's admin set exactly the owners and admins (with keys) of `keyRecord` (§29.7)? */
  matches(keyRecord) {
    const admins = adminSet(keyRecord);
    return (
      keyRecord.circle === this.circle &&
      admins.length === this.admins.length &&
      admins.every(({ fp, user }, i) => this.admins[i].fp === fp && this.admins[i].user === user)
    );
  }
}

/**
 * The seq where the newest admin set began, over verified key records in order (§29.7
 * step 2); `known` is the value kept with the pin for a chain that starts at the pinned
 * record (-1 if none, in which case the chain's first record is the safe answer).
 */
export function adminsSince(chain, known = -1) {
  let since = known >= 0 ? known : chain[0].seq;
  for (let i = 1; i < chain.length; i++) {
    const before = adminSet(chain[i - 1]);
    const after = adminSet(chain[i]);
    const same =
      before.length === after.length && before.every((a) => after.some((b) => a.fp === b.fp && a.user === b.user));
    if (!same) {
      since = chain[i].seq;
    }
  }
  return since;
}

/** Current, not stale (§29.7 step 2): the admins of the newest key record, made since they began. */
export function isCurrentGeneration(record, newestKeyRecord, since) {
  return record.matches(newestKeyRecord) && record.recordSeq >= since;
}

/** The chain rules of §29.4; `previous` is null for generation 0. */
export function checkModerationSuccessor(previous, record) {
  if (previous === null) {
    if (record.generation !== 0 || record.prev !== null) {
      throw new RecordChainBroken("the first moderation key record must be generation 0");
    }
    return;
  }
  if (
    record.circle !== previous.circle ||
    record.generation !== previous.generation + 1 ||
    record.prev === null ||
    !equalBytes(record.prev, previous.hash()) ||
    record.recordSeq < previous.recordSeq
  ) {
    throw new RecordChainBroken(`moderation key record ${record.generation} does not follow the one before`);
  }
  if (equalBytes(record.publicKey, previous.publicKey)) {
    throw new RecordChainBroken("a new moderation key generation must have a new key");
  }
}

/** "backchannel.modkey-wrap.v1\0" || gctx(circle, generation) || secret (83 bytes, §29.5). */
export function moderationWrapPlaintext(key, { circleId, generation }) {
  return concat(labels.MODKEY_WRAP_PREFIX, generationContext(circleId, generation), key.toBytes());
}

export function sealModerationWrap(key, { circleId, generation, recipient }) {
  requireSize(recipient, 32, "an X25519 public key");
  return sodium.crypto_box_seal(moderationWrapPlaintext(key, { circleId, generation }), recipient);
}

/** An admin's own wrap of a generation, checked against the verified record's public key (§29.5). */
export function openModerationWrap(sealed, { circleId, generation, publicKey, identity }) {
  let plaintext;
  try {
    plaintext = sodium.crypto_box_seal_open(sealed, identity.x25519Public, identity.x25519Secret);
  } catch {
    throw new DecryptionFailed("the moderation key wrap does not open with this identity");
  }
  const prefix = concat(labels.MODKEY_WRAP_PREFIX, generationContext(circleId, generation));
  if (plaintext.length !== prefix.length + 32 || !equalBytes(plaintext.subarray(0, prefix.length), prefix)) {
    throw new WrongEpoch("the moderation key wrap is for another circle or generation");
  }
  const key = new ModerationKey(plaintext.subarray(prefix.length));
  if (!equalBytes(key.publicKey, publicKey)) {
    throw new UntrustedSigner("the wrapped moderation key is not the one the signed record names");
  }
  return key;
}

/** "backchannel.modkey-prev.v1\0" || gctx(circle, g) (§29.6). */
export function previousModerationKeyAssociatedData({ circleId, generation }) {
  return concat(labels.MODKEY_PREV_AD_PREFIX, generationContext(circleId, generation));
}

/** nonce || AEAD(box_key of generation g, secret of g - 1) (§29.6). */
export function sealPreviousModerationKey(newKey, previousKey, { circleId, generation }) {
  const ad = previousModerationKeyAssociatedData({ circleId, generation });
  return sealBox(newKey.boxKey, previousKey.toBytes(), ad, randomBytes(24));
}

/** Generation g - 1's secret, checked against that generation's public key. */
export function openPreviousModerationKey(box, { newKey, circleId, generation, publicKey }) {
  const ad = previousModerationKeyAssociatedData({ circleId, generation });
  const raw = openBox(newKey.boxKey, box, ad, "the previous moderation key does not open");
  if (raw.length !== 32) {
    throw new DecryptionFailed("the previous moderation key has the wrong size");
  }
  const key = new ModerationKey(raw);
  if (!equalBytes(key.publicKey, publicKey)) {
    throw new UntrustedSigner("the previous moderation key is not the one its record names");
  }
  return key;
}
