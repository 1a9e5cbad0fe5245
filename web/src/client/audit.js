/**
 * Verifying a circle's audit log (docs/protocol.md §33.6), as app/client/audit.py:
 * records, RFC 6962 tree, signed tree head, pinned history, every admin signature
 * inside the records, and every author signature (retractions, the signed terms an expiry
 * relies on: auditentries.js); one token issuance key per epoch, the one this device took its
 * tokens under (auditissuance.js). Nothing the server says is trusted until it is checked.
 *
 * Pins (the server's tree-head key, and per circle the last verified head and its leaf
 * hashes) are kept like the trust store: sessionStorage, per account, for the tab's life.
 */
import { Frontier, frontierOf, leafHash, rootOfLeafHashes, TreeHead, verifyConsistency, verifySuccession } from "../protocol/audit.js";
import { b64, concat, fromB64, utf8, uuid, uuidHex } from "../protocol/encoding.js";
import { CryptoError } from "../protocol/errors.js";
import { equalBytes } from "../protocol/hash.js";
import { parseJson } from "../protocol/json.js";
import { eventHash } from "../protocol/membership.js";
import { ADMIN_ROLES, KeyRecord, verifyRecord } from "../protocol/records.js";
import { Decision } from "../protocol/decisions.js";
import { keysUsed, MemoryTokenStore } from "./anon.js";
import { checkEntryRecord } from "./auditentries.js";
import { checkIssuanceRecord, checkKeysUsed } from "./auditissuance.js";
import { evaluations } from "./auditview.js";
import { AuditFailure, ClientError } from "./errors.js";
import { parseIdentity } from "./sdk.js";

export { AuditFailure };

const PAGE = 1000;

export class AuditPins {
  constructor({ serverKey = null, circles = {}, storage = null, key = null } = {}) {
    Object.assign(this, { serverKey, circles, storage, key });
  }

  static load(storage, username) {
    const pins = new AuditPins({ storage, key: `backchannel.audit.${username}` });
    pins.refresh();
    return pins;
  }

  /** Take the stored pins (shared by every tab of the page): another tab may have moved one on. */
  refresh() {
    if (this.storage === null) {
      return;
    }
    try {
      const raw = JSON.parse(this.storage.getItem(this.key) ?? "{}");
      this.serverKey = raw.serverKey ?? null;
      this.circles = raw.circles ?? {};
    } catch {
      // unreadable: keep what this page holds
    }
  }

  save() {
    if (this.storage !== null) {
      try {
        this.storage.setItem(this.key, JSON.stringify({ serverKey: this.serverKey, circles: this.circles }));
      } catch {
        // storage unavailable: the pins hold in memory for this page's life
      }
    }
  }
}

function failure(code, message) {
  return new AuditFailure(code, message);
}

/**
 * The key-record chain fetched now must pass through the record the sync verified: records
 * appended since (a confirm, removal or role change during the verify) are an honest append,
 * checked record by record in `#keyRecords` and used from here on. Only a chain that cannot
 * have `verified` in its history is a fork.
 */
function checkExtends(verified, chain) {
  if (!chain.length || chain.at(-1).seq < verified.seq) {
    throw failure("rolled_back", `the server now shows ${chain.length} key records; this verify saw record ${verified.seq}`);
  }
  const at = chain.find((r) => r.seq === verified.seq);
  if (at === undefined || !equalBytes(at.hash(), verified.hash())) {
    throw failure("forked", `key record ${verified.seq} differs from the one this verify checked: the two histories cannot both be true`);
  }
}

export class Audit {
  /** `tokens`: the token stock anonymous posting uses (the keys it took tokens under). */
  constructor(circles, moderation, pins, { tokens = null } = {}) {
    this.circles = circles;
    this.moderation = moderation;
    this.client = circles.client;
    this.pins = pins;
    circles.anonymousTokens ??= new MemoryTokenStore();
    this.tokens = tokens ?? circles.anonymousTokens;
    this.keyRecordsVerified = new Map(); // circle id -> { chain, last: the last record's text }
  }

  /** Records `start` .. `size - 1`, each checked against its stored hashes (§33.6 step 3). */
  async #records(circleId, size, start = 0) {
    const out = [];
    let after = start - 1;
    while (start + out.length < size) {
      const rows = await this.client.request("GET", `/v1/circles/${circleId}/audit/records`, { params: { after, limit: PAGE } });
      if (rows.length === 0) {
        break;
      }
      for (const row of rows) {
        const position = start + out.length;
        if (position >= size) {
          break;
        }
        if (row.seq < position) {
          throw failure("reordered", `record ${row.seq} appears again at position ${position}`);
        }
        if (row.seq !== position) {
          // Record i later in the same answer is a swap; nowhere in it, a gap (§33.6 step 3).
          throw rows.some((later) => later.seq === position)
            ? failure("reordered", `record ${row.seq} comes before record ${position}`)
            : failure("missing_record", `record ${position} is missing: the server's next record is ${row.seq}`);
        }
        const raw = utf8(row.body);
        const leaf = leafHash(raw);
        if (b64(leaf) !== row.leaf_hash || b64(eventHash(raw)) !== row.hash) {
          throw failure("changed_record", `record ${row.seq} differs from the hashes stored when it was appended`);
        }
        let body;
        try {
          body = parseJson(raw);
        } catch {
          throw failure("changed_record", `record ${row.seq} is not JSON`);
        }
        out.push({ seq: row.seq, body, raw, leaf });
        after = row.seq;
      }
    }
    if (start + out.length < size) {
      throw failure("missing_record", `the tree head covers ${size} records but the server returned ${start + out.length}`);
    }
    return out;
  }

  /**
   * The key that signed this head: the pinned one, or a successor the pinned one named (§33.4).
   * Nothing is pinned here: verify pins the key with the head, once all of it verified.
   */
  async #serverKey(head) {
    const offered = fromB64(head.public_key, 32);
    if (this.pins.serverKey === null) {
      return offered; // first use: pinned if this head verifies
    }
    let current = fromB64(this.pins.serverKey, 32);
    if (equalBytes(current, offered)) {
      return offered;
    }
    const { keys } = await this.client.request("GET", "/v1/server/keys");
    for (const row of keys) {
      const publicKey = fromB64(row.public_key, 32);
      if (equalBytes(publicKey, current) || row.succession_signature === null) {
        continue;
      }
      try {
        verifySuccession(current, publicKey, row.not_before, fromB64(row.succession_signature, 64));
      } catch {
        continue;
      }
      current = publicKey;
      if (equalBytes(current, offered)) {
        return offered;
      }
    }
    throw failure("unknown_server_key", "the tree head is signed by a key the server never announced from the pinned one");
  }

  /** Who asked for sealed-warning evaluations, when (admins only): auditview.js. */
  async evaluations(circleId) {
    return evaluations(this, circleId);
  }

  /**
   * §33.6 steps 1-10; returns {ok, treeSize, root, newRecords, signaturesChecked, records} or
   * throws AuditFailure. With a head pinned, only the records since it are fetched (`records`
   * are those); `full` fetches and checks every record again (the audit page lists them all).
   */
  async verify(circleId, { full = false } = {}) {
    this.pins.refresh(); // another tab may have verified (or been refused) since
    const circle = await this.circles.sync(circleId);
    const cid = circle.circleId;
    const used = await keysUsed(this.tokens, cid); // before the head: its record is under it
    const headRow = await this.client.request("GET", `/v1/circles/${cid}/audit/head`);
    let head;
    try {
      head = TreeHead.parse(headRow.tree_head);
    } catch (error) {
      throw failure("bad_tree_head", error.message);
    }
    if (head.circle !== uuidHex(cid)) {
      throw failure("bad_tree_head", "the tree head is for another circle");
    }
    const key = await this.#serverKey(headRow);
    try {
      head.verifySignature(fromB64(headRow.signature, 64), key);
    } catch {
      throw failure("bad_tree_head", "the tree head's signature does not verify");
    }
    const pin = this.pins.circles[cid] ?? null;
    let records;
    let frontier;
    let state = { cases: new Map(), filed: new Map(), issuance: new Map() };
    // A pin from before frontiers or issuance keys: fetch everything once more.
    if (pin !== null && pin.frontier !== undefined && pin.issuance !== undefined && !full) {
      ({ records, frontier, state } = await this.#incremental(cid, head, pin));
    } else {
      records = await this.#records(cid, head.size);
      if (pin !== null && head.size < pin.size) {
        throw failure("rolled_back", `the server's log has ${head.size} records; this device verified ${pin.size}`);
      }
      if (pin !== null) {
        Audit.#checkPinned(pin, records);
      }
      Audit.#checkChain(records, null);
      const leaves = records.map((r) => r.leaf);
      if (!equalBytes(rootOfLeafHashes(leaves), head.root)) {
        throw failure("root_mismatch", "the records do not hash to the signed tree head: a record was changed, dropped or inserted");
      }
      if (pin !== null) {
        await this.#checkConsistency(cid, pin, head);
      }
      frontier = frontierOf(leaves);
    }
    const signatures = await this.#checkSignatures(circle, records, state);
    checkKeysUsed(state.issuance, used);
    this.pins.refresh();
    if ((this.pins.circles[cid]?.size ?? -1) <= head.size) { // a pin never moves back
      this.pins.serverKey = b64(key);
      this.pins.circles[cid] = {
        size: head.size,
        root: b64(head.root),
        frontier: b64(concat(...frontier)),
        last: records.length ? b64(eventHash(records.at(-1).raw)) : (pin?.last ?? null),
        cases: Object.fromEntries([...state.cases].map(([k, [n, h]]) => [k, [n, h === null ? null : b64(h)]])),
        filed: Object.fromEntries(state.filed),
        issuance: Object.fromEntries(state.issuance),
      };
      this.pins.save();
    }
    return { ok: true, treeSize: head.size, root: b64(head.root), newRecords: records.length, signaturesChecked: signatures, records };
  }

  async #checkConsistency(cid, pin, head) {
    const proof = await this.client.request("GET", `/v1/circles/${cid}/audit/consistency`, {
      params: { first: pin.size, second: head.size },
    });
    try {
      verifyConsistency(pin.size, head.size, fromB64(pin.root, 32), head.root, proof.proof.map((p) => fromB64(p, 32)));
    } catch {
      throw failure("forked", "the log is not an extension of the one this device verified");
    }
  }

  /**
   * Only the records since the pin: the consistency proof from the pinned head (else forked),
   * the new records chained to the last pinned one, their leaves extending the pinned frontier
   * to the signed root (else root_mismatch).
   */
  async #incremental(cid, head, pin) {
    if (head.size < pin.size) {
      throw failure("rolled_back", `the server's log has ${head.size} records; this device verified ${pin.size}`);
    }
    let grown;
    try {
      const raw = fromB64(pin.frontier);
      const hashes = [];
      for (let i = 0; i < raw.length; i += 32) {
        hashes.push(raw.slice(i, i + 32));
      }
      grown = new Frontier(pin.size, hashes);
    } catch {
      throw failure("bad_pin", "this device's audit pin is damaged");
    }
    if (!equalBytes(grown.root(), fromB64(pin.root, 32))) {
      throw failure("bad_pin", "this device's audit pin is damaged");
    }
    await this.#checkConsistency(cid, pin, head);
    const records = await this.#records(cid, head.size, pin.size);
    Audit.#checkChain(records, pin.last === null ? null : fromB64(pin.last, 32));
    for (const record of records) {
      grown.appendLeafHash(record.leaf);
    }
    if (!equalBytes(grown.root(), head.root)) {
      throw failure("root_mismatch", "the new records do not hash to the signed tree head: a record was changed, dropped or inserted");
    }
    const state = {
      cases: new Map(Object.entries(pin.cases).map(([k, [n, h]]) => [k, [n, h === null ? null : fromB64(h, 32)]])),
      filed: new Map(Object.entries(pin.filed)),
      issuance: new Map(Object.entries(pin.issuance)),
    };
    return { records, frontier: grown.hashes, state };
  }

  /** The pinned records, fetched again, are what this device verified: leaf by leaf, or by root. */
  static #checkPinned(pin, records) {
    if (pin.leaves === undefined) {
      const root = rootOfLeafHashes(records.slice(0, pin.size).map((r) => r.leaf));
      if (!equalBytes(root, fromB64(pin.root, 32))) {
        throw failure("changed_record", `a record among the first ${pin.size} changed since this device verified them`);
      }
      return;
    }
    const pinned = fromB64(pin.leaves);
    for (let i = 0; i < pin.size; i++) {
      if (!equalBytes(pinned.subarray(32 * i, 32 * i + 32), records[i].leaf)) {
        throw failure("changed_record", `record ${i} changed since this device verified it`);
      }
    }
  }

  /** Each record's seq and prev link; `prev`: the hash of the record before the first (null from 0). */
  static #checkChain(records, prev) {
    for (const record of records) {
      const { body } = record;
      if (body === null || typeof body !== "object" || body.seq !== record.seq) {
        throw failure("reordered", `the record at position ${record.seq} says it is another record`);
      }
      if (body.prev !== (prev === null ? null : b64(prev))) {
        throw failure("changed_record", `record ${record.seq} does not chain to record ${record.seq - 1}: one of them was changed or removed`);
      }
      prev = eventHash(record.raw);
    }
  }

  /**
   * Every key record of the circle, each signature checked once per Audit (as audit.py):
   * after the first verify only the records from the last one verified are fetched, and that
   * one must come back unchanged (else forked), so a verify costs what was appended since.
   */
  async #keyRecords(circleId) {
    const held = this.keyRecordsVerified.get(circleId) ?? { chain: [], last: "" };
    const chain = [...held.chain];
    let last = held.last;
    const after = chain.length > 0 ? chain.at(-1).seq - 1 : -1;
    let rows = await this.client.request("GET", `/v1/circles/${circleId}/records`, { params: { after } });
    if (chain.length > 0) {
      if (rows.length === 0 || rows[0].seq !== chain.at(-1).seq) {
        throw failure("rolled_back", `the server no longer shows key record ${chain.at(-1).seq}, verified before`);
      }
      if (rows[0].record !== last) {
        throw failure("forked", `key record ${chain.at(-1).seq} differs from the one verified before`);
      }
      rows = rows.slice(1);
    }
    try {
      for (const row of rows) {
        const record = KeyRecord.parse(row.record);
        const signer = parseIdentity(row.signer_identity);
        verifyRecord(chain.at(-1) ?? null, record, fromB64(row.signature, 64), signer);
        chain.push(record);
        last = row.record;
      }
    } catch (error) {
      if (error instanceof CryptoError || error instanceof ClientError) {
        throw failure("bad_signature", `key record: ${error.message}`);
      }
      throw error;
    }
    this.keyRecordsVerified.set(circleId, { chain, last });
    return chain;
  }

  async #checkSignatures(circle, records, state) {
    const chain = await this.#keyRecords(circle.circleId);
    checkExtends(circle.record, chain);
    const byHash = new Map(chain.map((r) => [b64(r.hash()), r]));
    const admins = new Set(chain.flatMap((r) => r.members.filter((m) => ADMIN_ROLES.includes(m.role)).map((m) => `${m.user} ${m.fp}`)));
    const keys = await this.moderation.state(circle);
    const modHashes = new Map(keys.records.map((r) => [b64(r.hash()), [r, keys.rows[r.generation]]]));
    const identities = new Map();
    const adminIdentity = async (user, seq) => {
      if (!identities.has(user)) {
        identities.set(user, (await this.client.userKeys(user)).identity);
      }
      const identity = identities.get(user);
      if (!admins.has(`${user} ${identity.fingerprint}`)) {
        throw failure("bad_signature", `record ${seq} is signed by ${user}, never an admin here`);
      }
      return identity;
    };
    let checked = 0;
    // Carried in the pin from one verify to the next: only new records are checked here.
    const { cases, filed } = state; // case -> [decisions seen, last hash]; case -> b64 case_hash
    for (const record of records) {
      const kind = record.body.kind;
      const details = record.body.details ?? {};
      if (kind === "report_filed" || kind === "takedown_filed") {
        const caseKey = String(details.case_id);
        if (filed.has(caseKey)) {
          throw failure("changed_record", `record ${record.seq} files a case twice`);
        }
        filed.set(caseKey, String(details.case_hash));
      }
      if (Object.hasOwn(details, "record_hash") && kind !== "moderation_key_rotated") {
        const keyRecord = byHash.get(details.record_hash);
        if (keyRecord === undefined || keyRecord.seq !== (details.record_seq ?? 0)) {
          throw failure("bad_signature", `record ${record.seq} points at a key record that is not in the signed chain`);
        }
        checked += 1;
      } else if (kind === "moderation_key_rotated") {
        const found = modHashes.get(details.record_hash ?? "");
        if (found === undefined) {
          throw failure("bad_signature", `record ${record.seq} names a moderation key that does not exist`);
        }
        const [modRecord, row] = found;
        const signer = await adminIdentity(modRecord.signer, record.seq);
        try {
          modRecord.verifySignature(fromB64(row.signature, 64), signer);
        } catch {
          throw failure("bad_signature", `record ${record.seq}: moderation key signature`);
        }
        checked += 1;
      } else if (kind === "case_decided") {
        checked += await this.#checkDecision(circle, record, details, { adminIdentity, cases, filed });
      } else if (kind === "anon_issuance_key") {
        checked += await checkIssuanceRecord(circle.circleId, record.seq, record.body, adminIdentity, state.issuance);
      } else {
        checked += await checkEntryRecord(circle.circleId, record.seq, record.body, async (user) =>
          (await this.client.userKeys(user)).identity.ed25519Public);
      }
    }
    return checked;
  }

  async #checkDecision(circle, record, details, { adminIdentity, cases, filed }) {
    let decision;
    try {
      decision = Decision.parse(details.decision);
      decision.verifySignature(fromB64(details.signature, 64), await adminIdentity(decision.signer, record.seq));
    } catch (error) {
      if (error instanceof ClientError) {
        throw error; // the signer's lookup failed (wrong_account, …) or was not an admin
      }
      throw failure("bad_signature", `record ${record.seq}: the decision's signature`);
    }
    const caseHex = uuidHex(decision.caseId);
    if (
      decision.signer !== record.body.actor ||
      decision.action !== details.action ||
      caseHex !== details.case_id ||
      decision.circleId !== uuid(circle.circleId)
    ) {
      throw failure("changed_record", `record ${record.seq} differs from its signed decision`);
    }
    if (details.entry_id !== (decision.entryId === null ? null : uuidHex(decision.entryId))) {
      throw failure("changed_record", `record ${record.seq} names another entry than its decision`);
    }
    if (filed.get(caseHex) !== b64(decision.caseHash)) {
      throw failure("changed_record", `record ${record.seq} decides a case that was not filed before it, or not as it was filed`);
    }
    const [seen, last] = cases.get(caseHex) ?? [0, null];
    const prevOk = last === null ? decision.prev === null : decision.prev !== null && equalBytes(decision.prev, last);
    if (decision.seq !== seen || !prevOk) {
      throw failure("broken_chain", `record ${record.seq}: decision ${decision.seq} of case ${decision.caseId} does not follow the case's previous decision`);
    }
    cases.set(caseHex, [seen + 1, decision.hash()]);
    return 1;
  }
}
