/**
 * Deleting a circle, and reading that one was deleted (docs/protocol.md §16.9), as
 * app/client/deletion.py. A member's client says "deleted by …" only when the statement
 * verifies under the key the record this browser pinned lists for an owner.
 */
import { deletionStatement, signDeletion, verifyDeletion } from "../protocol/deletion.js";
import { leaveStatement, signLeave } from "../protocol/membership.js";
import { b64, fromB64, uuid } from "../protocol/encoding.js";
import { KeyRecord } from "../protocol/records.js";
import { ProtocolError } from "./errors.js";

/** As an owner: delete the circle for everyone, signed at the newest verified record. */
export async function deleteCircle(circles, circleId) {
  const circle = await circles.sync(circleId);
  if (circle.role !== "owner") {
    throw new ProtocolError("owner_required", "only an owner can delete a circle");
  }
  const statement = deletionStatement({ circleId: circle.circleId, by: circles.username, recordSeq: circle.record.seq });
  return circles.client.request("POST", `/v1/circles/${circle.circleId}/delete`, {
    json: { statement: new TextDecoder().decode(statement), signature: b64(signDeletion(circles.identity, statement)) },
  });
}

/** Who deleted it and when, the name this browser last saw, and whether that verified. */
export async function readTombstone(circles, circleId, tombstone) {
  const cid = uuid(circleId);
  const pin = circles.trust.pin(cid);
  const by = String(tombstone.by);
  let verified = false;
  if (pin.seq >= 0) {
    try {
      const listed = KeyRecord.parse(pin.record).member(by);
      if (listed !== null && listed.role === "owner") {
        const keys = await circles.client.userKeys(by, { verifiedFp: listed.fp });
        if (keys.fingerprint === listed.fp) {
          const deletion = verifyDeletion(String(tombstone.statement), fromB64(tombstone.signature, 64), {
            circleId: cid,
            identity: keys.identity,
          });
          verified = deletion.by === by;
        }
      }
    } catch {
      verified = false; // said as the server's claim, not as fact
    }
  }
  return { deletedBy: by, deletedAt: tombstone.at ?? null, verified, name: pin.name ?? null };
}

/**
 * Delete this account: a signed departure from every circle it is active in, and `warnings`
 * "retract" (wipe them for everyone) or "keep" (left, shown as from a former member).
 */
export async function deleteAccount(circles, { passphrase, warnings }) {
  if (warnings !== "retract" && warnings !== "keep") {
    throw new ProtocolError("bad_choice", "warnings must be retract or keep");
  }
  const departures = [];
  for (const row of await circles.client.request("GET", "/v1/circles")) {
    if (row.status !== "active" || row.deletion) {
      continue;
    }
    const statement = leaveStatement({ circleId: row.circle_id, user: circles.username, recordSeq: row.record_seq });
    departures.push({
      circle_id: row.circle_id,
      statement: new TextDecoder().decode(statement),
      signature: b64(signLeave(circles.identity, statement)),
    });
  }
  const authKey = await circles.client.reauthenticate(circles.username, passphrase);
  const result = await circles.client.request("POST", "/v1/me/delete", {
    json: { auth_key: authKey, warnings, departures },
  });
  circles.client.token = null;
  return result;
}

/** Usernames in a circle whose accounts were deleted: what they left shows as a former member's. */
export async function formerMembers(circles, circleId) {
  const rows = await circles.client.request("GET", `/v1/circles/${uuid(circleId)}/members`);
  return new Set(rows.filter((row) => row.account_deleted === true).map((row) => row.username));
}
