// docs/vectors/name-rules-v1.json: the data of §25.3, and namerules.js, its generated copy.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assertThrowsNamed, loadVectors } from "../../test-support/helpers.js";
import { NameRules, nameRules } from "../../src/protocol/matching.js";
import { NAME_RULES } from "../../src/protocol/namerules.js";
import { normaliseName } from "../../src/protocol/names.js";

const V = loadVectors("name-rules-v1.json");

test("namerules.js is the file, value for value (regenerate with web/tools/make_name_rules.py)", () => {
  assert.deepEqual(NAME_RULES, V);
  assert.equal(V.unicode_version, "14.0.0");
  assert.match(V.sources.transliteration, /AnyAscii 0\.3\.3 \(ISC licence\)/);
});

test("every transliterated letter survives normalisation, as the table assumes", () => {
  for (const letter of Object.keys(V.transliteration)) {
    assert.equal(normaliseName(letter), letter, letter.codePointAt(0).toString(16));
  }
});

test("the sound rules give the documented examples", () => {
  const rules = nameRules();
  assert.ok(V.sounds.rewrites.length > 0);
  assert.equal(rules.sound("nowak"), rules.sound("novak"));
  assert.equal(rules.sound("mueller"), rules.sound("muller"));
});

test("malformed rules are refused", () => {
  for (const edit of [
    (r) => (r.version = 2),
    (r) => (r.transliteration.ab = "x"),
    (r) => (r.transliteration["\u0416"] = "Zh"),
    (r) => r.sounds.rewrites.push(["^", "y"]),
    (r) => r.sounds.rewrites.push(["$x", "y"]),
    (r) => (r.sounds.initial_vowel_becomes = "ab"),
    (r) => (r.sounds.collapse_repeats = 1),
    (r) => (r.sounds.min_partial_length = 0),
    (r) => delete r.sounds.dropped_after_first,
  ]) {
    const broken = structuredClone(V);
    edit(broken);
    assertThrowsNamed(() => new NameRules(broken), "InvalidKey");
  }
});
