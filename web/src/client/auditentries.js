/**
 * The author-signed entry records of a circle's audit log (docs/protocol.md §24, §33.6),
 * as app/client/audit_entries.py. `entry_retracted` carries the author's retraction
 * signature; `entry_expired` carries the terms the author signed (author tag, expiry).
 * A retraction nobody signed, or an expiry earlier than the author asked for, fails the
 * check. Records written before these signatures existed carry only the entry id and are
 * counted as unsigned.
 */
import { fromB64, uuid } from "../protocol/encoding.js";
import { verifyRetraction, verifyTerms } from "../protocol/entries.js";
import { equalBytes } from "../protocol/hash.js";
import { AuditFailure } from "./errors.js";

function moment(stamp) {
  const millis = typeof stamp === "string" && /(?:Z|[+-]00:00)$/.test(stamp) ? Date.parse(stamp) : NaN;
  if (!Number.isFinite(millis)) {
    throw new Error("no UTC time");
  }
  return millis / 1000;
}

/**
 * 1 when the record's author signature verified, 0 for a record without one.
 * `namedKey(username)` resolves to a named author's Ed25519 key, as the member list shows it.
 */
export async function checkEntryRecord(circleId, seq, body, namedKey) {
  const details = body.details ?? {};
  if (body.kind === "entry_retracted" && Object.hasOwn(details, "signature")) {
    let authorKey;
    try {
      authorKey = fromB64(details.author_key, 32);
      verifyRetraction(authorKey, fromB64(details.signature, 64), { circleId, entryId: uuid(details.entry_id) });
    } catch {
      throw new AuditFailure("bad_signature", `record ${seq}: the retraction's signature`);
    }
    if (body.actor && !equalBytes(await namedKey(String(body.actor)), authorKey)) {
      throw new AuditFailure("bad_signature", `record ${seq}: the retraction is not signed by ${body.actor}`);
    }
    return 1;
  }
  if (body.kind === "entry_expired" && Object.hasOwn(details, "terms_signature")) {
    let at;
    const expiresAt = details.expires_at;
    try {
      if (!Number.isSafeInteger(expiresAt)) {
        throw new Error("expires_at is whole seconds");
      }
      verifyTerms(fromB64(details.author_key, 32), fromB64(details.terms_signature, 64), {
        circleId,
        entryId: uuid(details.entry_id),
        tag: fromB64(details.author_tag, 32),
        expiresAt,
      });
      at = moment(body.at);
    } catch {
      throw new AuditFailure("bad_signature", `record ${seq}: the expiry's signed terms`);
    }
    if (at < expiresAt) {
      throw new AuditFailure("early_expiry", `record ${seq}: the server expired a warning before the time its author signed`);
    }
    return 1;
  }
  return 0;
}
