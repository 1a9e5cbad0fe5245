// docs/vectors/anon-v1.json (§38), byte for byte as tests/crypto/test_anon_vectors.py checks
// it: the per-epoch issuance keys, the admin-signed issuance record, token inputs, their
// VOPRF outputs and nullifiers, the inputs to refuse, and the sealed author.
import assert from "node:assert/strict";
import { test } from "node:test";

import { bytes, loadVectors } from "../../test-support/helpers.js";
import {
  IssuanceRecord,
  authorCasesMessage,
  authorClaim,
  authorClaimMessage,
  openAuthor,
  tokenInput,
  tokenNullifier,
  tokenScope,
  verifyAuthorClaim,
} from "../../src/protocol/anon.js";
import { concat, fromUtf8, hex, uint64be, utf8, uuidBytes } from "../../src/protocol/encoding.js";
import { IdentityKeys } from "../../src/protocol/identity.js";
import * as labels from "../../src/protocol/labels.js";
import { ModerationKey } from "../../src/protocol/moderation.js";
import { OprfKey, OprfMode, VoprfServer } from "../../src/protocol/voprf.js";

const V = loadVectors("anon-v1.json");
const issuanceKey = (circle, epoch) =>
  OprfKey.derive(bytes(V.issuance_keys.seed), concat(uuidBytes(circle), uint64be(epoch)), { mode: OprfMode.VOPRF });

test("the labels are the ones in labels.js", () => {
  for (const [name, value] of Object.entries(V.labels)) {
    const actual = labels[name];
    assert.equal(actual instanceof Uint8Array ? hex(actual) : actual, value, name);
  }
});

test("issuance keys are per circle and epoch", () => {
  for (const key of V.issuance_keys.keys) {
    const derived = issuanceKey(key.circle_id, key.epoch);
    assert.equal(hex(derived.toBytes()), key.secret);
    assert.equal(hex(derived.publicKey.toBytes()), key.public);
  }
});

test("the issuance record parses, verifies and refuses", () => {
  const v = V.issuance_record;
  const record = IssuanceRecord.parse(utf8(v.text));
  assert.equal(fromUtf8(record.toBytes()), v.text);
  const alice = IdentityKeys.fromBytes(bytes(v.alice_identity));
  assert.equal(hex(record.sign(alice)), v.signature);
  record.verifySignature(bytes(v.signature), alice.publicIdentity());
  const bob = IdentityKeys.fromBytes(bytes(V.sealed_author.bob_identity));
  assert.throws(() => record.verifySignature(bytes(v.signature), bob.publicIdentity()));
  for (const text of v.refuse) {
    assert.throws(() => IssuanceRecord.parse(utf8(text)), text);
  }
});

test("token inputs, outputs, nullifiers and scopes", () => {
  for (const t of V.tokens) {
    const input = tokenInput(V.circle_id, t.epoch, bytes(t.random));
    assert.equal(hex(input), t.input);
    const output = new VoprfServer(issuanceKey(V.circle_id, t.key_epoch)).evaluate(input);
    assert.equal(hex(output), t.output);
    assert.equal(hex(tokenNullifier(input)), t.nullifier);
    assert.deepEqual(tokenScope(input), { circleId: V.circle_id, epoch: t.epoch });
  }
  for (const raw of Object.values(V.token_refuse)) {
    assert.throws(() => tokenScope(bytes(raw)), raw);
  }
});

test("the author's request for their anonymous warning's cases", () => {
  const v = V.author_cases;
  assert.equal(hex(authorCasesMessage(V.circle_id, v.entry_id, v.at)), v.message);
});

test("the sealed author opens for the admins only", () => {
  const v = V.sealed_author;
  const bob = IdentityKeys.fromBytes(bytes(v.bob_identity));
  const where = { circleId: V.circle_id, objectId: v.entry_id, authorKey: bytes(v.author_key) };
  assert.equal(hex(authorClaimMessage(V.circle_id, v.entry_id, bytes(v.author_key))), v.claim_message);
  assert.equal(fromUtf8(authorClaim(bob, "bob", where)), v.claim);
  const key = new ModerationKey(bytes(v.moderation_secret));
  const at = { key, circleId: V.circle_id, objectId: v.entry_id, generation: v.generation };
  const claim = openAuthor(bytes(v.sealed), at);
  assert.equal(claim.user, "bob");
  verifyAuthorClaim(claim, bob.publicIdentity(), where);
  assert.throws(() => openAuthor(bytes(v.sealed), { ...at, generation: v.generation + 1 }));
  assert.throws(() => openAuthor(bytes(v.sealed), { ...at, key: ModerationKey.generate() }));
});
