/**
 * Takedown requests (docs/protocol.md §31): no account needed. The request is encrypted
 * here to the circle's admins and paid for with a proof of work on the server's challenge
 * (§31.7); the receipt (a link holding a secret) reads its status and the admins' response.
 * As file_takedown / takedown_status in app/client/takedown.py.
 */
import { b64, fromB64 } from "../protocol/encoding.js";
import { openBox } from "../protocol/hash.js";
import { checkWork, proofSeed, SOLUTIONS, solveProof } from "../protocol/proofs.js";
import { caseHash } from "../protocol/reports.js";
import {
  checkTakedownFields,
  openResponse,
  Receipt,
  responseAssociatedData,
  sealTakedown,
  TakedownLink,
  TakedownRequest,
} from "../protocol/takedowns.js";
import { ApiError, mapped, ProtocolError } from "./errors.js";

// For the page: what a request may hold and how many solutions a proof has.
export { SOLUTIONS } from "../protocol/proofs.js";
export { MAX_REQUEST_BYTES, requestSize } from "../protocol/takedowns.js";

/** An admin reads the response they (or another admin) sent, with the case's key (§31.4). */
export function openOwnResponse(sealed, { key, receiptKey, circleId, caseId, generation }) {
  const ad = responseAssociatedData({ circleId, caseId, generation });
  return new TextDecoder("utf-8", { fatal: true }).decode(
    openBox(key.shared(receiptKey), sealed, ad, "the response does not open"),
  );
}

/** The link a page was opened with; its server must be this page's (the CSP allows no other). */
function sameServer(parsed, origin) {
  if (parsed.baseUrl !== origin) {
    throw new ProtocolError("other_server", `this link is for ${parsed.baseUrl}; open it there`);
  }
}

export function parseTakedownLink(text, origin) {
  let link;
  try {
    link = TakedownLink.parse(text);
  } catch (error) {
    throw new ProtocolError("bad_link", error.message);
  }
  sameServer(link, origin);
  return link;
}

export function parseReceipt(text, origin) {
  let receipt;
  try {
    receipt = Receipt.parse(text);
  } catch (error) {
    throw new ProtocolError("bad_receipt", error.message);
  }
  sameServer(receipt, origin);
  return receipt;
}

// A challenge can expire while it is solved (the circle got busier): solve a fresh one.
export const ATTEMPTS = 3;

/**
 * Encrypt the request in this page, do the proof of work the server asks for (§31.7), and
 * file both; returns the receipt (keep it). `progress({ stage, work, evaluations, found })`
 * reports the work as it goes; `signal` (an AbortSignal) stops it.
 */
export async function fileTakedown(client, link, { name, contact, text }, { progress = () => {}, signal = null } = {}) {
  try {
    checkTakedownFields({ name, contact, text });
  } catch (error) {
    throw new ProtocolError("bad_takedown", error.message);
  }
  const receipt = Receipt.create(link);
  const request = new TakedownRequest({ circleId: link.circleId, caseId: receipt.caseId, name, contact, text });
  const sealed = sealTakedown(request, receipt);
  const named = { circle_id: link.circleId, generation: link.generation, moderation_key: b64(link.publicKey) };
  const body = {
    ...named,
    case_id: receipt.caseId,
    receipt_key: b64(receipt.receiptKey),
    receipt_token: b64(receipt.token),
    ciphertext: b64(sealed),
  };
  for (let attempt = 1; ; attempt += 1) {
    progress({ stage: "challenge" });
    const challenge = await client.request("POST", "/v1/takedown/challenge", { json: named });
    const proof = await prove(challenge, receipt, sealed, { progress, signal });
    try {
      progress({ stage: "sending" });
      const result = await client.request("POST", "/v1/takedown", { json: { ...body, proof } });
      return { caseId: result.case_id, status: result.status, receipt: String(receipt) };
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "challenge_expired" || attempt === ATTEMPTS) {
        throw error;
      }
    }
  }
}

/** Solve a challenge for this request; refuse one no client should work on. */
async function prove(challenge, receipt, sealed, { progress, signal }) {
  let seed;
  try {
    if (challenge.solutions !== SOLUTIONS) {
      throw new Error(`a proof has ${SOLUTIONS} solutions`);
    }
    checkWork(challenge.work);
    seed = proofSeed(fromB64(challenge.challenge), receipt.caseId, caseHash(sealed));
  } catch (error) {
    throw new ProtocolError("bad_challenge", `the server's challenge is unusable: ${error.message}`);
  }
  const work = challenge.work;
  const nonces = await solveProof(seed, work, {
    signal,
    progress: ({ evaluations, found }) => progress({ stage: "working", work, evaluations, found }),
  });
  return { challenge: challenge.challenge, nonces };
}

/** The status of a request and, once the admins answered, their response, opened here. */
export async function takedownStatus(client, receipt) {
  const result = await client.request("POST", "/v1/takedown/status", {
    json: { case_id: receipt.caseId, receipt_token: b64(receipt.token) },
  });
  let response = null;
  if (result.response !== null && result.response !== undefined) {
    response = await mapped(() => openResponse(fromB64(result.response), receipt));
  }
  return { caseId: receipt.caseId, status: result.status, response, updatedAt: result.updated_at };
}
