// RFC 6962 / RFC 9162 Merkle vectors the reference is tested against (§33.2 names them):
// tests/crypto/vectors/rfc6962.json, read-only, with the reference's own edge-case policy.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { assertBytes, bytes } from "../test-support/helpers.js";
import {
  emptyRoot,
  Frontier,
  frontierOf,
  leafHash,
  merkleRoot,
  nodeHash,
  rootOfLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from "../src/protocol/audit.js";
import { CryptoError } from "../src/protocol/errors.js";
import { hex } from "../src/protocol/encoding.js";
import { parseJson } from "../src/protocol/json.js";

const R = parseJson(readFileSync(new URL("../../tests/crypto/vectors/rfc6962.json", import.meta.url)));
const leaves = R.leaf_inputs.map(bytes);
const rootOf = (size) => bytes(R.roots.find((r) => r.size === size).root);

describe("rfc6962.json hashing", () => {
  test("the empty root", () => assertBytes(emptyRoot(), R.empty_root));
  for (const r of R.roots) {
    test(`MTH of the first ${r.size} leaves`, () => assertBytes(merkleRoot(leaves.slice(0, r.size)), r.root));
  }
  test("node hashes level by level", () => {
    let level = leaves.map(leafHash);
    for (const expected of R.node_hashes) {
      assert.deepEqual(level.map(hex), expected);
      const next = [];
      for (let i = 0; i + 1 < level.length; i += 2) {
        next.push(nodeHash(level[i], level[i + 1]));
      }
      level = next;
    }
  });
});

describe("rfc6962.json proofs", () => {
  for (const p of R.inclusion_proofs) {
    test(`inclusion of leaf ${p.index} in size ${p.tree_size}`, () => {
      verifyInclusion(leafHash(leaves[p.index]), p.index, p.tree_size, p.proof.map(bytes), rootOf(p.tree_size));
    });
  }
  for (const p of R.consistency_proofs) {
    test(`consistency from size ${p.old_size} to ${p.new_size}`, () => {
      verifyConsistency(p.old_size, p.new_size, rootOf(p.old_size), rootOf(p.new_size), p.proof.map(bytes));
    });
  }
});

function expectOutcome(check, wantError) {
  if (wantError) {
    assert.throws(check, CryptoError);
  } else {
    check();
  }
}

describe("rfc6962.json inclusion probes", () => {
  R.inclusion_probes.forEach((p, i) => {
    test(`${i}: ${p.desc} (${p.origin})`, () => {
      expectOutcome(
        () => verifyInclusion(bytes(p.leaf_hash), p.index, p.tree_size, p.proof.map(bytes), bytes(p.root)),
        p.want_error,
      );
    });
  });
});

describe("rfc6962.json consistency probes", () => {
  R.consistency_probes.forEach((p, i) => {
    test(`${i}: ${p.desc} (${p.origin})`, () => {
      expectOutcome(
        () => verifyConsistency(p.old_size, p.new_size, bytes(p.old_root), bytes(p.new_root), p.proof.map(bytes)),
        p.want_error,
      );
    });
  });
});

test("a root is not a leaf of its own tree (the proof must reach the top, not stop early)", () => {
  const root = merkleRoot(leaves.slice(0, 5));
  assert.throws(() => verifyInclusion(root, 0, 5, [], root), CryptoError);
});

describe("compact ranges (incremental audit verify)", () => {
  const leaves = Array.from({ length: 40 }, (_, i) => leafHash(new TextEncoder().encode(String(i))));
  for (const start of [0, 1, 2, 3, 6, 8, 21]) {
    test(`a frontier of ${start} leaves extends to every later root`, () => {
      const grown = new Frontier(start, frontierOf(leaves.slice(0, start)));
      assert.deepEqual(grown.root(), rootOfLeafHashes(leaves.slice(0, start)));
      for (let n = start; n < 40; n++) {
        grown.appendLeafHash(leaves[n]);
        assert.equal(grown.size, n + 1);
        assert.deepEqual(grown.root(), rootOfLeafHashes(leaves.slice(0, n + 1)));
      }
    });
  }

  test("a frontier of the wrong length is refused", () => {
    assert.throws(() => new Frontier(3, [new Uint8Array(32)]), CryptoError);
  });
});
