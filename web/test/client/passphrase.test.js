// The passphrase rule (docs/protocol.md §3.1): the cases the Python client is tested on
// (tests/client/passphrase_cases.json), the same list file, and register refusing before
// it sends anything.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import {
  COMMON_PASSPHRASES_PATH,
  checkPassphrase,
  normaliseForCheck,
  parseCommonPassphrases,
} from "../../src/client/passphrase.js";
import { Client } from "../../src/client/sdk.js";
import { refused } from "../../test-support/world.js";

const ROOT = new URL("../../../", import.meta.url);
const LIST = readFileSync(new URL("app/client/data/common-passphrases.txt", ROOT), "utf8");
const { cases: CASES } = JSON.parse(readFileSync(new URL("tests/client/passphrase_cases.json", ROOT), "utf8"));
const common = parseCommonPassphrases(LIST);

function code(username, passphrase) {
  try {
    checkPassphrase(passphrase, { username, common });
    return null;
  } catch (error) {
    return error.code;
  }
}

/** A server that serves only the list (or fails to), and records every request. */
function listServer({ status = 200 } = {}) {
  const requests = [];
  const fetch = async (url, init) => {
    const { pathname } = new URL(url, "http://backchannel.test");
    requests.push(`${init.method} ${pathname}`);
    if (pathname === COMMON_PASSPHRASES_PATH) {
      return new Response(status === 200 ? LIST : "", { status });
    }
    return Response.json({ error: { code: "not_found", message: pathname } }, { status: 404 });
  };
  return { requests, client: new Client({ fetch }) };
}

describe("passphrase rule", () => {
  for (const c of CASES) {
    test(`${c.why}: ${c.code ?? "accepted"}`, () => {
      assert.equal(code(c.username, c.passphrase), c.code);
    });
  }

  test("the list is the Python client's file, every entry normalised", () => {
    assert.ok(common.size > 45000);
    assert.ok(common.has("123456") && common.has("backchannel") && common.has("correct horse battery staple"));
    for (const entry of common) {
      assert.equal(normaliseForCheck(entry), entry);
    }
  });
});

describe("register", () => {
  test("refuses a listed passphrase, a context word or the username before any account request", async () => {
    const { requests, client } = listServer();
    await refused(client.register("dora", "Password1234"), "common_passphrase");
    await refused(client.register("dora", "Backchannel 2024"), "common_passphrase");
    await refused(client.register("Dora", "DORA the explorer"), "passphrase_contains_username");
    await refused(client.register("dora", "too short"), "weak_passphrase");
    assert.deepEqual(requests, [`GET ${COMMON_PASSPHRASES_PATH}`]); // fetched once, then kept
  });

  test("an accepted passphrase goes on to the server", async () => {
    const { requests, client } = listServer();
    await refused(client.register("dora", "correct horse battery amber"), "not_found");
    assert.deepEqual(requests, [`GET ${COMMON_PASSPHRASES_PATH}`, "GET /v1/auth/params"]);
  });

  test("without the list no passphrase is set", async () => {
    const { requests, client } = listServer({ status: 404 });
    await refused(client.register("dora", "correct horse battery amber"), "server_unreachable");
    assert.deepEqual(requests, [`GET ${COMMON_PASSPHRASES_PATH}`]);
  });
});
