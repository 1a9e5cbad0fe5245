/**
 * Incremental sync of a circle's warnings into the page's copy (§26.9), as
 * app/client/sync.py: GET …/entries?changed_after=N brings every warning whose last change
 * is newer, in change order; applying them makes the copy what the server shows now.
 */
import { nameForms } from "../protocol/matching.js";
import { ApiError, ProtocolError } from "./errors.js";
import { CircleCopy } from "./cache.js";

export const PAGE_SIZE = 500;
const GONE = new Set(["not_a_member", "circle_not_found"]);

/** What the copy keeps of an opened row: its fields, and for a live warning its analysed names. */
export function heldWarning(entry, changeSeq) {
  const data = { ...entry, changeSeq };
  const forms = entry.subject === null ? [] : [entry.subject, ...entry.aliases].map((n) => nameForms(n));
  return { data, forms };
}

export async function syncCopy(entries, circleId) {
  let circle;
  try {
    circle = await entries.circles.sync(circleId);
  } catch (error) {
    if (error instanceof ApiError && GONE.has(error.code)) {
      entries.cache.drop(circleId);
    }
    throw error;
  }
  const id = circle.circleId;
  const held = entries.cache.load(id) ?? new CircleCopy(id);
  // Work on a new copy: a sync that fails half-way leaves the held one as it was.
  const copy = new CircleCopy(id, { changeSeq: held.changeSeq, lastSeq: held.lastSeq, warnings: new Map(held.warnings) });
  let cursor = copy.changeSeq;
  const changes = [];
  for (;;) {
    const page = await entries.client.request("GET", `/v1/circles/${id}/entries`, {
      params: { changed_after: cursor, limit: PAGE_SIZE },
    });
    if (page.last_change_seq < held.changeSeq) {
      throw new ProtocolError("rollback", "the server shows fewer changes than this page already synced");
    }
    for (const row of page.entries) {
      if (!(row.change_seq > cursor)) {
        throw new ProtocolError("bad_page", "the server returned changes out of order");
      }
      cursor = row.change_seq;
      let entry;
      [circle, entry] = await entries.openCurrent(circle, row);
      const fresh = heldWarning(entry, row.change_seq);
      changes.push([copy.warnings.get(entry.entryId) ?? null, fresh]);
      copy.warnings.set(entry.entryId, fresh);
    }
    copy.lastSeq = page.last_seq;
    if (page.entries.length < PAGE_SIZE) {
      break;
    }
  }
  copy.changeSeq = cursor;
  if (held.index !== null) {
    // The name index moves to the new copy and takes in the changes (a check then costs what
    // its candidates cost, not a rebuild over the history); the held copy is done with.
    [copy.index, held.index] = [held.index, null];
    for (const [old, fresh] of changes) {
      copy.index.update(old, fresh);
    }
  }
  entries.cache.save(copy);
  return copy;
}
