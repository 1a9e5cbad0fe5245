/**
 * Bytes on the wire (§1): strict base64, base64url without padding, UTF-8, big-endian
 * integers and the three forms of a UUID (§8). Pure JavaScript: usable before
 * libsodium is ready.
 */
import { InvalidKey } from "./errors.js";
import { isPythonSpace } from "./text.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const STANDARD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;
const HEX = /^(?:[0-9a-f]{2})*$/;
const DASHED_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_UUID = /^[0-9a-f]{32}$/;
const MAX_U64 = 2n ** 63n;

const encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF as a character, as Python's bytes.decode("utf-8") does.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** UTF-8 of a well-formed string; a lone surrogate has no UTF-8 form and is refused. */
export function utf8(text) {
  if (typeof text !== "string" || !text.isWellFormed()) {
    throw new InvalidKey("text must be a well-formed Unicode string");
  }
  return encoder.encode(text);
}

/** Strict UTF-8 decoding: invalid bytes are refused, a BOM is kept. */
export function fromUtf8(bytes) {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new InvalidKey("not UTF-8");
  }
}

/** ASCII bytes of a label or an ASCII-only field. */
export function ascii(text) {
  if (!/^[\x00-\x7f]*$/.test(text)) {
    throw new InvalidKey("not ASCII");
  }
  return encoder.encode(text);
}

function encode64(bytes, alphabet, pad) {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + (pad ? "==" : "");
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + (pad ? "=" : "");
  }
  return out;
}

function decode64(text, alphabet) {
  const body = text.replace(/=+$/, "");
  if (body.length % 4 === 1) {
    throw new InvalidKey("not base64");
  }
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const ch of body) {
    value = (value << 6) | alphabet.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

function checkSize(bytes, size, what) {
  if (size !== undefined && bytes.length !== size) {
    throw new InvalidKey(`${what} must be ${size} bytes`);
  }
  return bytes;
}

/** RFC 4648 §4 base64 with padding (§1). */
export function b64(bytes) {
  return encode64(bytes, ALPHABET, true);
}

/**
 * Decode canonical base64 only (§1): standard alphabet, padding, no whitespace,
 * unused bits zero. `size`, if given, is the exact number of bytes expected.
 */
export function fromB64(text, size, what = "value") {
  if (typeof text !== "string" || !STANDARD.test(text)) {
    throw new InvalidKey(`${what} is not canonical base64`);
  }
  const bytes = decode64(text, ALPHABET);
  if (b64(bytes) !== text) {
    throw new InvalidKey(`${what} is not canonical base64`);
  }
  return checkSize(bytes, size, what);
}

/** RFC 4648 §5 base64url without padding (invites §14, links and receipts §31). */
export function b64url(bytes) {
  return encode64(bytes, URL_ALPHABET, false);
}

/** Decode canonical unpadded base64url: re-encoding must give the same text. */
export function fromB64url(text, size, what = "value") {
  if (typeof text !== "string" || !URL_SAFE.test(text) || text.length % 4 === 1) {
    throw new InvalidKey(`${what} is not canonical base64url`);
  }
  const bytes = decode64(text, URL_ALPHABET);
  if (b64url(bytes) !== text) {
    throw new InvalidKey(`${what} is not canonical base64url`);
  }
  return checkSize(bytes, size, what);
}

export function hex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Lowercase hex only, as the vectors and the 32-digit circle ids write it. */
export function fromHex(text, size, what = "value") {
  if (typeof text !== "string" || !HEX.test(text)) {
    throw new InvalidKey(`${what} is not lowercase hex`);
  }
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  }
  return checkSize(bytes, size, what);
}

/** uint64_be(n) for 0 <= n < 2^63 (§8 ctx, §22.2, §28 gctx); a number or a BigInt. */
export function uint64be(value) {
  const n = typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (n < 0n || n >= MAX_U64) {
    throw new InvalidKey("a counter must be an integer in 0 .. 2^63 - 1");
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

/**
 * A UUID in its dashed form (URLs and JSON fields, §8), lower-cased. Accepts the
 * dashed form in either case or the 32-digit lowercase form of signed JSON.
 */
export function uuid(text) {
  if (typeof text === "string" && DASHED_UUID.test(text)) {
    return text.toLowerCase();
  }
  if (typeof text === "string" && HEX_UUID.test(text)) {
    return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
  }
  throw new InvalidKey("not a UUID");
}

/** The 32 lowercase hex digits of a UUID, as key records, events and invites write it. */
export function uuidHex(text) {
  return uuid(text).replaceAll("-", "");
}

/** The 16 raw bytes of a UUID (RFC 4122 byte order), as associated data binds it. */
export function uuidBytes(text) {
  return fromHex(uuidHex(text), 16);
}

/** Lexicographic order of byte strings, as Python sorts bytes. */
export function compareBytes(a, b) {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) {
      return a[i] - b[i];
    }
  }
  return a.length - b.length;
}

export const PASTED_LIMIT = 2000;

/**
 * A token as people paste it (protocol.md §1, "Pasted tokens"): every whitespace character
 * in it is dropped (a terminal's line breaks, a mail client's wrapping), then one pair of
 * surrounding <angle brackets>. Mirrors pasted_token in app/crypto/encoding.py.
 */
export function pastedToken(text) {
  const chars = typeof text === "string" ? [...text] : [];
  if (chars.length > PASTED_LIMIT) {
    throw new InvalidKey("this is too long to be a Backchannel token");
  }
  let joined = chars.filter((ch) => !isPythonSpace(ch.codePointAt(0))).join("");
  if (joined.length >= 2 && joined.startsWith("<") && joined.endsWith(">")) {
    joined = joined.slice(1, -1);
  }
  return joined;
}
