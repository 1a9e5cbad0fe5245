/**
 * Cases (§30, §32): members' reports sealed to the moderation key, the admins' signed
 * decisions chained per case, and the notes that carry each decision's reason.
 */
import { DecryptionFailed, InvalidKey, WrongEpoch } from "./errors.js";
import { b64, concat, fromB64, fromUtf8, uint64be, utf8, uuid, uuidBytes, uuidHex } from "./encoding.js";
import { hash, requireSize, verifySignature } from "./hash.js";
import { canonicalJson, hasExactFields, isCount, isHex32, parseJson, requireCanonical } from "./json.js";
import * as labels from "./labels.js";
import { openSealed, sealTo } from "./moderation.js";
import { codePoints, pythonStrip } from "./text.js";

export const REASONS = Object.freeze(["false", "doxxing", "harassment", "off-topic", "other"]);
export const ACTIONS = Object.freeze(["dismiss", "hide", "remove", "restore"]);
export const MAX_NOTE = 4000;
export const MAX_REASON = 4000;

/** case_hash = HASH("bc.v1.case", ciphertext, 32): what the log and every decision commit to. */
export function caseHash(ciphertext) {
  return hash(labels.PERSON_CASE_HASH, ciphertext);
}

/** HASH("bc.v1.mod-blob", blob, 32) of a sealed note or response (§32.1). */
export function blobHash(blob) {
  return hash(labels.PERSON_MOD_BLOB, blob);
}

/** A member's report (§30.1): the reason, a note and the reveal of the warning. */
export class Report {
  constructor({ circleId, caseId, entryId, reporter, reason, note, body, opening }) {
    if (typeof reporter !== "string" || typeof reason !== "string" || typeof note !== "string") {
      throw new InvalidKey("reporter, reason and note are strings");
    }
    if (!(body instanceof Uint8Array) || !(opening instanceof Uint8Array)) {
      throw new InvalidKey("the reveal is bytes");
    }
    Object.assign(this, {
      circleId: uuid(circleId),
      caseId: uuid(caseId),
      entryId: uuid(entryId),
      reporter,
      reason,
      note,
      body: Uint8Array.from(body),
      opening: Uint8Array.from(opening),
    });
    this.bytes = canonicalJson(this.toJson());
    Object.freeze(this);
  }

  toJson() {
    return {
      case: uuidHex(this.caseId),
      circle: uuidHex(this.circleId),
      entry: uuidHex(this.entryId),
      note: this.note,
      reason: this.reason,
      reporter: this.reporter,
      reveal: { body: b64(this.body), opening: b64(this.opening) },
      type: labels.REPORT_TYPE,
      v: 1,
    };
  }

  signatureMessage() {
    return concat(labels.REPORT_SIGNATURE_CONTEXT, this.bytes);
  }
}

const REPORT_FIELDS = ["case", "circle", "entry", "note", "reason", "reporter", "reveal", "type", "v"];

function parseReport(bytes) {
  const value = parseJson(bytes);
  if (!hasExactFields(value, REPORT_FIELDS) || value.v !== 1 || value.type !== labels.REPORT_TYPE) {
    throw new InvalidKey("not a version 1 report");
  }
  if (!isHex32(value.circle) || !isHex32(value.case) || !isHex32(value.entry)) {
    throw new InvalidKey("a report names its circle, case and entry as 32 hex digits");
  }
  if (!hasExactFields(value.reveal, ["body", "opening"])) {
    throw new InvalidKey("a report carries a reveal of exactly body and opening");
  }
  const report = new Report({
    circleId: value.circle,
    caseId: value.case,
    entryId: value.entry,
    reporter: value.reporter,
    reason: value.reason,
    note: value.note,
    body: fromB64(value.reveal.body, undefined, "the revealed body"),
    opening: fromB64(value.reveal.opening, undefined, "the opening"),
  });
  requireCanonical(bytes, report.toJson());
  return report;
}

/** What a writer refuses (§30.1): another reason, or a note over 4000 characters. */
export function checkReportFields(reason, note) {
  if (!REASONS.includes(reason)) {
    throw new InvalidKey(`a reason is one of ${REASONS.join(", ")}`);
  }
  if (codePoints(note) > MAX_NOTE) {
    throw new InvalidKey(`a note is at most ${MAX_NOTE} characters`);
  }
}

/** "backchannel.report.v1\0" || circle || case || entry || uint64_be(g) || epk || public (142 bytes, §30.2). */
export function reportAssociatedData({ circleId, caseId, entryId, generation }, epk, recipient) {
  const ids = concat(uuidBytes(circleId), uuidBytes(caseId), uuidBytes(entryId));
  return concat(labels.REPORT_AD_PREFIX, ids, uint64be(generation), epk, recipient);
}

/** Sign as the reporter, then seal to generation `generation`'s public key (§30.2). */
export function sealReport(report, { identity, publicKey, generation }) {
  checkReportFields(report.reason, report.note);
  const signature = identity.sign(report.signatureMessage());
  const context = { circleId: report.circleId, caseId: report.caseId, entryId: report.entryId, generation };
  return sealTo(publicKey, concat(signature, report.bytes), (epk) => reportAssociatedData(context, epk, publicKey));
}

/**
 * Steps 1-4 of §30.3 in the context the admin expects: the report and the reporter's
 * signature, which verifyReport() checks against the reporter's identity (step 5).
 */
export function openReport(sealed, { key, circleId, caseId, entryId, generation }) {
  const context = { circleId, caseId, entryId, generation };
  const plaintext = openSealed(key, sealed, {
    adFor: (epk) => reportAssociatedData(context, epk, key.publicKey),
    minimum: 32 + 24 + 16 + 64,
    why: "the report does not open",
  });
  const signature = plaintext.slice(0, 64);
  let report;
  try {
    report = parseReport(plaintext.subarray(64));
  } catch {
    throw new DecryptionFailed("the report is malformed or not in canonical form");
  }
  if (report.circleId !== uuid(circleId) || report.caseId !== uuid(caseId) || report.entryId !== uuid(entryId)) {
    throw new WrongEpoch("the report belongs to another case");
  }
  return { report, signature };
}

export function verifyReport(report, signature, reporterIdentity) {
  verifySignature(signature, report.signatureMessage(), reporterIdentity.ed25519Public, "report signature");
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
