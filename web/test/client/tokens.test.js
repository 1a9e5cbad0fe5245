/** The page's stock of anonymous posting tokens (client/anon.js) and what logout leaves. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { StorageTokenStore } from "../../src/client/anon.js";

class Storage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

test("the stock is per account, and clear() (logout, quick exit) leaves no token of that account", async () => {
  const storage = new Storage();
  const alice = new StorageTokenStore(storage, "alice");
  const bob = new StorageTokenStore(storage, "bob");
  await alice.save("c1", { epoch: 1, tokens: [["in", "out"]] });
  await bob.save("c1", { epoch: 1, tokens: [["b-in", "b-out"]] });
  assert.deepEqual(await alice.load("c1"), { epoch: 1, tokens: [["in", "out"]] });
  alice.clear();
  assert.equal(await alice.load("c1"), null);
  assert.equal(storage.getItem("backchannel.tokens.alice"), null);
  assert.deepEqual(await bob.load("c1"), { epoch: 1, tokens: [["b-in", "b-out"]] });
});

test("a stock-up still in flight at sign-out saves nothing once it answers (close())", async () => {
  const storage = new Storage();
  const store = new StorageTokenStore(storage, "alice");
  await store.save("c1", { epoch: 1, tokens: [["in", "out"]] });
  store.close(); // drop(): signing out while a batch is on its way
  await store.save("c2", { epoch: 1, tokens: [["late-in", "late-out"]] }); // the batch arrives
  assert.equal(storage.getItem("backchannel.tokens.alice"), null);
  assert.equal(await store.load("c2"), null);
});
