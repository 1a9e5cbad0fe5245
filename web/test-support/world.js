/**
 * A stand-in server for the client tests: alice's circle with a signed key record, a
 * moderation key and an audit log of six records, all made with the real protocol library,
 * and the public keys of alice, bob and carol. The node suite has no Python server, so this
 * plays it; `on` rewrites its answers, as tests/malicious/conftest.py's proxy does.
 */
import assert from "node:assert/strict";

import { IssuanceRecord } from "../src/protocol/anon.js";
import { TreeHead, leafHash, rootOfLeafHashes, successionMessage } from "../src/protocol/audit.js";
import { b64, fromB64, fromUtf8, hex, utf8, uuidHex } from "../src/protocol/encoding.js";
import { signingKeyPair, sign } from "../src/protocol/hash.js";
import { IdentityKeys } from "../src/protocol/identity.js";
import { eventBody, eventHash } from "../src/protocol/membership.js";
import { ModerationKey, ModerationKeyRecord, sealModerationWrap } from "../src/protocol/moderation.js";
import { randomBytes, randomUuid } from "../src/protocol/random.js";
import { OprfElement, VoprfServer } from "../src/protocol/voprf.js";
import { KeyRecord } from "../src/protocol/records.js";
import { sealEvaluationNote } from "../src/protocol/sealed.js";
import { ready } from "../src/protocol/sodium.js";
import { Audit, AuditPins } from "../src/client/audit.js";
import { VerifiedCircle } from "../src/client/circles.js";
import { Moderation } from "../src/client/moderation.js";
import { Client } from "../src/client/sdk.js";

await ready();

const AT = "2025-01-01T00:00:00.000000Z";

/** Answers `METHOD path` requests from routes; rules registered with `on` rewrite them first. */
export class FakeServer {
  #routes = new Map();
  #rules = [];

  constructor() {
    this.fetch = this.fetch.bind(this);
  }

  /** Serve `answer(query, json body)` (a JSON value) for `method path`. */
  route(method, path, answer) {
    this.#routes.set(`${method} ${path}`, answer);
  }

  /**
   * A malicious server: `edit(body, query)` changes the answer in place or returns another.
   * Returns the function that ends this attack.
   */
  on(method, path, edit) {
    const rule = { key: `${method} ${path}`, edit };
    this.#rules.push(rule);
    return () => this.#rules.splice(this.#rules.indexOf(rule), 1);
  }

  async fetch(url, init) {
    const { pathname, searchParams } = new URL(url, "http://backchannel.test");
    const key = `${init.method} ${pathname}`;
    const answer = this.#routes.get(key);
    if (answer === undefined) {
      return Response.json({ error: { code: "not_found", message: key } }, { status: 404 });
    }
    let body = structuredClone(answer(searchParams, init.body === undefined ? null : JSON.parse(init.body)));
    for (const rule of this.#rules.filter((r) => r.key === key)) {
      body = rule.edit(body, searchParams) ?? body;
    }
    return Response.json(body);
  }
}

/** The audit record row the server returns for an event body (app/audit/schemas.py). */
export function auditRow(seq, body) {
  return { seq, body, hash: b64(eventHash(body)), leaf_hash: b64(leafHash(utf8(body))) };
}

/**
 * The world, as bob's browser sees it: `world.bob()` is bob's Moderation and Audit over the
 * stand-in server; `world.rotateServerKey()` makes the server sign heads with a
 * new key, announced under the old one's signature (§33.4).
 *
 * `issuance`: token issuance records of epoch 0 that alice signed ({key: OprfKey, logged}),
 * in the log unless `logged` is false (the only admin here stands in for two). The server
 * shows bob (`GET …/anon/issuance`) the record of `shown` and evaluates his tokens under its key.
 *
 * `members`: others the signed record lists besides alice (as plain members), e.g. ["bob", "carol"].
 */
export function makeWorld({ evaluations = [], aliceModerates = evaluations.length > 0, issuance = [], shown = 0, members = [] } = {}) {
  const server = new FakeServer();
  const people = Object.fromEntries(["alice", "bob", "carol"].map((name) => [name, IdentityKeys.generate()]));
  for (const [name, keys] of Object.entries(people)) {
    const identity = keys.publicIdentity();
    server.route("GET", `/v1/users/${name}`, () => ({
      username: name,
      fingerprint: identity.fingerprint,
      identity: identity.toJson(),
    }));
  }
  const alice = people.alice;
  const circleId = randomUuid();
  const record = KeyRecord.create({
    circleId,
    seq: 0,
    epoch: 0,
    keyId: randomBytes(16),
    members: [
      { user: "alice", fp: alice.publicIdentity().fingerprint, role: "owner" },
      ...members.map((user) => ({ user, fp: people[user].publicIdentity().fingerprint, role: "member" })),
    ],
    prev: null,
    signer: "alice",
  });
  const circle = new VerifiedCircle({ circleId, record, keys: new Map(), meta: null, role: "member", adminsSince: 0 });
  server.route("GET", `/v1/circles/${circleId}/records`, () => [
    {
      seq: 0,
      record: record.text,
      signature: b64(record.sign(alice)),
      signer_identity: alice.publicIdentity().toJson(),
    },
  ]);

  const moderationKey = ModerationKey.generate();
  const moderationRecord = ModerationKeyRecord.forKeyRecord(record, {
    key: moderationKey,
    generation: 0,
    prev: null,
    signer: "alice",
  });
  const moderationSignature = b64(moderationRecord.sign(alice));
  server.route("GET", `/v1/circles/${circleId}/moderation/keys`, () => [
    {
      generation: 0,
      record: moderationRecord.text,
      public_key: b64(moderationRecord.publicKey),
      signature: moderationSignature,
      // alice's wrap, when she is to open something sealed to the admins (evaluations, authors)
      wrap: aliceModerates
        ? b64(sealModerationWrap(moderationKey, { circleId, generation: 0, recipient: alice.publicIdentity().x25519Public }))
        : null,
      prev_key_box: null,
    },
  ]);

  const circle32 = uuidHex(circleId);
  const issued = issuance.map(({ key, logged = true }) => {
    const signer = "alice";
    const signed = new IssuanceRecord({ circleId, epoch: 0, oprfPublicKey: key.publicKey.toBytes(), tokensPerWeek: 16, signer });
    const text = new TextDecoder().decode(signed.toBytes());
    return { signer, key, logged, text, signature: b64(signed.sign(people[signer])) };
  });
  if (issued.length > 0) {
    const { key, text, signature, signer } = issued[shown];
    server.route("GET", `/v1/circles/${circleId}/anon/issuance`, () => ({
      epoch: 0,
      oprf_public_key: b64(key.publicKey.toBytes()),
      record: { epoch: 0, record: text, signature, signer, created_at: AT },
      tokens_used: 0,
      tokens_allowed: 16,
    }));
    server.route("POST", `/v1/circles/${circleId}/anon/tokens`, (query, body) => {
      const answer = new VoprfServer(key).blindEvaluate(body.blinded.map((e) => new OprfElement(fromB64(e, 32))));
      return { evaluated: answer.elements.map((e) => b64(e.toBytes())), proof: b64(answer.proof.toBytes()) };
    });
  }
  const invites = [hex(randomBytes(16)), hex(randomBytes(16))];
  const events = [
    ["circle_created", "alice", null, { record_seq: 0, epoch: 0, record_hash: b64(record.hash()) }],
    ["invite_created", "alice", null, { invite_id: invites[0], role: "member", max_uses: 1 }],
    ["invite_redeemed", "bob", "bob", { invite_id: invites[0] }],
    ["invite_created", "alice", null, { invite_id: invites[1], role: "member", max_uses: 1 }],
    ["invite_redeemed", "carol", "carol", { invite_id: invites[1] }],
    [
      "moderation_key_rotated",
      "alice",
      null,
      { generation: 0, record_hash: b64(moderationRecord.hash()), signature: moderationSignature, admins: 1 },
    ],
    // `evaluations`: [{user, elements}] (or {note} for a note as given), as app/sealed/service.py
    // appends them: no actor, the who and how many sealed to the moderation key (§36.4).
    ...issued
      .filter(({ logged }) => logged)
      .map(({ signer, text, signature }) => ["anon_issuance_key", signer, null, { epoch: 0, record: text, signature }]),
    ...evaluations.map(({ user, elements, note }) => [
      "sealed_evaluation",
      "",
      null,
      {
        generation: 0,
        note:
          note ??
          b64(sealEvaluationNote({ user, at: AT, elements }, { circleId, generation: 0, moderationPublic: moderationKey.publicKey })),
      },
    ]),
  ];
  const rows = [];
  let prev = null;
  for (const [kind, actor, subject, details] of events) {
    const seq = rows.length;
    const fields = { v: 1, circle: circle32, seq, kind, actor, subject, details, at: AT, prev };
    const body = fromUtf8(eventBody(fields));
    rows.push(auditRow(seq, body));
    prev = b64(eventHash(body));
  }
  server.route("GET", `/v1/circles/${circleId}/audit/records`, (query) => {
    const after = Number(query.get("after"));
    return rows.filter((row) => row.seq > after).slice(0, Number(query.get("limit")));
  });
  const head = new TreeHead({
    circle: circle32,
    size: rows.length,
    root: rootOfLeafHashes(rows.map((row) => fromB64(row.leaf_hash, 32))),
    at: AT,
  });
  const announced = []; // the server's tree-head keys, as GET /v1/server/keys lists them
  let signing = null;
  const world = {
    server,
    people,
    circle,
    circleId,
    /** The key heads are signed with now (base64). */
    get serverKey() {
      return b64(signing.publicKey);
    },
    /** Sign heads with a new key from now on, announced under the old one's signature; its base64. */
    rotateServerKey() {
      const key = signingKeyPair(randomBytes(32));
      const before = signing;
      announced.push({
        key_id: announced.length + 1,
        public_key: b64(key.publicKey),
        not_before: AT,
        succession_signature:
          before === null ? null : b64(sign(successionMessage(before.publicKey, key.publicKey, AT), before.privateKey)),
      });
      signing = key;
      return b64(key.publicKey);
    },
    client() {
      return new Client({ fetch: server.fetch, token: "bob's token" });
    },
    /** The moderation key's public half (what the circle's members seal to). */
    moderationPublic: moderationKey.publicKey,
    /** alice's (the owner's) Circles, Moderation and Audit, as bob's below. */
    alice() {
      const owned = new VerifiedCircle({ circleId, record, keys: new Map(), meta: null, role: "owner", adminsSince: 0 });
      const circles = { client: world.client(), sync: async () => owned, identity: alice, username: "alice" };
      const moderation = new Moderation(circles, null);
      return { circles, moderation, audit: new Audit(circles, moderation, AuditPins.load(memoryStorage(), "alice")) };
    },
    /**
     * bob's Moderation and Audit over one client; the audit pins saved to `storage`, as the
     * page saves them; `circles` (a stand-in Circles, as his Anonymous takes it) shares his
     * token stock with the audit.
     */
    bob() {
      const storage = memoryStorage();
      const circles = { client: world.client(), sync: async () => circle };
      const moderation = new Moderation(circles, null);
      const audit = new Audit(circles, moderation, AuditPins.load(storage, "bob"));
      return { moderation, audit, storage, circles };
    },
  };
  server.route("GET", `/v1/circles/${circleId}/audit/head`, () => ({
    tree_head: head.text,
    signature: b64(sign(head.signatureMessage(), signing.privateKey)),
    key_id: announced.length,
    public_key: b64(signing.publicKey),
  }));
  server.route("GET", "/v1/server/keys", () => ({ keys: announced }));
  // The log never grows here, so the only proof asked for is between equal sizes: empty.
  server.route("GET", `/v1/circles/${circleId}/audit/consistency`, () => ({
    first: rows.length,
    second: rows.length,
    proof: [],
  }));
  world.rotateServerKey();
  return world;
}

/** sessionStorage's interface over a Map, so a test can see what was saved. */
function memoryStorage() {
  const items = new Map();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => items.set(key, String(value)),
  };
}

/** Assert that `promise` rejects with a ClientError of exactly `code`. */
export async function refused(promise, code) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.code, code, error.stack);
    return true;
  });
}
