/**
 * RFC 9497 OPRF and VOPRF over ristretto255 with SHA-512 (§34), as app/crypto/voprf.py.
 *
 * The suite is ristretto255-SHA512 (RFC 9497 §4.1), in mode 0x00 (OPRF) and 0x01 (VOPRF);
 * the partially oblivious mode 0x02 is not implemented (nothing uses it).
 *
 * - OprfKey: GenerateKeyPair and DeriveKeyPair (§3.2, §3.2.1).
 * - OprfClient / OprfServer: Blind, BlindEvaluate, Finalize and Evaluate (§3.3.1).
 * - VoprfClient / VoprfServer: the same with a DLEQ proof that the evaluation used the key
 *   behind the client's pinned OprfPublicKey; one proof covers a whole batch (§2.2, §3.3.2).
 * - HashToGroup is hash_to_ristretto255 (RFC 9380 Appendix B): expand_message_xmd with
 *   SHA-512 (RFC 9380 §5.3.1) to 64 bytes, then crypto_core_ristretto255_from_hash
 *   (RFC 9496 §4.3.4); HashToScalar reduces the same 64 bytes modulo the group order.
 *
 * Every group and scalar operation is libsodium.js's, through ristretto.js (which also
 * decides how libsodium's edges are met: the identity, bit 255, random scalars); nothing
 * here implements group arithmetic. No function here takes a blind, proof nonce or key
 * scalar from its caller: they are drawn inside.
 */
import { sodium } from "./sodium.js";
import { BadProof, InvalidKey } from "./errors.js";
import { concat, hex } from "./encoding.js";
import { equalBytes } from "./hash.js";
import * as labels from "./labels.js";
import {
  ELEMENT_BYTES,
  IDENTITY,
  SCALAR_BYTES,
  ZERO_SCALAR,
  add,
  fromHash,
  invert,
  isElement,
  isScalar,
  mul,
  mulBase,
  randomScalar,
  reduce,
  scalarMul,
  scalarSub,
} from "./ristretto.js";

export const OPRF_ELEMENT_BYTES = ELEMENT_BYTES;
export const OPRF_SCALAR_BYTES = SCALAR_BYTES;
export const OPRF_PROOF_BYTES = 64;
export const OPRF_OUTPUT_BYTES = 64;
export const OPRF_SEED_BYTES = 32;
export const OPRF_MAX_INPUT_BYTES = 2 ** 16 - 1;
/** Elements in one request; a feature may allow fewer, never more. */
export const OPRF_MAX_BATCH = 64;

/** The mode byte of the context string (RFC 9497 §3.1). */
export const OprfMode = Object.freeze({ OPRF: 0, VOPRF: 1 });

const MODE_NAMES = new Map(Object.entries(OprfMode).map(([name, value]) => [value, name]));

function checkMode(mode) {
  if (!MODE_NAMES.has(mode)) {
    throw new InvalidKey(`unknown OPRF mode ${String(mode)}`);
  }
  return mode;
}

/** "OPRFV1-" || I2OSP(mode, 1) || "-" || "ristretto255-SHA512". */
export function oprfContextString(mode) {
  return concat(labels.OPRF_CONTEXT_VERSION, Uint8Array.of(checkMode(mode), 0x2d), labels.OPRF_SUITE);
}

// --- Hashing (RFC 9380, RFC 9497 §4.1) ----------------------------------------------------

const sha512 = (data) => sodium.crypto_hash_sha512(data);

function isBytes(value) {
  return value instanceof Uint8Array;
}

/** I2OSP(len(value), 2) || value: how RFC 9497 frames every variable-length field. */
function framed(value) {
  if (value.length > OPRF_MAX_INPUT_BYTES) {
    throw new InvalidKey(`a VOPRF input is at most ${OPRF_MAX_INPUT_BYTES} bytes`);
  }
  return concat(Uint8Array.of(value.length >> 8, value.length & 0xff), value);
}

/** RFC 9380 §5.3.1 with SHA-512 and len_in_bytes = 64, the only length used: b_1. */
function expandMessageXmd(message, dst) {
  if (dst.length < 1 || dst.length > 255) {
    throw new InvalidKey("a domain separation tag is 1 to 255 bytes");
  }
  const dstPrime = concat(dst, Uint8Array.of(dst.length));
  // msg_prime = Z_pad (128 zeros) || msg || I2OSP(64, 2) || I2OSP(0, 1) || DST'
  const b0 = sha512(concat(new Uint8Array(128), message, Uint8Array.of(0, 64, 0), dstPrime));
  return sha512(concat(b0, Uint8Array.of(1), dstPrime));
}

function hashToGroup(message, mode) {
  const dst = concat(labels.OPRF_HASH_TO_GROUP_DST, oprfContextString(mode));
  return fromHash(expandMessageXmd(message, dst));
}

function hashToScalar(message, mode, dst = null) {
  const tag = dst ?? concat(labels.OPRF_HASH_TO_SCALAR_DST, oprfContextString(mode));
  return reduce(expandMessageXmd(message, tag));
}

// --- Elements and proofs --------------------------------------------------------------------

/** DeserializeScalar: 32 bytes, little-endian, below the group order. */
function scalar(raw, what) {
  if (!isBytes(raw) || raw.length !== OPRF_SCALAR_BYTES) {
    throw new InvalidKey(`${what} must be ${OPRF_SCALAR_BYTES} bytes`);
  }
  if (!isScalar(raw)) {
    throw new InvalidKey(`${what} is not a canonical scalar`);
  }
  return Uint8Array.from(raw);
}

/** A ristretto255 element: 32 canonical bytes, never the identity. */
export class OprfElement {
  #raw;

  constructor(raw) {
    if (!isBytes(raw) || raw.length !== OPRF_ELEMENT_BYTES) {
      throw new InvalidKey(`a ristretto255 element must be ${OPRF_ELEMENT_BYTES} bytes`);
    }
    if (!isElement(raw)) {
      throw new InvalidKey("not a canonical ristretto255 element, or the identity");
    }
    this.#raw = Uint8Array.from(raw);
    Object.freeze(this);
  }

  toBytes() {
    return Uint8Array.from(this.#raw);
  }

  /** Equal bytes and the same class (a public key is not a blinded element). */
  equals(other) {
    return (
      other instanceof OprfElement && other.constructor === this.constructor && equalBytes(this.#raw, other.toBytes())
    );
  }

  toString() {
    return `${this.constructor.name}(${hex(this.#raw)})`;
  }
}

/** The server's public key pkS = skS * G: what a client pins and checks proofs with. */
export class OprfPublicKey extends OprfElement {}

/** A DLEQ proof c || s (RFC 9497 §2.2): two canonical scalars, 64 bytes. */
export class OprfProof {
  #raw;

  constructor(raw) {
    if (!isBytes(raw) || raw.length !== OPRF_PROOF_BYTES) {
      throw new InvalidKey(`a VOPRF proof must be ${OPRF_PROOF_BYTES} bytes`);
    }
    scalar(raw.subarray(0, 32), "the proof's c");
    scalar(raw.subarray(32), "the proof's s");
    this.#raw = Uint8Array.from(raw);
    Object.freeze(this);
  }

  get c() {
    return this.#raw.slice(0, 32);
  }

  get s() {
    return this.#raw.slice(32);
  }

  toBytes() {
    return Uint8Array.from(this.#raw);
  }

  equals(other) {
    return other instanceof OprfProof && equalBytes(this.#raw, other.toBytes());
  }
}

function batch(elements, what) {
  const items = Array.from(elements);
  if (items.length < 1 || items.length > OPRF_MAX_BATCH) {
    throw new InvalidKey(`a VOPRF batch holds 1 to ${OPRF_MAX_BATCH} ${what}`);
  }
  if (items.some((e) => !(e instanceof OprfElement) || e.constructor !== OprfElement)) {
    throw new InvalidKey(`${what} must be decoded OprfElements`);
  }
  return Object.freeze(items);
}

/** A VOPRF server's answer: one evaluated element per blinded one, and one proof. */
export class OprfEvaluation {
  constructor(elements, proof) {
    if (!(proof instanceof OprfProof)) {
      throw new InvalidKey("an evaluation needs a decoded OprfProof");
    }
    this.elements = batch(elements, "evaluated elements");
    this.proof = proof;
    Object.freeze(this);
  }
}

// --- Keys (RFC 9497 §3.2) -------------------------------------------------------------------

/** The server's secret key skS: a canonical, non-zero scalar; `publicKey` is what clients pin. */
export class OprfKey {
  #raw;

  constructor(raw) {
    const key = scalar(raw, "a VOPRF server key");
    if (equalBytes(key, ZERO_SCALAR)) {
      throw new InvalidKey("a VOPRF server key is not zero");
    }
    this.#raw = key;
    this.publicKey = new OprfPublicKey(mulBase(key));
    Object.freeze(this);
  }

  /** GenerateKeyPair: a uniform random key. */
  static generate() {
    return new OprfKey(randomScalar());
  }

  /** DeriveKeyPair (§3.2.1): the same seed, info and mode give the same key. */
  static derive(seed, info, { mode }) {
    if (!isBytes(seed) || seed.length !== OPRF_SEED_BYTES) {
      throw new InvalidKey(`a VOPRF key seed must be ${OPRF_SEED_BYTES} bytes`);
    }
    if (!isBytes(info)) {
      throw new InvalidKey("VOPRF key info is bytes");
    }
    const deriveInput = concat(seed, framed(info));
    const dst = concat(labels.OPRF_DERIVE_KEY_PAIR_DST, oprfContextString(mode));
    for (let counter = 0; counter < 256; counter++) {
      const s = hashToScalar(concat(deriveInput, Uint8Array.of(counter)), mode, dst);
      if (!equalBytes(s, ZERO_SCALAR)) {
        return new OprfKey(s);
      }
    }
    throw new InvalidKey("DeriveKeyPair found no non-zero scalar"); // probability ~2^-2000
  }

  /** The secret scalar: only for storing the key on the server. */
  toBytes() {
    return Uint8Array.from(this.#raw);
  }

  equals(other) {
    return other instanceof OprfKey && equalBytes(this.#raw, other.toBytes());
  }

  toString() {
    return `OprfKey(public=${hex(this.publicKey.toBytes())})`;
  }
}

// --- The protocol (RFC 9497 §3.3) -----------------------------------------------------------

/** HashToGroup of one input, refusing what RFC 9497 refuses (InvalidInputError). */
function inputElement(item, mode) {
  if (!isBytes(item)) {
    throw new InvalidKey("a VOPRF input is bytes");
  }
  framed(item);
  const point = hashToGroup(item, mode);
  if (equalBytes(point, IDENTITY)) {
    throw new InvalidKey("the input hashes to the identity"); // probability ~2^-252
  }
  return point;
}

// Each OprfBlinded's blinds, reachable only from this module (a method would let a caller
// unblind an answer without checking its proof).
const BLINDS = new WeakMap();

/**
 * A client's blinded inputs: send `elements`, keep this object until the answer comes.
 * Each blind is drawn here, at random, and never leaves this module.
 */
export class OprfBlinded {
  constructor(inputs, { mode }) {
    const items = Array.from(inputs);
    if (items.length < 1 || items.length > OPRF_MAX_BATCH) {
      throw new InvalidKey(`a VOPRF batch holds 1 to ${OPRF_MAX_BATCH} inputs`);
    }
    const points = items.map((item) => inputElement(item, checkMode(mode)));
    const blinds = items.map(() => randomScalar());
    this.mode = mode;
    this.inputs = Object.freeze(items.map((item) => Uint8Array.from(item)));
    this.elements = Object.freeze(points.map((point, i) => new OprfElement(mul(blinds[i], point))));
    BLINDS.set(this, blinds);
    Object.freeze(this);
  }
}

/** Finalize's unblinding: one 64-byte output per input, in order. */
function unblind(blinded, evaluated) {
  const blinds = BLINDS.get(blinded);
  return blinded.inputs.map((item, i) => {
    const inverse = invert(blinds[i]);
    return finish(item, mul(inverse, evaluated[i].toBytes()));
  });
}

/** Hash(I2OSP(len(input), 2) || input || I2OSP(len(element), 2) || element || "Finalize"). */
function finish(item, element) {
  return sha512(concat(framed(item), framed(element), labels.OPRF_FINALIZE_LABEL));
}

function checkAnswer(blinded, mode, evaluated) {
  if (!(blinded instanceof OprfBlinded) || !BLINDS.has(blinded) || blinded.mode !== mode) {
    throw new InvalidKey(`these inputs were not blinded for ${MODE_NAMES.get(mode)}`);
  }
  if (evaluated.length !== blinded.elements.length) {
    throw new InvalidKey("the evaluation does not answer every blinded element");
  }
}

function evaluate(key, item, mode) {
  return finish(item, mul(key.toBytes(), inputElement(item, mode)));
}

/** The d_i of ComputeComposites (§2.2.1), bound to the key and to both elements. */
function weights(publicKey, blinded, evaluated, mode) {
  const seedDst = concat(labels.OPRF_SEED_DST, oprfContextString(mode));
  const seed = sha512(concat(framed(publicKey), framed(seedDst)));
  return blinded.map((c, i) =>
    hashToScalar(
      concat(
        framed(seed),
        Uint8Array.of(i >> 8, i & 0xff),
        framed(c.toBytes()),
        framed(evaluated[i].toBytes()),
        labels.OPRF_COMPOSITE_LABEL,
      ),
      mode,
    ),
  );
}

/** Σ d_i·E_i, starting from the identity as the RFC does. */
function combine(ds, elements) {
  return ds.reduce((total, d, i) => add(mul(d, elements[i].toBytes()), total), IDENTITY);
}

function challenge(publicKey, m, z, t2, t3, mode) {
  const transcript = concat(...[publicKey, m, z, t2, t3].map(framed), labels.OPRF_CHALLENGE_LABEL);
  return hashToScalar(transcript, mode);
}

/** GenerateProof (§2.2.1) with A = G and B = pkS; Z = skS·M (ComputeCompositesFast). */
function prove(key, blinded, evaluated, mode) {
  const secret = key.toBytes();
  const publicKey = key.publicKey.toBytes();
  const m = combine(weights(publicKey, blinded, evaluated, mode), blinded);
  const z = mul(secret, m);
  const r = randomScalar();
  const c = challenge(publicKey, m, z, mulBase(r), mul(r, m), mode);
  const s = scalarSub(r, scalarMul(c, secret));
  return new OprfProof(concat(c, s));
}

/** VerifyProof (§2.2.2): BadProof unless one key maps every C_i to D_i and G to publicKey. */
function verify(publicKey, blinded, evaluated, proof, mode) {
  const key = publicKey.toBytes();
  const ds = weights(key, blinded, evaluated, mode);
  const m = combine(ds, blinded);
  const z = combine(ds, evaluated);
  const { c, s } = proof;
  const t2 = add(mulBase(s), mul(c, key));
  const t3 = add(mul(s, m), mul(c, z));
  if (!equalBytes(challenge(key, m, z, t2, t3, mode), c)) {
    throw new BadProof("the VOPRF proof does not verify against the pinned key");
  }
}

/** The client of mode 0x00: outputs without a proof (nothing shows which key was used). */
export class OprfClient {
  get mode() {
    return OprfMode.OPRF;
  }

  /** Blind each input with a fresh random scalar. */
  blind(inputs) {
    return new OprfBlinded(inputs, { mode: this.mode });
  }

  /** Unblind the server's elements: one 64-byte output per input, in order. */
  finalize(blinded, evaluated) {
    const answer = batch(evaluated, "evaluated elements");
    checkAnswer(blinded, this.mode, answer);
    return unblind(blinded, answer);
  }
}

/** The client of mode 0x01: every answer must prove it used the pinned key. */
export class VoprfClient {
  constructor(publicKey) {
    if (!(publicKey instanceof OprfPublicKey)) {
      throw new InvalidKey("a VOPRF client needs the server's decoded OprfPublicKey");
    }
    this.publicKey = publicKey;
    Object.freeze(this);
  }

  get mode() {
    return OprfMode.VOPRF;
  }

  blind(inputs) {
    return new OprfBlinded(inputs, { mode: this.mode });
  }

  /** Verify the proof (BadProof), then unblind: one 64-byte output per input. */
  finalize(blinded, evaluation) {
    if (!(evaluation instanceof OprfEvaluation)) {
      throw new InvalidKey("a VOPRF answer is an OprfEvaluation");
    }
    checkAnswer(blinded, this.mode, evaluation.elements);
    verify(this.publicKey, blinded.elements, evaluation.elements, evaluation.proof, this.mode);
    return unblind(blinded, evaluation.elements);
  }
}

/** The server of mode 0x00. */
export class OprfServer {
  constructor(key) {
    if (!(key instanceof OprfKey)) {
      throw new InvalidKey("an OPRF server needs an OprfKey");
    }
    this.key = key;
    Object.freeze(this);
  }

  get mode() {
    return OprfMode.OPRF;
  }

  /** skS·C_i for each blinded element. */
  blindEvaluate(blinded) {
    const secret = this.key.toBytes();
    return batch(blinded, "blinded elements").map((e) => new OprfElement(mul(secret, e.toBytes())));
  }

  /** The output a client would finalize for `item`, computed directly. */
  evaluate(item) {
    return evaluate(this.key, item, this.mode);
  }
}

/** The server of mode 0x01: one proof for the whole batch. */
export class VoprfServer {
  constructor(key) {
    if (!(key instanceof OprfKey)) {
      throw new InvalidKey("a VOPRF server needs an OprfKey");
    }
    this.key = key;
    Object.freeze(this);
  }

  get mode() {
    return OprfMode.VOPRF;
  }

  /** skS·C_i for each blinded element, and the proof that covers them all. */
  blindEvaluate(blinded) {
    const items = batch(blinded, "blinded elements");
    const secret = this.key.toBytes();
    const evaluated = items.map((e) => new OprfElement(mul(secret, e.toBytes())));
    return new OprfEvaluation(evaluated, prove(this.key, items, evaluated, this.mode));
  }

  evaluate(item) {
    return evaluate(this.key, item, this.mode);
  }
}
