// Moderation looks people up through the SDK's userKeys, so another user's answer is refused.
import assert from "node:assert/strict";
import { test } from "node:test";

import { makeWorld, refused } from "../../test-support/world.js";

test("the moderation key's signer answered with another user's keys is wrong_account, and nothing is cached", async () => {
  const world = makeWorld();
  const carol = world.people.carol.publicIdentity();
  world.server.on("GET", "/v1/users/alice", () => ({
    username: "carol",
    fingerprint: carol.fingerprint,
    identity: carol.toJson(),
  }));
  const { moderation } = world.bob();
  await refused(moderation.state(world.circle), "wrong_account");
  assert.equal(moderation.identities.size, 0);
});

test("the moderation key's signer verifies through the signed record's fingerprint", async () => {
  const world = makeWorld();
  const { moderation } = world.bob();
  const state = await moderation.state(world.circle);
  assert.equal(state.current.signer, "alice");
  assert.equal(moderation.identities.size, 1);
});
