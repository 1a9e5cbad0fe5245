// The SDK's user lookup (docs/protocol.md §7.7) against a server that answers with other keys.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { makeWorld, refused } from "../../test-support/world.js";

describe("userKeys", () => {
  test("returns the asked user's keys with the fingerprint computed here", async () => {
    const world = makeWorld();
    const bob = await world.client().userKeys("Bob");
    assert.equal(bob.username, "bob");
    assert.equal(bob.fingerprint, world.people.bob.publicIdentity().fingerprint);
  });

  test("another user's keys answered for the name asked are wrong_account", async () => {
    const world = makeWorld();
    const carol = world.people.carol.publicIdentity();
    world.server.on("GET", "/v1/users/bob", () => ({
      username: "carol",
      fingerprint: carol.fingerprint,
      identity: carol.toJson(),
    }));
    await refused(world.client().userKeys("bob"), "wrong_account");
  });

  test("an identity whose signature does not verify is bad_identity, unless a signed record vouches for its keys", async () => {
    const world = makeWorld();
    world.server.on("GET", "/v1/users/bob", (row) => {
      const signature = row.identity.x25519_signature;
      row.identity.x25519_signature = (signature[0] === "A" ? "B" : "A") + signature.slice(1);
    });
    const fingerprint = world.people.bob.publicIdentity().fingerprint;
    const carols = world.people.carol.publicIdentity().fingerprint;
    await refused(world.client().userKeys("bob"), "bad_identity");
    await refused(world.client().userKeys("bob", { verifiedFp: carols }), "bad_identity");
    assert.equal((await world.client().userKeys("bob", { verifiedFp: fingerprint })).fingerprint, fingerprint);
  });
});
