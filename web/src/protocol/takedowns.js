/**
 * Takedowns (§31): the link an admin gives out, the requester's receipt, the request
 * sealed under the key the receipt key and the moderation key share, and the admins'
 * response. Nothing here needs an account.
 */
import { DecryptionFailed, InvalidKey, WrongEpoch } from "./errors.js";
import { ascii, b64url, concat, fromB64url, fromUtf8, pastedToken, uint64be, utf8, uuid, uuidBytes, uuidHex } from "./encoding.js";
import { kdf, openBox, requireSize, sealBox, sha256, x25519Public } from "./hash.js";
import { canonicalJson, hasExactFields, isHex32, parseJson, requireCanonical } from "./json.js";
import * as labels from "./labels.js";
import { sharedKey } from "./moderation.js";
import { randomBytes, randomUuid } from "./random.js";
import { codePoints, pythonStrip } from "./text.js";

export const MAX_NAME = 200;
export const MAX_CONTACT = 500;
// What the server stores of a request is at most 4 KiB for everyone (junk and genuine look
// alike); a request's canonical JSON may take all of it but the nonce and the tag.
export const MAX_SEALED = 4096;
export const MAX_REQUEST_BYTES = MAX_SEALED - 24 - 16;
export const MAX_RESPONSE = 4000;

const BASE = /^https?:\/\/[A-Za-z0-9.\-[\]:]+(?:\/[A-Za-z0-9._~\-/]*)?$/;
const LINK_FRAGMENT = /^bctakedown1\.([0-9a-f]{32})\.([0-9]{1,18})\.([A-Za-z0-9_-]{43})$/;
const RECEIPT_FRAGMENT =
  /^bcreceipt1\.([0-9a-f]{32})\.([0-9a-f]{32})\.([0-9]{1,18})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** <base>/<path>#<fragment> → [base without trailing "/", fragment] (§31.1). */
function splitUrl(text, path) {
  const trimmed = pastedToken(text);
  const marker = `/${path}#`;
  const at = trimmed.indexOf(marker);
  if (trimmed.length > 600 || at < 0) {
    throw new InvalidKey(`this is not a Backchannel ${path} link`);
  }
  const base = trimmed.slice(0, at);
  if (!BASE.test(base)) {
    throw new InvalidKey(`this is not a Backchannel ${path} link`);
  }
  return [base.replace(/\/+$/, ""), trimmed.slice(at + marker.length)];
}

/** A generation written in decimal; beyond 2^53 - 1 it cannot be a JavaScript number. */
function parseGeneration(digits) {
  const generation = Number(digits);
  if (!Number.isSafeInteger(generation)) {
    throw new InvalidKey("generation out of range");
  }
  return generation;
}

/** <base>/takedown#bctakedown1.<circle>.<generation>.<public key> (§31.1). */
export class TakedownLink {
  constructor({ baseUrl, circleId, generation, publicKey }) {
    uint64be(generation);
    Object.assign(this, {
      baseUrl,
      circleId: uuid(circleId),
      generation,
      publicKey: Uint8Array.from(requireSize(publicKey, 32, "a moderation public key")),
    });
    Object.freeze(this);
  }

  fragment() {
    const parts = [
      labels.TAKEDOWN_LINK_PREFIX,
      uuidHex(this.circleId),
      String(this.generation),
      b64url(this.publicKey),
    ];
    return parts.join(".");
  }

  toString() {
    return `${this.baseUrl}/takedown#${this.fragment()}`;
  }

  static parse(text) {
    const [baseUrl, fragment] = splitUrl(text, "takedown");
    const match = LINK_FRAGMENT.exec(fragment);
    if (match === null) {
      throw new InvalidKey("this takedown link is damaged");
    }
    const [, circle, generation, key] = match;
    const link = new TakedownLink({
      baseUrl,
      circleId: circle,
      generation: parseGeneration(generation),
      publicKey: fromB64url(key, 32, "the moderation public key"),
    });
    if (link.fragment() !== fragment) {
      throw new InvalidKey("this takedown link is damaged");
    }
    return link;
  }
}

/** receipt_token_hash = SHA-256("bcreceipt1" || 0x00 || receipt_token): what the server stores (§31.2). */
export function receiptTokenHash(token) {
  return sha256(concat(ascii(labels.RECEIPT_PREFIX), new Uint8Array(1), requireSize(token, 32, "a receipt token")));
}

/**
 * <base>/receipt#bcreceipt1.<circle>.<case>.<generation>.<public key>.<secret> (§31.2):
 * a bearer secret; its secret stays in a private field.
 */
export class Receipt {
  #secret;

  constructor({ baseUrl, circleId, caseId, generation, moderationPublic, secret }) {
    uint64be(generation);
    Object.assign(this, {
      baseUrl,
      circleId: uuid(circleId),
      caseId: uuid(caseId),
      generation,
      moderationPublic: Uint8Array.from(requireSize(moderationPublic, 32, "a moderation public key")),
    });
    this.#secret = Uint8Array.from(requireSize(secret, 32, "a receipt secret"));
    this.receiptKey = x25519Public(this.receiptSecretKey);
    Object.freeze(this);
  }

  /** A new receipt for a request to `link`: a fresh case id and secret. */
  static create(link) {
    return new Receipt({
      baseUrl: link.baseUrl,
      circleId: link.circleId,
      caseId: randomUuid(),
      generation: link.generation,
      moderationPublic: link.publicKey,
      secret: randomBytes(32),
    });
  }

  /** receipt_token = KDF(secret, "bc.v1.rcpt-token"): shown to the server to read the status. */
  get token() {
    return kdf(this.#secret, labels.PERSON_RECEIPT_TOKEN);
  }

  get tokenHash() {
    return receiptTokenHash(this.token);
  }

  /** receipt_secret_key = KDF(secret, "bc.v1.rcpt-key"), an X25519 secret. */
  get receiptSecretKey() {
    return kdf(this.#secret, labels.PERSON_RECEIPT_KEY);
  }

  /** k = shared(receipt_secret_key, moderation_public[g]): protects the request and the response. */
  sharedKey() {
    return sharedKey(this.receiptSecretKey, this.moderationPublic);
  }

  fragment() {
    return [
      labels.RECEIPT_PREFIX,
      uuidHex(this.circleId),
      uuidHex(this.caseId),
      String(this.generation),
      b64url(this.moderationPublic),
      b64url(this.#secret),
    ].join(".");
  }

  toString() {
    return `${this.baseUrl}/receipt#${this.fragment()}`;
  }

  static parse(text) {
    const [baseUrl, fragment] = splitUrl(text, "receipt");
    const match = RECEIPT_FRAGMENT.exec(fragment);
    if (match === null) {
      throw new InvalidKey("this receipt is damaged");
    }
    const [, circle, caseHex, generation, key, secret] = match;
    const receipt = new Receipt({
      baseUrl,
      circleId: circle,
      caseId: caseHex,
      generation: parseGeneration(generation),
      moderationPublic: fromB64url(key, 32, "the moderation public key"),
      secret: fromB64url(secret, 32, "the receipt secret"),
    });
    if (receipt.fragment() !== fragment) {
      throw new InvalidKey("this receipt is damaged");
    }
    return receipt;
  }
}

/** The takedown request (§31.3). */
export class TakedownRequest {
  constructor({ circleId, caseId, name, contact, text }) {
    if (typeof name !== "string" || typeof contact !== "string" || typeof text !== "string") {
      throw new InvalidKey("name, contact and text are strings");
    }
    Object.assign(this, { circleId: uuid(circleId), caseId: uuid(caseId), name, contact, text });
    this.bytes = canonicalJson(this.toJson());
    Object.freeze(this);
  }

  toJson() {
    return {
      case: uuidHex(this.caseId),
      circle: uuidHex(this.circleId),
      contact: this.contact,
      name: this.name,
      text: this.text,
      type: labels.TAKEDOWN_TYPE,
      v: 1,
    };
  }
}

const TAKEDOWN_FIELDS = ["case", "circle", "contact", "name", "text", "type", "v"];

function parseTakedown(bytes) {
  const value = parseJson(bytes);
  if (!hasExactFields(value, TAKEDOWN_FIELDS) || value.v !== 1 || value.type !== labels.TAKEDOWN_TYPE) {
    throw new InvalidKey("not a version 1 takedown request");
  }
  if (!isHex32(value.circle) || !isHex32(value.case)) {
    throw new InvalidKey("a takedown request names its circle and case");
  }
  const request = new TakedownRequest({
    circleId: value.circle,
    caseId: value.case,
    name: value.name,
    contact: value.contact,
    text: value.text,
  });
  requireCanonical(bytes, request.toJson());
  return request;
}

function notBlank(text, limit) {
  return pythonStrip(text) !== "" && codePoints(text) <= limit;
}

const NO_ID = "00000000-0000-0000-0000-000000000000";

/** The bytes a request with these fields takes (ids are fixed-length, so any will do). */
export function requestSize({ name, contact, text }) {
  return new TakedownRequest({ circleId: NO_ID, caseId: NO_ID, name, contact, text }).bytes.length;
}

/** What the writer refuses (§31.3), with what to do about it. */
export function checkTakedownFields({ name, contact, text }) {
  if (!notBlank(name, MAX_NAME)) {
    throw new InvalidKey(`a name is 1 to ${MAX_NAME} characters`);
  }
  if (codePoints(contact) > MAX_CONTACT) {
    throw new InvalidKey(`contact details are at most ${MAX_CONTACT} characters`);
  }
  if (pythonStrip(text) === "") {
    throw new InvalidKey("the request needs a text");
  }
  const over = requestSize({ name, contact, text }) - MAX_REQUEST_BYTES;
  if (over > 0) {
    throw new InvalidKey(
      `the request is ${over} bytes too long (at most ${MAX_REQUEST_BYTES} bytes with the name and contact): shorten the text`,
    );
  }
}

function caseContext(prefix, { circleId, caseId, generation }) {
  return concat(prefix, uuidBytes(circleId), uuidBytes(caseId), uint64be(generation));
}

/** "backchannel.takedown.v1\0" || circle || case || uint64_be(g) (64 bytes, §31.3). */
export function takedownAssociatedData(context) {
  return caseContext(labels.TAKEDOWN_AD_PREFIX, context);
}

/** "backchannel.takedown-response.v1\0" || circle || case || uint64_be(g) (73 bytes, §31.4). */
export function responseAssociatedData(context) {
  return caseContext(labels.TAKEDOWN_RESPONSE_AD_PREFIX, context);
}

/** nonce || AEAD(k, request bytes, ad) for the receipt's case and generation (§31.3). */
export function sealTakedown(request, receipt) {
  checkTakedownFields(request);
  if (request.circleId !== receipt.circleId || request.caseId !== receipt.caseId) {
    throw new InvalidKey("the receipt is for another request");
  }
  const ad = takedownAssociatedData(receipt);
  return sealBox(receipt.sharedKey(), request.bytes, ad, randomBytes(24));
}

/** An admin opens a case's request with the case's receipt key, generation and id (§31.3). */
export function openTakedown(sealed, { key, receiptKey, circleId, caseId, generation }) {
  const ad = takedownAssociatedData({ circleId, caseId, generation });
  const body = openBox(key.shared(receiptKey), sealed, ad, "the takedown request does not open");
  let request;
  try {
    request = parseTakedown(body);
  } catch {
    throw new DecryptionFailed("the takedown request is malformed or not in canonical form");
  }
  if (request.circleId !== uuid(circleId) || request.caseId !== uuid(caseId)) {
    throw new WrongEpoch("the takedown request belongs to another case");
  }
  return request;
}

/** The admins' answer under the same k and the case's generation (§31.4). */
export function sealResponse(text, { key, receiptKey, circleId, caseId, generation }) {
  if (typeof text !== "string" || !notBlank(text, MAX_RESPONSE)) {
    throw new InvalidKey(`a response is 1 to ${MAX_RESPONSE} characters`);
  }
  const ad = responseAssociatedData({ circleId, caseId, generation });
  return sealBox(key.shared(receiptKey), utf8(text), ad, randomBytes(24));
}

/** The requester reads the response from the receipt alone (§31.4). */
export function openResponse(sealed, receipt) {
  const raw = openBox(receipt.sharedKey(), sealed, responseAssociatedData(receipt), "the response does not open");
  try {
    return fromUtf8(raw);
  } catch {
    throw new DecryptionFailed("the response is not text");
  }
}
