/**
 * Joining and leaving a circle (§14-§16): invite strings, signed leave statements
 * and the hash of the server's membership events.
 */
import { InvalidKey } from "./errors.js";
import { b64, b64url, concat, fromB64url, pastedToken, utf8, uuid, uuidHex } from "./encoding.js";
import { equalBytes, hash, requireSize, verifySignature } from "./hash.js";
import { isCanonicalFingerprint, normaliseFingerprint } from "./identity.js";
import { canonicalJson, parseJson } from "./json.js";
import * as labels from "./labels.js";
import { randomBytes, randomUuid } from "./random.js";

const INVITE = /^bcinvite1\.([0-9a-f]{32})\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})\.([0-9]{30})\.([A-Za-z0-9_-]{43})$/;

/** secret_hash = HASH("bc.v1.invite", secret, 32): all the server learns at creation. */
export function inviteSecretHash(secret) {
  return hash(labels.PERSON_INVITE_HASH, requireSize(secret, 32, "an invite secret"));
}

/**
 * bcinvite1.<circle>.<invite>.<secret>.<fingerprint digits>.<record hash> (§14): the
 * inviter's fingerprint and the hash of the newest record they verified are the
 * joiner's anchor (§10.5 step 5).
 */
export class Invite {
  #secret;

  constructor({ circleId, inviteId, secret, inviterFingerprint, recordHash }) {
    if (!isCanonicalFingerprint(inviterFingerprint)) {
      throw new InvalidKey("an invite names the inviter's canonical fingerprint");
    }
    this.circleId = uuid(circleId);
    this.inviteId = uuid(inviteId);
    this.#secret = Uint8Array.from(requireSize(secret, 32, "an invite secret"));
    this.inviterFingerprint = inviterFingerprint;
    this.recordHash = Uint8Array.from(requireSize(recordHash, 32, "a record hash"));
    Object.freeze(this);
  }

  /** A new invite with a fresh id and secret, for the inviter's newest verified record. */
  static create({ circleId, inviterFingerprint, recordHash }) {
    return new Invite({
      circleId,
      inviteId: randomUuid(),
      secret: randomBytes(32),
      inviterFingerprint,
      recordHash,
    });
  }

  /** The exact written form only, after trimming surrounding whitespace (§14). */
  static parse(text) {
    let pasted = pastedToken(text);
    if (pasted.includes("#")) {
      pasted = pasted.slice(pasted.lastIndexOf("#") + 1);
    }
    const match = INVITE.exec(pasted);
    if (match === null) {
      throw new InvalidKey("not an invite");
    }
    const [, circle, invite, secret, digits, recordHash] = match;
    return new Invite({
      circleId: circle,
      inviteId: invite,
      secret: fromB64url(secret, 32, "the invite secret"),
      inviterFingerprint: normaliseFingerprint(digits),
      recordHash: fromB64url(recordHash, 32, "the record hash"),
    });
  }

  toString() {
    return [
      labels.INVITE_PREFIX,
      uuidHex(this.circleId),
      uuidHex(this.inviteId),
      b64url(this.#secret),
      this.inviterFingerprint.replaceAll(" ", ""),
      b64url(this.recordHash),
    ].join(".");
  }

  get secretHash() {
    return inviteSecretHash(this.#secret);
  }

  /** The body of POST /v1/invites/redeem (§16.3): the only time the secret is sent. */
  redeemRequest() {
    return { circle_id: this.circleId, invite_id: this.inviteId, secret: b64(this.#secret) };
  }
}

/**
 * The canonical leave statement of §16.6. Any integer record_seq, as the reference
 * accepts (a departure's seq is compared by the caller, §16.6 and §10.6).
 */
export function leaveStatement({ circleId, user, recordSeq }) {
  if (typeof user !== "string" || !Number.isSafeInteger(recordSeq)) {
    throw new InvalidKey("a leave statement names a user and an integer record_seq");
  }
  return canonicalJson({
    circle: uuidHex(circleId),
    record_seq: recordSeq,
    type: labels.LEAVE_TYPE,
    user,
    v: 1,
  });
}

function leaveMessage(statement) {
  return concat(labels.LEAVE_SIGNATURE_CONTEXT, statement);
}

export function signLeave(identity, statement) {
  return identity.sign(leaveMessage(statement));
}

/**
 * The record_seq of a departure that verifies for circle `circleId`, user `user` and
 * `identity` (which the caller must have checked is the user's, §16.6).
 */
export function verifyLeave(statement, signature, { circleId, user, identity }) {
  const bytes = typeof statement === "string" ? utf8(statement) : statement;
  const value = parseJson(bytes);
  if (value === null || typeof value !== "object" || Array.isArray(value) || !Object.hasOwn(value, "record_seq")) {
    throw new InvalidKey("a leave statement is an object with a record_seq");
  }
  const recordSeq = value.record_seq;
  const expected = leaveStatement({ circleId, user, recordSeq });
  if (!equalBytes(bytes, expected)) {
    throw new InvalidKey("not the canonical leave statement for this circle and user");
  }
  verifySignature(signature, leaveMessage(bytes), identity.ed25519Public, "leave signature");
  return recordSeq;
}

/** event_hash = HASH("bc.v1.event", body_bytes, 32) (§15). */
export function eventHash(body) {
  return hash(labels.PERSON_EVENT_HASH, typeof body === "string" ? utf8(body) : body);
}

/** The canonical body bytes of an event's fields (§15). */
export function eventBody(fields) {
  return canonicalJson(fields);
}
