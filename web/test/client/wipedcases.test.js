// A decided takedown request wiped by the server's retention pass (client/cases.js
// checkedHash): its decisions chain to the stored hash; any other empty case is refused.
import assert from "node:assert/strict";
import { test } from "node:test";

import { checkedHash } from "../../src/client/cases.js";
import { b64 } from "../../src/protocol/encoding.js";
import { caseHash } from "../../src/protocol/reports.js";
import { randomBytes } from "../../src/protocol/random.js";
import { ready } from "../../src/protocol/sodium.js";
import { refused } from "../../test-support/world.js";

await ready();

const sealed = randomBytes(120);
const whole = { case_id: "c1", kind: "takedown", status: "dismissed", case_hash: b64(caseHash(sealed)), decisions: [{}] };
const check = async (row, ciphertext) => checkedHash(row, ciphertext);

test("a decided takedown's wiped request chains to the hash stored with it", async () => {
  assert.deepEqual(checkedHash(whole, new Uint8Array(0)), caseHash(sealed));
  assert.deepEqual(checkedHash(whole, sealed), caseHash(sealed));
});

test("an open or undecided request, a report, or other bytes are refused as changed", async () => {
  const empty = new Uint8Array(0);
  await refused(check({ ...whole, status: "open" }, empty), "case_changed");
  await refused(check({ ...whole, status: "hidden" }, empty), "case_changed");
  await refused(check({ ...whole, decisions: [] }, empty), "case_changed");
  await refused(check({ ...whole, kind: "report" }, empty), "case_changed");
  await refused(check(whole, randomBytes(120)), "case_changed");
});
