/**
 * Every random value the protocol needs (§1: salts, nonces, secret keys, codes, ids)
 * comes from here, through libsodium's randombytes_buf (the platform CSPRNG).
 * The lookup happens at call time, so the vector tests can hand out the fixed values
 * the reference used, as its generator does, without any switch in this code.
 */
import { sodium } from "./sodium.js";
import { hex, uuid } from "./encoding.js";

export function randomBytes(size) {
  return sodium.randombytes_buf(size);
}

/** A fresh random (version 4) UUID in its dashed form (§8). */
export function randomUuid() {
  const raw = randomBytes(16);
  raw[6] = (raw[6] & 0x0f) | 0x40;
  raw[8] = (raw[8] & 0x3f) | 0x80;
  return uuid(hex(raw));
}
