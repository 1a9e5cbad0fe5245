/**
 * The integrity worker (docs/protocol.md §35; docs/threat-model.md, "The web client").
 *
 * Installed on the first visit to a server that publishes a signed release. From then on
 * every navigation is answered here: the worker fetches /web-release.json, checks it
 * against the pinned release key (first use pins the key it names), fetches every asset the
 * release lists, checks each SHA-256, and only then serves the page. The page's modules,
 * styles and data are served from those checked bytes, never from the network again, with
 * this worker's own headers (the server's cannot weaken the policy). A swapped, added or
 * older asset, a manifest by another key, an older or forked release: the person gets the
 * full-page alarm below instead, and nothing the server sent runs.
 *
 * The API (/v1/) is data, not code: fetches of it pass through untouched. Navigations never
 * do (whatever their method or path), nor does any request for code or styles.
 *
 * What this cannot do (said in the threat model): check itself (the browser fetches this
 * file from the server on its update checks, and a server that changes it replaces it), or
 * survive the browser's "clear site data", which returns it to first use.
 */
import { fromB64 } from "/static/protocol/encoding.js";
import { checkAsset, checkRelease, parseSignedRelease, releaseKeyFingerprint } from "/static/protocol/release.js";

const RELEASE_PATH = "/web-release.json";
const STATE_CACHE = "backchannel-release-v1";
const PIN_URL = "/__backchannel/pin";
const PASS_THROUGH = [/^\/v1\//, /^\/healthz$/];
// The page's policy, as app/web.py sends it (tests/test_web_release.py compares the two); the
// import map is admitted by its hash, computed here from the checked page.
const POLICY =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
// The server's other security headers (app/web.py security_headers; the test compares them).
const HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "X-Frame-Options": "DENY",
  "Cache-Control": "no-cache",
};
const TYPES = {
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  txt: "text/plain; charset=utf-8",
  json: "application/json",
};

/** The release this worker last checked: { signed, text, bodies: Map(path -> bytes) }. */
let current = null;
/** An alarm to show on the next navigation of a page (set when a page asked for code not released). */
let pendingAlarm = null;

self.addEventListener("install", (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  // Every navigation, whatever its method or path, is answered here: a page the network
  // answered (a form POSTed to this origin from anywhere, a link to /v1/…) would run
  // whatever the server sent, unchecked and with this origin's storage.
  if (request.mode === "navigate") {
    event.respondWith(navigate(url));
    return;
  }
  // Data (fetch, XHR: no destination) may go to the network: the API, and any non-GET. Code,
  // styles and documents may not, at any path: only checked bytes are served for them.
  if (request.destination === "" && (request.method !== "GET" || PASS_THROUGH.some((pattern) => pattern.test(url.pathname)))) {
    return;
  }
  event.respondWith(asset(url, event.clientId));
});

class Refused extends Error {
  constructor(title, detail) {
    super(detail);
    this.title = title;
  }
}

/** The server did not answer (a network error or a 5xx): not an attack, so no alarm. */
class Unreachable extends Error {}

async function get(path, init) {
  let answer;
  try {
    answer = await fetch(path, init);
  } catch {
    throw new Unreachable(`${path} could not be fetched`);
  }
  if (answer.status >= 500) {
    throw new Unreachable(`${path} answered ${answer.status}`);
  }
  return answer;
}

async function navigate(url) {
  if (pendingAlarm !== null) {
    const alarm = pendingAlarm;
    pendingAlarm = null;
    return alarmPage(alarm);
  }
  try {
    const release = await checkedRelease();
    const body = release.bodies.get(url.pathname);
    // Not a page of the release (an API path, a mistyped address): nothing to check, and
    // nothing of the server's is shown either.
    return body === undefined ? notAPage(url.pathname) : respond(url.pathname, body);
  } catch (error) {
    return error instanceof Unreachable ? unreachablePage() : alarmPage(await describe(error));
  }
}

async function asset(url, clientId) {
  let release = current ?? (await storedRelease());
  if (url.pathname === RELEASE_PATH && release !== null) {
    return respond(RELEASE_PATH, new TextEncoder().encode(release.text));
  }
  const body = release?.bodies.get(url.pathname);
  if (body !== undefined) {
    return respond(url.pathname, body);
  }
  const number = release === null ? "the pinned release" : `release ${release.signed.manifest.release}`;
  pendingAlarm = await describe(new Refused("The page asked for code that was not released", `${url.pathname} is not part of ${number}.`));
  const client = clientId ? await self.clients.get(clientId) : null;
  if (client !== null && client !== undefined && "navigate" in client) {
    await client.navigate(client.url);
  }
  return new Response("Refused: not part of the signed release.", { status: 403, headers: { "Content-Type": "text/plain" } });
}

/** The checks in progress: one at a time, so that each reads the pin the one before stored. */
let checking = Promise.resolve();

/**
 * Fetch and check the release and every asset it lists; pin it; keep the checked bytes.
 * Navigations (several tabs, a session restore) are checked one after another: two checks
 * that both read the same pin would each accept a newer release, and the slower one would
 * pin its own, older one over the newer (a rollback the pin exists to refuse).
 */
function checkedRelease() {
  const turn = checking.then(checkNow);
  checking = turn.catch(() => {});
  return turn;
}

async function checkNow() {
  const response = await get(RELEASE_PATH, { cache: "no-store" });
  if (!response.ok) {
    throw new Refused("The server no longer publishes a signed release", `${RELEASE_PATH} answered ${response.status}.`);
  }
  const text = await response.text();
  const signed = await parseSignedRelease(text);
  const pin = await loadPin();
  const after = checkRelease(signed, pin);
  const bodies = new Map();
  await Promise.all(
    [...signed.manifest.assets.keys()].map(async (path) => {
      const answer = await get(path, { cache: "no-cache", credentials: "same-origin" });
      const bytes = new Uint8Array(await answer.arrayBuffer());
      if (!answer.ok) {
        throw new Refused("A file of the release is missing", `${path} answered ${answer.status}.`);
      }
      await checkAsset(signed.manifest, path, bytes);
      bodies.set(path, bytes);
    }),
  );
  const unchanged = current !== null && current.text === text;
  current = { signed, text, bodies };
  if (!unchanged) {
    await store(current, after); // the bytes of an unchanged release are stored already
  }
  return current;
}

async function loadPin() {
  const cache = await caches.open(STATE_CACHE);
  const stored = await cache.match(PIN_URL);
  return stored === undefined ? null : stored.json();
}

async function store(release, pin) {
  const cache = await caches.open(STATE_CACHE);
  await cache.put(PIN_URL, new Response(JSON.stringify(pin)));
  await cache.put(RELEASE_PATH, new Response(release.text));
  for (const [path, bytes] of release.bodies) {
    await cache.put(path, new Response(bytes));
  }
}

/** After the browser stopped and restarted this worker: the release it last checked. */
async function storedRelease() {
  const cache = await caches.open(STATE_CACHE);
  const file = await cache.match(RELEASE_PATH);
  if (file === undefined) {
    return null;
  }
  const text = await file.text();
  const signed = await parseSignedRelease(text);
  const bodies = new Map();
  for (const path of signed.manifest.assets.keys()) {
    const stored = await cache.match(path);
    if (stored === undefined) {
      return null;
    }
    const bytes = new Uint8Array(await stored.arrayBuffer());
    await checkAsset(signed.manifest, path, bytes);
    bodies.set(path, bytes);
  }
  current = { signed, text, bodies };
  return current;
}

async function sha256Base64(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest));
}

async function respond(path, bytes) {
  const extension = path.includes(".") ? path.slice(path.lastIndexOf(".") + 1) : "html";
  const headers = { "Content-Type": TYPES[extension] ?? "text/html; charset=utf-8", ...HEADERS };
  if (extension === "html") {
    const html = new TextDecoder().decode(bytes);
    const hashes = [];
    for (const match of html.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)) {
      hashes.push(` 'sha256-${await sha256Base64(match[1])}'`);
    }
    headers["Content-Security-Policy"] = POLICY.replace("'wasm-unsafe-eval'", `'wasm-unsafe-eval'${hashes.join("")}`);
  } else {
    headers["Content-Security-Policy"] = POLICY;
  }
  return new Response(bytes, { status: 200, headers });
}

const REASONS = {
  UntrustedSigner: ["The code is signed by a key your browser does not trust", "The release is signed by another key than the one your browser pinned, and the pinned key did not hand over to it."],
  ReleaseRollback: ["The server sent an older release", "The server sent a release older than the one your browser has already accepted. Old releases can have known flaws."],
  ReleaseFork: ["The server sent a different release under the same number", "The release number is the one your browser accepted, but its content is different."],
  BadSignature: ["The release's signature does not verify", "The list of released files was changed after it was signed."],
  InvalidKey: ["The code is not the released code", null],
};

async function describe(error) {
  const pin = await loadPin().catch(() => null);
  const fingerprint = pin === null ? null : await releaseKeyFingerprint(fromB64(pin.key, 32));
  if (error instanceof Refused) {
    return { title: error.title, detail: error.message, fingerprint };
  }
  const [title, detail] = REASONS[error?.name] ?? ["The page could not be checked", null];
  const said = detail ?? String(error?.message ?? error);
  return { title, detail: /[.!?]$/.test(said) ? said : `${said}.`, fingerprint };
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const PAGE_HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cache-Control": "no-store",
};

/** The server did not answer: nothing was loaded, nothing to alarm about. */
function unreachablePage() {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Backchannel: the server does not answer</title>
<style>body{font:1.05rem/1.5 system-ui,sans-serif;margin:0}main{max-width:40rem;margin:0 auto;padding:2rem 1.25rem}</style>
</head><body><main>
<h1>The server does not answer</h1>
<p>Your browser could not fetch this site's code to check it, so nothing was loaded. Reload later.</p>
</main></body></html>`;
  return new Response(html, { status: 503, headers: PAGE_HEADERS });
}

/** A navigation to an address that is no page of the release: said plainly, no alarm. */
function notAPage(path) {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Backchannel: not a page</title>
<style>body{font:1.05rem/1.5 system-ui,sans-serif;margin:0}main{max-width:40rem;margin:0 auto;padding:2rem 1.25rem}</style>
</head><body><main>
<h1>This address is not a page of Backchannel</h1>
<p>${escape(path)} is not part of the signed release, so your browser did not load it. <a href="/">Open Backchannel</a>.</p>
</main></body></html>`;
  return new Response(html, { status: 404, headers: PAGE_HEADERS });
}

/** The full-page alarm: made here, with no script at all, so nothing from the server runs. */
function alarmPage({ title, detail, fingerprint }) {
  const pinned = fingerprint === null ? "" : `<p>The release key your browser pinned on your first visit has the fingerprint <b class="fp">${escape(fingerprint)}</b>. The release notes show the genuine one.</p>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Stop: this is not a Backchannel release</title>
<style>body{font:1.05rem/1.5 system-ui,sans-serif;margin:0;background:#7a0010;color:#fff}main{max-width:40rem;margin:0 auto;padding:2rem 1.25rem}h1{font-size:1.6rem;line-height:1.25}.fp{font-family:ui-monospace,monospace;white-space:nowrap}.why{background:#fff;color:#000;padding:0.75rem 1rem;border-radius:0.4rem}</style>
</head><body><main role="alert">
<h1>Stop: this server sent code that Backchannel did not release</h1>
<p>Your browser checked the page against the release signed with the Backchannel release key, and refused it. Nothing the server sent has run.</p>
<div class="why"><p><b>${escape(title)}.</b> ${escape(detail)}</p></div>
<h2>What it means</h2>
<p>The server, or someone between you and it, is sending code other than the released code. Such code could read your passphrase and your circles' warnings.</p>
<h2>What to do</h2>
<ul>
<li>Do not type your passphrase or anything else on this site now. Close this tab.</li>
<li>Tell the server's operator and your circles' admins, through another channel.</li>
<li>Meanwhile use the command-line client (<code>backchannel</code>), which does not load its code from the server.</li>
<li>Reloading checks again. Clearing this site's data in your browser removes the pinned key: the next visit then trusts whatever the server sends, as a first visit does. Do that only once you have checked, outside this site, that a new key is genuine.</li>
</ul>
${pinned}
</main></body></html>`;
  return new Response(html, { status: 200, headers: { ...PAGE_HEADERS, "X-Backchannel-Alarm": "1" } });
}
