/**
 * Warnings and corroborations (§19-§24): padded, committed, encrypted and signed
 * envelopes, the per-object anonymous signing key, and retraction signatures.
 *
 * A reader opens an envelope in the context it *expects* (its circle, the row's epoch,
 * entry and corroboration ids) and checks in the order of §23, so the first failing
 * step names the error.
 */
import { BadSignature, DecryptionFailed, InvalidKey, WrongEpoch } from "./errors.js";
import { b64, concat, fromB64, uint64be, uuid, uuidBytes } from "./encoding.js";
import {
  aeadDecrypt,
  aeadEncrypt,
  blake2b,
  equalBytes,
  requireSize,
  sign,
  signingKeyPair,
  verifySignature,
} from "./hash.js";
import { canonicalJson, parseJson } from "./json.js";
import * as labels from "./labels.js";
import { randomBytes } from "./random.js";
import { codePoints } from "./text.js";

export const BUCKETS = Object.freeze([512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);
export const CATEGORIES = Object.freeze([
  "harassment",
  "sexual-harassment",
  "assault",
  "stalking",
  "intimidation",
  "discrimination",
  "bullying",
  "boundary-violation",
  "wage-theft",
  "unsafe-conditions",
  "other",
]);
export const SEVERITIES = Object.freeze(["concern", "serious", "severe"]);
export const ENTRY = "entry";
export const CORROBORATION = "corroboration";
const OPENING_BYTES = 32;

/** ISO/IEC 7816-4 padding to the smallest bucket with room for the 0x80 marker (§20). */
export function pad(data) {
  const bucket = BUCKETS.find((size) => data.length < size);
  if (bucket === undefined) {
    throw new InvalidKey(`payload larger than ${BUCKETS.at(-1) - 1} bytes`);
  }
  const padded = new Uint8Array(bucket);
  padded.set(data);
  padded[data.length] = 0x80;
  return padded;
}

export function unpad(padded) {
  if (!BUCKETS.includes(padded.length)) {
    throw new DecryptionFailed("padded payload has a size that is not a bucket");
  }
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) {
    end--;
  }
  if (end === 0 || padded[end - 1] !== 0x80) {
    throw new DecryptionFailed("bad padding");
  }
  return padded.subarray(0, end - 1);
}

/** BLAKE2b(out = 32, key = opening, personal = P("bc.v1.franking"), message = body) (§21). */
export function commitment(body, opening) {
  requireSize(opening, OPENING_BYTES, "an opening");
  return blake2b(body, { size: 32, key: opening, personal: labels.PERSON_FRANKING });
}

/** What a verifier checks when a reporter reveals a body and its opening (§21). */
export function verifyCommitment(body, opening, expected) {
  return equalBytes(commitment(body, opening), expected);
}

/** Where an envelope belongs (§22): kind, circle, epoch, entry and corroboration ids. */
export class EnvelopeContext {
  constructor({ kind, circleId, epoch, entryId, corroborationId = null }) {
    if (!(kind === ENTRY && corroborationId === null) && !(kind === CORROBORATION && corroborationId !== null)) {
      throw new InvalidKey("unknown envelope kind");
    }
    this.kind = kind;
    this.circleId = uuid(circleId);
    this.epoch = epoch;
    uint64be(epoch);
    this.entryId = uuid(entryId);
    this.corroborationId = corroborationId === null ? null : uuid(corroborationId);
    Object.freeze(this);
  }

  /** entry_id for a warning, corroboration_id for a corroboration (§22.1). */
  get objectId() {
    return this.corroborationId ?? this.entryId;
  }

  withEpoch(epoch) {
    return new EnvelopeContext({ ...this, epoch });
  }

  /** ad(warning) = 125 bytes, ad(corroboration) = 149 bytes (§22.2). */
  associatedData(authorKey, commit) {
    requireSize(authorKey, 32, "an author key");
    requireSize(commit, 32, "a commitment");
    const head = this.kind === ENTRY ? labels.ENTRY_AD_PREFIX : labels.CORROBORATION_AD_PREFIX;
    const tail = this.kind === ENTRY ? new Uint8Array(0) : uuidBytes(this.corroborationId);
    const ctx = concat(uuidBytes(this.circleId), uint64be(this.epoch));
    return concat(head, ctx, uuidBytes(this.entryId), tail, authorKey, commit);
  }
}

/** The five envelope fields (§22), as bytes. */
export class Envelope {
  constructor({ authorKey, commitment: commit, nonce, ciphertext, signature }) {
    for (const value of [authorKey, commit, nonce, ciphertext, signature]) {
      if (!(value instanceof Uint8Array)) {
        throw new InvalidKey("envelope fields are bytes");
      }
    }
    Object.assign(this, { authorKey, commitment: commit, nonce, ciphertext, signature });
    Object.freeze(this);
  }

  /** The envelope as sent over HTTP (strict base64; sizes are checked when opening). */
  static fromJson(value) {
    return new Envelope({
      authorKey: fromB64(value.author_key, undefined, "author_key"),
      commitment: fromB64(value.commitment, undefined, "commitment"),
      nonce: fromB64(value.nonce, undefined, "nonce"),
      ciphertext: fromB64(value.ciphertext, undefined, "ciphertext"),
      signature: fromB64(value.signature, undefined, "signature"),
    });
  }

  toJson() {
    return {
      author_key: b64(this.authorKey),
      commitment: b64(this.commitment),
      nonce: b64(this.nonce),
      ciphertext: b64(this.ciphertext),
      signature: b64(this.signature),
    };
  }

  /** "backchannel.envelope-sig.v1\0" || ad || nonce || ciphertext (§22.3). */
  signedMessage(context) {
    const ad = context.associatedData(this.authorKey, this.commitment);
    return concat(labels.ENVELOPE_SIGNATURE_CONTEXT, ad, this.nonce, this.ciphertext);
  }

  /** BadSignature unless `authorKey` signed this envelope in this context (§23 step 1). */
  verify(context) {
    if (this.signature.length !== 64 || this.nonce.length !== 24) {
      throw new BadSignature("malformed envelope");
    }
    let message;
    try {
      message = this.signedMessage(context);
    } catch (error) {
      throw new BadSignature(`malformed envelope: ${error.message}`);
    }
    verifySignature(this.signature, message, this.authorKey, "envelope signature");
  }
}

/** A signing key: the identity's (named) or a per-object derived one (anonymous). */
class SigningKey {
  #privateKey;

  constructor(seed) {
    const pair = signingKeyPair(seed);
    this.#privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    Object.freeze(this);
  }

  sign(message) {
    return sign(message, this.#privateKey);
  }
}

/** The anonymous signing key of §22.1, re-derivable only from the author's Ed25519 seed. */
export function anonymousSigningKey(identity, { circleId, objectId }) {
  const seed = blake2b(concat(uuidBytes(circleId), uuidBytes(objectId)), {
    size: 32,
    key: identity.ed25519Seed,
    personal: labels.PERSON_ANON_ENTRY,
  });
  return new SigningKey(seed);
}

/** The identity key for a named envelope, the derived key for an anonymous one. */
export function signingKeyFor(identity, context, { anonymous }) {
  if (!anonymous) {
    return { publicKey: identity.ed25519Public, sign: (message) => identity.sign(message) };
  }
  return anonymousSigningKey(identity, { circleId: context.circleId, objectId: context.objectId });
}

/** Seal a payload body (§22.4); the opening and nonce are fresh and random. */
export function seal(body, { key, context, signingKey }) {
  const bodyBytes = canonicalJson(body);
  const opening = randomBytes(OPENING_BYTES);
  const commit = commitment(bodyBytes, opening);
  const nonce = randomBytes(24);
  const ad = context.associatedData(signingKey.publicKey, commit);
  const ciphertext = aeadEncrypt(key.entryKey, nonce, pad(concat(opening, bodyBytes)), ad);
  const unsigned = new Envelope({
    authorKey: signingKey.publicKey,
    commitment: commit,
    nonce,
    ciphertext,
    signature: new Uint8Array(0),
  });
  return new Envelope({ ...unsigned, signature: signingKey.sign(unsigned.signedMessage(context)) });
}

/**
 * Steps 1-7 of §23: the body (a JSON object), its exact bytes and the opening.
 * `keys` maps each epoch the reader holds to its CircleKey.
 */
export function openEnvelope(envelope, { keys, context }) {
  try {
    envelope.verify(context);
  } catch (error) {
    if (!(error instanceof BadSignature)) {
      throw error;
    }
    for (const epoch of keys.keys()) {
      if (epoch !== context.epoch && verifiesIn(envelope, context.withEpoch(epoch))) {
        throw new WrongEpoch(`this envelope belongs to epoch ${epoch}, not ${context.epoch}`);
      }
    }
    throw error;
  }
  const key = keys.get(context.epoch);
  if (key === undefined) {
    throw new DecryptionFailed(`no key for epoch ${context.epoch}`);
  }
  const ad = context.associatedData(envelope.authorKey, envelope.commitment);
  const padded = aeadDecrypt(key.entryKey, envelope.nonce, envelope.ciphertext, ad, "the envelope does not decrypt");
  const plaintext = unpad(padded);
  if (plaintext.length < OPENING_BYTES) {
    throw new DecryptionFailed("the plaintext is shorter than an opening");
  }
  const opening = plaintext.slice(0, OPENING_BYTES);
  const bodyBytes = plaintext.slice(OPENING_BYTES);
  if (!verifyCommitment(bodyBytes, opening, envelope.commitment)) {
    throw new DecryptionFailed("the commitment does not match the content");
  }
  let body;
  try {
    body = parseJson(bodyBytes);
  } catch {
    throw new DecryptionFailed("the payload is not UTF-8 JSON with integers only");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new DecryptionFailed("the payload is not an object");
  }
  return { body, bodyBytes, opening };
}

function verifiesIn(envelope, context) {
  try {
    envelope.verify(context);
    return true;
  } catch {
    return false;
  }
}

/** A warning: §23 steps 1-7, then the reading rules of §19.1 (step 8). */
export function openEntry(envelope, { keys, context }) {
  const opened = openEnvelope(envelope, { keys, context });
  checkEntryBody(opened.body);
  return opened;
}

/** A corroboration: §23 steps 1-7, then §19.2's body rules. */
export function openCorroboration(envelope, { keys, context }) {
  const opened = openEnvelope(envelope, { keys, context });
  checkCorroborationBody(opened.body);
  return opened;
}

/** "backchannel.retract.v1\0" || circle_id || entry_id (55 bytes, §24). */
export function retractMessage({ circleId, entryId }) {
  return concat(labels.RETRACT_SIGNATURE_CONTEXT, uuidBytes(circleId), uuidBytes(entryId));
}

/** Signed with the key that signed the warning (identity or derived, §24). */
export function signRetraction(signingKey, { circleId, entryId }) {
  return signingKey.sign(retractMessage({ circleId, entryId }));
}

export function verifyRetraction(authorKey, signature, { circleId, entryId }) {
  verifySignature(signature, retractMessage({ circleId, entryId }), authorKey, "retraction signature");
}

/**
 * §24.1: BLAKE2b-256(circle_id || entry_id, key = Ed25519 seed, personal = P("bc.v1.author-tag")).
 * Only the same identity gives the same tag for an entry; tags of different entries link nothing.
 */
export function authorTag(identity, { circleId, entryId }) {
  return blake2b(concat(uuidBytes(circleId), uuidBytes(entryId)), {
    size: 32,
    key: identity.ed25519Seed,
    personal: labels.PERSON_AUTHOR_TAG,
  });
}

/** §24.2: "backchannel.entry-terms.v1\0" || circle_id || entry_id || author_tag || expires_at (u64 BE). */
export function termsMessage({ circleId, entryId, tag, expiresAt }) {
  requireSize(tag, 32, "an author tag");
  return concat(labels.TERMS_SIGNATURE_CONTEXT, uuidBytes(circleId), uuidBytes(entryId), tag, uint64be(expiresAt));
}

/** Signed by the key that signs the envelope: the identity's, or the per-entry anonymous one. */
export function signTerms(signingKey, { circleId, entryId, tag, expiresAt }) {
  return signingKey.sign(termsMessage({ circleId, entryId, tag, expiresAt }));
}

export function verifyTerms(authorKey, signature, { circleId, entryId, tag, expiresAt }) {
  let message;
  try {
    message = termsMessage({ circleId, entryId, tag, expiresAt });
  } catch (error) {
    throw new BadSignature(`malformed terms: ${error.message}`);
  }
  verifySignature(signature, message, authorKey, "terms signature");
}

const MONTH = /^[0-9]{4}-(?:0[1-9]|1[0-2])$/;
const SUBJECT_LIMIT = 200;
const ALIAS_LIMIT = 20;
const FIELD_LIMIT = 200;

function shortText(value, limit) {
  return typeof value === "string" && codePoints(value) <= limit;
}

function optionalText(value, limit) {
  return value === undefined || value === null || shortText(value, limit);
}

/** The reading rules of §19.1; unknown extra fields are accepted. */
export function checkEntryBody(body) {
  const { v, subject, aliases, categories, text, severity, affiliation, contact, happened, attribution } = body;
  const ok =
    v === labels.ENTRY_PAYLOAD_VERSION &&
    shortText(subject, SUBJECT_LIMIT) &&
    subject !== "" &&
    Array.isArray(aliases) &&
    aliases.length <= ALIAS_LIMIT &&
    aliases.every((alias) => shortText(alias, FIELD_LIMIT) && alias !== "") &&
    Array.isArray(categories) &&
    categories.length > 0 &&
    new Set(categories).size === categories.length &&
    categories.every((category) => CATEGORIES.includes(category)) &&
    typeof text === "string" &&
    Object.hasOwn(body, "severity") &&
    (severity === null || SEVERITIES.includes(severity)) &&
    optionalText(affiliation, FIELD_LIMIT) &&
    optionalText(contact, FIELD_LIMIT) &&
    (happened === undefined || happened === null || (typeof happened === "string" && MONTH.test(happened))) &&
    (attribution === "named" || attribution === "anonymous");
  if (!ok) {
    throw new DecryptionFailed("the warning's payload is malformed");
  }
  return body;
}

/** §19.2: v is the integer 1 and text a string. */
export function checkCorroborationBody(body) {
  if (body.v !== 1 || typeof body.text !== "string") {
    throw new DecryptionFailed("the corroboration's payload is malformed");
  }
  return body;
}
