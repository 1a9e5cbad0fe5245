/**
 * The proof of work on a takedown request (docs/protocol.md §31.7), as app/crypto/proofs.py.
 *
 *   seed     = BLAKE2b-256(person "bc.v1.proof-seed", challenge || case_id || case_hash)
 *   hash(n)  = Argon2id(seed || uint32_be(n), salt "bc.v1.takedn-pow", t = 1, m = 4 MiB, 32 bytes)
 *   meets(n) = uint64_be(hash(n)[0:8]) < floor(2^64 / work)
 *   proof    = SOLUTIONS ascending nonces below 2^32, each meeting
 *
 * Argon2id because every evaluation fills 4 MiB: a GPU gains its memory bandwidth over a
 * CPU core (tens of times), not its arithmetic (thousands of times for a plain hash).
 */
import { InvalidKey, InvalidWork } from "./errors.js";
import { concat, uuidBytes } from "./encoding.js";
import { hash } from "./hash.js";
import * as labels from "./labels.js";
import { sodium } from "./sodium.js";

export const SOLUTIONS = 8;
export const OPSLIMIT = 1;
export const MEMLIMIT = 4 * 1024 * 1024;
export const MAX_NONCE = 2 ** 32 - 1;
/** A client refuses more work than this per solution: a hostile server cannot make it compute for ever. */
export const MAX_WORK = 2 ** 17;
export const MAX_CHALLENGE = 256;

export function proofSeed(challenge, caseId, caseHash) {
  if (!(challenge instanceof Uint8Array) || challenge.length < 1 || challenge.length > MAX_CHALLENGE || caseHash.length !== 32) {
    throw new InvalidKey("a challenge is 1 to 256 bytes and a case hash 32");
  }
  return hash(labels.PERSON_PROOF_SEED, concat(challenge, uuidBytes(caseId), caseHash));
}

function uint32be(n) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** One evaluation: Argon2id of the seed and the nonce (4 MiB, one pass). */
export function proofHash(seed, nonce) {
  if (seed.length !== 32 || !Number.isInteger(nonce) || nonce < 0 || nonce > MAX_NONCE) {
    throw new InvalidKey("a seed is 32 bytes and a nonce below 2^32");
  }
  return sodium.crypto_pwhash(
    32,
    concat(seed, uint32be(nonce)),
    labels.PROOF_ARGON2_SALT,
    OPSLIMIT,
    MEMLIMIT,
    sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
}

export function checkWork(work) {
  if (!Number.isInteger(work) || work < 1 || work > MAX_WORK) {
    throw new InvalidKey(`the work asked for is not between 1 and ${MAX_WORK}`);
  }
}

/** Whether one evaluation counts: its first 64 bits, big-endian, below 2^64 / work. */
export function meets(digest, work) {
  const value = new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0);
  return value < (1n << 64n) / BigInt(work);
}

/**
 * The first SOLUTIONS nonces from 0 upwards that meet `work` (about SOLUTIONS * work
 * evaluations). It hands the page back every `sliceMs` so the page stays responsive, and
 * reports `progress({ evaluations, found })` then; `signal` (an AbortSignal) stops it.
 */
export async function solveProof(seed, work, { progress = () => {}, signal = null, sliceMs = 50 } = {}) {
  checkWork(work);
  const found = [];
  let nonce = 0;
  let slice = performance.now();
  while (found.length < SOLUTIONS) {
    if (nonce > MAX_NONCE) {
      throw new InvalidWork("no proof below 2^32");
    }
    if (meets(proofHash(seed, nonce), work)) {
      found.push(nonce);
    }
    nonce += 1;
    if (performance.now() - slice >= sliceMs) {
      progress({ evaluations: nonce, found: found.length });
      await new Promise((resolve) => setTimeout(resolve, 0));
      signal?.throwIfAborted();
      slice = performance.now();
    }
  }
  progress({ evaluations: nonce, found: found.length });
  return found;
}

/** Throws InvalidWork unless `nonces` is a proof for `seed` at `work`. */
export function verifyProof(seed, work, nonces) {
  checkWork(work);
  if (
    !Array.isArray(nonces) ||
    nonces.length !== SOLUTIONS ||
    nonces.some((n) => !Number.isInteger(n) || n < 0 || n > MAX_NONCE) ||
    nonces.some((n, i) => i > 0 && nonces[i - 1] >= n)
  ) {
    throw new InvalidWork(`a proof is ${SOLUTIONS} ascending nonces below 2^32`);
  }
  for (const nonce of nonces) {
    if (!meets(proofHash(seed, nonce), work)) {
      throw new InvalidWork("the proof does not meet the challenge's work");
    }
  }
}
