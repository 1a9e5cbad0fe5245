// The circle deletion statement (docs/protocol.md §16.9): the same bytes as the Python client.
import assert from "node:assert/strict";
import { test } from "node:test";

import { deletionStatement, signDeletion, verifyDeletion } from "../src/protocol/deletion.js";
import { fromUtf8 } from "../src/protocol/encoding.js";
import { InvalidKey } from "../src/protocol/errors.js";
import { IdentityKeys } from "../src/protocol/identity.js";
import { ready } from "../src/protocol/sodium.js";

await ready();

const CIRCLE = "8a3f0c6e-5b1d-4f2a-9c7e-1d2b3a4c5d6e";
const EXAMPLE = '{"by":"alice","circle":"8a3f0c6e5b1d4f2a9c7e1d2b3a4c5d6e","record_seq":3,"type":"backchannel.circle-delete","v":1}';

test("the statement is the documented bytes", () => {
  assert.equal(fromUtf8(deletionStatement({ circleId: CIRCLE, by: "alice", recordSeq: 3 })), EXAMPLE);
});

test("a signed statement verifies; another signer, circle or a non-canonical form does not", () => {
  const owner = IdentityKeys.generate();
  const other = IdentityKeys.generate();
  const signature = signDeletion(owner, new TextEncoder().encode(EXAMPLE));
  assert.deepEqual(verifyDeletion(EXAMPLE, signature, { circleId: CIRCLE, identity: owner.publicIdentity() }), { by: "alice", recordSeq: 3 });
  assert.throws(() => verifyDeletion(EXAMPLE, signature, { circleId: CIRCLE, identity: other.publicIdentity() }));
  assert.throws(() => verifyDeletion(EXAMPLE, signature, { circleId: "00000000-0000-4000-8000-000000000000", identity: owner.publicIdentity() }), InvalidKey);
  assert.throws(() => verifyDeletion(EXAMPLE.replace('"record_seq":3', '"record_seq":"3"'), signature, { circleId: CIRCLE, identity: owner.publicIdentity() }), InvalidKey);
});
