/**
 * Moderation for the browser SDK (docs/protocol.md §28-§32), as app/client/moderation.py:
 * the moderation key, reports, and (in cases.js and decisions.js) the admins' cases and
 * decisions. Everything the server returns is verified before it is shown or used:
 * moderation key records against the newest verified key record, reports against the
 * reporter's key and the warning's commitment, decisions against the deciding admin's key
 * and the case's chain.
 */
import { b64, fromB64, uuid } from "../protocol/encoding.js";
import { authorCasesMessage } from "../protocol/anon.js";
import { ENTRY, Envelope, EnvelopeContext, openEnvelope, signingKeyFor } from "../protocol/entries.js";
import {
  adminSet,
  checkModerationSuccessor,
  ModerationKey,
  ModerationKeyRecord,
  openModerationWrap,
  openPreviousModerationKey,
  sealModerationWrap,
  sealPreviousModerationKey,
} from "../protocol/moderation.js";
import { randomUuid } from "../protocol/random.js";
import { ADMIN_ROLES } from "../protocol/records.js";
import { ACTIONS } from "../protocol/decisions.js";
import { checkReportFields, Report, sealReport } from "../protocol/reports.js";
import { TakedownLink } from "../protocol/takedowns.js";
import { listCases } from "./cases.js";
import { decide, dismissCases } from "./decisions.js";
import { deliver } from "./delivery.js";
import { ApiError, mapped, ProtocolError } from "./errors.js";

export { ACTIONS };
export { REASONS } from "../protocol/reports.js";

export class Moderation {
  constructor(circles, entries) {
    this.circles = circles;
    this.entries = entries;
    this.client = circles.client;
    this.identities = new Map();
  }

  // -- the moderation key -------------------------------------------------------------

  /** Someone's keys: checked against the newest record's fingerprint when it lists them. */
  async identity(circle, username) {
    const cacheKey = `${circle.circleId}/${username}`;
    if (!this.identities.has(cacheKey)) {
      const listed = circle.record.member(username);
      const { identity } = await this.client.userKeys(username, { verifiedFp: listed?.fp ?? null });
      if (listed !== null && identity.fingerprint !== listed.fp) {
        throw new ProtocolError("member_key_changed", `${username}'s key differs from the circle's signed record`);
      }
      this.identities.set(cacheKey, identity);
    }
    return this.identities.get(cacheKey);
  }

  /** Keys the newest signed record vouches for (as an admin, if asked); else null: unverified. */
  async listedIdentity(circle, username, { admin = false } = {}) {
    const listed = circle.record.member(username);
    if (listed === null || (admin && !ADMIN_ROLES.includes(listed.role))) {
      return null;
    }
    return this.identity(circle, username);
  }

  /** The circle's moderation key records, verified; `current` is null when there is none. */
  async state(circle) {
    const rows = await this.client.request("GET", `/v1/circles/${circle.circleId}/moderation/keys`);
    const records = await mapped(() => {
      const out = [];
      rows.forEach((row, position) => {
        const record = ModerationKeyRecord.parse(row.record);
        if (uuid(record.circle) !== circle.circleId || record.generation !== position) {
          throw new ProtocolError("broken_chain", "a moderation key record of another circle or position");
        }
        if (row.public_key !== b64(record.publicKey)) {
          throw new ProtocolError("broken_chain", "the public key differs from its record");
        }
        checkModerationSuccessor(out.at(-1) ?? null, record);
        out.push(record);
      });
      return out;
    });
    let stale = false;
    const current = records.at(-1) ?? null;
    if (current !== null) {
      // Stale: not made for today's admins, or before today's admin set began.
      stale = !current.matches(circle.record) || current.recordSeq < circle.adminsSince;
      if (!stale) {
        const signer = await this.identity(circle, current.signer);
        await mapped(() => current.verifySignature(fromB64(rows.at(-1).signature, 64), signer));
      }
    }
    return { records, rows, stale, current };
  }

  async secretKeys(circle, state) {
    if (state.current === null) {
      throw new ProtocolError("moderation_key_missing", "this circle has no moderation key");
    }
    const latest = state.current;
    const row = state.rows.at(-1);
    if (row.wrap === null) {
      throw new ProtocolError("not_a_moderator", "the current moderation key was not shared with you");
    }
    return mapped(() => {
      const keys = new Map();
      keys.set(latest.generation, openModerationWrap(fromB64(row.wrap), {
        circleId: circle.circleId,
        generation: latest.generation,
        publicKey: latest.publicKey,
        identity: this.circles.identity,
      }));
      for (let generation = latest.generation; generation > 0; generation--) {
        const box = state.rows[generation].prev_key_box;
        if (box === null) {
          throw new ProtocolError("missing_key", `moderation key ${generation - 1} is missing`);
        }
        keys.set(generation - 1, openPreviousModerationKey(fromB64(box), {
          newKey: keys.get(generation),
          circleId: circle.circleId,
          generation,
          publicKey: state.records[generation - 1].publicKey,
        }));
      }
      return keys;
    });
  }

  /** The admins of `record` with their keys, each checked against the listed fingerprint. */
  async admins(circle, record) {
    const found = new Map((await this.circles.members(circle.circleId, { trusted: record }))
      .filter((m) => m.status === "active").map((m) => [m.username, m]));
    const admins = new Map();
    for (const listed of record.members) {
      if (!ADMIN_ROLES.includes(listed.role)) {
        continue;
      }
      const member = found.get(listed.user);
      if (member === undefined || member.fingerprint !== listed.fp) {
        throw new ProtocolError("member_key_changed", `${listed.user}'s key differs from the circle's signed record`);
      }
      admins.set(listed.user, member.identity);
    }
    return admins;
  }

  /** As an admin: make generation 0, or the next one when the admin set changed (§29.8). */
  async ensureKey(circleId) {
    let circle = await this.circles.sync(circleId);
    if (!circle.isAdmin) {
      throw new ProtocolError("not_a_moderator", "only the circle's admins moderate");
    }
    if (circle.rotationDue) {
      await this.circles.rotate(circle.circleId);
      circle = await this.circles.sync(circle.circleId);
    }
    let state = await this.state(circle);
    if (state.current !== null && !state.stale) {
      return { circle, state };
    }
    let previous = null;
    if (state.current !== null) {
      if (state.rows.at(-1).wrap === null) {
        throw new ProtocolError(
          "moderation_key_stale",
          "the circle's admins changed; an admin who holds the current moderation key must open Moderation to renew it",
        );
      }
      previous = (await this.secretKeys(circle, state)).get(state.current.generation);
    }
    await this.#newGeneration(circle, state, previous);
    state = await this.state(circle);
    if (state.current === null || state.stale) {
      throw new ProtocolError("moderation_key_stale", "the new moderation key did not stick");
    }
    return { circle, state };
  }

  /**
   * As an admin opening a circle: give it generation 0 if it has no moderation key yet
   * (circles made by older clients), so members can report at once; true if one was made.
   * A stale key is left to the Moderation tab, which says who must renew it.
   */
  async setUpIfMissing(circle) {
    if (!circle.isAdmin || (await this.state(circle)).current !== null) {
      return false;
    }
    await this.ensureKey(circle.circleId);
    return true;
  }

  async #newGeneration(circle, state, previous) {
    const generation = state.current === null ? 0 : state.current.generation + 1;
    const key = ModerationKey.generate();
    const record = ModerationKeyRecord.forKeyRecord(circle.record, {
      key,
      generation,
      prev: state.current === null ? null : state.current.hash(),
      signer: this.circles.username,
    });
    const admins = await this.admins(circle, circle.record);
    const wraps = adminSet(circle.record).map(({ user }) => ({
      username: user,
      wrap: b64(sealModerationWrap(key, { circleId: circle.circleId, generation, recipient: admins.get(user).x25519Public })),
    }));
    const prevBox = previous === null
      ? null
      : b64(sealPreviousModerationKey(key, previous, { circleId: circle.circleId, generation }));
    await this.client.request("POST", `/v1/circles/${circle.circleId}/moderation/keys`, {
      json: {
        generation,
        record: record.text,
        signature: b64(record.sign(this.circles.identity)),
        wraps,
        prev_key_box: prevBox,
      },
    });
  }

  /** The circle's takedown link for `origin` (this server, as the page sees it). */
  async takedownLink(circleId, origin) {
    const { state } = await this.ensureKey(circleId);
    return String(new TakedownLink({
      baseUrl: origin,
      circleId,
      generation: state.current.generation,
      publicKey: state.current.publicKey,
    }));
  }

  // -- reports ------------------------------------------------------------------------

  /** Encrypt a report to the admins, with the warning's body and opening (the reveal). */
  async report(circleId, entryId, { reason, note }) {
    try {
      checkReportFields(reason, note);
    } catch (error) {
      throw new ProtocolError("bad_report", error.message);
    }
    const eid = uuid(entryId);
    const caseId = randomUuid();
    const build = async () => {
      const circle = await this.circles.sync(circleId);
      const state = await this.state(circle);
      if (state.current === null) {
        throw new ProtocolError("moderation_key_missing", "no admin has set up moderation for this circle yet");
      }
      if (state.stale) {
        throw new ProtocolError(
          "moderation_key_stale",
          "the circle's admins changed since its moderation key was made; it is renewed when an admin next opens Moderation",
        );
      }
      const { entry: row } = await this.client.request("GET", `/v1/circles/${circle.circleId}/entries/${eid}`);
      if (row.ciphertext === null) {
        throw new ProtocolError("entry_gone", "this warning is gone or hidden; nothing to report");
      }
      const context = new EnvelopeContext({ kind: ENTRY, circleId: circle.circleId, epoch: row.epoch, entryId: eid });
      const opened = await mapped(() => openEnvelope(Envelope.fromJson(row), { keys: circle.keys, context }));
      const report = new Report({
        circleId: circle.circleId,
        caseId,
        entryId: eid,
        reporter: this.circles.username,
        reason,
        note,
        body: opened.bodyBytes,
        opening: opened.opening,
      });
      const sealed = sealReport(report, {
        identity: this.circles.identity,
        publicKey: state.current.publicKey,
        generation: state.current.generation,
      });
      const json = { case_id: caseId, entry_id: eid, generation: state.current.generation, ciphertext: b64(sealed) };
      return [`/v1/circles/${circle.circleId}/reports`, json];
    };
    // Sent once (delivery.js): the case id is fixed, a lost answer is sent again as it was, and
    // a moderation key renewed in between (the server's or this sync's moderation_key_stale) is
    // followed by one sync and a new seal to the newest key.
    return deliver(this.client, build, { stale: "moderation_key_stale" });
  }

  // -- cases (admins): cases.js, decisions.js ------------------------------------------

  /**
   * A page of cases, newest first, opened and verified (one that does not verify is listed
   * as unreadable): `{ circle, cases, nextCursor }`; pass `nextCursor` as `cursor` for more.
   */
  async listCases(circleId, { status = null, kind = null, limit, cursor = null } = {}) {
    return listCases(this, circleId, { status, kind, limit, cursor });
  }

  /** Dismiss many cases at once, each by its own signed decision (a flood of junk). */
  async dismissCases(circleId, caseIds, options) {
    return dismissCases(this, circleId, caseIds, options);
  }

  /** Sign a decision on a case (§32.3), with its reason sealed to the admins. */
  async decide(circleId, caseId, decision) {
    return decide(this, circleId, caseId, decision);
  }

  /** What the author of a warning (or an admin) learns about its reports; null otherwise. */
  async entryCases(circleId, entryId) {
    try {
      return await this.client.request("GET", `/v1/circles/${uuid(circleId)}/entries/${uuid(entryId)}/moderation`);
    } catch (error) {
      if (error instanceof ApiError && error.code === "entry_not_found") {
        return this.#ownAnonymousCases(uuid(circleId), uuid(entryId));
      }
      if (error instanceof ApiError && error.status === 403) {
        return null;
      }
      throw error;
    }
  }

  /** One's own anonymous warning: the server no longer knows its author, so the request goes
   * without the session, signed by the per-entry key over the current time (§38.5). */
  async #ownAnonymousCases(circleId, entryId) {
    const context = new EnvelopeContext({ kind: ENTRY, circleId, epoch: 0, entryId });
    const key = signingKeyFor(this.circles.identity, context, { anonymous: true });
    let detail;
    try {
      detail = await this.client.request("GET", `/v1/circles/${circleId}/entries/${entryId}`);
    } catch {
      return null;
    }
    if (detail.entry.author_key !== b64(key.publicKey)) {
      return null;
    }
    const at = Math.floor(Date.now() / 1000);
    const signature = key.sign(authorCasesMessage(circleId, entryId, at));
    return this.client.request("POST", `/v1/anon/circles/${circleId}/entries/${entryId}/moderation`, {
      json: { at, signature: b64(signature) },
      anonymous: true,
    });
  }
}
