// The client's checks of §24: a row's signed terms (expiry) and the author-signed entry
// records of the audit log (retractions, expiries), on the vectors of entries-v1.json.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { bytes, loadVectors } from "../../test-support/helpers.js";
import { checkEntryRecord } from "../../src/client/auditentries.js";
import { checkTerms, unixSeconds } from "../../src/client/terms.js";
import { b64, uuidHex } from "../../src/protocol/encoding.js";

const V = loadVectors("entries-v1.json");
const [NAMED, ANONYMOUS] = V.terms;

const iso = (seconds) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");

function row(terms, changes = {}) {
  return {
    entry_id: terms.entry_id,
    author_key: b64(bytes(terms.author_key)),
    author_tag: b64(bytes(terms.author_tag)),
    terms_signature: b64(bytes(terms.signature)),
    expires_at: iso(terms.expires_at),
    ...changes,
  };
}

function codeOf(fn) {
  try {
    fn();
  } catch (error) {
    return error.code;
  }
  return null;
}

describe("a row's signed terms (§24.2)", () => {
  test("the signed expiry passes, for a named and an anonymous warning", () => {
    checkTerms(NAMED.circle_id, row(NAMED));
    checkTerms(ANONYMOUS.circle_id, row(ANONYMOUS));
    assert.equal(unixSeconds("2027-01-01T00:00:00Z"), NAMED.expires_at);
  });
  test("a row from before terms existed carries none and passes", () => {
    checkTerms(NAMED.circle_id, row(NAMED, { author_tag: null, terms_signature: null }));
  });
  const bad = {
    "an expiry moved a day earlier": { expires_at: iso(NAMED.expires_at - 86400) },
    "a fractional second": { expires_at: "2027-01-01T00:00:00.5Z" },
    "a time with no zone": { expires_at: "2027-01-01T00:00:00" },
    "the signature stripped": { terms_signature: null },
    "the tag stripped": { author_tag: null },
    "the other warning's tag": { author_tag: b64(bytes(ANONYMOUS.author_tag)) },
    "another author key": { author_key: b64(bytes(ANONYMOUS.author_key)) },
  };
  for (const [name, changes] of Object.entries(bad)) {
    test(name, () => {
      assert.equal(codeOf(() => checkTerms(NAMED.circle_id, row(NAMED, changes))), "bad_terms");
    });
  }
});

describe("author-signed records of the audit log (§33.6 step 9)", () => {
  const [namedRetraction, anonymousRetraction] = V.retractions;
  const identity = bytes(namedRetraction.author_key);
  const namedKey = async () => identity;

  function retracted(c, actor, changes = {}) {
    return {
      kind: "entry_retracted",
      actor,
      at: "2026-12-05T12:00:00.000000Z",
      details: { entry_id: uuidHex(c.entry_id), author_key: b64(bytes(c.author_key)), signature: b64(bytes(c.signature)), ...changes },
    };
  }

  function expired(terms, at, changes = {}) {
    return {
      kind: "entry_expired",
      actor: "",
      at,
      details: {
        entry_id: uuidHex(terms.entry_id),
        expires_at: terms.expires_at,
        author_key: b64(bytes(terms.author_key)),
        author_tag: b64(bytes(terms.author_tag)),
        terms_signature: b64(bytes(terms.signature)),
        ...changes,
      },
    };
  }

  async function code(body, circleId = V.circle.circle_id) {
    try {
      return await checkEntryRecord(circleId, 7, body, namedKey);
    } catch (error) {
      return error.code;
    }
  }

  test("signed retractions and an expiry on time count as signed", async () => {
    assert.equal(await code(retracted(namedRetraction, "alice")), 1);
    assert.equal(await code(retracted(anonymousRetraction, "")), 1);
    assert.equal(await code(expired(NAMED, "2027-01-01T00:00:00.000000Z")), 1);
    assert.equal(await code(expired(ANONYMOUS, "2028-01-02T03:00:00.000000Z")), 1);
  });
  test("records from before the signatures are not counted", async () => {
    const old = { kind: "entry_retracted", actor: "", at: "2026-01-01T00:00:00Z", details: { entry_id: "ab".repeat(16) } };
    assert.equal(await code(old), 0);
    assert.equal(await code({ ...old, kind: "entry_expired" }), 0);
  });
  test("a retraction the author never signed", async () => {
    assert.equal(await code(retracted(namedRetraction, "alice", { signature: b64(new Uint8Array(64)) })), "bad_signature");
    assert.equal(await code(retracted(namedRetraction, "alice"), V.terms_cases[0].circle_id.replace(/^8/, "9")), "bad_signature");
  });
  test("a named retraction signed by a key that is not the actor's", async () => {
    const other = async () => bytes(ANONYMOUS.author_key);
    await assert.rejects(checkEntryRecord(V.circle.circle_id, 7, retracted(namedRetraction, "alice"), other), (error) => error.code === "bad_signature");
  });
  test("an expiry recorded before the signed time", async () => {
    assert.equal(await code(expired(NAMED, "2026-12-31T23:59:59.000000Z")), "early_expiry");
  });
  test("an expiry whose terms were changed", async () => {
    assert.equal(await code(expired(NAMED, "2027-02-01T00:00:00Z", { expires_at: NAMED.expires_at - 86400 })), "bad_signature");
    assert.equal(await code(expired(NAMED, "2027-02-01T00:00:00Z", { expires_at: String(NAMED.expires_at) })), "bad_signature");
  });
});
