// Registering with a circle invite (docs/protocol.md §7.3): on a server that makes accounts
// only for invite holders, the registration carries the invite's redemption values.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { COMMON_PASSPHRASES_PATH } from "../../src/client/passphrase.js";
import { Client } from "../../src/client/sdk.js";
import { IdentityKeys } from "../../src/protocol/identity.js";
import { Invite } from "../../src/protocol/membership.js";
import { randomBytes, randomUuid } from "../../src/protocol/random.js";
import { ready } from "../../src/protocol/sodium.js";
import { refused } from "../../test-support/world.js";

await ready();

const LIST = readFileSync(new URL("../../../app/client/data/common-passphrases.txt", import.meta.url), "utf8");
const PASSPHRASE = "correct horse battery amber";

/** A server that announces the KDF parameters and answers a registration as invite-only. */
function inviteOnlyServer() {
  const sent = [];
  const fetch = async (url, init) => {
    const { pathname } = new URL(url, "http://backchannel.test");
    sent.push({ request: `${init.method} ${pathname}`, body: init.body ? JSON.parse(init.body) : null });
    if (pathname === COMMON_PASSPHRASES_PATH) {
      return new Response(LIST);
    }
    if (pathname === "/v1/auth/params") {
      return Response.json({ algorithm: "argon2id13", opslimit: 3, memlimit: 64 * 1024 * 1024, salt: "c2FsdHNhbHRzYWx0c2FsdA==" });
    }
    const message = "This server makes accounts only with a circle invite.";
    return Response.json({ error: { code: "invite_required", message } }, { status: 403 });
  };
  return { sent, client: new Client({ fetch }) };
}

function anInvite() {
  return Invite.create({
    circleId: randomUuid(),
    inviterFingerprint: IdentityKeys.generate().publicIdentity().fingerprint,
    recordHash: randomBytes(32),
  });
}

describe("register with an invite", () => {
  test("the registration carries the invite's circle, id and secret, as a redemption would", async () => {
    const { sent, client } = inviteOnlyServer();
    const invite = anInvite();
    await refused(client.register("dora", PASSPHRASE, { invite: String(invite) }), "invite_required");
    const [registration] = sent.filter((s) => s.request === "POST /v1/auth/register");
    assert.deepEqual(registration.body.invite, invite.redeemRequest());
  });

  test("without an invite the field is left out", async () => {
    const { sent, client } = inviteOnlyServer();
    await refused(client.register("dora", PASSPHRASE), "invite_required");
    const [registration] = sent.filter((s) => s.request === "POST /v1/auth/register");
    assert.equal("invite" in registration.body, false);
  });

  test("a damaged invite is refused before anything is sent", async () => {
    const { sent, client } = inviteOnlyServer();
    await refused(client.register("dora", PASSPHRASE, { invite: "bcinvite1.not-an-invite" }), "bad_invite");
    assert.deepEqual(sent, []);
  });
});

describe("device label", () => {
  test("a client with a device label sends it with the registration; one without sends none", async () => {
    const labelled = inviteOnlyServer();
    labelled.client.deviceLabel = "Firefox on Android";
    await refused(labelled.client.register("dora", PASSPHRASE), "invite_required");
    const [named] = labelled.sent.filter((s) => s.request === "POST /v1/auth/register");
    assert.equal(named.body.device_label, "Firefox on Android");
    const plain = inviteOnlyServer();
    await refused(plain.client.register("dora", PASSPHRASE), "invite_required");
    const [unnamed] = plain.sent.filter((s) => s.request === "POST /v1/auth/register");
    assert.equal("device_label" in unnamed.body, false);
  });
});
