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

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.tokens import keyed_hash
from app.circles import events
from app.circles.access import active_member, circle_admin
from app.circles.models import Membership
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
from app.moderation.models import ModerationKeyRow
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


def _latest_generation(session: Session, circle_id: uuid.UUID) -> ModerationKeyRow | None:
    return session.scalar(
        select(ModerationKeyRow)
        .where(ModerationKeyRow.circle_id == circle_id)
        .order_by(ModerationKeyRow.generation.desc())
        .limit(1)
    )


def _used(session: Session, circle_id: uuid.UUID, user: User) -> int:
    since = utcnow() - WINDOW
    return int(
        session.scalar(
            select(func.coalesce(func.sum(SealedEvaluation.elements), 0)).where(
                SealedEvaluation.circle_id == circle_id,
                SealedEvaluation.user_id == user.id,
                SealedEvaluation.created_at > since,
            )
        )
        or 0
    )


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
    actor: User,
    request: EvaluationCreate,
) -> tuple[list[bytes], bytes]:
    """BlindEvaluate a member's batch, within their daily allowance; one audit leaf whose
    who and when only the admins can read."""
    circle, _ = active_member(session, circle_id=circle_id, user=actor, lock=True)
    latest = _latest_settings(session, circle.id)
    if latest is None:
        raise SealedNotSetUp()
    generation = _latest_generation(session, circle.id)
    if generation is None:
        raise ModerationKeyMissing()
    key, public = oprf_key(settings, circle.id)
    pinned = SealedSettings.parse(latest.record).oprf_public_key
    if not hmac.compare_digest(public, pinned):
        raise SealedKeyUnavailable()
    try:
        blinded = [OprfElement(raw) for raw in request.blinded]
    except CryptoError as exc:
        raise InvalidBlinded() from exc
    if (
        _used(session, circle.id, actor) + len(blinded)
        > FORMS_PER_NAME * latest.evaluations_per_day
    ):
        raise EvaluationLimit()
    evaluation = VoprfServer(key).blind_evaluate(blinded)
    now = utcnow()
    # This member's rows past the retention no longer count: gone now, not at the next
    # purge pass (the index on circle, user, time finds them).
    session.execute(
        delete(SealedEvaluation).where(
            SealedEvaluation.circle_id == circle.id,
            SealedEvaluation.user_id == actor.id,
            SealedEvaluation.created_at <= now - evaluation_retention(settings),
        )
    )
    session.add(
        SealedEvaluation(
            circle_id=circle.id, user_id=actor.id, elements=len(blinded), created_at=now
        )
    )
    note = seal_evaluation_note(
        {"user": actor.username, "at": now.isoformat(), "elements": len(blinded)},
        circle_id=circle.id,
        generation=generation.generation,
        moderation_public=generation.public_key,
    )
    events.append(
        session,
        circle_id=circle.id,
        kind="sealed_evaluation",
        actor="",
        details={"generation": generation.generation, "note": b64encode(note)},
    )
    return [bytes(e) for e in evaluation.elements], bytes(evaluation.proof)


def evaluation_retention(settings: Settings) -> timedelta:
    """How long an evaluation row is kept (``sealed_evaluation_retention_seconds``, never
    less than the window it counts in): ``app.retention.purge_held`` deletes older ones, and
    each evaluation its own member's."""
    return max(WINDOW, timedelta(seconds=settings.sealed_evaluation_retention_seconds))


# --- Filings ----------------------------------------------------------------------------------


def file(
    session: Session, *, circle_id: uuid.UUID, actor: User, request: FilingCreate
) -> SealedFiling:
    """Store a member's signed filing, then open every group it completes."""
    circle, _ = active_member(session, circle_id=circle_id, user=actor, lock=True)
    latest = _latest_settings(session, circle.id)
    if latest is None:
        raise SealedNotSetUp()
    try:
        record = FilingRecord.parse(request.record.encode("utf-8"))
        record.verify_signature(request.signature, identity_of(actor))
    except CryptoError as exc:
        raise InvalidSealedFiling(str(exc)) from exc
    if record.circle_id != circle.id or record.filer != actor.username:
        raise InvalidSealedFiling("the filing names another circle or filer")
    if record.k != latest.k:
        raise SealedThresholdChanged()
    generation = _latest_generation(session, circle.id)
    if generation is None:
        raise ModerationKeyMissing()
    if record.generation != generation.generation:
        raise ModerationKeyStale()
    if session.get(SealedFiling, record.filing_id) is not None:
        raise FilingExists()
    now = utcnow()
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
    session.add(filing)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent filing with this id
        raise FilingExists() from exc
    session.add_all(
        SealedTag(filing_id=filing.id, tag=tag, circle_id=circle.id, k=record.k)
        for tag in record.tags
    )
    session.flush()
    _match(session, circle_id=circle.id, k=record.k, tags=list(record.tags), filing=filing)
    return filing


def _match(
    session: Session, *, circle_id: uuid.UUID, k: int, tags: list[bytes], filing: SealedFiling
) -> None:
    """For each of the filing's tags: join the tag's match, or open one when k distinct active
    members share the tag. Two indexed queries for all the tags together."""
    matches = {
        m.tag: m
        for m in session.scalars(
            select(SealedMatch).where(
                SealedMatch.circle_id == circle_id, SealedMatch.k == k, SealedMatch.tag.in_(tags)
            )
        )
    }
    for tag in tags:
        if tag in matches:
            # The admins already hold this name's f(0): a later filing is readable at once.
            session.add(SealedMatchFiling(match_id=matches[tag].id, filing_id=filing.id))
            filing.status = "matched"
    rest = [t for t in tags if t not in matches]
    if not rest:
        return
    # Two steps, each on an index: the tag rows first (circle, k, tag), then their filings by
    # primary key. One join lets a planner start from the filer's other filings instead (a
    # member with many filings made it grow with them).
    tagged = session.execute(
        select(SealedTag.tag, SealedTag.filing_id).where(
            SealedTag.circle_id == circle_id, SealedTag.k == k, SealedTag.tag.in_(rest)
        )
    ).all()
    counting = {
        filing_id: filer_id
        for filing_id, filer_id in session.execute(
            select(SealedFiling.id, SealedFiling.filer_id)
            .join(
                Membership,
                (Membership.circle_id == SealedFiling.circle_id)
                & (Membership.user_id == SealedFiling.filer_id),
            )
            .where(
                SealedFiling.id.in_({filing_id for _, filing_id in tagged}),
                SealedFiling.status.in_(COUNTING),
                Membership.status == "active",
            )
        )
    }
    rows = [(tag, fid, counting[fid]) for tag, fid in tagged if fid in counting]
    groups: dict[bytes, list[tuple[uuid.UUID, uuid.UUID]]] = {}
    for tag, filing_id, filer_id in rows:
        groups.setdefault(tag, []).append((filing_id, filer_id))
    now = utcnow()
    for tag, group in groups.items():
        if len({filer for _, filer in group}) < k:
            continue
        match = SealedMatch(id=uuid.uuid4(), circle_id=circle_id, k=k, tag=tag, created_at=now)
        session.add(match)
        session.flush()
        session.add_all(SealedMatchFiling(match_id=match.id, filing_id=fid) for fid, _ in group)
        ids = [fid for fid, _ in group]
        for matched in session.scalars(select(SealedFiling).where(SealedFiling.id.in_(ids))):
            matched.status, matched.updated_at = "matched", now


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
