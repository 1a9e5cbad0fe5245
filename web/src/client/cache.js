/**
 * The page's copy of each circle's warnings (§26.9), as app/client/cache.py's MemoryCache:
 * synced, verified, decrypted and analysed for name matching, kept in memory for the life
 * of the page (the browser does not persist it).
 */

/** One circle's warnings on this device and the change number they are current to. */
export class CircleCopy {
  constructor(circleId, { changeSeq = 0, lastSeq = 0, warnings = new Map() } = {}) {
    this.circleId = circleId;
    this.changeSeq = changeSeq; // every change up to this one is applied
    this.lastSeq = lastSeq;
    this.warnings = warnings; // entry id -> { data, forms }
    this.index = null; // the name index (namecheck.js), built by a check; never stored
  }
}

/** Whether a held warning is live (hidden, wiped and expired ones keep no text). */
export function isLive(held) {
  return held.data.status === "live" && held.data.subject !== null;
}

export class MemoryCache {
  #copies = new Map();

  load(circleId) {
    return this.#copies.get(circleId) ?? null;
  }

  save(copy) {
    this.#copies.set(copy.circleId, copy);
  }

  drop(circleId) {
    this.#copies.delete(circleId);
  }
}
