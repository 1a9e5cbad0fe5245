/**
 * Sealed warnings, part two (§36.5 to §36.7), as app/crypto/sealed_filings.py: the filing
 * record (the warning under a fresh key W, W wrapped under each name's f(0), the filer's
 * points sealed to the moderation key, W sealed to the filer), its signature, and opening a
 * match, which checks every filing (signature, listed member, circle, k, tag, distinct
 * filers) before it interpolates.
 */
import { sodium } from "./sodium.js";
import { DecryptionFailed, InvalidKey, UntrustedSigner, WrongEpoch } from "./errors.js";
import { b64, compareBytes, concat, fromB64, hex, uint64be, utf8, uuid, uuidBytes, uuidHex } from "./encoding.js";
import { equalBytes, openBox, sealBox, verifySignature } from "./hash.js";
import { canonicalJson, compareCodePoints, hasExactFields, isHex32, parseJson, requireCanonical } from "./json.js";
import * as labels from "./labels.js";
import { pad, unpad } from "./entries.js";
import { sharedKey, sealTo } from "./moderation.js";
import { randomBytes } from "./random.js";
import * as ristretto from "./ristretto.js";
import { MAX_TAGS, TAG_BYTES, checkK, filerPoint, interpolate, sealWrapKey, shareVerifies } from "./sealed.js";

const NONCE_BYTES = 24;
export const WRAP_BYTES = NONCE_BYTES + 32 + 16;
export const SELF_BOX_BYTES = 48 + labels.SEALED_SELF_PREFIX.length + 32 + 32;
const MAX_BODY = 65536 + NONCE_BYTES + 16;

/** A match shown with fewer than k distinct members' verified filings. */
export class NotEnoughFilers extends UntrustedSigner {}

/**
 * Fewer than k filers' shares verify against one set of commitments: the match cannot open
 * yet (`excluded` says which filings failed and why).
 */
export class NotEnoughShares extends DecryptionFailed {
  constructor(message, excluded = []) {
    super(message);
    this.excluded = excluded;
  }
}

/**
 * Why a filing in a match was left out (§36.7): its points do not open under the moderation
 * key; its share fails its own commitments; it committed to another polynomial than the one
 * k verified shares agree on; or its wrap or body does not open under the key they give.
 */
export const EXCLUDED_REASONS = ["unreadable_share", "bad_share", "other_commitments", "decryption_failed"];

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
  const plain = canonicalJson({
    filing: uuidHex(filingId),
    points: ordered.map((p) => b64(p.share(x))),
    commitments: ordered.map((p) => p.commitments.map(b64)),
  });
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

/** An admin opens a filing's points and commitments: Map(b64(tag) → {point, commitments}). */
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
  if (
    !hasExactFields(data, ["commitments", "filing", "points"]) ||
    !Array.isArray(data.points) ||
    !Array.isArray(data.commitments) ||
    !data.commitments.every(Array.isArray)
  ) {
    throw new DecryptionFailed("the sealed points are malformed");
  }
  if (data.filing !== uuidHex(filing.filingId)) {
    throw new WrongEpoch("the points belong to another filing");
  }
  let values;
  let commitments;
  try {
    values = data.points.map((v) => fromB64(v, 32, "point"));
    commitments = data.commitments.map((row) => row.map((c) => fromB64(c, 32, "commitment")));
  } catch {
    throw new DecryptionFailed("the sealed points are malformed");
  }
  if (
    values.length !== filing.tags.length ||
    commitments.length !== filing.tags.length ||
    commitments.some((row) => row.length !== filing.k)
  ) {
    throw new DecryptionFailed("one point and k commitments per tag");
  }
  return new Map(filing.tags.map((tag, i) => [b64(tag), { point: values[i], commitments: commitments[i] }]));
}

/**
 * Verify a match the server shows and open every filing in it (§36.7). `filings` is
 * [{filing, signature}]; `identities` a Map of the active members the newest signed record
 * lists; `k` the match's k, which the caller checked against the settings chain.
 *
 * What the server controls (which filings, under which tag and k) is checked first and
 * refused as a whole. What a member controls (the share and commitments they sealed, their
 * wrap) is checked per filing: a filing that fails is excluded and reported, and the match
 * opens with any k distinct filers whose shares verify against the same commitments
 * (NotEnoughShares if there are fewer). Returns {opened: [{filing, payload}], excluded:
 * [{filing, reason}]}.
 */
export function openMatch(filings, { circleId, tag, k, identities, moderationKeys }) {
  checkK(k);
  const filers = new Set();
  for (const { filing, signature } of filings) {
    const identity = identities.get(filing.filer);
    if (identity === undefined) {
      throw new UntrustedSigner(`${filing.filer} is not a member the circle's record lists`);
    }
    filing.verifySignature(signature, identity);
    if (filing.circleId !== uuid(circleId) || filing.k !== k || !filing.tags.some((t) => equalBytes(t, tag))) {
      throw new WrongEpoch("a filing of another circle, name or k");
    }
    filers.add(filing.filer);
  }
  if (filers.size < k) {
    throw new NotEnoughFilers(`${filers.size} distinct filers; this circle needs ${k}`);
  }
  const excluded = new Map(); // filing id → {filing, reason}
  const groups = new Map(); // hex(commitments) → {commitments, verified: Map(filer → y)}
  const groupOf = new Map(); // filing id → hex(commitments)
  for (const { filing } of filings) {
    const key = moderationKeys.get(filing.generation);
    if (key === undefined) {
      throw new DecryptionFailed(`no moderation key of generation ${filing.generation}`);
    }
    let share;
    try {
      share = openFilingPoints(filing, key).get(b64(tag));
    } catch (error) {
      if (!(error instanceof DecryptionFailed || error instanceof WrongEpoch)) {
        throw error;
      }
      excluded.set(filing.filingId, { filing, reason: "unreadable_share" });
      continue;
    }
    if (!shareVerifies(filerPoint(circleId, filing.filer), share.point, share.commitments)) {
      excluded.set(filing.filingId, { filing, reason: "bad_share" });
      continue;
    }
    const id = share.commitments.map(hex).join("");
    if (!groups.has(id)) {
      groups.set(id, { commitments: share.commitments, verified: new Map() });
    }
    const group = groups.get(id);
    if (!group.verified.has(filing.filer)) {
      group.verified.set(filing.filer, share.point);
    }
    groupOf.set(filing.filingId, id);
  }
  if (groups.size === 0) {
    throw new NotEnoughShares(`no share verifies; this circle needs ${k}`, [...excluded.values()]);
  }
  // The commitments most distinct filers verify against (ties: the smallest bytes), so a
  // spoiler's own commitments never outvote k honest filers.
  const [bestId, best] = [...groups.entries()].sort(
    ([a, x], [b, y]) => y.verified.size - x.verified.size || (a < b ? -1 : a > b ? 1 : 0),
  )[0];
  if (best.verified.size < k) {
    throw new NotEnoughShares(`${best.verified.size} verified shares; this circle needs ${k}`, [...excluded.values()]);
  }
  const chosen = [...best.verified.entries()].sort(([a], [b]) => compareCodePoints(a, b)).slice(0, k);
  const constant = interpolate(chosen.map(([filer, y]) => [filerPoint(circleId, filer), y]));
  if (!equalBytes(ristretto.mulBase(constant), best.commitments[0])) {
    throw new DecryptionFailed("the interpolated constant is not the committed one");
  }
  const wrapKey = sealWrapKey(constant);
  const opened = [];
  for (const { filing } of filings) {
    if (excluded.has(filing.filingId)) {
      continue;
    }
    if (groupOf.get(filing.filingId) !== bestId) {
      excluded.set(filing.filingId, { filing, reason: "other_commitments" });
      continue;
    }
    try {
      const wrap = filing.wraps[filing.tags.findIndex((t) => equalBytes(t, tag))];
      const fileKey = openBox(wrapKey, wrap, wrapAd(circleId, filing.filingId, tag), "the wrap does not open");
      opened.push({ filing, payload: openBody(filing, fileKey) });
    } catch (error) {
      if (!(error instanceof DecryptionFailed)) {
        throw error;
      }
      excluded.set(filing.filingId, { filing, reason: "decryption_failed" });
    }
  }
  return { opened, excluded: [...excluded.values()] };
}
