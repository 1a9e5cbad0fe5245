/**
 * Web releases (§35): the signed manifest of every asset the web client loads, the release
 * key's rotation statements, and the pinning rule a returning browser applies.
 *
 * Only SHA-256 and Ed25519, through WebCrypto: the service worker (web/src/worker/sw.js)
 * imports this module and nothing that needs libsodium, so it can check the page's code
 * before any of it runs. Every function is async for that reason. The mirror of
 * app/crypto/release.py; both check docs/vectors/release-v1.json.
 */
import { BadSignature, InvalidKey, ReleaseFork, ReleaseRollback, UntrustedSigner } from "./errors.js";
import { b64, concat, fromB64, hex, utf8 } from "./encoding.js";
import { canonicalJson, hasExactFields, parseJson, requireCanonical } from "./json.js";
import * as labels from "./labels.js";

export const MAX_ASSETS = 1000;
export const MAX_ROTATIONS = 16;
export const MAX_FILE_BYTES = 256 * 1024;
const ASSET_PATH = /^\/(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*)?$/;
const VERSION = /^[0-9A-Za-z.+-]{1,64}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const MANIFEST_FIELDS = ["assets", "key", "release", "rotations", "type", "v", "version"];

const subtle = () => globalThis.crypto.subtle;

async function sha256(bytes) {
  return new Uint8Array(await subtle().digest("SHA-256", bytes));
}

/** Lowercase hex SHA-256 of an asset's bytes, as the manifest lists it. */
export async function assetDigest(bytes) {
  return hex(await sha256(bytes));
}

/** 128 bits of SHA-256("backchannel.release-key.v1\0" || key) as 8 groups of 4 hex (§35.2). */
export async function releaseKeyFingerprint(publicKey) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new InvalidKey("a release key is 32 bytes");
  }
  const digest = hex(await sha256(concat(labels.RELEASE_FINGERPRINT_PREFIX, publicKey))).slice(0, 32);
  return digest.match(/.{4}/g).join(" ");
}

async function verifyEd25519(publicKey, message, signature, what) {
  let ok = false;
  try {
    const key = await subtle().importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    ok = await subtle().verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new BadSignature(`the ${what} signature does not verify`);
  }
}

function parseRotation(value) {
  if (!hasExactFields(value, ["new", "old", "signature"])) {
    throw new InvalidKey("a rotation has exactly new, old and signature");
  }
  const rotation = {
    old: fromB64(value.old, 32, "old"),
    new: fromB64(value.new, 32, "new"),
    signature: fromB64(value.signature, 64, "signature"),
  };
  if (b64(rotation.old) === b64(rotation.new)) {
    throw new InvalidKey("a rotation names a new key");
  }
  return rotation;
}

function parseManifest(value) {
  if (!hasExactFields(value, MANIFEST_FIELDS) || value.v !== 1 || value.type !== labels.RELEASE_TYPE) {
    throw new InvalidKey("not a version 1 web release");
  }
  const { release, version, assets, rotations } = value;
  if (!Number.isSafeInteger(release) || release < 1) {
    throw new InvalidKey("a release number is 1 to 2^53 - 1");
  }
  if (typeof version !== "string" || !VERSION.test(version)) {
    throw new InvalidKey("a version is 1 to 64 of [0-9A-Za-z.+-]");
  }
  if (assets === null || typeof assets !== "object" || Array.isArray(assets)) {
    throw new InvalidKey("assets map paths to hex digests");
  }
  const paths = Object.keys(assets);
  if (paths.length < 1 || paths.length > MAX_ASSETS) {
    throw new InvalidKey(`a release lists 1 to ${MAX_ASSETS} assets`);
  }
  const listed = new Map();
  for (const path of paths) {
    const digest = assets[path];
    if (!ASSET_PATH.test(path) || path.includes("..") || typeof digest !== "string" || !SHA256_HEX.test(digest)) {
      throw new InvalidKey("an asset is a URL path with a lowercase hex SHA-256");
    }
    listed.set(path, digest);
  }
  if (!Array.isArray(rotations) || rotations.length > MAX_ROTATIONS) {
    throw new InvalidKey(`rotations is a list of at most ${MAX_ROTATIONS}`);
  }
  const key = fromB64(value.key, 32, "key");
  const chain = rotations.map(parseRotation);
  for (let i = 1; i < chain.length; i++) {
    if (b64(chain[i - 1].new) !== b64(chain[i].old)) {
      throw new InvalidKey("the rotations do not form a chain");
    }
  }
  if (chain.length > 0 && b64(chain[chain.length - 1].new) !== b64(key)) {
    throw new InvalidKey("the last rotation does not name the signing key");
  }
  return { release, version, key, assets: listed, rotations: chain };
}

/**
 * Parse the served file (exactly canonical JSON) and check its signatures under the
 * manifest's own key and each rotation's old key. Trust in that key is checkRelease's.
 * Returns { manifest, signature, digest } with digest = SHA-256(canonical manifest).
 */
export async function parseSignedRelease(raw) {
  const bytes = typeof raw === "string" ? utf8(raw) : raw;
  if (bytes.length > MAX_FILE_BYTES) {
    throw new InvalidKey("a release file is at most 256 KiB");
  }
  const value = parseJson(bytes);
  if (!hasExactFields(value, ["manifest", "signature"])) {
    throw new InvalidKey("a release file has exactly manifest and signature");
  }
  const manifest = parseManifest(value.manifest);
  const signature = fromB64(value.signature, 64, "signature");
  requireCanonical(bytes, value);
  const manifestBytes = canonicalJson(value.manifest);
  await verifyEd25519(manifest.key, concat(labels.RELEASE_SIGNATURE_CONTEXT, manifestBytes), signature, "release manifest");
  for (const rotation of manifest.rotations) {
    await verifyEd25519(
      rotation.old,
      rotationMessage(rotation.old, rotation.new),
      rotation.signature,
      "rotation statement",
    );
  }
  return Object.freeze({ manifest, signature, digest: await sha256(manifestBytes) });
}

/** What the old key signs to hand over to the new one (§35; Python: Rotation.message). */
export function rotationMessage(oldKey, newKey) {
  return concat(labels.RELEASE_ROTATION_CONTEXT, oldKey, newKey);
}

/** A pin as stored: { key, release, digest } with the bytes as base64. */
export function pinOf(signed) {
  return Object.freeze({ key: b64(signed.manifest.key), release: signed.manifest.release, digest: b64(signed.digest) });
}

/**
 * The pin after accepting `signed` (§35.4), or the reason a pinned browser refuses it:
 * UntrustedSigner (a key the pinned key never vouched for), ReleaseRollback, ReleaseFork.
 * With no pin (first use) the manifest's own key is trusted.
 */
export function checkRelease(signed, pin) {
  const after = pinOf(signed);
  if (pin === null) {
    return after;
  }
  requireKeyChain(signed, pin.key);
  if (after.release < pin.release) {
    throw new ReleaseRollback(`release ${after.release} is older than the pinned release ${pin.release}`);
  }
  if (after.release === pin.release && after.digest !== pin.digest) {
    throw new ReleaseFork(`release ${after.release} is not the release ${pin.release} pinned`);
  }
  return after;
}

/**
 * UntrustedSigner unless `signed` is signed by `key` (base64) or by a key it handed over to
 * through the manifest's rotation statements (whose signatures parsing checked).
 */
export function requireKeyChain(signed, key) {
  const { manifest } = signed;
  if (b64(manifest.key) !== key && !manifest.rotations.some((rotation) => b64(rotation.old) === key)) {
    throw new UntrustedSigner("the release is signed by a key the pinned key never vouched for");
  }
}

/** InvalidKey unless `path` is listed and `bytes` has its digest. */
export async function checkAsset(manifest, path, bytes) {
  const expected = manifest.assets.get(path);
  if (expected === undefined) {
    throw new InvalidKey(`${path} is not part of release ${manifest.release}`);
  }
  if ((await assetDigest(bytes)) !== expected) {
    throw new InvalidKey(`${path} is not the file release ${manifest.release} lists`);
  }
}
