/**
 * Deleting a circle (§16.9): the statement an owner signs, as app/crypto/deletion.py.
 * It names the circle, the owner and the newest key record the owner's client verified;
 * members' clients check it against the signer's key in the record they pinned.
 */
import { InvalidKey } from "./errors.js";
import { concat, utf8, uuidHex } from "./encoding.js";
import { equalBytes, verifySignature } from "./hash.js";
import { canonicalJson, parseJson } from "./json.js";
import * as labels from "./labels.js";

export function deletionStatement({ circleId, by, recordSeq }) {
  if (typeof by !== "string" || !Number.isSafeInteger(recordSeq)) {
    throw new InvalidKey("a deletion statement names an owner and an integer record_seq");
  }
  return canonicalJson({
    by,
    circle: uuidHex(circleId),
    record_seq: recordSeq,
    type: labels.CIRCLE_DELETE_TYPE,
    v: 1,
  });
}

function deletionMessage(statement) {
  return concat(labels.CIRCLE_DELETE_SIGNATURE_CONTEXT, statement);
}

export function signDeletion(identity, statement) {
  return identity.sign(deletionMessage(statement));
}

/** {by, recordSeq} of the canonical deletion statement of `circleId` (not yet verified). */
export function readDeletion(statement, { circleId }) {
  const bytes = typeof statement === "string" ? utf8(statement) : statement;
  const value = parseJson(bytes);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidKey("a deletion statement is an object");
  }
  const { by, record_seq: recordSeq } = value;
  if (!equalBytes(bytes, deletionStatement({ circleId, by, recordSeq }))) {
    throw new InvalidKey("not the canonical deletion statement for this circle");
  }
  return { by, recordSeq };
}

/** The deletion's claims once its signature verifies under `identity` (the owner's, as checked). */
export function verifyDeletion(statement, signature, { circleId, identity }) {
  const bytes = typeof statement === "string" ? utf8(statement) : statement;
  const deletion = readDeletion(bytes, { circleId });
  verifySignature(signature, deletionMessage(bytes), identity.ed25519Public, "deletion signature");
  return deletion;
}
