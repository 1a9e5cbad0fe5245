/**
 * End-to-end: code integrity against a malicious server (docs/protocol.md §35), in Chromium.
 *
 *   cd web && node e2e/release.js                  # screenshots go to web/e2e/output/release/
 *   cd web && node e2e/release.js --update-docs    # also copies two of them to docs/screenshots/
 *
 * Releases are cut here with the real release command and keys this test makes (none is
 * given to the server); the real server serves release 2. A proxy in front of it plays the
 * malicious server: it swaps a module, adds one, serves an older release, a release by a key
 * nobody handed over to, and properly signed new releases. A returning browser must show the
 * alarm for every attack (and run nothing the server sent), accept the signed releases, and
 * be back at first use after its site data is cleared. The CLI check catches the same swap.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { launch, OUTPUT as E2E_OUTPUT } from "./browser.js";
import { BIN, REPO, startServer } from "./server.js";
import { step, steps } from "./steps.js";

const run = promisify(execFile);
const ALARM = "Stop: this server sent code that Backchannel did not release";
const OUTPUT = path.join(E2E_OUTPUT, "release");
const DOC_SHOTS = ["release-01-footer", "release-02-alarm-swapped"];

const directory = await mkdtemp(path.join(os.tmpdir(), "backchannel-release-"));
const file = (name) => path.join(directory, name);

async function server(...args) {
  const { stdout } = await run(path.join(BIN, "backchannel-server"), args, { cwd: REPO });
  return stdout;
}

/** Make a release key; its fingerprint as the footer shows it. */
async function newKey(name) {
  const shown = await server("release-key", "new", file(`${name}.key`));
  return shown.match(/fingerprint (.+)/)[1].trim();
}

async function cut(key, release, ...rotations) {
  const args = ["web-hashes", "--release-key", file(`${key}.key`), "--release", String(release), "--output", file(`release-${release}-${key}.json`)];
  for (const rotation of rotations) {
    args.push("--rotation", file(rotation));
  }
  await server(...args);
  return readFile(file(`release-${release}-${key}.json`));
}

/** A release of other files: what the release command would sign after `path` changed to `body`. */
async function cutChanged(key, release, changes, rotations = []) {
  const script = `
import json, sys
from pathlib import Path
from app.crypto.release import sign_release
from app.web import asset_digests
from app.web_release import read_release_key, read_rotation
key, release, changes, rotations, output = sys.argv[1:6]
assets = asset_digests() | json.loads(changes)
signed = sign_release(read_release_key(Path(key)), release=int(release), version="9.9.9",
    assets=assets, rotations=[read_rotation(Path(p)) for p in json.loads(rotations)])
Path(output).write_bytes(signed.to_bytes())
`;
  const digests = Object.fromEntries(Object.entries(changes).map(([p, body]) => [p, createHash("sha256").update(body).digest("hex")]));
  const output = file(`release-${release}-${key}.json`);
  await run(path.join(BIN, "python"), ["-c", script, file(`${key}.key`), String(release), JSON.stringify(digests), JSON.stringify(rotations.map(file)), output], { cwd: REPO });
  return readFile(output);
}

/** The malicious server: the real one behind a proxy that can answer some paths itself. */
function startProxy(upstream) {
  // releases: answers for the next requests of the release file, one each, before `release`;
  // posts: answers to POSTs of a path; slow: paths answered only after that many ms.
  const state = { swaps: new Map(), release: null, releases: [], posts: new Map(), slow: new Map(), seen: [], down: false };
  const proxy = http.createServer((request, response) => {
    const where = new URL(request.url, upstream).pathname;
    state.seen.push(where);
    if (state.down) {
      response.writeHead(503, { "Content-Type": "text/plain" });
      response.end("down for maintenance");
      return;
    }
    const release = where === "/web-release.json" ? (state.releases.shift() ?? state.release) : null;
    const body = release ?? (request.method === "POST" ? state.posts.get(where) : undefined) ?? state.swaps.get(where);
    if (body !== undefined) {
      const type = where.endsWith(".json") ? "application/json" : where.endsWith(".js") ? "text/javascript" : "text/html";
      setTimeout(() => {
        response.writeHead(200, { "Content-Type": type, "Cache-Control": "no-cache" });
        response.end(body);
      }, state.slow.get(where) ?? 0);
      return;
    }
    const target = new URL(request.url, upstream);
    const forward = http.request(target, { method: request.method, headers: { ...request.headers, host: target.host } }, (answer) => {
      response.writeHead(answer.statusCode, answer.headers);
      answer.pipe(response);
    });
    request.pipe(forward);
  });
  return new Promise((resolve) => {
    proxy.listen(0, "127.0.0.1", () => {
      state.url = `http://127.0.0.1:${proxy.address().port}`;
      state.close = () => new Promise((done) => proxy.close(done));
      resolve(state);
    });
  });
}

const keyA = await newKey("a");
const keyB = await newKey("b");
const keyC = await newKey("c");
await server("release-key", "rotate", "--from", file("a.key"), "--to", file("b.key"), "--output", file("a-to-b.json"));
const release1 = await cut("a", 1);
await cut("a", 2);
const release3 = await cut("a", 3);
const unvouched = await cut("c", 4);

const upstream = await startServer({ BACKCHANNEL_WEB_RELEASE: file("release-2-a.json") });
const proxy = await startProxy(upstream.url);
const browser = await launch(OUTPUT);
let failed = false;
try {
  const context = await browser.newContext({ baseURL: proxy.url, viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(error.message));
  const domJs = await (await fetch(`${upstream.url}/static/ui/dom.js`)).text();

  const footerKey = () => page.locator(".release-key").textContent({ timeout: 30_000 });
  const footer = () => page.locator("#release").textContent();
  async function expectApp() {
    await page.getByRole("heading", { name: "Log in" }).waitFor({ timeout: 30_000 });
    assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), "the page runs under the worker");
  }
  async function expectAlarm(reason, shot) {
    await page.getByRole("heading", { name: ALARM }).waitFor({ timeout: 30_000 });
    const text = await page.locator("body").textContent();
    assert.ok(text.includes(reason), `the alarm says "${reason}": ${text}`);
    assert.equal(await page.locator("script").count(), 0, "the alarm page runs no script");
    assert.equal(await page.locator("#main").count(), 0, "the app is not there");
    await page.screenshot({ path: path.join(OUTPUT, `${shot}.png`), fullPage: true });
  }

  await step("first visit: the worker is installed and pins release key A (trust on first use)", async () => {
    await page.goto("/");
    await expectApp();
    assert.equal(await footerKey(), keyA);
    assert.match(await footer(), /signed release 2 .*first visit/);
    await page.screenshot({ path: path.join(OUTPUT, "release-01-footer.png"), fullPage: true });
  });

  await step("the worker serves the page with the server's policy and security headers, and the page's SRI holds", async () => {
    const served = await page.goto("/");
    const direct = await fetch(`${upstream.url}/`);
    for (const name of ["content-security-policy", "cross-origin-opener-policy", "x-frame-options", "x-content-type-options", "referrer-policy"]) {
      assert.equal(served.headers()[name], direct.headers.get(name), name);
    }
    await expectApp();
  });

  await step("after the browser stops the worker, the page's requests come from checked bytes", async () => {
    const cdp = await context.newCDPSession(page);
    await cdp.send("ServiceWorker.enable");
    await cdp.send("ServiceWorker.stopAllWorkers");
    const before = proxy.seen.length;
    const list = await page.evaluate(() => fetch("/static/data/common-passphrases.txt").then((answer) => answer.text()));
    assert.ok(list.split("\n").length > 1000);
    assert.ok(!proxy.seen.slice(before).includes("/static/data/common-passphrases.txt"), "not fetched again");
    await cdp.detach();
  });

  await step("a swapped module is refused with the alarm", async () => {
    proxy.swaps.set("/static/ui/dom.js", `${domJs}\nfetch("/v1/steal");\n`);
    const before = proxy.seen.length;
    await page.reload();
    await expectAlarm("/static/ui/dom.js is not the file release 2 lists", "release-02-alarm-swapped");
    assert.ok(!proxy.seen.slice(before).includes("/v1/steal"), "the swapped module never ran");
    proxy.swaps.clear();
    await page.reload();
    await expectApp();
  });

  await step("a module the release does not list is refused with the alarm", async () => {
    proxy.swaps.set("/static/ui/extra.js", 'fetch("/v1/steal");');
    const before = proxy.seen.length;
    // The worker answers by sending the tab to the alarm, which may end this evaluation.
    await page.evaluate(() => import("/static/ui/extra.js").catch(() => null)).catch(() => null);
    await expectAlarm("/static/ui/extra.js is not part of release 2", "release-03-alarm-added");
    assert.ok(!proxy.seen.slice(before).includes("/static/ui/extra.js"), "the worker never fetched it");
    proxy.swaps.clear();
    await page.reload();
    await expectApp();
  });

  await step("a swapped worker script is refused on the navigations the pinned worker answers", async () => {
    const worker = await (await fetch(`${upstream.url}/sw.js`)).text();
    proxy.swaps.set("/sw.js", `${worker}\n// another worker\n`);
    await page.reload();
    await expectAlarm("/sw.js is not the file release 2 lists", "release-04-alarm-worker");
    proxy.swaps.clear();
    await page.reload();
    await expectApp();
  });

  await step("an older, properly signed release is refused with the alarm", async () => {
    proxy.release = release1;
    await page.reload();
    await expectAlarm("older release", "release-05-alarm-older");
  });

  await step("a release by a key the pinned key never handed over to is refused", async () => {
    proxy.release = unvouched;
    await page.reload();
    await expectAlarm("does not trust", "release-06-alarm-other-key");
  });

  await step("a properly signed new release is accepted", async () => {
    proxy.release = release3;
    await page.reload();
    await expectApp();
    assert.match(await footer(), /signed release 3 /);
    assert.equal(await footerKey(), keyA);
  });

  await step("a navigation the network would answer (a POSTed form, an API address) runs nothing the server sent", async () => {
    const injected = (mark) => `<!doctype html><title>injected</title><h1>Injected</h1><script>fetch("/v1/${mark}")</script>`;
    proxy.posts.set("/", injected("steal-post"));
    proxy.swaps.set("/v1/page", injected("steal-api-page"));
    proxy.swaps.set("/v1/code.js", 'fetch("/v1/steal-api-code");');
    const before = proxy.seen.length;
    // Any site can send a browser here with a POSTed form; this page does it to itself.
    await Promise.all([
      page.waitForNavigation(),
      page.evaluate(() => {
        const form = Object.assign(document.createElement("form"), { method: "post", action: "/" });
        document.body.append(form);
        form.submit();
      }),
    ]);
    await expectApp(); // the checked page, not the server's answer to the POST
    await page.goto("/v1/page");
    await page.getByRole("heading", { name: "This address is not a page of Backchannel" }).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator("script").count(), 0);
    await page.goto("/");
    await expectApp();
    // Code is served from checked bytes at any path, the API's included.
    await page.evaluate(() => import("/v1/code.js").catch(() => null)).catch(() => null);
    await expectAlarm("/v1/code.js is not part of release 3", "release-08-alarm-api-code");
    const stolen = proxy.seen.slice(before).filter((where) => where.startsWith("/v1/steal"));
    assert.deepEqual(stolen, [], "nothing the server sent for these ran");
    for (const where of ["/v1/page", "/v1/code.js"]) {
      assert.ok(!proxy.seen.slice(before).includes(where), `the worker never asked the server for ${where}`);
    }
    proxy.posts.clear();
    proxy.swaps.clear();
    await page.reload();
    await expectApp();
  });

  await step("two tabs checking at once cannot pin an older release over a newer one", async () => {
    // Release 4 lists one more file, which the server answers slowly; release 6 is quick. The
    // tab that got 4 finishes last: it must not pin 4 over the 6 the other tab accepted.
    proxy.swaps.set("/static/ui/slow.js", "// slow\n");
    proxy.slow.set("/static/ui/slow.js", 3000);
    const older = await cutChanged("a", 4, { "/static/ui/slow.js": "// slow\n" });
    const newer = await cut("a", 6);
    proxy.releases.push(older, newer);
    const other = await context.newPage();
    await Promise.all([page.goto("/"), other.goto("/")]);
    await other.close();
    proxy.release = older;
    await page.reload();
    await expectAlarm("older release", "release-09-alarm-race");
    proxy.release = newer;
    proxy.swaps.clear();
    proxy.slow.clear();
    await page.reload();
    await expectApp();
    assert.match(await footer(), /signed release 6 /);
  });

  await step("a server that does not answer is an outage, not an alarm", async () => {
    proxy.down = true;
    await page.reload();
    await page.getByRole("heading", { name: "The server does not answer" }).waitFor({ timeout: 30_000 });
    proxy.down = false;
    await page.reload();
    await expectApp();
  });

  await step("a new release by key B with A's statement, and a changed module, is accepted", async () => {
    const changed = `${domJs}\n// release 7\n`;
    // The page's SRI names dom.js's hash: a release that changes a module changes the page too.
    const page5 = (await (await fetch(`${upstream.url}/`)).text()).replace(
      /"\/static\/ui\/dom\.js":"sha256-[^"]+"/,
      `"/static/ui/dom.js":"sha256-${createHash("sha256").update(changed).digest("base64")}"`,
    );
    proxy.release = await cutChanged("b", 7, { "/static/ui/dom.js": changed, "/": page5, "/join": page5, "/takedown": page5, "/receipt": page5 }, ["a-to-b.json"]);
    proxy.swaps.set("/static/ui/dom.js", changed);
    for (const entry of ["/", "/join", "/takedown", "/receipt"]) {
      proxy.swaps.set(entry, page5);
    }
    await page.reload();
    await expectApp();
    assert.match(await footer(), /signed release 7 \(\u2068?9\.9\.9\u2069?\)/u);
    assert.equal(await footerKey(), keyB);
  });

  await step("then key A is no longer trusted: its release 3 is refused", async () => {
    proxy.swaps.clear();
    proxy.release = release3;
    await page.reload();
    await expectAlarm("does not trust", "release-07-alarm-old-key");
  });

  await step("the CLI check catches the same swap", async () => {
    proxy.release = null;
    proxy.swaps.set("/static/ui/dom.js", `${domJs}\nfetch("/v1/steal");\n`);
    const verify = (manifest) =>
      run(path.join(BIN, "backchannel"), ["web", "verify", proxy.url, "--manifest", manifest, "--json"], { cwd: REPO }).then(
        () => ({ code: 0 }),
        (error) => ({ code: error.code, output: JSON.parse(error.stdout) }),
      );
    const swapped = await verify(file("release-2-a.json"));
    assert.equal(swapped.code, 1);
    assert.deepEqual(swapped.output.differences.map((d) => d.path), ["/static/ui/dom.js"]);
    proxy.swaps.clear();
    assert.equal((await verify(file("release-2-a.json"))).code, 0);
  });

  await step("clearing the site's data returns the browser to first use", async () => {
    const cdp = await context.newCDPSession(page);
    await cdp.send("Storage.clearDataForOrigin", { origin: proxy.url, storageTypes: "all" });
    proxy.release = unvouched; // now any key is trusted again, as on a first visit
    // An invite link on a first visit: the reload under the new worker keeps the fragment.
    // Well formed (the page refuses a cut-off link on arrival), naming no real circle.
    const invite = `bcinvite1.${"4f2a".repeat(8)}.${"9c1e".repeat(8)}.${"A".repeat(43)}.${"1234567890".repeat(3)}.${"A".repeat(43)}`;
    await page.goto(`/join#${invite}`);
    await page.getByText("You have been invited to a circle").waitFor({ timeout: 30_000 });
    assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null));
    assert.equal(await footerKey(), keyC);
  });

  assert.deepEqual(problems, [], "no uncaught page errors");
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await browser.close();
  await proxy.close();
  await upstream.stop();
  await rm(directory, { recursive: true, force: true });
}
if (!failed && process.argv.includes("--update-docs")) {
  for (const name of DOC_SHOTS) {
    await copyFile(path.join(OUTPUT, `${name}.png`), path.join(REPO, "docs", "screenshots", `${name}.png`));
  }
  console.log(`copied ${DOC_SHOTS.length} screenshots to docs/screenshots/`);
}
console.log(`${steps.length} steps passed${failed ? ", then one FAILED" : ""}`);
process.exit(failed ? 1 : 0);
