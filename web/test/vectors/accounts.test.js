// docs/vectors/v1.json: accounts (§1-§7).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { assertBytes, assertThrowsNamed, bytes, loadVectors, withRandomness } from "../../test-support/helpers.js";
import {
  RecoveryCode,
  accountKeys,
  accountKeysFromPassphrase,
  checkKdfParams,
  deriveRootKey,
  normaliseUsername,
  passphraseBytes,
} from "../../src/protocol/accounts.js";
import { b64, concat, fromB64, hex } from "../../src/protocol/encoding.js";
import { kdf } from "../../src/protocol/hash.js";
import {
  IdentityKeys,
  PublicIdentity,
  bundleAssociatedData,
  fingerprint,
  normaliseFingerprint,
  openKeyBundle,
  sealKeyBundle,
} from "../../src/protocol/identity.js";
import * as labels from "../../src/protocol/labels.js";

const V = loadVectors("v1.json");

describe("v1.json labels", () => {
  for (const [name, expected] of Object.entries(V.labels)) {
    test(name, () => {
      const actual = labels[name];
      if (typeof expected === "string" && /^[0-9a-f]+$/.test(expected) && actual instanceof Uint8Array) {
        assertBytes(actual, expected);
      } else {
        assert.equal(actual, expected);
      }
    });
  }
});

describe("v1.json passphrase_normalisation", () => {
  for (const c of V.passphrase_normalisation) {
    test(JSON.stringify(c.input), () => assertBytes(passphraseBytes(c.input), c.utf8));
  }
});

describe("v1.json account_keys", () => {
  const A = V.account_keys;
  const params = { algorithm: A.algorithm, opslimit: A.opslimit, memlimit: A.memlimit };

  test("passphrase bytes", () => assertBytes(passphraseBytes(A.passphrase), A.passphrase_utf8));

  test("Argon2id root key, then auth_key and wrap_key", () => {
    const root = deriveRootKey(A.passphrase, bytes(A.salt), params);
    assertBytes(root, A.root_key);
    const keys = accountKeys(root);
    assertBytes(keys.authKey, A.auth_key);
    assertBytes(keys.wrapKey, A.wrap_key);
  });

  test("subkeys are KDF(root, label) of the empty message", () => {
    assertBytes(kdf(bytes(A.root_key), labels.PERSON_AUTH_KEY), A.auth_key);
    assertBytes(kdf(bytes(A.root_key), labels.PERSON_WRAP_KEY), A.wrap_key);
  });

  test("a salt of 15 bytes is refused before Argon2id runs", () => {
    assertThrowsNamed(() => accountKeysFromPassphrase(A.passphrase, bytes(A.salt).subarray(1), params), "InvalidKey");
  });
});

describe("v1.json kdf_bounds", () => {
  for (const c of V.kdf_bounds.accept) {
    test(`accept ${JSON.stringify(c)}`, () => assert.doesNotThrow(() => checkKdfParams(c)));
  }
  for (const c of V.kdf_bounds.reject) {
    test(`reject ${JSON.stringify(c)}`, () => assertThrowsNamed(() => checkKdfParams(c), "WeakKdfParameters"));
    test(`derivation refuses ${JSON.stringify(c)}`, () =>
      assertThrowsNamed(() => deriveRootKey("correct horse", new Uint8Array(16), c), "WeakKdfParameters"));
  }
});

describe("v1.json identity", () => {
  const I = V.identity;
  const identity = new IdentityKeys(bytes(I.x25519_secret), bytes(I.ed25519_seed));

  test("identity secret, public keys, signature and fingerprint", () => {
    assertBytes(identity.toBytes(), I.identity_secret);
    assertBytes(IdentityKeys.fromBytes(bytes(I.identity_secret)).toBytes(), I.identity_secret);
    assertBytes(identity.x25519Public, I.x25519_public);
    assertBytes(identity.ed25519Public, I.ed25519_public);
    assertBytes(concat(labels.IDENTITY_SIGNATURE_CONTEXT, identity.x25519Public), I.signature_message);
    const published = identity.publicIdentity();
    assertBytes(published.x25519Signature, I.x25519_signature);
    published.verify();
    assert.equal(published.fingerprint, I.fingerprint);
    assert.equal(identity.fingerprint, I.fingerprint);
    assertBytes(concat(identity.ed25519Public, identity.x25519Public), I.fingerprint_input);
    assert.equal(fingerprint(bytes(I.ed25519_public), bytes(I.x25519_public)), I.fingerprint);
  });

  test("a signature over another key does not verify", () => {
    const forged = new PublicIdentity({
      x25519Public: bytes(I.ed25519_public),
      ed25519Public: bytes(I.ed25519_public),
      x25519Signature: bytes(I.x25519_signature),
    });
    assertThrowsNamed(() => forged.verify(), "BadSignature");
  });
});

describe("v1.json fingerprint_parse", () => {
  for (const c of V.fingerprint_parse) {
    test(JSON.stringify(c.input), () => {
      if (c.error) {
        assertThrowsNamed(() => normaliseFingerprint(c.input), c.error);
      } else {
        assert.equal(normaliseFingerprint(c.input), c.canonical);
      }
    });
  }
});

describe("v1.json usernames", () => {
  for (const c of V.usernames) {
    test(JSON.stringify(c.input), () => {
      if (c.error) {
        assertThrowsNamed(() => normaliseUsername(c.input), c.error);
      } else {
        assert.equal(normaliseUsername(c.input), c.canonical);
      }
    });
  }
});

describe("v1.json recovery_code", () => {
  const R = V.recovery_code;

  test("text form and subkeys", () => {
    const code = new RecoveryCode(bytes(R.raw));
    assert.equal(String(code), R.text);
    assertBytes(code.bundleKey, R.bundle_key);
    assertBytes(code.authKey, R.auth_key);
  });

  test("a generated code is 20 bytes of randomness", () => {
    const code = withRandomness([R.raw], () => RecoveryCode.generate());
    assert.equal(String(code), R.text);
  });

  for (const c of V.recovery_code_parse) {
    test(`parse ${JSON.stringify(c.input)}`, () => {
      if (c.error) {
        assertThrowsNamed(() => RecoveryCode.parse(c.input), c.error);
      } else {
        const code = RecoveryCode.parse(c.input);
        assert.equal(String(code), c.canonical);
        assertBytes(code.bundleKey, R.bundle_key);
      }
    });
  }
});

describe("v1.json key_bundles", () => {
  const identity = new IdentityKeys(bytes(V.identity.x25519_secret), bytes(V.identity.ed25519_seed));

  test("the passphrase bundle is under wrap_key, the recovery bundle under the code's bundle_key", () => {
    const [passphrase, recovery] = V.key_bundles;
    assert.equal(passphrase.key, V.account_keys.wrap_key);
    assert.equal(recovery.key, V.recovery_code.bundle_key);
  });

  for (const c of V.key_bundles) {
    const options = { key: bytes(c.key), username: c.username, purpose: c.purpose };

    test(`${c.purpose}: associated data`, () =>
      assertBytes(bundleAssociatedData(c.username, c.purpose), c.associated_data));

    test(`${c.purpose}: sealing with the vector's nonce gives the bundle`, () => {
      const bundle = withRandomness([c.nonce], () => sealKeyBundle(identity, options));
      assertBytes(bundle, c.bundle);
      assert.equal(b64(bundle), c.bundle_b64);
    });

    test(`${c.purpose}: opens to the identity secret`, () => {
      assertBytes(openKeyBundle(fromB64(c.bundle_b64, 105), options).toBytes(), c.plaintext);
    });

    test(`${c.purpose}: bound to the username and the purpose`, () => {
      const other = c.purpose === "passphrase" ? "recovery" : "passphrase";
      const bundle = bytes(c.bundle);
      assertThrowsNamed(() => openKeyBundle(bundle, { ...options, username: "bob" }), "DecryptionFailed");
      assertThrowsNamed(() => openKeyBundle(bundle, { ...options, purpose: other }), "DecryptionFailed");
      assertThrowsNamed(() => openKeyBundle(bundle, { ...options, key: new Uint8Array(32) }), "DecryptionFailed");
    });

    test(`${c.purpose}: another version byte or size is refused before decrypting`, () => {
      const bundle = bytes(c.bundle);
      const versioned = Uint8Array.from(bundle);
      versioned[0] = 2;
      assertThrowsNamed(() => openKeyBundle(versioned, options), "DecryptionFailed");
      assertThrowsNamed(() => openKeyBundle(bundle.subarray(0, 104), options), "DecryptionFailed");
      assertThrowsNamed(() => openKeyBundle(concat(bundle, new Uint8Array(1)), options), "DecryptionFailed");
    });
  }
});

describe("v1.json register_request", () => {
  test("every field is built from the values above", () => {
    const R = V.register_request;
    const A = V.account_keys;
    const identity = new IdentityKeys(bytes(V.identity.x25519_secret), bytes(V.identity.ed25519_seed));
    const code = new RecoveryCode(bytes(V.recovery_code.raw));
    const keys = accountKeysFromPassphrase(A.passphrase, fromB64(R.kdf.salt, 16), R.kdf);
    const [passphraseBundle, recoveryBundle] = V.key_bundles;
    const body = {
      username: normaliseUsername("Alice"),
      kdf: { algorithm: A.algorithm, opslimit: A.opslimit, memlimit: A.memlimit, salt: b64(bytes(A.salt)) },
      auth_key: b64(keys.authKey),
      identity: identity.publicIdentity().toJson(),
      key_bundle: b64(
        withRandomness([passphraseBundle.nonce], () =>
          sealKeyBundle(identity, { key: keys.wrapKey, username: "alice", purpose: "passphrase" }),
        ),
      ),
      recovery: {
        auth_key: b64(code.authKey),
        key_bundle: b64(
          withRandomness([recoveryBundle.nonce], () =>
            sealKeyBundle(identity, { key: code.bundleKey, username: "alice", purpose: "recovery" }),
          ),
        ),
      },
    };
    assert.deepEqual(body, R);
    assert.equal(hex(fromB64(R.identity.x25519_signature, 64)), V.identity.x25519_signature);
  });
});
