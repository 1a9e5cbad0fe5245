// A malicious server that partitions anonymous posters by token key (docs/protocol.md §38.1),
// as tests/malicious/test_anon_attacks.py: admins signed two different keys for one epoch (the
// stand-in circle has one admin, alice, who signs both) and bob was shown the second. His client takes tokens under it (the record is an
// admin's and every proof verifies); audit verify catches it: key_partition.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Anonymous } from "../../src/client/anon.js";
import { OprfKey } from "../../src/protocol/voprf.js";
import { makeWorld, refused } from "../../test-support/world.js";

/** bob takes a batch of tokens through his real Anonymous, as posting anonymously would. */
async function bobTakesTokens(world) {
  const bob = world.bob();
  const anonymous = new Anonymous(bob.circles);
  await anonymous.take(await bob.circles.sync(world.circleId));
  return bob;
}

describe("one token key per epoch", () => {
  test("tokens under the one logged key verify, and the key is pinned", async () => {
    const world = makeWorld({ issuance: [{ key: OprfKey.generate() }] });
    const bob = await bobTakesTokens(world);
    const result = await bob.audit.verify(world.circleId);
    assert.equal(result.signaturesChecked, 3); // the key record, the moderation key, the token key
    const pinned = bob.audit.pins.circles[world.circleId].issuance;
    assert.deepEqual(pinned, (await bob.circles.anonymousTokens.load(world.circleId)).keys);
  });

  test("a second signed key for the epoch, logged and shown to bob: key_partition for bob and alice", async () => {
    const issuance = [
      { key: OprfKey.generate() },
      { key: OprfKey.generate() },
    ];
    const world = makeWorld({ issuance, shown: 1 });
    const bob = await bobTakesTokens(world);
    await refused(bob.audit.verify(world.circleId), "key_partition");
    assert.equal(bob.storage.items.size, 0); // nothing pinned
    await refused(world.alice().audit.verify(world.circleId), "key_partition");
  });

  test("a second signed key kept out of the log and shown to bob: key_partition for bob only", async () => {
    const issuance = [
      { key: OprfKey.generate() },
      { key: OprfKey.generate(), logged: false },
    ];
    const world = makeWorld({ issuance, shown: 1 });
    const bob = await bobTakesTokens(world);
    await refused(bob.audit.verify(world.circleId), "key_partition");
    await world.alice().audit.verify(world.circleId); // the log itself is honest about one key
  });
});

describe("tokens taken when a circle is opened", () => {
  test("stockUp takes one batch, a second stockUp and a post spend from it, and take() waits for one in flight", async () => {
    const world = makeWorld({ issuance: [{ key: OprfKey.generate() }] });
    let batches = 0;
    world.server.on("POST", `/v1/circles/${world.circleId}/anon/tokens`, () => {
      batches += 1;
    });
    const bob = world.bob();
    const anonymous = new Anonymous(bob.circles);
    const circle = await bob.circles.sync(world.circleId);
    const opening = anonymous.stockUp(circle); // the page does not wait for it
    const token = await anonymous.take(circle); // a post at once waits for the opening's batch
    assert.equal(await opening, 4);
    assert.equal(batches, 1);
    assert.equal(typeof token.input, "string");
    assert.equal(await anonymous.stockUp(circle), 3);
    assert.equal(batches, 1);
  });

  test("each week's first opening takes a batch whatever is held, and the stock keeps two batches at most", async () => {
    // So a week's issuance counts say who opened the circle, not who spent tokens.
    const world = makeWorld({ issuance: [{ key: OprfKey.generate() }] });
    let batches = 0;
    world.server.on("POST", `/v1/circles/${world.circleId}/anon/tokens`, () => {
      batches += 1;
    });
    let now = Date.now() / 1000;
    const bob = world.bob();
    const anonymous = new Anonymous(bob.circles, { clock: () => now });
    const circle = await bob.circles.sync(world.circleId);
    assert.equal(await anonymous.stockUp(circle), 4);
    assert.equal(await anonymous.stockUp(circle), 4);
    assert.equal(batches, 1);
    now += 7 * 86_400;
    assert.equal(await anonymous.stockUp(circle), 8);
    assert.equal(batches, 2);
    now += 7 * 86_400;
    assert.equal(await anonymous.stockUp(circle), 8);
    assert.equal(batches, 3);
  });

  test("stockUp takes nothing, and says so, when no admin signed the epoch's key", async () => {
    const world = makeWorld();
    world.server.route("GET", `/v1/circles/${world.circleId}/anon/issuance`, () => ({
      epoch: 0,
      oprf_public_key: "",
      record: null,
      tokens_used: 0,
      tokens_allowed: 0,
    }));
    const bob = world.bob();
    assert.equal(await new Anonymous(bob.circles).stockUp(await bob.circles.sync(world.circleId)), 0);
  });
});
