/**
 * Reading a circle's audit log as people see it, after `Audit` (audit.js) verified it:
 * who asked for sealed-warning evaluations (admins only; docs/protocol.md §36.4), each
 * note opened with the moderation key of its generation. Mirrors
 * app/client/audit_view.py (whose `show` the web does not need: the audit page lists the
 * verified records itself).
 */
import { fromB64 } from "../protocol/encoding.js";
import { CryptoError } from "../protocol/errors.js";
import { ADMIN_ROLES } from "../protocol/records.js";
import { openEvaluationNote } from "../protocol/sealed.js";
import { ProtocolError } from "./errors.js";

/**
 * Who asked for sealed-warning evaluations, how many name forms, when (admins; §36.4), as
 * `evaluations` in app/client/audit_view.py: the sealed_evaluation records of the verified
 * log, each note opened with the moderation key of its generation. The note is the
 * server's word (it made it), sealed so that only the admins read it; a note that does
 * not open is listed with user null. Oldest first: [{seq, at, user, forms}].
 */
export async function evaluations(audit, circleId) {
  const circle = await audit.circles.sync(circleId);
  if (!ADMIN_ROLES.includes(circle.role)) {
    throw new ProtocolError("not_a_moderator", "only the circle's admins can read who evaluated names");
  }
  const keys = await audit.moderation.secretKeys(circle, await audit.moderation.state(circle));
  const { records } = await audit.verify(circleId, { full: true });
  const out = [];
  for (const { seq, body } of records) {
    if (body.kind !== "sealed_evaluation") {
      continue;
    }
    const generation = body.details?.generation;
    const key = keys.get(generation);
    let note = {};
    if (key !== undefined) {
      try {
        note = openEvaluationNote(fromB64(String(body.details.note ?? "")), { key, circleId: circle.circleId, generation });
      } catch (error) {
        if (!(error instanceof CryptoError)) {
          throw error;
        }
      }
    }
    out.push({
      seq,
      at: body.at,
      user: typeof note.user === "string" ? note.user : null,
      forms: Number.isInteger(note.elements) ? note.elements : null,
    });
  }
  return out;
}
