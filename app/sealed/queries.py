"""Core statements for the two writes of a sealed filing, the evaluation and the filing
(issue 18: a filing costs at most twice a post, whose path is Core too). No ORM objects on the
way in or out; the rules stay in ``service``. ``tests/sealed/test_queries.py`` holds these to
the ORM reads they replaced."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.circles.models import Circle, Membership
from app.moderation.models import ModerationKeyRow
from app.sealed.models import (
    SealedEvaluation,
    SealedFiling,
    SealedMatch,
    SealedMatchFiling,
    SealedSettingsRow,
    SealedTag,
)


@dataclass(slots=True, frozen=True)
class SealedState:
    """What an evaluation or a filing decides on, read in one statement under the circle
    row's lock: the newest settings record and moderation key generation (None before an
    admin made them), and the caller's evaluations since the window began."""

    record: bytes | None
    k: int | None
    evaluations_per_day: int | None
    generation: int | None
    moderation_public: bytes | None
    used: int


_CIRCLE: BindParameter[Any] = bindparam("circle_id")
_NEWEST_SEQ = (
    select(func.max(SealedSettingsRow.seq))
    .where(SealedSettingsRow.circle_id == _CIRCLE)
    .scalar_subquery()
)
_NEWEST_GENERATION = (
    select(func.max(ModerationKeyRow.generation))
    .where(ModerationKeyRow.circle_id == _CIRCLE)
    .scalar_subquery()
)
# The daily limit's count: OPRF elements this member asked for since the window began.
_USED = select(func.coalesce(func.sum(SealedEvaluation.elements), 0)).where(
    SealedEvaluation.circle_id == _CIRCLE,
    SealedEvaluation.user_id == bindparam("user_id"),
    SealedEvaluation.created_at > bindparam("since"),
)
# Each part on its primary key or index: the settings row (circle, seq), the key row
# (circle, generation), the evaluations (circle, user, created_at).
_STATE = (
    select(
        SealedSettingsRow.record,
        SealedSettingsRow.k,
        SealedSettingsRow.evaluations_per_day,
        ModerationKeyRow.generation,
        ModerationKeyRow.public_key,
        _USED.scalar_subquery(),
    )
    .select_from(Circle)
    .outerjoin(
        SealedSettingsRow,
        (SealedSettingsRow.circle_id == Circle.id) & (SealedSettingsRow.seq == _NEWEST_SEQ),
    )
    .outerjoin(
        ModerationKeyRow,
        (ModerationKeyRow.circle_id == Circle.id)
        & (ModerationKeyRow.generation == _NEWEST_GENERATION),
    )
    .where(Circle.id == _CIRCLE)
)

_EVALUATIONS: Table = SealedEvaluation.__table__  # type: ignore[assignment]
_ADD_EVALUATION = insert(_EVALUATIONS)
_DROP_EVALUATIONS = delete(_EVALUATIONS).where(
    _EVALUATIONS.c.circle_id == _CIRCLE,
    _EVALUATIONS.c.user_id == bindparam("user_id"),
    _EVALUATIONS.c.created_at <= bindparam("before"),
)

_FILINGS: Table = SealedFiling.__table__  # type: ignore[assignment]
_FILING_COLUMNS = tuple(column.key for column in _FILINGS.columns)
_ADD_FILING = insert(_FILINGS)
_ADD_TAG = insert(SealedTag)
_ADD_MATCH = insert(SealedMatch)
_ADD_MATCH_FILING = insert(SealedMatchFiling)
_SET_STATUS = (
    update(_FILINGS)
    .where(_FILINGS.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=bindparam("status"))
)
_SET_STATUS_AT = _SET_STATUS.values(updated_at=bindparam("updated_at"))

_TAGS: BindParameter[Any] = bindparam("tags", expanding=True)
_MATCHES_OF_TAGS = select(SealedMatch.tag, SealedMatch.id).where(
    SealedMatch.circle_id == _CIRCLE, SealedMatch.k == bindparam("k"), SealedMatch.tag.in_(_TAGS)
)
_TAGGED = select(SealedTag.tag, SealedTag.filing_id).where(
    SealedTag.circle_id == _CIRCLE, SealedTag.k == bindparam("k"), SealedTag.tag.in_(_TAGS)
)
_COUNTING = (
    select(SealedFiling.id, SealedFiling.filer_id)
    .join(
        Membership,
        (Membership.circle_id == SealedFiling.circle_id)
        & (Membership.user_id == SealedFiling.filer_id),
    )
    .where(
        SealedFiling.id.in_(bindparam("ids", expanding=True)),
        SealedFiling.status.in_(bindparam("statuses", expanding=True)),
        Membership.status == "active",
    )
)


def state(
    session: Session, *, circle_id: uuid.UUID, user_id: uuid.UUID, since: datetime
) -> SealedState:
    """The settings, moderation key and evaluation count an evaluation or filing needs."""
    row = (
        session.connection()
        .execute(_STATE, {"circle_id": circle_id, "user_id": user_id, "since": since})
        .one()
    )
    record, k, per_day, generation, public, used = row
    return SealedState(record, k, per_day, generation, public, int(used or 0))


def used(session: Session, *, circle_id: uuid.UUID, user_id: uuid.UUID, since: datetime) -> int:
    """The member's evaluated elements since ``since`` (what ``state`` counts)."""
    found = session.connection().execute(
        _USED, {"circle_id": circle_id, "user_id": user_id, "since": since}
    )
    return int(found.scalar_one() or 0)


def record_evaluation(
    session: Session,
    *,
    circle_id: uuid.UUID,
    user_id: uuid.UUID,
    elements: int,
    now: datetime,
    retained_after: datetime,
) -> None:
    """Store this evaluation and delete the member's rows older than the retention."""
    conn = session.connection()
    conn.execute(
        _DROP_EVALUATIONS, {"circle_id": circle_id, "user_id": user_id, "before": retained_after}
    )
    conn.execute(
        _ADD_EVALUATION,
        {"circle_id": circle_id, "user_id": user_id, "elements": elements, "created_at": now},
    )


def insert_filing(session: Session, filing: SealedFiling, tags: Iterable[bytes]) -> None:
    """Insert a transient ``SealedFiling`` (never added to the session) and its tag rows."""
    conn = session.connection()
    conn.execute(_ADD_FILING, {key: getattr(filing, key) for key in _FILING_COLUMNS})
    conn.execute(
        _ADD_TAG,
        [
            {"filing_id": filing.id, "tag": tag, "circle_id": filing.circle_id, "k": filing.k}
            for tag in tags
        ],
    )


def matches_of(
    session: Session, *, circle_id: uuid.UUID, k: int, tags: list[bytes]
) -> dict[bytes, uuid.UUID]:
    """The matches already open for these tags: ``{tag: match id}``."""
    rows = session.connection().execute(
        _MATCHES_OF_TAGS, {"circle_id": circle_id, "k": k, "tags": tags}
    )
    return {tag: match_id for tag, match_id in rows}


def tagged(
    session: Session, *, circle_id: uuid.UUID, k: int, tags: list[bytes]
) -> list[tuple[bytes, uuid.UUID]]:
    """The filings under these tags (any status): ``(tag, filing id)``."""
    rows = session.connection().execute(_TAGGED, {"circle_id": circle_id, "k": k, "tags": tags})
    return [(tag, filing_id) for tag, filing_id in rows]


def counting_filers(
    session: Session, filing_ids: set[uuid.UUID], statuses: tuple[str, ...]
) -> dict[uuid.UUID, uuid.UUID]:
    """Of these filings, those in ``statuses`` whose filer is an active member: ``{filing:
    filer}``."""
    if not filing_ids:
        return {}
    rows = session.connection().execute(
        _COUNTING, {"ids": list(filing_ids), "statuses": list(statuses)}
    )
    return {filing_id: filer_id for filing_id, filer_id in rows}


def add_match(
    session: Session,
    *,
    match_id: uuid.UUID,
    circle_id: uuid.UUID,
    k: int,
    tag: bytes,
    created_at: datetime,
) -> None:
    session.connection().execute(
        _ADD_MATCH,
        {"id": match_id, "circle_id": circle_id, "k": k, "tag": tag, "created_at": created_at},
    )


def add_match_filings(
    session: Session, match_id: uuid.UUID, filing_ids: Iterable[uuid.UUID]
) -> None:
    session.connection().execute(
        _ADD_MATCH_FILING, [{"match_id": match_id, "filing_id": fid} for fid in filing_ids]
    )


def set_status(
    session: Session, filing_ids: list[uuid.UUID], status: str, *, at: datetime | None = None
) -> None:
    """Set these filings' status (and ``updated_at`` when ``at`` is given)."""
    params: dict[str, Any] = {"ids": filing_ids, "status": status}
    if at is None:
        session.connection().execute(_SET_STATUS, params)
    else:
        session.connection().execute(_SET_STATUS_AT, {**params, "updated_at": at})
