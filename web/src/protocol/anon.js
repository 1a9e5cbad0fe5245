/**
 * Anonymous posting tokens and the sealed author (§38), as app/crypto/anon.py: the
 * admin-signed issuance record that pins an epoch's token key, token inputs and their
 * scope, the nullifier, and the author claim sealed to the circle's moderation key.
 */
import { canonicalJson, hasExactFields, isCount, isHex32, parseJson, requireCanonical } from "./json.js";
import { DecryptionFailed, InvalidKey } from "./errors.js";
import { b64, concat, fromB64, hex, uint64be, utf8, uuid, uuidBytes, uuidHex } from "./encoding.js";
import { equalBytes, hash, openBox, requireSize, verifySignature } from "./hash.js";
import * as labels from "./labels.js";
import { sealTo, sharedKey } from "./moderation.js";
import { randomBytes } from "./random.js";
import { OPRF_OUTPUT_BYTES, OprfPublicKey } from "./voprf.js";

export const TOKEN_RANDOM_BYTES = 32;
export const TOKEN_INPUT_BYTES = labels.ANON_TOKEN_PREFIX.length + 16 + 8 + TOKEN_RANDOM_BYTES; // 82
export const MAX_TOKENS_PER_WEEK = 64;
export const DEFAULT_TOKENS_PER_WEEK = 16;
export const MAX_TOKEN_BATCH = 8;
export const WEEK_SECONDS = 7 * 86_400;
export const MAX_TOKEN_EPOCH = 2 ** 53; // exclusive, as in app/crypto/anon.py
export const SEALED_AUTHOR_MIN = 32 + 24 + 16;
export const SEALED_AUTHOR_MAX = 2048;

/** The issuance period: whole weeks since the Unix epoch (weeks start on Thursdays). */
export function tokenPeriod(unixSeconds) {
  return Math.floor(unixSeconds / WEEK_SECONDS);
}

const RECORD_FIELDS = ["circle", "epoch", "oprf_public_key", "signer", "tokens_per_week", "type", "v"];

/** The admin-signed record pinning a circle's token key for one epoch (§38.1). */
export class IssuanceRecord {
  constructor({ circleId, epoch, oprfPublicKey, tokensPerWeek, signer }) {
    Object.assign(this, { circleId, epoch, oprfPublicKey, tokensPerWeek, signer });
    Object.freeze(this);
  }

  toJson() {
    return {
      v: 1,
      type: labels.ANON_ISSUANCE_TYPE,
      circle: uuidHex(this.circleId),
      epoch: this.epoch,
      oprf_public_key: b64(this.oprfPublicKey),
      tokens_per_week: this.tokensPerWeek,
      signer: this.signer,
    };
  }

  toBytes() {
    return canonicalJson(this.toJson());
  }

  check() {
    if (!isCount(this.epoch)) {
      throw new InvalidKey("epoch out of range");
    }
    if (!Number.isInteger(this.tokensPerWeek) || this.tokensPerWeek < 1 || this.tokensPerWeek > MAX_TOKENS_PER_WEEK) {
      throw new InvalidKey(`tokens per week are 1 to ${MAX_TOKENS_PER_WEEK}`);
    }
    new OprfPublicKey(this.oprfPublicKey);
    if (typeof this.signer !== "string" || this.signer === "") {
      throw new InvalidKey("an issuance record names its signer");
    }
  }

  /** Strict: exactly its fields, the right types, byte-for-byte canonical. */
  static parse(input) {
    const raw = typeof input === "string" ? utf8(input) : input;
    const value = parseJson(raw);
    if (!hasExactFields(value, RECORD_FIELDS) || value.v !== 1 || value.type !== labels.ANON_ISSUANCE_TYPE) {
      throw new InvalidKey("not an issuance record");
    }
    if (!isHex32(value.circle)) {
      throw new InvalidKey("circle is 32 lowercase hex digits");
    }
    const record = new IssuanceRecord({
      circleId: uuid(value.circle),
      epoch: value.epoch,
      oprfPublicKey: fromB64(value.oprf_public_key, 32, "oprf_public_key"),
      tokensPerWeek: value.tokens_per_week,
      signer: value.signer,
    });
    record.check();
    requireCanonical(raw, value);
    return record;
  }

  sign(identity) {
    return identity.sign(concat(labels.ANON_ISSUANCE_SIGNATURE_CONTEXT, this.toBytes()));
  }

  verifySignature(signature, signer) {
    verifySignature(
      signature,
      concat(labels.ANON_ISSUANCE_SIGNATURE_CONTEXT, this.toBytes()),
      signer.ed25519Public,
      "issuance record signature",
    );
  }
}

/** "backchannel.anon-token.v1\0" || circle_id || u64(epoch) || 32 random bytes (§38.2). */
export function tokenInput(circleId, epoch, random = null) {
  const tail = random === null ? randomBytes(TOKEN_RANDOM_BYTES) : random;
  requireSize(tail, TOKEN_RANDOM_BYTES, "a token's random part");
  return concat(labels.ANON_TOKEN_PREFIX, uuidBytes(circleId), uint64be(epoch), tail);
}

/** The circle and epoch a token input names; InvalidKey for any other shape. */
export function tokenScope(input) {
  const prefix = labels.ANON_TOKEN_PREFIX;
  if (!(input instanceof Uint8Array) || input.length !== TOKEN_INPUT_BYTES || !equalBytes(input.subarray(0, prefix.length), prefix)) {
    throw new InvalidKey("not an anonymous posting token");
  }
  const at = prefix.length;
  const epoch = new DataView(input.buffer, input.byteOffset + at + 16, 8).getBigUint64(0);
  if (epoch >= 2n ** 53n) {
    throw new InvalidKey("epoch out of range");
  }
  return { circleId: uuid(hex(input.subarray(at, at + 16))), epoch: Number(epoch) };
}

/** What the server keeps of a spent token (§38.4). */
export function tokenNullifier(input) {
  return hash(labels.PERSON_ANON_SPENT, input);
}

export function outputsEqual(expected, given) {
  return given instanceof Uint8Array && given.length === OPRF_OUTPUT_BYTES && equalBytes(expected, given);
}

/** Signed by an anonymous warning's per-entry key to read its cases without a session (§38.5). */
export function authorCasesMessage(circleId, entryId, at) {
  return concat(labels.ANON_CASES_SIGNATURE_CONTEXT, uuidBytes(circleId), uuidBytes(entryId), uint64be(at));
}

export function authorClaimMessage(circleId, objectId, authorKey) {
  requireSize(authorKey, 32, "an author key");
  return concat(labels.ANON_AUTHOR_SIGNATURE_CONTEXT, uuidBytes(circleId), uuidBytes(objectId), authorKey);
}

function authorAd(circleId, objectId, generation, epk, publicKey) {
  return concat(labels.ANON_AUTHOR_AD_PREFIX, uuidBytes(circleId), uuidBytes(objectId), uint64be(generation), epk, publicKey);
}

/** The plaintext sealed to the admins: who wrote it, signed by their identity key (§38.3). */
export function authorClaim(identity, username, { circleId, objectId, authorKey }) {
  const signature = identity.sign(authorClaimMessage(circleId, objectId, authorKey));
  return canonicalJson({ v: 1, type: labels.ANON_AUTHOR_TYPE, user: username, signature: b64(signature) });
}

export function sealAuthor(claim, { circleId, objectId, generation, moderationPublic }) {
  return sealTo(moderationPublic, claim, (epk) => authorAd(circleId, objectId, generation, epk, moderationPublic));
}

/** Open a sealed author with the generation's moderation key: {user, signature}. */
export function openAuthor(sealed, { key, circleId, objectId, generation }) {
  if (!(sealed instanceof Uint8Array) || sealed.length < SEALED_AUTHOR_MIN || sealed.length > SEALED_AUTHOR_MAX) {
    throw new DecryptionFailed("the sealed author has the wrong size");
  }
  const epk = sealed.subarray(0, 32);
  const plain = openBox(
    sharedKey(key.toBytes(), epk),
    sealed.subarray(32),
    authorAd(circleId, objectId, generation, epk, key.publicKey),
    "the sealed author does not open",
  );
  let value;
  try {
    value = parseJson(plain);
  } catch {
    throw new DecryptionFailed("the sealed author is malformed");
  }
  if (
    !hasExactFields(value, ["signature", "type", "user", "v"]) ||
    value.v !== 1 ||
    value.type !== labels.ANON_AUTHOR_TYPE ||
    typeof value.user !== "string" ||
    value.user === ""
  ) {
    throw new DecryptionFailed("the sealed author is malformed");
  }
  let signature;
  try {
    signature = fromB64(value.signature, 64, "signature");
  } catch {
    throw new DecryptionFailed("the sealed author's signature is not 64 bytes");
  }
  return { user: value.user, signature };
}

/** The named member's identity key signed this object's per-object key. */
export function verifyAuthorClaim(claim, identity, { circleId, objectId, authorKey }) {
  verifySignature(claim.signature, authorClaimMessage(circleId, objectId, authorKey), identity.ed25519Public, "sealed author");
}
