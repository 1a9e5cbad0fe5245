// The VOPRF (§34): RFC 9497's own vectors (tests/crypto/vectors/rfc9497-ristretto255-sha512.json,
// shared with the Python tests) and docs/vectors/voprf-v1.json (what both clients refuse).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { assertBytes, bytes, loadVectors, withScalars } from "../../test-support/helpers.js";
import { concat, hex } from "../../src/protocol/encoding.js";
import { parseJson } from "../../src/protocol/json.js";
import * as labels from "../../src/protocol/labels.js";
import * as voprf from "../../src/protocol/voprf.js";
import {
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
  oprfContextString,
} from "../../src/protocol/voprf.js";

const RFC_PATH = "../../../tests/crypto/vectors/rfc9497-ristretto255-sha512.json";
const RFC = parseJson(readFileSync(new URL(RFC_PATH, import.meta.url)));
const SUITES = new Map(RFC.suites.map((suite) => [suite.mode, suite]));
const V = loadVectors("voprf-v1.json");
const PROTOCOL_MD = readFileSync(new URL("../../../docs/protocol.md", import.meta.url), "utf8");

const list = (text) => text.split(",").map((part) => bytes(part));
const hexes = (values) => values.map((value) => hex(value instanceof Uint8Array ? value : value.toBytes()));

function outcome(fn) {
  try {
    fn();
  } catch (error) {
    return error.name;
  }
  return "valid";
}

describe("RFC 9497 A.1 ristretto255-SHA512", () => {
  for (const mode of [OprfMode.OPRF, OprfMode.VOPRF]) {
    const suite = SUITES.get(mode);
    test(`mode ${mode}: context string and DeriveKeyPair`, () => {
      assertBytes(concat(labels.OPRF_HASH_TO_GROUP_DST, oprfContextString(mode)), suite.groupDST);
      const key = OprfKey.derive(bytes(suite.seed), bytes(suite.keyInfo), { mode });
      assertBytes(key.toBytes(), suite.skSm);
      if (mode === OprfMode.VOPRF) {
        assertBytes(key.publicKey.toBytes(), suite.pkSm);
      }
    });
  }

  for (const vector of SUITES.get(OprfMode.OPRF).vectors) {
    test(`OPRF, batch ${vector.Batch}, input ${vector.Input.slice(0, 8)}`, () => {
      const server = new OprfServer(new OprfKey(bytes(SUITES.get(OprfMode.OPRF).skSm)));
      const client = new OprfClient();
      const inputs = list(vector.Input);
      const blinded = withScalars(vector.Blind.split(","), () => client.blind(inputs));
      assert.deepEqual(hexes(blinded.elements), vector.BlindedElement.split(","));
      const evaluated = server.blindEvaluate(blinded.elements);
      assert.deepEqual(hexes(evaluated), vector.EvaluationElement.split(","));
      const outputs = client.finalize(blinded, evaluated);
      assert.deepEqual(hexes(outputs), vector.Output.split(","));
      assert.deepEqual(hexes(inputs.map((item) => server.evaluate(item))), vector.Output.split(","));
    });
  }

  for (const vector of SUITES.get(OprfMode.VOPRF).vectors) {
    test(`VOPRF, batch ${vector.Batch}, input ${vector.Input.slice(0, 8)}`, () => {
      const key = new OprfKey(bytes(SUITES.get(OprfMode.VOPRF).skSm));
      const server = new VoprfServer(key);
      const client = new VoprfClient(key.publicKey);
      const inputs = list(vector.Input);
      const blinded = withScalars(vector.Blind.split(","), () => client.blind(inputs));
      assert.deepEqual(hexes(blinded.elements), vector.BlindedElement.split(","));
      const evaluation = withScalars([vector.Proof.r], () => server.blindEvaluate(blinded.elements));
      assert.deepEqual(hexes(evaluation.elements), vector.EvaluationElement.split(","));
      assertBytes(evaluation.proof.toBytes(), vector.Proof.proof);
      assert.deepEqual(hexes(client.finalize(blinded, evaluation)), vector.Output.split(","));
      assert.deepEqual(hexes(inputs.map((item) => server.evaluate(item))), vector.Output.split(","));
      // The same answer as bytes off the wire, checked against the published public key.
      const pinned = new VoprfClient(new OprfPublicKey(bytes(SUITES.get(OprfMode.VOPRF).pkSm)));
      const decoded = new OprfEvaluation(
        list(vector.EvaluationElement).map((raw) => new OprfElement(raw)),
        new OprfProof(bytes(vector.Proof.proof)),
      );
      assert.deepEqual(hexes(pinned.finalize(blinded, decoded)), vector.Output.split(","));
    });
  }
});

describe("voprf-v1.json", () => {
  const request = () =>
    withScalars(V.request.blinds, () => new OprfBlinded(V.request.inputs.map(bytes), { mode: OprfMode.VOPRF }));

  test("the file, labels, context strings and constants", () => {
    assert.deepEqual([V.protocol, V.layer, V.version], ["backchannel", "voprf", 1]);
    for (const [name, value] of Object.entries(V.labels)) {
      assertBytes(labels[name], value, name);
      assert.ok(PROTOCOL_MD.includes(`\`${name}\``), `docs/protocol.md does not list ${name}`);
    }
    for (const [name, value] of Object.entries(OprfMode)) {
      assertBytes(oprfContextString(value), V.context_strings[name], name);
    }
    for (const [name, value] of Object.entries(V.constants)) {
      assert.equal(voprf[name], value, name);
    }
  });

  for (const c of V.element_decode) {
    test(`element: ${c.what}`, () => {
      assert.equal(outcome(() => new OprfElement(bytes(c.element))), c.expected);
      assert.equal(outcome(() => new OprfPublicKey(bytes(c.element))), c.expected);
    });
  }

  for (const c of V.scalar_decode) {
    test(`scalar: ${c.what}`, () => {
      const raw = bytes(c.scalar);
      const zeros = new Uint8Array(32);
      assert.equal(outcome(() => new OprfKey(raw)), c.as_server_key);
      if (raw.length === 32) {
        assert.equal(outcome(() => new OprfProof(Uint8Array.from([...raw, ...zeros]))), c.as_proof_c);
        assert.equal(outcome(() => new OprfProof(Uint8Array.from([...zeros, ...raw]))), c.as_proof_c);
      } else {
        assert.equal(outcome(() => new OprfProof(raw)), c.as_proof_c);
      }
    });
  }

  for (const name of ["pinned", "other"]) {
    test(`key ${name} derives from its seed`, () => {
      const fields = V.keys[name];
      const key = OprfKey.derive(bytes(fields.seed), bytes(fields.info), { mode: OprfMode.VOPRF });
      assertBytes(key.toBytes(), fields.skS);
      assertBytes(key.publicKey.toBytes(), fields.pkS);
    });
  }

  test("the request blinds the inputs", () => {
    assert.deepEqual(hexes(request().elements), V.request.blinded);
  });

  test("the other key's answer is made with its proof nonce", () => {
    const other = OprfKey.derive(bytes(V.keys.other.seed), bytes(V.keys.other.info), { mode: OprfMode.VOPRF });
    const answer = withScalars([V.keys.other.proof_r], () => new VoprfServer(other).blindEvaluate(request().elements));
    const partition = V.answers.find((a) => a.expected === "BadProof" && a.public_key === V.keys.pinned.pkS);
    assert.deepEqual(hexes(answer.elements), partition.evaluated);
    assertBytes(answer.proof.toBytes(), partition.proof);
  });

  for (const c of V.answers) {
    test(`answer: ${c.what}`, () => {
      let outputs = [];
      const result = outcome(() => {
        const evaluation = new OprfEvaluation(
          c.evaluated.map((e) => new OprfElement(bytes(e))),
          new OprfProof(bytes(c.proof)),
        );
        outputs = new VoprfClient(new OprfPublicKey(bytes(c.public_key))).finalize(request(), evaluation);
      });
      assert.equal(result, c.expected);
      assert.deepEqual(hexes(outputs), c.outputs ?? []);
    });
  }
});
