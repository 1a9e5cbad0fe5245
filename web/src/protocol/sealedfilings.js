/**
 * Sealed warnings, part two (§36.5 to §36.7), as app/crypto/sealed_filings.py: the filing
 * record (the warning under a fresh key W, W wrapped under each name's f(0), the filer's
 * points sealed to the moderation key, W sealed to the filer), its signature, and opening a
 * match, which checks every filing (signature, listed member, circle, k, tag, distinct
 * filers) before it interpolates.
 */
import { sodium } from "./sodium.js";
import { DecryptionFailed, InvalidKey, UntrustedSigner, WrongEpoch } from "./errors.js";
import { b64, compareBytes, concat, fromB64, uint64be, utf8, uuid, uuidBytes, uuidHex } from "./encoding.js";
import { equalBytes, openBox, sealBox, verifySignature } from "./hash.js";
import { canonicalJson, compareCodePoints, hasExactFields, isHex32, parseJson, requireCanonical } from "./json.js";
import * as labels from "./labels.js";
import { pad, unpad } from "./entries.js";
import { sharedKey, sealTo } from "./moderation.js";
import { randomBytes } from "./random.js";
import { MAX_TAGS, TAG_BYTES, checkK, filerPoint, interpolate, sealWrapKey } from "./sealed.js";

const NONCE_BYTES = 24;
export const WRAP_BYTES = NONCE_BYTES + 32 + 16;
export const SELF_BOX_BYTES = 48 + labels.SEALED_SELF_PREFIX.length + 32 + 32;
const MAX_BODY = 65536 + NONCE_BYTES + 16;

/** A match shown with fewer than k distinct members' verified filings. */
export class NotEnoughFilers extends UntrustedSigner {}

const FILING_FIELDS = ["body", "circle", "filer", "filing", "generation", "k", "points", "self_box", "tags", "type", "v", "wraps"];

export class SealedFiling {
  constructor({ circleId, filingId, filer, k, generation, tags, wraps, points, body, selfBox }) {
    Object.assign(this, { circleId, filingId, filer, k, generation, tags, wraps, points, body, selfBox });
    Object.freeze(this);
  }

  toBytes() {
    return canonicalJson({
      v: 1,
      type: labels.SEALED_FILING_TYPE,
      circle: uuidHex(this.circleId),
      filing: uuidHex(this.filingId),
      filer: this.filer,
      k: this.k,
      generation: this.generation,
      tags: this.tags.map(b64),
      wraps: this.wraps.map(b64),
      points: b64(this.points),
      body: b64(this.body),
      self_box: b64(this.selfBox),
    });
  }

  check() {
    checkK(this.k);
    if (!Number.isInteger(this.generation) || this.generation < 0 || this.generation >= 2 ** 31) {
      throw new InvalidKey("generation out of range");
    }
    if (this.tags.length < 1 || this.tags.length > MAX_TAGS || this.wraps.length !== this.tags.length) {
      throw new InvalidKey(`a filing has 1 to ${MAX_TAGS} tags, each with one wrap`);
    }
    for (let i = 0; i < this.tags.length; i += 1) {
      if (this.tags[i].length !== TAG_BYTES || (i > 0 && compareBytes(this.tags[i - 1], this.tags[i]) >= 0)) {
        throw new InvalidKey("tags are 32 bytes, sorted, each once");
      }
    }
    if (this.wraps.some((w) => w.length !== WRAP_BYTES) || this.selfBox.length !== SELF_BOX_BYTES) {
      throw new InvalidKey("a wrap or the filer's own box has the wrong size");
    }
    if (this.body.length < NONCE_BYTES + 16 + 512 || this.body.length > MAX_BODY) {
      throw new InvalidKey("the body is out of range");
    }
    if (this.points.length < 32 + NONCE_BYTES + 16 || this.points.length > 4096) {
      throw new InvalidKey("the sealed points are out of range");
    }
    if (typeof this.filer !== "string" || this.filer === "" || [...this.filer].length > 64) {
      throw new InvalidKey("a filing names its filer");
    }
  }

  /** Strict: every field, the right types, and byte-for-byte canonical. */
  static parse(input) {
    const raw = typeof input === "string" ? utf8(input) : input;
    const value = parseJson(raw);
    if (!hasExactFields(value, FILING_FIELDS) || value.v !== 1 || value.type !== labels.SEALED_FILING_TYPE) {
      throw new InvalidKey("not a sealed filing");
    }
    if (!isHex32(value.circle) || !isHex32(value.filing) || !Array.isArray(value.tags) || !Array.isArray(value.wraps)) {
      throw new InvalidKey("a malformed sealed filing");
    }
    const filing = new SealedFiling({
      circleId: uuid(value.circle),
      filingId: uuid(value.filing),
      filer: value.filer,
      k: value.k,
      generation: value.generation,
      tags: value.tags.map((t) => fromB64(t, 32, "tag")),
      wraps: value.wraps.map((w) => fromB64(w, WRAP_BYTES, "wrap")),
      points: fromB64(value.points, undefined, "points"),
      body: fromB64(value.body, undefined, "body"),
      selfBox: fromB64(value.self_box, SELF_BOX_BYTES, "self_box"),
    });
    filing.check();
    requireCanonical(raw, value);
    return filing;
  }

  verifySignature(signature, filer) {
    verifySignature(
      signature,
      concat(labels.SEALED_FILING_SIGNATURE_CONTEXT, this.toBytes()),
      filer.ed25519Public,
      "sealed filing signature",
    );
  }
}

const bodyAd = (circleId, filingId) => concat(labels.SEALED_BODY_AD_PREFIX, uuidBytes(circleId), uuidBytes(filingId));
const wrapAd = (circleId, filingId, tag) =>
  concat(labels.SEALED_WRAP_AD_PREFIX, uuidBytes(circleId), uuidBytes(filingId), tag);
const pointsAd = (circleId, filingId, generation, epk, publicKey) =>
  concat(labels.SEALED_SHARE_AD_PREFIX, uuidBytes(circleId), uuidBytes(filingId), uint64be(generation), epk, publicKey);
const selfPrefix = (circleId, filingId) => concat(labels.SEALED_SELF_PREFIX, uuidBytes(circleId), uuidBytes(filingId));

/** The filing and the filer's signature over it (§36.5). `payload` is a warning body. */
export function sealFiling(payload, { circleId, filingId, filer, identity, polynomials, moderationPublic, generation }) {
  if (polynomials.length === 0 || new Set(polynomials.map((p) => p.k)).size !== 1) {
    throw new InvalidKey("a filing needs polynomials of one k");
  }
  const ordered = [...polynomials].sort((a, b) => compareBytes(a.tag, b.tag));
  const fileKey = randomBytes(32);
  const body = sealBox(fileKey, pad(canonicalJson(payload)), bodyAd(circleId, filingId), randomBytes(24));
  const wraps = ordered.map((p) => sealBox(p.wrapKey, fileKey, wrapAd(circleId, filingId, p.tag), randomBytes(24)));
  const x = filerPoint(circleId, filer);
  const plain = canonicalJson({ filing: uuidHex(filingId), points: ordered.map((p) => b64(p.share(x))) });
  const points = sealTo(moderationPublic, plain, (epk) => pointsAd(circleId, filingId, generation, epk, moderationPublic));
  const selfBox = sodium.crypto_box_seal(concat(selfPrefix(circleId, filingId), fileKey), identity.x25519Public);
  const filing = new SealedFiling({
    circleId: uuid(circleId),
    filingId: uuid(filingId),
    filer,
    k: ordered[0].k,
    generation,
    tags: ordered.map((p) => p.tag),
    wraps,
    points,
    body,
    selfBox,
  });
  filing.check();
  return { filing, signature: identity.sign(concat(labels.SEALED_FILING_SIGNATURE_CONTEXT, filing.toBytes())) };
}

function openBody(filing, fileKey) {
  const padded = openBox(fileKey, filing.body, bodyAd(filing.circleId, filing.filingId), "the body does not open");
  let payload;
  try {
    payload = parseJson(unpad(padded));
  } catch {
    throw new DecryptionFailed("the sealed warning is not JSON");
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    throw new DecryptionFailed("the sealed warning is not an object");
  }
  return payload;
}

/** The filer reads their own filing through the box sealed to their key. */
export function openOwnFiling(filing, identity) {
  let plain;
  try {
    plain = sodium.crypto_box_seal_open(filing.selfBox, identity.x25519Public, identity.x25519Secret);
  } catch {
    throw new DecryptionFailed("the sealed filing does not open with your key");
  }
  const prefix = selfPrefix(filing.circleId, filing.filingId);
  if (plain.length !== prefix.length + 32 || !equalBytes(plain.subarray(0, prefix.length), prefix)) {
    throw new WrongEpoch("the sealed filing's own box is for another filing");
  }
  return openBody(filing, plain.subarray(prefix.length));
}

/** An admin opens a filing's points: Map(hex(tag) → f(x)). */
export function openFilingPoints(filing, key) {
  const epk = filing.points.subarray(0, 32);
  const plain = openBox(
    sharedKey(key.toBytes(), epk),
    filing.points.subarray(32),
    pointsAd(filing.circleId, filing.filingId, filing.generation, epk, key.publicKey),
    "the sealed points do not open",
  );
  let data;
  try {
    data = parseJson(plain);
  } catch {
    throw new DecryptionFailed("the sealed points are malformed");
  }
  if (!hasExactFields(data, ["filing", "points"]) || !Array.isArray(data.points)) {
    throw new DecryptionFailed("the sealed points are malformed");
  }
  if (data.filing !== uuidHex(filing.filingId)) {
    throw new WrongEpoch("the points belong to another filing");
  }
  let values;
  try {
    values = data.points.map((v) => fromB64(v, 32, "point"));
  } catch {
    throw new DecryptionFailed("the sealed points are malformed");
  }
  if (values.length !== filing.tags.length) {
    throw new DecryptionFailed("one point per tag");
  }
  return new Map(filing.tags.map((tag, i) => [b64(tag), values[i]]));
}

/**
 * Verify a match the server shows and open every filing in it (§36.7). `filings` is
 * [{filing, signature}]; `identities` a Map of the active members the newest signed record
 * lists; `k` the match's k, which the caller checked against the settings chain.
 */
export function openMatch(filings, { circleId, tag, k, identities, moderationKeys }) {
  checkK(k);
  const first = new Map();
  for (const { filing, signature } of filings) {
    const identity = identities.get(filing.filer);
    if (identity === undefined) {
      throw new UntrustedSigner(`${filing.filer} is not a member the circle's record lists`);
    }
    filing.verifySignature(signature, identity);
    if (filing.circleId !== uuid(circleId) || filing.k !== k || !filing.tags.some((t) => equalBytes(t, tag))) {
      throw new WrongEpoch("a filing of another circle, name or k");
    }
    if (!first.has(filing.filer)) {
      first.set(filing.filer, filing);
    }
  }
  if (first.size < k) {
    throw new NotEnoughFilers(`${first.size} distinct filers; this circle needs ${k}`);
  }
  const chosen = [...first.entries()].sort(([a], [b]) => compareCodePoints(a, b)).slice(0, k);
  const points = chosen.map(([filer, filing]) => {
    const key = moderationKeys.get(filing.generation);
    if (key === undefined) {
      throw new DecryptionFailed(`no moderation key of generation ${filing.generation}`);
    }
    return [filerPoint(circleId, filer), openFilingPoints(filing, key).get(b64(tag))];
  });
  const wrapKey = sealWrapKey(interpolate(points));
  return filings.map(({ filing }) => {
    const wrap = filing.wraps[filing.tags.findIndex((t) => equalBytes(t, tag))];
    const fileKey = openBox(wrapKey, wrap, wrapAd(circleId, filing.filingId, tag), "the wrap does not open");
    return { filing, payload: openBody(filing, fileKey) };
  });
}
