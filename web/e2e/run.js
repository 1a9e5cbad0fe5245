/**
 * End-to-end: the web client against a real server, with people in separate browser
 * contexts and a third person on the Python CLI.
 *
 *   cd web && node e2e/run.js                  # screenshots go to web/e2e/output/
 *   cd web && node e2e/run.js --update-docs    # also copies them to docs/screenshots/
 *
 * Every request body the pages send is recorded; at the end the test asserts that no
 * marker string typed into a page (passphrases, names, texts) and no recovery code or
 * invite string ever left the browser, and that the server's log never saw them either.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { acknowledgeRecoveryCode, alertText, DESKTOP, fingerprintOn, launch, openCircle, OUTPUT, person, PHONE, register, said, tab, tabTo } from "./browser.js";
import { cliUser } from "./cli.js";
import { REPO, startServer } from "./server.js";
import { moderationStory } from "./moderation.js";
import { accountStory, deletionStory } from "./account.js";
import { languageStory } from "./languages.js";
import { step, steps } from "./steps.js";

const PASS = { alice: "passphrase Quokka-Lantern-7731", bob: "passphrase Heron-Thimble-4408", carol: "passphrase Walrus-Cobalt-9150" };
const M = {
  circle: "Kestrel Crews 4821",
  description: "Call sheets Ostrava-Marker-5530",
  subject: "Zbigniew Marker-Qx93",
  alias: "@zbig_marker_qx93",
  affiliation: "Fjordfilm Marker-2207",
  contact: "bob on Signal Marker-8814",
  narrative: "Shouted at runners Marker-Fjord-6612 twice.\nAsk me before working with him.",
  checked: "ZBIGNIEW  marker qx93",
  corroboration: "Same on my set Marker-Tundra-3391",
  cliCircle: "Cli Circle Marker-Osprey-1290",
  sealedSubject: "Radomir Sealmark-Vt42",
  sealedText: "Followed me to the car park Marker-Sealed-5127",
};

/** One screenshot of each main screen goes to docs/screenshots/ with --update-docs. */
const DOC_SHOTS = [
  "01-recovery-code",
  "02-invite-link",
  "04-join-requested-phone",
  "05-confirm-member",
  "07-post-warning-phone",
  "08-feed",
  "09-check-name",
  "10-login-error",
  "12-takedown-request-phone",
  "12-takedown-too-long-phone",
  "13-moderation-takedown",
  "13-moderation-bulk-dismiss",
  "14-receipt-phone",
  "15-audit-log-phone",
  "16-audit-log-tampered-phone",
  "17-account-phone",
  "18-account",
  "19-circle-deleted-phone",
  "20-sealed-warning-phone",
  "21-sealed-match",
  "22-live-arrival-phone",
  "23-new-count",
  "24-spanish-recovery-code-phone",
  "25-spanish-account-phone",
  "26-arabic-feed-phone",
  "27-arabic-feed",
  "28-arabic-circles-phone",
  "29-sealed-probes",
];

const server = await startServer();
const browser = await launch();
const people = [];
const secrets = new Set(Object.values(PASS).concat(Object.values(M)));
let failed = false;
try {
  const alice = await person(browser, server, "alice", DESKTOP);
  const bob = await person(browser, server, "bob", PHONE);
  people.push(alice, bob);
  let aliceFp;
  let bobFp;
  let invite;

  await step("the page is served with a strict Content-Security-Policy", async () => {
    const response = await alice.page.goto("/");
    const csp = response.headers()["content-security-policy"];
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(response.headers()["x-content-type-options"], "nosniff");
    assert.equal(response.headers()["referrer-policy"], "no-referrer");
    await alice.page.getByRole("heading", { name: "Log in" }).waitFor();
  });

  await step("a breached passphrase, or one holding the username, is refused in the page, never sent", async () => {
    const { page } = alice;
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.getByLabel("Username").fill("alice");
    for (const [passphrase, words] of [
      ["Password1234", /list of common and breached passphrases/],
      ["Alice in Wonderland", /must not contain your username/],
    ]) {
      secrets.add(passphrase);
      await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
      await page.getByLabel("Passphrase again").fill(passphrase);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.getByRole("alert").getByText(words).waitFor();
    }
  });

  await step("alice registers: keys derived in the page, recovery code shown once", async () => {
    const result = await register(alice, "alice", PASS.alice);
    aliceFp = result.fingerprint;
    secrets.add(result.recoveryCode);
    assert.match(result.recoveryCode, /^([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}$/);
    assert.match(aliceFp, /^\d{5}( \d{5}){5}$/);
    const statuses = await alice.statuses();
    assert.ok(statuses.some((s) => s.startsWith("Deriving keys")), `statuses: ${statuses}`);
    await alice.shot("01-recovery-code");
    assert.equal(await alice.page.getByRole("button", { name: "Continue" }).isDisabled(), true);
    await acknowledgeRecoveryCode(alice.page);
    await alice.page.getByRole("heading", { name: "My circles" }).waitFor();
  });

  await step("alice creates a circle and an invite link, copied with the button", async () => {
    await alice.page.getByLabel("Name", { exact: true }).fill(M.circle);
    await alice.page.getByLabel("Description (optional)").fill(M.description);
    await alice.page.getByRole("button", { name: "Create circle" }).click();
    await alice.page.getByRole("heading", { level: 1, name: M.circle }).waitFor();
    await alice.page.getByRole("button", { name: "Create invite link" }).click();
    const link = await alice.page.getByLabel("Invite link").inputValue();
    assert.match(link, new RegExp(`^${server.url}/join#bcinvite1\\.`));
    await alice.page.getByRole("button", { name: "Copy link" }).click();
    assert.equal(await alice.page.evaluate(() => navigator.clipboard.readText()), link);
    invite = link;
    secrets.add(link.split("#")[1]);
    await alice.shot("02-invite-link");
  });

  await step("a cut-off invite link is refused on arrival, before any account is made", async () => {
    await bob.page.goto(invite.slice(0, invite.length - 12));
    assert.match(await alertText(bob.page), /That is not an invite/);
    assert.equal(await bob.page.getByText("You have been invited to a circle").count(), 0);
  });

  await step("bob opens the link on a phone, registers and asks to join", async () => {
    await bob.page.goto(invite);
    await bob.page.getByText("You have been invited to a circle").waitFor();
    assert.equal(new URL(bob.page.url()).hash, "", "the invite is removed from the address bar");
    const result = await register(bob, "bob", PASS.bob);
    bobFp = result.fingerprint;
    secrets.add(result.recoveryCode);
    await acknowledgeRecoveryCode(bob.page);
    await bob.page.getByRole("heading", { name: "Join a circle" }).waitFor();
    assert.equal(await fingerprintOn(bob.page), aliceFp, "the join page shows the inviter's fingerprint");
    await bob.shot("03-join");
    await bob.page.getByRole("button", { name: "Ask to join" }).click();
    await bob.page.getByRole("heading", { name: "Request sent" }).waitFor();
    assert.equal(await fingerprintOn(bob.page), bobFp);
    await bob.shot("04-join-requested-phone");
  });

  await step("alice sees bob pending with his fingerprint and confirms only after comparing", async () => {
    await tab(alice.page, "Members");
    const card = alice.page.getByRole("form", { name: said`Pending: ${"bob"}` });
    await card.waitFor();
    assert.equal((await card.locator(".fp-group").allTextContents()).join(" "), bobFp);
    await alice.shot("05-confirm-member");
    await card.getByRole("button", { name: said`Confirm ${"bob"}` }).click();
    assert.match(await alertText(alice.page), /Compare the fingerprint with the person first/);
    await card.getByLabel(/What they read to you/).fill("12345 67890 12345 67890 12345 67890");
    await card.getByRole("button", { name: said`Confirm ${"bob"}` }).click();
    assert.match(await alertText(alice.page), /The fingerprint you typed is not this person's/);
    await alice.shot("06-wrong-fingerprint-error");
    await card.getByLabel(/What they read to you/).fill(bobFp.replaceAll(" ", "-"));
    await card.getByLabel(said`I compared it with ${"bob"} and it matches`).check();
    await card.getByRole("button", { name: said`Confirm ${"bob"}` }).click();
    await alice.page.getByText(said`${"bob"} is now a member.`).waitFor();
    await alice.page.locator(".member-name", { hasText: "bob" }).waitFor();
  });

  await step("bob sees the circle by name and posts a warning (phone width)", async () => {
    await openCircle(bob.page, M.circle);
    await tab(bob.page, "Post a warning");
    const form = bob.page.locator("form", { has: bob.page.getByRole("heading", { name: "Post a warning" }) });
    await form.getByLabel("Who is it about?").fill(M.subject);
    await form.getByLabel(/Other names/).fill(M.alias);
    await form.getByLabel("harassment", { exact: true }).check();
    await form.getByLabel("intimidation").check();
    await form.getByLabel("Severity").selectOption("serious");
    await form.getByLabel("When (month)").fill("2024-11");
    await form.getByLabel("Where / organisation").fill(M.affiliation);
    await form.getByLabel(/How members can reach you/).fill(M.contact);
    await form.getByLabel("What happened", { exact: true }).fill(M.narrative);
    // What a named warning proves, and to whom, in one sentence before posting (threat model, Attribution).
    assert.match(await form.locator(".proof").textContent(), /any member can prove to anyone, even outside this circle/);
    const width = await bob.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling at phone width (${width}px)`);
    await bob.shot("07-post-warning-phone");
    await form.getByRole("button", { name: "Post warning" }).click();
    await bob.page.getByText("Your warning was posted.").waitFor();
    const card = bob.page.locator("article.warning", { hasText: M.subject });
    await card.waitFor();
    assert.match(await card.textContent(), /Posted by bob/);
    // No "me too" on your own warning (§24.1): its corroborations can be read, not added to.
    assert.equal(await card.getByRole("button", { name: "Corroborate", exact: true }).count(), 0);
    await card.getByRole("button", { name: "Corroborations", exact: true }).waitFor();
  });

  await step("alice reads the feed and checks the name in another spelling", async () => {
    await tab(alice.page, "Warnings");
    const card = alice.page.locator("article.warning", { hasText: M.subject });
    await card.waitFor();
    const text = await card.textContent();
    for (const marker of [M.alias, M.affiliation, M.contact, "Marker-Fjord-6612", "intimidation", "serious", "2024-11"]) {
      assert.ok(text.includes(marker), `the card shows ${marker}`);
    }
    await alice.shot("08-feed");
    await tab(alice.page, "Check a name");
    await alice.page.getByLabel("Name or handle").fill(M.checked);
    await alice.page.getByRole("button", { name: "Check", exact: true }).click();
    await alice.page.getByText(/1 warning may be about/).waitFor();
    await alice.page.locator(".results [data-level=exact] article.warning", { hasText: M.subject }).waitFor();
    assert.match(await alice.page.locator(".results [data-level=exact] > h3").textContent(), /Same name \(1\)/);
    await alice.shot("09-check-name");
    // Another spelling is a possible match, labelled as such; the surname alone a partial one.
    for (const [typed, level] of [["Zbygniew Marker Qx93", "possible"], ["Marker-Qx93", "partial"]]) {
      await alice.page.getByLabel("Name or handle").fill(typed);
      await alice.page.getByRole("button", { name: "Check", exact: true }).click();
      await alice.page.locator(`.results [data-level=${level}] article.warning`, { hasText: M.subject }).waitFor();
    }
    await alice.page.getByLabel("Name or handle").fill("Nobody Marker-None");
    await alice.page.getByRole("button", { name: "Check", exact: true }).click();
    await alice.page.getByText(/No match for/).waitFor();
    assert.match(await alice.page.locator(".results").textContent(), /warnings? this browser holds from this circle/);
    await alice.shot("09b-check-no-match");
  });

  await step("alice corroborates bob's warning anonymously", async () => {
    await tab(alice.page, "Warnings");
    const card = alice.page.locator("article.warning", { hasText: M.subject });
    await card.getByRole("button", { name: "Corroborate" }).click();
    await card.getByLabel("Something similar happened to me").fill(M.corroboration);
    await card.getByLabel(/Post anonymously/).check();
    await card.getByRole("button", { name: "Add my corroboration" }).click();
    await alice.page.getByText("Your corroboration was added.").waitFor();
    const again = alice.page.locator("article.warning", { hasText: M.subject });
    await again.getByText("1 corroboration").waitFor();
    // Readable in the card without pressing anything (on a phone too).
    await again.getByText(M.corroboration).waitFor();
    assert.match(await again.locator("section.corroborations").textContent(), /anonymous/);
    await openCircle(bob.page, M.circle);
    await bob.page.locator("article.warning", { hasText: M.subject }).getByText(M.corroboration).waitFor();
  });

  await step("keyboard only: a wrong passphrase is shown in plain words", async () => {
    const mallory = await person(browser, server, "mallory", DESKTOP);
    people.push(mallory);
    await mallory.page.goto("/");
    await mallory.page.getByRole("heading", { name: "Log in" }).waitFor();
    // The view's heading holds the focus; Tab walks the form, Enter submits it.
    await mallory.page.keyboard.press("Tab");
    assert.equal(await mallory.page.evaluate(() => document.activeElement.name), "username");
    await mallory.page.keyboard.type("alice");
    await mallory.page.keyboard.press("Tab");
    await mallory.page.keyboard.type("not the passphrase at all");
    await mallory.page.keyboard.press("Enter");
    assert.match(await alertText(mallory.page), /That username and passphrase do not match an account/);
    await mallory.shot("10-login-error");
  });

  await step("keyboard only: register, create a circle, post, check a name, log out", async () => {
    const erin = await person(browser, server, "erin", DESKTOP);
    people.push(erin);
    const { page } = erin;
    const typed = { passphrase: "passphrase Marmot-Lantern-6620", circle: "Keyboard Circle Marker-3391", subject: "Keyboard Subject Marker-7710" };
    Object.values(typed).forEach((value) => secrets.add(value));
    await page.goto("/");
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    await tabTo(page, "Create an account");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Create an account" }).waitFor();
    await tabTo(page, "Username");
    await page.keyboard.type("erin");
    await page.keyboard.press("Tab");
    await page.keyboard.type(typed.passphrase);
    await page.keyboard.press("Tab");
    await page.keyboard.type(typed.passphrase);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Write this down" }).waitFor({ timeout: 60_000 });
    secrets.add((await page.locator(".recovery-code").textContent()).trim());
    await tabTo(page, "I have written down my recovery code");
    await page.keyboard.press("Space");
    await tabTo(page, "Continue");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "My circles" }).waitFor();
    await tabTo(page, "Name");
    await page.keyboard.type(typed.circle);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: typed.circle }).waitFor();
    await tabTo(page, "Post a warning");
    await page.keyboard.press("Enter");
    await tabTo(page, "Who is it about?");
    await page.keyboard.type(typed.subject);
    await tabTo(page, "harassment");
    await page.keyboard.press("Space");
    await tabTo(page, "What happened");
    await page.keyboard.type("Seen with the keyboard only.");
    await tabTo(page, "Post warning");
    await page.keyboard.press("Enter");
    await page.getByText("Your warning was posted.").waitFor();
    await tabTo(page, "Check a name");
    await page.keyboard.press("Enter");
    await tabTo(page, "Name or handle");
    await page.keyboard.type("keyboard subject marker 7710");
    await page.keyboard.press("Enter");
    await page.getByText(/1 warning may be about/).waitFor();
    await erin.checkAccessibility("keyboard-check");
    await tabTo(page, "Log out", { backwards: true });
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Log in" }).waitFor();
  });

  const carol = cliUser(server, "carol", PASS.carol);
  await step("cross-client: carol on the CLI joins alice's browser circle, alice confirms her in the page", async () => {
    const account = await carol.json("register", "carol");
    await tab(alice.page, "Invite");
    await alice.page.getByRole("button", { name: "Create invite link" }).click();
    const link = await alice.page.getByLabel("Invite link").inputValue();
    secrets.add(link.split("#")[1]);
    await carol.json("join", link.split("#")[1]);
    await tab(alice.page, "Members");
    const card = alice.page.getByRole("form", { name: said`Pending: ${"carol"}` });
    await card.waitFor();
    assert.equal((await card.locator(".fp-group").allTextContents()).join(" "), account.fingerprint);
    await card.getByLabel(/What they read to you/).fill(account.fingerprint);
    await card.getByRole("button", { name: said`Confirm ${"carol"}` }).click();
    await alice.page.getByText(said`${"carol"} is now a member.`).waitFor();
  });

  let circleId;
  await step("cross-client: a warning posted on the CLI reads in the browser, and bob's reads on the CLI", async () => {
    const circles = await carol.json("circle", "list");
    const circle = circles.find((c) => c.name === M.circle);
    assert.ok(circle, "the CLI opens the circle the browser made, name and all");
    circleId = circle.circle_id;
    // Live (docs/protocol.md §37): bob's feed is open on his phone, alice is on My circles.
    await tab(bob.page, "Warnings");
    await bob.page.locator("article.warning", { hasText: M.subject }).waitFor();
    await alice.page.getByRole("navigation", { name: "Account" }).getByRole("button", { name: "My circles" }).click();
    await alice.page.locator(".circle-open", { hasText: M.circle }).waitFor();
    await carol.json("post", circleId, "--subject", "Cli Subject Petrov", "--alias", "@petrov", "--category", "stalking", "--text", "Posted from the terminal.");
    // Without a refresh: the warning appears at the top of bob's open feed, marked new…
    const arrived = bob.page.locator("article.warning.new", { hasText: "Cli Subject Petrov" });
    await arrived.waitFor({ timeout: 20000 });
    assert.match(await arrived.textContent(), /New since your last visit/);
    await bob.shot("22-live-arrival-phone");
    // …and alice's list counts it as new to her, until she opens the circle.
    const badge = alice.page.locator(".circle-open", { hasText: M.circle }).locator(".unseen");
    await badge.filter({ hasText: "1 new" }).waitFor({ timeout: 20000 });
    await alice.shot("23-new-count");
    await openCircle(alice.page, M.circle);
    await alice.page.locator("article.warning.new", { hasText: "Cli Subject Petrov" }).waitFor();
    assert.equal(await alice.page.locator("article.warning.new").count(), 1, "only carol's warning is new to alice");
    await tab(bob.page, "Warnings");
    const fromCli = bob.page.locator("article.warning", { hasText: "Cli Subject Petrov" });
    await fromCli.waitFor();
    assert.match(await fromCli.textContent(), /Posted by carol/);
    const read = await carol.json("read", circleId);
    const fromBrowser = read.find((e) => e.subject === M.subject);
    assert.ok(fromBrowser, "the CLI reads the warning posted in the browser");
    assert.equal(fromBrowser.text, M.narrative);
    assert.equal(fromBrowser.author, "bob");
    assert.deepEqual(fromBrowser.aliases, [M.alias]);
    const check = await carol.json("check", circleId, "zbigniew marker-qx93");
    assert.equal(check.matches.length, 1);
  });

  await step("cross-client: a circle made on the CLI is joined in the browser, confirmed on the CLI", async () => {
    const made = await carol.json("circle", "create", M.cliCircle);
    const { invite: text } = await carol.json("invite", "create", made.circle_id);
    secrets.add(text);
    await bob.page.getByRole("navigation", { name: "Account" }).getByRole("button", { name: "My circles" }).click();
    await bob.page.getByLabel("Invite link or text").fill(text);
    await bob.page.getByRole("button", { name: "Continue" }).click();
    await bob.page.getByRole("button", { name: "Ask to join" }).click();
    await bob.page.getByRole("heading", { name: "Request sent" }).waitFor();
    await carol.json("member", "confirm", made.circle_id, "bob", "--fingerprint", bobFp);
    await openCircle(bob.page, M.cliCircle);
    await carol.json("post", made.circle_id, "--subject", "Second Subject Marek", "--category", "other", "--text", "From the CLI owner.", "--anonymous");
    await tab(bob.page, "Warnings");
    const card = bob.page.locator("article.warning", { hasText: "Second Subject Marek" });
    await card.waitFor();
    assert.match(await card.textContent(), /Posted anonymously/);
  });

  await step("sealed: bob seals in the browser, carol on the CLI; alice opens the match in the browser; carol publishes from the CLI", async () => {
    await openCircle(alice.page, M.circle);
    await tab(alice.page, "Moderation"); // the first admin there signs the settings (k = 2)
    await alice.page.getByRole("form", { name: "Sealed warnings setting" }).waitFor();
    await openCircle(bob.page, M.circle);
    await tab(bob.page, "Post a warning");
    const form = bob.page.locator("form", { has: bob.page.getByRole("heading", { name: "Post a warning" }) });
    await form.getByLabel("Who is it about?").fill(M.sealedSubject);
    await form.getByLabel("stalking").check();
    await form.getByLabel("What happened", { exact: true }).fill(M.sealedText);
    await form.getByLabel(/Only if I am not the only one/).check();
    await bob.shot("20-sealed-warning-phone");
    await form.getByRole("button", { name: "Seal warning" }).click();
    await bob.page.getByText(/Sealed\. Nobody can read it until 2 members/).waitFor();
    await bob.page.locator("article.sealed", { hasText: "Sealed: nobody can read it" }).waitFor();
    const filed = await carol.json("seal", circleId, "--subject", "SEALMARK-VT42, Radomir", "--category", "stalking", "--text", "Same in Brno, from the terminal.");
    assert.equal(filed.status, "matched");
    await tab(bob.page, "Warnings");
    await tab(bob.page, "My sealed warnings");
    await bob.page.locator("article.sealed", { hasText: "Matched: you are not the only one" }).waitFor();
    await tab(alice.page, "Warnings");
    await tab(alice.page, "Moderation");
    const match = alice.page.locator("article.match");
    await match.waitFor();
    const text = await match.textContent();
    for (const expected of ["bob", "carol", M.sealedText, "Same in Brno, from the terminal."]) {
      assert.ok(text.includes(expected), `the match shows ${expected}`);
    }
    await alice.shot("21-sealed-match");
    // Who evaluated names: bob (in the browser) and carol (on the CLI), from the verified log.
    const probes = alice.page.getByRole("region", { name: "Sealed-warning evaluations" });
    await probes.getByRole("button", { name: "Show who evaluated names" }).click();
    await probes.locator("ol.probes li", { hasText: "carol" }).waitFor();
    const listed = await probes.textContent();
    assert.ok(/bob.*: 1 evaluation, \d+ name forms?/.test(listed) && /carol.*: 1 evaluation/.test(listed), listed);
    await alice.shot("29-sealed-probes");
    const published = await carol.json("sealed", "publish", circleId, filed.filing_id, "--anonymous");
    await tab(bob.page, "Warnings");
    const card = bob.page.locator("article.warning", { hasText: "Same in Brno, from the terminal." });
    await card.waitFor();
    assert.match(await card.textContent(), /Posted anonymously/);
    assert.ok(published.entry_id);
  });

  await accountStory({ step, server, browser, alice, bob, carol, secrets, PASS, M, circleId });

  await moderationStory({ step, server, browser, people, alice, bob, carol, secrets, M, circleId, PASS });

  await deletionStory({ step, alice, bob, carol, M });

  await languageStory({ step, server, browser, people, secrets });

  await step("no page ever sent a marker, passphrase, recovery code or invite; the server never saw one in a URL", async () => {
    const everything = people.flatMap((p) => p.requests);
    assert.ok(everything.length > 50, "requests were recorded");
    for (const request of everything) {
      assert.ok(request.url.startsWith(server.url), `every request goes to the app itself: ${request.url}`);
      for (const secret of secrets) {
        assert.ok(!request.url.includes(secret), `${secret} in the URL of ${request.method} ${request.url}`);
        assert.ok(!request.body.includes(secret), `${secret} in the body of ${request.method} ${request.url}`);
      }
    }
    const log = server.log();
    assert.ok(log.includes("GET /join"), "the server log records requests");
    for (const secret of secrets) {
      assert.ok(!log.includes(secret), `${secret} reached the server log`);
    }
  });

  await step("no CSP violation or script error in any page", async () => {
    const problems = people.flatMap((p) => p.problems.map((text) => `${p.name}: ${text}`));
    assert.deepEqual(problems, []);
  });
} catch (error) {
  failed = true;
  console.error(error);
  for (const someone of people) {
    await someone.shot(`failure-${someone.name}`).catch(() => undefined);
  }
  console.error(`\nserver log (last lines):\n${server.log().split("\n").slice(-30).join("\n")}`);
} finally {
  await browser.close();
  await server.stop();
}

if (!failed && process.argv.includes("--update-docs")) {
  const docs = path.join(REPO, "docs", "screenshots");
  await mkdir(docs, { recursive: true });
  for (const name of DOC_SHOTS) {
    await copyFile(path.join(OUTPUT, `${name}.png`), path.join(docs, `${name}.png`));
  }
  console.log(`copied ${DOC_SHOTS.length} screenshots to docs/screenshots/`);
}
console.log(failed ? "\nFAILED" : `\n${steps.length} steps passed; screenshots in ${OUTPUT}`);
process.exitCode = failed ? 1 : 0;
