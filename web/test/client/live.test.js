// Live updates in the page (docs/protocol.md §37): the event parser, the stream's
// reconnects and endings, the token kept out of the URL, and the per-account seen positions.
import assert from "node:assert/strict";
import { test } from "node:test";

import { EventParser, GONE_CODES, LiveStream, SeenStore, wellFormed } from "../../src/client/live.js";
import { Client } from "../../src/client/sdk.js";

const CIRCLE = "0b0e8a52-6d8e-4f4e-9a43-5d6c1f0b7c11";

function sse(...events) {
  return events.map(([kind, data]) => `event: ${kind}\ndata: ${JSON.stringify(data)}\n\n`).join("");
}

/** A fetch that answers each call with the next planned response (chunks of a stream). */
function plannedFetch(plans) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const plan = plans.shift() ?? { status: 200, chunks: [] };
    if (plan.status !== 200) {
      return new Response(JSON.stringify({ error: { code: plan.code, message: "no" } }), { status: plan.status });
    }
    const encoder = new TextEncoder();
    const body = new ReadableStream({
      start(controller) {
        for (const chunk of plan.chunks) {
          controller.enqueue(encoder.encode(chunk));
        }
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
  };
  return { fetch, calls };
}

test("the parser joins events split across chunks and skips comments and retry", () => {
  const parser = new EventParser();
  const text = `retry: 3000\n\n: keep-alive\n\n${sse(["circle", { circle_id: CIRCLE, last_seq: 2, last_change_seq: 3 }])}`;
  const events = [];
  for (const piece of [text.slice(0, 17), text.slice(17, 40), text.slice(40)]) {
    events.push(...parser.push(piece));
  }
  assert.deepEqual(events, [{ kind: "circle", data: { circle_id: CIRCLE, last_seq: 2, last_change_seq: 3 } }]);
  assert.deepEqual(parser.push("event: circle\ndata: not json\n\n"), []);
});

test("the stream sends the token in a header, never in the URL, and reconnects with backoff", async () => {
  const { fetch, calls } = plannedFetch([
    { status: 200, chunks: [sse(["circles", { circles: [] }])] }, // then the connection drops
    { status: 503, code: "streams_full" },
    { status: 200, chunks: [sse(["circle", { circle_id: CIRCLE, last_seq: 1, last_change_seq: 1 }], ["end", { code: "session_ended" }])] },
  ]);
  const client = new Client({ fetch, token: "secret-token" });
  const waits = [];
  const seen = [];
  const ended = await new Promise((resolve) => {
    new LiveStream(client, {
      onEvent: (kind, data) => seen.push([kind, data]),
      onEnded: resolve,
      sleep: async (ms) => waits.push(ms),
    }).start();
  });
  assert.equal(ended.code, "not_authenticated");
  assert.deepEqual(seen.map(([kind]) => kind), ["circles", "circle"]);
  assert.deepEqual(waits, [1000, 2000]); // a connection that delivered an event starts again at 1 s
  for (const call of calls) {
    assert.equal(call.url, "/v1/events");
    assert.equal(call.init.headers.Authorization, "Bearer secret-token");
    assert.equal(call.init.credentials, "omit");
  }
});

test("a refused stream (401) ends it at once; a busy one backs off 1, 2, 4 s", async () => {
  const { fetch } = plannedFetch([
    { status: 429, code: "too_many_streams" },
    { status: 503, code: "streams_full" },
    { status: 503, code: "streams_full" },
    { status: 401, code: "not_authenticated" },
  ]);
  const waits = [];
  const ended = await new Promise((resolve) => {
    new LiveStream(new Client({ fetch, token: "t" }), {
      onEvent: () => assert.fail("no events"),
      onEnded: resolve,
      sleep: async (ms) => waits.push(ms),
    }).start();
  });
  assert.equal(ended.status, 401);
  assert.deepEqual(waits, [1000, 2000, 4000]);
});

test("stop() ends the stream without reporting an ended session", async () => {
  let abort = null;
  const fetch = (url, init) =>
    new Promise((_, reject) => {
      abort = () => reject(new DOMException("aborted", "AbortError"));
      init.signal.addEventListener("abort", abort);
    });
  const stream = new LiveStream(new Client({ fetch, token: "t" }), {
    onEvent: () => assert.fail("no events"),
    onEnded: () => assert.fail("not ended by the server"),
    sleep: async () => assert.fail("no retry after stop"),
  }).start();
  await new Promise((resolve) => setTimeout(resolve, 10));
  stream.stop();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(abort !== null);
});

class MemoryStorage {
  items = new Map();
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
}

test("seen positions are per account, shared through storage, and never move back", () => {
  const storage = new MemoryStorage();
  const tab1 = SeenStore.load(storage, "alice");
  const tab2 = SeenStore.load(storage, "alice");
  const bob = SeenStore.load(storage, "bob");
  assert.equal(tab1.unseen(CIRCLE, 4), 4);
  tab1.mark(CIRCLE, 3);
  assert.equal(tab2.unseen(CIRCLE, 4), 1); // the other tab reads the stored position
  tab2.mark(CIRCLE, 2);
  assert.equal(tab1.seen(CIRCLE), 3);
  assert.equal(bob.unseen(CIRCLE, 4), 4);
  assert.deepEqual([...storage.items.keys()].sort(), ["backchannel.seen.alice"]);
});

test("a malformed event from the server is bad_event: never passed to the page; the stream reconnects", async () => {
  const bad = [
    ["gone", { circle_id: "x\"] , body", code: "not_a_member" }],
    ["gone", { circle_id: CIRCLE, code: "<img src=x>" }],
    ["circle", { circle_id: CIRCLE, last_seq: -1 }],
    ["circles", { circles: [{ circle_id: CIRCLE.toUpperCase(), last_seq: 1 }] }],
  ];
  for (const [kind, data] of bad) {
    assert.equal(wellFormed(kind, data), false, JSON.stringify(data));
  }
  assert.equal(wellFormed("gone", { circle_id: CIRCLE, code: "circle_deleted" }), true);
  assert.deepEqual([...GONE_CODES].sort(), ["circle_deleted", "circle_not_found", "not_a_member"]);
  assert.throws(() => new EventParser().push("data: " + "x".repeat(70000)), { code: "bad_event" });
  const { fetch } = plannedFetch([
    { status: 200, chunks: [sse(bad[0])] },
    { status: 200, chunks: [sse(["gone", { circle_id: CIRCLE, code: "circle_deleted" }], ["end", { code: "session_ended" }])] },
  ]);
  const seen = [];
  const waits = [];
  await new Promise((resolve) => {
    new LiveStream(new Client({ fetch, token: "t" }), {
      onEvent: (kind, data) => seen.push([kind, data.code]),
      onEnded: resolve,
      sleep: async (ms) => waits.push(ms),
    }).start();
  });
  assert.deepEqual(seen, [["gone", "circle_deleted"]]);
  assert.deepEqual(waits, [1000]);
});
