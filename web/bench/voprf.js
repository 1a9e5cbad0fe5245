// The VOPRF's cost in the browser client's code (src/protocol/voprf.js on libsodium.js),
// next to the client's cost of sealing a normal warning: bench/voprf.py's measurements, in
// the same order and with the same in-round ratios (docs/benchmarks.md, "VOPRF").
//
//     cd web && node bench/voprf.js                # 9 rounds, batches of 1, 21 and 64
//     cd web && node bench/voprf.js 3 1            # rounds, batches
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";

import { ready, sodium } from "../src/protocol/sodium.js";
import { CircleKey } from "../src/protocol/circles.js";
import { utf8 } from "../src/protocol/encoding.js";
import { ENTRY, EnvelopeContext, seal, signingKeyFor } from "../src/protocol/entries.js";
import { IdentityKeys } from "../src/protocol/identity.js";
import { postingTokens } from "../src/protocol/names.js";
import { randomUuid } from "../src/protocol/random.js";
import { OprfKey, VoprfClient, VoprfServer } from "../src/protocol/voprf.js";

await ready();

const rounds = Number(process.argv[2] ?? 9);
const batches = (process.argv[3] ?? "1,21,64").split(",").map(Number);
const SECONDS = 0.3;

const BODY = {
  v: 1,
  subject: "Jan Novák",
  aliases: ["J. Novak", "Honza Novák"],
  categories: ["harassment"],
  severity: "high",
  text: "He followed me home after the conference dinner and would not leave. ".repeat(6),
  happened: "2026-03",
  attribution: { kind: "named" },
};

function perCall(fn) {
  fn();
  let calls = 0;
  const start = performance.now();
  while (calls < 5 || performance.now() - start < SECONDS * 1000) {
    fn();
    calls += 1;
  }
  return (performance.now() - start) / 1000 / calls;
}

const identity = IdentityKeys.generate();
const circleKey = CircleKey.generate();
const circleId = randomUuid();
const oprfKey = OprfKey.generate();
const client = new VoprfClient(oprfKey.publicKey);
const server = new VoprfServer(oprfKey);
const ops = {
  seal: () => {
    const context = new EnvelopeContext({ kind: ENTRY, circleId, epoch: 1, entryId: randomUuid() });
    seal(BODY, { key: circleKey, context, signingKey: signingKeyFor(identity, context, { anonymous: false }) });
    postingTokens(circleKey, [BODY.subject, ...BODY.aliases]);
  },
  evaluate: () => server.evaluate(utf8("a token nonce of 32 bytes.......")),
  scalarmult: () => sodium.crypto_scalarmult_ristretto255(oprfKey.toBytes(), oprfKey.publicKey.toBytes()),
};
for (const size of batches) {
  const inputs = Array.from({ length: size }, (_, i) => utf8(`normalised name ${i}`));
  const blinded = client.blind(inputs);
  const evaluation = server.blindEvaluate(blinded.elements);
  client.finalize(blinded, evaluation);
  ops[`blind/${size}`] = () => client.blind(inputs);
  ops[`blind_evaluate/${size}`] = () => server.blindEvaluate(blinded.elements);
  ops[`finalize/${size}`] = () => client.finalize(blinded, evaluation);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const times = Object.fromEntries(Object.keys(ops).map((name) => [name, []]));
const ratios = Object.fromEntries(batches.map((size) => [size, []]));
const inMults = Object.fromEntries(batches.map((size) => [size, []]));
const steps = (size) => ["blind", "blind_evaluate", "finalize"].map((step) => `${step}/${size}`);
for (let round = 0; round < rounds; round++) {
  const order = Object.keys(ops).sort(() => Math.random() - 0.5);
  const thisRound = {};
  for (const name of order) {
    thisRound[name] = perCall(ops[name]);
    times[name].push(thisRound[name]);
  }
  for (const size of batches) {
    const added = steps(size).reduce((total, name) => total + thisRound[name], 0);
    ratios[size].push(added / thisRound.seal);
    inMults[size].push(added / thisRound.scalarmult);
  }
}

const load = loadavg().map((x) => x.toFixed(2)).join(" ");
console.log(
  `web/bench/voprf.js: ${rounds} rounds x ${SECONDS} s per measurement; node ${process.version}, ` +
    `libsodium ${sodium.sodium_version_string()}; load ${load}`,
);
const header = ["median µs", "min µs", "max µs"].map((title) => title.padStart(10)).join(" ");
console.log(`${"measurement".padEnd(22)} ${header}`);
for (const [name, values] of Object.entries(times)) {
  const us = (x) => (x * 1e6).toFixed(0).padStart(10);
  console.log(`${name.padEnd(22)} ${us(median(values))} ${us(Math.min(...values))} ${us(Math.max(...values))}`);
}
for (const size of batches) {
  const added = steps(size).reduce((total, name) => total + median(times[name]), 0);
  console.log(
    `batch of ${size}: blind + blind_evaluate + finalize = ${(added * 1e3).toFixed(2)} ms = ` +
      `${median(ratios[size]).toFixed(2)}x the client's seal of a warning ` +
      `(${(median(times.seal) * 1e3).toFixed(2)} ms), ` +
      `per-round ${Math.min(...ratios[size]).toFixed(2)}-${Math.max(...ratios[size]).toFixed(2)} = ` +
      `${median(inMults[size]).toFixed(1)} scalar multiplications ` +
      `(per-round ${Math.min(...inMults[size]).toFixed(1)}-${Math.max(...inMults[size]).toFixed(1)})`,
  );
}
