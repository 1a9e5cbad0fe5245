"""The admins' side of moderation for the SDK (docs/protocol.md §30.3, §31.3, §32): opening
cases and checking their decision chains. As web/src/client/cases.js; signing decisions is
in ``decisions``, the reveal an operator checks in ``reveal``, the key and reports in
``moderation``.

Everything the server returns is verified before it is shown: reports against the
reporter's key and the warning's commitment, decisions against the deciding admin's key
and the case's chain.
"""

import hmac
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from app.client.cache import CircleCopy
from app.client.circles import VerifiedCircle, _protocol
from app.client.entries import _envelope
from app.client.errors import ProtocolError
from app.client.moderation import Moderation
from app.client.namecheck import check_copy
from app.crypto import CryptoError, b64decode
from app.crypto.circles import load_json
from app.crypto.decisions import (
    Decision,
    blob_hash,
    open_decision_note,
)
from app.crypto.entries import ENTRY, EnvelopeContext, open_envelope, verify_commitment
from app.crypto.moderation import ModerationKey
from app.crypto.names import normalise_name
from app.crypto.reports import case_hash, open_report, verify_report
from app.crypto.takedowns import open_own_response, open_takedown

__all__ = ["CasePage", "case_rows", "cases_page", "list_cases", "open_case", "open_decisions"]


PAGE_SIZE = 50  # cases a page holds unless asked (the server's default; at most 200)
FETCHES = 4  # reported entries a page fetches at once
PAGE_MAX = 200  # cases per page at most (the server's limit)


@dataclass(frozen=True)
class CasePage:
    """One page of cases, newest first, each opened and verified (or marked unreadable);
    ``next_cursor`` is passed back as ``cursor`` for the next page (None: no more)."""

    cases: list[dict[str, Any]]
    next_cursor: str | None


def cases_page(
    moderation: Moderation,
    circle_id: uuid.UUID,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = PAGE_SIZE,
    cursor: str | None = None,
) -> CasePage:
    """One page of the circle's cases (docs/protocol.md §32.8): a constant cost however
    many cases the circle has had."""
    circle, state = moderation.ensure_key(circle_id)
    keys = moderation.secret_keys(circle, state)
    page = _fetch_page(moderation, circle_id, status=status, kind=kind, limit=limit, cursor=cursor)
    out = []
    with ThreadPoolExecutor(max_workers=FETCHES) as pool:
        reads = _PageReads(moderation, circle_id, page["cases"], pool)
        for row in page["cases"]:
            out.append(_opened_or_unreadable(moderation, circle, keys, row, reads))
    return CasePage(out, page["next_cursor"])


class _PageReads:
    """What the cases of one page read, read once for them all: each reported entry (as the
    page brings it, else fetched ``FETCHES`` at a time while the cases are opened) and the
    device's copy of the circle's warnings, synced once, for every takedown's candidates."""

    def __init__(
        self,
        moderation: Moderation,
        circle_id: uuid.UUID,
        rows: list[dict[str, Any]],
        pool: ThreadPoolExecutor | None = None,
    ) -> None:
        self._moderation = moderation
        self._circle_id = circle_id
        self._copy: CircleCopy | None = None
        self._entries: dict[str, Future[dict[str, Any]]] = {}
        if pool is not None:
            for row in rows:
                try:
                    entry_id = str(uuid.UUID(str(row.get("entry_id"))))
                except ValueError:
                    continue  # the case is unreadable when opened
                if row.get("kind") != "report" or entry_id in self._entries:
                    continue
                given: Future[dict[str, Any]] = Future()
                if isinstance(row.get("entry"), dict):  # verified as a fetched one is
                    given.set_result({"entry": row["entry"]})
                    self._entries[entry_id] = given
                else:
                    self._entries[entry_id] = pool.submit(self._fetch, entry_id)

    def _fetch(self, entry_id: str) -> dict[str, Any]:
        detail: dict[str, Any] = self._moderation.client.request(
            "GET", f"/v1/circles/{self._circle_id}/entries/{entry_id}"
        )
        return detail

    def entry(self, entry_id: uuid.UUID) -> dict[str, Any]:
        fetched = self._entries.get(str(entry_id))
        return self._fetch(str(entry_id)) if fetched is None else fetched.result()

    def copy(self) -> CircleCopy:
        if self._copy is None:
            self._copy = self._moderation.entries.sync(self._circle_id)
        return self._copy


def _opened_or_unreadable(
    moderation: Moderation,
    circle: VerifiedCircle,
    keys: dict[int, ModerationKey],
    row: dict[str, Any],
    reads: _PageReads,
) -> dict[str, Any]:
    try:
        return _open_case(moderation, circle, keys, row, reads)
    except ProtocolError as exc:  # one bad case must not hide the others
        return {
            "case_id": row.get("case_id"),
            "kind": row.get("kind"),
            "entry_id": row.get("entry_id"),
            "status": row.get("status"),
            "created_at": row.get("created_at"),
            "unreadable": f"{exc.code}: {exc.message}",
            "decisions": [],
        }


def _fetch_page(
    moderation: Moderation,
    circle_id: uuid.UUID,
    *,
    status: str | None,
    kind: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    for name, value in (("status", status), ("kind", kind), ("cursor", cursor)):
        if value is not None:
            params[name] = value
    page: dict[str, Any] = moderation.client.request(
        "GET", f"/v1/circles/{circle_id}/moderation/cases", params=params
    )
    seen = {str(row["case_id"]) for row in page["cases"]}
    if len(seen) != len(page["cases"]) or len(page["cases"]) > limit:
        raise ProtocolError("bad_page", "the server returned a malformed page of cases")
    return page


def case_rows(
    moderation: Moderation, circle_id: uuid.UUID, *, status: str | None, kind: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every matching case's row, page after page (a bulk decision needs them all)."""
    cursor: str | None = None
    while True:
        page = _fetch_page(
            moderation, circle_id, status=status, kind=kind, limit=PAGE_MAX, cursor=cursor
        )
        yield from page["cases"]
        cursor = page["next_cursor"]
        if cursor is None:
            return


def list_cases(
    moderation: Moderation,
    circle_id: uuid.UUID,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = PAGE_SIZE,
) -> list[dict[str, Any]]:
    """The newest ``limit`` cases (one page; ``cases_page`` goes on from there)."""
    return cases_page(moderation, circle_id, status=status, kind=kind, limit=limit).cases


def _open_case(
    moderation: Moderation,
    circle: VerifiedCircle,
    keys: dict[int, ModerationKey],
    row: dict[str, Any],
    reads: _PageReads,
) -> dict[str, Any]:
    case_id = uuid.UUID(row["case_id"])
    generation = int(row["generation"])
    ciphertext = b64decode(row["ciphertext"])
    hashed = _checked_hash(row, ciphertext)
    key = keys.get(generation)
    if key is None:
        raise ProtocolError("missing_key", f"no moderation key {generation} for {case_id}")
    out: dict[str, Any] = {
        "case_id": str(case_id),
        "kind": row["kind"],
        "entry_id": row["entry_id"],
        "status": row["status"],
        "created_at": row["created_at"],
    }
    if not ciphertext:  # a decided takedown request, wiped by the retention pass
        out.update({"name": None, "contact": None, "text": None, "wiped": True, "candidates": []})
        out["decisions"] = open_decisions(moderation, circle, keys, row, hashed)
        return out
    try:
        if row["kind"] == "report":
            out.update(
                _open_report(moderation, circle, key, case_id, generation, ciphertext, row, reads)
            )
        else:
            request = open_takedown(
                ciphertext,
                key=key,
                receipt_public=b64decode(row["receipt_key"]),
                circle_id=circle.circle_id,
                case_id=case_id,
                generation=generation,
            )
            out.update(
                {
                    "name": request.name,
                    "contact": request.contact,
                    "text": request.text,
                    "candidates": _candidates(reads, request.name),
                }
            )
    except CryptoError as exc:
        raise _protocol(exc) from exc
    out["decisions"] = open_decisions(moderation, circle, keys, row, hashed)
    return out


# A case in these statuses takes no more decisions (docs/api.md, Moderation statuses).
DECIDED_STATUSES = ("dismissed", "removed", "restored")


def _checked_hash(row: dict[str, Any], ciphertext: bytes) -> bytes:
    """The case hash decisions chain to: the ciphertext's, or for a decided takedown request
    the retention pass wiped (docs/protocol.md §31.6), the stored one it was checked against
    when it was whole. A server that empties an undecided case is caught here."""
    stored = b64decode(row["case_hash"])
    if not ciphertext and row["kind"] == "takedown":
        if row["status"] not in DECIDED_STATUSES or not row["decisions"]:
            raise ProtocolError("case_changed", f"case {row['case_id']} was wiped undecided")
        return stored
    if not hmac.compare_digest(case_hash(ciphertext), stored):
        raise ProtocolError("case_changed", f"case {row['case_id']} does not match its hash")
    return stored


def _open_report(
    moderation: Moderation,
    circle: VerifiedCircle,
    key: ModerationKey,
    case_id: uuid.UUID,
    generation: int,
    ciphertext: bytes,
    row: dict[str, Any],
    reads: _PageReads,
) -> dict[str, Any]:
    entry_id = uuid.UUID(row["entry_id"])
    report, signature = open_report(
        ciphertext,
        key=key,
        circle_id=circle.circle_id,
        case_id=case_id,
        entry_id=entry_id,
        generation=generation,
    )
    reporter = moderation.listed_identity(circle, report.reporter)
    if reporter is not None:
        verify_report(report, signature, reporter)
    # The reveal. While the entry has its envelope, open it with the circle key (the
    # server cannot make one) and require the reporter's copy to be exactly its content;
    # once wiped, only the stored commitment is left to compare with.
    detail = reads.entry(entry_id)
    row_entry = detail["entry"]
    if row_entry.get("entry_id") != str(entry_id):
        raise ProtocolError("reveal_mismatch", "the server showed another entry for the report")
    commitment = b64decode(row_entry["commitment"])
    if not verify_commitment(report.body, report.opening, commitment):
        raise ProtocolError(
            "reveal_mismatch", "the reported content does not match the entry's commitment"
        )
    check = "commitment only: the entry was wiped"
    if row_entry.get("ciphertext") is not None:
        opened = moderation.entries.open(circle, row_entry)  # verifies author and context
        context = EnvelopeContext(ENTRY, circle.circle_id, int(row_entry["epoch"]), entry_id)
        try:
            raw = open_envelope(_envelope(row_entry), keys=circle.keys, context=context)
        except CryptoError as exc:
            raise _protocol(exc) from exc
        if raw.body_bytes != report.body or raw.opening != report.opening:
            raise ProtocolError(
                "reveal_mismatch", "the reported content is not what the entry says"
            )
        check = f"opened and signed ({opened.author or 'anonymous'})"
    body = load_json(report.body)
    return {
        "reporter": report.reporter,
        "reporter_verified": reporter is not None,
        "reason": report.reason,
        "note": report.note,
        "reported_content": {
            "subject": body.get("subject"),
            "text": body.get("text"),
            "verified": row_entry.get("ciphertext") is not None,
            "check": check,
            # The server's word, enough to offer an unmask (which verifies the author itself).
            "anonymous": bool(row_entry.get("anonymous")),
        },
        "entry_status": detail["entry"]["status"],
    }


def _candidates(reads: _PageReads, name: str) -> list[dict[str, Any]]:
    """Live warnings this device holds whose names match the requested name, matched here at
    any level (exact first; each says its level)."""
    if not normalise_name(name):
        return []
    found = check_copy(reads.copy(), name)
    return [
        {
            "entry_id": m.warning["entry_id"],
            "subject": m.warning["subject"],
            "text": m.warning["text"],
            "level": m.level,
        }
        for m in found.matches
    ]


def open_decisions(
    moderation: Moderation,
    circle: VerifiedCircle,
    keys: dict[int, ModerationKey],
    row: dict[str, Any],
    hashed: bytes,
) -> list[dict[str, Any]]:
    out = []
    prev: bytes | None = None
    for position, item in enumerate(row["decisions"]):
        try:
            decision = Decision.parse(item["decision"].encode())
            signer = moderation.listed_identity(circle, decision.signer)
            if signer is not None:
                decision.verify_signature(b64decode(item["signature"]), signer)
        except CryptoError as exc:
            raise _protocol(exc) from exc
        if (
            decision.seq != position
            or decision.circle_id != circle.circle_id
            or str(decision.case_id) != row["case_id"]
            or (decision.prev or b"") != (prev or b"")
            or not hmac.compare_digest(decision.case_hash, hashed)
            or decision.signer != item["signer"]
        ):
            raise ProtocolError("broken_chain", "a decision does not follow the case's chain")
        note = b64decode(item["note"])
        if not hmac.compare_digest(decision.note_hash, blob_hash(note)):
            raise ProtocolError("case_changed", "a decision's reason was changed")
        key = keys.get(decision.generation)
        reason = None
        if key is not None:
            try:
                reason = open_decision_note(
                    note,
                    key=key,
                    circle_id=circle.circle_id,
                    case_id=decision.case_id,
                    generation=decision.generation,
                )
            except CryptoError as exc:
                raise _protocol(exc) from exc
        response = None
        if item.get("response") is not None and row.get("receipt_key"):
            blob = b64decode(item["response"])
            if decision.response_hash is None or not hmac.compare_digest(
                decision.response_hash, blob_hash(blob)
            ):
                raise ProtocolError("case_changed", "a decision's response was changed")
            case_key = keys.get(int(row["generation"]))
            if case_key is not None:
                response = open_own_response(
                    blob,
                    key=case_key,
                    receipt_public=b64decode(row["receipt_key"]),
                    circle_id=circle.circle_id,
                    case_id=decision.case_id,
                    generation=int(row["generation"]),
                )
        out.append(
            {
                "seq": decision.seq,
                "action": decision.action,
                "entry_id": None if decision.entry_id is None else str(decision.entry_id),
                "signer": decision.signer,
                "signer_verified": signer is not None,
                "reason": reason,
                "response": response,
                "created_at": item["created_at"],
            }
        )
        prev = decision.hash()
    return out


def open_case(
    moderation: Moderation,
    circle: VerifiedCircle,
    keys: dict[int, ModerationKey],
    row: dict[str, Any],
) -> dict[str, Any]:
    """One case's row opened and verified as a page opens it (the reporter, the reveal, the
    decision chain); raises if it does not verify."""
    return _open_case(
        moderation, circle, keys, row, _PageReads(moderation, circle.circle_id, [row])
    )
