// The page's copy of a circle's warnings (§26.9) and checking a name over it (§25.3), against
// the stand-in server: every change since the cursor reaches the copy, wiped text leaves it,
// a key rotation between syncs is followed, a rollback or reordered page is refused.
import assert from "node:assert/strict";
import { test } from "node:test";

import { FakeServer, refused } from "../../test-support/world.js";
import { CircleKey } from "../../src/protocol/circles.js";
import { ENTRY, EnvelopeContext, seal, signingKeyFor } from "../../src/protocol/entries.js";
import { IdentityKeys } from "../../src/protocol/identity.js";
import { randomUuid } from "../../src/protocol/random.js";
import { VerifiedCircle } from "../../src/client/circles.js";
import { Entries } from "../../src/client/entries.js";
import { Client } from "../../src/client/sdk.js";

const AT = "2025-01-01T00:00:00.000000Z";
const LATER = "2999-01-01T00:00:00.000000Z";

/** A circle of anonymous warnings served by change number, and bob's Entries over it. */
function makeCircle() {
  const server = new FakeServer();
  const circleId = randomUuid();
  const author = IdentityKeys.generate();
  const keys = [CircleKey.generate(), CircleKey.generate()];
  const state = { rows: new Map(), change: 0, epoch: 0, lastChange: null };
  let syncs = 0;
  const circleAt = (epoch) =>
    new VerifiedCircle({
      circleId,
      record: { epoch },
      keys: new Map(keys.slice(0, epoch + 1).map((k, i) => [i, k])),
      meta: null,
      role: "member",
      adminsSince: 0,
    });
  const circles = {
    client: new Client({ fetch: server.fetch, token: "bob's token" }),
    identity: IdentityKeys.generate(),
    sync: async () => {
      syncs += 1;
      return circleAt(state.epoch);
    },
    members: async () => [],
  };
  server.route("GET", `/v1/circles/${circleId}/entries`, (query) => {
    const after = Number(query.get("changed_after"));
    const entries = [...state.rows.values()].filter((r) => r.change_seq > after).sort((a, b) => a.change_seq - b.change_seq);
    return { entries, next_before: null, last_seq: state.rows.size, last_change_seq: state.lastChange ?? state.change };
  });
  const world = {
    server,
    circleId,
    state,
    syncs: () => syncs,
    entries: new Entries(circles),
    post(subject, { epoch = state.epoch } = {}) {
      const entryId = randomUuid();
      const context = new EnvelopeContext({ kind: ENTRY, circleId, epoch, entryId });
      const body = {
        v: 1, subject, aliases: [], categories: ["other"], severity: null, affiliation: null,
        happened: null, contact: null, text: `text about ${subject}`, attribution: "anonymous",
      };
      const envelope = seal(body, { key: keys[epoch], context, signingKey: signingKeyFor(author, context, { anonymous: true }) });
      state.change += 1;
      const seq = state.rows.size + 1;
      state.rows.set(entryId, {
        entry_id: entryId, seq, epoch, status: "live", anonymous: true, author: null, ...envelope.toJson(),
        corroborations: 0, created_at: AT, expires_at: LATER, change_seq: state.change,
      });
      return entryId;
    },
    change(entryId, edit) {
      state.change += 1;
      const row = state.rows.get(entryId);
      edit(row);
      row.change_seq = state.change;
    },
  };
  return world;
}

function wipe(status) {
  return (row) => Object.assign(row, { status, nonce: null, ciphertext: null, signature: null });
}

test("every kind of change since the cursor reaches the copy, and only the changes are fetched", async () => {
  const w = makeCircle();
  const ids = ["Retracted One", "Hidden One", "Corroborated One", "Kept One"].map((s) => w.post(s));
  const first = await w.entries.sync(w.circleId);
  assert.equal(first.warnings.size, 4);
  let fetched = 0;
  w.server.on("GET", `/v1/circles/${w.circleId}/entries`, (body) => {
    fetched += body.entries.length;
  });
  w.change(ids[0], wipe("retracted"));
  w.change(ids[1], wipe("hidden"));
  w.change(ids[2], (row) => (row.corroborations = 1));
  const copy = await w.entries.sync(w.circleId);
  assert.equal(fetched, 3);
  assert.equal(copy.warnings.get(ids[0]).data.status, "retracted");
  assert.equal(copy.warnings.get(ids[0]).data.text, null);
  assert.equal(copy.warnings.get(ids[1]).data.subject, null);
  assert.equal(copy.warnings.get(ids[2]).data.corroborations, 1);
  assert.equal(copy.changeSeq, w.state.change);
  const held = JSON.stringify([...copy.warnings.values()].map((h) => h.data));
  assert.ok(!held.includes("Retracted One") && !held.includes("Hidden One"));
  const result = await w.entries.check(w.circleId, "One");
  assert.equal(result.searched, 2);
  assert.deepEqual(result.matches.map((m) => m.matchedName).sort(), ["Corroborated One", "Kept One"]);
  assert.deepEqual(new Set(result.matches.map((m) => m.level)), new Set(["partial"]));
  await w.entries.sync(w.circleId);
  assert.equal(fetched, 3); // nothing new: nothing fetched
});

test("a check reports each match with its level, exact first", async () => {
  const w = makeCircle();
  const possible = w.post("Jan Nowak");
  const exact = w.post("Novák, Jan");
  const partial = w.post("Novák");
  w.post("Petr Svoboda");
  const result = await w.entries.check(w.circleId, "Jan Novák");
  assert.deepEqual(
    result.matches.map((m) => [m.warning.entryId, m.level]),
    [[exact, "exact"], [partial, "partial"], [possible, "possible"]],
  );
  assert.deepEqual(result.counts, { exact: 1, partial: 1, possible: 1 });
  assert.deepEqual(result.words, ["jan", "novak"]);
  assert.equal(result.searched, 4);
  await refused(w.entries.check(w.circleId, "!!!"), "bad_name");
});

test("a warning sealed under a key rotated in since the circle was synced is read after fetching the key", async () => {
  const w = makeCircle();
  w.post("Before Rotation");
  await w.entries.sync(w.circleId);
  const syncsBefore = w.syncs();
  w.server.on("GET", `/v1/circles/${w.circleId}/entries`, (body) => {
    if (w.state.epoch === 0) {
      // The rotation lands after the page's circle sync: the page brings an epoch it lacks.
      w.state.epoch = 1;
      body.entries.push(w.state.rows.get(w.post("After Rotation", { epoch: 1 })));
      body.last_change_seq = w.state.change;
    }
  });
  const copy = await w.entries.sync(w.circleId);
  assert.deepEqual([...copy.warnings.values()].map((h) => h.data.subject).sort(), ["After Rotation", "Before Rotation"]);
  assert.equal(w.syncs(), syncsBefore + 2); // the sync's own, and one for the missing key
});

test("a server that rolls its changes back or reorders them is refused, and the copy is kept", async () => {
  const w = makeCircle();
  const ids = ["A One", "B Two", "C Three"].map((s) => w.post(s));
  const held = await w.entries.sync(w.circleId);
  w.change(ids[0], (row) => (row.corroborations = 2));
  w.change(ids[1], (row) => (row.corroborations = 2));
  const stop = w.server.on("GET", `/v1/circles/${w.circleId}/entries`, (body) => {
    body.entries.reverse();
  });
  await refused(w.entries.sync(w.circleId), "bad_page");
  stop();
  w.state.lastChange = 1;
  await refused(w.entries.sync(w.circleId), "rollback");
  assert.equal(w.entries.cache.load(w.circleId), held);
  assert.equal(held.warnings.get(ids[0]).data.corroborations, 0);
});

test("a full read from the copy equals a fresh one after every kind of change, fetching only the changes", async () => {
  const w = makeCircle();
  const ids = ["Retracted Two", "Hidden Two", "Corroborated Two", "Kept Two", "Fifth Two"].map((s) => w.post(s));
  let fetched = 0;
  w.server.on("GET", `/v1/circles/${w.circleId}/entries`, (body) => {
    fetched += body.entries.length;
  });
  const fresh = async () => new Entries(w.entries.circles).readAll(w.circleId);
  const first = await w.entries.readAll(w.circleId);
  assert.equal(fetched, 5);
  assert.deepEqual(first.map((e) => e.entryId), ids);
  fetched = 0;
  w.change(ids[0], wipe("retracted"));
  w.change(ids[1], wipe("hidden"));
  w.change(ids[2], (row) => (row.corroborations = 2));
  w.state.epoch = 1; // a rotation: the next warnings are sealed under a key the copy lacks
  const after = [w.post("Rotated A", { epoch: 1 }), w.post("Rotated B", { epoch: 1 })];
  const read = await w.entries.readAll(w.circleId);
  assert.equal(fetched, 5); // three changes and two new warnings, nothing else
  fetched = 0;
  assert.deepEqual(read, await fresh());
  assert.deepEqual(read.map((e) => e.entryId), [...ids, ...after]);
  assert.deepEqual(read.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(read[0].status, "retracted");
  assert.equal(read[0].text ?? null, null);
  assert.equal(read[1].subject ?? null, null);
  assert.equal(read[2].corroborations, 2);
  assert.ok(!JSON.stringify(read).includes("Retracted Two") && !JSON.stringify(read).includes("Hidden Two"));
  fetched = 0;
  assert.deepEqual(await w.entries.readAll(w.circleId), read);
  assert.equal(fetched, 0); // nothing new: nothing fetched
});
