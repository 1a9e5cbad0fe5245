/**
 * Sealed warnings for the browser SDK (docs/protocol.md §36), as app/client/sealed.py:
 * file, list, withdraw and publish one's own; as an admin, set k and open the matches the
 * server shows. The settings chain and its admin signature pin the VOPRF key and k; every
 * evaluation is checked against that key; every match is verified before it is shown.
 */
import { b64, fromB64, uuid } from "../protocol/encoding.js";
import { ADMIN_ROLES } from "../protocol/records.js";
import { randomUuid } from "../protocol/random.js";
import {
  DEFAULT_EVALUATIONS,
  DEFAULT_K,
  MAX_SEALED_ALIASES,
  NamePolynomial,
  SealedSettings,
  checkSettingsSuccessor,
  nameValue,
  sealSecret,
  sealedNameForms,
  sealedOprfInput,
} from "../protocol/sealed.js";
import { NotEnoughShares, SealedFiling, openMatch, openOwnFiling, sealFiling } from "../protocol/sealedfilings.js";
import { OprfElement, OprfEvaluation, OprfProof, OprfPublicKey, VoprfClient } from "../protocol/voprf.js";
import { warningBody } from "./entries.js";
import { ApiError, mapped, ProtocolError } from "./errors.js";

export class Sealed {
  constructor(moderation) {
    this.moderation = moderation;
    this.circles = moderation.circles;
    this.entries = moderation.entries;
    this.client = moderation.client;
    this.checked = new Map(); // circleId -> {seq, settings, moderation record}
  }

  /** The verified settings chain; `current` is null before an admin set it up. */
  async state(circle) {
    const data = await this.client.request("GET", `/v1/circles/${circle.circleId}/sealed/settings`);
    const records = await mapped(() => {
      const out = [];
      data.records.forEach((row, position) => {
        const record = SealedSettings.parse(row.record);
        if (record.circleId !== circle.circleId || record.seq !== position) {
          throw new ProtocolError("broken_chain", "a settings record out of place");
        }
        checkSettingsSuccessor(out.at(-1) ?? null, record);
        out.push(record);
      });
      return out;
    });
    const current = records.at(-1) ?? null;
    let stale = false;
    if (current !== null) {
      const listed = circle.record.member(current.signer);
      stale = listed === null || !ADMIN_ROLES.includes(listed.role);
      if (!stale) {
        const signer = await this.moderation.identity(circle, current.signer);
        await mapped(() => current.verifySignature(fromB64(data.records.at(-1).signature, 64), signer));
      }
    }
    return { records, current, stale, serverKey: fromB64(data.oprf_public_key, 32), used: data.evaluations_used, allowed: data.evaluations_allowed };
  }

  async #usable(circle) {
    const state = await this.state(circle);
    if (state.current === null) {
      throw new ProtocolError("sealed_not_set_up", "No admin has set up sealed warnings in this circle yet.");
    }
    if (state.stale) {
      throw new ProtocolError(
        "sealed_settings_stale",
        "The admin who signed this circle's sealed-warning settings is no longer an admin; an admin must sign them again.",
      );
    }
    return state.current;
  }

  /** As an admin: sign the first settings record, a change of k or of the daily limit. */
  async configure(circleId, { k = null, evaluationsPerDay = null } = {}) {
    const { circle } = await this.moderation.ensureKey(circleId);
    const state = await this.state(circle);
    const latest = state.current;
    const newK = k ?? latest?.k ?? DEFAULT_K;
    const perDay = evaluationsPerDay ?? latest?.evaluationsPerDay ?? DEFAULT_EVALUATIONS;
    if (latest !== null && !state.stale && latest.k === newK && latest.evaluationsPerDay === perDay) {
      return latest;
    }
    const record = new SealedSettings({
      circleId: circle.circleId,
      seq: latest === null ? 0 : latest.seq + 1,
      oprfPublicKey: latest === null ? state.serverKey : latest.oprfPublicKey,
      k: newK,
      evaluationsPerDay: perDay,
      prev: latest === null ? null : latest.hash(),
      signer: this.circles.username,
    });
    await mapped(() => record.check());
    await this.client.request("POST", `/v1/circles/${circle.circleId}/sealed/settings`, {
      json: { record: new TextDecoder().decode(record.toBytes()), signature: b64(record.sign(this.circles.identity)) },
    });
    return record;
  }

  async #prepared(circle, { fresh }) {
    const cached = this.checked.get(circle.circleId);
    if (!fresh && cached !== undefined && cached.seq === circle.record.seq) {
      return cached;
    }
    const settings = await this.#usable(circle);
    const moderation = await this.moderation.state(circle);
    if (moderation.current === null || moderation.stale) {
      throw new ProtocolError(
        moderation.stale ? "moderation_key_stale" : "moderation_key_missing",
        "The circle's moderation key is not current; an admin must open Moderation to renew it.",
      );
    }
    const ready = { seq: circle.record.seq, settings, key: moderation.current };
    this.checked.set(circle.circleId, ready);
    return ready;
  }

  /** One per-name value per exact form: a VOPRF round trip checked against the pinned key. */
  async #values(circle, settings, names) {
    const voprf = new VoprfClient(new OprfPublicKey(settings.oprfPublicKey));
    const blinded = await mapped(() => voprf.blind(sealedNameForms(names).map((f) => sealedOprfInput(circle.circleId, f))));
    const answer = await this.client.request("POST", `/v1/circles/${circle.circleId}/sealed/evaluate`, {
      json: { blinded: blinded.elements.map((e) => b64(e.toBytes())) },
    });
    return mapped(() => {
      const evaluation = new OprfEvaluation(
        answer.evaluated.map((e) => new OprfElement(fromB64(e, 32))),
        new OprfProof(fromB64(answer.proof, 64)),
      );
      const outputs = voprf.finalize(blinded, evaluation);
      const first = circle.keys.get(0);
      if (first === undefined) {
        throw new ProtocolError("missing_key", "the circle's first key is missing");
      }
      const secret = sealSecret(first);
      return outputs.map((output) => nameValue(secret, output));
    });
  }

  /** File a sealed warning: nobody can read it until k members have named this person. */
  async seal(circleId, fields) {
    const aliases = fields.aliases ?? [];
    if (aliases.length > MAX_SEALED_ALIASES) {
      throw new ProtocolError("too_long", `A sealed warning has at most ${MAX_SEALED_ALIASES} other names.`);
    }
    const payload = warningBody({ ...fields, anonymous: false });
    const circle = await this.circles.sync(circleId);
    let values = null;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const { settings, key } = await this.#prepared(circle, { fresh: attempt > 0 });
      values ??= await this.#values(circle, settings, [payload.subject, ...payload.aliases]);
      const { filing, signature } = await mapped(() =>
        sealFiling(payload, {
          circleId: circle.circleId,
          filingId: randomUuid(),
          filer: this.circles.username,
          identity: this.circles.identity,
          polynomials: values.map((v) => NamePolynomial.derive(v, settings.k)),
          moderationPublic: key.publicKey,
          generation: key.generation,
        }),
      );
      try {
        const result = await this.client.request("POST", `/v1/circles/${circle.circleId}/sealed/filings`, {
          json: { record: new TextDecoder().decode(filing.toBytes()), signature: b64(signature) },
        });
        return { filingId: result.filing_id, status: result.status, k: settings.k };
      } catch (error) {
        const retry = error instanceof ApiError && ["sealed_k_changed", "moderation_key_stale"].includes(error.code);
        if (!retry || attempt > 0) {
          throw error;
        }
      }
    }
    throw new Error("unreachable");
  }

  async #own(circleId, row) {
    if (row.record === null) {
      return null;
    }
    return mapped(() => {
      const filing = SealedFiling.parse(row.record);
      filing.verifySignature(fromB64(row.signature, 64), this.circles.identity.publicIdentity());
      if (filing.circleId !== uuid(circleId) || filing.filer !== this.circles.username || filing.filingId !== uuid(row.filing_id)) {
        throw new ProtocolError("wrong_epoch", "a filing of another circle or filer");
      }
      return openOwnFiling(filing, this.circles.identity);
    });
  }

  /** One's own sealed warnings: status (open, matched, withdrawn, void) and content. */
  async filings(circleId) {
    const circle = await this.circles.sync(circleId);
    const current = (await this.state(circle)).current;
    const rows = await this.client.request("GET", `/v1/circles/${circle.circleId}/sealed/filings`);
    const out = [];
    for (const row of rows) {
      const payload = await this.#own(circle.circleId, row);
      out.push({
        filingId: row.filing_id,
        status: row.status,
        matched: row.status === "matched",
        k: row.k,
        counts: row.status === "open" && current !== null && row.k === current.k,
        subject: payload?.subject ?? null,
        aliases: payload?.aliases ?? [],
        text: payload?.text ?? null,
        createdAt: row.created_at,
      });
    }
    return out;
  }

  async withdraw(circleId, filingId) {
    const result = await this.client.request("POST", `/v1/circles/${uuid(circleId)}/sealed/filings/${uuid(filingId)}/withdraw`);
    return { filingId: result.filing_id, status: result.status };
  }

  /** Post one's own sealed warning to the whole circle, named or anonymous. */
  async publish(circleId, filingId, { anonymous = false } = {}) {
    const rows = await this.client.request("GET", `/v1/circles/${uuid(circleId)}/sealed/filings`);
    const row = rows.find((r) => r.filing_id === uuid(filingId));
    const payload = row === undefined ? null : await this.#own(uuid(circleId), row);
    if (payload === null) {
      throw new ProtocolError("filing_not_found", "No such sealed warning of yours, or it was withdrawn.");
    }
    return this.entries.post(uuid(circleId), {
      subject: payload.subject,
      aliases: payload.aliases ?? [],
      categories: payload.categories,
      text: payload.text,
      severity: payload.severity ?? null,
      affiliation: payload.affiliation ?? null,
      happened: payload.happened ?? null,
      contact: payload.contact ?? null,
      anonymous,
    });
  }

  /** Every match the server shows, verified and opened in this browser (admins). */
  async matches(circleId) {
    const { circle, state: moderation } = await this.moderation.ensureKey(circleId);
    const settings = await this.#usable(circle);
    const chainKs = new Set((await this.state(circle)).records.map((r) => r.k));
    const rows = await this.client.request("GET", `/v1/circles/${circle.circleId}/sealed/matches`);
    if (rows.length === 0) {
      return [];
    }
    const keys = await this.moderation.secretKeys(circle, moderation);
    const members = new Map();
    for (const member of await this.circles.members(circle.circleId, { trusted: circle.record })) {
      const listed = circle.record.member(member.username);
      if (member.status === "active" && listed !== null) {
        if (listed.fp !== member.fingerprint) {
          throw new ProtocolError("member_key_changed", `${member.username}'s key differs from the circle's signed record`);
        }
        members.set(member.username, member.identity);
      }
    }
    const seen = new Map();
    const out = [];
    for (const row of rows) {
      if (!chainKs.has(row.k)) {
        throw new ProtocolError("wrong_epoch", "a match under a k this circle never had");
      }
      const { opened, excluded } = await mapped(() => {
        const filings = row.filings.map((f) => ({ filing: SealedFiling.parse(f.record), signature: fromB64(f.signature, 64) }));
        filings.forEach(({ filing }, i) => {
          if (filing.filer !== row.filings[i].filer || filing.filingId !== uuid(row.filings[i].filing_id)) {
            throw new ProtocolError("wrong_epoch", "a filing listed under another filer");
          }
        });
        try {
          return openMatch(filings, { circleId: circle.circleId, tag: fromB64(row.tag, 32), k: row.k, identities: members, moderationKeys: keys });
        } catch (error) {
          // Members' own filings that fail their checks: not the server's doing, so the
          // match is shown as waiting, with who was left out and why.
          if (error instanceof NotEnoughShares) {
            return { opened: [], excluded: error.excluded };
          }
          throw error;
        }
      });
      const group = row.filings.map((f) => uuid(f.filing_id)).sort().join(",");
      if (seen.has(group)) {
        seen.get(group).matchIds.push(row.match_id);
        continue;
      }
      const match = {
        matchId: row.match_id,
        matchIds: [row.match_id],
        k: row.k,
        kCurrent: row.k === settings.k,
        createdAt: row.created_at,
        opened: opened.length > 0,
        filers: [...new Set(opened.map((o) => o.filing.filer))].sort(),
        warnings: opened.map((o) => ({
          filingId: o.filing.filingId,
          filer: o.filing.filer,
          subject: o.payload.subject ?? null,
          aliases: o.payload.aliases ?? [],
          categories: o.payload.categories ?? [],
          text: o.payload.text ?? null,
        })),
        // Filings whose filer sealed a share that fails its checks (§36.7): left out.
        excluded: excluded.map((e) => ({ filingId: e.filing.filingId, filer: e.filing.filer, reason: e.reason })),
      };
      seen.set(group, match);
      out.push(match);
    }
    return out;
  }
}
