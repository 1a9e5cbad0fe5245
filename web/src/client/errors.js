/**
 * Errors raised by the browser SDK, the same tree and codes as app/client/errors.py.
 *
 * ClientError
 * ├── ApiError           the server answered with an error; `code` is its stable code
 * ├── TransportError     the server could not be reached
 * ├── ProtocolError      the server's answer failed a cryptographic check (possible attack)
 * ├── AuditFailure       a circle's audit log does not verify (audit.js)
 * └── WeakPassphrase     the chosen passphrase is too short or too long
 *     ├── CommonPassphrase              it is on the bundled list of common passphrases
 *     └── PassphraseContainsUsername    it contains the username
 */
import {
  BadProof,
  BadSignature,
  CryptoError,
  DecryptionFailed,
  RecordChainBroken,
  UntrustedSigner,
  WrongEpoch,
} from "../protocol/errors.js";
import { NotEnoughFilers, NotEnoughShares } from "../protocol/sealedfilings.js";

export class ClientError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }

  get name() {
    return this.constructor.name;
  }
}

export class ApiError extends ClientError {
  constructor(status, code, message, retryAfter = null) {
    super(code, message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export class TransportError extends ClientError {
  constructor(message) {
    super("server_unreachable", message);
  }
}

/** The log does not verify; `code` says how (changed_record, forked, …), the message names the record. */
export class AuditFailure extends ClientError {}

/** Raised with a specific `code` when the server's data does not verify. */
export class ProtocolError extends ClientError {}

export class WeakPassphrase extends ClientError {
  constructor(message, code = "weak_passphrase") {
    super(code, message);
  }
}

export class CommonPassphrase extends WeakPassphrase {
  constructor(message) {
    super(message, "common_passphrase");
  }
}

export class PassphraseContainsUsername extends WeakPassphrase {
  constructor(message) {
    super(message, "passphrase_contains_username");
  }
}

const CODES = [
  [NotEnoughFilers, "not_enough_filers"], // before UntrustedSigner, its base
  [NotEnoughShares, "not_enough_shares"], // before DecryptionFailed, its base
  [BadSignature, "bad_signature"],
  [BadProof, "bad_proof"],
  [UntrustedSigner, "untrusted_signer"],
  [WrongEpoch, "wrong_epoch"],
  [RecordChainBroken, "broken_chain"],
  [DecryptionFailed, "decryption_failed"],
];

/** A protocol library error as the ProtocolError of docs/protocol.md §17; others pass through. */
export function protocolError(error) {
  if (!(error instanceof CryptoError)) {
    return error;
  }
  const found = CODES.find(([kind]) => error instanceof kind);
  return new ProtocolError(found ? found[1] : "invalid_data", error.message);
}

/** Run `fn`; a CryptoError it throws becomes the matching ProtocolError. */
export async function mapped(fn) {
  try {
    return await fn();
  } catch (error) {
    throw protocolError(error);
  }
}
