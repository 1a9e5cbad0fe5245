// Every file in docs/vectors has a suite in test/vectors/, and every top-level key of every
// file is checked there. A new file or key fails this test until a check is written
// (or the key is listed in web/README.md as not checkable in JavaScript).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { describe, test } from "node:test";

import { VECTORS_DIR, loadVectors } from "../test-support/helpers.js";

const METADATA = ["protocol", "layer", "version", "generator", "encoding"];

// file -> [suite in test/vectors/, the keys it checks]
const SUITES = {
  "v1.json": [
    "accounts.test.js",
    [
      "labels",
      "passphrase_normalisation",
      "account_keys",
      "kdf_bounds",
      "identity",
      "fingerprint_parse",
      "usernames",
      "recovery_code",
      "recovery_code_parse",
      "key_bundles",
      "register_request",
    ],
  ],
  "circles-v1.json": [
    "circles.test.js",
    [
      "labels",
      "retired_labels",
      "identities",
      "circle",
      "epoch_keys",
      "records",
      "record_parse",
      "chain",
      "wraps",
      "wrap_open",
      "previous_key_box",
      "circle_meta",
      "invite",
      "leave",
      "events",
      "requests",
    ],
  ],
  "entries-v1.json": [
    "entries.test.js",
    [
      "unicode_version",
      "labels",
      "retired_labels",
      "constants",
      "identities",
      "circle",
      "padding",
      "entries",
      "corroborations",
      "anonymous_keys",
      "open_entry",
      "open_corroboration",
      "retractions",
      "retraction_cases",
      "names",
      "author_tags",
      "terms",
      "terms_cases",
    ],
  ],
  "name-rules-v1.json": ["name-rules.test.js", ["unicode_version", "sources", "transliteration", "sounds"]],
  "name-matches-v1.json": ["name-matches.test.js", ["rules", "levels", "pairs", "sounds", "forms"]],
  "moderation-v1.json": [
    "moderation.test.js",
    [
      "labels",
      "constants",
      "circle",
      "moderation_keys",
      "record_parse",
      "successor",
      "matches",
      "wraps",
      "wrap_open",
      "previous_box",
      "key_requests",
      "report",
      "report_open",
      "takedown",
      "decisions",
      "decision_parse",
      "audit",
    ],
  ],
  "sealed-v1.json": [
    "sealed.test.js",
    [
      "circle_id",
      "epoch0_key",
      "filings",
      "interpolation",
      "share_checks",
      "labels",
      "match",
      "moderation_public",
      "moderation_secret",
      "names",
      "oprf_public_key",
      "oprf_seed",
      "seal_secret",
      "settings",
      "users",
      "values",
    ],
  ],
  "release-v1.json": [
    "release.test.js",
    ["labels", "keys", "assets", "rotation_a_to_b", "releases", "cases", "refusals"],
  ],
  "anon-v1.json": [
    "anon.test.js",
    [
      "author_cases",
      "circle_id",
      "issuance_keys",
      "issuance_record",
      "labels",
      "sealed_author",
      "token_refuse",
      "tokens",
    ],
  ],
  "voprf-v1.json": [
    "voprf.test.js",
    ["labels", "context_strings", "constants", "element_decode", "scalar_decode", "keys", "request", "answers"],
  ],
};

test("docs/vectors holds exactly the files that have a suite", () => {
  const files = readdirSync(VECTORS_DIR)
    .filter((name) => name.endsWith(".json"))
    .sort();
  assert.deepEqual(files, Object.keys(SUITES).sort());
  const suites = readdirSync(new URL("./vectors/", import.meta.url)).sort();
  assert.deepEqual(
    suites,
    Object.values(SUITES)
      .map(([suite]) => suite)
      .sort(),
  );
});

for (const [file, [suite, keys]] of Object.entries(SUITES)) {
  describe(file, () => {
    const vectors = loadVectors(file);

    test("is ASCII-only version 1 of the Backchannel protocol", () => {
      const raw = readFileSync(new URL(file, VECTORS_DIR));
      assert.ok(
        raw.every((byte) => byte < 0x80),
        "non-ASCII byte in the file",
      );
      assert.equal(vectors.protocol, "backchannel");
      assert.equal(vectors.version, 1);
    });

    test(`every key is checked by test/vectors/${suite}`, () => {
      const unchecked = Object.keys(vectors).filter((key) => !METADATA.includes(key) && !keys.includes(key));
      assert.deepEqual(unchecked, []);
      const source = readFileSync(new URL(`./vectors/${suite}`, import.meta.url), "utf8");
      for (const key of keys) {
        assert.ok(source.includes(`V.${key}`) || source.includes(`"${key}"`), `${suite} never reads ${key}`);
      }
    });
  });
}
