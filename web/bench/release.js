// What the integrity worker costs a page load (docs/benchmarks.md, "Web code integrity"):
// two servers of the same code, one publishing a signed release (its page runs under the
// worker) and one publishing none (the page loads unchecked, as before the worker existed),
// each in its own Chromium context, reloaded alternately until the login form shows. Each figure is the median of `rounds` reloads; the load average is
// printed beside it, as the figures on a shared machine mean little without it.
//
//     cd web && node bench/release.js        # 9 rounds
//     cd web && node bench/release.js 3
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { launch } from "../e2e/browser.js";
import { BIN, REPO, startServer } from "../e2e/server.js";

const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 9);
const directory = await mkdtemp(path.join(tmpdir(), "backchannel-bench-release-"));
const key = path.join(directory, "release.key");
const release = path.join(directory, "web-release.json");
const tool = path.join(BIN, "backchannel-server");
await run(tool, ["release-key", "new", key], { cwd: REPO });
await run(tool, ["web-hashes", "--release-key", key, "--release", "1", "--output", release], { cwd: REPO });

const server = await startServer({ BACKCHANNEL_WEB_RELEASE: release });
const plain = await startServer();
const browser = await launch();
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
try {
  const checked = await (await browser.newContext({ baseURL: server.url })).newPage();
  const unchecked = await (await browser.newContext({ baseURL: plain.url })).newPage();
  const ready = (page) => page.getByRole("heading", { name: "Log in" }).waitFor({ timeout: 60_000 });
  for (const page of [checked, unchecked]) {
    await page.goto("/");
    await ready(page);
  }
  if (!(await checked.evaluate(() => navigator.serviceWorker.controller !== null))) {
    throw new Error("the worker does not control the checked page");
  }
  const times = { checked: [], unchecked: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [name, page] of Object.entries({ checked, unchecked })) {
      const started = performance.now();
      await page.reload();
      await ready(page);
      times[name].push(performance.now() - started);
    }
  }
  const [a, b] = [median(times.checked), median(times.unchecked)];
  console.log(
    `reload to the login form, median of ${rounds}: under the worker ${a.toFixed(0)} ms, ` +
      `unchecked ${b.toFixed(0)} ms (${(a / b).toFixed(2)}x); load average ${loadavg()[0].toFixed(1)}`,
  );
} finally {
  await browser.close();
  await server.stop();
  await plain.stop();
  await rm(directory, { recursive: true, force: true });
}
