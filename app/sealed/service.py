"""Sealed-warning rules (docs/protocol.md §36): settings, evaluations, filings and matches.

The server holds the circle's VOPRF key, counts evaluations, stores signed filings and
groups them by tag. It never sees a name or a point, so it cannot open a filing; what it
decides is *when* to show a group to the admins, and their clients check that decision
(``app.crypto.sealed_filings.open_match``). Every mutation locks the circle row first
(``access``), so the member set, k and the match state read in one use case are stable.
"""

import functools
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.queries import Account
from app.accounts.tokens import keyed_hash
from app.circles import events
from app.circles.access import active_member, active_member_locked, circle_admin
from app.circles.records import identity_of
from app.crypto import CryptoError, labels
from app.crypto.encoding import b64encode
from app.crypto.sealed import (
    FORMS_PER_NAME,
    SealedSettings,
    check_settings_successor,
    seal_evaluation_note,
)
from app.crypto.sealed_filings import SealedFiling as FilingRecord
from app.crypto.voprf import OprfElement, OprfKey, OprfMode, VoprfServer
from app.db import utcnow
from app.errors import (
    EvaluationLimit,
    FilingClosed,
    FilingExists,
    FilingNotFound,
    InvalidBlinded,
    InvalidSealedFiling,
    InvalidSealedSettings,
    ModerationKeyMissing,
    ModerationKeyStale,
    SealedKeyUnavailable,
    SealedNotSetUp,
    SealedSettingsConflict,
    SealedThresholdChanged,
)
from app.sealed import queries
from app.sealed.models import (
    SealedEvaluation,
    SealedFiling,
    SealedMatch,
    SealedMatchFiling,
    SealedSettingsRow,
    SealedTag,
)
from app.sealed.schemas import EvaluationCreate, FilingCreate, SettingsCreate
from app.settings import Settings

WINDOW = timedelta(hours=24)
COUNTING = ("open", "matched")  # statuses whose tags still count towards a match


def oprf_key(settings: Settings, circle_id: uuid.UUID) -> tuple[OprfKey, bytes]:
    """The circle's VOPRF key and its public half, derived (RFC 9497 DeriveKeyPair) from the
    server's secret key: nothing to store, the same in every worker. The settings record
    pins the public half."""
    return _derived(settings.server_key, circle_id)


@functools.lru_cache(maxsize=1024)
def _derived(server_key: bytes, circle_id: uuid.UUID) -> tuple[OprfKey, bytes]:
    seed = keyed_hash(server_key, labels.PERSON_SEAL_OPRF_KEY, b"")
    key = OprfKey.derive(seed, circle_id.bytes, mode=OprfMode.VOPRF)
    return key, bytes(key.public_key)


def _latest_settings(session: Session, circle_id: uuid.UUID) -> SealedSettingsRow | None:
    return session.scalar(
        select(SealedSettingsRow)
        .where(SealedSettingsRow.circle_id == circle_id)
        .order_by(SealedSettingsRow.seq.desc())
        .limit(1)
    )


def _used(session: Session, circle_id: uuid.UUID, user: User | Account) -> int:
    return queries.used(session, circle_id=circle_id, user_id=user.id, since=utcnow() - WINDOW)


# --- Settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsView:
    oprf_public_key: bytes
    records: list[tuple[SealedSettingsRow, str]]
    used: int
    allowed: int


def get_settings(
    session: Session, settings: Settings, *, circle_id: uuid.UUID, user: User
) -> SettingsView:
    circle, _ = active_member(session, circle_id=circle_id, user=user)
    rows = session.execute(
        select(SealedSettingsRow, User.username)
        .join(User, User.id == SealedSettingsRow.signer_id)
        .where(SealedSettingsRow.circle_id == circle.id)
        .order_by(SealedSettingsRow.seq)
    ).all()
    allowed = FORMS_PER_NAME * rows[-1][0].evaluations_per_day if rows else 0
    return SettingsView(
        oprf_key(settings, circle.id)[1],
        [(row, name) for row, name in rows],
        _used(session, circle.id, user),
        allowed,
    )


def set_settings(
    session: Session,
    settings: Settings,
    *,
    circle_id: uuid.UUID,
    actor: User,
    request: SettingsCreate,
) -> SealedSettingsRow:
    """Accept the next admin-signed settings record; an audit leaf carries it whole."""
    circle, _ = circle_admin(session, circle_id=circle_id, user=actor, lock=True)
    latest = _latest_settings(session, circle.id)
    try:
        record = SealedSettings.parse(request.record.encode("utf-8"))
        record.verify_signature(request.signature, identity_of(actor))
    except CryptoError as exc:
        raise InvalidSealedSettings(str(exc)) from exc
    expected = 0 if latest is None else latest.seq + 1
    if record.seq != expected:
        raise SealedSettingsConflict()
    try:
        previous = None if latest is None else SealedSettings.parse(latest.record)
        check_settings_successor(previous, record)
    except CryptoError as exc:
        raise InvalidSealedSettings(str(exc)) from exc
    server_key = oprf_key(settings, circle.id)[1]
    if (
        record.circle_id != circle.id
        or record.signer != actor.username
        or not hmac.compare_digest(record.oprf_public_key, server_key)
    ):
        raise InvalidSealedSettings("the record names another circle, signer or VOPRF key")
    row = SealedSettingsRow(
        circle_id=circle.id,
        seq=record.seq,
        record=request.record.encode("utf-8"),
        signature=request.signature,
        signer_id=actor.id,
        k=record.k,
        evaluations_per_day=record.evaluations_per_day,
        created_at=utcnow(),
    )
    session.add(row)
    events.append(
        session,
        circle_id=circle.id,
        kind="sealed_settings_changed",
        actor=actor.username,
        details={
            "seq": record.seq,
            "k": record.k,
            "evaluations_per_day": record.evaluations_per_day,
            "record": request.record,
            "signature": b64encode(request.signature),
        },
    )
    session.flush()
    return row


# --- Evaluations ------------------------------------------------------------------------------


def evaluate(
    session: Session,
    settings: Settings,
    *,
    circle_id: uuid.UUID,
    actor: User | Account,
    request: EvaluationCreate,
) -> tuple[list[bytes], bytes]:
    """BlindEvaluate a member's batch, within their daily allowance; one audit leaf whose
    who and when only the admins can read."""
    circle = active_member_locked(session, circle_id=circle_id, user=actor)
    now = utcnow()
    found = queries.state(session, circle_id=circle.id, user_id=actor.id, since=now - WINDOW)
    if found.record is None or found.evaluations_per_day is None:
        raise SealedNotSetUp()
    if found.generation is None or found.moderation_public is None:
        raise ModerationKeyMissing()
    key, public = oprf_key(settings, circle.id)
    pinned = SealedSettings.parse(found.record).oprf_public_key
    if not hmac.compare_digest(public, pinned):
        raise SealedKeyUnavailable()
    try:
        blinded = [OprfElement(raw) for raw in request.blinded]
    except CryptoError as exc:
        raise InvalidBlinded() from exc
    if found.used + len(blinded) > FORMS_PER_NAME * found.evaluations_per_day:
        raise EvaluationLimit()
    evaluation = VoprfServer(key).blind_evaluate(blinded)
    # This member's rows past the retention no longer count: gone now, not at the next
    # purge pass (the index on circle, user, time finds them).
    queries.record_evaluation(
        session,
        circle_id=circle.id,
        user_id=actor.id,
        elements=len(blinded),
        now=now,
        retained_after=now - evaluation_retention(settings),
    )
    note = seal_evaluation_note(
        {"user": actor.username, "at": now.isoformat(), "elements": len(blinded)},
        circle_id=circle.id,
        generation=found.generation,
        moderation_public=found.moderation_public,
    )
    events.append(
        session,
        circle_id=circle.id,
        kind="sealed_evaluation",
        actor="",
        details={"generation": found.generation, "note": b64encode(note)},
    )
    return [bytes(e) for e in evaluation.elements], bytes(evaluation.proof)


def evaluation_retention(settings: Settings) -> timedelta:
    """How long an evaluation row is kept (``sealed_evaluation_retention_seconds``, never
    less than the window it counts in): ``app.retention.purge_held`` deletes older ones, and
    each evaluation its own member's."""
    return max(WINDOW, timedelta(seconds=settings.sealed_evaluation_retention_seconds))


# --- Filings ----------------------------------------------------------------------------------


def file(
    session: Session, *, circle_id: uuid.UUID, actor: User | Account, request: FilingCreate
) -> SealedFiling:
    """Store a member's signed filing, then open every group it completes. The filing
    returned is not in the session: its rows are written with Core (``queries``)."""
    circle = active_member_locked(session, circle_id=circle_id, user=actor)
    now = utcnow()
    found = queries.state(session, circle_id=circle.id, user_id=actor.id, since=now - WINDOW)
    if found.k is None:
        raise SealedNotSetUp()
    try:
        record = FilingRecord.parse(request.record.encode("utf-8"))
        record.verify_signature(request.signature, identity_of(actor))
    except CryptoError as exc:
        raise InvalidSealedFiling(str(exc)) from exc
    if record.circle_id != circle.id or record.filer != actor.username:
        raise InvalidSealedFiling("the filing names another circle or filer")
    if record.k != found.k:
        raise SealedThresholdChanged()
    if found.generation is None:
        raise ModerationKeyMissing()
    if record.generation != found.generation:
        raise ModerationKeyStale()
    filing = SealedFiling(
        id=record.filing_id,
        circle_id=circle.id,
        filer_id=actor.id,
        k=record.k,
        generation=record.generation,
        record=request.record.encode("utf-8"),
        signature=request.signature,
        status="open",
        created_at=now,
        updated_at=now,
    )
    try:
        queries.insert_filing(session, filing, record.tags)
    except IntegrityError as exc:  # the id is taken (its primary key): nothing is written
        raise FilingExists() from exc
    filing.status = _match(
        session, circle_id=circle.id, k=record.k, tags=list(record.tags), filing_id=filing.id
    )
    return filing


def _match(
    session: Session, *, circle_id: uuid.UUID, k: int, tags: list[bytes], filing_id: uuid.UUID
) -> str:
    """For each of the filing's tags: join the tag's match, or open one when k distinct active
    members share the tag. Returns the filing's status: matched if it joined or opened one."""
    status = "open"
    matches = queries.matches_of(session, circle_id=circle_id, k=k, tags=tags)
    for tag in tags:
        if tag in matches:
            # The admins already hold this name's f(0): a later filing is readable at once.
            queries.add_match_filings(session, matches[tag], [filing_id])
            status = "matched"
    if status == "matched":
        queries.set_status(session, [filing_id], status)
    rest = [t for t in tags if t not in matches]
    if not rest:
        return status
    # Two steps, each on an index: the tag rows first (circle, k, tag), then their filings by
    # primary key. One join lets a planner start from the filer's other filings instead (a
    # member with many filings made it grow with them).
    tagged = queries.tagged(session, circle_id=circle_id, k=k, tags=rest)
    counting = queries.counting_filers(session, {fid for _, fid in tagged}, COUNTING)
    groups: dict[bytes, list[tuple[uuid.UUID, uuid.UUID]]] = {}
    for tag, fid in tagged:
        if fid in counting:
            groups.setdefault(tag, []).append((fid, counting[fid]))
    now = utcnow()
    for tag, group in groups.items():
        if len({filer for _, filer in group}) < k:
            continue
        match_id = uuid.uuid4()
        queries.add_match(
            session, match_id=match_id, circle_id=circle_id, k=k, tag=tag, created_at=now
        )
        ids = [fid for fid, _ in group]
        queries.add_match_filings(session, match_id, ids)
        queries.set_status(session, ids, "matched", at=now)
        status = "matched"
    return status


def list_own(session: Session, *, circle_id: uuid.UUID, user: User) -> list[SealedFiling]:
    circle, _ = active_member(session, circle_id=circle_id, user=user)
    return list(
        session.scalars(
            select(SealedFiling)
            .where(SealedFiling.circle_id == circle.id, SealedFiling.filer_id == user.id)
            .order_by(SealedFiling.created_at)
        )
    )


def withdraw(
    session: Session, *, circle_id: uuid.UUID, actor: User, filing_id: uuid.UUID
) -> SealedFiling:
    """Withdraw an open filing: its record and tags are deleted; it can no longer match."""
    circle, _ = active_member(session, circle_id=circle_id, user=actor, lock=True)
    filing = session.get(SealedFiling, filing_id)
    if filing is None or filing.circle_id != circle.id or filing.filer_id != actor.id:
        raise FilingNotFound()
    if filing.status != "open":
        raise FilingClosed()
    _wipe(session, filing, "withdrawn")
    return filing


def _wipe(session: Session, filing: SealedFiling, status: str) -> None:
    session.execute(delete(SealedTag).where(SealedTag.filing_id == filing.id))
    filing.record = filing.signature = None
    filing.status, filing.updated_at = status, utcnow()


def void_departed(session: Session, *, circle_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """A member who leaves or is removed: their open filings stop counting and are deleted
    (matched ones stay with the admins, who have already been able to read them)."""
    for filing in session.scalars(
        select(SealedFiling).where(
            SealedFiling.circle_id == circle_id,
            SealedFiling.filer_id == user_id,
            SealedFiling.status == "open",
        )
    ):
        _wipe(session, filing, "void")


def delete_circle_content(session: Session, *, circle_id: uuid.UUID) -> None:
    """A deleted circle's sealed warnings go with its other content (app.circles.deletion)."""
    matches = select(SealedMatch.id).where(SealedMatch.circle_id == circle_id)
    session.execute(delete(SealedMatchFiling).where(SealedMatchFiling.match_id.in_(matches)))
    for model in (SealedTag, SealedMatch, SealedFiling, SealedEvaluation, SealedSettingsRow):
        session.execute(delete(model).where(model.circle_id == circle_id))


# --- Matches (admins) -------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchView:
    match: SealedMatch
    filings: list[tuple[SealedFiling, str]]


def list_matches(session: Session, *, circle_id: uuid.UUID, user: User) -> list[MatchView]:
    circle, _ = circle_admin(session, circle_id=circle_id, user=user)
    matches = list(
        session.scalars(
            select(SealedMatch)
            .where(SealedMatch.circle_id == circle.id)
            .order_by(SealedMatch.created_at)
        )
    )
    found: dict[uuid.UUID, list[tuple[SealedFiling, str]]] = {m.id: [] for m in matches}
    if matches:
        rows = session.execute(
            select(SealedMatchFiling.match_id, SealedFiling, User.username)
            .join(SealedFiling, SealedFiling.id == SealedMatchFiling.filing_id)
            .join(User, User.id == SealedFiling.filer_id)
            .where(SealedMatchFiling.match_id.in_(list(found)))
            .order_by(SealedFiling.created_at)
        ).all()
        for match_id, filing, name in rows:
            if filing.record is not None:
                found[match_id].append((filing, name))
    return [MatchView(m, found[m.id]) for m in matches]
