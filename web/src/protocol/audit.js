/**
 * The audit log (§33): RFC 6962 Merkle hashing and proof verification (RFC 9162
 * §2.1.3.2 and §2.1.4.2), signed tree heads and server key successions.
 */
import { InvalidKey, ProofError } from "./errors.js";
import { b64, concat, fromB64, fromUtf8, utf8, uuidHex } from "./encoding.js";
import { equalBytes, requireSize, sha256, verifySignature } from "./hash.js";
import { canonicalJson, hasExactFields, isCount, isHex32, parseJson, requireCanonical } from "./json.js";
import * as labels from "./labels.js";

/** MTH({}) = SHA-256("") (RFC 6962 §2.1). */
export function emptyRoot() {
  return sha256(new Uint8Array(0));
}

/** leaf_hash(d) = SHA-256(0x00 || d). */
export function leafHash(data) {
  return sha256(concat(Uint8Array.of(0), data));
}

/** node_hash(l, r) = SHA-256(0x01 || l || r). */
export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

function checkSize(value, what) {
  if (!isCount(value)) {
    throw new InvalidKey(`${what} is not an integer in 0 .. 2^53 - 1`);
  }
  return value;
}

function checkProof(proof) {
  if (!Array.isArray(proof)) {
    throw new InvalidKey("a proof is a list of hashes");
  }
  return proof.map((element) => requireSize(element, 32, "a proof element"));
}

/** MTH of a list of leaf hashes (RFC 6962 §2.1): split at the largest power of two below n. */
export function rootOfLeafHashes(hashes) {
  if (hashes.length === 0) {
    return emptyRoot();
  }
  if (hashes.length === 1) {
    return hashes[0];
  }
  let k = 1;
  while (k * 2 < hashes.length) {
    k *= 2;
  }
  return nodeHash(rootOfLeafHashes(hashes.slice(0, k)), rootOfLeafHashes(hashes.slice(k)));
}

/**
 * The compact range of the tree over `hashes` (leaf hashes): the roots of the complete subtrees
 * that make up its leaves, largest (leftmost) first, one per set bit of its size. A client that
 * verified a tree keeps it and extends it leaf by leaf with `Frontier` (app/crypto/merkle.py).
 */
export function frontierOf(hashes) {
  const out = [];
  let lo = 0;
  for (let bit = 2 ** Math.floor(Math.log2(Math.max(hashes.length, 1))); bit >= 1; bit /= 2) {
    if (hashes.length - lo >= bit) {
      out.push(rootOfLeafHashes(hashes.slice(lo, lo + bit)));
      lo += bit;
    }
  }
  return out;
}

/** A tree held as its compact range: `appendLeafHash` and `root` in O(log n). */
export class Frontier {
  constructor(size, hashes) {
    this.size = checkSize(size, "tree size");
    this.levels = [];
    for (let k = 52; k >= 0; k--) {
      if (Math.floor(this.size / 2 ** k) % 2 === 1) {
        this.levels.push(k);
      }
    }
    this.hashes = hashes.map((h) => requireSize(h, 32, "a frontier hash"));
    if (this.hashes.length !== this.levels.length) {
      throw new InvalidKey(`a tree of size ${this.size} has ${this.levels.length} frontier hashes`);
    }
  }

  appendLeafHash(leaf) {
    this.hashes.push(requireSize(leaf, 32, "a leaf hash"));
    this.levels.push(0);
    while (this.levels.length > 1 && this.levels.at(-1) === this.levels.at(-2)) {
      const right = this.hashes.pop();
      const left = this.hashes.pop();
      this.levels.pop();
      this.levels[this.levels.length - 1] += 1;
      this.hashes.push(nodeHash(left, right));
    }
    this.size += 1;
  }

  root() {
    if (this.hashes.length === 0) {
      return emptyRoot();
    }
    let result = this.hashes.at(-1);
    for (let i = this.hashes.length - 2; i >= 0; i--) {
      result = nodeHash(this.hashes[i], result);
    }
    return result;
  }
}

/** MTH of the leaves (each the bytes of one record body). */
export function merkleRoot(leaves) {
  return rootOfLeafHashes(leaves.map(leafHash));
}

/** ProofError unless `leaf` is leaf `index` of the tree of `size` with `root` (RFC 9162 §2.1.3.2). */
export function verifyInclusion(leaf, index, size, proof, root) {
  requireSize(leaf, 32, "the leaf hash");
  requireSize(root, 32, "the root");
  checkSize(index, "the leaf index");
  checkSize(size, "the tree size");
  const path = checkProof(proof);
  if (index >= size) {
    throw new ProofError(`leaf index ${index} is outside a tree of size ${size}`);
  }
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) {
      throw new ProofError("the inclusion proof is too long");
    }
    if (fn & 1n || fn === sn) {
      r = nodeHash(p, r);
      while (fn !== 0n && !(fn & 1n)) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) {
    throw new ProofError("the inclusion proof is too short");
  }
  if (!equalBytes(r, root)) {
    throw new ProofError("the inclusion proof does not lead to the root");
  }
}

/**
 * ProofError unless the tree of `oldSize` with `oldRoot` is a prefix of the tree of
 * `newSize` with `newRoot` (RFC 9162 §2.1.4.2; §33.2 for sizes equal or 0).
 */
export function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  checkSize(oldSize, "the old size");
  checkSize(newSize, "the new size");
  requireSize(oldRoot, 32, "the old root");
  requireSize(newRoot, 32, "the new root");
  let path = checkProof(proof);
  if (oldSize > newSize) {
    throw new ProofError(`old size ${oldSize} is larger than new size ${newSize}`);
  }
  if (oldSize === 0 || oldSize === newSize) {
    if (path.length > 0) {
      throw new ProofError("a consistency proof from an empty or equal tree is empty");
    }
    if (oldSize === 0 && !equalBytes(oldRoot, emptyRoot())) {
      throw new ProofError("the root of an empty tree is SHA-256 of the empty string");
    }
    if (oldSize === newSize && !equalBytes(oldRoot, newRoot)) {
      throw new ProofError("two trees of the same size have different roots");
    }
    return;
  }
  if (path.length === 0) {
    throw new ProofError("the consistency proof is empty");
  }
  let fn = BigInt(oldSize - 1);
  let sn = BigInt(newSize - 1);
  if (!(BigInt(oldSize) & (BigInt(oldSize) - 1n))) {
    path = [oldRoot, ...path]; // the old tree is complete: its root starts the chain
  }
  while (fn & 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) {
      throw new ProofError("the consistency proof is too long");
    }
    if (fn & 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn !== 0n && !(fn & 1n)) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) {
    throw new ProofError("the consistency proof is too short");
  }
  if (!equalBytes(fr, oldRoot)) {
    throw new ProofError("the consistency proof does not lead to the old root");
  }
  if (!equalBytes(sr, newRoot)) {
    throw new ProofError("the consistency proof does not lead to the new root");
  }
}

const HEAD_FIELDS = ["at", "circle", "root", "size", "type", "v"];

/** A signed tree head (§33.3): the server's claim about the first `size` records. */
export class TreeHead {
  constructor({ circle, size, root, at }) {
    if (!isHex32(circle) || !isCount(size) || typeof at !== "string") {
      throw new InvalidKey("a tree head has a circle, size >= 0 and a time");
    }
    Object.assign(this, { circle, size, root: Uint8Array.from(requireSize(root, 32, "a root")), at });
    this.bytes = canonicalJson(this.toJson());
    Object.freeze(this);
  }

  static parse(raw) {
    const bytes = typeof raw === "string" ? utf8(raw) : raw;
    const value = parseJson(bytes);
    if (!hasExactFields(value, HEAD_FIELDS) || value.v !== 1 || value.type !== labels.TREE_HEAD_TYPE) {
      throw new InvalidKey("not a version 1 tree head");
    }
    const root = fromB64(value.root, 32, "root");
    const head = new TreeHead({ circle: value.circle, size: value.size, root, at: value.at });
    requireCanonical(bytes, head.toJson());
    return head;
  }

  toJson() {
    return {
      at: this.at,
      circle: this.circle,
      root: b64(this.root),
      size: this.size,
      type: labels.TREE_HEAD_TYPE,
      v: 1,
    };
  }

  get text() {
    return fromUtf8(this.bytes);
  }

  /** Is this a head of circle `circleId` (any UUID form)? */
  isFor(circleId) {
    return this.circle === uuidHex(circleId);
  }

  signatureMessage() {
    return concat(labels.TREE_HEAD_SIGNATURE_CONTEXT, this.bytes);
  }

  verifySignature(signature, serverKey) {
    requireSize(serverKey, 32, "a server key");
    verifySignature(signature, this.signatureMessage(), serverKey, "tree head signature");
  }
}

/** "backchannel.server-key-succession.v1\0" || old || new || ASCII(not_before) (§33.4). */
export function successionMessage(oldPublic, newPublic, notBefore) {
  const asciiTime = typeof notBefore === "string" && /^[\x00-\x7f]*$/.test(notBefore);
  if (oldPublic.length !== 32 || newPublic.length !== 32 || !asciiTime) {
    throw new InvalidKey("a succession names two 32-byte keys and an ASCII time");
  }
  return concat(labels.SIGNING_KEY_SUCCESSION_CONTEXT, oldPublic, newPublic, utf8(notBefore));
}

/** BadSignature unless the outgoing key `oldPublic` announced `newPublic` from `notBefore`. */
export function verifySuccession(oldPublic, newPublic, notBefore, signature) {
  verifySignature(signature, successionMessage(oldPublic, newPublic, notBefore), oldPublic, "key succession signature");
}
