/**
 * ristretto255 (RFC 9496) through libsodium.js: the group and scalar operations of the
 * VOPRF (voprf.js, §34), as app/crypto/ristretto.py. Elements are 32-byte encodings,
 * scalars 32 little-endian bytes below the group order L; every operation is libsodium's.
 *
 * - isElement refuses the identity (libsodium's is_valid_point accepts its all-zero
 *   encoding) and bit 255 set (libsodium.js refuses it already; the Python client's
 *   libsodium does not), so both clients accept exactly the same encodings.
 * - mul and mulBase return the identity (32 zero bytes) where libsodium throws for an
 *   identity product or a zero scalar: the RFC's composites start from the identity.
 * - randomScalar is 64 bytes from randomBytes (random.js) reduced modulo L (RFC 9497 §4.7
 *   asks for at least 48), drawn again if zero: the only source of blinds, proof nonces and
 *   generated keys, which the vector tests replay as they replay every random value.
 */
import { sodium } from "./sodium.js";
import { concat } from "./encoding.js";
import { equalBytes } from "./hash.js";
import { randomBytes } from "./random.js";

export const ELEMENT_BYTES = 32;
export const SCALAR_BYTES = 32;
export const IDENTITY = new Uint8Array(ELEMENT_BYTES);
export const ZERO_SCALAR = new Uint8Array(SCALAR_BYTES);

const isBytes = (value) => value instanceof Uint8Array;

/** A canonical encoding of an element other than the identity (RFC 9496 §4.3.1). */
export function isElement(raw) {
  return (
    isBytes(raw) &&
    raw.length === ELEMENT_BYTES &&
    (raw[31] & 0x80) === 0 &&
    !equalBytes(raw, IDENTITY) &&
    sodium.crypto_core_ristretto255_is_valid_point(raw)
  );
}

/** 32 little-endian bytes below L. */
export function isScalar(raw) {
  return isBytes(raw) && raw.length === SCALAR_BYTES && equalBytes(reduce(concat(raw, ZERO_SCALAR)), raw);
}

/** 64 little-endian bytes modulo L. */
export function reduce(wide) {
  return sodium.crypto_core_ristretto255_scalar_reduce(wide);
}

/** A uniform non-zero scalar. */
export function randomScalar() {
  for (;;) {
    const s = reduce(randomBytes(64));
    if (!equalBytes(s, ZERO_SCALAR)) {
      return s;
    }
  }
}

/** RFC 9496 §4.3.4: the element of 64 uniform bytes. */
export function fromHash(digest) {
  return sodium.crypto_core_ristretto255_from_hash(digest);
}

/** scalar·point for a point already decoded (or the identity). */
export function mul(s, point) {
  try {
    return sodium.crypto_scalarmult_ristretto255(s, point);
  } catch {
    return IDENTITY; // libsodium: the product is the identity
  }
}

/** scalar·G. */
export function mulBase(s) {
  try {
    return sodium.crypto_scalarmult_ristretto255_base(s);
  } catch {
    return IDENTITY; // libsodium: the scalar is zero
  }
}

export function add(p, q) {
  return sodium.crypto_core_ristretto255_add(p, q);
}

/** s^-1 modulo L, for a non-zero scalar. */
export function invert(s) {
  return sodium.crypto_core_ristretto255_scalar_invert(s);
}

export function scalarMul(a, b) {
  return sodium.crypto_core_ristretto255_scalar_mul(a, b);
}

export function scalarSub(a, b) {
  return sodium.crypto_core_ristretto255_scalar_sub(a, b);
}

export function scalarAdd(a, b) {
  return sodium.crypto_core_ristretto255_scalar_add(a, b);
}
