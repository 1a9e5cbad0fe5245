/**
 * Key records (§10): the signed, hash-chained history of a circle's members and keys.
 *
 * A record's bytes are its canonical JSON; parse() re-encodes what it read and refuses
 * anything that is not byte for byte that encoding, so the signed bytes are the only
 * encoding of a record. checkSuccessor() applies the chain rules of §10.4 in the
 * order the specification gives, so the first rule that fails names the error.
 */
import { InvalidKey, RecordChainBroken, UntrustedSigner, WrongEpoch } from "./errors.js";
import { b64, concat, fromB64, fromUtf8, utf8, uuidHex } from "./encoding.js";
import { equalBytes, hash, requireSize, verifySignature } from "./hash.js";
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

export const ROLES = Object.freeze(["owner", "admin", "member"]);
export const ADMIN_ROLES = Object.freeze(["owner", "admin"]);
const RECORD_FIELDS = ["circle", "epoch", "key_id", "members", "prev", "seq", "signer", "type", "v"];
const MEMBER_FIELDS = ["fp", "role", "user"];

function checkMembers(members) {
  if (!Array.isArray(members) || members.length === 0) {
    throw new InvalidKey("a record lists at least one member");
  }
  members.forEach((member, i) => {
    const { fp, role, user } = member;
    if (!isCanonicalFingerprint(fp) || !ROLES.includes(role) || typeof user !== "string") {
      throw new InvalidKey("a member is {fp, role, user} with a canonical fingerprint and a known role");
    }
    if (i > 0 && compareCodePoints(members[i - 1].user, user) >= 0) {
      throw new InvalidKey("members are sorted by user, each listed once");
    }
  });
  if (!members.some((member) => member.role === "owner")) {
    throw new InvalidKey("a record lists at least one owner");
  }
}

/** One key record (§10.1); construct with create() or parse(). */
export class KeyRecord {
  constructor({ circle, seq, epoch, keyId, members, prev, signer }) {
    if (!isHex32(circle) || !isCount(seq) || !isCount(epoch) || typeof signer !== "string") {
      throw new InvalidKey("a record has a 32-digit circle id, seq >= 0, epoch >= 0 and a signer");
    }
    requireSize(keyId, 16, "a key_id");
    if (prev !== null) {
      requireSize(prev, 32, "prev");
    }
    checkMembers(members);
    this.circle = circle;
    this.seq = seq;
    this.epoch = epoch;
    this.keyId = Uint8Array.from(keyId);
    this.members = Object.freeze(members.map(({ fp, role, user }) => Object.freeze({ fp, role, user })));
    this.prev = prev === null ? null : Uint8Array.from(prev);
    this.signer = signer;
    this.bytes = canonicalJson(this.toJson());
    Object.freeze(this);
  }

  /** A new record; `circleId` in any UUID form, members in any order (they are sorted). */
  static create({ circleId, seq, epoch, keyId, members, prev, signer }) {
    const sorted = [...members].sort((a, b) => compareCodePoints(a.user, b.user));
    return new KeyRecord({ circle: uuidHex(circleId), seq, epoch, keyId, members: sorted, prev, signer });
  }

  /** Parse signed record bytes (or their text); InvalidKey unless exactly canonical. */
  static parse(raw) {
    const bytes = typeof raw === "string" ? utf8(raw) : raw;
    const value = parseJson(bytes);
    if (!hasExactFields(value, RECORD_FIELDS)) {
      throw new InvalidKey("a key record has exactly the fields of §10.1");
    }
    if (value.v !== labels.KEY_RECORD_VERSION || value.type !== labels.KEY_RECORD_TYPE) {
      throw new InvalidKey("not a version 1 key record");
    }
    if (!Array.isArray(value.members) || !value.members.every((m) => hasExactFields(m, MEMBER_FIELDS))) {
      throw new InvalidKey("a member has exactly fp, role and user");
    }
    const record = new KeyRecord({
      circle: value.circle,
      seq: value.seq,
      epoch: value.epoch,
      keyId: fromB64(value.key_id, 16, "key_id"),
      members: value.members,
      prev: value.prev === null ? null : fromB64(value.prev, 32, "prev"),
      signer: value.signer,
    });
    requireCanonical(bytes, record.toJson());
    return record;
  }

  toJson() {
    return {
      circle: this.circle,
      epoch: this.epoch,
      key_id: b64(this.keyId),
      members: this.members.map(({ fp, role, user }) => ({ fp, role, user })),
      prev: this.prev === null ? null : b64(this.prev),
      seq: this.seq,
      signer: this.signer,
      type: labels.KEY_RECORD_TYPE,
      v: labels.KEY_RECORD_VERSION,
    };
  }

  /** The record text, as the server stores and returns it. */
  get text() {
    return fromUtf8(this.bytes);
  }

  /** record_hash = HASH("bc.v1.record", record_bytes, 32) (§10.3). */
  hash() {
    return hash(labels.PERSON_RECORD_HASH, this.bytes);
  }

  member(user) {
    return this.members.find((member) => member.user === user) ?? null;
  }

  signatureMessage() {
    return concat(labels.KEY_RECORD_SIGNATURE_CONTEXT, this.bytes);
  }

  /** The detached signature of the signer's identity over the record (§10.3). */
  sign(identity) {
    return identity.sign(this.signatureMessage());
  }

  verifySignature(signature, signerIdentity) {
    verifySignature(signature, this.signatureMessage(), signerIdentity.ed25519Public, "record signature");
  }
}

function isAdmin(member) {
  return member !== null && ADMIN_ROLES.includes(member.role);
}

/** The chain rules of §10.4, in order; `previous` is null for record 0. */
export function checkSuccessor(previous, record) {
  if (previous === null) {
    if (record.seq !== 0 || record.epoch !== 0 || record.prev !== null) {
      throw new RecordChainBroken("the first record has seq 0, epoch 0 and no prev");
    }
    const [only] = record.members;
    if (record.members.length !== 1 || only.user !== record.signer || only.role !== "owner") {
      throw new RecordChainBroken("the first record lists its signer alone, as owner");
    }
    return;
  }
  if (record.circle !== previous.circle) {
    throw new RecordChainBroken("the record is for another circle");
  }
  if (record.seq !== previous.seq + 1) {
    throw new RecordChainBroken("the record does not follow the previous seq");
  }
  if (record.prev === null || !equalBytes(record.prev, previous.hash())) {
    throw new RecordChainBroken("prev is not the previous record's hash");
  }
  if (record.epoch === previous.epoch) {
    if (!equalBytes(record.keyId, previous.keyId)) {
      throw new RecordChainBroken("the key changed without a new epoch");
    }
  } else if (record.epoch === previous.epoch + 1) {
    if (equalBytes(record.keyId, previous.keyId)) {
      throw new RecordChainBroken("a new epoch must have a new key");
    }
  } else {
    throw new WrongEpoch("the epoch may only stay or go up by one");
  }
  const signer = previous.member(record.signer);
  if (!isAdmin(signer)) {
    throw new UntrustedSigner("the signer was not an admin in the previous record");
  }
  if (record.epoch === previous.epoch && previous.members.some(({ user }) => record.member(user) === null)) {
    throw new RecordChainBroken("members were dropped without a new epoch key");
  }
  for (const member of record.members) {
    const before = previous.member(member.user);
    if (before !== null && before.fp !== member.fp) {
      throw new UntrustedSigner("a member's key cannot change inside a circle");
    }
    const wasOwner = before !== null && before.role === "owner";
    if ((member.role === "owner") !== wasOwner && signer.role !== "owner") {
      throw new UntrustedSigner("only an owner may make or unmake an owner");
    }
  }
}

/** The fingerprint the chain vouches for as the signer's (§10.4 rule 8). */
export function signerFingerprint(previous, record) {
  const signer = (previous ?? record).member(record.signer);
  if (signer === null) {
    throw new UntrustedSigner("the signer is not listed");
  }
  return signer.fp;
}

/** Chain rules, then the signer's key and signature (§10.4 rules 1-9). */
export function verifyRecord(previous, record, signature, signerIdentity) {
  checkSuccessor(previous, record);
  if (signerIdentity.fingerprint !== signerFingerprint(previous, record)) {
    throw new UntrustedSigner("the signer's identity is not the key the chain lists");
  }
  record.verifySignature(signature, signerIdentity);
}
