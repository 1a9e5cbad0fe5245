/**
 * The hashes of §1: KDF(key, label), HASH(label, message, n), SHA-256, and the
 * libsodium primitives every other module shares (AEAD, signatures, X25519).
 *
 * BLAKE2b with a personalisation *and a message* is not exposed by libsodium.js's
 * wrapper (crypto_generichash_blake2b_salt_personal hashes the empty message only),
 * so blake2b() calls the sumo build's own compiled function,
 * _crypto_generichash_blake2b_salt_personal, on WebAssembly memory — the same code the
 * wrapper runs, with the message filled in. No BLAKE2b is reimplemented here.
 */
import { sodium } from "./sodium.js";
import { BadSignature, DecryptionFailed, InvalidKey } from "./errors.js";

/**
 * BLAKE2b(out = size, key, salt = 0^16, personal, message) as libsodium computes it.
 * `key` is null (unkeyed) or 16..64 bytes; `personal` is exactly 16 bytes.
 */
export function blake2b(message, { size, key = null, personal }) {
  if (!Number.isInteger(size) || size < 1 || size > 64) {
    throw new InvalidKey("BLAKE2b output must be 1..64 bytes");
  }
  if (key !== null && (key.length < 16 || key.length > 64)) {
    throw new InvalidKey("BLAKE2b key must be 16..64 bytes");
  }
  if (personal.length !== 16) {
    throw new InvalidKey("a BLAKE2b personalisation is 16 bytes");
  }
  const lib = sodium.libsodium;
  const keyLength = key === null ? 0 : key.length;
  const total = size + message.length + keyLength + 16;
  const base = lib._malloc(total);
  const out = base;
  const input = out + size;
  const keyAt = input + message.length;
  const personalAt = keyAt + keyLength;
  try {
    // Read HEAPU8 after _malloc: growing the memory replaces the view.
    lib.HEAPU8.set(message, input);
    if (key !== null) {
      lib.HEAPU8.set(key, keyAt);
    }
    lib.HEAPU8.set(personal, personalAt);
    // (out, outlen, in, inlen as two 32-bit halves, key, keylen, salt = NULL (zeros), personal)
    const status = lib._crypto_generichash_blake2b_salt_personal(
      out,
      size,
      input,
      message.length,
      0,
      key === null ? 0 : keyAt,
      keyLength,
      0,
      personalAt,
    );
    if (status !== 0) {
      throw new InvalidKey("BLAKE2b refused its parameters");
    }
    return lib.HEAPU8.slice(out, out + size);
  } finally {
    lib.HEAPU8.fill(0, base, base + total);
    lib._free(base);
  }
}

/** KDF(key, label) of §1: keyed BLAKE2b-256 of the empty message. */
export function kdf(key, personal, size = 32) {
  if (key.length < 16 || key.length > 64) {
    throw new InvalidKey("a KDF key must be 16..64 bytes");
  }
  return blake2b(new Uint8Array(0), { size, key, personal });
}

/** HASH(label, message, n) of §1: unkeyed BLAKE2b with a personalisation. */
export function hash(personal, message, size = 32) {
  return blake2b(message, { size, personal });
}

export function sha256(message) {
  return sodium.crypto_hash_sha256(message);
}

/** Constant-time equality of two byte strings (length is not secret). */
export function equalBytes(a, b) {
  return a.length === b.length && (a.length === 0 || sodium.memcmp(a, b));
}

export function requireSize(bytes, size, what) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== size) {
    throw new InvalidKey(`${what} must be ${size} bytes`);
  }
  return bytes;
}

/** X25519(secret, 9): the public key of a 32-byte scalar. */
export function x25519Public(secret) {
  return sodium.crypto_scalarmult_base(requireSize(secret, 32, "an X25519 secret key"));
}

/** Ed25519 key pair from a 32-byte seed: {publicKey, privateKey (64 bytes)}. */
export function signingKeyPair(seed) {
  return sodium.crypto_sign_seed_keypair(requireSize(seed, 32, "an Ed25519 seed"));
}

/** Deterministic Ed25519 signature (RFC 8032) with a 64-byte libsodium secret key. */
export function sign(message, privateKey) {
  return sodium.crypto_sign_detached(message, privateKey);
}

/** BadSignature unless `signature` is a valid signature of `message` by `publicKey`. */
export function verifySignature(signature, message, publicKey, what = "signature") {
  let valid = false;
  if (signature instanceof Uint8Array && signature.length === 64 && publicKey.length === 32) {
    try {
      valid = sodium.crypto_sign_verify_detached(signature, message, publicKey);
    } catch {
      valid = false;
    }
  }
  if (!valid) {
    throw new BadSignature(`the ${what} does not verify`);
  }
}

/** XChaCha20-Poly1305-IETF (§1); the output is ciphertext || tag, without the nonce. */
export function aeadEncrypt(key, nonce, plaintext, ad) {
  requireSize(key, 32, "an AEAD key");
  requireSize(nonce, 24, "an AEAD nonce");
  return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
}

/** Authenticated decryption; any failure is DecryptionFailed with `why`. */
export function aeadDecrypt(key, nonce, ciphertext, ad, why) {
  requireSize(key, 32, "an AEAD key");
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
  } catch {
    throw new DecryptionFailed(why);
  }
}

/** nonce (24) || AEAD: the shape of every box in §12, §13, §29.6 and §31. */
export function sealBox(key, plaintext, ad, nonce) {
  const box = new Uint8Array(24 + plaintext.length + 16);
  box.set(nonce);
  box.set(aeadEncrypt(key, nonce, plaintext, ad), 24);
  return box;
}

/** Open nonce || AEAD; a box shorter than a nonce and a tag (40 bytes) does not open. */
export function openBox(key, box, ad, why) {
  if (box.length < 40) {
    throw new DecryptionFailed(why);
  }
  return aeadDecrypt(key, box.subarray(0, 24), box.subarray(24), ad, why);
}
