/**
 * Circles for the browser SDK (docs/protocol.md §8-§17), as app/client/circles.py:
 * every record, wrap and key is verified here before it is used.
 */
import { adminsSince } from "../protocol/moderation.js";
import { CircleKey, openCircleMeta, openPreviousKey, openWrap, sealCircleMeta, sealWrap } from "../protocol/circles.js";
import { b64, fromB64, uuid } from "../protocol/encoding.js";
import { normaliseFingerprint } from "../protocol/identity.js";
import { Invite } from "../protocol/membership.js";
import { randomUuid } from "../protocol/random.js";
import { ADMIN_ROLES, KeyRecord, verifyRecord } from "../protocol/records.js";
import { mapped, ProtocolError } from "./errors.js";
import { deleteCircle, readTombstone } from "./deletion.js";
import { leave, remove, rotate } from "./rotation.js";
import { parseIdentity } from "./sdk.js";

/** For each member, the seq of the record that last added them to the member set. */
function joinedAt(chain, known) {
  const joined = { ...known };
  let previous = null;
  for (const record of chain) {
    const users = new Set(record.members.map((m) => m.user));
    if (previous !== null || record.seq === 0) {
      for (const user of users) {
        if (previous === null || !previous.has(user)) {
          joined[user] = record.seq;
        }
      }
    }
    previous = users;
  }
  return Object.fromEntries(Object.entries(joined).filter(([user]) => previous?.has(user)));
}

/** A circle as this member verified it: the newest record and every epoch key. */
export class VerifiedCircle {
  constructor({ circleId, record, keys, meta, rotationDue, role, joined, adminsSince: since }) {
    Object.assign(this, { circleId, record, keys, rotationDue, role, joined, adminsSince: since });
    this.name = meta?.name ?? null;
    this.description = meta?.description ?? null;
    Object.freeze(this);
  }

  get epoch() {
    return this.record.epoch;
  }

  get key() {
    return this.keys.get(this.record.epoch);
  }

  get isAdmin() {
    return ADMIN_ROLES.includes(this.role);
  }
}

export class Circles {
  constructor(client, { username, identity, trust }) {
    this.client = client;
    this.username = username;
    this.identity = identity;
    this.trust = trust;
    this.fingerprint = identity.fingerprint;
  }

  // -- reading and verifying ------------------------------------------------------

  /** The caller's circles; an active circle's name is read from a verified sync. */
  async list() {
    const circles = await this.client.request("GET", "/v1/circles");
    return Promise.all(
      circles.map(async (c) => {
        if (c.deletion) {
          const tombstone = await readTombstone(this, c.circle_id, c.deletion);
          return { circleId: c.circle_id, role: c.role, status: "deleted", epoch: c.epoch, problem: null, ...tombstone };
        }
        let name = null;
        let problem = null;
        if (c.status === "active") {
          try {
            name = (await this.sync(c.circle_id)).name;
          } catch (error) {
            problem = error;
          }
        }
        return { circleId: c.circle_id, name, role: c.role, status: c.status, epoch: c.epoch, problem };
      }),
    );
  }

  /** Fetch and verify the record chain and every key this member may hold (§10.5). */
  async sync(circleId) {
    const cid = uuid(circleId);
    const info = await this.client.request("GET", `/v1/circles/${cid}`);
    const pin = this.trust.pin(cid);
    const after = pin.seq >= 0 ? pin.seq - 1 : -1;
    const rows = await this.client.request("GET", `/v1/circles/${cid}/records`, { params: { after } });
    const chain = await mapped(() => {
      let anchor = null;
      if (pin.inviter_fingerprint !== null) {
        if (pin.invite_record === null) {
          throw new ProtocolError("untrusted_circle", "the pinned invite has no anchor");
        }
        anchor = { recordHash: fromB64(pin.invite_record, 32), fingerprint: pin.inviter_fingerprint };
      }
      return this.#verifyChain(cid, rows, pin, anchor);
    });
    const joined = joinedAt(chain, pin.joined);
    const since = adminsSince(chain, pin.seq >= 0 ? pin.admins_since : -1);
    const latest = chain.at(-1);
    const mine = latest.member(this.username);
    if (mine === null || mine.fp !== this.fingerprint) {
      throw new ProtocolError("not_in_record", "the newest signed record does not list you with your key");
    }
    if (latest.epoch < pin.epoch) {
      throw new ProtocolError("rollback", "the server showed an older epoch than before");
    }
    const keyIds = new Map(chain.map((r) => [r.epoch, r.keyId]));
    const keys = await this.#openKeys(cid, latest, keyIds);
    let meta = null;
    if (info.meta !== null && info.meta !== undefined && keys.has(info.meta_epoch)) {
      meta = await mapped(() =>
        openCircleMeta(fromB64(info.meta), { key: keys.get(info.meta_epoch), circleId: cid, epoch: info.meta_epoch }),
      );
    }
    this.trust.store(cid, {
      ...pin,
      seq: latest.seq,
      record: latest.text,
      epoch: latest.epoch,
      inviter_fingerprint: null,
      invite_record: null,
      joined,
      admins_since: since,
      name: meta?.name ?? null, // so a deleted circle can still be named
    });
    return new VerifiedCircle({
      circleId: cid,
      record: latest,
      keys,
      meta,
      rotationDue: Boolean(info.rotation_due),
      role: mine.role,
      joined,
      adminsSince: since,
    });
  }

  #verifyChain(circleId, rows, pin, anchor) {
    if (pin.seq >= 0) {
      if (rows.length === 0 || rows[0].seq !== pin.seq) {
        throw new ProtocolError("rollback", "the server no longer shows the newest record this device verified");
      }
      if (rows[0].record !== pin.record) {
        throw new ProtocolError("fork", "the server shows a different history than before");
      }
    }
    let previous = pin.seq >= 0 ? KeyRecord.parse(pin.record) : null;
    const chain = previous === null ? [] : [previous];
    // A joiner's first verification must pass through the record named in the invite,
    // with the inviter listed there as an admin; once a record is pinned, the pin is the anchor.
    let vouched = anchor === null || pin.seq >= 0;
    for (const row of pin.seq >= 0 ? rows.slice(1) : rows) {
      const record = KeyRecord.parse(row.record);
      if (uuid(record.circle) !== circleId) {
        throw new ProtocolError("broken_chain", "a record of another circle");
      }
      const signer = parseIdentity(row.signer_identity);
      verifyRecord(previous, record, fromB64(row.signature, 64, "signature"), signer);
      if (!vouched && b64(record.hash()) === b64(anchor.recordHash)) {
        vouched = record.members.some((m) => m.fp === anchor.fingerprint && ADMIN_ROLES.includes(m.role));
      }
      chain.push(record);
      previous = record;
    }
    if (chain.length === 0) {
      throw new ProtocolError("rollback", "the server returned no records");
    }
    if (!vouched) {
      throw new ProtocolError(
        "untrusted_circle",
        "this circle's history does not pass through what your inviter saw, or they are not an admin in it",
      );
    }
    return chain;
  }

  async #openKeys(circleId, latest, keyIds) {
    const rows = await this.client.request("GET", `/v1/circles/${circleId}/keys`);
    const byEpoch = new Map(rows.map((r) => [r.epoch, r]));
    for (const [epoch, row] of byEpoch) {
      const expected = keyIds.get(epoch);
      if (expected !== undefined && row.key_id !== b64(expected)) {
        throw new ProtocolError("untrusted_signer", `epoch ${epoch}'s key id differs from the signed record`);
      }
    }
    const current = byEpoch.get(latest.epoch);
    if (current === undefined || current.wrap === null) {
      throw new ProtocolError("missing_key", `no key for epoch ${latest.epoch} was shared with you`);
    }
    return mapped(() => {
      const keys = new Map();
      keys.set(
        latest.epoch,
        openWrap(fromB64(current.wrap), { circleId, epoch: latest.epoch, keyId: keyIds.get(latest.epoch), identity: this.identity }),
      );
      for (let epoch = latest.epoch; epoch > 0; epoch--) {
        const box = byEpoch.get(epoch)?.prev_key_box ?? null;
        if (box === null || (!keyIds.has(epoch - 1) && !byEpoch.has(epoch - 1))) {
          throw new ProtocolError("missing_key", `epoch ${epoch - 1}'s key is missing`);
        }
        const keyId = keyIds.get(epoch - 1) ?? fromB64(byEpoch.get(epoch - 1).key_id, 16);
        keys.set(epoch - 1, openPreviousKey(fromB64(box), { newKey: keys.get(epoch), circleId, epoch, keyId }));
      }
      return keys;
    });
  }

  /** The member list, each identity verified (or matched to `trusted`'s fingerprint). */
  async members(circleId, { trusted = null } = {}) {
    const rows = await this.client.request("GET", `/v1/circles/${uuid(circleId)}/members`);
    return rows.map((row) => {
      const listed = trusted?.member(row.username) ?? null;
      const identity = parseIdentity(row.identity, { verifiedFp: listed?.fp ?? null });
      return {
        username: row.username,
        role: row.role,
        status: row.status,
        fingerprint: identity.fingerprint, // computed here, not taken from the server
        identity,
        departure: row.departure ?? null,
      };
    });
  }

  // -- creating and joining ---------------------------------------------------------

  async create(name, description = "") {
    const circleId = randomUuid();
    const key = CircleKey.generate();
    const record = KeyRecord.create({
      circleId,
      seq: 0,
      epoch: 0,
      keyId: key.keyId,
      members: [{ user: this.username, fp: this.fingerprint, role: "owner" }],
      prev: null,
      signer: this.username,
    });
    const meta = sealCircleMeta({ name, description }, { key, circleId, epoch: 0 });
    await this.client.request("POST", "/v1/circles", {
      json: {
        circle_id: circleId,
        record: record.text,
        signature: b64(record.sign(this.identity)),
        wrap: b64(sealWrap(key, { circleId, epoch: 0, recipient: this.identity.x25519Public })),
        meta: b64(meta),
      },
    });
    return this.sync(circleId);
  }

  /** A new invite for the newest record this tab verified (§14, §16.2). */
  async createInvite(circleId, { role = "member", maxUses = 1, expiresInDays = 7 } = {}) {
    const verified = await this.sync(circleId);
    const invite = Invite.create({
      circleId: verified.circleId,
      inviterFingerprint: this.fingerprint,
      recordHash: verified.record.hash(),
    });
    const created = await this.client.request("POST", `/v1/circles/${verified.circleId}/invites`, {
      json: {
        invite_id: invite.inviteId,
        secret_hash: b64(invite.secretHash),
        role,
        max_uses: maxUses,
        expires_in_days: expiresInDays,
      },
    });
    return { invite, created };
  }

  /** Parse an invite string (bad_invite if it is not one). */
  static parseInvite(text) {
    try {
      return Invite.parse(text);
    } catch (error) {
      throw new ProtocolError("bad_invite", error.message);
    }
  }

  /** Redeem an invite; check the inviter is who the invite says before trusting anything. */
  async join(inviteText) {
    const invite = Circles.parseInvite(inviteText);
    const result = await this.client.request("POST", "/v1/invites/redeem", { json: invite.redeemRequest() });
    const inviter = parseIdentity(result.inviter.identity);
    if (inviter.fingerprint !== invite.inviterFingerprint) {
      throw new ProtocolError("inviter_mismatch", "the server says someone else made this invite");
    }
    const pin = this.trust.pin(invite.circleId);
    this.trust.store(invite.circleId, {
      ...pin,
      inviter_fingerprint: invite.inviterFingerprint,
      invite_record: b64(invite.recordHash),
    });
    return { circleId: invite.circleId, status: result.status, inviter: result.inviter.username };
  }

  // -- admin actions ----------------------------------------------------------------

  /** Sync; if someone left, rotate first (the server refuses other changes until then). */
  async ready(circleId) {
    let circle = await this.sync(circleId);
    if (circle.rotationDue) {
      await this.rotate(circleId);
      circle = await this.sync(circleId);
    }
    return circle;
  }

  /** The next record in the same epoch (same key), signed by this admin. */
  sameEpochSuccessor(latest, members) {
    return KeyRecord.create({
      circleId: latest.circle,
      seq: latest.seq + 1,
      epoch: latest.epoch,
      keyId: latest.keyId,
      members,
      prev: latest.hash(),
      signer: this.username,
    });
  }

  signed(record) {
    return { record: record.text, signature: b64(record.sign(this.identity)) };
  }

  /** A pending member as the admin must compare them (§16.4): verified keys and role. */
  async pending(circleId) {
    const members = await this.members(circleId);
    return members.filter((m) => m.status === "pending");
  }

  /**
   * Admit a pending member after comparing their fingerprint; seal the key to them.
   * `fingerprint` is what the member read out (typed by the admin), or `compared: true`
   * when the admin looked at both and said they match.
   */
  async confirm(circleId, username, { fingerprint = null, compared = false } = {}) {
    const circle = await this.ready(circleId);
    const target = (await this.members(circle.circleId)).find((m) => m.username === username && m.status === "pending");
    if (target === undefined) {
      throw new ProtocolError("not_pending", `${username} is not waiting for confirmation`);
    }
    if (target.role !== "member" && target.role !== "admin") {
      throw new ProtocolError("bad_role", `the server asks to admit ${username} as ${target.role}`);
    }
    if (fingerprint !== null && fingerprint !== "") {
      let typed;
      try {
        typed = normaliseFingerprint(fingerprint);
      } catch {
        typed = null;
      }
      if (typed !== target.fingerprint) {
        throw new ProtocolError(
          "fingerprint_mismatch",
          `${username}'s key fingerprint is not the one you were given; not confirming`,
        );
      }
    } else if (!compared) {
      throw new ProtocolError("not_confirmed", "fingerprint not confirmed");
    }
    const latest = circle.record;
    const record = this.sameEpochSuccessor(latest, [
      ...latest.members,
      { user: username, fp: target.fingerprint, role: target.role },
    ]);
    const wrap = sealWrap(circle.key, { circleId: circle.circleId, epoch: latest.epoch, recipient: target.identity.x25519Public });
    const result = await this.client.request("POST", `/v1/circles/${circle.circleId}/members/${encodeURIComponent(username)}/confirm`, {
      json: { ...this.signed(record), wrap: b64(wrap) },
    });
    await this.sync(circle.circleId);
    return result;
  }

  async setRole(circleId, username, role) {
    const circle = await this.ready(circleId);
    const latest = circle.record;
    if (latest.member(username) === null) {
      throw new ProtocolError("not_member", `${username} is not an active member`);
    }
    const members = latest.members.map((m) => ({ ...m, role: m.user === username ? role : m.role }));
    const record = this.sameEpochSuccessor(latest, members);
    const result = await this.client.request("POST", `/v1/circles/${circle.circleId}/members/${encodeURIComponent(username)}/role`, {
      json: { ...this.signed(record), role },
    });
    await this.sync(circle.circleId);
    return result;
  }

  /** A new epoch key now (also how a departure is rotated out); `dropped`: who left. */
  async rotate(circleId) {
    return rotate(this, circleId);
  }

  async remove(circleId, username) {
    return remove(this, circleId, username);
  }

  async leave(circleId) {
    return leave(this, circleId);
  }

  /** As an owner: delete the circle for everyone (a signed statement, §16.9). */
  async delete(circleId) {
    return deleteCircle(this, circleId);
  }

  async invites(circleId) {
    return this.client.request("GET", `/v1/circles/${uuid(circleId)}/invites`);
  }

  async revokeInvite(circleId, inviteId) {
    return this.client.request("POST", `/v1/circles/${uuid(circleId)}/invites/${uuid(inviteId)}/revoke`);
  }
}
