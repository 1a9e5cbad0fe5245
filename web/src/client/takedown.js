/**
 * Takedown requests (docs/protocol.md §31): no account needed. The request is encrypted
 * here to the circle's admins; the receipt (a link holding a secret) reads its status and
 * the admins' response. As file_takedown / takedown_status in app/client/moderation.py.
 */
import { b64, fromB64 } from "../protocol/encoding.js";
import { openBox } from "../protocol/hash.js";
import {
  checkTakedownFields,
  openResponse,
  Receipt,
  responseAssociatedData,
  sealTakedown,
  TakedownLink,
  TakedownRequest,
} from "../protocol/takedowns.js";
import { mapped, ProtocolError } from "./errors.js";

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

/** Encrypt the request in this page and file it; returns the receipt (keep it). */
export async function fileTakedown(client, link, { name, contact, text }) {
  try {
    checkTakedownFields({ name, contact, text });
  } catch (error) {
    throw new ProtocolError("bad_takedown", error.message);
  }
  const receipt = Receipt.create(link);
  const request = new TakedownRequest({ circleId: link.circleId, caseId: receipt.caseId, name, contact, text });
  const sealed = sealTakedown(request, receipt);
  const result = await client.request("POST", "/v1/takedown", {
    json: {
      circle_id: link.circleId,
      case_id: receipt.caseId,
      generation: link.generation,
      moderation_key: b64(link.publicKey),
      receipt_key: b64(receipt.receiptKey),
      receipt_token: b64(receipt.token),
      ciphertext: b64(sealed),
    },
  });
  return { caseId: result.case_id, status: result.status, receipt: String(receipt) };
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
