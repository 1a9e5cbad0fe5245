/**
 * The moderation half of the end-to-end story: a member reports a warning, an admin
 * decides, an admin unmasks the author of a reported anonymous warning, someone with no account files a takedown request and reads the answer with
 * the receipt, the audit log verifies in the browser (and on the CLI) and says loudly
 * when a record was changed, removing a member renews the circle key in the browser,
 * and a member retracts a warning and leaves a circle with a signed departure.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { alertText, openCircle, person, PHONE, said, tab } from "./browser.js";
import { cliUser } from "./cli.js";
import { BIN } from "./server.js";

const run = promisify(execFile);

/** Change one audit record's body in the database, behind the server's back. */
async function tamper(server, circleId, seq) {
  const database = server.env.BACKCHANNEL_DATABASE_URL.replace("sqlite:///", "");
  const script = [
    "import sqlite3, sys",
    "path, circle, seq, old, new = sys.argv[1:]",
    "db = sqlite3.connect(path)",
    "sql = 'UPDATE membership_events SET body = replace(body, ?, ?) WHERE seq = ? AND body LIKE ?'",
    "assert db.execute(sql, (old, new, int(seq), '%' + circle + '%')).rowcount == 1",
    "db.commit()",
  ].join("\n");
  const args = [database, circleId.replaceAll("-", ""), String(seq), '"actor":"alice"', '"actor":"mallory"'];
  await run(path.join(BIN, "python"), ["-c", script, ...args]);
}

const MARK = {
  note: "Report note Marker-Pelican-5120",
  hideReason: "Hide reason Marker-Lynx-7781",
  takedownContact: "dana contact Marker-Heron-3306",
  takedownText: "Please take it down Marker-Otter-4417",
  removeReason: "Remove reason Marker-Ibex-2290",
  response: "We removed it Marker-Gannet-6650",
  anonymousText: "Anonymous text Marker-Puffin-8842",
  anonymousNote: "Report note Marker-Walrus-1957",
};

function cliCircleId(circles, name) {
  return circles.find((c) => c.name === name).circle_id;
}

export async function moderationStory({ step, server, browser, people, alice, bob, carol, secrets, M, circleId, PASS }) {
  for (const value of Object.values(MARK)) {
    secrets.add(value);
  }
  let takedownLink;
  let receipt;

  await step("alice opens Moderation: the circle gets its moderation key and a takedown link", async () => {
    await tab(alice.page, "Moderation");
    await alice.page.getByText("Nothing is waiting for a decision.").waitFor();
    takedownLink = await alice.page.getByLabel("Takedown link").inputValue();
    assert.match(takedownLink, new RegExp(`^${server.url}/takedown#bctakedown1\\.`));
    secrets.add(takedownLink.split("#")[1]);
  });

  await step("bob reports carol's CLI warning from the browser", async () => {
    await openCircle(bob.page, M.circle);
    const card = bob.page.locator("article.warning", { hasText: "Cli Subject Petrov" });
    await card.getByRole("button", { name: "Report" }).click();
    await card.getByLabel("Why?").selectOption("false");
    await card.getByLabel(/Anything the admins should know/).fill(MARK.note);
    await card.getByRole("button", { name: "Send report to the admins" }).click();
    await card.getByText("Your report was sent").waitFor();
  });

  await step("alice sees the report (reporter, reason, the warning's verified content) and hides it", async () => {
    await tab(alice.page, "Moderation");
    const report = alice.page.locator("article.case", { hasText: MARK.note });
    await report.waitFor();
    const text = await report.textContent();
    assert.match(text, /Reported bybob/);
    assert.match(text, /It is not true/);
    assert.match(text, /Cli Subject Petrov/);
    assert.match(text, /opened and signed \(carol\)/);
    await report.getByLabel("Decision").selectOption("hide");
    await report.getByLabel(/Reason \(only the circle's admins/).fill(MARK.hideReason);
    await alice.shot("11-moderation-report");
    await report.getByRole("button", { name: "Record decision" }).click();
    await alice.page.getByText("The decision was signed and recorded.").waitFor();
    const decided = alice.page.locator("article.case", { hasText: MARK.note });
    assert.match(await decided.textContent(), /warning hidden while under review/);
    assert.match(await decided.textContent(), new RegExp(MARK.hideReason));
  });

  await step("carol posts anonymously from the CLI, bob reports it; alice unmasks carol after confirming, and the audit log says so", async () => {
    await carol.json("post", circleId, "--subject", "Anon Subject Novak", "--category", "other", "--text", MARK.anonymousText, "--anonymous");
    await openCircle(bob.page, M.circle);
    const card = bob.page.locator("article.warning", { hasText: "Anon Subject Novak" });
    await card.getByRole("button", { name: "Report" }).click();
    await card.getByLabel("Why?").selectOption("harassment");
    await card.getByLabel(/Anything the admins should know/).fill(MARK.anonymousNote);
    await card.getByRole("button", { name: "Send report to the admins" }).click();
    await card.getByText("Your report was sent").waitFor();
    await tab(alice.page, "Moderation");
    const report = alice.page.locator("article.case", { hasText: MARK.anonymousNote });
    await report.waitFor();
    assert.match(await report.textContent(), /opened and signed \(anonymous\)/);
    assert.doesNotMatch(await report.textContent(), /carol/);
    await report.getByRole("button", { name: "Unmask the author" }).click();
    await report.getByText(/The circle's audit log records that you asked/).waitFor();
    await alice.shot("11b-moderation-unmask-confirm");
    await report.getByRole("button", { name: "Yes, unmask" }).click();
    await report.getByText("Written by carol. The audit log shows that you asked.").waitFor();
    await tab(alice.page, "Audit log");
    await alice.page.locator(".verdict.good").waitFor();
    await alice.page.getByText("alice unmasked the author of an anonymous warning or corroboration").waitFor();
  });

  const dana = await person(browser, server, "dana", PHONE);
  people.push(dana);
  await step("dana, with no account, files a takedown request from the link and keeps the receipt", async () => {
    await dana.page.goto(takedownLink);
    await dana.page.getByRole("heading", { name: "Ask for a takedown" }).waitFor();
    assert.equal(new URL(dana.page.url()).hash, "");
    await dana.page.getByLabel(/Your name/).fill(M.subject);
    await dana.page.getByLabel(/How the admins can reach you/).fill(MARK.takedownContact);
    // A request holds at most 4 KiB: the page says so while typing, and refuses before any work.
    await dana.page.getByLabel("Your request").fill(`${MARK.takedownText} ${"ž".repeat(2100)}`);
    await dana.page.getByText(/Too long by \d+ bytes/).waitFor();
    await dana.shot("12-takedown-too-long-phone");
    await dana.page.getByRole("button", { name: "Send request" }).click();
    assert.match(await alertText(dana.page), /bytes too long/);
    assert.equal(dana.requests.filter((r) => r.url.includes("/v1/takedown")).length, 0);
    await dana.page.getByRole("button", { name: "Dismiss" }).click();
    await dana.page.getByLabel("Your request").fill(MARK.takedownText);
    await dana.page.getByText(/bytes left/).waitFor();
    await dana.shot("12-takedown-request-phone");
    await dana.page.getByRole("button", { name: "Send request" }).click();
    await dana.page.getByRole("heading", { name: "Request sent" }).waitFor();
    // The page asked for a challenge and did the proof of work before sending.
    assert.ok((await dana.statuses()).some((text) => /proof of work/.test(text)), "no proof-of-work progress shown");
    const filed = dana.requests.filter((r) => r.url.includes("/v1/takedown")).map((r) => new URL(r.url).pathname);
    assert.deepEqual(filed, ["/v1/takedown/challenge", "/v1/takedown"]);
    receipt = await dana.page.getByLabel("Receipt link").inputValue();
    assert.match(receipt, new RegExp(`^${server.url}/receipt#bcreceipt1\\.`));
    secrets.add(receipt.split("#")[1]);
    await dana.page.getByRole("link", { name: "Open the receipt now" }).click();
    await dana.page.getByText("Received. The circle's admins have not decided yet.").waitFor();
  });

  await step("alice finds the warning the request names and removes it, with a response", async () => {
    await tab(alice.page, "Moderation");
    const request = alice.page.locator("article.case", { hasText: MARK.takedownText });
    await request.waitFor();
    assert.match(await request.textContent(), new RegExp(MARK.takedownContact));
    await request.getByLabel(new RegExp(M.subject)).check();
    await request.getByLabel("Decision").selectOption("remove");
    await request.getByLabel(/Reason \(only the circle's admins/).fill(MARK.removeReason);
    await request.getByLabel(/Response to the requester/).fill(MARK.response);
    await alice.shot("13-moderation-takedown");
    await request.getByRole("button", { name: "Record decision" }).click();
    await alice.page.getByText("The decision was signed and recorded.").waitFor();
    await tab(alice.page, "Warnings");
    await alice.page.getByText("Removed by the circle's admins.").waitFor();
  });

  await step("junk floods the takedown link from the CLI; alice dismisses it in bulk, each dismissal signed", async () => {
    const junk = cliUser(server, "junk", "");
    for (let n = 0; n < 3; n += 1) {
      await junk.json("takedown", "request", takedownLink, "--name", `Junk ${n}`, "--text", `junk request ${n}`);
    }
    await tab(alice.page, "Moderation");
    const bulk = alice.page.getByRole("form", { name: "Dismiss takedown requests in bulk" });
    await bulk.waitFor();
    await bulk.getByRole("button", { name: "Tick all 3 open takedown requests" }).click();
    await bulk.getByLabel(/Reason \(only the circle's admins/).fill("junk flood");
    await alice.shot("13-moderation-bulk-dismiss");
    await bulk.getByRole("button", { name: /Dismiss the ticked requests \(3\)/ }).click();
    await alice.page.getByText("3 requests dismissed. Each decision is signed by you").waitFor();
    assert.equal(await alice.page.getByRole("form", { name: "Dismiss takedown requests in bulk" }).count(), 0);
    const decided = await alice.page.locator("article.case", { hasText: "junk request" }).allTextContents();
    assert.equal(decided.length, 3);
    assert.ok(decided.every((text) => /dismissed.*dismiss by alice.*junk flood/.test(text)), decided.join("\n"));
  });

  await step("dana reads the decision and the admins' response with the receipt", async () => {
    await dana.page.getByRole("button", { name: "Check again" }).click();
    await dana.page.getByText("The admins removed the warning.").waitFor();
    await dana.page.getByText(MARK.response).waitFor();
    await dana.shot("14-receipt-phone");
  });

  await step("bob's browser verifies the audit log; carol's CLI agrees", async () => {
    await tab(bob.page, "Audit log");
    const verdict = bob.page.locator(".verdict");
    await verdict.waitFor();
    assert.match(await verdict.textContent(), /The audit log verifies: \d+ records, \d+ signatures checked/);
    await bob.page.getByText("bob opened an invite").first().waitFor();
    await bob.shot("15-audit-log-phone");
    await bob.page.getByRole("button", { name: "Verify again" }).click();
    await bob.page.locator(".verdict.good").waitFor();
    const cli = await carol.json("audit", "verify", circleId);
    assert.equal(cli.ok, true);
  });

  await step("alice removes carol in the browser: the key rotates, carol's CLI is shut out", async () => {
    await tab(alice.page, "Members");
    const row = alice.page.locator("li.member", { hasText: "carol" });
    await row.getByRole("button", { name: "Remove" }).click();
    await row.getByRole("button", { name: said`Yes, remove ${"carol"}` }).click();
    await alice.page.getByText(said`${"carol"} was removed and the circle key renewed.`).waitFor();
    assert.equal(await alice.page.locator("li.member", { hasText: "carol" }).count(), 0);
    await assert.rejects(carol.json("read", circleId), /not_a_member/);
    await openCircle(bob.page, M.circle);
    await tab(bob.page, "Post a warning");
    await bob.page.getByLabel("Who is it about?").fill("After Rotation Kowalski");
    await bob.page.getByLabel("other", { exact: true }).check();
    await bob.page.getByRole("button", { name: "Post warning" }).click();
    await bob.page.locator("article.warning", { hasText: "After Rotation Kowalski" }).waitFor();
    await tab(alice.page, "Warnings");
    await alice.page.locator("article.warning", { hasText: "After Rotation Kowalski" }).waitFor();
  });

  await step("bob retracts his warning and leaves the CLI circle with a signed departure", async () => {
    await tab(bob.page, "Warnings");
    const card = bob.page.locator("article.warning", { hasText: "After Rotation Kowalski" });
    await card.getByRole("button", { name: "Retract" }).click();
    await card.getByRole("button", { name: "Yes, retract it" }).click();
    await bob.page.getByText("The warning was retracted.").waitFor();
    await bob.page.getByText("Retracted by its author.").waitFor();
    await openCircle(bob.page, M.cliCircle);
    await tab(bob.page, "Members");
    await bob.page.getByRole("button", { name: "Leave this circle" }).click();
    await bob.page.getByRole("button", { name: "Yes, leave" }).click();
    await bob.page.getByRole("heading", { name: "My circles" }).waitFor();
    await bob.page.locator(".circle-list").waitFor();
    assert.equal(await bob.page.getByRole("button", { name: M.cliCircle }).count(), 0);
    const members = await carol.json("member", "list", cliCircleId(await carol.json("circle", "list"), M.cliCircle));
    assert.equal(members.find((m) => m.username === "bob")?.status, "left");
  });

  await step("a record changed behind the server's back: the audit view says so, loudly, in every tab", async () => {
    // bob has a second tab open on his circles: it must learn at once, with no action.
    const other = await bob.context.newPage();
    await other.goto("/");
    await other.getByLabel("Username").fill("bob");
    await other.getByLabel("Passphrase", { exact: true }).fill(PASS.bob);
    await other.getByRole("button", { name: "Log in" }).click();
    await other.getByRole("heading", { name: "My circles" }).waitFor({ timeout: 60_000 });
    await tamper(server, circleId, 1);
    await openCircle(bob.page, M.circle);
    await tab(bob.page, "Audit log");
    const verdict = bob.page.locator(".verdict.bad");
    await verdict.waitFor();
    assert.match(await verdict.textContent(), /THE AUDIT LOG DOES NOT VERIFY\.\u2068?changed_record\u2069?: \u2068?record 1/u);
    await bob.shot("16-audit-log-tampered-phone");
    const shared = await alertText(other);
    assert.match(shared, /Security check failed/);
    assert.match(shared, /changed_record/);
    await other.close();
  });

  await step("errors from the server show in plain words (an invite used twice)", async () => {
    await tab(alice.page, "Invite");
    await alice.page.getByRole("button", { name: "Create invite link" }).click();
    const link = await alice.page.getByLabel("Invite link").inputValue();
    secrets.add(link.split("#")[1]);
    await bob.page.getByRole("navigation", { name: "Account" }).getByRole("button", { name: "My circles" }).click();
    await bob.page.getByLabel("Invite link or text").fill(link);
    await bob.page.getByRole("button", { name: "Continue" }).click();
    await bob.page.getByRole("button", { name: "Ask to join" }).click();
    assert.match(await alertText(bob.page), /You are already in this circle/);
  });
}
