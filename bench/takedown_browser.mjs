/**
 * The takedown page in Debian's chromium, CPU throttled (CDP Emulation.setCPUThrottlingRate),
 * for bench/takedown_flood.py: for each link, file a request as a person would and time it
 * from the click on "Send request" to the receipt; then time single proof-of-work
 * evaluations in the same throttled page. Prints one JSON object.
 *
 *   node bench/takedown_browser.mjs '{"rate": 4, "links": ["http://127.0.0.1:8000/takedown#…"]}'
 */
import { createRequire } from "node:module";

const require = createRequire(new URL("../web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const { rate, links, evaluations = 30 } = JSON.parse(process.argv[2]);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" });
const runs = [];
let perEvaluation = null;
try {
  for (const link of links) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate });
    const works = [];
    const server = {}; // seconds each request took, from sending to the last byte of the answer
    page.on("response", async (response) => {
      if (new URL(response.url()).pathname === "/v1/takedown/challenge" && response.ok()) {
        works.push((await response.json()).work);
      }
    });
    page.on("requestfinished", (request) => {
      const route = new URL(request.url()).pathname;
      if (route.startsWith("/v1/takedown")) {
        server[route] = (server[route] ?? 0) + request.timing().responseEnd / 1000;
      }
    });
    await page.goto(link);
    await page.getByRole("heading", { name: "Ask for a takedown" }).waitFor();
    await page.getByLabel(/Your name/).fill("Jan Novák");
    await page.getByLabel("Your request").fill("The warning about me is false: I was not at that party.");
    const started = performance.now();
    await page.getByRole("button", { name: "Send request" }).click();
    await page.getByRole("heading", { name: "Request sent" }).waitFor({ timeout: 600_000 });
    runs.push({ seconds: (performance.now() - started) / 1000, works, server });
    if (perEvaluation === null) {
      // Single evaluations in the same throttled page, through the page's own modules.
      perEvaluation = await page.evaluate(async (count) => {
        const { ready } = await import("/static/protocol/sodium.js");
        const { proofHash } = await import("/static/protocol/proofs.js");
        await ready();
        const seed = new Uint8Array(32);
        proofHash(seed, 0);
        const t = performance.now();
        for (let n = 1; n <= count; n += 1) {
          proofHash(seed, n);
        }
        return (performance.now() - t) / count / 1000;
      }, evaluations);
    }
    await context.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify({ rate, runs, per_evaluation_seconds: perEvaluation })}\n`);
