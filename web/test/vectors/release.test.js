// Web releases (§35): docs/vectors/release-v1.json, checked with WebCrypto alone as the
// service worker checks it.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { loadVectors } from "../../test-support/helpers.js";
import { b64, fromB64, fromHex, hex, utf8 } from "../../src/protocol/encoding.js";
import { canonicalJson } from "../../src/protocol/json.js";
import * as labels from "../../src/protocol/labels.js";
import {
  checkAsset,
  checkRelease,
  parseSignedRelease,
  releaseKeyFingerprint,
  rotationMessage,
} from "../../src/protocol/release.js";

const V = loadVectors("release-v1.json");

async function seedToPublic(seedHex) {
  // PKCS#8 for an Ed25519 seed: a fixed 16-byte prefix, then the 32-byte seed (RFC 8410).
  const prefix = fromHex("302e020100300506032b657004220420");
  const pkcs8 = new Uint8Array([...prefix, ...fromHex(seedHex)]);
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", key);
  return new Uint8Array(Buffer.from(jwk.x, "base64url"));
}

describe("web releases (§35)", () => {
  test("labels", () => {
    assert.equal(labels.RELEASE_TYPE, V.labels.RELEASE_TYPE);
    for (const name of ["RELEASE_SIGNATURE_CONTEXT", "RELEASE_ROTATION_CONTEXT", "RELEASE_FINGERPRINT_PREFIX"]) {
      assert.equal(hex(labels[name]), V.labels[name], name);
    }
  });

  test("keys and fingerprints", async () => {
    for (const key of Object.values(V.keys)) {
      const publicKey = await seedToPublic(key.seed);
      assert.equal(b64(publicKey), key.public);
      assert.equal(await releaseKeyFingerprint(publicKey), key.fingerprint);
    }
  });

  test("the rotation statement from key A to key B", async () => {
    const [oldKey, newKey] = [fromB64(V.keys.A.public), fromB64(V.keys.B.public)];
    const message = rotationMessage(oldKey, newKey);
    assert.equal(hex(message), V.rotation_a_to_b.message);
    const key = await crypto.subtle.importKey("raw", oldKey, { name: "Ed25519" }, false, ["verify"]);
    const signature = fromB64(V.rotation_a_to_b.signature);
    assert.ok(await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message));
  });

  test("digests of the signed releases", async () => {
    for (const release of Object.values(V.releases)) {
      const signed = await parseSignedRelease(release.file);
      assert.equal(b64(signed.digest), release.digest);
    }
  });

  for (const vector of V.cases) {
    test(vector.name, async () => {
      let after;
      try {
        after = checkRelease(await parseSignedRelease(vector.file), vector.pin);
      } catch (error) {
        assert.equal(error.name, vector.error, error.stack);
        return;
      }
      assert.equal(vector.error, undefined, "accepted a release both clients must refuse");
      assert.deepEqual({ ...after }, vector.pin_after);
    });
  }

  for (const vector of V.refusals) {
    test(`refused: ${vector.name}`, async () => {
      await assert.rejects(parseSignedRelease(vector.file), { name: "InvalidKey" });
    });
  }

  test("size limits: 1000 assets, 256 KiB", async () => {
    const good = JSON.parse(V.releases["2"].file);
    const assets = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`/a${i}`, "0".repeat(64)]));
    const many = canonicalJson({ ...good, manifest: { ...good.manifest, assets } });
    await assert.rejects(parseSignedRelease(many), { name: "InvalidKey", message: /1 to 1000 assets/ });
    const huge = canonicalJson({ ...good, manifest: { ...good.manifest, version: "x".repeat(300_000) } });
    await assert.rejects(parseSignedRelease(huge), { name: "InvalidKey", message: /256 KiB/ });
  });

  test("assets are checked against the manifest", async () => {
    const { manifest } = await parseSignedRelease(V.releases["2"].file);
    await checkAsset(manifest, "/static/ui/app.js", utf8(V.assets.script));
    await assert.rejects(checkAsset(manifest, "/static/ui/app.js", utf8(V.assets.old_script)), { name: "InvalidKey" });
    await assert.rejects(checkAsset(manifest, "/static/ui/extra.js", utf8(V.assets.script)), { name: "InvalidKey" });
  });
});
