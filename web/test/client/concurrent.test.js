// The circle changes honestly while the browser client works (issue 14; the SDK's twin is
// tests/client/test_concurrent_changes.py). Against the real Python server (web/e2e/server.js:
// a temporary SQLite database): bob's fetch, on the n-th request matching a method and a
// path, first lets alice make her honest change (a confirm, a rotation, an admin change with
// a renewed moderation key), or breaks the connection. Nothing of ours is stood in for.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { BIN, startServer } from "../../e2e/server.js";
import { Audit, AuditPins } from "../../src/client/audit.js";
import { Circles } from "../../src/client/circles.js";
import { Entries } from "../../src/client/entries.js";
import { Moderation } from "../../src/client/moderation.js";
import { fileTakedown, parseTakedownLink } from "../../src/client/takedown.js";
import { Client } from "../../src/client/sdk.js";
import { TrustStore } from "../../src/client/trust.js";
import { b64 } from "../../src/protocol/encoding.js";
import { KeyRecord } from "../../src/protocol/records.js";
import { ready } from "../../src/protocol/sodium.js";

await ready();

const haveServer = existsSync(path.join(BIN, "backchannel-server"));
const PASSPHRASES = {
  alice: "correct horse battery amber",
  bob: "staple paperclip river bend",
  carol: "lantern orchard frost meadow",
  dave: "quartz-vellum 7731 kite",
};

/** Someone's SDK over `fetch`; `windows` are bob's: [method, path suffix, nth, action]. */
function device(server, account, fetchImpl = globalThis.fetch.bind(globalThis)) {
  const client = new Client({ baseUrl: server.url, token: account.token, fetch: fetchImpl });
  const circles = new Circles(client, { username: account.username, identity: account.identity, trust: TrustStore.inMemory() });
  const entries = new Entries(circles);
  const moderation = new Moderation(circles, entries);
  return { client, circles, entries, moderation, audit: new Audit(circles, moderation, new AuditPins()) };
}

/** bob's device, whose fetch runs `window` actions first; `sent` lists what he sent. */
function watched(server, account) {
  const windows = [];
  const sent = [];
  const fetchImpl = async (url, init) => {
    const { pathname } = new URL(url);
    const body = init.body === undefined ? null : JSON.parse(init.body);
    sent.push({ method: init.method, path: pathname, body, query: new URL(url).searchParams });
    const due = [];
    for (const w of windows) {
      if (w.method === init.method && pathname.endsWith(w.path)) {
        w.seen += 1;
        if (w.seen === w.nth) {
          due.push(w.action);
        }
      }
    }
    for (const action of due) {
      const answer = await action(url, init);
      if (answer !== undefined) {
        return answer;
      }
    }
    return fetch(url, init);
  };
  const bob = device(server, account, fetchImpl);
  bob.at = (method, suffix, action, nth = 1) => windows.push({ method, path: suffix, action, nth, seen: 0 });
  bob.sent = sent;
  bob.posts = (suffix) => sent.filter((s) => s.method === "POST" && s.path.endsWith(suffix)).map((s) => s.body);
  return bob;
}

/** The real answer first, then the honest change: it lands right after bob's tree head. */
const afterAnswer = (change) => async (url, init) => {
  const answer = await fetch(url, init);
  await change();
  return answer;
};

const broken = () => {
  throw new TypeError("fetch failed"); // what fetch throws when the connection breaks
};

describe("the circle changes while the client works (real server)", { skip: !haveServer && "no .venv: make install" }, () => {
  let server;
  const accounts = {};

  before(async () => {
    server = await startServer();
    for (const [name, passphrase] of Object.entries(PASSPHRASES)) {
      accounts[name] = await new Client({ baseUrl: server.url }).register(name, passphrase);
    }
  });

  after(async () => {
    await server?.stop();
  });

  /** A new circle: alice owns it, carol is an admin, bob a member, dave waits for confirmation. */
  async function circle({ moderation = false } = {}) {
    const alice = device(server, accounts.alice);
    const { circleId } = await alice.circles.create("Film crews", "warnings");
    for (const [name, role] of [["bob", "member"], ["carol", "admin"], ["dave", "member"]]) {
      const { invite } = await alice.circles.createInvite(circleId, { role });
      await device(server, accounts[name]).circles.join(invite.toString());
      if (name !== "dave") {
        await alice.circles.confirm(circleId, name, { compared: true });
      }
    }
    if (moderation) {
      await alice.moderation.ensureKey(circleId);
    }
    return { alice, circleId, bob: watched(server, accounts.bob) };
  }

  test("audit verify overlapping an honest confirm is ok for the newer state", async () => {
    const { alice, bob, circleId } = await circle();
    const first = await bob.audit.verify(circleId);
    // After bob's sync and tree head, before he fetches the key records to check signatures.
    bob.at("GET", "/audit/head", afterAnswer(() => alice.circles.confirm(circleId, "dave", { compared: true })));
    const during = await bob.audit.verify(circleId);
    assert.equal(during.treeSize, first.treeSize);
    const later = await bob.audit.verify(circleId);
    assert.equal(later.treeSize, first.treeSize + 1);
  });

  test("audit verify after a pin fetches only the new records and extends the pinned frontier", async () => {
    const { alice, bob, circleId } = await circle();
    const first = await bob.audit.verify(circleId);
    assert.equal(first.newRecords, first.treeSize);
    await alice.circles.confirm(circleId, "dave", { compared: true });
    bob.sent.length = 0;
    const second = await bob.audit.verify(circleId);
    assert.equal(second.treeSize, first.treeSize + 1);
    assert.equal(second.newRecords, 1);
    const asked = bob.sent.filter((s) => s.path.endsWith("/audit/records")).map((s) => Number(s.query.get("after")));
    assert.deepEqual(asked, [first.treeSize - 1]);
    assert.equal(bob.audit.pins.circles[circleId].leaves, undefined);
    const full = await bob.audit.verify(circleId, { full: true });
    assert.equal(full.newRecords, full.treeSize);
  });

  for (const [change, act] of [
    ["a removal", (alice, id) => alice.circles.remove(id, "carol")],
    ["a promotion", (alice, id) => alice.circles.setRole(id, "bob", "admin")],
    ["a demotion", (alice, id) => alice.circles.setRole(id, "carol", "member")],
  ]) {
    test(`audit verify overlapping ${change} is ok`, async () => {
      const { alice, bob, circleId } = await circle();
      bob.at("GET", "/audit/head", afterAnswer(() => act(alice, circleId)));
      await bob.audit.verify(circleId);
      await bob.audit.verify(circleId);
    });
  }

  test("a key-record chain that cannot extend the verified one is forked, and nothing is pinned", async () => {
    const { bob, circleId } = await circle();
    // The signature check's fetch (the 2nd of /records) gets another record at the seq bob's
    // sync verified, validly signed by alice, an admin: two histories, one of them a lie.
    bob.at(
      "GET",
      `/circles/${circleId}/records`,
      async (url, init) => {
        const rows = await (await fetch(url, init)).json();
        const last = rows.at(-1);
        const verified = KeyRecord.parse(last.record);
        const other = KeyRecord.create({
          circleId,
          seq: verified.seq,
          epoch: verified.epoch,
          keyId: verified.keyId,
          members: verified.members.map((m) => (m.user === "carol" ? { ...m, role: "member" } : m)),
          prev: verified.prev,
          signer: "alice",
        });
        last.record = other.text;
        last.signature = b64(other.sign(accounts.alice.identity));
        last.signer_identity = accounts.alice.identity.publicIdentity().toJson();
        return Response.json(rows);
      },
      2,
    );
    await assert.rejects(bob.audit.verify(circleId), { code: "forked" });
    assert.deepEqual(bob.audit.pins.circles, {});
  });

  test("a feed page meeting a key rotated after the sync fetches the key and goes on", async () => {
    const { alice, bob, circleId } = await circle();
    await alice.entries.post(circleId, { subject: "Person 0", text: "t", categories: ["other"] });
    bob.at("GET", `/circles/${circleId}/entries`, async () => {
      await alice.circles.rotate(circleId);
      await alice.entries.post(circleId, { subject: "After the rotation", text: "t", categories: ["other"] });
    });
    const { entries } = await bob.entries.feed(circleId);
    assert.deepEqual(entries.map((e) => e.subject), ["After the rotation", "Person 0"]);
  });

  test("a post meeting a rotation before its POST reseals once and lands once", async () => {
    const { alice, bob, circleId } = await circle();
    bob.at("POST", "/entries", () => alice.circles.rotate(circleId).then(() => undefined));
    const posted = await bob.entries.post(circleId, { subject: "Jan Novák", text: "what happened", categories: ["other"] });
    const sent = bob.posts("/entries");
    assert.equal(sent.length, 2);
    assert.equal(sent[0].entry_id, posted.entry_id);
    assert.equal(sent[1].entry_id, posted.entry_id);
    assert.equal(sent[1].epoch, sent[0].epoch + 1);
    const { entries } = await alice.entries.feed(circleId);
    assert.deepEqual(entries.map((e) => [e.subject, e.text]), [["Jan Novák", "what happened"]]);
  });

  for (const suffix of ["", "/records", "/keys"]) {
    test(`a post survives a broken connection in its sync (${suffix || "the circle"})`, async () => {
      const { alice, bob, circleId } = await circle();
      bob.at("GET", `/circles/${circleId}${suffix}`, broken);
      await bob.entries.post(circleId, { subject: "Jan Novák", text: "t", categories: ["other"] });
      const { entries } = await alice.entries.feed(circleId);
      assert.deepEqual(entries.map((e) => e.subject), ["Jan Novák"]);
    });
  }

  test("a post whose answer was lost, then met a rotation, is stored once", async () => {
    const { alice, bob, circleId } = await circle();
    bob.at("POST", "/entries", async (url, init) => {
      await fetch(url, init);
      await alice.circles.rotate(circleId);
      broken();
    });
    await bob.entries.post(circleId, { subject: "Jan Novák", text: "t", categories: ["other"] });
    const sent = bob.posts("/entries");
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[0], sent[1]);
    const { entries } = await alice.entries.feed(circleId);
    assert.equal(entries.length, 1);
  });

  test("a second stale_epoch is thrown, not retried again, and nothing is stored", async () => {
    const { alice, bob, circleId } = await circle();
    for (const nth of [1, 2]) {
      bob.at("POST", "/entries", () => alice.circles.rotate(circleId).then(() => undefined), nth);
    }
    await assert.rejects(bob.entries.post(circleId, { subject: "x", text: "t", categories: ["other"] }), { code: "stale_epoch" });
    assert.equal(bob.posts("/entries").length, 2);
    assert.equal((await alice.entries.feed(circleId)).entries.length, 0);
  });

  test("corroborating or retracting an anonymous warning asks nothing about it with the session first", async () => {
    // A review finding: both fetched that very warning with the session just before the
    // sessionless request about it. The key now comes from the copy a sync brings.
    const { alice, bob, circleId } = await circle({ moderation: true });
    await alice.entries.anonymous.certify(circleId);
    const carol = device(server, accounts.carol);
    const theirs = await carol.entries.post(circleId, { subject: "Jan Novák", text: "t", categories: ["other"], anonymous: true });
    const mine = await bob.entries.post(circleId, { subject: "Petr Dvořák", text: "t", categories: ["other"], anonymous: true });
    bob.sent.length = 0;
    await bob.entries.corroborate(circleId, theirs.entry_id, { text: "me too", anonymous: true });
    await assert.rejects(bob.entries.corroborate(circleId, mine.entry_id, { text: "me too", anonymous: true }), { code: "self_corroboration" });
    await bob.entries.retract(circleId, mine.entry_id);
    const asked = bob.sent.filter((s) => s.method === "GET" && /\/entries\/[0-9a-f-]{36}$/.test(s.path));
    assert.deepEqual(asked, []);
    assert.equal(bob.posts(`/anon/circles/${circleId}/entries/${mine.entry_id}/retract`).length, 1);
    assert.equal(bob.posts(`/entries/${theirs.entry_id}/corroborations`).length, 1);
  });

  test("a corroboration meeting a rotation reseals once and lands once", async () => {
    const { alice, bob, circleId } = await circle();
    const entry = await alice.entries.post(circleId, { subject: "Jan Novák", text: "t", categories: ["other"] });
    bob.at("POST", "/corroborations", () => alice.circles.rotate(circleId).then(() => undefined));
    await bob.entries.corroborate(circleId, entry.entry_id, { text: "me too" });
    assert.equal(bob.posts("/corroborations").length, 2);
    const { warning, corroborations } = await alice.entries.show(circleId, entry.entry_id);
    assert.equal(warning.corroborations, 1);
    assert.deepEqual(corroborations.map((c) => [c.text, c.author]), [["me too", "bob"]]);
  });

  for (const [method, suffix, when] of [
    ["POST", "/reports", "the server refuses the old moderation key"],
    ["GET", "/moderation/keys", "the sync sees a stale moderation key"],
  ]) {
    test(`a report meeting renewed moderation keys reseals once and lands once (${when})`, async () => {
      const { alice, bob, circleId } = await circle({ moderation: true });
      const entry = await alice.entries.post(circleId, { subject: "Jan Novák", text: "t", categories: ["other"] });
      bob.at(method, suffix, async () => {
        await alice.circles.setRole(circleId, "carol", "member");
        await alice.moderation.ensureKey(circleId);
      });
      const filed = await bob.moderation.report(circleId, entry.entry_id, { reason: "false", note: "n" });
      const reports = bob.posts("/reports");
      assert.deepEqual([...new Set(reports.map((r) => r.case_id))], [filed.case_id]);
      assert.equal(reports.at(-1).generation, 1);
      const { cases } = await alice.moderation.listCases(circleId);
      assert.deepEqual(cases.map((c) => [c.reporter, c.reason]), [["bob", "false"]]);
    });
  }

  test("the moderation list comes a page at a time: each case once, newest first, a case filed meanwhile above the walk", async () => {
    const { alice, bob, circleId } = await circle({ moderation: true });
    const filed = [];
    for (const n of [1, 2, 3, 4, 5]) {
      const entry = await alice.entries.post(circleId, { subject: `Person ${n}`, text: "t", categories: ["other"] });
      filed.push((await bob.moderation.report(circleId, entry.entry_id, { reason: "false", note: `n${n}` })).case_id);
    }
    const newestFirst = [...filed].reverse();
    const first = await alice.moderation.listCases(circleId, { limit: 2 });
    assert.deepEqual(first.cases.map((c) => c.caseId), newestFirst.slice(0, 2));
    assert.equal(typeof first.nextCursor, "string");
    const entry = await alice.entries.post(circleId, { subject: "Meanwhile", text: "t", categories: ["other"] });
    const meanwhile = (await bob.moderation.report(circleId, entry.entry_id, { reason: "false", note: "m" })).case_id;
    const seen = first.cases.map((c) => c.caseId);
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const page = await alice.moderation.listCases(circleId, { limit: 2, cursor });
      assert.ok(page.cases.every((c) => c.reporter === "bob" && c.reason === "false")); // opened and verified
      seen.push(...page.cases.map((c) => c.caseId));
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, newestFirst);
    const again = await alice.moderation.listCases(circleId);
    assert.deepEqual(again.cases.map((c) => c.caseId), [meanwhile, ...newestFirst]);
    assert.equal(again.nextCursor, null);
    await assert.rejects(alice.moderation.listCases(circleId, { cursor: "not a cursor" }), (error) => error.code === "invalid_cursor");
    await assert.rejects(bob.moderation.listCases(circleId), (error) => error.code === "not_a_moderator");
  });
  test("a page of cases syncs the warnings once for all its takedowns and carries each reported warning", async () => {
    const { alice, bob, circleId } = await circle({ moderation: true });
    const entry = await alice.entries.post(circleId, { subject: "Jan Novák", text: "t", categories: ["other"] });
    await bob.moderation.report(circleId, entry.entry_id, { reason: "false", note: "n" });
    const carolFiles = device(server, accounts.carol);
    await carolFiles.moderation.report(circleId, entry.entry_id, { reason: "false", note: "m" });
    const link = parseTakedownLink(await alice.moderation.takedownLink(circleId, server.url), server.url);
    for (const name of ["Jan Novák", "JAN NOVAK", "Novák", "Nobody Here"]) {
      await fileTakedown(new Client({ baseUrl: server.url }), link, { name, contact: "x@example.org", text: "false" });
    }
    const carol = watched(server, accounts.carol);
    const { cases } = await carol.moderation.listCases(circleId);
    assert.equal(cases.length, 6);
    assert.ok(cases.every((c) => c.unreadable === undefined));
    const gets = carol.sent.filter((s) => s.method === "GET");
    assert.equal(gets.filter((s) => s.query.has("changed_after")).length, 1);
    assert.equal(gets.filter((s) => s.path.includes("/entries/")).length, 0); // the page carries them
    const candidates = Object.fromEntries(cases.filter((c) => c.kind === "takedown").map((c) => [c.name, c.candidates]));
    assert.deepEqual(candidates["JAN NOVAK"].map((x) => [x.entryId, x.level]), [[entry.entry_id, "exact"]]);
    assert.deepEqual(candidates["Novák"].map((x) => x.level), ["partial"]);
    assert.deepEqual(candidates["Nobody Here"], []);
    assert.ok(cases.filter((c) => c.kind === "report").every((c) => c.reported.verified && c.reporterVerified));
  });
  test("audit verify checks each key record's signature once: later verifies fetch the chain from the last one verified", async () => {
    const { alice, bob, circleId } = await circle();
    await bob.audit.verify(circleId);
    await alice.circles.confirm(circleId, "dave", { compared: true });
    bob.sent.length = 0;
    await bob.audit.verify(circleId);
    const keyRecords = bob.sent.filter((s) => s.method === "GET" && s.path.endsWith(`${circleId}/records`));
    assert.ok(keyRecords.length > 0);
    assert.ok(keyRecords.every((s) => Number(s.query.get("after")) >= 0));
    const { chain } = bob.audit.keyRecordsVerified.get(circleId);
    assert.equal(chain.length, chain.at(-1).seq + 1); // the whole chain, every record once
  });
});
