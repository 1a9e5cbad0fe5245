/**
 * People in browser contexts: Debian's chromium driven by playwright-core, every request
 * body recorded, screenshots saved under web/e2e/output/.
 */
import { mkdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium } from "playwright-core";
import { atPhoneWidth } from "./steps.js";

export const OUTPUT = path.join(import.meta.dirname, "output");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** Chromium, with `output` (the screenshots' folder) emptied first. */
export async function launch(output = OUTPUT) {
  await rm(output, { recursive: true, force: true });
  await mkdir(output, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM });
}

/**
 * A pattern for a sentence with user strings in it: the page isolates each (FSI … PDI,
 * ui/text.js `isolated`), which Chromium may or may not keep in an accessible name.
 * said`Confirm ${"bob"}` matches "Confirm bob" with or without the isolates.
 */
export function said(parts, ...names) {
  const quote = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const source = parts.map((part, i) => quote(part) + (i < names.length ? `\u2068?${quote(names[i])}\u2069?` : "")).join("");
  return new RegExp(source, "u");
}

/** Viewports: a laptop, and a phone (390 × 844, touch) for the "usable at phone width" check. */
export const DESKTOP = { viewport: { width: 1100, height: 800 } };
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/**
 * A person with their own browser context. `requests` holds every request the page
 * made (method, URL without the fragment, body as text); `statuses` every text the
 * status region showed; `problems` console errors and uncaught page errors.
 */
export async function person(browser, server, name, options = DESKTOP) {
  const context = await browser.newContext({ ...options, baseURL: server.url });
  if (options.isMobile) {
    atPhoneWidth(context);
  }
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  const requests = [];
  const problems = [];
  context.on("request", (request) => {
    const body = request.postDataBuffer();
    requests.push({
      method: request.method(),
      // Browsers never send the fragment; the server's log check proves it separately.
      url: request.url().split("#")[0],
      body: body === null ? "" : body.toString("utf8"),
    });
  });
  // Runs before the page's scripts, through the DevTools protocol (not subject to the CSP).
  await context.addInitScript(() => {
    window.__statuses = [];
    new MutationObserver(() => {
      const region = document.getElementById("status");
      if (region && region.textContent) {
        window.__statuses.push(region.textContent);
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  // axe-core in every page (an init script, so the page's CSP does not apply to it).
  await context.addInitScript({ path: AXE });
  const page = await context.newPage();
  page.on("console", (message) => {
    // An API error answer (a wrong passphrase's 401) is logged by the browser as a failed
    // load; the test checks how the page shows those. Anything else is a problem.
    // A server that publishes no signed release answers /web-release.json with 404 (§35).
    const where = new URL(message.location().url || server.url).pathname;
    const apiAnswer = where.startsWith("/v1/") || where === "/web-release.json";
    if (message.type() === "error" && !apiAnswer) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return {
    name,
    context,
    page,
    requests,
    problems,
    async statuses() {
      return page.evaluate(() => window.__statuses);
    },
    /** axe-core on the page as it is now: serious and critical violations become problems. */
    async checkAccessibility(label) {
      const found = await page.evaluate(async () => {
        const { violations } = await window.axe.run(document, { resultTypes: ["violations"] });
        return violations
          .filter((v) => v.impact === "serious" || v.impact === "critical")
          .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
      });
      for (const violation of found) {
        problems.push(`axe on ${label}: ${violation}`);
      }
    },
    async shot(label) {
      await this.checkAccessibility(label);
      const file = path.join(OUTPUT, `${label}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
  };
}

/** Fill the auth form and submit; returns once the next screen's heading shows. */
export async function register(someone, username, passphrase) {
  const { page } = someone;
  // The page may still be starting (integrity check, libsodium): wait for one of the two
  // forms before asking which one is shown, or a login form could be taken for the other.
  await page.getByRole("heading", { name: /^(Log in|Create an account)$/ }).first().waitFor();
  if (await page.getByRole("heading", { name: "Log in" }).isVisible()) {
    await page.getByRole("button", { name: "Create an account" }).click();
  }
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
  await page.getByLabel("Passphrase again").fill(passphrase);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Write this down" }).waitFor({ timeout: 60_000 });
  const recoveryCode = (await page.locator(".recovery-code").textContent()).trim();
  const fingerprint = await fingerprintOn(page);
  return { recoveryCode, fingerprint };
}

/** The (first) large fingerprint on the page, as its canonical text. */
export async function fingerprintOn(page, index = 0) {
  const groups = await page.locator(".fingerprint").nth(index).locator(".fp-group").allTextContents();
  return groups.join(" ");
}

export async function acknowledgeRecoveryCode(page) {
  await page.getByLabel("I have written down my recovery code").check();
  await page.getByRole("button", { name: "Continue" }).click();
}

/** Open a circle from "My circles" by its name. */
export async function openCircle(page, name) {
  await page.getByRole("navigation", { name: "Account" }).getByRole("button", { name: "My circles" }).click();
  await page.getByRole("button", { name }).click();
  await page.getByRole("heading", { level: 1, name }).waitFor();
}

export async function tab(page, name) {
  await page.getByRole("navigation", { name: "Circle sections" }).getByRole("button", { name, exact: true }).click();
}

/** The text of the alert region once it shows; it must be on screen and hold the focus. */
export async function alertText(page) {
  const alert = page.getByRole("alert");
  await alert.locator(".alert").waitFor();
  const { visible, focused } = await page.evaluate(() => {
    const region = document.getElementById("alert");
    const box = region.getBoundingClientRect();
    return { visible: box.top >= 0 && box.bottom <= window.innerHeight, focused: document.activeElement === region };
  });
  if (!visible || !focused) {
    throw new Error(`the error is not ${visible ? "focused" : "on screen"}`);
  }
  return alert.textContent();
}

/** Keyboard only: press Tab until the focused control's name (label or text) is `name`. */
export async function tabTo(page, name, { backwards = false } = {}) {
  for (let presses = 0; presses < 80; presses++) {
    await page.keyboard.press(backwards ? "Shift+Tab" : "Tab");
    const current = await page.evaluate(() => {
      const el = document.activeElement;
      return (el.getAttribute("aria-label") || el.labels?.[0]?.textContent || el.textContent || "").trim();
    });
    if (current === name) {
      return;
    }
  }
  throw new Error(`Tab never reached "${name}"`);
}
