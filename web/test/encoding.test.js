// The encodings of §1 and §10.2 at their edges, where the vectors have no case.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { assertThrowsNamed } from "../test-support/helpers.js";
import { normaliseUsername } from "../src/protocol/accounts.js";
import { b64, b64url, fromB64, fromB64url, fromUtf8, uint64be, utf8, uuid } from "../src/protocol/encoding.js";
import { Invite } from "../src/protocol/membership.js";
import { canonicalText, parseJson } from "../src/protocol/json.js";
import { casefold, pythonStrip } from "../src/protocol/text.js";

describe("base64 (§1)", () => {
  test("round trip at every length mod 3", () => {
    for (const length of [0, 1, 2, 3, 4, 5, 32]) {
      const raw = Uint8Array.from({ length }, (_, i) => (i * 37 + 11) & 0xff);
      assert.deepEqual(fromB64(b64(raw)), raw);
      assert.deepEqual(fromB64url(b64url(raw)), raw);
    }
    assert.equal(b64(Uint8Array.of(0xfb, 0xff)), "+/8=");
    assert.equal(b64url(Uint8Array.of(0xfb, 0xff)), "-_8");
  });
  test("the standard form refuses the URL-safe alphabet, missing padding, whitespace and non-zero unused bits", () => {
    for (const text of ["-_8=", "+/8", "+/8= ", " +/8=", "+/\n8=", "AB==", "AAB=", "A===", "====", "A"]) {
      assertThrowsNamed(() => fromB64(text), "InvalidKey", text);
    }
  });
  test("the URL-safe form refuses padding, the standard alphabet and non-zero unused bits", () => {
    for (const text of ["-_8=", "+/8", "AB", "AAB", "A"]) {
      assertThrowsNamed(() => fromB64url(text), "InvalidKey", text);
    }
  });
  test("an expected size is enforced", () => {
    assertThrowsNamed(() => fromB64("AAAA", 4), "InvalidKey");
    assert.equal(fromB64("AAAA", 3).length, 3);
  });
});

describe("UTF-8, counters and ids", () => {
  test("a lone surrogate has no UTF-8 form", () => assertThrowsNamed(() => utf8("a\ud800"), "InvalidKey"));
  test("invalid UTF-8 is refused and a byte order mark is kept, as Python decodes", () => {
    assertThrowsNamed(() => fromUtf8(Uint8Array.of(0xc3)), "InvalidKey");
    assertThrowsNamed(() => fromUtf8(Uint8Array.of(0xed, 0xa0, 0x80)), "InvalidKey");
    assert.equal(fromUtf8(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61)), "\ufeffa");
  });
  test("uint64_be takes 0 .. 2^63 - 1 as a number or a BigInt", () => {
    assert.deepEqual([...uint64be(258)], [0, 0, 0, 0, 0, 0, 1, 2]);
    assert.deepEqual([...uint64be(2n ** 63n - 1n)], [0x7f, 255, 255, 255, 255, 255, 255, 255]);
    for (const bad of [-1, 2n ** 63n, 0.5, "1", null, 2 ** 53]) {
      assertThrowsNamed(() => uint64be(bad), "InvalidKey", String(bad));
    }
  });
  test("UUIDs: dashed in either case or 32 lowercase digits", () => {
    const id = "8a3f0c6e-5b1d-4f2a-9c7e-1d2b3a4c5d6e";
    assert.equal(uuid(id.toUpperCase()), id);
    assert.equal(uuid(id.replaceAll("-", "")), id);
    for (const bad of ["8A3F0C6E5B1D4F2A9C7E1D2B3A4C5D6E", `{${id}}`, `urn:uuid:${id}`, id.slice(1)]) {
      assertThrowsNamed(() => uuid(bad), "InvalidKey", bad);
    }
  });
});

describe("canonical JSON (§10.2)", () => {
  test("keys sorted by code point at every level, no whitespace", () => {
    assert.equal(
      canonicalText({ b: [{ d: 1, c: null }], a: true, "\u{10000}": 0, "\uff00": 0 }),
      '{"a":true,"b":[{"c":null,"d":1}],"\uff00":0,"\u{10000}":0}',
    );
  });
  test("the escapes Python writes, and nothing else escaped", () => {
    assert.equal(
      canonicalText('"\\\b\f\n\r\t\u0000\u001f\u007f\u2028é😀/'),
      '"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\u007f\u2028é😀/"',
    );
  });
  test("integers only; no undefined, no lone surrogates", () => {
    for (const bad of [1.5, NaN, Infinity, undefined, "\udc00", { a: undefined }, new Date(0)]) {
      assertThrowsNamed(() => canonicalText(bad), "InvalidKey", String(bad));
    }
    assert.equal(canonicalText(2n ** 63n), "9223372036854775808");
  });
});

describe("strict JSON parsing", () => {
  test("refuses fractions, exponents, NaN, Infinity, comments, trailing commas and raw control characters", () => {
    for (const text of [
      "1.0",
      "1e3",
      "1E3",
      "-0.5",
      "NaN",
      "Infinity",
      "-Infinity",
      "[1,]",
      '{"a":1,}',
      "// x\n1",
      '"a\nb"',
      "01",
      "+1",
      "'a'",
      "",
      "{} {}",
    ]) {
      assertThrowsNamed(() => parseJson(text), "InvalidKey", text);
    }
  });
  test("accepts surrounding JSON whitespace and lets the last duplicate key win, as Python does", () => {
    assert.deepEqual(parseJson(' {"a":1,"a":2} \n'), { a: 2 });
  });
  test("a __proto__ key is an ordinary field", () => {
    const value = parseJson('{"__proto__":{"x":1}}');
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ["__proto__"]);
    assert.equal(canonicalText(value), '{"__proto__":{"x":1}}');
  });
  test("integers beyond 2^53 - 1 come back exactly, as BigInt", () => {
    assert.equal(parseJson("9223372036854775807"), 9223372036854775807n);
    assert.equal(parseJson("-9007199254740991"), -9007199254740991);
  });
  test("UTF-8 bytes: a BOM is a character, so it is not JSON whitespace", () => {
    assertThrowsNamed(() => parseJson(Uint8Array.of(0xef, 0xbb, 0xbf, 0x31)), "InvalidKey");
  });
  test("nesting is bounded", () => {
    assertThrowsNamed(() => parseJson("[".repeat(2000) + "]".repeat(2000)), "InvalidKey");
    assert.ok(Array.isArray(parseJson("[".repeat(500) + "]".repeat(500))));
  });
});

describe("Python's text operations (§2, §14)", () => {
  test("casefold is full case folding, not toLowerCase", () => {
    assert.equal(casefold("Straße ẞ ΣΑΣ ﬁ ᾳ İ ꮏ"), "strasse ss σασ fi αι i̇ Ꮏ");
  });
  test("strip removes what str.isspace() calls space: U+001C..U+001F and U+0085, not U+FEFF", () => {
    assert.equal(pythonStrip("\u001c\u0085 a b\u3000\u2029"), "a b");
    assert.equal(pythonStrip("\ufeffa"), "\ufeffa");
  });
  test("usernames: stripped as Python strips", () => {
    assert.equal(normaliseUsername("alice\u001f"), "alice");
    assertThrowsNamed(() => normaliseUsername("\ufeffalice"), "InvalidKey");
    assert.equal(normaliseUsername("ＧＲＯẞ"), "gross");
  });
  test("invites: U+FEFF around an invite is not whitespace for the reference either", () => {
    const text =
      "bcinvite1.8a3f0c6e5b1d4f2a9c7e1d2b3a4c5d6e.0f1e2d3c4b5a49688776a5b4c3d2e1f0.4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8.251395771141939098635956814076.k6oc2GQrZ7Uit55agPPaBQwPn2bqAn1P3nvXIKT-iMg";
    assert.equal(String(Invite.parse(`\u2003${text}\u00a0`)), text);
    assertThrowsNamed(() => Invite.parse(`\ufeff${text}`), "InvalidKey");
  });
});
