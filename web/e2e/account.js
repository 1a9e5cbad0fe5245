/**
 * The account half of the end-to-end story: device labels in both clients, promote,
 * demote and handing over ownership, a reload that keeps you signed in, pins shared by
 * tabs, passphrase change, recovery with the recovery code, sessions seen and ended,
 * quick exit, and "sign out everywhere on this device".
 */
import assert from "node:assert/strict";
import { acknowledgeRecoveryCode, alertText, openCircle, person, register, said, tab } from "./browser.js";

const NEUTRAL = "https://www.bbc.com/weather";

async function toAccount(page) {
  await page.getByRole("navigation", { name: "Account" }).getByRole("button", { name: "My account" }).click();
  await page.getByRole("heading", { level: 1, name: "My account" }).waitFor();
  await page.locator("li.session").first().waitFor();
}

async function logIn(page, username, passphrase) {
  await page.goto("/");
  await page.getByRole("heading", { name: "Log in" }).waitFor();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Passphrase", { exact: true }).fill(passphrase);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "My circles" }).waitFor({ timeout: 60_000 });
}

export async function accountStory({ step, server, browser, alice, bob, carol, secrets, PASS, M, circleId }) {
  await step("the browser made the circle's moderation key at creation, before anyone opened Moderation", async () => {
    const made = alice.requests.filter((r) => r.method === "POST" && r.url.endsWith(`/v1/circles/${circleId}/moderation/keys`));
    assert.equal(made.length, 1);
  });

  await step("sessions carry their device's name, in the page and on the CLI", async () => {
    await toAccount(alice.page);
    const mine = alice.page.locator("li.session", { hasText: "(this browser)" });
    assert.match(await mine.textContent(), /^Chrome on Linux \(this browser\)/);
    const cli = await carol.json("sessions", "list");
    assert.match(cli.find((s) => s.current).device_label, /^backchannel CLI on /);
    await toAccount(bob.page);
    const width = await bob.page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling at phone width (${width}px)`);
    await bob.shot("17-account-phone");
  });

  await step("alice promotes and demotes bob, hands him ownership, and he hands it back (the CLI sees each)", async () => {
    const roles = async () => Object.fromEntries((await carol.json("member", "list", circleId)).filter((m) => m.status === "active").map((m) => [m.username, m.role]));
    await openCircle(alice.page, M.circle);
    await tab(alice.page, "Members");
    await alice.page.getByRole("button", { name: said`Make ${"bob"} an admin` }).click();
    await alice.page.getByText(said`${"bob"} is now an admin.`).waitFor();
    assert.equal((await roles()).bob, "admin");
    await alice.page.getByRole("button", { name: said`Make ${"bob"} a member` }).click();
    await alice.page.getByText(said`${"bob"} is now a member.`).waitFor();
    await alice.page.getByRole("button", { name: said`Hand ownership to ${"bob"}` }).click();
    await alice.page.getByRole("button", { name: said`Yes, hand it to ${"bob"}` }).click();
    await alice.page.getByText(said`${"bob"} is now the owner; you are an admin.`).waitFor();
    assert.deepEqual(await roles(), { alice: "admin", bob: "owner", carol: "member" });
    await openCircle(bob.page, M.circle);
    await tab(bob.page, "Members");
    await bob.page.getByRole("button", { name: said`Hand ownership to ${"alice"}` }).click();
    await bob.page.getByRole("button", { name: said`Yes, hand it to ${"alice"}` }).click();
    await bob.page.getByText(said`${"alice"} is now the owner; you are an admin.`).waitFor();
    await bob.page.getByRole("button", { name: "Step down to member" }).click();
    await bob.page.getByText("You are now a member.").waitFor();
    assert.deepEqual(await roles(), { alice: "owner", bob: "member", carol: "member" });
  });

  await step("a reload keeps alice signed in in her tab; a second tab starts from the first one's pins", async () => {
    await openCircle(alice.page, M.circle);
    await tab(alice.page, "Audit log");
    await alice.page.locator(".verdict.good").waitFor();
    await alice.page.reload();
    await alice.page.getByRole("heading", { name: "My circles" }).waitFor();
    const consistency = () => alice.requests.filter((r) => r.url.includes(`/v1/circles/${circleId}/audit/consistency`)).length;
    const before = consistency();
    const second = await alice.context.newPage();
    await logIn(second, "alice", PASS.alice);
    await second.getByRole("button", { name: M.circle }).click();
    await second.getByRole("heading", { level: 1, name: M.circle }).waitFor();
    await tab(second, "Audit log");
    await second.locator(".verdict.good").waitFor();
    assert.ok(consistency() > before, "the new tab proved the log extends the one the first tab pinned");
    await second.close();
    await openCircle(alice.page, M.circle);
  });

  await step("dora: passphrase change, recovery with the code, sessions ended, quick exit, sign out on this device", async () => {
    const dora = await person(browser, server, "dora");
    await dora.context.route(`${NEUTRAL}**`, (route) => route.fulfill({ contentType: "text/html", body: "<title>Weather</title><p>Sunny</p>" }));
    const first = "passphrase Ocelot-Tambourine-2231";
    const second = "passphrase Gecko-Windmill-8802";
    const third = "passphrase Puffin-Saxophone-5517";
    for (const value of [first, second, third]) {
      secrets.add(value);
    }
    const { page } = dora;
    await page.goto("/");
    const { recoveryCode } = await register(dora, "dora", first);
    secrets.add(recoveryCode);
    await acknowledgeRecoveryCode(page);
    await toAccount(page);
    await page.getByLabel("Current passphrase").fill(first);
    await page.getByLabel("New passphrase", { exact: true }).fill(second);
    await page.getByLabel("New passphrase again").fill(second);
    await page.getByRole("button", { name: "Change passphrase" }).click();
    await page.getByText("Passphrase changed.").waitFor({ timeout: 60_000 });
    await dora.shot("18-account");

    await page.getByRole("navigation", { name: "Account" }).getByRole("button", { name: "Log out" }).click();
    await page.getByRole("button", { name: "Use your recovery code" }).click();
    await page.getByLabel("Username").fill("dora");
    await page.getByLabel("Recovery code").fill(recoveryCode.toLowerCase().replaceAll("-", " "));
    await page.getByLabel("New passphrase", { exact: true }).fill(third);
    await page.getByLabel("New passphrase again").fill(third);
    await page.getByRole("button", { name: "Recover my account" }).click();
    await page.getByText("You are back in.").waitFor({ timeout: 60_000 });
    const fresh = (await page.locator(".recovery-code").textContent()).trim();
    secrets.add(fresh);
    assert.notEqual(fresh, recoveryCode);
    await acknowledgeRecoveryCode(page);

    const tabB = await dora.context.newPage();
    await logIn(tabB, "dora", third);
    await toAccount(tabB);
    assert.equal(await tabB.locator("li.session").count(), 2);
    await tabB.getByLabel("Your passphrase (needed to end a session)").fill(third);
    await tabB.getByRole("button", { name: /^End the session on \u2068?Chrome on Linux/u }).click();
    await tabB.getByText("1 session ended.").waitFor({ timeout: 60_000 });
    // The first tab's live stream ends with its session: it says so by itself, no click needed.
    assert.match(await alertText(page), /Your session has ended/);
    await page.getByRole("heading", { name: "Log in" }).waitFor();

    await tabB.reload();
    await tabB.getByRole("heading", { name: "My circles" }).waitFor();
    for (let i = 0; i < 3; i++) {
      await tabB.keyboard.press("Escape");
    }
    await tabB.waitForURL(NEUTRAL);
    assert.equal(await tabB.title(), "Weather");

    await logIn(page, "dora", third);
    await toAccount(page);
    assert.equal(await page.locator("li.session").count(), 1, "quick exit ended the other tab's session");
    await page.getByRole("button", { name: "Sign out everywhere on this device" }).click();
    await page.getByRole("button", { name: "Yes, sign out on this device" }).click();
    await page.getByText("Signed out on this device.").waitFor();
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("backchannel."))), []);
    await page.reload();
    await page.getByRole("heading", { name: "Log in" }).waitFor();

    // Delete the account: the passphrase again, a choice for the warnings; then it is gone.
    await logIn(page, "dora", third);
    await toAccount(page);
    await page.getByLabel("Leave them: members see them as from “a former member”").check();
    await page.getByLabel("Your passphrase", { exact: true }).fill(third);
    await page.getByRole("button", { name: "Delete my account" }).click();
    await page.getByText("Your account was deleted.").waitFor({ timeout: 60_000 });
    await page.getByLabel("Username").fill("dora");
    await page.getByLabel("Passphrase", { exact: true }).fill(third);
    await page.getByRole("button", { name: "Log in" }).click();
    assert.match(await alertText(page), /That username and passphrase do not match an account/);
    assert.deepEqual(dora.problems, []);
    await dora.context.close();
  });
}

/** Last: deleting circles in both clients, and every member's list saying who did it. */
export async function deletionStory({ step, alice, bob, carol, M }) {
  await step("alice deletes her circle in the browser; bob's list says she did, verified", async () => {
    await openCircle(alice.page, M.circle);
    await tab(alice.page, "Members");
    await alice.page.getByRole("button", { name: "Delete this circle" }).click();
    await alice.page.getByRole("button", { name: "Yes, delete the circle" }).click();
    await alice.page.getByText("The circle was deleted.").waitFor();
    await bob.page.getByRole("navigation", { name: "Account" }).getByRole("button", { name: "My circles" }).click();
    const gone = bob.page.locator("li.circle.deleted");
    await gone.waitFor();
    assert.match(await gone.textContent(), new RegExp(`^${M.circle}Deleted by \u2068?alice\u2069? on `));
    await bob.shot("19-circle-deleted-phone");
  });

  await step("carol deletes her circle on the CLI; her list says so", async () => {
    const circles = await carol.json("circle", "list");
    const mine = circles.find((c) => c.name === M.cliCircle);
    await carol.json("circle", "delete", mine.circle_id, "--yes");
    const after = (await carol.json("circle", "list")).find((c) => c.circle_id === mine.circle_id);
    assert.deepEqual([after.status, after.deleted_by, after.verified, after.name], ["deleted", "carol", true, M.cliCircle]);
  });
}
