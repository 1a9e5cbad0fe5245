// docs/vectors/name-matches-v1.json: the same answers as the reference (tests/names).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { assertThrowsNamed, loadVectors } from "../../test-support/helpers.js";
import { LEVELS, matchLevel, nameForms, nameRules } from "../../src/protocol/matching.js";
import { exactKeys } from "../../src/protocol/names.js";

const V = loadVectors("name-matches-v1.json");

function bestLevel(query, names) {
  const asked = nameForms(query);
  const found = names.map((n) => matchLevel(asked, nameForms(n))).filter(Boolean);
  return found.sort((a, b) => LEVELS.indexOf(a) - LEVELS.indexOf(b))[0] ?? "none";
}

test("the corpus is made for name-rules-v1.json and lists the levels in order", () => {
  assert.equal(V.rules, "name-rules-v1.json");
  assert.deepEqual(V.levels, LEVELS);
});

describe("name-matches-v1.json pairs", () => {
  test("at least 100 pairs, every level", () => {
    assert.ok(V.pairs.length >= 100);
    assert.deepEqual(new Set(V.pairs.map((p) => p.level)), new Set([...LEVELS, "none"]));
  });
  for (const pair of V.pairs) {
    test(`${pair.query} | ${pair.names.join(" / ")}: ${pair.level}`, () => {
      assert.equal(bestLevel(pair.query, pair.names), pair.level, pair.note);
      if (pair.names.length === 1) {
        assert.equal(bestLevel(pair.names[0], [pair.query]), pair.level, "symmetric");
      }
    });
  }
});

describe("name-matches-v1.json sounds and forms", () => {
  for (const c of V.sounds) {
    test(`sound of ${c.word}`, () => assert.equal(nameRules().sound(c.word), c.sound));
  }
  for (const c of V.forms) {
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
