// docs/vectors/name-matches-v1.json: the same answers as the reference (tests/names), over
// the rules of docs/vectors/name-rules-v1.json, whose generated copy namerules.js must be.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { assertThrowsNamed, loadVectors } from "../test-support/helpers.js";
import { LEVELS, NameRules, matchLevel, nameForms, nameRules } from "../src/protocol/matching.js";
import { NAME_RULES } from "../src/protocol/namerules.js";
import { exactKeys } from "../src/protocol/names.js";

const CORPUS = loadVectors("name-matches-v1.json");
const RULES_JSON = JSON.parse(readFileSync(new URL("../../docs/vectors/name-rules-v1.json", import.meta.url)));

function bestLevel(query, names) {
  const asked = nameForms(query);
  const found = names.map((n) => matchLevel(asked, nameForms(n))).filter(Boolean);
  return found.sort((a, b) => LEVELS.indexOf(a) - LEVELS.indexOf(b))[0] ?? "none";
}

describe("name-rules-v1.json", () => {
  test("namerules.js is the file, value for value (regenerate with web/tools/make_name_rules.py)", () => {
    assert.deepEqual(NAME_RULES, RULES_JSON);
  });
  test("malformed rules are refused", () => {
    for (const edit of [
      (r) => (r.version = 2),
      (r) => (r.transliteration.ab = "x"),
      (r) => (r.transliteration["\u0416"] = "Zh"),
      (r) => r.sounds.rewrites.push(["^", "y"]),
      (r) => (r.sounds.collapse_repeats = 1),
      (r) => (r.sounds.min_partial_length = 0),
    ]) {
      const broken = structuredClone(RULES_JSON);
      edit(broken);
      assertThrowsNamed(() => new NameRules(broken), "InvalidKey");
    }
  });
});

describe("name-matches-v1.json pairs", () => {
  test("at least 100 pairs, every level", () => {
    assert.ok(CORPUS.pairs.length >= 100);
    assert.deepEqual(new Set(CORPUS.pairs.map((p) => p.level)), new Set([...LEVELS, "none"]));
  });
  for (const pair of CORPUS.pairs) {
    test(`${pair.query} | ${pair.names.join(" / ")}: ${pair.level}`, () => {
      assert.equal(bestLevel(pair.query, pair.names), pair.level, pair.note);
      if (pair.names.length === 1) {
        assert.equal(bestLevel(pair.names[0], [pair.query]), pair.level, "symmetric");
      }
    });
  }
});

describe("name-matches-v1.json sounds and forms", () => {
  for (const c of CORPUS.sounds) {
    test(`sound of ${c.word}`, () => assert.equal(nameRules().sound(c.word), c.sound));
  }
  for (const c of CORPUS.forms) {
    test(`forms of ${c.name}`, () => {
      if (c.error) {
        assertThrowsNamed(() => nameForms(c.name), c.error);
        return;
      }
      const forms = nameForms(c.name);
      assert.deepEqual([...forms.words], c.words);
      assert.deepEqual([...forms.sounds], c.sounds);
      assert.equal(forms.joinedSound, c.joined_sound);
      assert.deepEqual([...exactKeys(c.name)].sort(), c.exact_keys);
    });
  }
});
