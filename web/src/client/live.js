/**
 * Live updates (docs/protocol.md §37), as app/client/live.py: the stream says which circle
 * moved, never what; the page then fetches and verifies through the usual routes.
 *
 * Read with `fetch` and a ReadableStream, not `EventSource`: EventSource cannot send the
 * Authorization header, and the session token must never go in a URL (URLs land in proxy
 * and access logs, and in history) nor in a cookie (the API takes no cookies, so no CSRF).
 *
 * `SeenStore` keeps, per account and circle, the newest warning position the person has
 * seen, in localStorage beside the trust pins (so every tab shares it, and "sign out
 * everywhere on this device" deletes it with them).
 */
import { ApiError, ProtocolError } from "./errors.js";

const MAX_BACKOFF_MS = 30000;
/** A line longer than this is not an event of ours (they are a few hundred bytes). */
const MAX_LINE = 65536;
/** Why a circle left the list, as app/client/live.py's GONE_CODES. */
export const GONE_CODES = new Set(["not_a_member", "circle_not_found", "circle_deleted"]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function circleRow(row) {
  return row !== null && typeof row === "object" && UUID.test(String(row.circle_id)) && Number.isSafeInteger(row.last_seq) && row.last_seq >= 0;
}

/**
 * Whether an event says only what §37 lets it say: canonical circle ids, whole positions,
 * a known reason. A malformed one is `bad_event` (the stream reconnects), as in
 * app/client/live.py, so the server's word never reaches the page as a selector or text.
 */
export function wellFormed(kind, data) {
  switch (kind) {
    case "circles":
      return Array.isArray(data.circles) && data.circles.every(circleRow);
    case "circle":
      return circleRow(data);
    case "gone":
      return UUID.test(String(data.circle_id)) && GONE_CODES.has(data.code);
    default:
      return true; // other kinds are ignored by the page
  }
}

/** Server-Sent Events from text chunks: `{ kind, data }` per event; comments skipped. */
export class EventParser {
  #buffer = "";
  #kind = "";
  #data = "";

  /** Feed a chunk of text; return the events it completed. */
  push(chunk) {
    this.#buffer += chunk;
    const events = [];
    let at;
    while ((at = this.#buffer.indexOf("\n")) >= 0) {
      const line = this.#buffer.slice(0, at).replace(/\r$/, "");
      if (line.length > MAX_LINE) {
        throw new ProtocolError("bad_event", "the server sent an unreadable event");
      }
      this.#buffer = this.#buffer.slice(at + 1);
      if (line === "") {
        if (this.#kind) {
          let data = null;
          try {
            data = JSON.parse(this.#data);
          } catch {
            data = null;
          }
          if (data !== null && typeof data === "object" && !Array.isArray(data)) {
            events.push({ kind: this.#kind, data });
          }
        }
        this.#kind = "";
        this.#data = "";
        continue;
      }
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (name === "event") {
        this.#kind = value;
      } else if (name === "data") {
        this.#data = value;
      }
    }
    if (this.#buffer.length > MAX_LINE) {
      throw new ProtocolError("bad_event", "the server sent an unreadable event");
    }
    return events;
  }
}

/**
 * One account's live stream, reconnecting with backoff (1, 2, 4 … 30 s) after a dropped
 * connection, a busy server or `end: reconnect`. `onEvent(kind, data)` gets `circles`,
 * `circle` and `gone`; `onEnded(error)` is called once when the session ended (a 401 or
 * `end: session_ended`), and the stream stops. `stop()` ends it for good.
 */
export class LiveStream {
  constructor(client, { onEvent, onEnded = () => undefined, sleep = defaultSleep } = {}) {
    Object.assign(this, { client, onEvent, onEnded, sleep });
    this.controller = null;
    this.stopped = false;
  }

  start() {
    this.#run().catch(() => undefined);
    return this;
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
  }

  async #run() {
    let backoff = 1000;
    while (!this.stopped) {
      let outcome;
      try {
        outcome = await this.#once(() => {
          backoff = 1000;
        });
      } catch (error) {
        if (this.stopped) {
          return;
        }
        if (error instanceof ApiError && ![429, 503].includes(error.status)) {
          this.stopped = true;
          this.onEnded(error);
          return;
        }
        outcome = "retry";
      }
      if (outcome === "session_ended") {
        this.stopped = true;
        this.onEnded(new ApiError(401, "not_authenticated", "Your session has ended; log in again."));
        return;
      }
      if (this.stopped) {
        return;
      }
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /** One connection; returns "session_ended" or "retry". */
  async #once(connected) {
    const client = this.client;
    if (!client.token) {
      return "session_ended";
    }
    this.controller = new AbortController();
    const response = await client.fetch(`${client.baseUrl}/v1/events`, {
      method: "GET",
      headers: { Authorization: `Bearer ${client.token}`, Accept: "text/event-stream" },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
      signal: this.controller.signal,
    });
    if (response.status >= 400) {
      let code = "http_error";
      let message = `HTTP ${response.status}`;
      try {
        ({ code, message } = (await response.json()).error);
      } catch {
        // not the error shape
      }
      throw new ApiError(response.status, String(code), String(message));
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new EventParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return "retry";
      }
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        connected();
        if (event.kind === "end") {
          reader.cancel().catch(() => undefined);
          return event.data.code === "session_ended" ? "session_ended" : "retry";
        }
        if (!wellFormed(event.kind, event.data)) {
          reader.cancel().catch(() => undefined);
          throw new ProtocolError("bad_event", "the server sent an unreadable event");
        }
        this.onEvent(event.kind, event.data);
      }
    }
  }
}

function defaultSleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The newest warning position each circle's reader has seen, per account, shared by tabs. */
export class SeenStore {
  constructor({ storage = null, key = null } = {}) {
    Object.assign(this, { storage, key });
    this.circles = {};
  }

  static load(storage, username) {
    return new SeenStore({ storage, key: `backchannel.seen.${username}` });
  }

  #refresh() {
    if (this.storage === null) {
      return;
    }
    try {
      this.circles = JSON.parse(this.storage.getItem(this.key) ?? "{}") ?? {};
    } catch {
      // unreadable: keep what this page holds
    }
  }

  /** The newest position seen in the circle (0: nothing yet). */
  seen(circleId) {
    this.#refresh();
    return Number(this.circles[circleId] ?? 0);
  }

  /** How many warnings were posted since the reader last looked (some may since be gone). */
  unseen(circleId, lastSeq) {
    return Math.max(0, lastSeq - this.seen(circleId));
  }

  /** Record that the reader has seen up to `seq` (never moves back). */
  mark(circleId, seq) {
    this.#refresh();
    if (seq <= Number(this.circles[circleId] ?? 0)) {
      return;
    }
    this.circles[circleId] = seq;
    if (this.storage !== null) {
      try {
        this.storage.setItem(this.key, JSON.stringify(this.circles));
      } catch {
        // storage full or disabled: this page still remembers
      }
    }
  }
}
