/**
 * The page in other languages: Spanish because the browser asks for it, Arabic by the
 * switcher (right to left, remembered across a reload). Each screen is checked with axe,
 * for horizontal scrolling at phone width, and, in Arabic, for user text isolated in
 * `<bdi dir=auto>` wherever it is shown. Labels come from the catalogues themselves.
 */
import assert from "node:assert/strict";
import { CATALOGUES } from "../src/ui/i18n/index.js";
import { person, PHONE } from "./browser.js";

const es = CATALOGUES.es;
const ar = CATALOGUES.ar;

async function noHorizontalScroll(page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling at phone width (${width}px)`);
}

async function register(page, words, username, passphrase) {
  await page.getByRole("button", { name: words["auth.create_an_account"], exact: true }).click();
  await page.getByLabel(words["auth.username"], { exact: true }).fill(username);
  await page.getByLabel(words["auth.passphrase"], { exact: true }).fill(passphrase);
  await page.getByLabel(words["auth.passphrase_again"], { exact: true }).fill(passphrase);
  await page.getByRole("button", { name: words["auth.create_account"], exact: true }).click();
  await page.getByRole("heading", { name: words["recovery.title"] }).waitFor({ timeout: 60_000 });
  return (await page.locator(".recovery-code").textContent()).trim();
}

async function acknowledge(page, words) {
  await page.getByLabel(words["recovery.written_down"]).check();
  await page.getByRole("button", { name: words["common.continue"], exact: true }).click();
  await page.getByRole("heading", { level: 1, name: words["bar.my_circles"] }).waitFor();
}

/** Text nodes in <main> holding one of `markers` that no `<bdi dir=auto>` isolates. */
async function unisolated(page, markers) {
  return page.evaluate((wanted) => {
    const bare = [];
    const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const hit = wanted.find((marker) => node.textContent.includes(marker));
      const holder = node.parentElement.closest("[dir]");
      if (hit && !(holder?.tagName === "BDI" && holder.getAttribute("dir") === "auto")) {
        bare.push(`${hit} in <${node.parentElement.tagName.toLowerCase()}>`);
      }
    }
    return bare;
  }, markers);
}

export async function languageStory({ step, server, browser, people, secrets }) {
  await step("a browser that asks for Spanish gets the page in Spanish: register, account (phone)", async () => {
    const elena = await person(browser, server, "elena", { ...PHONE, locale: "es-ES" });
    people.push(elena);
    const { page } = elena;
    const passphrase = "frase Colibrí-Tormenta-6620";
    secrets.add(passphrase);
    await page.goto("/");
    await page.getByRole("heading", { name: es["auth.log_in"] }).waitFor();
    assert.deepEqual(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]), ["es", "ltr"]);
    assert.equal(await page.locator("#language").inputValue(), "es");
    assert.equal(await page.getByRole("button", { name: es["page.quick_exit"] }).count(), 1);
    const code = await register(page, es, "elena", passphrase);
    secrets.add(code);
    await noHorizontalScroll(page);
    await elena.shot("24-spanish-recovery-code-phone");
    await acknowledge(page, es);
    await page.getByRole("navigation", { name: es["page.account_nav"] }).getByRole("button", { name: es["bar.my_account"] }).click();
    await page.getByRole("heading", { level: 1, name: es["bar.my_account"] }).waitFor();
    await page.locator("li.session").first().waitFor();
    await noHorizontalScroll(page);
    await elena.shot("25-spanish-account-phone");
  });

  await step("the switcher turns the page to Arabic, right to left: a circle and a warning, names isolated (phone)", async () => {
    const farah = await person(browser, server, "farah", { ...PHONE, locale: "en-US" });
    people.push(farah);
    const { page } = farah;
    const passphrase = "passphrase Falcon-Minaret-4410";
    const circle = "دائرة المصوّرين 5120";
    const subject = "Zbigniew Kowalski-Ar77";
    const alias = "زبيغنيف كوفالسكي";
    const narrative = "صرخ في وجه العاملين مرتين. Ask me first — Marker-Sahara-3302.";
    for (const value of [passphrase, circle, subject, alias, narrative]) {
      secrets.add(value);
    }
    await page.goto("/");
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    await page.locator("#language").selectOption("ar");
    await page.getByRole("heading", { name: ar["auth.log_in"] }).waitFor();
    assert.deepEqual(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]), ["ar", "rtl"]);
    await noHorizontalScroll(page);
    const code = await register(page, ar, "farah", passphrase);
    secrets.add(code);
    await acknowledge(page, ar);
    // A fingerprint reads left to right in every language, group by group as the CLI shows it.
    const lefts = await page.locator(".fingerprint .fp-group").evaluateAll((groups) => groups.map((g) => g.getBoundingClientRect().left));
    assert.equal(lefts.length, 6);
    assert.ok(lefts[0] < lefts[1] && lefts[1] < lefts[2], `fingerprint groups in reading order: ${lefts}`);
    await farah.shot("28-arabic-circles-phone");

    await page.getByLabel(ar["home.name"], { exact: true }).fill(circle);
    await page.getByRole("button", { name: ar["home.create_circle"], exact: true }).click();
    await page.getByRole("heading", { level: 1, name: circle }).waitFor();
    const sections = page.getByRole("navigation", { name: ar["circle.sections"] });
    await sections.getByRole("button", { name: ar["tab.post"], exact: true }).click();
    const form = page.locator("form", { has: page.getByRole("heading", { name: ar["tab.post"] }) });
    await form.getByLabel(ar["post.subject"], { exact: true }).fill(subject);
    await form.getByLabel(ar["post.aliases"]).fill(alias);
    await form.getByLabel(ar["category.harassment"], { exact: true }).check();
    await form.getByLabel(ar["post.text"], { exact: true }).fill(narrative);
    await noHorizontalScroll(page);
    await form.getByRole("button", { name: ar["post.submit"], exact: true }).click();
    await page.getByText(ar["post.posted"]).waitFor();
    const card = page.locator("article.warning", { hasText: subject });
    await card.waitFor();
    assert.match(await card.textContent(), new RegExp(ar["warning.posted_by"].replace("{name}", "farah")));
    assert.deepEqual(await unisolated(page, [circle, subject, alias, "Marker-Sahara-3302", "farah"]), []);
    await noHorizontalScroll(page);
    await farah.shot("26-arabic-feed-phone");

    // The choice is remembered: a reload keeps Arabic (and the sign-in, as in English).
    await page.reload();
    await page.getByRole("heading", { level: 1, name: ar["bar.my_circles"] }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dir), "rtl");
    await page.getByRole("button", { name: circle }).click();
    await page.locator("article.warning", { hasText: subject }).waitFor();
    await page.setViewportSize({ width: 1100, height: 800 });
    await farah.shot("27-arabic-feed");
  });
}
