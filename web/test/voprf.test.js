// The rules of src/protocol/voprf.js (§34), as tests/crypto/test_voprf_crypto.py states them,
// with fresh random keys and blinds; the vectors are in test/vectors/voprf.test.js.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ready } from "../src/protocol/sodium.js";
import { BadProof, InvalidKey } from "../src/protocol/errors.js";
import { protocolError } from "../src/client/errors.js";
import { hex, utf8 } from "../src/protocol/encoding.js";
import {
  OPRF_MAX_BATCH,
  OPRF_MAX_INPUT_BYTES,
  OPRF_OUTPUT_BYTES,
  OprfBlinded,
  OprfClient,
  OprfElement,
  OprfEvaluation,
  OprfKey,
  OprfMode,
  OprfProof,
  OprfPublicKey,
  OprfServer,
  VoprfClient,
  VoprfServer,
} from "../src/protocol/voprf.js";

await ready();

const NAMES = ["jan novak", "j. novak", "ž"].map(utf8);
const hexes = (values) => values.map((value) => hex(value instanceof Uint8Array ? value : value.toBytes()));

function voprfRound(key, inputs) {
  const client = new VoprfClient(key.publicKey);
  const blinded = client.blind(inputs);
  return client.finalize(blinded, new VoprfServer(key).blindEvaluate(blinded.elements));
}

for (const size of [1, 3, OPRF_MAX_BATCH]) {
  test(`VOPRF outputs equal the server's direct evaluation (batch of ${size})`, () => {
    const key = OprfKey.generate();
    const inputs = Array.from({ length: size }, (_, i) => utf8(`name ${i}`));
    const outputs = voprfRound(key, inputs);
    assert.deepEqual(hexes(outputs), hexes(inputs.map((item) => new VoprfServer(key).evaluate(item))));
    assert.ok(outputs.every((output) => output.length === OPRF_OUTPUT_BYTES));
    assert.equal(new Set(hexes(outputs)).size, size);
  });
}

test("OPRF outputs equal the server's direct evaluation", () => {
  const key = OprfKey.generate();
  const client = new OprfClient();
  const blinded = client.blind(NAMES);
  const outputs = client.finalize(blinded, new OprfServer(key).blindEvaluate(blinded.elements));
  assert.deepEqual(hexes(outputs), hexes(NAMES.map((item) => new OprfServer(key).evaluate(item))));
});

test("blinding hides the input and does not change the output", () => {
  const key = OprfKey.generate();
  const client = new VoprfClient(key.publicKey);
  const [first, second] = [client.blind(NAMES.slice(0, 1)), client.blind(NAMES.slice(0, 1))];
  assert.ok(!first.elements[0].equals(second.elements[0]));
  const server = new VoprfServer(key);
  assert.deepEqual(
    hexes(client.finalize(first, server.blindEvaluate(first.elements))),
    hexes(client.finalize(second, server.blindEvaluate(second.elements))),
  );
});

test("each evaluation draws a fresh proof nonce", () => {
  const key = OprfKey.generate();
  const client = new VoprfClient(key.publicKey);
  const blinded = client.blind(NAMES);
  const [one, two] = [0, 1].map(() => new VoprfServer(key).blindEvaluate(blinded.elements));
  assert.ok(!one.proof.equals(two.proof));
  assert.deepEqual(hexes(client.finalize(blinded, one)), hexes(client.finalize(blinded, two)));
});

test("outputs depend on the key and the mode", () => {
  const [key, other] = [OprfKey.generate(), OprfKey.generate()];
  assert.notDeepEqual(hexes(voprfRound(key, NAMES.slice(0, 1))), hexes(voprfRound(other, NAMES.slice(0, 1))));
  assert.notEqual(hex(new OprfServer(key).evaluate(NAMES[0])), hex(new VoprfServer(key).evaluate(NAMES[0])));
});

test("a partitioning server is detected, and the client reports bad_proof", () => {
  const [pinned, partition] = [OprfKey.generate(), OprfKey.generate()];
  const client = new VoprfClient(pinned.publicKey);
  const blinded = client.blind(NAMES);
  const answer = new VoprfServer(partition).blindEvaluate(blinded.elements);
  assert.throws(() => client.finalize(blinded, answer), BadProof);
  try {
    client.finalize(blinded, answer);
  } catch (error) {
    assert.equal(protocolError(error).code, "bad_proof");
  }
});

test("a proof over other elements is refused", () => {
  const key = OprfKey.generate();
  const client = new VoprfClient(key.publicKey);
  const blinded = client.blind(NAMES);
  const honest = new VoprfServer(key).blindEvaluate(blinded.elements);
  const chosen = new VoprfServer(key).blindEvaluate(client.blind(["x", "y", "z"].map(utf8)).elements);
  for (const evaluation of [
    new OprfEvaluation(chosen.elements, chosen.proof),
    new OprfEvaluation(honest.elements, chosen.proof),
    new OprfEvaluation([...honest.elements.slice(0, 2), chosen.elements[2]], honest.proof),
  ]) {
    assert.throws(() => client.finalize(blinded, evaluation), BadProof);
  }
});

test("no single bit flip of a proof is accepted", () => {
  const key = OprfKey.generate();
  const client = new VoprfClient(key.publicKey);
  const blinded = client.blind(NAMES.slice(0, 1));
  const evaluation = new VoprfServer(key).blindEvaluate(blinded.elements);
  const raw = evaluation.proof.toBytes();
  for (let bit = 0; bit < 8 * raw.length; bit += 7) {
    const flipped = Uint8Array.from(raw);
    flipped[bit >> 3] ^= 1 << (bit & 7);
    assert.throws(
      () => client.finalize(blinded, new OprfEvaluation(evaluation.elements, new OprfProof(flipped))),
      (error) => error instanceof BadProof || error instanceof InvalidKey,
    );
  }
});

test("an answer must match the request", () => {
  const key = OprfKey.generate();
  const client = new VoprfClient(key.publicKey);
  const blinded = client.blind(NAMES);
  const evaluation = new VoprfServer(key).blindEvaluate(blinded.elements);
  const short = new OprfEvaluation(evaluation.elements.slice(0, 2), evaluation.proof);
  assert.throws(() => client.finalize(blinded, short), InvalidKey);
  assert.throws(() => client.finalize(new OprfClient().blind(NAMES), evaluation), InvalidKey);
  assert.throws(() => new OprfClient().finalize(blinded, evaluation.elements), InvalidKey);
  assert.throws(() => client.finalize(Object.create(OprfBlinded.prototype), evaluation), InvalidKey);
});

for (const count of [0, OPRF_MAX_BATCH + 1]) {
  test(`batches hold 1 to ${OPRF_MAX_BATCH} elements (not ${count})`, () => {
    const key = OprfKey.generate();
    assert.throws(() => new VoprfClient(key.publicKey).blind(Array(count).fill(utf8("n"))), InvalidKey);
    const element = new OprfClient().blind([utf8("n")]).elements[0];
    assert.throws(() => new VoprfServer(key).blindEvaluate(Array(count).fill(element)), InvalidKey);
    assert.throws(() => new OprfServer(key).blindEvaluate(Array(count).fill(element)), InvalidKey);
  });
}

test("inputs are bytes of at most 65535", () => {
  const key = OprfKey.generate();
  const longest = new Uint8Array(OPRF_MAX_INPUT_BYTES);
  assert.deepEqual(hexes(voprfRound(key, [longest])), hexes([new VoprfServer(key).evaluate(longest)]));
  for (const bad of [new Uint8Array(OPRF_MAX_INPUT_BYTES + 1), "jan novak", [1, 2]]) {
    assert.throws(() => new OprfClient().blind([bad]), InvalidKey);
    assert.throws(() => new VoprfServer(key).evaluate(bad), InvalidKey);
  }
});

test("DeriveKeyPair is deterministic and bound to its inputs", () => {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
  const derive = (info, mode = OprfMode.VOPRF) => OprfKey.derive(seed, utf8(info), { mode });
  assert.ok(derive("circle 1").equals(derive("circle 1")));
  assert.ok(!derive("circle 1").equals(derive("circle 2")));
  assert.ok(!derive("circle 1").equals(derive("circle 1", OprfMode.OPRF)));
  assert.ok(new OprfKey(derive("c").toBytes()).equals(derive("c")));
  for (const badSeed of [seed.slice(0, 31), new Uint8Array(33)]) {
    assert.throws(() => OprfKey.derive(badSeed, utf8(""), { mode: OprfMode.VOPRF }), InvalidKey);
  }
  assert.throws(() => OprfKey.derive(seed, new Uint8Array(OPRF_MAX_INPUT_BYTES + 1), { mode: 1 }), InvalidKey);
  assert.throws(() => OprfKey.derive(seed, utf8(""), { mode: 2 }), InvalidKey);
});

test("values take only their own decoded types", () => {
  const key = OprfKey.generate();
  const blinded = new OprfClient().blind([utf8("n")]);
  const element = blinded.elements[0];
  assert.throws(() => new VoprfClient(new OprfElement(key.publicKey.toBytes())), InvalidKey);
  assert.throws(() => new VoprfServer(key).blindEvaluate([element.toBytes()]), InvalidKey);
  assert.throws(() => new VoprfServer(key).blindEvaluate([new OprfPublicKey(element.toBytes())]), InvalidKey);
  assert.throws(() => new OprfEvaluation([element], new Uint8Array(64)), InvalidKey);
  assert.throws(() => new VoprfClient(key.publicKey).finalize(blinded, [element]), InvalidKey);
  assert.throws(() => new VoprfServer(key.toBytes()), InvalidKey);
  assert.ok(new OprfElement(element.toBytes()).equals(element));
  assert.ok(!new OprfPublicKey(element.toBytes()).equals(element));
});

test("secrets stay out of the objects' strings and fields", () => {
  const key = OprfKey.generate();
  assert.ok(!String(key).includes(hex(key.toBytes())));
  assert.ok(!JSON.stringify(key).includes(hex(key.toBytes())));
  const blinded = new VoprfClient(key.publicKey).blind([utf8("jan novak")]);
  assert.deepEqual(Object.keys(blinded).sort(), ["elements", "inputs", "mode"]);
  assert.equal(typeof blinded.unblind, "undefined");
});
