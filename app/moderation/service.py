"""Moderation rules: reports, cases and decisions (moderation keys are ``keys``, the public
takedown channel is ``intake``).

The server never sees a reason, note, name or response: it checks sizes,
signatures, who may act, and that each decision follows the case's previous
one, then stores bytes and appends an audit record.
"""

import base64
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles import events
from app.circles.access import active_member, circle_admin
from app.circles.models import Circle
from app.circles.records import identity_of
from app.crypto import CryptoError
from app.crypto.anon import CASES_WINDOW_SECONDS, author_cases_message
from app.crypto.circles import ADMIN_ROLES
from app.crypto.decisions import (
    Decision,
    blob_hash,
)
from app.crypto.encoding import b64encode
from app.crypto.moderation import (
    verify_signed,
)
from app.crypto.reports import case_hash
from app.db import utcnow
from app.entries.models import Entry
from app.entries.service import EntryView, entry_views, stamp_change, wipe_entry
from app.errors import (
    AlreadyReported,
    BackchannelError,
    CaseExists,
    CaseNotFound,
    DecisionConflict,
    DecisionNotAllowed,
    EntryGone,
    EntryNotFound,
    InvalidCursor,
    InvalidDecision,
    InvalidRequest,
    ModerationKeyMissing,
    ModerationKeyStale,
)
from app.moderation.keys import latest_key
from app.moderation.models import (
    OPEN_PREDICATE,
    Case,
    DecisionRow,
    ModerationKeyRow,
)
from app.moderation.schemas import DecisionCreate, ReportCreate

OPEN_STATUSES = ("open", "hidden")
DECIDED_STATUSES = ("dismissed", "removed", "restored")  # no decision can follow


# --- Reports ----------------------------------------------------------------------------------


def _case_exists(session: Session, case_id: uuid.UUID) -> None:
    if session.get(Case, case_id) is not None:
        raise CaseExists()


def store_case(session: Session, case: Case, duplicate: BackchannelError) -> Case:
    """Fill in a new case's hash, status and times and flush it, before its audit record:
    appending an event autoflushes, so a duplicate must surface here as ``duplicate``."""
    now = utcnow()
    case.case_hash = case_hash(case.ciphertext)
    case.status, case.decision_seq, case.last_decision_hash, case.response = "open", 0, None, None
    case.created_at = case.updated_at = now
    session.add(case)
    try:
        session.flush()
    except IntegrityError as exc:
        raise duplicate from exc
    return case


def file_report(
    session: Session, *, circle_id: uuid.UUID, actor: User, request: ReportCreate
) -> Case:
    circle, _ = active_member(session, circle_id=circle_id, user=actor, lock=True)
    existing = session.get(Case, request.case_id)
    if (
        existing is not None
        and existing.kind == "report"
        and existing.circle_id == circle.id
        and existing.reporter_id == actor.id
        and existing.entry_id == request.entry_id
        and existing.ciphertext == request.ciphertext
    ):
        return existing  # the same report sent again (its answer was lost): idempotent
    entry = session.get(Entry, request.entry_id)
    if entry is None or entry.circle_id != circle.id:
        raise EntryNotFound()
    if entry.status not in ("live", "hidden"):
        raise EntryGone()
    latest = latest_key(session, circle.id)
    if latest is None:
        raise ModerationKeyMissing()
    if request.generation != latest.generation:
        raise ModerationKeyStale()
    _case_exists(session, request.case_id)
    already = session.scalar(
        select(func.count())
        .select_from(Case)
        .where(Case.entry_id == entry.id, Case.reporter_id == actor.id)
    )
    if already:
        raise AlreadyReported()
    case = store_case(
        session,
        Case(
            id=request.case_id,
            circle_id=circle.id,
            kind="report",
            entry_id=entry.id,
            reporter_id=actor.id,
            generation=request.generation,
            ciphertext=request.ciphertext,
        ),
        AlreadyReported(),  # a concurrent duplicate
    )
    # The reporter is not named in the log: members see that an entry was reported, not by whom.
    events.append(
        session,
        circle_id=circle.id,
        kind="report_filed",
        actor="",
        details={
            "case_id": case.id.hex,
            "entry_id": entry.id.hex,
            "case_hash": b64encode(case.case_hash),
        },
    )
    return case


# --- Cases and decisions (admins) -------------------------------------------------------------


@dataclass(frozen=True)
class DecisionView:
    row: DecisionRow
    signer: str


@dataclass(frozen=True)
class CaseView:
    case: Case
    decisions: list[DecisionView]
    entry: EntryView | None = None  # a report's entry, on a page of cases


def _decisions(session: Session, case_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[DecisionView]]:
    found: dict[uuid.UUID, list[DecisionView]] = {c: [] for c in case_ids}
    if not case_ids:
        return found
    rows = session.execute(
        select(DecisionRow, User.username)
        .join(User, User.id == DecisionRow.signer_id)
        .where(DecisionRow.case_id.in_(case_ids))
        .order_by(DecisionRow.case_id, DecisionRow.seq)
    ).all()
    for row, signer in rows:
        found[row.case_id].append(DecisionView(row, signer))
    return found


PAGE_DEFAULT = 50  # cases in a page unless the client asks for fewer or more
PAGE_MAX = 200  # the most a page holds (each case carries up to 160 KiB of ciphertext)
_CURSOR_BYTES = 24  # created_at in microseconds since 1970 (8, big-endian) || case id (16)
_CURSOR_CHARS = 32  # its unpadded base64url
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CasePage:
    cases: list[CaseView]
    next_cursor: str | None  # the position after the last case, when there may be more


def page_cursor(case: Case) -> str:
    """Where a page ended: the last case's (created_at, id), the order's own key. It is a
    position, not a permission: a list reads only the circle in its path, after the admin
    check, so a cursor made from another circle's case only says where to start."""
    micros = (case.created_at - _EPOCH) // timedelta(microseconds=1)
    raw = micros.to_bytes(8, "big", signed=True) + case.id.bytes
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def read_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor names; anything this server could not have written is 422
    ``invalid_cursor`` (never a 500, never a silent first page)."""
    if len(cursor) != _CURSOR_CHARS or not _CURSOR_ALPHABET.issuperset(cursor):
        raise InvalidCursor()
    raw = base64.urlsafe_b64decode(cursor + "==")
    if len(raw) != _CURSOR_BYTES:  # 32 characters of the alphabet are 24 bytes exactly
        raise InvalidCursor()
    micros = int.from_bytes(raw[:8], "big", signed=True)
    try:
        created_at = _EPOCH + timedelta(microseconds=micros)
    except OverflowError as exc:
        raise InvalidCursor() from exc
    return created_at, uuid.UUID(bytes=raw[8:])


_CURSOR_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def list_cases(
    session: Session,
    *,
    circle_id: uuid.UUID,
    actor: User,
    status: str | None,
    kind: str | None = None,
    limit: int = PAGE_DEFAULT,
    cursor: str | None = None,
) -> CasePage:
    """One page of the circle's cases, newest first by (created_at, id); ``cursor`` (a
    page's ``next_cursor``) continues after the case it names. A case filed while a client
    pages arrives above its first page, so the pages it goes on to read neither repeat nor
    skip a case. Each page is an index range scan of ``limit`` rows: its cost does not grow
    with the circle's history."""
    circle_admin(session, circle_id=circle_id, user=actor)
    position = read_cursor(cursor) if cursor is not None else None
    query = select(Case).where(Case.circle_id == circle_id)
    if kind is not None:
        query = query.where(Case.kind == kind)
    if status == "open":
        query = query.where(OPEN_PREDICATE)  # as the partial index ix_moderation_cases_open
    elif status == "decided":
        query = query.where(Case.status.in_(DECIDED_STATUSES))
    elif status is not None:
        query = query.where(Case.status == status)
    if position is not None:
        created_at, case_id = position
        # (created_at, id) < position, with a plain range on created_at an index can seek.
        query = query.where(
            Case.created_at <= created_at,
            or_(Case.created_at < created_at, Case.id < case_id),
        )
    query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit + 1)
    cases = list(session.scalars(query))
    more = len(cases) > limit
    cases = cases[:limit]
    decisions = _decisions(session, [c.id for c in cases])
    # Each report's entry comes with its case (one query for the page), so an admin's
    # client checks the reveal without a request per case (docs/api.md, Case pages).
    reported = {c.entry_id for c in cases if c.kind == "report" and c.entry_id is not None}
    entries: dict[uuid.UUID, EntryView] = {}
    if reported:
        rows = session.scalars(
            select(Entry).where(Entry.circle_id == circle_id, Entry.id.in_(reported))
        )
        entries = {v.entry.id: v for v in entry_views(session, list(rows))}
    return CasePage(
        [
            CaseView(c, decisions[c.id], None if c.entry_id is None else entries.get(c.entry_id))
            for c in cases
        ],
        page_cursor(cases[-1]) if more else None,
    )


def get_case(
    session: Session, *, circle_id: uuid.UUID, case_id: uuid.UUID, actor: User
) -> CaseView:
    circle_admin(session, circle_id=circle_id, user=actor)
    case = session.get(Case, case_id)
    if case is None or case.circle_id != circle_id:
        raise CaseNotFound()
    return CaseView(case, _decisions(session, [case.id])[case.id])


_OUTCOME = {"dismiss": "dismissed", "hide": "hidden", "remove": "removed", "restore": "restored"}


def decide(
    session: Session,
    *,
    circle_id: uuid.UUID,
    case_id: uuid.UUID,
    actor: User,
    request: DecisionCreate,
) -> tuple[Case, DecisionRow]:
    circle, _ = circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    case = session.get(Case, case_id, with_for_update=True)
    if case is None or case.circle_id != circle.id:
        raise CaseNotFound()
    try:
        decision = Decision.parse(request.decision.encode("utf-8"))
        decision.verify_signature(request.signature, identity_of(actor))
    except CryptoError as exc:
        raise InvalidDecision(str(exc)) from exc
    if (
        decision.circle_id != circle.id
        or decision.case_id != case.id
        or decision.signer != actor.username
        or not hmac.compare_digest(decision.case_hash, case.case_hash)
        or not hmac.compare_digest(decision.note_hash, blob_hash(request.note))
        or (request.response is None) != (decision.response_hash is None)
        or (
            request.response is not None
            and decision.response_hash is not None
            and not hmac.compare_digest(decision.response_hash, blob_hash(request.response))
        )
    ):
        raise InvalidDecision()
    if session.get(ModerationKeyRow, (circle.id, decision.generation)) is None:
        raise InvalidDecision("the note is sealed to a moderation key this circle does not have")
    if request.response is not None and case.kind != "takedown":
        raise InvalidDecision("only a takedown request has a requester to respond to")
    if decision.seq != case.decision_seq or (
        (decision.prev or b"") != (case.last_decision_hash or b"")
    ):
        raise DecisionConflict()
    if case.status not in OPEN_STATUSES:
        raise DecisionNotAllowed("this case is closed")
    entry = _decision_entry(session, case, decision)
    if case.status == "hidden" and decision.action != "dismiss":
        hidden = _hidden_entry(session, case)
        if hidden is not None and decision.entry_id != hidden:
            raise DecisionNotAllowed("this case hid another entry: decide on that one first")
    _apply(session, circle, case, entry, decision.action)
    now = utcnow()
    row = DecisionRow(
        case_id=case.id,
        seq=decision.seq,
        circle_id=circle.id,
        action=decision.action,
        entry_id=decision.entry_id,
        decision=request.decision,
        signature=request.signature,
        signer_id=actor.id,
        note=request.note,
        response=request.response,
        created_at=now,
    )
    session.add(row)
    case.decision_seq = decision.seq + 1
    case.last_decision_hash = decision.hash()
    case.status = _OUTCOME[decision.action]
    if request.response is not None:
        case.response = request.response
    case.updated_at = now
    events.append(
        session,
        circle_id=circle.id,
        kind="case_decided",
        actor=actor.username,
        details={
            "case_id": case.id.hex,
            "action": decision.action,
            "entry_id": None if decision.entry_id is None else decision.entry_id.hex,
            "decision": request.decision,
            "signature": b64encode(request.signature),
        },
    )
    session.flush()
    return case, row


def decide_many(
    session: Session,
    *,
    circle_id: uuid.UUID,
    actor: User,
    requests: list[tuple[uuid.UUID, DecisionCreate]],
) -> list[Case]:
    """Several decisions, all or none, each checked and logged exactly as ``decide`` does
    (a signed decision and an audit record per case); a refusal names its case."""
    if len({case_id for case_id, _ in requests}) != len(requests):
        raise InvalidDecision("a case appears twice in the batch")
    decided = []
    for case_id, request in requests:
        try:
            case, _ = decide(
                session, circle_id=circle_id, case_id=case_id, actor=actor, request=request
            )
        except BackchannelError as exc:
            raise type(exc)(f"case {case_id}: {exc.detail}") from exc
        decided.append(case)
    return decided


def _decision_entry(session: Session, case: Case, decision: Decision) -> Entry | None:
    if decision.entry_id is None:
        if decision.action != "dismiss":
            raise InvalidDecision("this action needs an entry")
        return None
    if case.kind == "report" and decision.entry_id != case.entry_id:
        raise InvalidDecision("a report's decision acts on the reported entry")
    entry = session.get(Entry, decision.entry_id, with_for_update=True)
    if entry is None or entry.circle_id != case.circle_id:
        raise EntryNotFound()
    return entry


def _apply(session: Session, circle: Circle, case: Case, entry: Entry | None, action: str) -> None:
    if action == "dismiss":
        if case.status == "hidden" and _still_hidden(session, case):
            raise DecisionNotAllowed("the entry is hidden: restore or remove it")
        return
    assert entry is not None
    if action == "hide":
        if entry.status != "live":
            raise DecisionNotAllowed("only a live entry can be hidden")
        entry.status = "hidden"
    elif action == "restore":
        if entry.status != "hidden":
            raise DecisionNotAllowed("only a hidden entry can be restored")
        entry.status = "live"
    elif action == "remove":
        if entry.status not in ("live", "hidden"):
            raise DecisionNotAllowed("the entry is already gone")
        wipe_entry(session, circle, entry, status="removed", now=utcnow())
        return
    stamp_change(circle, entry)


def _hidden_entry(session: Session, case: Case) -> uuid.UUID | None:
    """The entry this case's last ``hide`` acted on."""
    hidden: uuid.UUID | None = session.scalar(
        select(DecisionRow.entry_id)
        .where(DecisionRow.case_id == case.id, DecisionRow.action == "hide")
        .order_by(DecisionRow.seq.desc())
        .limit(1)
    )
    return hidden


def _still_hidden(session: Session, case: Case) -> bool:
    """Is the entry this case hid still hidden (not since retracted, expired or removed)?"""
    hidden = _hidden_entry(session, case)
    entry = None if hidden is None else session.get(Entry, hidden)
    return entry is not None and entry.status == "hidden"


def entry_cases(
    session: Session, *, circle_id: uuid.UUID, entry_id: uuid.UUID, actor: User
) -> list[tuple[Case, list[str]]]:
    """An entry's cases and outcomes, for its author and the admins; never who reported."""
    _, membership = active_member(session, circle_id=circle_id, user=actor)
    entry = session.get(Entry, entry_id)
    if entry is None or entry.circle_id != circle_id:
        raise EntryNotFound()
    if (entry.author_id is None or entry.author_id != actor.id) and (
        membership.role not in ADMIN_ROLES
    ):
        raise EntryNotFound()
    return cases_of(session, entry)


def anonymous_entry_cases(
    session: Session, *, circle_id: uuid.UUID, entry_id: uuid.UUID, at: int, signature: bytes
) -> list[tuple[Case, list[str]]]:
    """An anonymous warning's cases and outcomes for its author, who proves it with the
    per-entry key over a recent time instead of a session (§38.5)."""
    entry = session.get(Entry, entry_id)
    if entry is None or entry.circle_id != circle_id or not entry.anonymous:
        raise EntryNotFound()
    circle = session.get(Circle, circle_id)
    if circle is None or circle.deleted_at is not None:
        raise EntryNotFound()
    if abs(int(utcnow().timestamp()) - at) > CASES_WINDOW_SECONDS:
        raise InvalidRequest("the signed time is more than five minutes from the server's")
    try:
        verify_signed(
            entry.author_key,
            author_cases_message(circle_id, entry_id, at),
            signature,
            "author's request",
        )
    except CryptoError as exc:
        raise EntryNotFound() from exc
    return cases_of(session, entry)


def cases_of(session: Session, entry: Entry) -> list[tuple[Case, list[str]]]:
    actions: dict[uuid.UUID, list[str]] = {}
    for case_id, action in session.execute(
        select(DecisionRow.case_id, DecisionRow.action)
        .where(DecisionRow.entry_id == entry.id)
        .order_by(DecisionRow.created_at, DecisionRow.seq)
    ):
        actions.setdefault(case_id, []).append(action)
    # Reports of this entry, and takedown requests whose decisions acted on it.
    cases = session.scalars(
        select(Case)
        .where((Case.entry_id == entry.id) | Case.id.in_(list(actions)))
        .order_by(Case.created_at, Case.id)
    )
    return [(c, actions.get(c.id, [])) for c in cases]
