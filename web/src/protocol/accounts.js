/**
 * Accounts (§2, §3, §6): usernames, the passphrase, Argon2id parameters and the
 * account keys, and the recovery code.
 *
 * The KDF bounds are constants of this module: no setting, server answer or test
 * switch changes them in a real client (§3.2).
 */
import { sodium } from "./sodium.js";
import { InvalidKey, WeakKdfParameters } from "./errors.js";
import { utf8 } from "./encoding.js";
import { kdf, requireSize } from "./hash.js";
import * as labels from "./labels.js";
import { randomBytes } from "./random.js";
import { casefold, pythonStrip } from "./text.js";

export const MIN_OPSLIMIT = 3;
export const MAX_OPSLIMIT = 32;
export const MIN_MEMLIMIT = 64 * 1024 * 1024;
export const MAX_MEMLIMIT = 1024 * 1024 * 1024;
export const SALT_BYTES = 16;

const CANONICAL_USERNAME = /^[a-z0-9][a-z0-9_.-]{1,31}$/;

/** The canonical form of a typed username (§2), or InvalidKey. */
export function normaliseUsername(value) {
  if (typeof value !== "string") {
    throw new InvalidKey("a username is a string");
  }
  if (CANONICAL_USERNAME.test(value)) {
    return value;
  }
  const name = pythonStrip(casefold(value.normalize("NFKC")));
  if (!CANONICAL_USERNAME.test(name)) {
    throw new InvalidKey("usernames are 2-32 characters: a-z, 0-9, '_', '.', '-'");
  }
  return name;
}

/** passphrase_bytes = UTF-8(NFKC(passphrase)) (§3.1): no trimming, no case change. */
export function passphraseBytes(passphrase) {
  if (typeof passphrase !== "string") {
    throw new InvalidKey("a passphrase is a string");
  }
  return utf8(passphrase.normalize("NFKC"));
}

/** WeakKdfParameters unless the announced parameters are within the bounds of §3.2. */
export function checkKdfParams({ algorithm, opslimit, memlimit }) {
  if (algorithm !== labels.KDF_ALGORITHM) {
    throw new WeakKdfParameters(`unsupported KDF algorithm ${String(algorithm)}`);
  }
  if (!Number.isSafeInteger(opslimit) || opslimit < MIN_OPSLIMIT || opslimit > MAX_OPSLIMIT) {
    throw new WeakKdfParameters(`Argon2id opslimit ${String(opslimit)} outside the allowed range`);
  }
  if (!Number.isSafeInteger(memlimit) || memlimit < MIN_MEMLIMIT || memlimit > MAX_MEMLIMIT) {
    throw new WeakKdfParameters(`Argon2id memlimit ${String(memlimit)} outside the allowed range`);
  }
}

/** root_key = Argon2id(passphrase_bytes, salt, t, m) (§3.3), after checking the parameters. */
export function deriveRootKey(passphrase, salt, params) {
  checkKdfParams(params);
  requireSize(salt, SALT_BYTES, "a salt");
  try {
    return sodium.crypto_pwhash(
      32,
      passphraseBytes(passphrase),
      salt,
      params.opslimit,
      params.memlimit,
      sodium.crypto_pwhash_ALG_ARGON2ID13,
    );
  } catch (error) {
    if (error instanceof InvalidKey) {
      throw error;
    }
    throw new WeakKdfParameters("Argon2id could not run with these parameters");
  }
}

/** auth_key (sent to the server) and wrap_key (never leaves the client) from the root key. */
export function accountKeys(rootKey) {
  requireSize(rootKey, 32, "a root key");
  return Object.freeze({
    authKey: kdf(rootKey, labels.PERSON_AUTH_KEY),
    wrapKey: kdf(rootKey, labels.PERSON_WRAP_KEY),
  });
}

/** The account keys a passphrase yields under the announced salt and parameters. */
export function accountKeysFromPassphrase(passphrase, salt, params) {
  return accountKeys(deriveRootKey(passphrase, salt, params));
}

/** A fresh 16-byte salt for new credentials. */
export function newSalt() {
  return randomBytes(SALT_BYTES);
}

const RECOVERY_CODE_BYTES = 20;
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CROCKFORD_ALIASES = { O: "0", I: "1", L: "1" };

/** A one-time recovery code (§6): 20 random bytes, written as Crockford base32. */
export class RecoveryCode {
  #raw;

  constructor(raw) {
    this.#raw = Uint8Array.from(requireSize(raw, RECOVERY_CODE_BYTES, "a recovery code"));
  }

  static generate() {
    return new RecoveryCode(randomBytes(RECOVERY_CODE_BYTES));
  }

  /** What a user typed: any case, spaces, tabs or dashes, O for 0 and I or L for 1. */
  static parse(text) {
    if (typeof text !== "string" || text.length > 80 || !/^[\x00-\x7f]*$/.test(text)) {
      throw new InvalidKey("a recovery code is 32 characters");
    }
    const chars = [...text.toUpperCase()].filter((ch) => !" \t\r\n-".includes(ch)).map((ch) => CROCKFORD_ALIASES[ch] ?? ch);
    if (chars.length !== 32 || chars.some((ch) => !CROCKFORD.includes(ch))) {
      throw new InvalidKey("a recovery code is 32 characters of 0-9 and A-Z");
    }
    let value = 0n;
    for (const ch of chars) {
      value = (value << 5n) | BigInt(CROCKFORD.indexOf(ch));
    }
    const raw = new Uint8Array(RECOVERY_CODE_BYTES);
    for (let i = RECOVERY_CODE_BYTES - 1; i >= 0; i--) {
      raw[i] = Number(value & 0xffn);
      value >>= 8n;
    }
    return new RecoveryCode(raw);
  }

  /** The text form: 32 digits in groups of 4 joined by "-", e.g. 04HM-ASW9-…-0080. */
  toString() {
    let value = 0n;
    for (const byte of this.#raw) {
      value = (value << 8n) | BigInt(byte);
    }
    let digits = "";
    for (let i = 31; i >= 0; i--) {
      digits += CROCKFORD[Number((value >> BigInt(5 * i)) & 31n)];
    }
    return digits.match(/.{4}/g).join("-");
  }

  /** Opens the "recovery" key bundle. */
  get bundleKey() {
    return kdf(this.#raw, labels.PERSON_RECOVERY_KEY);
  }

  /** Sent to the server, which stores an Argon2id hash of it. */
  get authKey() {
    return kdf(this.#raw, labels.PERSON_RECOVERY_AUTH);
  }
}
