/**
 * The tab's profile, as app/client/profile.py is the CLI's: what a reload needs to stay
 * signed in (the session token and the identity secret), so the passphrase is not asked
 * again in the same tab.
 *
 * The profile is sealed (AES-256-GCM, random 96-bit IV, the username as associated data)
 * under a device key that WebCrypto made non-extractable and IndexedDB keeps; only the
 * ciphertext goes to sessionStorage, so it lives as long as the tab. A script that reads
 * storage (or a copied browser profile) gets ciphertext and a key handle it cannot export;
 * a script running in this page while it is open can still ask WebCrypto to decrypt, and
 * someone holding the unlocked device can simply use the page. docs/threat-model.md says so.
 *
 * `forgetDevice()` deletes the device key: every tab's sealed profile becomes unreadable.
 */
import { b64, fromB64, utf8 } from "../protocol/encoding.js";
import { IdentityKeys } from "../protocol/identity.js";

const DATABASE = "backchannel";
const STORE = "keys";
const DEVICE_KEY = "device";
const PROFILE_ITEM = "backchannel.profile";
const VERSION = 1;

function request(idbRequest) {
  return new Promise((resolve, reject) => {
    idbRequest.onsuccess = () => resolve(idbRequest.result);
    idbRequest.onerror = () => reject(idbRequest.error);
  });
}

async function database(indexedDB) {
  const opening = indexedDB.open(DATABASE, 1);
  opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
  return request(opening);
}

async function storedKey(indexedDB, { create }) {
  const db = await database(indexedDB);
  try {
    const found = await request(db.transaction(STORE).objectStore(STORE).get(DEVICE_KEY));
    if (found || !create) {
      return found ?? null;
    }
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    await request(db.transaction(STORE, "readwrite").objectStore(STORE).put(key, DEVICE_KEY));
    return key;
  } finally {
    db.close();
  }
}

export class TabProfile {
  /** `storage`: sessionStorage in the page; `indexedDB`: the page's (both injectable). */
  constructor({ storage, indexedDB }) {
    this.storage = storage;
    this.indexedDB = indexedDB;
  }

  /** Seal the signed-in account into this tab's storage. */
  async save({ username, token, identity }) {
    const key = await storedKey(this.indexedDB, { create: true });
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = utf8(JSON.stringify({ token, identity: b64(identity.toBytes()) }));
    const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8(`backchannel.profile.v${VERSION}.${username}`) }, key, plain);
    plain.fill(0);
    this.storage.setItem(PROFILE_ITEM, JSON.stringify({ v: VERSION, username, iv: b64(iv), sealed: b64(new Uint8Array(sealed)) }));
  }

  /** The sealed account of this tab, opened; null when there is none or it no longer opens. */
  async load() {
    let stored;
    try {
      stored = JSON.parse(this.storage.getItem(PROFILE_ITEM) ?? "null");
    } catch {
      stored = null;
    }
    if (stored?.v !== VERSION || typeof stored.username !== "string") {
      return null;
    }
    const key = await storedKey(this.indexedDB, { create: false });
    if (key === null) {
      this.clear();
      return null;
    }
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromB64(stored.iv, 12), additionalData: utf8(`backchannel.profile.v${VERSION}.${stored.username}`) },
        key,
        fromB64(stored.sealed),
      );
      const { token, identity } = JSON.parse(new TextDecoder().decode(plain));
      return { username: stored.username, token, identity: IdentityKeys.fromBytes(fromB64(identity, 64)) };
    } catch {
      this.clear(); // sealed under a device key that was replaced: sign in again
      return null;
    }
  }

  clear() {
    this.storage.removeItem(PROFILE_ITEM);
  }

  /** Delete the device key: no tab's sealed profile opens any more. */
  async forgetDevice() {
    this.clear();
    const db = await database(this.indexedDB);
    try {
      await request(db.transaction(STORE, "readwrite").objectStore(STORE).delete(DEVICE_KEY));
    } finally {
      db.close();
    }
  }
}
