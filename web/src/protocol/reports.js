/**
 * Reports (§30): a member's signed report, sealed to the moderation key, carrying the
 * reported warning's body and opening so the admins can check what it said (§21).
 */
import { DecryptionFailed, InvalidKey, WrongEpoch } from "./errors.js";
import { b64, concat, fromB64, uint64be, uuid, uuidBytes, uuidHex } from "./encoding.js";
import { hash, verifySignature } from "./hash.js";
import { canonicalJson, hasExactFields, isHex32, parseJson, requireCanonical } from "./json.js";
import * as labels from "./labels.js";
import { openSealed, sealTo } from "./moderation.js";
import { codePoints } from "./text.js";

export const REASONS = Object.freeze(["false", "doxxing", "harassment", "off-topic", "other"]);
export const MAX_NOTE = 4000;

/** case_hash = HASH("bc.v1.case", ciphertext, 32): what the log and every decision commit to. */
export function caseHash(ciphertext) {
  return hash(labels.PERSON_CASE_HASH, ciphertext);
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
