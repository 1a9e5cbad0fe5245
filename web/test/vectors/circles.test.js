// docs/vectors/circles-v1.json: circles (§8-§17).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { assertBytes, assertThrowsNamed, bytes, loadVectors, withRandomness } from "../../test-support/helpers.js";
import { sodium } from "../../src/protocol/sodium.js";
import {
  CircleKey,
  epochContext,
  openCircleMeta,
  openPreviousKey,
  openWrap,
  sealCircleMeta,
  sealPreviousKey,
  sealWrap,
  wrapPlaintext,
  circleMetaAssociatedData,
  previousKeyAssociatedData,
} from "../../src/protocol/circles.js";
import { b64, b64url, concat, fromB64, fromUtf8, hex, uuid, uuidBytes, uuidHex } from "../../src/protocol/encoding.js";
import { IdentityKeys, PublicIdentity } from "../../src/protocol/identity.js";
import { canonicalJson, parseJson } from "../../src/protocol/json.js";
import * as labels from "../../src/protocol/labels.js";
import {
  Invite,
  eventBody,
  eventHash,
  inviteSecretHash,
  leaveStatement,
  signLeave,
  verifyLeave,
} from "../../src/protocol/membership.js";
import { KeyRecord, checkSuccessor, verifyRecord } from "../../src/protocol/records.js";

const V = loadVectors("circles-v1.json");
const ACCOUNT = loadVectors("v1.json");
const CIRCLE = V.circle.circle_id;
const identities = Object.fromEntries(
  Object.entries(V.identities).map(([name, i]) => [
    name,
    new IdentityKeys(bytes(i.x25519_secret), bytes(i.ed25519_seed)),
  ]),
);
const epochKeys = V.epoch_keys.map((k) => new CircleKey(bytes(k.key)));
const records = V.records.map((r) => KeyRecord.parse(r.text));

describe("circles-v1.json labels", () => {
  for (const [name, expected] of Object.entries(V.labels)) {
    test(name, () => {
      const actual = labels[name];
      if (actual instanceof Uint8Array) {
        assertBytes(actual, expected);
      } else {
        assert.equal(actual, expected);
      }
    });
  }
});

describe("circles-v1.json retired_labels", () => {
  test("the index key's label is never reused", () => {
    const active = Object.entries(labels)
      .filter(([name, value]) => !name.startsWith("RETIRED_") && value instanceof Uint8Array)
      .map(([, value]) => b64(value));
    for (const [name, expected] of Object.entries(V.retired_labels)) {
      assertBytes(labels[`RETIRED_${name}`], expected);
      assert.ok(!active.includes(b64(labels[`RETIRED_${name}`])), name);
    }
  });
});

describe("circles-v1.json identities", () => {
  test("alice is the identity of v1.json", () => {
    assert.equal(V.identities.alice.x25519_secret, ACCOUNT.identity.x25519_secret);
    assert.equal(V.identities.alice.ed25519_seed, ACCOUNT.identity.ed25519_seed);
  });
  for (const [name, I] of Object.entries(V.identities)) {
    test(name, () => {
      const identity = identities[name];
      assertBytes(identity.x25519Public, I.x25519_public);
      assertBytes(identity.ed25519Public, I.ed25519_public);
      assert.equal(identity.fingerprint, I.fingerprint);
      assert.deepEqual(identity.publicIdentity().toJson(), I.identity);
      const published = PublicIdentity.fromJson(I.identity);
      published.verify();
      assert.equal(published.fingerprint, I.fingerprint);
    });
  }
});

describe("circles-v1.json circle", () => {
  test("the three forms of the circle id", () => {
    assert.equal(uuid(V.circle.circle_id), V.circle.circle_id);
    assert.equal(uuidHex(V.circle.circle_id), V.circle.hex);
    assertBytes(uuidBytes(V.circle.circle_id), V.circle.bytes);
    assert.equal(uuid(V.circle.hex), V.circle.circle_id);
  });
  for (const c of V.circle.epoch_context) {
    test(`ctx(circle, ${c.epoch})`, () => assertBytes(epochContext(CIRCLE, c.epoch), c.bytes));
  }
  test("epochs outside 0 .. 2^63 - 1 are refused", () => {
    assertThrowsNamed(() => epochContext(CIRCLE, 2n ** 63n), "InvalidKey");
    assertThrowsNamed(() => epochContext(CIRCLE, -1), "InvalidKey");
    assertThrowsNamed(() => epochContext(CIRCLE, 1.5), "InvalidKey");
  });
});

describe("circles-v1.json epoch_keys", () => {
  V.epoch_keys.forEach((k, i) => {
    test(`epoch ${k.epoch}: key_id and subkeys`, () => {
      const key = epochKeys[i];
      assertBytes(key.keyId, k.key_id);
      assert.equal(b64(key.keyId), k.key_id_b64);
      assertBytes(key.entryKey, k.entry_key);
      assert.equal(key.indexKey, undefined); // retired (§25)
      assertBytes(key.metaKey, k.meta_key);
    });
  });
});

describe("circles-v1.json records", () => {
  V.records.forEach((r, i) => {
    test(`record ${r.seq}: parse, bytes, hash, signature`, () => {
      const record = KeyRecord.parse(r.text);
      assert.equal(record.seq, r.seq);
      assert.equal(record.epoch, r.epoch);
      assert.equal(record.signer, r.signer);
      assert.deepEqual(record.toJson(), r.json);
      assert.equal(record.text, r.text);
      assertBytes(record.bytes, r.bytes);
      assertBytes(canonicalJson(r.json), r.bytes);
      assertBytes(record.hash(), r.hash);
      assert.equal(b64(record.hash()), r.hash_b64);
      assertBytes(record.signatureMessage(), r.signature_message);
      assertBytes(record.sign(identities[r.signer]), r.signature);
      assert.equal(b64(record.sign(identities[r.signer])), r.signature_b64);
      assertBytes(KeyRecord.parse(bytes(r.bytes)).bytes, r.bytes);
    });

    test(`record ${r.seq}: built with create() from its fields`, () => {
      const built = KeyRecord.create({
        circleId: CIRCLE,
        seq: r.json.seq,
        epoch: r.json.epoch,
        keyId: fromB64(r.json.key_id, 16),
        members: [...r.json.members].reverse(),
        prev: r.json.prev === null ? null : fromB64(r.json.prev, 32),
        signer: r.json.signer,
      });
      assert.equal(built.text, r.text);
    });

    test(`record ${r.seq}: follows the one before and verifies`, () => {
      const previous = i === 0 ? null : records[i - 1];
      verifyRecord(previous, records[i], bytes(r.signature), identities[r.signer].publicIdentity());
    });
  });

  test("the records name the epoch keys", () => {
    for (const record of records) {
      assert.equal(hex(record.keyId), V.epoch_keys[record.epoch].key_id);
    }
  });
});

describe("circles-v1.json record_parse", () => {
  for (const c of V.record_parse) {
    test(c.case, () => {
      if (c.error) {
        assertThrowsNamed(() => KeyRecord.parse(c.text), c.error);
      } else {
        assert.equal(KeyRecord.parse(c.text).text, c.canonical);
      }
    });
  }
});

describe("circles-v1.json chain", () => {
  test("the stray key_id is no epoch key's", () => {
    assert.ok(V.epoch_keys.every((k) => k.key_id !== V.chain.stray_key_id));
  });
  for (const c of V.chain.cases) {
    test(`after record ${c.follows_seq}: ${c.case}`, () => {
      const previous = records[c.follows_seq];
      const record = KeyRecord.parse(c.record);
      const signer = PublicIdentity.fromJson(c.signer_identity);
      signer.verify();
      const signature = fromB64(c.signature_b64, 64);
      if (c.valid) {
        verifyRecord(previous, record, signature, signer);
      } else {
        assertThrowsNamed(() => verifyRecord(previous, record, signature, signer), c.error);
      }
    });
  }
  test("record 0 rules: seq, epoch and prev, then the signer alone as owner", () => {
    assertThrowsNamed(() => checkSuccessor(null, records[1]), "RecordChainBroken");
    const withBob = KeyRecord.create({ ...records[0], circleId: CIRCLE, members: records[1].members });
    assertThrowsNamed(() => checkSuccessor(null, withBob), "RecordChainBroken");
    checkSuccessor(null, records[0]);
  });
});

describe("circles-v1.json wraps", () => {
  for (const w of V.wraps) {
    const identity = identities[w.recipient];
    const key = epochKeys[w.epoch];
    const context = { circleId: CIRCLE, epoch: w.epoch };

    test(`${w.recipient}, epoch ${w.epoch}: plaintext, ephemeral key and box`, () => {
      assertBytes(identity.x25519Public, w.recipient_x25519_public);
      assertBytes(wrapPlaintext(key, context), w.plaintext);
      assertBytes(sodium.crypto_scalarmult_base(bytes(w.ephemeral_secret)), w.ephemeral_public);
      assertBytes(bytes(w.sealed).subarray(0, 32), w.ephemeral_public);
      const nonce = sodium.crypto_generichash(24, concat(bytes(w.ephemeral_public), identity.x25519Public));
      assertBytes(nonce, w.nonce);
      const box = sodium.crypto_box_easy(bytes(w.plaintext), nonce, identity.x25519Public, bytes(w.ephemeral_secret));
      assertBytes(concat(bytes(w.ephemeral_public), box), w.sealed);
      assert.equal(b64(bytes(w.sealed)), w.sealed_b64);
    });

    test(`${w.recipient}, epoch ${w.epoch}: opens to the key the record names`, () => {
      const opened = openWrap(fromB64(w.sealed_b64), { ...context, keyId: key.keyId, identity });
      assert.ok(opened.equals(key));
    });

    test(`${w.recipient}, epoch ${w.epoch}: a fresh wrap opens too`, () => {
      const sealed = sealWrap(key, { ...context, recipient: identity.x25519Public });
      assert.ok(openWrap(sealed, { ...context, keyId: key.keyId, identity }).equals(key));
    });
  }
});

describe("circles-v1.json wrap_open", () => {
  const W = V.wrap_open;
  for (const c of W.cases) {
    test(c.case, () => {
      const options = {
        circleId: CIRCLE,
        epoch: 0,
        keyId: bytes(W.expected_key_id),
        identity: identities[W.recipient],
      };
      if (c.plaintext) {
        const opened = sodium.crypto_box_seal_open(
          bytes(c.sealed),
          identities[W.recipient].x25519Public,
          identities[W.recipient].x25519Secret,
        );
        assertBytes(opened, c.plaintext);
      }
      assertThrowsNamed(() => openWrap(bytes(c.sealed), options), c.error);
    });
  }
});

describe("circles-v1.json previous_key_box", () => {
  const P = V.previous_key_box;
  const newKey = new CircleKey(bytes(P.new_key));
  const previousKey = new CircleKey(bytes(P.previous_key));
  const context = { circleId: CIRCLE, epoch: P.epoch };

  test("associated data and box with the vector's nonce", () => {
    assertBytes(previousKey.keyId, P.previous_key_id);
    assertBytes(previousKeyAssociatedData(context), P.associated_data);
    const box = withRandomness([P.nonce], () => sealPreviousKey(newKey, previousKey, context));
    assertBytes(box, P.box);
    assert.equal(b64(box), P.box_b64);
  });

  test("opens to the previous key", () => {
    const opened = openPreviousKey(fromB64(P.box_b64), { ...context, newKey, keyId: bytes(P.previous_key_id) });
    assert.ok(opened.equals(previousKey));
  });

  test("refusals: another epoch, another key_id, a short box", () => {
    const box = bytes(P.box);
    const options = { ...context, newKey, keyId: bytes(P.previous_key_id) };
    assertThrowsNamed(() => openPreviousKey(box, { ...options, epoch: 2 }), "DecryptionFailed");
    assertThrowsNamed(() => openPreviousKey(box, { ...options, keyId: newKey.keyId }), "UntrustedSigner");
    assertThrowsNamed(() => openPreviousKey(box.subarray(0, 39), options), "DecryptionFailed");
    assertThrowsNamed(() => openPreviousKey(box, { ...options, newKey: previousKey }), "DecryptionFailed");
  });
});

describe("circles-v1.json circle_meta", () => {
  const M = V.circle_meta;
  const key = epochKeys[M.epoch];
  const context = { key, circleId: CIRCLE, epoch: M.epoch };

  test("plaintext, associated data and box with the vector's nonce", () => {
    assertBytes(key.metaKey, M.meta_key);
    assertBytes(canonicalJson(M.meta), M.plaintext);
    assertBytes(circleMetaAssociatedData(context), M.associated_data);
    const box = withRandomness([M.nonce], () => sealCircleMeta(M.meta, context));
    assertBytes(box, M.box);
    assert.equal(b64(box), M.box_b64);
  });

  test("opens to the name and description", () => {
    assert.deepEqual(openCircleMeta(fromB64(M.box_b64), context), M.meta);
  });

  test("refusals: another epoch or key, a short box", () => {
    const box = bytes(M.box);
    assertThrowsNamed(() => openCircleMeta(box, { ...context, epoch: 1 }), "DecryptionFailed");
    assertThrowsNamed(() => openCircleMeta(box, { ...context, key: epochKeys[1] }), "DecryptionFailed");
    assertThrowsNamed(() => openCircleMeta(box.subarray(0, 39), context), "DecryptionFailed");
  });
});

describe("circles-v1.json invite", () => {
  const I = V.invite;

  test("the invite string, secret hash and requests", () => {
    assertBytes(records[I.record_seq].hash(), I.record_hash);
    assert.equal(b64url(bytes(I.record_hash)), I.record_hash_b64url);
    assert.equal(b64url(bytes(I.secret)), I.secret_b64url);
    const invite = new Invite({
      circleId: I.circle_id,
      inviteId: I.invite_id,
      secret: bytes(I.secret),
      inviterFingerprint: I.inviter_fingerprint,
      recordHash: bytes(I.record_hash),
    });
    assert.equal(String(invite), I.text);
    assertBytes(invite.secretHash, I.secret_hash);
    assertBytes(inviteSecretHash(bytes(I.secret)), I.secret_hash);
    assert.equal(b64(invite.secretHash), I.create_request.secret_hash);
    assert.deepEqual(invite.redeemRequest(), I.redeem_request);
    const made = withRandomness([bytes(uuidHex(I.invite_id)), bytes(I.secret)], () =>
      Invite.create({
        circleId: I.circle_id,
        inviterFingerprint: I.inviter_fingerprint,
        recordHash: bytes(I.record_hash),
      }),
    );
    assert.equal(String(made), I.text);
  });

  test("the invite names a record that lists the inviter as an admin", () => {
    const invite = Invite.parse(I.text);
    const named = records.find((record) => hex(record.hash()) === hex(invite.recordHash));
    assert.ok(named);
    assert.ok(named.members.some((m) => m.fp === invite.inviterFingerprint && ["owner", "admin"].includes(m.role)));
  });

  for (const c of I.parse) {
    test(`parse: ${c.case}`, () => {
      if (c.error) {
        assertThrowsNamed(() => Invite.parse(c.input), c.error);
      } else {
        const invite = Invite.parse(c.input);
        assert.equal(String(invite), c.canonical);
        assert.equal(invite.circleId, I.circle_id);
        assert.equal(invite.inviteId, I.invite_id);
        assert.equal(invite.inviterFingerprint, I.inviter_fingerprint);
        assertBytes(invite.recordHash, I.record_hash);
        assertBytes(invite.secretHash, I.secret_hash);
      }
    });
  }
});

describe("circles-v1.json leave", () => {
  const L = V.leave;

  test("statement, signature message and signature", () => {
    const statement = leaveStatement({ circleId: L.circle_id, user: L.user, recordSeq: L.record_seq });
    assertBytes(statement, L.bytes);
    assert.equal(fromUtf8(statement), L.statement);
    assertBytes(canonicalJson(L.json), L.bytes);
    assertBytes(concat(labels.LEAVE_SIGNATURE_CONTEXT, statement), L.signature_message);
    assertBytes(signLeave(identities[L.user], statement), L.signature);
    assert.equal(b64(bytes(L.signature)), L.signature_b64);
  });

  for (const c of L.cases) {
    test(c.case, () => {
      const check = () =>
        verifyLeave(c.statement, fromB64(c.signature_b64), {
          circleId: c.circle_id,
          user: c.user,
          identity: identities[c.signer].publicIdentity(),
        });
      if (c.error) {
        assertThrowsNamed(check, c.error);
      } else {
        assert.equal(check(), c.record_seq);
      }
    });
  }
});

describe("circles-v1.json events", () => {
  V.events.forEach((e, i) => {
    test(`event ${e.fields.seq} (${e.fields.kind}): body, hash, chain`, () => {
      assert.equal(fromUtf8(eventBody(e.fields)), e.body);
      assertBytes(eventHash(e.body), e.hash);
      assert.equal(b64(eventHash(e.body)), e.hash_b64);
      assert.deepEqual(parseJson(e.body), e.fields);
      assert.equal(e.fields.prev, i === 0 ? null : V.events[i - 1].hash_b64);
    });
  });
  test("circle_created names record 0 by its hash", () => {
    const details = V.events[0].fields.details;
    assert.equal(details.record_hash, b64(records[details.record_seq].hash()));
  });
});

describe("circles-v1.json requests", () => {
  const R = V.requests;
  const [alice, bob] = [identities.alice, identities.bob];

  test("create: record 0, its signature, alice's wrap and the metadata", () => {
    assert.equal(R.create.circle_id, CIRCLE);
    assert.equal(R.create.record, V.records[0].text);
    verifyRecord(null, KeyRecord.parse(R.create.record), fromB64(R.create.signature, 64), alice.publicIdentity());
    const wrap = openWrap(fromB64(R.create.wrap), {
      circleId: CIRCLE,
      epoch: 0,
      keyId: records[0].keyId,
      identity: alice,
    });
    assert.ok(wrap.equals(epochKeys[0]));
    assert.deepEqual(
      openCircleMeta(fromB64(R.create.meta), { key: epochKeys[0], circleId: CIRCLE, epoch: 0 }),
      V.circle_meta.meta,
    );
  });

  test("confirm_bob: record 1, its signature and bob's wrap of epoch 0", () => {
    const record = KeyRecord.parse(R.confirm_bob.record);
    verifyRecord(records[0], record, fromB64(R.confirm_bob.signature, 64), alice.publicIdentity());
    const wrap = openWrap(fromB64(R.confirm_bob.wrap), {
      circleId: CIRCLE,
      epoch: 0,
      keyId: record.keyId,
      identity: bob,
    });
    assert.ok(wrap.equals(epochKeys[0]));
  });

  test("rotate: record 2, a wrap per member and the previous-key box", () => {
    const record = KeyRecord.parse(R.rotate.record);
    verifyRecord(records[1], record, fromB64(R.rotate.signature, 64), alice.publicIdentity());
    assert.deepEqual(
      R.rotate.wraps.map((w) => w.username),
      record.members.map((m) => m.user),
    );
    for (const w of R.rotate.wraps) {
      const key = openWrap(fromB64(w.wrap), {
        circleId: CIRCLE,
        epoch: 1,
        keyId: record.keyId,
        identity: identities[w.username],
      });
      assert.ok(key.equals(epochKeys[1]));
    }
    const previous = openPreviousKey(fromB64(R.rotate.prev_key_box, 72), {
      newKey: epochKeys[1],
      circleId: CIRCLE,
      epoch: 1,
      keyId: records[1].keyId,
    });
    assert.ok(previous.equals(epochKeys[0]));
  });

  test("leave_bob: the statement and signature verify for bob", () => {
    const seq = verifyLeave(R.leave_bob.statement, fromB64(R.leave_bob.signature, 64), {
      circleId: CIRCLE,
      user: "bob",
      identity: bob.publicIdentity(),
    });
    assert.equal(seq, V.leave.record_seq);
  });
});
