// src/protocol/index.js is the page's one import: it must carry every module's public names.
// (`export *` silently drops a name two modules export, so a clash would go unnoticed.)
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";

import * as protocol from "../src/protocol/index.js";

const INTERNAL = [
  "index.js",
  "labels.js",
  "random.js",
  "hash.js",
  "sodium.js",
  "text.js",
  "unicode14.js",
  "ristretto.js",
];

test("index.js re-exports every public name of the protocol modules, none of them ambiguous", async () => {
  const modules = readdirSync(new URL("../src/protocol/", import.meta.url)).filter((name) => !INTERNAL.includes(name));
  const seen = new Map();
  for (const name of modules) {
    for (const key of Object.keys(await import(`../src/protocol/${name}`))) {
      assert.ok(!seen.has(key), `${key} is exported by both ${seen.get(key)} and ${name}`);
      seen.set(key, name);
      assert.ok(key in protocol, `index.js does not export ${key} of ${name}`);
    }
  }
  for (const key of ["ready", "labels", "randomBytes", "randomUuid", "sha256", "verifySignature"]) {
    assert.ok(key in protocol, key);
  }
});
