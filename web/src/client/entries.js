/**
 * Warnings for the browser SDK (docs/protocol.md §18-§27), as app/client/entries.py:
 * seal, post, read, sync, check, corroborate, retract; every warning verified before it
 * shows. `cache` holds the page's synced copy of each circle (cache.js, sync.js).
 */
import { b64, fromB64, uuid } from "../protocol/encoding.js";
import {
  authorTag,
  CATEGORIES,
  CORROBORATION,
  ENTRY,
  Envelope,
  EnvelopeContext,
  openCorroboration,
  openEntry,
  seal,
  SEVERITIES,
  signingKeyFor,
  signRetraction,
  signTerms,
} from "../protocol/entries.js";
import { equalBytes } from "../protocol/hash.js";
import { normaliseName } from "../protocol/names.js";
import { randomUuid } from "../protocol/random.js";
import { Anonymous } from "./anon.js";
import { MemoryCache } from "./cache.js";
import { deliver } from "./delivery.js";
import { mapped, ProtocolError } from "./errors.js";
import { checkName } from "./namecheck.js";
import { syncCopy } from "./sync.js";
import { checkTerms } from "./terms.js";

export { CATEGORIES, SEVERITIES };

// Sync and seal again on these: the key rotated (the envelope's or the token's epoch is old)
// or the admins renewed the moderation key the author is sealed to.
const STALE_CODES = ["stale_epoch", "stale_token", "moderation_key_stale"];
export const DEFAULT_TTL_DAYS = 730; // a warning's life unless its author chooses (1..3650 days, §24.2)
const DAY = 86400;
const HOUR = 3600;
const ALIAS_LIMIT = 20;
const FIELD_LIMIT = 200;
const MONTH = /^[0-9]{4}-(?:0[1-9]|1[0-2])$/;

function length(text) {
  return [...text].length;
}

function isName(text) {
  try {
    return normaliseName(text) !== "";
  } catch {
    return false;
  }
}

/** The writer's checks of §19.1, with the reference's error codes; returns the body. */
export function warningBody({
  subject,
  aliases = [],
  categories,
  text,
  severity = null,
  affiliation = null,
  happened = null,
  contact = null,
  anonymous = false,
}) {
  const unknown = categories.filter((c) => !CATEGORIES.includes(c));
  if (unknown.length > 0 || categories.length === 0) {
    throw new ProtocolError("bad_category", `Choose at least one category (${CATEGORIES.join(", ")}).`);
  }
  if (severity !== null && !SEVERITIES.includes(severity)) {
    throw new ProtocolError("bad_severity", `Severity is one of ${SEVERITIES.join(", ")}.`);
  }
  if (happened !== null && !MONTH.test(happened)) {
    throw new ProtocolError("bad_month", "When it happened is a month, written YYYY-MM.");
  }
  for (const name of [subject, ...aliases]) {
    if (!isName(name)) {
      throw new ProtocolError("bad_name", `“${name}” has no letters or digits.`);
    }
  }
  const tooLong = [subject, ...aliases, affiliation, contact].some((v) => v && length(v) > FIELD_LIMIT);
  if (tooLong || aliases.length > ALIAS_LIMIT || new Set(categories).size !== categories.length) {
    throw new ProtocolError(
      "too_long",
      `Names and details are at most ${FIELD_LIMIT} characters, at most ${ALIAS_LIMIT} aliases, each category once.`,
    );
  }
  return {
    v: 1,
    subject,
    aliases,
    categories,
    severity,
    affiliation,
    happened,
    contact,
    text,
    attribution: anonymous ? "anonymous" : "named",
  };
}

function tombstone(common) {
  return {
    ...common,
    subject: null,
    aliases: [],
    categories: [],
    severity: null,
    affiliation: null,
    happened: null,
    contact: null,
    text: null,
    author: null,
  };
}

export class Entries {
  constructor(circles, { cache = new MemoryCache(), tokens = undefined } = {}) {
    this.circles = circles;
    this.client = circles.client;
    this.cache = cache;
    this.anonymous = new Anonymous(circles, { tokens: tokens ?? null });
    this.authors = new Map(); // "circle/user" -> Ed25519 public key
  }

  /**
   * Seal and post a warning, once (delivery.js): the entry id is fixed before anything is
   * sent, a lost answer is sent again byte for byte (posting is idempotent on the entry id),
   * and a rotation between the sync and the POST (`stale_epoch`) is followed by one sync and
   * a new seal of the same fields.
   */
  async post(circleId, fields, { expiresInDays = null } = {}) {
    const body = warningBody(fields);
    const days = expiresInDays ?? DEFAULT_TTL_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > 3650) {
      throw new ProtocolError("bad_expiry", "A warning lives 1 to 3650 days.");
    }
    const entryId = randomUuid();
    const anonymous = body.attribution === "anonymous";
    let expiresAt = Math.floor(Date.now() / 1000) + days * DAY; // signed in the terms (§24.2)
    if (anonymous) {
      // The nearest whole hour: the expiry must not date the post (§24.2).
      expiresAt = Math.floor((expiresAt + HOUR / 2) / HOUR) * HOUR;
    }
    const build = async () => {
      const circle = await this.circles.sync(circleId);
      const context = new EnvelopeContext({ kind: ENTRY, circleId: circle.circleId, epoch: circle.epoch, entryId });
      const signingKey = signingKeyFor(this.circles.identity, context, { anonymous });
      const envelope = seal(body, { key: circle.key, context, signingKey });
      const tag = authorTag(this.circles.identity, { circleId: circle.circleId, entryId });
      const terms = signTerms(signingKey, { circleId: circle.circleId, entryId, tag, expiresAt });
      const json = {
        entry_id: entryId,
        epoch: circle.epoch,
        ...envelope.toJson(),
        author_tag: b64(tag),
        expires_at: expiresAt,
        terms_signature: b64(terms),
      };
      if (!anonymous) {
        return [`/v1/circles/${circle.circleId}/entries`, { ...json, anonymous: false }];
      }
      const extra = await this.anonymous.fields(circle, entryId, envelope.authorKey);
      return [`/v1/anon/circles/${circle.circleId}/entries`, { ...json, ...extra }];
    };
    return deliver(this.client, build, { stale: STALE_CODES, anonymous });
  }

  /**
   * A named author's Ed25519 key from the member list, checked against the signed
   * record's fingerprint for everyone the newest record lists (§23 step 10).
   */
  async #authorKey(circle, username) {
    const cacheKey = `${circle.circleId}/${username}`;
    if (!this.authors.has(cacheKey)) {
      for (const member of await this.circles.members(circle.circleId)) {
        const listed = circle.record.member(member.username);
        if (listed !== null && listed.fp !== member.fingerprint) {
          throw new ProtocolError("member_key_changed", `${member.username}'s key differs from the circle's signed record`);
        }
        this.authors.set(`${circle.circleId}/${member.username}`, member.identity.ed25519Public);
      }
    }
    if (!this.authors.has(cacheKey)) {
      throw new ProtocolError("unknown_author", `${username} never was in this circle`);
    }
    return this.authors.get(cacheKey);
  }

  /**
   * Open a row; when it is sealed under an epoch newer than the keys in hand (a rotation
   * since the circle was synced), sync the circle's keys first and go on (§26.9).
   */
  async openCurrent(circle, row) {
    if (row.ciphertext !== null && !circle.keys.has(row.epoch)) {
      circle = await this.circles.sync(circle.circleId);
    }
    try {
      return [circle, await this.open(circle, row)];
    } catch (error) {
      // §23 checks the signature first (a relabelled or moved envelope is the server's doing);
      // one that verifies but whose key no sync brings is a missing key.
      if (error instanceof ProtocolError && error.code === "decryption_failed" && !circle.keys.has(row.epoch)) {
        throw new ProtocolError("missing_key", `no key for epoch ${row.epoch}`);
      }
      throw error;
    }
  }

  /** Verify (signature, author, context) and decrypt one warning row (§23). */
  async open(circle, row) {
    const common = {
      entryId: row.entry_id,
      seq: row.seq,
      status: row.status,
      corroborations: row.corroborations,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      authorKey: row.author_key,
    };
    if (row.ciphertext === null) {
      checkTerms(circle.circleId, row);
      return tombstone(common); // retracted, expired, removed or hidden: the status only
    }
    if (row.anonymous === (row.author !== null)) {
      throw new ProtocolError("author_leak", "the server mislabelled a warning's attribution");
    }
    const context = new EnvelopeContext({ kind: ENTRY, circleId: circle.circleId, epoch: row.epoch, entryId: row.entry_id });
    const { envelope, body } = await mapped(() => {
      const env = Envelope.fromJson(row);
      return { envelope: env, body: openEntry(env, { keys: circle.keys, context }).body };
    });
    checkTerms(circle.circleId, row); // after the envelope: §23's order names the error
    const anonymous = body.attribution === "anonymous";
    if (anonymous !== row.anonymous) {
      throw new ProtocolError("author_mismatch", "the warning's attribution was changed");
    }
    let author = null;
    if (!anonymous) {
      if (!equalBytes(await this.#authorKey(circle, row.author), envelope.authorKey)) {
        throw new ProtocolError("author_mismatch", `the warning was not signed by ${row.author}`);
      }
      author = row.author;
    }
    return {
      ...common,
      subject: body.subject,
      aliases: [...body.aliases],
      categories: [...body.categories],
      severity: body.severity ?? null,
      affiliation: body.affiliation ?? null,
      happened: body.happened ?? null,
      contact: body.contact ?? null,
      text: body.text,
      author,
    };
  }

  /** One page of the feed, newest first; pass `nextBefore` back as `before` for older ones. */
  async feed(circleId, { before = null, limit = 50 } = {}) {
    const circle = await this.circles.sync(circleId);
    let current = circle;
    const page = await this.client.request("GET", `/v1/circles/${circle.circleId}/entries`, { params: { before, limit } });
    const entries = [];
    for (const row of page.entries) {
      if (before !== null && row.seq >= before) {
        throw new ProtocolError("bad_page", "the server returned warnings out of order");
      }
      let entry;
      [current, entry] = await this.openCurrent(current, row);
      entries.push(entry);
    }
    return { entries, nextBefore: page.next_before, lastSeq: page.last_seq, circle: current };
  }

  /** A warning and its corroborations, each verified. */
  async show(circleId, entryId) {
    const circle = await this.circles.sync(circleId);
    const eid = uuid(entryId);
    const detail = await this.client.request("GET", `/v1/circles/${circle.circleId}/entries/${eid}`);
    const warning = await this.open(circle, detail.entry);
    const items = [];
    for (const row of detail.corroborations) {
      if (row.ciphertext === null) {
        continue;
      }
      if (row.anonymous === (row.author !== null)) {
        throw new ProtocolError("author_leak", "a corroboration's attribution was mislabelled");
      }
      const context = new EnvelopeContext({
        kind: CORROBORATION,
        circleId: circle.circleId,
        epoch: row.epoch,
        entryId: eid,
        corroborationId: row.corroboration_id,
      });
      const opened = await mapped(() => openCorroboration(Envelope.fromJson(row), { keys: circle.keys, context }));
      let author = null;
      if (!row.anonymous) {
        if (!equalBytes(await this.#authorKey(circle, row.author), fromB64(row.author_key, 32))) {
          throw new ProtocolError("author_mismatch", "a corroboration was signed by someone else");
        }
        author = row.author;
      }
      items.push({ text: opened.body.text, author, createdAt: row.created_at });
    }
    return { warning, corroborations: items };
  }

  /** Bring the page's copy of the circle's warnings up to date: only what changed (§26.9). */
  async sync(circleId) {
    return syncCopy(this, uuid(circleId));
  }

  /**
   * A full read of the circle: every warning, oldest first, as the page's copy holds it
   * after a sync (§26.9). Only what changed since the last sync is fetched and verified
   * (new warnings, and tombstones for retracted, expired, hidden or removed ones, whose
   * text leaves the copy), so the cost follows the changes, not the history. The copy is
   * kept in memory by `cache` (cache.js: one per Entries object, so per tab; nothing is
   * written to the browser's storage).
   */
  async readAll(circleId) {
    const copy = await this.sync(circleId);
    return [...copy.warnings.values()]
      .map((held) => {
        const { changeSeq: _, ...entry } = held.data;
        return entry;
      })
      .sort((a, b) => a.seq - b.seq);
  }

  /** Sync, then match `name` against every live warning the page holds (§25.3). */
  async check(circleId, name) {
    return checkName(this, uuid(circleId), name);
  }

  /**
   * Seal and send a corroboration, once: as `post` (a fixed id, one new seal on a rotation).
   * Never on your own warning (§24.1): refused here before sending, and by the server.
   */
  async corroborate(circleId, entryId, { text, anonymous = false }) {
    const authorKey = await this.#heldAuthorKey(uuid(circleId), uuid(entryId));
    if (this.isMine(uuid(circleId), { entryId: uuid(entryId), authorKey })) {
      throw new ProtocolError("self_corroboration", "This is your own warning: only other members can corroborate it.");
    }
    const corroborationId = randomUuid();
    const build = async () => {
      const circle = await this.circles.sync(circleId);
      const context = new EnvelopeContext({
        kind: CORROBORATION,
        circleId: circle.circleId,
        epoch: circle.epoch,
        entryId: uuid(entryId),
        corroborationId,
      });
      const signingKey = signingKeyFor(this.circles.identity, context, { anonymous });
      const envelope = seal({ v: 1, text }, { key: circle.key, context, signingKey });
      const tag = authorTag(this.circles.identity, { circleId: circle.circleId, entryId: uuid(entryId) });
      const json = { corroboration_id: corroborationId, epoch: circle.epoch, ...envelope.toJson(), author_tag: b64(tag) };
      if (!anonymous) {
        return [`/v1/circles/${circle.circleId}/entries/${uuid(entryId)}/corroborations`, { ...json, anonymous: false }];
      }
      const extra = await this.anonymous.fields(circle, corroborationId, envelope.authorKey);
      return [`/v1/anon/circles/${circle.circleId}/entries/${uuid(entryId)}/corroborations`, { ...json, ...extra }];
    };
    return deliver(this.client, build, { stale: STALE_CODES, anonymous });
  }

  /** Sign with the key the warning was signed with: the identity key or the per-entry key (§24). */
  async retract(circleId, entryId) {
    const cid = uuid(circleId);
    const eid = uuid(entryId);
    const authorKey = fromB64(await this.#heldAuthorKey(cid, eid), 32);
    const context = new EnvelopeContext({ kind: ENTRY, circleId: cid, epoch: 0, entryId: eid });
    for (const anonymous of [false, true]) {
      const key = signingKeyFor(this.circles.identity, context, { anonymous });
      if (equalBytes(key.publicKey, authorKey)) {
        const signature = signRetraction(key, { circleId: cid, entryId: eid });
        // An anonymous warning's retraction goes without the session (§38.6).
        const prefix = anonymous ? "/v1/anon/circles" : "/v1/circles";
        return this.client.request("POST", `${prefix}/${cid}/entries/${eid}/retract`, { json: { signature: b64(signature) }, anonymous });
      }
    }
    throw new ProtocolError("not_author", "this warning was not signed by any of your keys");
  }

  /**
   * The key a warning is signed with (base64), from the page's copy after a sync (which asks
   * about every change, not about this warning), so that acting on one's own anonymous warning
   * sends no request naming it with the session first (§38.6). A warning the copy holds
   * without its key (hidden: a tombstone) is asked for, with the session.
   */
  async #heldAuthorKey(circleId, entryId) {
    const held = (await this.sync(circleId)).warnings.get(entryId);
    if (held?.data.authorKey) {
      return held.data.authorKey;
    }
    const detail = await this.client.request("GET", `/v1/circles/${circleId}/entries/${entryId}`);
    return detail.entry.author_key;
  }

  /** Whether this member wrote the warning (named, or anonymous with a key only they derive). */
  isMine(circleId, row) {
    const context = new EnvelopeContext({ kind: ENTRY, circleId, epoch: 0, entryId: row.entryId });
    return [false, true].some((anonymous) =>
      b64(signingKeyFor(this.circles.identity, context, { anonymous }).publicKey) === row.authorKey,
    );
  }
}
