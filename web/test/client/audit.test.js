// Verifying the audit log (docs/protocol.md §33.6) against a server that tampers with it:
// each refusal has its own code, and a refused log pins nothing, not even the server's key.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { auditRow, makeWorld, refused } from "../../test-support/world.js";

/** What bob's device keeps: the pins in memory and what was saved to its storage. */
function kept({ audit, storage }) {
  return structuredClone({ serverKey: audit.pins.serverKey, circles: audit.pins.circles, saved: [...storage.items] });
}

/**
 * bob verifies (after a first, honest verification if `pin`) through `edit` of the
 * records' answer; the log is refused with `code` and bob's pins stay as they were.
 */
async function auditRefused(edit, code, { pin }) {
  const world = makeWorld();
  const bob = world.bob();
  if (pin) {
    await bob.audit.verify(world.circleId);
  }
  const before = kept(bob);
  world.server.on("GET", `/v1/circles/${world.circleId}/audit/records`, edit);
  // After a pin, a verify fetches only new records; `full` fetches the pinned ones again too.
  await refused(bob.audit.verify(world.circleId, { full: pin }), code);
  assert.deepEqual(kept(bob), before);
  return bob;
}

const swap = (rows) => {
  [rows[3], rows[4]] = [rows[4], rows[3]];
};

describe("audit verify", () => {
  test("an honest log verifies and pins the server key with the head", async () => {
    const world = makeWorld();
    const bob = world.bob();
    const result = await bob.audit.verify(world.circleId);
    assert.equal(result.treeSize, 6);
    assert.equal(result.signaturesChecked, 2); // circle_created's key record, the moderation key
    const { serverKey, circles } = JSON.parse(bob.storage.items.get("backchannel.audit.bob"));
    assert.equal(serverKey, world.serverKey);
    assert.equal(circles[world.circleId].size, 6);
  });

  test("an audit record dropped, on a device that never verified: missing_record, and not even the server key is pinned", async () => {
    const drop = (rows) => [...rows.slice(0, 2), ...rows.slice(3)];
    const bob = await auditRefused(drop, "missing_record", { pin: false });
    assert.equal(bob.audit.pins.serverKey, null);
    assert.equal(bob.storage.items.size, 0);
  });

  test("two audit records swapped, on a device that never verified: reordered, nothing pinned", async () => {
    const bob = await auditRefused(swap, "reordered", { pin: false });
    assert.equal(bob.audit.pins.serverKey, null);
  });

  test("two audit records swapped: reordered", async () => {
    await auditRefused(swap, "reordered", { pin: true });
  });

  test("two audit records swapped under each other's seq and hashes: reordered", async () => {
    const swapBodies = (rows) =>
      rows.map((row) => (row.seq === 3 ? auditRow(3, rows[4].body) : row.seq === 4 ? auditRow(4, rows[3].body) : row));
    await auditRefused(swapBodies, "reordered", { pin: false });
  });

  test("the newest audit records dropped under a head that covers them: missing_record", async () => {
    await auditRefused((rows) => rows.filter((row) => row.seq < 4), "missing_record", { pin: true });
  });

  test("the moderation key's signer answered with another user's keys: wrong_account, nothing pinned", async () => {
    const world = makeWorld();
    const bob = world.bob();
    const carol = world.people.carol.publicIdentity();
    // Moderation's own check of the record already asked for alice; the audit asks again.
    let lookups = 0;
    world.server.on("GET", "/v1/users/alice", (row) =>
      ++lookups === 1 ? row : { username: "carol", fingerprint: carol.fingerprint, identity: carol.toJson() },
    );
    await refused(bob.audit.verify(world.circleId), "wrong_account");
    assert.equal(lookups, 2);
    assert.equal(bob.audit.pins.serverKey, null);
    assert.equal(bob.storage.items.size, 0);
  });

  test("a successor server key is pinned only with a log that verifies", async () => {
    const world = makeWorld();
    const bob = world.bob();
    await bob.audit.verify(world.circleId);
    const first = bob.audit.pins.serverKey;
    const successor = world.rotateServerKey();
    const stop = world.server.on("GET", `/v1/circles/${world.circleId}/audit/records`, swap);
    await refused(bob.audit.verify(world.circleId, { full: true }), "reordered");
    assert.equal(bob.audit.pins.serverKey, first);
    assert.equal(JSON.parse(bob.storage.items.get("backchannel.audit.bob")).serverKey, first);

    stop();
    await bob.audit.verify(world.circleId);
    assert.equal(bob.audit.pins.serverKey, successor);
    assert.equal(JSON.parse(bob.storage.items.get("backchannel.audit.bob")).serverKey, successor);
  });
});
