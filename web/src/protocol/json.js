/**
 * Canonical JSON (§10.2) and the strict parser every protocol reader uses.
 *
 * canonical: keys sorted by code point at every level, no whitespace, strings as
 * UTF-8 with only the escapes of §10.2 — byte for byte what Python writes with
 * json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
 *
 * parseJson: RFC 8259 with integers only (no fraction, exponent, NaN or Infinity,
 * §23 step 7), raw control characters refused inside strings, duplicate keys resolved
 * as Python does (the last wins). Integers outside ±(2^53 − 1) come back as BigInt so
 * that nothing is silently rounded; the field checks refuse them where a count is meant.
 */
import { InvalidKey } from "./errors.js";
import { fromUtf8, utf8 } from "./encoding.js";

const HEX32 = /^[0-9a-f]{32}$/;
const MAX_DEPTH = 1000; // Python's json gives up near its recursion limit of 1000

/** Ascending code point order (not UTF-16 code unit order), as Python sorts str. */
export function compareCodePoints(a, b) {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) {
      return x.done === y.done ? 0 : x.done ? -1 : 1;
    }
    const cx = x.value.codePointAt(0);
    const cy = y.value.codePointAt(0);
    if (cx !== cy) {
      return cx < cy ? -1 : 1;
    }
  }
}

function isPlainObject(value) {
  if (value === null || typeof value !== "object") {
    return false;
  }
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function encodeValue(value) {
  if (value === null) {
    return "null";
  }
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value)) {
        throw new InvalidKey("canonical JSON holds integers only");
      }
      return String(value);
    case "bigint":
      return value.toString();
    case "string":
      if (!value.isWellFormed()) {
        throw new InvalidKey("a string with a lone surrogate has no UTF-8 form");
      }
      // JSON.stringify escapes exactly what §10.2 lists: \" \\ \b \f \n \r \t, other C0 as \u00xx.
      return JSON.stringify(value);
    default:
      break;
  }
  if (Array.isArray(value)) {
    return `[${value.map(encodeValue).join(",")}]`;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort(compareCodePoints);
    return `{${keys.map((key) => `${encodeValue(key)}:${encodeValue(value[key])}`).join(",")}}`;
  }
  throw new InvalidKey("not a JSON value");
}

/** The canonical JSON text of a value (§10.2). */
export function canonicalText(value) {
  return encodeValue(value);
}

/** The canonical JSON bytes of a value (§10.2): what is hashed and signed. */
export function canonicalJson(value) {
  return utf8(encodeValue(value));
}

class Parser {
  constructor(text) {
    this.text = text;
    this.at = 0;
  }

  fail(why) {
    throw new InvalidKey(`malformed JSON: ${why} at ${this.at}`);
  }

  space() {
    while (this.at < this.text.length && " \t\n\r".includes(this.text[this.at])) {
      this.at++;
    }
  }

  value(depth) {
    if (depth > MAX_DEPTH) {
      this.fail("nested too deeply");
    }
    this.space();
    const ch = this.text[this.at];
    if (ch === "{") {
      return this.object(depth);
    }
    if (ch === "[") {
      return this.array(depth);
    }
    if (ch === '"') {
      return this.string();
    }
    if (ch === "-" || (ch >= "0" && ch <= "9")) {
      return this.number();
    }
    for (const [word, result] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ]) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return result;
      }
    }
    return this.fail("unexpected character");
  }

  object(depth) {
    const result = {};
    this.at++;
    this.space();
    if (this.text[this.at] === "}") {
      this.at++;
      return result;
    }
    for (;;) {
      this.space();
      if (this.text[this.at] !== '"') {
        this.fail("expected a key");
      }
      const key = this.string();
      this.space();
      if (this.text[this.at] !== ":") {
        this.fail("expected ':'");
      }
      this.at++;
      // defineProperty: a "__proto__" key is an ordinary own field, as it is in Python.
      Object.defineProperty(result, key, {
        value: this.value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.space();
      const next = this.text[this.at++];
      if (next === "}") {
        return result;
      }
      if (next !== ",") {
        this.fail("expected ',' or '}'");
      }
    }
  }

  array(depth) {
    const result = [];
    this.at++;
    this.space();
    if (this.text[this.at] === "]") {
      this.at++;
      return result;
    }
    for (;;) {
      result.push(this.value(depth + 1));
      this.space();
      const next = this.text[this.at++];
      if (next === "]") {
        return result;
      }
      if (next !== ",") {
        this.fail("expected ',' or ']'");
      }
    }
  }

  string() {
    const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
    let out = "";
    this.at++;
    for (;;) {
      const ch = this.text[this.at++];
      if (ch === undefined) {
        this.fail("unterminated string");
      }
      if (ch === '"') {
        return out;
      }
      if (ch < " ") {
        this.fail("control character in a string");
      }
      if (ch !== "\\") {
        out += ch;
        continue;
      }
      const esc = this.text[this.at++];
      if (esc === "u") {
        const digits = this.text.slice(this.at, this.at + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(digits)) {
          this.fail("bad \\u escape");
        }
        out += String.fromCharCode(parseInt(digits, 16));
        this.at += 4;
      } else if (Object.hasOwn(ESCAPES, esc)) {
        out += ESCAPES[esc];
      } else {
        this.fail("bad escape");
      }
    }
  }

  number() {
    const integer = /-?(?:0|[1-9][0-9]*)/y;
    integer.lastIndex = this.at;
    const match = integer.exec(this.text);
    if (!match) {
      this.fail("bad number");
    }
    this.at += match[0].length;
    const after = this.text[this.at];
    if (after === "." || after === "e" || after === "E") {
      this.fail("non-integer number");
    }
    const big = BigInt(match[0]);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
}

/** Parse protocol JSON from a string or from UTF-8 bytes; any failure is InvalidKey. */
export function parseJson(input) {
  const text = typeof input === "string" ? input : fromUtf8(input);
  const parser = new Parser(text);
  const value = parser.value(0);
  parser.space();
  if (parser.at !== text.length) {
    parser.fail("trailing characters");
  }
  return value;
}

/** Canonical bytes of a parsed value, or InvalidKey if `raw` was not exactly those bytes. */
export function requireCanonical(raw, value) {
  const bytes = canonicalJson(value);
  if (bytes.length !== raw.length || bytes.some((byte, i) => byte !== raw[i])) {
    throw new InvalidKey("not canonical JSON");
  }
  return bytes;
}

/** True if `value` is a JSON object with exactly these keys. */
export function hasExactFields(value, fields) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return false;
  }
  const keys = Object.keys(value);
  return keys.length === fields.length && fields.every((field) => Object.hasOwn(value, field));
}

/** A non-negative integer that is exact in JavaScript: seq, epoch, generation, size. */
export function isCount(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

/** A UUID as signed JSON writes it: 32 lowercase hex digits. */
export function isHex32(value) {
  return typeof value === "string" && HEX32.test(value);
}
