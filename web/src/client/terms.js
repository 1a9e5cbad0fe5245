/**
 * A warning's signed terms as a reader checks them (docs/protocol.md §24.2), as
 * app/client/terms.py: the author signs the entry's tag and expiry with the key that signs
 * its envelope; a row that carries terms must show exactly the expiry its author signed.
 */
import { fromB64 } from "../protocol/encoding.js";
import { verifyTerms } from "../protocol/entries.js";
import { ProtocolError } from "./errors.js";

/** A server time ("...Z") as whole Unix seconds; anything else is the server's error. */
export function unixSeconds(stamp) {
  const millis = typeof stamp === "string" && /(?:Z|[+-]00:00)$/.test(stamp) ? Date.parse(stamp) : NaN;
  if (!Number.isSafeInteger(millis) || millis % 1000 !== 0) {
    throw new ProtocolError("bad_terms", `${JSON.stringify(stamp)} is not a whole UTC second`);
  }
  return millis / 1000;
}

/**
 * §24.2: a row that carries terms shows the expiry its author signed. Rows from before terms
 * existed carry none (their expiry is the server's word).
 */
export function checkTerms(circleId, row) {
  if ((row.terms_signature ?? null) === null && (row.author_tag ?? null) === null) {
    return;
  }
  try {
    verifyTerms(fromB64(row.author_key, 32), fromB64(row.terms_signature ?? "", 64), {
      circleId,
      entryId: row.entry_id,
      tag: fromB64(row.author_tag ?? "", 32),
      expiresAt: unixSeconds(row.expires_at),
    });
  } catch {
    throw new ProtocolError("bad_terms", "the warning's expiry is not the one its author signed");
  }
}
