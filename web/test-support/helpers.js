/** Shared by the vector tests: load docs/vectors, hex/base64 helpers, fixed randomness and scalars. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { ready, sodium } from "../src/protocol/sodium.js";
import { fromHex, hex } from "../src/protocol/encoding.js";
import { parseJson } from "../src/protocol/json.js";

export const VECTORS_DIR = new URL("../../docs/vectors/", import.meta.url);

await ready();

/**
 * A vector file, parsed with the protocol's own strict parser (integers beyond 2^53
 * come back as BigInt, so ctx(circle, 2^63 - 1) is checked exactly).
 */
export function loadVectors(name) {
  return parseJson(readFileSync(new URL(name, VECTORS_DIR)));
}

export const bytes = (text) => fromHex(text);

/** Compare byte strings as lowercase hex, so a failure shows both values readably. */
export function assertBytes(actual, expectedHex, message) {
  assert.ok(actual instanceof Uint8Array, `${message ?? "value"} is not bytes`);
  assert.equal(hex(actual), expectedHex, message);
}

/** The error class a vector names ("InvalidKey", "BadSignature", …). */
export function assertThrowsNamed(fn, errorName, message) {
  assert.throws(fn, (error) => {
    assert.equal(error.name, errorName, `${message ?? ""}: ${error.stack}`);
    return true;
  });
}

/**
 * Run `fn` while randombytes_buf hands out exactly `values`, in order, as the
 * reference's vector generators do; every value must be used, each at its size.
 */
export function withRandomness(values, fn) {
  const original = sodium.randombytes_buf;
  const queue = values.map((value) => (typeof value === "string" ? fromHex(value) : value));
  sodium.randombytes_buf = (size) => {
    const next = queue.shift();
    assert.ok(next !== undefined, `an unexpected random value of ${size} bytes was drawn`);
    assert.equal(next.length, size, "a random value of another size was drawn");
    return Uint8Array.from(next);
  };
  try {
    const result = fn();
    assert.equal(queue.length, 0, "not every fixed random value was used");
    return result;
  } finally {
    sodium.randombytes_buf = original;
  }
}

/**
 * Run `fn` while the VOPRF's random scalars are exactly `values` (32-byte scalars), in
 * order: the blinds and proof nonces of app/crypto/voprf.py's vector tests (fixed_scalars).
 * voprf.js draws each as 64 random bytes reduced modulo L, so each value is handed out as
 * itself followed by 32 zero bytes.
 */
export function withScalars(values, fn) {
  const wide = values.map((value) => {
    const out = new Uint8Array(64);
    out.set(typeof value === "string" ? fromHex(value) : value);
    return out;
  });
  return withRandomness(wide, fn);
}
