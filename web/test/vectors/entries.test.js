// docs/vectors/entries-v1.json: warnings (§18-§27).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { assertBytes, assertThrowsNamed, bytes, loadVectors, withRandomness } from "../../test-support/helpers.js";
import { CircleKey } from "../../src/protocol/circles.js";
import { b64, concat, fromB64, fromUtf8, uuidBytes } from "../../src/protocol/encoding.js";
import {
  BUCKETS,
  CATEGORIES,
  CORROBORATION,
  ENTRY,
  Envelope,
  EnvelopeContext,
  SEVERITIES,
  anonymousSigningKey,
  authorTag,
  checkEntryBody,
  commitment,
  openCorroboration,
  openEntry,
  pad,
  retractMessage,
  seal,
  signRetraction,
  signTerms,
  signingKeyFor,
  termsMessage,
  unpad,
  verifyCommitment,
  verifyRetraction,
  verifyTerms,
} from "../../src/protocol/entries.js";
import { IdentityKeys } from "../../src/protocol/identity.js";
import { canonicalJson } from "../../src/protocol/json.js";
import { signingKeyPair } from "../../src/protocol/hash.js";
import * as labels from "../../src/protocol/labels.js";
import { exactKeys, normaliseName } from "../../src/protocol/names.js";

const V = loadVectors("entries-v1.json");
const CIRCLES = loadVectors("circles-v1.json");
const ACCOUNT = loadVectors("v1.json");
const CIRCLE = V.circle.circle_id;
const epochKeys = new Map(V.circle.epoch_keys.map((k) => [k.epoch, new CircleKey(bytes(k.key))]));
const identities = {
  alice: new IdentityKeys(bytes(CIRCLES.identities.alice.x25519_secret), bytes(V.identities.alice.ed25519_seed)),
  bob: new IdentityKeys(bytes(CIRCLES.identities.bob.x25519_secret), bytes(V.identities.bob.ed25519_seed)),
};

function contextOf(c) {
  return new EnvelopeContext({
    kind: c.kind === "entry" ? ENTRY : CORROBORATION,
    circleId: c.circle_id,
    epoch: c.epoch,
    entryId: c.entry_id,
    corroborationId: c.corroboration_id ?? null,
  });
}

describe("entries-v1.json labels and constants", () => {
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
  test("constants", () => {
    assert.deepEqual([...BUCKETS], V.constants.buckets);
    assert.deepEqual([...CATEGORIES], V.constants.categories);
    assert.deepEqual([...SEVERITIES], V.constants.severities);
    assert.equal(V.constants.opening_bytes, 32);
    assert.equal(V.constants.nonce_bytes, 24);
  });
  test("retired labels are never reused", () => {
    const active = Object.entries(labels)
      .filter(([name, value]) => !name.startsWith("RETIRED_") && value instanceof Uint8Array)
      .map(([, value]) => b64(value));
    for (const [name, expected] of Object.entries(V.retired_labels)) {
      assertBytes(labels[`RETIRED_${name}`], expected);
      assert.ok(!active.includes(b64(labels[`RETIRED_${name}`])), name);
    }
  });
  test("unicode_version is the one unicode14.js was made from", () => {
    assert.equal(V.unicode_version, "14.0.0");
  });
});

describe("entries-v1.json identities and circle", () => {
  test("alice is the account identity, bob the circle one", () => {
    assert.equal(V.identities.alice.ed25519_seed, ACCOUNT.identity.ed25519_seed);
    assert.equal(V.identities.bob.ed25519_seed, CIRCLES.identities.bob.ed25519_seed);
    for (const name of ["alice", "bob"]) {
      assertBytes(identities[name].ed25519Public, V.identities[name].ed25519_public);
    }
  });
  test("the circle and its epoch keys are those of circles-v1.json", () => {
    assert.equal(CIRCLE, CIRCLES.circle.circle_id);
    assertBytes(uuidBytes(CIRCLE), V.circle.bytes);
    for (const k of V.circle.epoch_keys) {
      assert.equal(k.key, CIRCLES.epoch_keys[k.epoch].key);
      assertBytes(epochKeys.get(k.epoch).entryKey, k.entry_key);
      assert.equal(epochKeys.get(k.epoch).indexKey, undefined); // retired (§25)
    }
  });
});

describe("entries-v1.json padding", () => {
  for (const c of V.padding) {
    test(`${c.data_length} bytes`, () => {
      const data = new Uint8Array(c.data_length).fill(0x61);
      if (c.error) {
        assertThrowsNamed(() => pad(data), c.error);
        return;
      }
      const padded = pad(data);
      assert.equal(padded.length, c.padded_length);
      assert.equal(padded[c.data_length], 0x80);
      assert.ok(padded.subarray(c.data_length + 1).every((byte) => byte === 0));
      assert.deepEqual(unpad(padded), data);
    });
  }
  test("unpad refuses a size that is not a bucket, and a missing marker", () => {
    assertThrowsNamed(() => unpad(new Uint8Array(600)), "DecryptionFailed");
    assertThrowsNamed(() => unpad(new Uint8Array(512)), "DecryptionFailed");
  });
});

for (const group of ["entries", "corroborations"]) {
  describe(`entries-v1.json ${group}`, () => {
    for (const c of V[group]) {
      const context = contextOf(c);
      const author = identities[c.author];
      const signingKey = signingKeyFor(author, context, { anonymous: c.anonymous });

      test(`${c.name}: body bytes, padded plaintext and commitment`, () => {
        const bodyBytes = canonicalJson(c.body);
        assertBytes(bodyBytes, c.body_bytes);
        assert.equal(fromUtf8(bodyBytes), c.body_text);
        assert.equal(bodyBytes.length, c.body_length);
        const padded = pad(concat(bytes(c.opening), bodyBytes));
        assert.equal(c.plaintext_length, 32 + c.body_length);
        assert.equal(padded.length, c.padded_length);
        assertBytes(padded, c.padded);
        assertBytes(commitment(bodyBytes, bytes(c.opening)), c.commitment);
        assert.ok(verifyCommitment(bodyBytes, bytes(c.opening), bytes(c.commitment)));
      });

      test(`${c.name}: signing key`, () => {
        const S = c.signing_key;
        if (S.derivation === "anonymous") {
          assertBytes(concat(uuidBytes(c.circle_id), uuidBytes(context.objectId)), S.message);
          const derived = anonymousSigningKey(author, { circleId: c.circle_id, objectId: context.objectId });
          assertBytes(derived.publicKey, S.public);
          assertBytes(signingKeyPair(bytes(S.seed)).publicKey, S.public);
          assert.notEqual(S.public, S.identity_ed25519_public);
        } else {
          assertBytes(author.ed25519Public, S.public);
        }
        assertBytes(signingKey.publicKey, c.author_key);
      });

      test(`${c.name}: associated data, ciphertext and signature`, () => {
        const ad = context.associatedData(bytes(c.author_key), bytes(c.commitment));
        assertBytes(ad, c.associated_data);
        assert.equal(ad.length, c.associated_data_length);
        assertBytes(epochKeys.get(c.epoch).entryKey, c.entry_key);
        const envelope = withRandomness([c.opening, c.nonce], () =>
          seal(c.body, { key: epochKeys.get(c.epoch), context, signingKey }),
        );
        assertBytes(envelope.ciphertext, c.ciphertext);
        assert.equal(envelope.ciphertext.length, c.ciphertext_length);
        assertBytes(envelope.signedMessage(context), c.signature_message);
        assertBytes(envelope.signature, c.signature);
        assert.deepEqual(envelope.toJson(), c.envelope);
      });

      test(`${c.name}: the envelope as sent opens to the body`, () => {
        const open = group === "entries" ? openEntry : openCorroboration;
        const opened = open(Envelope.fromJson(c.envelope), { keys: epochKeys, context });
        assert.deepEqual(opened.body, c.body);
        assertBytes(opened.bodyBytes, c.body_bytes);
        assertBytes(opened.opening, c.opening);
      });

      test(`${c.name}: request body`, () => {
        const { request } = c;
        assert.equal(request.epoch, c.epoch);
        assert.equal(request.anonymous, c.anonymous);
        const fields = ["author_key", "commitment", "nonce", "ciphertext", "signature"];
        assert.deepEqual(Object.fromEntries(fields.map((f) => [f, request[f]])), c.envelope);
        if (group === "entries") {
          assert.equal(request.entry_id, c.entry_id);
          assert.equal(request.tokens, undefined); // no name travels
        } else {
          assert.equal(request.corroboration_id, c.corroboration_id);
        }
      });
    }
  });
}

describe("entries-v1.json anonymous_keys", () => {
  const alice = identities.alice;
  for (const c of V.anonymous_keys) {
    test(c.case, () => {
      const key = anonymousSigningKey(alice, { circleId: c.circle_id, objectId: c.object_id });
      assertBytes(key.publicKey, c.public);
      assertBytes(signingKeyPair(bytes(c.seed)).publicKey, c.public);
      assert.notEqual(c.public, V.identities.alice.ed25519_public);
    });
  }
  test("all different", () => {
    assert.equal(new Set(V.anonymous_keys.map((c) => c.public)).size, V.anonymous_keys.length);
  });
});

for (const group of ["open_entry", "open_corroboration"]) {
  describe(`entries-v1.json ${group}`, () => {
    for (const c of V[group]) {
      test(c.case, () => {
        const keys = new Map(c.keys_held.map((epoch) => [epoch, epochKeys.get(epoch)]));
        const open = c.kind === "entry" ? openEntry : openCorroboration;
        const envelope = Envelope.fromJson(c);
        const read = () => open(envelope, { keys, context: contextOf(c) });
        if (c.error) {
          assertThrowsNamed(read, c.error);
        } else {
          assert.deepEqual(read().body, c.body);
        }
      });
    }
  });
}

describe("entries-v1.json retractions", () => {
  V.retractions.forEach((c, i) => {
    test(`${c.signed_with}: message, signature and request`, () => {
      const message = retractMessage({ circleId: c.circle_id, entryId: c.entry_id });
      assertBytes(message, c.message);
      assert.equal(message.length, 55);
      const entry = V.entries[i];
      const signingKey = signingKeyFor(identities[entry.author], contextOf(entry), {
        anonymous: c.signed_with === "anonymous",
      });
      assertBytes(signingKey.publicKey, c.author_key);
      const signature = signRetraction(signingKey, { circleId: c.circle_id, entryId: c.entry_id });
      assertBytes(signature, c.signature);
      assert.deepEqual({ signature: b64(signature) }, c.request);
      verifyRetraction(bytes(c.author_key), signature, { circleId: c.circle_id, entryId: c.entry_id });
    });
  });
  for (const c of V.retraction_cases) {
    test(c.case, () => {
      const check = () =>
        verifyRetraction(bytes(c.author_key), fromB64(c.signature_b64), { circleId: c.circle_id, entryId: c.entry_id });
      if (c.valid) {
        check();
      } else {
        assertThrowsNamed(check, c.error);
      }
    });
  }
});

describe("entries-v1.json names", () => {
  const N = V.names;
  for (const c of N.cases) {
    test(`${c.case}: ${JSON.stringify(c.input)}`, () => {
      if (c.error) {
        assertThrowsNamed(() => exactKeys(c.input), c.error);
        assert.equal(normaliseName(c.input), "");
        return;
      }
      assert.equal(normaliseName(c.input), c.normalised);
      assertBytes(new TextEncoder().encode(c.normalised), c.utf8);
      assert.deepEqual([...exactKeys(c.input)].sort(), [...c.exact_keys].sort());
    });
  }
  test("a body the writer would refuse is refused by the reader too", () => {
    assertThrowsNamed(() => checkEntryBody({ ...V.entries[0].body, categories: [] }), "DecryptionFailed");
    assertThrowsNamed(() => checkEntryBody({ ...V.entries[0].body, happened: "2024-13" }), "DecryptionFailed");
  });
});

describe("entries-v1.json author tags and signed terms (§24.1, §24.2)", () => {
  for (const c of V.author_tags) {
    test(c.case, () => {
      assertBytes(concat(uuidBytes(c.circle_id), uuidBytes(c.entry_id)), c.message);
      const tag = authorTag(identities[c.who], { circleId: c.circle_id, entryId: c.entry_id });
      assertBytes(tag, c.tag);
    });
  }
  test("requests carry the author's tag (entries) and the corroborator's own (corroborations)", () => {
    const tags = new Map(V.author_tags.map((c) => [`${c.who} ${c.entry_id}`, c.tag]));
    for (const entry of V.entries) {
      assertBytes(fromB64(entry.request.author_tag), tags.get(`alice ${entry.entry_id}`));
    }
    for (const corroboration of V.corroborations) {
      assertBytes(fromB64(corroboration.request.author_tag), tags.get(`bob ${corroboration.entry_id}`));
    }
  });
  V.terms.forEach((c, i) => {
    test(`${c.name}: message, signature and request`, () => {
      const terms = { circleId: c.circle_id, entryId: c.entry_id, tag: bytes(c.author_tag), expiresAt: c.expires_at };
      const message = termsMessage(terms);
      assertBytes(message, c.message);
      assert.equal(message.length, 99);
      const entry = V.entries[i];
      const signingKey = signingKeyFor(identities[entry.author], contextOf(entry), { anonymous: entry.anonymous });
      assertBytes(signingKey.publicKey, c.author_key);
      const signature = signTerms(signingKey, terms);
      assertBytes(signature, c.signature);
      verifyTerms(bytes(c.author_key), signature, terms);
      assert.equal(entry.request.expires_at, c.expires_at);
      assert.equal(entry.request.terms_signature, b64(signature));
    });
  });
  for (const c of V.terms_cases) {
    test(c.case, () => {
      const check = () =>
        verifyTerms(bytes(c.author_key), bytes(c.signature), {
          circleId: c.circle_id,
          entryId: c.entry_id,
          tag: bytes(c.author_tag),
          expiresAt: c.expires_at,
        });
      if (c.valid) {
        check();
      } else {
        assertThrowsNamed(check, c.error);
      }
    });
  }
});
