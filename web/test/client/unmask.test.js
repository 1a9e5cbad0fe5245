// An admin's unmask of an anonymous warning (docs/protocol.md §38.3, client/anon.js): the
// browser opens the author sealed to the moderation key and checks the author's signed claim;
// the server, which cannot open it, can only refuse, swap or garble what it hands over.
import assert from "node:assert/strict";
import { test } from "node:test";

import { authorClaim, sealAuthor } from "../../src/protocol/anon.js";
import { b64 } from "../../src/protocol/encoding.js";
import { IdentityKeys } from "../../src/protocol/identity.js";
import { randomBytes, randomUuid } from "../../src/protocol/random.js";
import { Anonymous } from "../../src/client/anon.js";
import { makeWorld, refused } from "../../test-support/world.js";

/** carol's anonymous warning as the server stores it: her claim sealed to the admins. */
function anonymousWarning(world, { author = "carol", signer = author, generation = 0 } = {}) {
  const entryId = randomUuid();
  const authorKey = randomBytes(32);
  const claim = authorClaim(world.people[signer], author, { circleId: world.circleId, objectId: entryId, authorKey });
  const sealed = sealAuthor(claim, {
    circleId: world.circleId,
    objectId: entryId,
    generation: 0,
    moderationPublic: world.moderationPublic,
  });
  return {
    entryId,
    answer: { object_id: entryId, author_key: b64(authorKey), sealed_author: b64(sealed), author_generation: generation },
  };
}

function unmasking(world, warning) {
  let asked = 0;
  const path = `/v1/circles/${world.circleId}/anon/unmask`;
  world.server.route("POST", path, () => warning.answer);
  world.server.on("POST", path, () => {
    asked += 1;
  });
  const anonymous = new Anonymous(world.alice().circles);
  return { anonymous, asked: () => asked };
}

test("an admin learns who wrote an anonymous warning, verified by the author's own key, by asking the server once", async () => {
  const world = makeWorld({ aliceModerates: true, members: ["bob", "carol"] });
  const warning = anonymousWarning(world);
  const { anonymous, asked } = unmasking(world, warning);
  const found = await anonymous.unmask(world.circleId, warning.entryId);
  assert.deepEqual(found, { objectId: warning.entryId, user: "carol", verified: true });
  assert.equal(asked(), 1);
});

test("a claim naming carol but signed by bob is shown as unverified, never as carol's", async () => {
  const world = makeWorld({ aliceModerates: true, members: ["bob", "carol"] });
  const warning = anonymousWarning(world, { author: "carol", signer: "bob" });
  const { anonymous } = unmasking(world, warning);
  const found = await anonymous.unmask(world.circleId, warning.entryId);
  assert.equal(found.user, "carol");
  assert.equal(found.verified, false);
});

test("a claim naming someone the signed record does not list (a former member) is unverified, even with keys the server vouches for", async () => {
  // The server holds the moderation public key: it can seal a claim naming "dave" under a
  // key it made, and serve that key as dave's (a self-signed identity is all it takes).
  const world = makeWorld({ aliceModerates: true, members: ["bob", "carol"] });
  const forged = IdentityKeys.generate();
  const id = forged.publicIdentity();
  world.server.route("GET", "/v1/users/dave", () => ({ username: "dave", fingerprint: id.fingerprint, identity: id.toJson() }));
  const entryId = randomUuid();
  const authorKey = randomBytes(32);
  const claim = authorClaim(forged, "dave", { circleId: world.circleId, objectId: entryId, authorKey });
  const sealed = sealAuthor(claim, { circleId: world.circleId, objectId: entryId, generation: 0, moderationPublic: world.moderationPublic });
  const { anonymous } = unmasking(world, {
    entryId,
    answer: { object_id: entryId, author_key: b64(authorKey), sealed_author: b64(sealed), author_generation: 0 },
  });
  assert.deepEqual(await anonymous.unmask(world.circleId, entryId), { objectId: entryId, user: "dave", verified: false });
});

test("the server swapping in the author of another warning is refused", async () => {
  const world = makeWorld({ aliceModerates: true, members: ["bob", "carol"] });
  const asked = anonymousWarning(world);
  const other = anonymousWarning(world, { author: "bob" });
  // The other warning's sealed author, labelled as the one asked about: its AD names the other id.
  const { anonymous } = unmasking(world, { answer: { ...other.answer, object_id: asked.entryId } });
  await refused(anonymous.unmask(world.circleId, asked.entryId), "decryption_failed");
  // And as itself: the answer is about another object than the one asked.
  const honest = unmasking(world, other);
  await refused(honest.anonymous.unmask(world.circleId, asked.entryId), "invalid_data");
});

test("a garbled sealed author, or one of a generation this browser lacks, is refused", async () => {
  const world = makeWorld({ aliceModerates: true, members: ["bob", "carol"] });
  const warning = anonymousWarning(world);
  const sealed = Buffer.from(warning.answer.sealed_author, "base64");
  sealed[sealed.length - 1] ^= 1;
  const garbled = unmasking(world, { answer: { ...warning.answer, sealed_author: b64(new Uint8Array(sealed)) } });
  await refused(garbled.anonymous.unmask(world.circleId, warning.entryId), "decryption_failed");
  const newer = anonymousWarning(world, { generation: 7 });
  const later = unmasking(world, newer);
  await refused(later.anonymous.unmask(world.circleId, newer.entryId), "missing_key");
});
