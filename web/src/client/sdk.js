/**
 * The browser SDK's HTTP client and accounts (docs/protocol.md §2-§7), as
 * app/client/sdk.py: every cryptographic step goes through web/src/protocol.
 *
 * Secrets (the identity, the session token) live in this object's memory for the
 * tab's life; nothing here writes them anywhere.
 */
import {
  accountKeysFromPassphrase,
  checkKdfParams,
  newSalt,
  normaliseUsername,
  RecoveryCode,
} from "../protocol/accounts.js";
import { b64, fromB64 } from "../protocol/encoding.js";
import { CryptoError } from "../protocol/errors.js";
import { equalBytes } from "../protocol/hash.js";
import { openKeyBundle, PublicIdentity, sealKeyBundle, IdentityKeys } from "../protocol/identity.js";
import { BUNDLE_PURPOSE_PASSPHRASE, BUNDLE_PURPOSE_RECOVERY } from "../protocol/labels.js";
import { Invite } from "../protocol/membership.js";
import { ready } from "../protocol/sodium.js";
import { ApiError, ProtocolError, TransportError } from "./errors.js";
import { COMMON_PASSPHRASES_PATH, checkPassphrase, parseCommonPassphrases } from "./passphrase.js";

/** A signed-in account: the session token and the identity opened from the key bundle. */
export class Account {
  constructor({ username, token, identity, recoveryCode = null }) {
    this.username = username;
    this.token = token;
    this.identity = identity;
    this.fingerprint = identity.fingerprint;
    this.recoveryCode = recoveryCode; // only right after register or recover
    Object.freeze(this);
  }

  /** Never serialise the identity by accident (JSON.stringify of an Account). */
  toJSON() {
    return { username: this.username };
  }
}

/**
 * Parse and verify an identity. `verifiedFp`: a fingerprint a signed key record already
 * vouches for; when the keys match it, the signature was checked before (§4).
 */
export function parseIdentity(data, { verifiedFp = null } = {}) {
  try {
    const identity = PublicIdentity.fromJson(data);
    if (verifiedFp === null || identity.fingerprint !== verifiedFp) {
      identity.verify();
    }
    return identity;
  } catch (error) {
    if (error instanceof CryptoError || error instanceof TypeError) {
      throw new ProtocolError("bad_identity", "the server returned an identity that does not verify");
    }
    throw error;
  }
}

/** Compare keys, not signatures (as the reference client does). */
function sameKeys(mine, published) {
  return (
    equalBytes(mine.ed25519Public, published.ed25519Public) &&
    equalBytes(mine.x25519Public, published.x25519Public)
  );
}

function kdfJson(params, salt) {
  return { algorithm: params.algorithm, opslimit: params.opslimit, memlimit: params.memlimit, salt: b64(salt) };
}

function username(text) {
  try {
    return normaliseUsername(text);
  } catch (error) {
    throw new ProtocolError("bad_username", error.message);
  }
}

/** What a registration carries of an invite: the values a redemption sends (§7.3). */
function inviteRequest(text) {
  try {
    return Invite.parse(text).redeemRequest();
  } catch (error) {
    throw new ProtocolError("bad_invite", error.message);
  }
}

export class Client {
  #common = null; // the Set of common passphrases, once fetched

  /**
   * `baseUrl` is "" in the page (same origin); `fetch` may be injected (tests).
   * `onKdf(phase)` is told "start" and "end" around each Argon2id derivation, so a page
   * can show "deriving keys…" before the main thread is busy for a second or two.
   */
  constructor({ baseUrl = "", token = null, fetch: fetchImpl = globalThis.fetch.bind(globalThis), onKdf = null, deviceLabel = null } = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.token = token;
    this.deviceLabel = deviceLabel; // sent at login, so the session list can tell devices apart
    this.fetch = fetchImpl;
    this.onKdf = onKdf;
  }

  /** Send one request; return the decoded JSON body, or throw ApiError / TransportError. */
  /** `anonymous`: without the session token (a token of §38 stands for it). */
  async request(method, path, { json, params, keepalive = false, anonymous = false } = {}) {
    let url = this.baseUrl + path;
    if (params) {
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(params)) {
        if (value !== undefined && value !== null) {
          query.set(key, String(value));
        }
      }
      url += `?${query}`;
    }
    const headers = {};
    if (this.token && !anonymous) {
      headers.Authorization = `Bearer ${this.token}`;
    }
    const init = { method, headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer", keepalive };
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    }
    let response;
    try {
      response = await this.fetch(url, init);
    } catch {
      throw new TransportError("The server cannot be reached. Check your connection and try again.");
    }
    if (response.status >= 400) {
      let code = "http_error";
      let message = `HTTP ${response.status}`;
      try {
        const { error } = await response.json();
        code = String(error.code);
        message = String(error.message);
      } catch {
        // not the error shape (a proxy's page, for example): keep the generic answer
      }
      const retry = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
      throw new ApiError(response.status, code, message, Number.isFinite(retry) ? retry : null);
    }
    if (response.status === 204) {
      return null;
    }
    const text = await response.text();
    return text === "" ? null : JSON.parse(text);
  }

  // -- accounts ---------------------------------------------------------------

  /**
   * The list of common passphrases the page refuses (§3.1), fetched from the server once per
   * client. Fails closed: without the list no passphrase is set.
   */
  async #commonPassphrases() {
    if (this.#common === null) {
      let response;
      try {
        response = await this.fetch(this.baseUrl + COMMON_PASSPHRASES_PATH, { method: "GET", credentials: "omit" });
      } catch {
        response = null;
      }
      if (!response?.ok) {
        throw new TransportError("The list of common passphrases could not be loaded. Try again.");
      }
      this.#common = parseCommonPassphrases(await response.text());
    }
    return this.#common;
  }

  async #announcedKdf(name) {
    const data = await this.request("GET", "/v1/auth/params", { params: { username: name } });
    const params = { algorithm: data.algorithm, opslimit: data.opslimit, memlimit: data.memlimit };
    try {
      checkKdfParams(params); // refuse weak parameters before the passphrase touches them
    } catch (error) {
      throw new ProtocolError("weak_kdf_params", error.message);
    }
    let salt;
    try {
      salt = fromB64(data.salt, 16, "salt");
    } catch {
      throw new ProtocolError("bad_salt", "the server returned a salt of the wrong size");
    }
    return { params, salt };
  }

  /** Argon2id (§3.3), announced to the page first so it can paint "deriving keys…". */
  async #derive(passphrase, salt, params) {
    await ready();
    if (this.onKdf) {
      await this.onKdf("start");
    }
    try {
      return accountKeysFromPassphrase(passphrase, salt, params);
    } finally {
      if (this.onKdf) {
        await this.onKdf("end");
      }
    }
  }

  /** §7.2: the answer is used only if it is this account's and its bundle opens to its keys. */
  #openSession(data, { name, wrapKey }) {
    const { user } = data;
    if (user.username !== name) {
      throw new ProtocolError("wrong_account", "the server answered for a different account");
    }
    const published = parseIdentity(user.identity);
    let identity;
    try {
      identity = openKeyBundle(fromB64(user.key_bundle, 105, "key_bundle"), {
        key: wrapKey,
        username: name,
        purpose: BUNDLE_PURPOSE_PASSPHRASE,
      });
    } catch (error) {
      if (error instanceof CryptoError) {
        throw new ProtocolError("bad_key_bundle", "your key bundle does not open");
      }
      throw error;
    }
    if (!sameKeys(identity.publicIdentity(), published)) {
      throw new ProtocolError("key_mismatch", "the server's public keys do not match your key bundle");
    }
    return { token: String(data.token), identity };
  }

  #device() {
    return this.deviceLabel === null ? {} : { device_label: this.deviceLabel };
  }

  static #recoveryJson(identity, recovery, name) {
    const bundle = sealKeyBundle(identity, { key: recovery.bundleKey, username: name, purpose: BUNDLE_PURPOSE_RECOVERY });
    return { auth_key: b64(recovery.authKey), key_bundle: b64(bundle) };
  }

  /**
   * Make an account. `invite` (the text of a circle invite) is what a server that makes
   * accounts only for invite holders asks for (docs/protocol.md §7.3); it is not redeemed
   * here: join with it next.
   */
  async register(typedName, passphrase, { invite = null } = {}) {
    await ready();
    const name = username(typedName);
    const inviteJson = invite === null ? null : inviteRequest(invite);
    checkPassphrase(passphrase, { username: name, common: await this.#commonPassphrases() });
    const { params } = await this.#announcedKdf(name);
    const salt = newSalt();
    const keys = await this.#derive(passphrase, salt, params);
    const identity = IdentityKeys.generate();
    const recovery = RecoveryCode.generate();
    const body = {
      username: name,
      kdf: kdfJson(params, salt),
      auth_key: b64(keys.authKey),
      identity: identity.publicIdentity().toJson(),
      key_bundle: b64(
        sealKeyBundle(identity, { key: keys.wrapKey, username: name, purpose: BUNDLE_PURPOSE_PASSPHRASE }),
      ),
      recovery: Client.#recoveryJson(identity, recovery, name),
    };
    if (inviteJson !== null) {
      body.invite = inviteJson;
    }
    Object.assign(body, this.#device());
    const data = await this.request("POST", "/v1/auth/register", { json: body });
    const session = this.#openSession(data, { name, wrapKey: keys.wrapKey });
    this.token = session.token;
    return new Account({ username: name, token: session.token, identity: session.identity, recoveryCode: recovery });
  }

  async login(typedName, passphrase) {
    await ready();
    const name = username(typedName);
    const { params, salt } = await this.#announcedKdf(name);
    const keys = await this.#derive(passphrase, salt, params);
    const data = await this.request("POST", "/v1/auth/login", {
      json: { username: name, auth_key: b64(keys.authKey), ...this.#device() },
    });
    const session = this.#openSession(data, { name, wrapKey: keys.wrapKey });
    this.token = session.token;
    return new Account({ username: name, token: session.token, identity: session.identity });
  }

  async logout() {
    try {
      await this.request("POST", "/v1/auth/logout");
    } finally {
      this.token = null;
    }
  }

  async me() {
    return this.request("GET", "/v1/me");
  }

  /** This account's live sessions (ids, times, device labels; `current` marks this one). */
  async sessions() {
    return this.request("GET", "/v1/me/sessions");
  }

  /**
   * End the named sessions, or every other one; the server asks for the passphrase's auth key
   * again, so a stolen token alone cannot end its owner's sessions.
   */
  async endSessions(typedName, passphrase, { sessionIds = null } = {}) {
    const body = { auth_key: await this.reauthenticate(typedName, passphrase) };
    if (sessionIds !== null) {
      body.session_ids = sessionIds;
    }
    const data = await this.request("POST", "/v1/me/sessions/end", { json: body });
    return Number(data.ended);
  }

  /** The passphrase's auth key again (base64), for the calls that ask for it. */
  async reauthenticate(typedName, passphrase) {
    const name = username(typedName);
    const { params, salt } = await this.#announcedKdf(name);
    return b64((await this.#derive(passphrase, salt, params)).authKey);
  }

  /** Re-derive with the current passphrase, then store keys derived from the new one. */
  async changePassphrase(typedName, { current, next, identity }) {
    await ready();
    const name = username(typedName);
    checkPassphrase(next, { username: name, common: await this.#commonPassphrases() });
    const { params, salt } = await this.#announcedKdf(name);
    const currentKeys = await this.#derive(current, salt, params);
    const freshSalt = newSalt();
    const keys = await this.#derive(next, freshSalt, params);
    await this.request("POST", "/v1/me/passphrase", {
      json: {
        current_auth_key: b64(currentKeys.authKey),
        kdf: kdfJson(params, freshSalt),
        auth_key: b64(keys.authKey),
        key_bundle: b64(sealKeyBundle(identity, { key: keys.wrapKey, username: name, purpose: BUNDLE_PURPOSE_PASSPHRASE })),
      },
    });
  }

  /** Open the recovery bundle, set a new passphrase and a new one-time recovery code (§6). */
  async recover(typedName, codeText, newPassphrase) {
    await ready();
    const name = username(typedName);
    let code;
    try {
      code = RecoveryCode.parse(codeText);
    } catch (error) {
      throw new ProtocolError("bad_recovery_code", error.message);
    }
    checkPassphrase(newPassphrase, { username: name, common: await this.#commonPassphrases() });
    const data = await this.request("POST", "/v1/auth/recovery/bundle", {
      json: { username: name, recovery_auth_key: b64(code.authKey) },
    });
    if (data.username !== name) {
      throw new ProtocolError("wrong_account", "the server answered for a different account");
    }
    const published = parseIdentity(data.identity);
    let identity;
    try {
      identity = openKeyBundle(fromB64(data.recovery_bundle, 105, "recovery_bundle"), {
        key: code.bundleKey,
        username: name,
        purpose: BUNDLE_PURPOSE_RECOVERY,
      });
    } catch (error) {
      if (error instanceof CryptoError) {
        throw new ProtocolError("bad_key_bundle", "the recovery bundle does not open");
      }
      throw error;
    }
    if (!sameKeys(identity.publicIdentity(), published)) {
      throw new ProtocolError("key_mismatch", "the recovery bundle holds different keys");
    }
    const { params } = await this.#announcedKdf(name);
    const salt = newSalt();
    const keys = await this.#derive(newPassphrase, salt, params);
    const fresh = RecoveryCode.generate();
    const answer = await this.request("POST", "/v1/auth/recovery/complete", {
      json: {
        username: name,
        recovery_auth_key: b64(code.authKey),
        kdf: kdfJson(params, salt),
        auth_key: b64(keys.authKey),
        key_bundle: b64(sealKeyBundle(identity, { key: keys.wrapKey, username: name, purpose: BUNDLE_PURPOSE_PASSPHRASE })),
        recovery: Client.#recoveryJson(identity, fresh, name),
        ...this.#device(),
      },
    });
    const session = this.#openSession(answer, { name, wrapKey: keys.wrapKey });
    this.token = session.token;
    return new Account({ username: name, token: session.token, identity: session.identity, recoveryCode: fresh });
  }

  /**
   * Another user's public keys, for exactly that user, with the identity signature verified
   * (`verifiedFp`: a fingerprint a signed key record lists for them) (§7.7).
   */
  async userKeys(typedName, { verifiedFp = null } = {}) {
    const name = username(typedName);
    const data = await this.request("GET", `/v1/users/${encodeURIComponent(name)}`);
    if (data?.username !== name) {
      throw new ProtocolError("wrong_account", `asked for ${name}'s keys, the server answered for another`);
    }
    const identity = parseIdentity(data.identity, { verifiedFp });
    return { username: name, identity, fingerprint: identity.fingerprint };
  }
}
