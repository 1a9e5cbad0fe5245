/**
 * The token issuance keys in a circle's audit log (docs/protocol.md §38.1, §33.6), as
 * app/client/audit_issuance.py. A server with two admins can get each to sign a different
 * key for one epoch and show one member the second, to recognise that member's tokens; both
 * records verify, so the member's client cannot see it when it takes tokens. The log can:
 * audit verify checks that each epoch has one key and that it is the key this device took
 * its tokens under (else key_partition).
 */
import { IssuanceRecord } from "../protocol/anon.js";
import { b64, fromB64, uuid } from "../protocol/encoding.js";
import { AuditFailure, ClientError } from "./errors.js";

function failure(code, message) {
  return new AuditFailure(code, message);
}

/**
 * 1 for an `anon_issuance_key` record whose admin signature verified (its key is added to
 * `logged`, a Map of epoch → base64 key), 0 for a record of another kind.
 */
export async function checkIssuanceRecord(circleId, seq, body, adminIdentity, logged) {
  if (body.kind !== "anon_issuance_key") {
    return 0;
  }
  const details = body.details ?? {};
  let record;
  try {
    record = IssuanceRecord.parse(details.record);
    record.verifySignature(fromB64(details.signature, 64), await adminIdentity(record.signer, seq));
  } catch (error) {
    if (error instanceof ClientError) {
      throw error; // the signer's lookup failed (wrong_account, …) or was never an admin
    }
    throw failure("bad_signature", `record ${seq}: the issuance key's signature`);
  }
  if (record.circleId !== uuid(circleId) || details.epoch !== record.epoch || body.actor !== record.signer) {
    throw failure("changed_record", `record ${seq} differs from its signed issuance key`);
  }
  const epoch = String(record.epoch);
  const key = b64(record.oprfPublicKey);
  if (logged.has(epoch) && logged.get(epoch) !== key) {
    throw failure(
      "key_partition",
      `record ${seq} is a second token key for epoch ${record.epoch}: the server can tell the tokens of the members it showed one key from the others'`,
    );
  }
  logged.set(epoch, key);
  return 1;
}

/** Every key this device took tokens under is the one the log holds for its epoch. */
export function checkKeysUsed(logged, used) {
  for (const [epoch, key] of Object.entries(used)) {
    if (logged.get(epoch) !== key) {
      throw failure(
        "key_partition",
        `this device took tokens of epoch ${epoch} under a key the log does not hold for that epoch: the server showed it a key of its own`,
      );
    }
  }
}
