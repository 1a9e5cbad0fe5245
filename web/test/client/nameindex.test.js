// The index a check uses to find candidate names (src/client/namecheck.js) gives the answers
// of comparing every name, and stays so while changes are applied to it, as
// tests/names/test_name_index.py proves for the Python client.
import assert from "node:assert/strict";
import { test } from "node:test";

import { loadVectors } from "../../test-support/helpers.js";
import { matchLevel, nameForms } from "../../src/protocol/matching.js";
import { NameIndex } from "../../src/client/namecheck.js";

const CORPUS = loadVectors("name-matches-v1.json");

function held(entryId, names, status = "live") {
  const subject = status === "live" ? names[0] : null;
  return {
    data: { entryId, seq: 1, status, subject, aliases: names.slice(1), expiresAt: "9999-01-01T00:00:00Z" },
    forms: status === "live" ? names.map((n) => nameForms(n)) : [],
  };
}

function everyName(warnings, query) {
  const asked = nameForms(query);
  return new Set(
    warnings
      .filter((w) => w.data.status === "live" && w.forms.some((f) => matchLevel(asked, f) !== null))
      .map((w) => w.data.entryId),
  );
}

function matched(index, query) {
  const asked = nameForms(query);
  const out = new Set();
  for (const { held: w, names } of index.candidates(asked).values()) {
    if (names.some((i) => matchLevel(asked, w.forms[i]) !== null)) {
      out.add(w.data.entryId);
    }
  }
  return out;
}

test("the index finds every name a full comparison finds", () => {
  const names = [...new Set([...CORPUS.pairs.flatMap((p) => p.names), "J. N.", "Novák Jan Jr"])].sort();
  const warnings = names.map((n, i) => held(String(i), [n]));
  const index = new NameIndex(warnings);
  let found = 0;
  for (const query of new Set([...CORPUS.pairs.map((p) => p.query), ...names])) {
    const every = everyName(warnings, query);
    assert.deepEqual(matched(index, query), every, query);
    found += every.size;
  }
  assert.ok(found > names.length); // the comparison is not vacuous
});

test("a common word does not make every name a candidate", () => {
  const warnings = Array.from({ length: 2000 }, (_, i) => held(String(i), [`Soak Person ${String(i).padStart(5, "0")}`]));
  const index = new NameIndex(warnings);
  const candidates = index.candidates(nameForms("Soak Person 00042"));
  assert.ok(candidates.has("42") && candidates.size < 10);
  assert.equal(matched(index, "Soak").size, 2000); // a partial: every one
});

test("an index carried through changes answers as comparing every name", () => {
  let seed = 14;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const pick = (list) => list[Math.floor(random() * list.length)];
  const vocabulary = ["jan", "J.", "Novák", "Nowak", "Müller", "Mueller", "anna", "A.", "soak", "p", "x"];
  vocabulary.push("Katherine", "Catherine", "Новак", "Lee", "Li", "de", "la", "Cruz");
  const name = () => Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(vocabulary)).join(" ");
  const current = new Map();
  const index = new NameIndex();
  for (let step = 0; step < 600; step += 1) {
    const entryId = String(Math.floor(random() * 120));
    const old = current.get(entryId) ?? null;
    let fresh;
    if (old !== null && old.data.status === "live" && random() < 0.4) {
      fresh = held(entryId, [], pick(["retracted", "hidden", "removed", "expired"]));
    } else {
      fresh = held(entryId, Array.from({ length: 1 + Math.floor(random() * 3) }, name));
    }
    index.update(old, fresh);
    current.set(entryId, fresh);
    if (step % 20 === 0) {
      for (let q = 0; q < 15; q += 1) {
        const query = name();
        assert.deepEqual(matched(index, query), everyName([...current.values()], query), query);
      }
    }
  }
  const live = [...current.values()].filter((w) => w.data.status === "live").length;
  assert.equal(index.liveCount(Date.parse("2026-01-01T00:00:00Z")), live);
});
