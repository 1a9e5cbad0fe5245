/**
 * Signing the admins' decisions on cases (docs/protocol.md §32.3): one decision (`decide`)
 * or a dismissal of many (`dismissCases`), each extending the case's verified chain, with
 * its reason sealed to the admins. As app/client/decisions.py; opening cases and their
 * chains is in cases.js.
 */
import { b64, fromB64, uuid } from "../protocol/encoding.js";
import { equalBytes } from "../protocol/hash.js";
import { ACTIONS, blobHash, Decision, sealDecisionNote } from "../protocol/decisions.js";
import { caseHash } from "../protocol/reports.js";
import { sealResponse } from "../protocol/takedowns.js";
import { allRows, openDecisions } from "./cases.js";
import { mapped, ProtocolError } from "./errors.js";

/** Sign a decision on a case (§32.3), with its reason sealed to the admins. */
export async function decide(moderation, circleId, caseId, { action, reason, entryId = null, response = null }) {
  if (!ACTIONS.includes(action)) {
    throw new ProtocolError("bad_decision", `the action is one of ${ACTIONS.join(", ")}`);
  }
  const { circle, state } = await moderation.ensureKey(circleId);
  const keys = await moderation.secretKeys(circle, state);
  const cid = uuid(caseId);
  const row = await moderation.client.request("GET", `/v1/circles/${circle.circleId}/moderation/cases/${cid}`);
  let target;
  if (row.kind === "report") {
    if (entryId !== null && uuid(entryId) !== uuid(row.entry_id)) {
      throw new ProtocolError("bad_decision", "a report's decision acts on the reported warning");
    }
    target = action === "dismiss" ? null : row.entry_id;
  } else {
    if (action !== "dismiss" && entryId === null) {
      throw new ProtocolError("bad_decision", "choose which warning this acts on (see the candidates)");
    }
    target = entryId;
  }
  const body = await signedDecision(moderation, circle, state, keys, row, { action, reason, target, response });
  const result = await moderation.client.request("POST", `/v1/circles/${circle.circleId}/moderation/cases/${cid}/decisions`, {
    json: body,
  });
  return { caseId: cid, action, entryId: target, status: result.status };
}

/**
 * The next decision on the case `row` (its chain verified first), signed by this admin,
 * with the reason sealed to the newest moderation key (§32).
 */
async function signedDecision(moderation, circle, state, keys, row, { action, reason, target, response = null }) {
  const cid = uuid(row.case_id);
  const ciphertext = fromB64(row.ciphertext);
  if (!equalBytes(caseHash(ciphertext), fromB64(row.case_hash, 32))) {
    throw new ProtocolError("case_changed", `case ${cid} does not match its hash`);
  }
  await openDecisions(moderation, circle, keys, row, caseHash(ciphertext)); // verify the chain we extend
  const decisions = row.decisions;
  const prev = decisions.length ? (await mapped(() => Decision.parse(decisions.at(-1).decision))).hash() : null;
  let note;
  let sealedResponse = null;
  try {
    note = sealDecisionNote(reason, {
      publicKey: state.current.publicKey,
      circleId: circle.circleId,
      caseId: cid,
      generation: state.current.generation,
    });
    if (response !== null) {
      if (row.kind !== "takedown") {
        throw new ProtocolError("bad_decision", "only takedown requests get a response");
      }
      sealedResponse = sealResponse(response, {
        key: keys.get(row.generation),
        receiptKey: fromB64(row.receipt_key, 32),
        circleId: circle.circleId,
        caseId: cid,
        generation: row.generation,
      });
    }
  } catch (error) {
    throw error instanceof ProtocolError ? error : new ProtocolError("bad_decision", error.message);
  }
  const decision = new Decision({
    circleId: circle.circleId,
    caseId: cid,
    seq: decisions.length,
    action,
    entryId: target,
    caseHash: caseHash(ciphertext),
    generation: state.current.generation,
    noteHash: blobHash(note),
    responseHash: sealedResponse === null ? null : blobHash(sealedResponse),
    prev,
    signer: moderation.circles.username,
  });
  return {
    decision: decision.text,
    signature: b64(decision.sign(moderation.circles.identity)),
    note: b64(note),
    response: sealedResponse === null ? null : b64(sealedResponse),
  };
}

export const BATCH = 100; // decisions per request (the server's limit)

/**
 * Dismiss many cases at once (a flood of junk requests), each by its own signed decision
 * and audit record, as `decide` would make it; sent BATCH at a time, each batch all or
 * nothing. `progress(done)` is called after each batch.
 */
export async function dismissCases(moderation, circleId, caseIds, { reason, progress = () => {} }) {
  const ids = caseIds.map((c) => uuid(c));
  if (new Set(ids).size !== ids.length) {
    throw new ProtocolError("bad_decision", "a case is named twice");
  }
  const { circle, state } = await moderation.ensureKey(circleId);
  const keys = await moderation.secretKeys(circle, state);
  const base = `/v1/circles/${circle.circleId}/moderation`;
  const wanted = new Set(ids);
  const open = new Map();
  if (wanted.size > 1) {
    // The open cases page by page, until every one asked for is found.
    for await (const row of allRows(moderation, circle.circleId, { status: "open" })) {
      if (wanted.has(uuid(row.case_id))) {
        open.set(uuid(row.case_id), row);
        if (open.size === wanted.size) {
          break;
        }
      }
    }
  }
  const decided = [];
  for (let start = 0; start < ids.length; start += BATCH) {
    const batch = [];
    for (const caseId of ids.slice(start, start + BATCH)) {
      const row = open.get(caseId) ?? (await moderation.client.request("GET", `${base}/cases/${caseId}`));
      const body = await signedDecision(moderation, circle, state, keys, row, { action: "dismiss", reason, target: null });
      batch.push({ case_id: caseId, ...body });
    }
    const result = await moderation.client.request("POST", `${base}/decisions`, { json: { decisions: batch } });
    decided.push(...result.map((r) => ({ caseId: r.case_id, status: r.status })));
    progress(decided.length);
  }
  return decided;
}
