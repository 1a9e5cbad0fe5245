// §25.1 over every Unicode scalar value, against the reference. web/tools/make_unicode14.py
// runs app.crypto.names.normalise_name (Python 3.11, Unicode 14.0.0) on "a" + chr(cp) + "b"
// for every scalar value and prints the SHA-256 of the results joined by "\n"; this test
// computes the same digest with normaliseName, so any code point on which the browser
// client and the reference disagree fails it (with the engine's own Unicode data).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import "../test-support/helpers.js";
import { normaliseName } from "../src/protocol/names.js";

const REFERENCE_DIGEST = "4d26bec826b942652911e1f4095d9e5c4d09db74c3bcde49e46699d301ee0c9c";

test("normaliseName equals the reference's normalise_name on every code point between two letters", () => {
  const digest = createHash("sha256");
  const encoder = new TextEncoder();
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) {
      continue;
    }
    digest.update(encoder.encode(`${normaliseName(`a${String.fromCodePoint(cp)}b`)}\n`));
  }
  assert.equal(digest.digest("hex"), REFERENCE_DIGEST);
});
