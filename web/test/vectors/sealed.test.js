// docs/vectors/sealed-v1.json (§36), byte for byte as tests/crypto/test_sealed_vectors.py
// checks it: the seal secret, forms, VOPRF inputs and outputs, per-name values, tags,
// coefficients, points, interpolation, the settings record, and opening the sealed filings
// (as their filer and as admins) with every refusal.
import assert from "node:assert/strict";
import { test } from "node:test";

import { bytes, loadVectors } from "../../test-support/helpers.js";
import { CircleKey } from "../../src/protocol/circles.js";
import { hex, utf8 } from "../../src/protocol/encoding.js";
import { BadSignature, DecryptionFailed, InvalidKey, WrongEpoch } from "../../src/protocol/errors.js";
import { IdentityKeys } from "../../src/protocol/identity.js";
import * as labels from "../../src/protocol/labels.js";
import { ModerationKey } from "../../src/protocol/moderation.js";
import {
  NamePolynomial,
  SealedSettings,
  checkSettingsSuccessor,
  filerPoint,
  interpolate,
  nameValue,
  sealSecret,
  sealedNameForms,
  sealedOprfInput,
  shareVerifies,
} from "../../src/protocol/sealed.js";
import { NotEnoughFilers, NotEnoughShares, SealedFiling, openMatch, openOwnFiling } from "../../src/protocol/sealedfilings.js";
import { OprfKey, OprfMode, VoprfServer } from "../../src/protocol/voprf.js";

const V = loadVectors("sealed-v1.json");
const CIRCLE = V.circle_id;
const identity = (user) => IdentityKeys.fromBytes(bytes(V.users[user].secret));
const filings = () =>
  V.filings.map((f) => ({ filing: SealedFiling.parse(utf8(f.record)), signature: Uint8Array.from(Buffer.from(f.signature, "base64")) }));

test("the labels are the ones in labels.js", () => {
  for (const [name, value] of Object.entries(V.labels)) {
    const actual = labels[name];
    assert.equal(actual instanceof Uint8Array ? hex(actual) : actual, value, name);
  }
});

test("seal secret, forms, VOPRF outputs, values, tags and coefficients", () => {
  const secret = sealSecret(new CircleKey(bytes(V.epoch0_key)));
  assert.equal(hex(secret), V.seal_secret);
  const key = OprfKey.derive(bytes(V.oprf_seed), bytes(CIRCLE.replaceAll("-", "")), { mode: OprfMode.VOPRF });
  assert.equal(hex(key.publicKey.toBytes()), V.oprf_public_key);
  const server = new VoprfServer(key);
  for (const [user, names] of Object.entries(V.names)) {
    const expected = V.values[user];
    assert.deepEqual(sealedNameForms(names), expected.map((v) => v.form));
    for (const value of expected) {
      const input = sealedOprfInput(CIRCLE, value.form);
      assert.equal(hex(input), value.oprf_input);
      const output = server.evaluate(input);
      assert.equal(hex(output), value.oprf_output);
      const v = nameValue(secret, output);
      assert.equal(hex(v), value.value);
      for (const [k, poly] of Object.entries(value.by_k)) {
        const p = NamePolynomial.derive(v, Number(k));
        assert.equal(hex(p.tag), poly.tag);
        assert.deepEqual(p.coefficients.map(hex), poly.coefficients);
        assert.equal(hex(p.wrapKey), poly.wrap_key);
        assert.deepEqual(p.commitments.map(hex), poly.commitments);
      }
    }
  }
});

test("filer points, shares and interpolation", () => {
  for (const [user, entry] of Object.entries(V.users)) {
    assert.equal(hex(filerPoint(CIRCLE, user)), entry.x);
  }
  const shared = V.values.alice.find((v) => v.form === "w:jan novak");
  for (const [k, c] of Object.entries(V.interpolation)) {
    const poly = NamePolynomial.derive(bytes(shared.value), Number(k));
    const points = c.points.map((p) => {
      assert.equal(hex(poly.share(bytes(p.x))), p.y);
      return [bytes(p.x), bytes(p.y)];
    });
    assert.equal(hex(interpolate(points)), c.f0);
    assert.equal(c.f0, shared.by_k[k].coefficients[0]);
    assert.throws(() => interpolate([points[0], points[0]]), InvalidKey);
  }
});

test("the settings record parses, hashes and verifies", () => {
  const record = SealedSettings.parse(utf8(V.settings.text));
  assert.equal(hex(record.hash()), V.settings.hash);
  record.verifySignature(Uint8Array.from(Buffer.from(V.settings.signature, "base64")), identity("alice").publicIdentity());
  assert.equal(Buffer.from(record.sign(identity("alice"))).toString("base64"), V.settings.signature);
  checkSettingsSuccessor(null, record);
  assert.throws(() => SealedSettings.parse(utf8(V.settings.text.replace('"k":2', '"k":6'))), InvalidKey);
  assert.throws(() => SealedSettings.parse(utf8(V.settings.text.replace('{"circle"', '{ "circle"'))), InvalidKey);
});

test("a filer opens their own filing; nobody else does", () => {
  const [{ filing, signature }] = filings();
  filing.verifySignature(signature, identity("alice").publicIdentity());
  assert.equal(openOwnFiling(filing, identity("alice")).subject, "Jan Novák");
  assert.throws(() => openOwnFiling(filing, identity("bob")), DecryptionFailed);
  assert.equal(new TextDecoder().decode(filing.toBytes()), V.filings[0].record);
});

test("the moderation key of the vectors", () => {
  assert.equal(hex(new ModerationKey(bytes(V.moderation_secret)).publicKey), V.moderation_public);
});

function open(list, overrides = {}) {
  return openMatch(list, {
    circleId: CIRCLE,
    tag: bytes(V.match.tag),
    k: 2,
    identities: new Map(Object.keys(V.users).map((u) => [u, identity(u).publicIdentity()])),
    moderationKeys: new Map([[0, new ModerationKey(bytes(V.moderation_secret))]]),
    ...overrides,
  });
}

test("Feldman share checks", () => {
  for (const c of V.share_checks) {
    assert.equal(shareVerifies(bytes(c.x), bytes(c.y), c.commitments.map(bytes)), c.valid, c.note);
  }
});

test("the admins open the match and leave out the spoiled share", () => {
  const [alice, bob, carol] = filings();
  let opening = open([alice, bob, carol]);
  assert.deepEqual(opening.opened.map((o) => o.payload.text), ["what alice saw", "what bob saw"]);
  assert.deepEqual(opening.excluded.map((e) => [e.filing.filer, e.reason]), [["carol", "bad_share"]]);
  opening = open([carol, bob, alice]);
  assert.deepEqual(opening.opened.map((o) => o.filing.filer), ["bob", "alice"]);
  assert.throws(() => open([alice, carol]), (error) => error instanceof NotEnoughShares && error.excluded[0].reason === "bad_share");
});

test("the admins open the match, and refuse what does not hold", () => {
  const [alice, bob] = filings();
  assert.deepEqual(
    open([alice, bob]).opened.map((o) => o.payload.text),
    ["what alice saw", "what bob saw"],
  );
  assert.throws(() => open([alice, alice]), NotEnoughFilers);
  assert.throws(() => open([alice, { filing: bob.filing, signature: alice.signature }]), BadSignature);
  assert.throws(() => open([alice, bob], { tag: new Uint8Array(32) }), WrongEpoch);
  assert.throws(() => open([alice, bob], { k: 3 }), WrongEpoch);
  assert.throws(
    () => open([alice, bob], { moderationKeys: new Map([[0, new ModerationKey(Uint8Array.from({ length: 32 }, (_, i) => i))]]) }),
    DecryptionFailed,
  );
});

test("a filing sealed here opens here, as its filer and for the admins", async () => {
  const { sealFiling } = await import("../../src/protocol/sealedfilings.js");
  const moderation = new ModerationKey(bytes(V.moderation_secret));
  const shared = V.values.alice.find((v) => v.form === "w:jan novak");
  const list = ["alice", "carol"].map((user, i) =>
    sealFiling(
      { v: 1, subject: "Jan Novák", text: `from ${user}` },
      {
        circleId: CIRCLE,
        filingId: `00000000-0000-4000-8000-00000000000${i}`,
        filer: user,
        identity: identity(user),
        polynomials: [NamePolynomial.derive(bytes(shared.value), 2)],
        moderationPublic: moderation.publicKey,
        generation: 0,
      },
    ),
  );
  const reparsed = list.map(({ filing, signature }) => ({ filing: SealedFiling.parse(filing.toBytes()), signature }));
  assert.equal(openOwnFiling(reparsed[1].filing, identity("carol")).text, "from carol");
  assert.deepEqual(
    open(reparsed, { tag: bytes(shared.by_k["2"].tag) }).opened.map((o) => o.payload.text),
    ["from alice", "from carol"],
  );
});

test("records parse from the strings the server sends, as from bytes", () => {
  assert.equal(SealedSettings.parse(V.settings.text).k, 2);
  assert.equal(SealedFiling.parse(V.filings[0].record).filer, "alice");
});
