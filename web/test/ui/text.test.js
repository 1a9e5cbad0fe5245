// The web's user-text renderer over the shared hostile corpus (tests/hostile-text.json):
// the same visible form as the terminal's, each string in <bdi dir=auto> as text.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { isolated, userList, userText, visible } from "../../src/ui/text.js";

const corpus = JSON.parse(readFileSync(new URL("../../../tests/hostile-text.json", import.meta.url), "utf8")).strings;
const FORBIDDEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u;

// The smallest document the renderer needs: elements that record what they were given.
class FakeElement {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.attributes = {};
    this.className = "";
    this.textContent = "";
  }
  setAttribute(name, value) {
    this.attributes[name] = value;
  }
  set innerHTML(_) {
    throw new Error("the renderer must never write HTML");
  }
}
globalThis.document = { createElement: (tag) => new FakeElement(tag) };

test("the corpus is the shared one, big and varied", () => {
  assert.ok(corpus.length >= 200);
  const kinds = new Set(corpus.map((item) => item.kind));
  for (const kind of ["markup", "ansi", "c0", "c1", "bidi", "zero-width", "combining", "huge", "emoji", "rtl", "lines", "nul"]) {
    assert.ok(kinds.has(kind), kind);
  }
});

test("every string looks as it does in the terminal", () => {
  for (const item of corpus) {
    assert.equal(visible(item.text), item.shown, JSON.stringify(item.text));
    assert.equal(visible(item.text, { multiline: true }), item.shown_multiline, JSON.stringify(item.text));
  }
});

test("every string is put in an isolated <bdi dir=auto> as text, controls escaped", () => {
  for (const item of corpus) {
    for (const multiline of [false, true]) {
      const element = userText(item.text, { multiline });
      assert.equal(element.tagName, "BDI");
      assert.equal(element.attributes.dir, "auto");
      assert.equal(element.textContent, multiline ? item.shown_multiline : item.shown);
      assert.doesNotMatch(element.textContent, FORBIDDEN);
      if (!multiline) {
        assert.ok(!element.textContent.includes("\n"));
      }
    }
  }
});

test("what is not a control character comes back exactly as written", () => {
  for (const item of corpus.filter((i) => ["rtl", "emoji", "combining", "markup", "scripts"].includes(i.kind))) {
    if (!FORBIDDEN.test(item.text) && !item.text.includes("\n")) {
      assert.equal(userText(item.text).textContent, item.text);
    }
  }
  assert.equal(userText(null).textContent, "");
});

test("a list isolates each string and keeps our separator outside", () => {
  const parts = userList(["שלום", "\u202eevil"]);
  assert.equal(parts.length, 3);
  assert.equal(parts[1], ", ");
  assert.equal(parts[2].textContent, "<U+202E>evil");
});

test("screens put a user string into a sentence or a label only isolated (FSI…PDI), never bare", () => {
  // visible() alone lets a right-to-left name reorder the words around it in an aria-label
  // or a notice; screens use isolated() for strings and userText() for elements.
  const dir = new URL("../../src/ui/", import.meta.url);
  const offenders = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".js") || name === "text.js") {
      continue;
    }
    readFileSync(new URL(name, dir), "utf8").split("\n").forEach((line, i) => {
      if (/\bvisible\(/.test(line)) {
        offenders.push(`${name}:${i + 1}`);
      }
    });
  }
  assert.deepEqual(offenders, []);
});

test("isolated() is the visible form between FSI and PDI, and a hostile string cannot end the isolate early", () => {
  for (const item of corpus) {
    const text = isolated(item.text);
    assert.ok(text.startsWith("\u2068") && text.endsWith("\u2069"));
    assert.equal(text.slice(1, -1), item.shown, JSON.stringify(item.text));
    assert.ok(!FORBIDDEN.test(text.slice(1, -1)));
  }
});
