/**
 * The page's live updates (docs/protocol.md §37): one stream per signed-in tab, started at
 * sign-in and stopped with the keys (logout, quick exit, signing out on this device). It
 * keeps each circle's newest position; views subscribe while their elements are on the page.
 * Warnings themselves are fetched and verified by the views, as a manual refresh does.
 */
import { LiveStream, SeenStore } from "../client/live.js";
import { act, status } from "./shell.js";
import { t } from "./i18n/index.js";

let stream = null;
let seenStore = null;
const positions = new Map(); // circle id -> newest warning position the stream reported
const listeners = new Set();

/** Start the stream for a signed-in client; `onEnded(error)` when its session ends. */
export function startLive(client, username, { onEnded }) {
  stopLive();
  seenStore = SeenStore.load(window.localStorage, username);
  stream = new LiveStream(client, { onEvent, onEnded }).start();
}

export function stopLive() {
  stream?.stop();
  stream = null;
  seenStore = null;
  positions.clear();
}

function onEvent(kind, data) {
  if (kind === "circles") {
    for (const circle of data.circles ?? []) {
      positions.set(circle.circle_id, Number(circle.last_seq));
    }
  } else if (kind === "circle") {
    positions.set(data.circle_id, Number(data.last_seq));
  } else if (kind === "gone") {
    positions.delete(data.circle_id);
  }
  for (const listener of [...listeners]) {
    listener(kind, data);
  }
}

/** Call `listener(kind, data)` on each event until it returns false (its view is gone). */
export function onLive(listener) {
  const wrapped = (kind, data) => {
    if (listener(kind, data) === false) {
      listeners.delete(wrapped);
    }
  };
  listeners.add(wrapped);
}

/** The newest warning position the person has seen in a circle (0: none yet). */
export function seenIn(circleId) {
  return seenStore?.seen(circleId) ?? 0;
}

/** The person has now seen the circle up to `seq`. */
export function markSeen(circleId, seq) {
  seenStore?.mark(circleId, seq);
}

/** How many warnings were posted since the person last looked; null until the stream says. */
export function unseenIn(circleId) {
  if (!positions.has(circleId) || seenStore === null) {
    return null;
  }
  return seenStore.unseen(circleId, positions.get(circleId));
}

/**
 * New warnings appear at the top of an open feed (`list`) as they arrive: `newest()` fetches
 * and verifies the newest page, `card(entry)` renders one. Stops once the list is gone.
 */
export function followFeed(list, { circleId, lastSeq, newest, card }) {
  let shown = lastSeq;
  onLive((kind, data) => {
    if (!list.isConnected) {
      return false;
    }
    if (kind !== "circle" || data.circle_id !== circleId || data.last_seq <= shown) {
      return true;
    }
    shown = data.last_seq;
    act(null, async () => {
      const page = await newest();
      const held = new Set([...list.querySelectorAll("[data-entry]")].map((element) => element.dataset.entry));
      const arrived = page.entries.filter((entry) => entry.subject !== null && !held.has(entry.entryId));
      if (!list.isConnected || arrived.length === 0) {
        return;
      }
      list.querySelector(".empty")?.remove();
      for (const entry of arrived.reverse()) {
        list.prepend(card(entry));
      }
      markSeen(circleId, page.lastSeq);
      status(t("feed.arrived", { count: arrived.length }));
    });
    return true;
  });
}
