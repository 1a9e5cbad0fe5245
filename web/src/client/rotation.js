/**
 * Removals, rotations and leaving (docs/protocol.md §16.5, §16.6), as the rotation half
 * of app/client/circles.py: a new epoch key is made and wrapped in this tab, and a
 * listed member is dropped only on their own signed departure, never on the server's word.
 */
import { CircleKey, sealPreviousKey, sealWrap } from "../protocol/circles.js";
import { b64, fromB64, uuid } from "../protocol/encoding.js";
import { CryptoError } from "../protocol/errors.js";
import { leaveStatement, signLeave, verifyLeave } from "../protocol/membership.js";
import { KeyRecord } from "../protocol/records.js";
import { ProtocolError } from "./errors.js";

/** Drop a listed member only on their own signed word (§16.6, `unsigned_departure`). */
function checkDeparture(circle, listed, member) {
  const departure = member?.departure ?? null;
  if (member === undefined || departure === null || member.fingerprint !== listed.fp) {
    throw new ProtocolError("unsigned_departure", `the server says ${listed.user} is gone, but they did not sign a departure`);
  }
  let seq;
  try {
    seq = verifyLeave(departure.statement, fromB64(departure.signature, 64, "signature"), {
      circleId: circle.circleId,
      user: listed.user,
      identity: member.identity,
    });
  } catch (error) {
    if (error instanceof CryptoError) {
      throw new ProtocolError("unsigned_departure", `${listed.user}'s departure: ${error.message}`);
    }
    throw error;
  }
  if (seq < (circle.joined[listed.user] ?? 0)) {
    throw new ProtocolError("unsigned_departure", `${listed.user}'s departure is stale`);
  }
}

/** Epoch n+1 for the active members the signed record vouches for (minus `without`). */
async function rotationBody(circles, circle, { without }) {
  const latest = circle.record;
  const everyone = new Map((await circles.members(circle.circleId, { trusted: latest })).map((m) => [m.username, m]));
  const keep = [];
  const dropped = [];
  for (const listed of latest.members) {
    if (listed.user === without) {
      continue;
    }
    const member = everyone.get(listed.user);
    if (member?.status !== "active") {
      checkDeparture(circle, listed, member);
      dropped.push(listed.user);
      continue;
    }
    if (member.fingerprint !== listed.fp) {
      throw new ProtocolError(
        "member_key_changed",
        `${listed.user}'s key changed since it was confirmed (${listed.fp} → ${member.fingerprint}); not wrapping to it`,
      );
    }
    keep.push(listed);
  }
  const newKey = CircleKey.generate();
  const epoch = latest.epoch + 1;
  const record = KeyRecord.create({
    circleId: circle.circleId,
    seq: latest.seq + 1,
    epoch,
    keyId: newKey.keyId,
    members: keep,
    prev: latest.hash(),
    signer: circles.username,
  });
  const wraps = keep.map((listed) => ({
    username: listed.user,
    wrap: b64(sealWrap(newKey, { circleId: circle.circleId, epoch, recipient: everyone.get(listed.user).identity.x25519Public })),
  }));
  return {
    body: {
      ...circles.signed(record),
      wraps,
      prev_key_box: b64(sealPreviousKey(newKey, circle.key, { circleId: circle.circleId, epoch })),
    },
    dropped,
  };
}

/** A new epoch key for the members still there; returns who was dropped (signed departures). */
export async function rotate(circles, circleId) {
  const circle = await circles.sync(circleId);
  const { body, dropped } = await rotationBody(circles, circle, { without: null });
  const result = await circles.client.request("POST", `/v1/circles/${circle.circleId}/rotate`, { json: body });
  return { result, dropped };
}

/** Remove someone; if the signed record lists them, the key rotates in the same request. */
export async function remove(circles, circleId, username) {
  const circle = await circles.sync(circleId);
  const body = { rotation: null };
  if (circle.record.member(username) !== null) {
    // trust the record, not the server's word on their status
    body.rotation = (await rotationBody(circles, circle, { without: username })).body;
  }
  const result = await circles.client.request(
    "POST",
    `/v1/circles/${circle.circleId}/members/${encodeURIComponent(username)}/remove`,
    { json: body },
  );
  if ((await circles.sync(circle.circleId)).record.member(username) !== null) {
    throw new ProtocolError("removal_not_applied", `the server did not rotate ${username} out of the circle`);
  }
  return result;
}

/** Leave with a signed departure (or withdraw a pending request, which needs none). */
export async function leave(circles, circleId) {
  const cid = uuid(circleId);
  const mine = (await circles.client.request("GET", "/v1/circles")).find((c) => c.circle_id === cid);
  let json;
  if (mine?.status === "active") {
    const statement = leaveStatement({ circleId: cid, user: circles.username, recordSeq: mine.record_seq });
    json = { statement: new TextDecoder().decode(statement), signature: b64(signLeave(circles.identity, statement)) };
  }
  return circles.client.request("POST", `/v1/circles/${cid}/leave`, json === undefined ? {} : { json });
}
