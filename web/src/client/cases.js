/**
 * The admins' side of moderation (docs/protocol.md §30.3, §31.3, §32): opening cases and
 * checking their decision chains. As app/client/cases.py; signing decisions is in
 * decisions.js, the key and reports in moderation.js.
 */
import { fromB64, uuid } from "../protocol/encoding.js";
import { ENTRY, Envelope, EnvelopeContext, openEnvelope, verifyCommitment } from "../protocol/entries.js";
import { equalBytes } from "../protocol/hash.js";
import { parseJson } from "../protocol/json.js";
import { normaliseName } from "../protocol/names.js";
import { blobHash, Decision, openDecisionNote } from "../protocol/decisions.js";
import { caseHash, openReport, verifyReport } from "../protocol/reports.js";
import { openTakedown } from "../protocol/takedowns.js";
import { mapped, ProtocolError } from "./errors.js";
import { checkCopy } from "./namecheck.js";
import { openOwnResponse } from "./takedown.js";

function unreadable(row, error) {
  return {
    caseId: row.case_id,
    kind: row.kind,
    entryId: row.entry_id,
    status: row.status,
    createdAt: row.created_at,
    unreadable: `${error.code}: ${error.message}`,
    decisions: [],
  };
}

export const PAGE_SIZE = 50; // cases a page holds unless asked (the server's default)
const PAGE_MAX = 200; // the most the server puts on a page

/** One page of the server's rows (§32.8), checked for shape before anything is opened. */
async function fetchPage(moderation, circleId, { status = null, kind = null, limit = PAGE_SIZE, cursor = null } = {}) {
  const page = await moderation.client.request("GET", `/v1/circles/${circleId}/moderation/cases`, {
    params: { status, kind, limit, cursor },
  });
  const ids = new Set(page.cases.map((row) => row.case_id));
  if (ids.size !== page.cases.length || page.cases.length > limit) {
    throw new ProtocolError("bad_page", "the server returned a malformed page of cases");
  }
  return page;
}

/** Every matching case's row, page after page (a bulk decision needs them all). */
export async function* allRows(moderation, circleId, { status = null, kind = null } = {}) {
  let cursor = null;
  do {
    const page = await fetchPage(moderation, circleId, { status, kind, limit: PAGE_MAX, cursor });
    yield* page.cases;
    cursor = page.next_cursor;
  } while (cursor !== null);
}

/**
 * One page of the circle's cases, newest first, each opened and verified (or listed as
 * unreadable); pass `nextCursor` back as `cursor` for the next page (null: no more). A
 * page costs the same however many cases the circle has had.
 */
export async function listCases(moderation, circleId, { status = null, kind = null, limit = PAGE_SIZE, cursor = null } = {}) {
  const { circle, state } = await moderation.ensureKey(circleId);
  const keys = await moderation.secretKeys(circle, state);
  const page = await fetchPage(moderation, circle.circleId, { status, kind, limit, cursor });
  const reads = new PageReads(moderation, circle.circleId, page.cases);
  const out = [];
  for (const row of page.cases) {
    try {
      out.push(await openCase(moderation, circle, keys, row, reads));
    } catch (error) {
      if (!(error instanceof ProtocolError)) {
        throw error;
      }
      out.push(unreadable(row, error)); // one bad case must not hide the others
    }
  }
  return { circle, cases: out, nextCursor: page.next_cursor };
}

/**
 * What the cases of one page read, read once for them all (as cases.py's _PageReads): each
 * reported entry (as the page brings it, else fetched while the cases are opened), and the
 * page's copy of the circle's warnings, synced once, for every takedown's candidates.
 */
class PageReads {
  #moderation;
  #circleId;
  #entries = new Map();
  #copy = null;

  constructor(moderation, circleId, rows) {
    this.#moderation = moderation;
    this.#circleId = circleId;
    for (const row of rows) {
      let entryId;
      try {
        entryId = uuid(row.entry_id);
      } catch {
        continue; // the case is unreadable when opened
      }
      if (row.kind !== "report" || this.#entries.has(entryId)) {
        continue;
      }
      if (row.entry !== null && typeof row.entry === "object") {
        this.#entries.set(entryId, Promise.resolve({ entry: row.entry })); // verified as a fetched one is
      } else {
        const fetched = this.#fetch(entryId);
        fetched.catch(() => {}); // met, and thrown, when its case is opened
        this.#entries.set(entryId, fetched);
      }
    }
  }

  #fetch(entryId) {
    return this.#moderation.client.request("GET", `/v1/circles/${this.#circleId}/entries/${entryId}`);
  }

  entry(entryId) {
    return this.#entries.get(entryId) ?? this.#fetch(entryId);
  }

  copy() {
    this.#copy ??= this.#moderation.entries.sync(this.#circleId);
    return this.#copy;
  }
}

async function openCase(moderation, circle, keys, row, reads) {
  const caseId = uuid(row.case_id);
  const generation = row.generation;
  const ciphertext = fromB64(row.ciphertext);
  const hashed = checkedHash(row, ciphertext);
  const key = keys.get(generation);
  if (key === undefined) {
    throw new ProtocolError("missing_key", `no moderation key ${generation} for ${caseId}`);
  }
  const out = { caseId, kind: row.kind, entryId: row.entry_id, status: row.status, createdAt: row.created_at };
  if (ciphertext.length === 0) {
    // A decided takedown request, wiped by the retention pass.
    Object.assign(out, { name: null, contact: null, text: null, wiped: true, candidates: [] });
  } else if (row.kind === "report") {
    Object.assign(out, await openCaseReport(moderation, circle, key, { caseId, generation, ciphertext, row, reads }));
  } else {
    const request = await mapped(() => openTakedown(ciphertext, {
      key,
      receiptKey: fromB64(row.receipt_key, 32),
      circleId: circle.circleId,
      caseId,
      generation,
    }));
    Object.assign(out, {
      name: request.name,
      contact: request.contact,
      text: request.text,
      candidates: await candidates(reads, request.name),
    });
  }
  out.decisions = await openDecisions(moderation, circle, keys, row, hashed);
  return out;
}

const DECIDED_STATUSES = ["dismissed", "removed", "restored"]; // no decision can follow (docs/api.md)

/**
 * The case hash decisions chain to: the ciphertext's, or for a decided takedown request the
 * retention pass wiped (docs/protocol.md §31.6), the stored one it was checked against when
 * it was whole. A server that empties an undecided case is caught here.
 */
export function checkedHash(row, ciphertext) {
  const stored = fromB64(row.case_hash, 32);
  if (ciphertext.length === 0 && row.kind === "takedown") {
    if (!DECIDED_STATUSES.includes(row.status) || row.decisions.length === 0) {
      throw new ProtocolError("case_changed", `case ${row.case_id} was wiped undecided`);
    }
    return stored;
  }
  if (!equalBytes(caseHash(ciphertext), stored)) {
    throw new ProtocolError("case_changed", `case ${row.case_id} does not match its hash`);
  }
  return stored;
}

async function openCaseReport(moderation, circle, key, { caseId, generation, ciphertext, row, reads }) {
  const entryId = uuid(row.entry_id);
  const { report, signature } = await mapped(() =>
    openReport(ciphertext, { key, circleId: circle.circleId, caseId, entryId, generation }));
  const reporter = await moderation.listedIdentity(circle, report.reporter);
  if (reporter !== null) {
    await mapped(() => verifyReport(report, signature, reporter));
  }
  // The reveal: while the warning has its envelope, open it with the circle key and require
  // the reporter's copy to be exactly its content; once wiped, only the commitment is left.
  const detail = await reads.entry(entryId);
  const entry = detail.entry;
  if (entry.entry_id !== entryId) {
    throw new ProtocolError("reveal_mismatch", "the server showed another warning for the report");
  }
  if (!verifyCommitment(report.body, report.opening, fromB64(entry.commitment, 32))) {
    throw new ProtocolError("reveal_mismatch", "the reported content does not match the warning's commitment");
  }
  let check = "commitment only: the warning was wiped";
  let author = null; // who signed the opened warning (null: anonymous, or wiped)
  if (entry.ciphertext !== null) {
    const opened = await moderation.entries.open(circle, entry); // verifies author and context
    const context = new EnvelopeContext({ kind: ENTRY, circleId: circle.circleId, epoch: entry.epoch, entryId });
    const raw = await mapped(() => openEnvelope(Envelope.fromJson(entry), { keys: circle.keys, context }));
    if (!equalBytes(raw.bodyBytes, report.body) || !equalBytes(raw.opening, report.opening)) {
      throw new ProtocolError("reveal_mismatch", "the reported content is not what the warning says");
    }
    check = `opened and signed (${opened.author ?? "anonymous"})`;
    author = opened.author ?? null;
  }
  const body = await mapped(() => parseJson(report.body));
  return {
    reporter: report.reporter,
    reporterVerified: reporter !== null,
    reason: report.reason,
    note: report.note,
    // `anonymous` is the server's word, enough to offer an unmask (which verifies the author itself).
    reported: {
      subject: body.subject ?? null,
      text: body.text ?? null,
      verified: entry.ciphertext !== null,
      check,
      author,
      anonymous: entry.anonymous === true,
    },
    entryStatus: entry.status,
  };
}

/** Warnings this page holds whose names match the name in a takedown request (any level, §25.3). */
async function candidates(reads, name) {
  if (normaliseName(name) === "") {
    return [];
  }
  const found = checkCopy(await reads.copy(), name);
  return found.matches.map((m) => ({
    entryId: m.warning.entryId,
    subject: m.warning.subject,
    text: m.warning.text,
    level: m.level,
  }));
}

export async function openDecisions(moderation, circle, keys, row, hashed) {
  const out = [];
  let prev = null;
  for (const [position, item] of row.decisions.entries()) {
    const decision = await mapped(() => Decision.parse(item.decision));
    const signer = await moderation.listedIdentity(circle, decision.signer);
    if (signer !== null) {
      await mapped(() => decision.verifySignature(fromB64(item.signature, 64), signer));
    }
    const prevOk = prev === null ? decision.prev === null : decision.prev !== null && equalBytes(decision.prev, prev);
    if (
      decision.seq !== position ||
      decision.circleId !== circle.circleId ||
      decision.caseId !== uuid(row.case_id) ||
      !prevOk ||
      !equalBytes(decision.caseHash, hashed) ||
      decision.signer !== item.signer
    ) {
      throw new ProtocolError("broken_chain", "a decision does not follow the case's chain");
    }
    const note = fromB64(item.note);
    if (!equalBytes(decision.noteHash, blobHash(note))) {
      throw new ProtocolError("case_changed", "a decision's reason was changed");
    }
    const key = keys.get(decision.generation);
    const reason = key === undefined ? null : await mapped(() => openDecisionNote(note, {
      key,
      circleId: circle.circleId,
      caseId: decision.caseId,
      generation: decision.generation,
    }));
    let response = null;
    if (item.response !== null && item.response !== undefined && row.receipt_key) {
      const blob = fromB64(item.response);
      if (decision.responseHash === null || !equalBytes(decision.responseHash, blobHash(blob))) {
        throw new ProtocolError("case_changed", "a decision's response was changed");
      }
      const caseKey = keys.get(row.generation);
      if (caseKey !== undefined) {
        response = await mapped(() => openOwnResponse(blob, {
          key: caseKey,
          receiptKey: fromB64(row.receipt_key, 32),
          circleId: circle.circleId,
          caseId: decision.caseId,
          generation: row.generation,
        }));
      }
    }
    out.push({
      seq: decision.seq,
      action: decision.action,
      entryId: decision.entryId,
      signer: decision.signer,
      signerVerified: signer !== null,
      reason,
      response,
      createdAt: item.created_at,
    });
    prev = decision.hash();
  }
  return out;
}
