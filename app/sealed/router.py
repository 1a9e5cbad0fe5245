"""HTTP for sealed warnings (docs/protocol.md §36.8). The service checks who may do what."""

import uuid

from fastapi import APIRouter, Request

from app.circles import access
from app.deps import CurrentCaller, CurrentUser, Session, SettingsDep, on_database
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
from app.openapi import error_responses
from app.sealed import service
from app.sealed.models import SealedFiling
from app.sealed.schemas import (
    EvaluationCreate,
    EvaluationOut,
    FilingCreate,
    FilingOut,
    MatchFilingOut,
    MatchOut,
    SettingsCreate,
    SettingsOut,
    SettingsRecordOut,
)

router = APIRouter(
    prefix="/v1/circles/{circle_id}/sealed",
    tags=["sealed"],
    responses=error_responses(
        *access.REFUSALS,
        SealedNotSetUp,
        InvalidSealedSettings,
        SealedSettingsConflict,
        SealedKeyUnavailable,
        EvaluationLimit,
        InvalidBlinded,
        InvalidSealedFiling,
        SealedThresholdChanged,
        ModerationKeyMissing,
        ModerationKeyStale,
        FilingExists,
        FilingNotFound,
        FilingClosed,
    ),
)


def _filing_out(filing: SealedFiling) -> FilingOut:
    return FilingOut(
        filing_id=filing.id,
        status=filing.status,
        k=filing.k,
        record=None if filing.record is None else filing.record.decode("utf-8"),
        signature=filing.signature,
        created_at=filing.created_at,
        updated_at=filing.updated_at,
    )


@router.get("/settings", response_model=SettingsOut)
def get_settings(
    circle_id: uuid.UUID, session: Session, settings: SettingsDep, user: CurrentUser
) -> SettingsOut:
    view = service.get_settings(session, settings, circle_id=circle_id, user=user)
    return SettingsOut(
        oprf_public_key=view.oprf_public_key,
        records=[
            SettingsRecordOut(
                seq=row.seq,
                record=row.record.decode("utf-8"),
                signature=row.signature,
                signer=signer,
                created_at=row.created_at,
            )
            for row, signer in view.records
        ],
        evaluations_used=view.used,
        evaluations_allowed=view.allowed,
    )


@router.post("/settings", response_model=SettingsRecordOut, status_code=201)
def set_settings(
    circle_id: uuid.UUID,
    body: SettingsCreate,
    session: Session,
    settings: SettingsDep,
    user: CurrentUser,
) -> SettingsRecordOut:
    row = service.set_settings(session, settings, circle_id=circle_id, actor=user, request=body)
    return SettingsRecordOut(
        seq=row.seq,
        record=body.record,
        signature=row.signature,
        signer=user.username,
        created_at=row.created_at,
    )


# The two writes of a filing read their session and rows with Core and run on the loop for
# SQLite (``on_database``), as a post does: each thread hop and ORM load was a share of the
# filing's cost (docs/benchmarks.md, "Sealed warnings").
@router.post("/evaluate", response_model=EvaluationOut)
async def evaluate(
    request: Request,
    circle_id: uuid.UUID,
    body: EvaluationCreate,
    session: Session,
    settings: SettingsDep,
    caller: CurrentCaller,
) -> EvaluationOut:
    elements, proof = await on_database(
        request,
        service.evaluate,
        session,
        settings,
        circle_id=circle_id,
        actor=caller.user,
        request=body,
    )
    return EvaluationOut(evaluated=elements, proof=proof)


@router.post("/filings", response_model=FilingOut, status_code=201)
async def file(
    request: Request,
    circle_id: uuid.UUID,
    body: FilingCreate,
    session: Session,
    caller: CurrentCaller,
) -> FilingOut:
    filing = await on_database(
        request, service.file, session, circle_id=circle_id, actor=caller.user, request=body
    )
    return _filing_out(filing)


@router.get("/filings", response_model=list[FilingOut])
def list_own(circle_id: uuid.UUID, session: Session, user: CurrentUser) -> list[FilingOut]:
    return [_filing_out(f) for f in service.list_own(session, circle_id=circle_id, user=user)]


@router.post("/filings/{filing_id}/withdraw", response_model=FilingOut)
def withdraw(
    circle_id: uuid.UUID, filing_id: uuid.UUID, session: Session, user: CurrentUser
) -> FilingOut:
    return _filing_out(
        service.withdraw(session, circle_id=circle_id, actor=user, filing_id=filing_id)
    )


@router.get("/matches", response_model=list[MatchOut])
def list_matches(circle_id: uuid.UUID, session: Session, user: CurrentUser) -> list[MatchOut]:
    return [
        MatchOut(
            match_id=view.match.id,
            k=view.match.k,
            tag=view.match.tag,
            created_at=view.match.created_at,
            filings=[
                MatchFilingOut(
                    filing_id=filing.id,
                    filer=filer,
                    record=(filing.record or b"").decode("utf-8"),
                    signature=filing.signature or b"",
                    created_at=filing.created_at,
                )
                for filing, filer in view.filings
            ],
        )
        for view in service.list_matches(session, circle_id=circle_id, user=user)
    ]
