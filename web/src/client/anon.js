/**
 * Anonymous posting tokens for the browser SDK (docs/protocol.md §38), as
 * app/client/anon.py: fetch tokens blindly, keep a stock, spend one per anonymous warning or
 * corroboration, seal the author to the admins, and (as an admin) sign each epoch's
 * issuance key and unmask an abusive poster. Every batch's proof is checked against the key
 * an admin signed, so a server that used a key of its own for one member is caught
 * (`bad_proof`) before a single token is kept.
 */
import {
  DEFAULT_TOKENS_PER_WEEK,
  IssuanceRecord,
  MAX_TOKEN_BATCH,
  authorClaim,
  openAuthor,
  sealAuthor,
  tokenInput,
  tokenPeriod,
  verifyAuthorClaim,
} from "../protocol/anon.js";
import { b64, fromB64, uuid } from "../protocol/encoding.js";
import { ADMIN_ROLES } from "../protocol/records.js";
import { OprfElement, OprfEvaluation, OprfProof, OprfPublicKey, VoprfClient } from "../protocol/voprf.js";
import { ApiError, mapped, ProtocolError } from "./errors.js";
import { Moderation } from "./moderation.js";

/** Why a stock-up found nothing to take: not worth an error when a circle is merely opened. */
const NOTHING_TO_TAKE = new Set(["anon_not_set_up", "token_limit", "rotation_due", "stale_epoch"]);

/** Epochs whose token key a stock remembers, for audit verify (auditissuance.js). */
const KEYS_KEPT = 16;
/** A stock keeps at most this many batches (the newest tokens). */
const HELD_BATCHES = 2;

/** Whether `stock` holds unspent tokens of the circle's current epoch. */
function current(stock, circle) {
  return stock !== null && stock.epoch === circle.epoch && Array.isArray(stock.tokens) && stock.tokens.length > 0;
}

/**
 * Unspent tokens by circle, in memory: `{epoch, tokens: [[input, output], ...], keys}`;
 * `keys` (epoch → base64 key) are the issuance keys this device took tokens under, which
 * audit verify compares with the log's.
 */
export class MemoryTokenStore {
  constructor() {
    this.stock = new Map();
  }

  async load(circleId) {
    return this.stock.get(circleId) ?? null;
  }

  async save(circleId, stock) {
    if (!this.closed) {
      this.stock.set(circleId, stock);
    }
  }

  /** Forget every token, and keep nothing a stock-up still in flight saves later. */
  close() {
    this.closed = true;
    this.stock.clear();
  }
}

/** The page's stock in Web Storage (one item per account); spent tokens leave it before
 * they are sent, so it never holds one that names a post. */
export class StorageTokenStore {
  constructor(storage, username) {
    this.storage = storage;
    this.item = `backchannel.tokens.${username}`;
  }

  #all() {
    try {
      const data = JSON.parse(this.storage.getItem(this.item) ?? "{}");
      return data !== null && typeof data === "object" && !Array.isArray(data) ? data : {};
    } catch {
      return {};
    }
  }

  async load(circleId) {
    const found = this.#all()[circleId];
    return found !== null && typeof found === "object" ? found : null;
  }

  /**
   * Signing out: forget every token (clear()), and save nothing after this, so a stock-up
   * started when a circle was opened cannot write its batch back once its answer arrives.
   */
  close() {
    this.closed = true;
    this.clear();
  }

  /** Forget every unspent token of this account (logout, quick exit). */
  clear() {
    try {
      this.storage.removeItem(this.item);
    } catch {
      // a disabled storage held nothing
    }
  }

  async save(circleId, stock) {
    if (this.closed) {
      return;
    }
    const data = this.#all();
    data[circleId] = stock;
    try {
      this.storage.setItem(this.item, JSON.stringify(data));
    } catch {
      // a full or disabled storage keeps the stock for this page only
    }
  }
}

/** Epoch → base64 issuance key, for each epoch this device took tokens of. */
export async function keysUsed(store, circleId) {
  return keysOf(await store.load(circleId));
}

function keysOf(stock) {
  const keys = stock?.keys;
  if (keys === null || typeof keys !== "object" || Array.isArray(keys)) {
    return {};
  }
  return Object.fromEntries(Object.entries(keys).filter(([, key]) => typeof key === "string"));
}

export class Anonymous {
  constructor(circles, { tokens = null, batch = 4, clock = () => Date.now() / 1000 } = {}) {
    this.circles = circles;
    this.client = circles.client;
    // By default one stock per Circles, shared by every Entries made for the same account.
    circles.anonymousTokens ??= new MemoryTokenStore();
    this.tokens = tokens ?? circles.anonymousTokens;
    this.batch = Math.max(1, Math.min(batch, MAX_TOKEN_BATCH));
    this.clock = clock;
    this.moderation = new Moderation(circles, null);
    this.pending = new Map(); // circle id -> a stock-up in flight, which take() waits for
  }

  /** This epoch's verified issuance record (null if no admin signed it yet) and the answer. */
  async issuance(circle) {
    const data = await this.client.request("GET", `/v1/circles/${circle.circleId}/anon/issuance`);
    if (data.record === null) {
      return { record: null, data };
    }
    const record = await mapped(() => IssuanceRecord.parse(data.record.record));
    if (record.circleId !== circle.circleId || record.epoch !== circle.epoch) {
      throw new ProtocolError("wrong_epoch", "an issuance record of another circle or epoch");
    }
    const signer = await this.moderation.listedIdentity(circle, record.signer, { admin: true });
    if (signer === null) {
      throw new ProtocolError("untrusted_signer", "the issuance key is not signed by a current admin");
    }
    await mapped(() => record.verifySignature(fromB64(data.record.signature, 64), signer));
    return { record, data };
  }

  /** As an admin: sign this epoch's issuance key (the one moment the server's word is taken). */
  async certify(circleId, { tokensPerWeek = DEFAULT_TOKENS_PER_WEEK } = {}) {
    const circle = await this.circles.sync(circleId);
    const { record, data } = await this.issuance(circle);
    if (record !== null) {
      return;
    }
    const signed = new IssuanceRecord({
      circleId: circle.circleId,
      epoch: circle.epoch,
      oprfPublicKey: fromB64(data.oprf_public_key, 32),
      tokensPerWeek,
      signer: this.circles.username,
    });
    await mapped(() => signed.check());
    await this.client.request("POST", `/v1/circles/${circle.circleId}/anon/issuance`, {
      json: { record: new TextDecoder().decode(signed.toBytes()), signature: b64(signed.sign(this.circles.identity)) },
    });
  }

  /** As an admin: everything anonymous posting needs (moderation key, issuance key). */
  async setUp(circleId) {
    await this.moderation.ensureKey(circleId);
    await this.certify(circleId);
  }

  async #fetch(circle) {
    let { record, data } = await this.issuance(circle);
    if (record === null && ADMIN_ROLES.includes(circle.role)) {
      await this.certify(circle.circleId);
      ({ record, data } = await this.issuance(circle));
    }
    if (record === null) {
      throw new ProtocolError(
        "anon_not_set_up",
        "No admin has signed this circle's token key for its current epoch yet; an admin's app does it when they next open the circle.",
      );
    }
    const count = Math.min(this.batch, data.tokens_allowed - data.tokens_used);
    if (count <= 0) {
      throw new ProtocolError("token_limit", "You have used this week's anonymous posts in this circle.");
    }
    const voprf = await mapped(() => new VoprfClient(new OprfPublicKey(record.oprfPublicKey)));
    const inputs = Array.from({ length: count }, () => tokenInput(circle.circleId, circle.epoch));
    const blinded = await mapped(() => voprf.blind(inputs));
    const answer = await this.client.request("POST", `/v1/circles/${circle.circleId}/anon/tokens`, {
      json: { epoch: circle.epoch, blinded: blinded.elements.map((e) => b64(e.toBytes())) },
    });
    const outputs = await mapped(() =>
      voprf.finalize(
        blinded,
        new OprfEvaluation(
          answer.evaluated.map((e) => new OprfElement(fromB64(e, 32))),
          new OprfProof(fromB64(answer.proof, 64)),
        ),
      ),
    );
    return { tokens: inputs.map((input, i) => [b64(input), b64(outputs[i])]), key: record.oprfPublicKey };
  }

  /** A fresh batch added to `held` (the stock as loaded), remembering the key it was taken
   * under (audit verify checks it is the one key the log holds for the epoch). */
  async #restock(circle, held) {
    let { tokens, key } = await this.#fetch(circle);
    if (current(held, circle)) {
      tokens = [...held.tokens, ...tokens].slice(-HELD_BATCHES * this.batch); // the epoch's unspent stay
    }
    const keys = keysOf(held);
    keys[String(circle.epoch)] = b64(key);
    const recent = Object.entries(keys).sort(([a], [b]) => Number(a) - Number(b)).slice(-KEYS_KEPT);
    return { epoch: circle.epoch, week: tokenPeriod(Math.floor(this.clock())), tokens, keys: Object.fromEntries(recent) };
  }

  /**
   * Take this week's batch now, if this device has not yet taken one of the circle's current
   * epoch this week (whatever it still holds); the page calls it when a circle is opened. A
   * later anonymous post then spends a token taken earlier, not one taken just before it: the
   * issuance and the post are not next to each other in time or in the database's write order
   * (on PostgreSQL, xmin). And every member who opens the circle in a week takes the same
   * batch, posters or not, so a week's issuance counts say who opened the circle, not who
   * spent tokens. Resolves to the tokens held.
   */
  async stockUp(circle) {
    const running = this.pending.get(circle.circleId) ?? this.#stockUp(circle);
    this.pending.set(circle.circleId, running);
    try {
      return await running;
    } finally {
      if (this.pending.get(circle.circleId) === running) {
        this.pending.delete(circle.circleId);
      }
    }
  }

  async #stockUp(circle) {
    const stock = await this.tokens.load(circle.circleId);
    if (current(stock, circle) && stock.week === tokenPeriod(Math.floor(this.clock()))) {
      return stock.tokens.length;
    }
    let fresh;
    try {
      fresh = await this.#restock(circle, stock);
    } catch (error) {
      if ((error instanceof ApiError || error instanceof ProtocolError) && NOTHING_TO_TAKE.has(error.code)) {
        return current(stock, circle) ? stock.tokens.length : 0;
      }
      throw error;
    }
    await this.tokens.save(circle.circleId, fresh);
    return fresh.tokens.length;
  }

  /** One unspent token of the circle's current epoch, removed from the stock first. */
  async take(circle) {
    await this.pending.get(circle.circleId)?.catch(() => undefined); // a stock-up on opening
    let stock = await this.tokens.load(circle.circleId);
    if (!current(stock, circle)) {
      stock = await this.#restock(circle, stock);
    }
    const [input, output] = stock.tokens.shift();
    await this.tokens.save(circle.circleId, stock);
    return { input, output };
  }

  /** The author, sealed to the newest moderation key (§38.3). */
  async sealedAuthor(circle, { objectId, authorKey }) {
    let state = await this.moderation.state(circle);
    if (state.current === null && ADMIN_ROLES.includes(circle.role)) {
      await this.moderation.ensureKey(circle.circleId);
      state = await this.moderation.state(circle);
    }
    if (state.current === null) {
      throw new ProtocolError("moderation_key_missing", "This circle has no moderation key yet; an admin's app makes one.");
    }
    const claim = authorClaim(this.circles.identity, this.circles.username, { circleId: circle.circleId, objectId, authorKey });
    const sealed = sealAuthor(claim, {
      circleId: circle.circleId,
      objectId,
      generation: state.current.generation,
      moderationPublic: state.current.publicKey,
    });
    return { sealed_author: b64(sealed), author_generation: state.current.generation };
  }

  /** What an anonymous request carries instead of a session: a token and the sealed author. */
  async fields(circle, objectId, authorKey) {
    return { token: await this.take(circle), ...(await this.sealedAuthor(circle, { objectId, authorKey })) };
  }

  /** As an admin: who wrote an anonymous warning or corroboration; the server logs the asking. */
  async unmask(circleId, entryId, corroborationId = null) {
    const { circle, state } = await this.moderation.ensureKey(circleId);
    const answer = await this.client.request("POST", `/v1/circles/${circle.circleId}/anon/unmask`, {
      json: { entry_id: uuid(entryId), corroboration_id: corroborationId === null ? null : uuid(corroborationId) },
    });
    const objectId = uuid(corroborationId ?? entryId);
    if (answer.object_id !== objectId) {
      throw new ProtocolError("invalid_data", "the server unmasked another object");
    }
    const keys = await this.moderation.secretKeys(circle, state);
    const key = keys.get(answer.author_generation);
    if (key === undefined) {
      throw new ProtocolError("missing_key", `this device has no moderation key of generation ${answer.author_generation}`);
    }
    const authorKey = fromB64(answer.author_key, 32);
    const claim = await mapped(() =>
      openAuthor(fromB64(answer.sealed_author), { key, circleId: circle.circleId, objectId, generation: answer.author_generation }),
    );
    // Verified only with keys the circle's signed record vouches for: for anyone else the
    // server alone says whose keys they are, and it holds the moderation public key, so it
    // could seal a claim naming a former member under a key it made.
    const identity = await this.moderation.listedIdentity(circle, claim.user);
    let verified = identity !== null;
    try {
      if (identity !== null) {
        verifyAuthorClaim(claim, identity, { circleId: circle.circleId, objectId, authorKey });
      }
    } catch {
      verified = false;
    }
    return { objectId, user: claim.user, verified };
  }
}
