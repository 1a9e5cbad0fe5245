/**
 * What this tab has verified about each circle (docs/protocol.md §10.5): the newest
 * record and, after joining, the invite anchor. The same state as app/client/trust.py.
 *
 * Nothing in it is secret (the server holds all of it), but it names the circles an
 * account is in and their members. The page keeps it in localStorage, per account, so
 * every tab of this browser shares one view: a returning person does not re-verify
 * everyone, and a record one tab refused stays refused in all. Each read takes the
 * stored copy (another tab may have moved a pin on) and each write changes only its own
 * circle. "Sign out everywhere on this device" deletes it. Without storage it stays in memory.
 */

function emptyPin() {
  return {
    seq: -1,
    record: "", // canonical record text of the newest verified record
    epoch: -1,
    inviter_fingerprint: null, // until the first verified sync after joining
    invite_record: null, // b64 hash of the record the inviter vouched for
    joined: {}, // user -> seq of the record that last added them
    admins_since: -1, // seq where the newest admin set began; -1: not known yet
    moderation: -1, // newest moderation key generation verified here; -1: none
    name: null, // the circle's name at the last verified sync
  };
}

export class TrustStore {
  constructor({ circles = {}, storage = null, key = null } = {}) {
    this.circles = circles;
    this.storage = storage;
    this.key = key;
  }

  static inMemory() {
    return new TrustStore();
  }

  /** The store of one account in `storage` (sessionStorage in the page). */
  static load(storage, username) {
    const store = new TrustStore({ storage, key: `backchannel.trust.${username}` });
    store.refresh();
    return store;
  }

  /** Take the stored copy, which another tab may have changed since. */
  refresh() {
    if (this.storage === null) {
      return;
    }
    try {
      const raw = this.storage.getItem(this.key);
      this.circles = raw === null ? {} : (JSON.parse(raw).circles ?? {});
    } catch {
      // unreadable: keep what this page holds
    }
  }

  pin(circleId) {
    this.refresh();
    if (!Object.hasOwn(this.circles, circleId)) {
      this.circles[circleId] = emptyPin();
    }
    return { ...emptyPin(), ...this.circles[circleId] };
  }

  /** Replace a circle's pin (a sync stores it only once everything verified). */
  store(circleId, pin) {
    this.refresh();
    this.circles[circleId] = pin;
    this.save();
  }

  save() {
    if (this.storage === null) {
      return;
    }
    try {
      this.storage.setItem(this.key, JSON.stringify({ circles: this.circles }));
    } catch {
      // storage full or disabled: the in-memory copy still holds for this page's life
    }
  }
}
