"""HTTP for token issuance and the admins' unmask (docs/protocol.md §38). Spending a
token is in ``app.entries.router.public_router``: those requests carry no session."""

import uuid

from fastapi import APIRouter

from app.anon import service
from app.anon.schemas import (
    IssuanceCreate,
    IssuanceOut,
    IssuanceRecordOut,
    TokenAnswer,
    TokenRequest,
    UnmaskOut,
    UnmaskRequest,
)
from app.circles import access
from app.deps import CurrentUser, Session, SettingsDep
from app.errors import (
    AnonNotSetUp,
    EntryNotFound,
    InvalidBlinded,
    InvalidIssuanceRecord,
    IssuanceRecordExists,
    NotAnonymous,
    StaleEpoch,
    TokenLimit,
)
from app.openapi import error_responses

router = APIRouter(
    prefix="/v1/circles/{circle_id}/anon",
    tags=["anonymous"],
    responses=error_responses(
        *access.REFUSALS,
        AnonNotSetUp,
        InvalidIssuanceRecord,
        IssuanceRecordExists,
        StaleEpoch,
        InvalidBlinded,
        TokenLimit,
        EntryNotFound,
        NotAnonymous,
    ),
)


@router.get("/issuance", response_model=IssuanceOut)
def get_issuance(
    circle_id: uuid.UUID, session: Session, settings: SettingsDep, user: CurrentUser
) -> IssuanceOut:
    view = service.get_issuance(session, settings, circle_id=circle_id, user=user)
    record = None
    if view.record is not None and view.signer is not None:
        record = IssuanceRecordOut(
            epoch=view.record.epoch,
            record=view.record.record.decode("utf-8"),
            signature=view.record.signature,
            signer=view.signer,
            created_at=view.record.created_at,
        )
    return IssuanceOut(
        epoch=view.epoch,
        oprf_public_key=view.oprf_public_key,
        record=record,
        tokens_used=view.used,
        tokens_allowed=view.allowed,
    )


@router.post("/issuance", response_model=IssuanceRecordOut, status_code=201)
def set_issuance(
    circle_id: uuid.UUID,
    body: IssuanceCreate,
    session: Session,
    settings: SettingsDep,
    user: CurrentUser,
) -> IssuanceRecordOut:
    row = service.set_issuance(session, settings, circle_id=circle_id, actor=user, request=body)
    return IssuanceRecordOut(
        epoch=row.epoch,
        record=row.record.decode("utf-8"),
        signature=row.signature,
        signer=user.username,
        created_at=row.created_at,
    )


@router.post("/tokens", response_model=TokenAnswer)
def issue(
    circle_id: uuid.UUID,
    body: TokenRequest,
    session: Session,
    settings: SettingsDep,
    user: CurrentUser,
) -> TokenAnswer:
    elements, proof = service.issue(
        session, settings, circle_id=circle_id, actor=user, request=body
    )
    return TokenAnswer(evaluated=elements, proof=proof)


@router.post("/unmask", response_model=UnmaskOut)
def unmask(
    circle_id: uuid.UUID, body: UnmaskRequest, session: Session, user: CurrentUser
) -> UnmaskOut:
    found = service.unmask(
        session,
        circle_id=circle_id,
        entry_id=body.entry_id,
        corroboration_id=body.corroboration_id,
        actor=user,
    )
    return UnmaskOut(
        object_id=found.object_id,
        author_key=found.author_key,
        sealed_author=found.sealed_author,
        author_generation=found.generation,
    )
