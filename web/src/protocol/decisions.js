/**
 * Decisions (§32): an admin's signed ruling on a case, chained per case, with its reason
 * sealed to the moderation key as a note only admins can open.
 */
import { DecryptionFailed, InvalidKey } from "./errors.js";
import { b64, concat, fromB64, fromUtf8, uint64be, utf8, uuid, uuidBytes, uuidHex } from "./encoding.js";
import { hash, requireSize, verifySignature } from "./hash.js";
import { canonicalJson, hasExactFields, isCount, isHex32, parseJson, requireCanonical } from "./json.js";
import * as labels from "./labels.js";
import { openSealed, sealTo } from "./moderation.js";
import { codePoints, pythonStrip } from "./text.js";

export const ACTIONS = Object.freeze(["dismiss", "hide", "remove", "restore"]);
export const MAX_REASON = 4000;

/** HASH("bc.v1.mod-blob", blob, 32) of a sealed note or response (§32.1). */
export function blobHash(blob) {
  return hash(labels.PERSON_MOD_BLOB, blob);
}

/** "backchannel.decision-note.v1\0" || circle || case || uint64_be(generation) || epk || public (133 bytes, §32.4). */
export function noteAssociatedData({ circleId, caseId, generation }, epk, recipient) {
  const ids = concat(uuidBytes(circleId), uuidBytes(caseId));
  return concat(labels.DECISION_NOTE_AD_PREFIX, ids, uint64be(generation), epk, recipient);
}

/** The decision's reason, for admins only: seal_to the generation's public key (§32.4). */
export function sealDecisionNote(reason, { publicKey, circleId, caseId, generation }) {
  if (typeof reason !== "string" || pythonStrip(reason) === "" || codePoints(reason) > MAX_REASON) {
    throw new InvalidKey(`a reason is 1 to ${MAX_REASON} characters`);
  }
  const context = { circleId, caseId, generation };
  return sealTo(publicKey, utf8(reason), (epk) => noteAssociatedData(context, epk, publicKey));
}

export function openDecisionNote(sealed, { key, circleId, caseId, generation }) {
  const context = { circleId, caseId, generation };
  const raw = openSealed(key, sealed, {
    adFor: (epk) => noteAssociatedData(context, epk, key.publicKey),
    minimum: 32 + 24 + 16,
    why: "the decision note does not open",
  });
  try {
    return fromUtf8(raw);
  } catch {
    throw new DecryptionFailed("the decision note is not text");
  }
}

const DECISION_FIELDS = [
  "action",
  "case",
  "case_hash",
  "circle",
  "entry",
  "generation",
  "note_hash",
  "prev",
  "response_hash",
  "seq",
  "signer",
  "type",
  "v",
];

function optionalHash(value, what) {
  return value === null ? null : fromB64(value, 32, what);
}

/** An admin's signed ruling on a case (§32.1); `prev` chains the decisions of one case. */
export class Decision {
  constructor(fields) {
    const { circleId, caseId, seq, action, entryId, generation, noteHash, responseHash, prev, signer } = fields;
    const caseDigest = fields.caseHash;
    if (!isCount(seq) || !isCount(generation) || !ACTIONS.includes(action) || typeof signer !== "string") {
      throw new InvalidKey("a decision has seq >= 0, generation >= 0, a known action and a signer");
    }
    if (entryId === null && action !== "dismiss") {
      throw new InvalidKey("only a dismissal may name no entry");
    }
    if ((prev === null) !== (seq === 0)) {
      throw new InvalidKey("prev is null exactly for the first decision of a case");
    }
    requireSize(caseDigest, 32, "case_hash");
    requireSize(noteHash, 32, "note_hash");
    for (const [value, what] of [
      [responseHash, "response_hash"],
      [prev, "prev"],
    ]) {
      if (value !== null) {
        requireSize(value, 32, what);
      }
    }
    Object.assign(this, {
      circleId: uuid(circleId),
      caseId: uuid(caseId),
      seq,
      action,
      entryId: entryId === null ? null : uuid(entryId),
      caseHash: caseDigest,
      generation,
      noteHash,
      responseHash,
      prev,
      signer,
    });
    this.bytes = canonicalJson(this.toJson());
    Object.freeze(this);
  }

  /** Parse signed decision bytes (or text); InvalidKey unless exactly canonical (§32.1). */
  static parse(raw) {
    const bytes = typeof raw === "string" ? utf8(raw) : raw;
    const value = parseJson(bytes);
    if (!hasExactFields(value, DECISION_FIELDS) || value.v !== 1 || value.type !== labels.DECISION_TYPE) {
      throw new InvalidKey("not a version 1 decision");
    }
    if (!isHex32(value.circle) || !isHex32(value.case) || !(value.entry === null || isHex32(value.entry))) {
      throw new InvalidKey("a decision names its circle, case and entry as 32 hex digits");
    }
    const decision = new Decision({
      circleId: value.circle,
      caseId: value.case,
      seq: value.seq,
      action: value.action,
      entryId: value.entry,
      caseHash: fromB64(value.case_hash, 32, "case_hash"),
      generation: value.generation,
      noteHash: fromB64(value.note_hash, 32, "note_hash"),
      responseHash: optionalHash(value.response_hash, "response_hash"),
      prev: optionalHash(value.prev, "prev"),
      signer: value.signer,
    });
    requireCanonical(bytes, decision.toJson());
    return decision;
  }

  toJson() {
    return {
      action: this.action,
      case: uuidHex(this.caseId),
      case_hash: b64(this.caseHash),
      circle: uuidHex(this.circleId),
      entry: this.entryId === null ? null : uuidHex(this.entryId),
      generation: this.generation,
      note_hash: b64(this.noteHash),
      prev: this.prev === null ? null : b64(this.prev),
      response_hash: this.responseHash === null ? null : b64(this.responseHash),
      seq: this.seq,
      signer: this.signer,
      type: labels.DECISION_TYPE,
      v: 1,
    };
  }

  get text() {
    return fromUtf8(this.bytes);
  }

  /** decision_hash = HASH("bc.v1.decision", decision_bytes, 32) (§32.2). */
  hash() {
    return hash(labels.PERSON_DECISION_HASH, this.bytes);
  }

  signatureMessage() {
    return concat(labels.DECISION_SIGNATURE_CONTEXT, this.bytes);
  }

  sign(identity) {
    return identity.sign(this.signatureMessage());
  }

  verifySignature(signature, signerIdentity) {
    verifySignature(signature, this.signatureMessage(), signerIdentity.ed25519Public, "decision signature");
  }
}
