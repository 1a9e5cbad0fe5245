/**
 * Sealed warnings, part one (§36.1 to §36.4), as app/crypto/sealed.py: the circle seal
 * secret, per-name values, tags, polynomials and points over the ristretto255 scalar field
 * (libsodium's scalar operations), the admin-signed settings record, and the evaluation
 * note. The filing envelope and the match are in sealedfilings.js.
 */
import { DecryptionFailed, InvalidKey, RecordChainBroken } from "./errors.js";
import { b64, concat, fromB64, hex, uint64be, utf8, uuid, uuidBytes, uuidHex } from "./encoding.js";
import { blake2b, equalBytes, hash, kdf, openBox, verifySignature } from "./hash.js";
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
import { sharedKey, sealTo } from "./moderation.js";
import { exactKeys } from "./names.js";
import * as ristretto from "./ristretto.js";
import { OprfPublicKey } from "./voprf.js";

export const MIN_K = 2;
export const MAX_K = 5;
export const DEFAULT_K = 2;
export const DEFAULT_EVALUATIONS = 10;
export const MAX_EVALUATIONS = 100;
export const FORMS_PER_NAME = 2;
export const MAX_SEALED_ALIASES = 4;
export const MAX_TAGS = FORMS_PER_NAME * (1 + MAX_SEALED_ALIASES);
export const TAG_BYTES = 32;

const keyed = (key, personal, message, size = 32) => blake2b(message, { size, key, personal });

/** S = KDF(epoch_key[0], "bc.v1.seal-root") (§36.1). */
export function sealSecret(firstKey) {
  return kdf(firstKey.toBytes(), labels.PERSON_SEAL_SECRET);
}

/** The exact forms (§25.2) of a subject and its aliases, sorted by code point, each once. */
export function sealedNameForms(names) {
  const forms = new Set();
  for (const name of names) {
    for (const form of exactKeys(name)) {
      forms.add(form);
    }
  }
  return [...forms].sort(compareCodePoints);
}

export function sealedOprfInput(circleId, form) {
  return concat(labels.SEALED_NAME_PREFIX, uuidBytes(circleId), utf8(form));
}

/** v = BLAKE2b(key = S, personal = P("bc.v1.seal-value"), message = VOPRF output). */
export function nameValue(secret, output) {
  if (secret.length !== 32 || output.length !== 64) {
    throw new InvalidKey("a seal secret is 32 bytes and a VOPRF output 64");
  }
  return keyed(secret, labels.PERSON_SEAL_VALUE, output);
}

function scalarOf(number) {
  const out = new Uint8Array(ristretto.SCALAR_BYTES);
  out[0] = number;
  return out;
}

export function checkK(k) {
  if (!Number.isInteger(k) || k < MIN_K || k > MAX_K) {
    throw new InvalidKey(`k is ${MIN_K} to ${MAX_K}`);
  }
}

/** x(user) = reduce(BLAKE2b-512(personal = P("bc.v1.seal-point"), circle_id || user)). */
export function filerPoint(circleId, username) {
  const digest = blake2b(concat(uuidBytes(circleId), utf8(username)), {
    size: 64,
    personal: labels.PERSON_SEAL_POINT,
  });
  const point = ristretto.reduce(digest);
  if (equalBytes(point, ristretto.ZERO_SCALAR)) {
    throw new InvalidKey("a filer's point is zero");
  }
  return point;
}

/** The wrap key: KDF(f(0), "bc.v1.seal-wrap"). */
export function sealWrapKey(constant) {
  return kdf(constant, labels.PERSON_SEAL_WRAP);
}

/** What v and k fix (§36.2): the tag and f(x) = a_0 + a_1 x + … + a_{k-1} x^{k-1}. */
export class NamePolynomial {
  constructor(k, tag, coefficients) {
    this.k = k;
    this.tag = tag;
    this.coefficients = coefficients;
    Object.freeze(this);
  }

  static derive(value, k) {
    checkK(k);
    if (value.length !== 32) {
      throw new InvalidKey("a per-name value is 32 bytes");
    }
    const tag = keyed(value, labels.PERSON_SEAL_TAG, Uint8Array.of(k));
    const coefficients = [];
    for (let j = 0; j < k; j += 1) {
      coefficients.push(ristretto.reduce(keyed(value, labels.PERSON_SEAL_COEF, Uint8Array.of(k, j), 64)));
    }
    return new NamePolynomial(k, tag, coefficients);
  }

  /** f(x) by Horner's rule. */
  share(x) {
    let total = ristretto.ZERO_SCALAR;
    for (let j = this.coefficients.length - 1; j >= 0; j -= 1) {
      total = ristretto.scalarAdd(ristretto.scalarMul(total, x), this.coefficients[j]);
    }
    return total;
  }

  get wrapKey() {
    return sealWrapKey(this.coefficients[0]);
  }

  /**
   * Feldman commitments C_j = a_j·G: deterministic from v and k, so every honest filer of
   * one name seals the same ones, and any share can be checked.
   */
  get commitments() {
    return this.coefficients.map((a) => ristretto.mulBase(a));
  }
}

/**
 * Feldman's check: y·G = C_0 + x·C_1 + … + x^{k-1}·C_{k-1} (Horner over the group,
 * libsodium's operations). False for a commitment that is not an element or y that is not
 * a reduced scalar.
 */
export function shareVerifies(x, y, commitments) {
  if (
    commitments.length < MIN_K ||
    commitments.length > MAX_K ||
    !commitments.every((c) => ristretto.isElement(c)) ||
    !ristretto.isScalar(y)
  ) {
    return false;
  }
  let total = ristretto.IDENTITY;
  for (let j = commitments.length - 1; j >= 0; j -= 1) {
    total = ristretto.add(ristretto.mul(x, total), commitments[j]);
  }
  return equalBytes(total, ristretto.mulBase(y));
}

/** f(0) from points [x, y] with distinct x (Lagrange); InvalidKey on a repeated x. */
export function interpolate(points) {
  const xs = points.map(([x]) => hex(x));
  if (points.length === 0 || new Set(xs).size !== xs.length) {
    throw new InvalidKey("interpolation needs points with distinct x");
  }
  let total = ristretto.ZERO_SCALAR;
  points.forEach(([xi, yi], i) => {
    let numerator = scalarOf(1);
    let denominator = scalarOf(1);
    points.forEach(([xj], j) => {
      if (i !== j) {
        numerator = ristretto.scalarMul(numerator, xj);
        denominator = ristretto.scalarMul(denominator, ristretto.scalarSub(xj, xi));
      }
    });
    const weight = ristretto.scalarMul(numerator, ristretto.invert(denominator));
    total = ristretto.scalarAdd(total, ristretto.scalarMul(yi, weight));
  });
  return total;
}

const SETTINGS_FIELDS = ["circle", "evaluations_per_day", "k", "oprf_public_key", "prev", "seq", "signer", "type", "v"];

/** The admin-signed settings record (§36.3). */
export class SealedSettings {
  constructor({ circleId, seq, oprfPublicKey, k, evaluationsPerDay, prev, signer }) {
    Object.assign(this, { circleId, seq, oprfPublicKey, k, evaluationsPerDay, prev, signer });
    Object.freeze(this);
  }

  toJson() {
    return {
      v: 1,
      type: labels.SEALED_SETTINGS_TYPE,
      circle: uuidHex(this.circleId),
      seq: this.seq,
      oprf_public_key: b64(this.oprfPublicKey),
      k: this.k,
      evaluations_per_day: this.evaluationsPerDay,
      prev: this.prev === null ? null : b64(this.prev),
      signer: this.signer,
    };
  }

  toBytes() {
    return canonicalJson(this.toJson());
  }

  hash() {
    return hash(labels.PERSON_SEAL_SETTINGS, this.toBytes());
  }

  check() {
    checkK(this.k);
    if (!Number.isInteger(this.evaluationsPerDay) || this.evaluationsPerDay < 1 || this.evaluationsPerDay > MAX_EVALUATIONS) {
      throw new InvalidKey(`evaluations per day are 1 to ${MAX_EVALUATIONS}`);
    }
    if (!isCount(this.seq) || this.seq >= 2 ** 31) {
      throw new InvalidKey("seq out of range");
    }
    new OprfPublicKey(this.oprfPublicKey);
    if (typeof this.signer !== "string" || this.signer === "") {
      throw new InvalidKey("a settings record names its signer");
    }
  }

  /** Strict: every field, the right types, and byte-for-byte canonical. */
  static parse(input) {
    const raw = typeof input === "string" ? utf8(input) : input;
    const value = parseJson(raw);
    if (!hasExactFields(value, SETTINGS_FIELDS) || value.v !== 1 || value.type !== labels.SEALED_SETTINGS_TYPE) {
      throw new InvalidKey("not a sealed-warning settings record");
    }
    if (!isHex32(value.circle)) {
      throw new InvalidKey("circle is 32 lowercase hex digits");
    }
    const circleId = uuid(value.circle);
    const record = new SealedSettings({
      circleId,
      seq: value.seq,
      oprfPublicKey: fromB64(value.oprf_public_key, 32, "oprf_public_key"),
      k: value.k,
      evaluationsPerDay: value.evaluations_per_day,
      prev: value.prev === null ? null : fromB64(value.prev, 32, "prev"),
      signer: value.signer,
    });
    record.check();
    requireCanonical(raw, value);
    return record;
  }

  sign(identity) {
    return identity.sign(concat(labels.SEALED_SETTINGS_SIGNATURE_CONTEXT, this.toBytes()));
  }

  verifySignature(signature, signer) {
    verifySignature(
      signature,
      concat(labels.SEALED_SETTINGS_SIGNATURE_CONTEXT, this.toBytes()),
      signer.ed25519Public,
      "settings record signature",
    );
  }
}

/** §36.3 chain rules; RecordChainBroken otherwise. */
export function checkSettingsSuccessor(previous, record) {
  if (previous === null) {
    if (record.seq !== 0 || record.prev !== null) {
      throw new RecordChainBroken("the first settings record is seq 0 with no prev");
    }
    return;
  }
  if (
    record.circleId !== previous.circleId ||
    record.seq !== previous.seq + 1 ||
    record.prev === null ||
    !equalBytes(record.prev, previous.hash())
  ) {
    throw new RecordChainBroken("a settings record does not follow the one before");
  }
  if (!equalBytes(record.oprfPublicKey, previous.oprfPublicKey)) {
    throw new RecordChainBroken("the circle's VOPRF key changed");
  }
}

function noteAssociatedData(circleId, generation, epk, publicKey) {
  return concat(labels.SEALED_EVALUATION_AD_PREFIX, uuidBytes(circleId), uint64be(generation), epk, publicKey);
}

/** What an evaluation's audit leaf carries, sealed to the admins (§36.4). */
export function sealEvaluationNote(note, { circleId, generation, moderationPublic }) {
  return sealTo(moderationPublic, canonicalJson(note), (epk) =>
    noteAssociatedData(circleId, generation, epk, moderationPublic),
  );
}

export function openEvaluationNote(sealed, { key, circleId, generation }) {
  if (sealed.length < 32 + 24 + 16) {
    throw new DecryptionFailed("the evaluation note is too short");
  }
  const epk = sealed.subarray(0, 32);
  const plain = openBox(
    sharedKey(key.toBytes(), epk),
    sealed.subarray(32),
    noteAssociatedData(circleId, generation, epk, key.publicKey),
    "the evaluation note does not open",
  );
  let note;
  try {
    note = parseJson(plain);
  } catch {
    throw new DecryptionFailed("the evaluation note is not JSON");
  }
  if (note === null || typeof note !== "object" || Array.isArray(note)) {
    throw new DecryptionFailed("the evaluation note is not an object");
  }
  return note;
}

