"""HTTP for moderation. The service checks who may do what; the public routes need no session."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from app.circles import access
from app.crypto.proofs import SOLUTIONS
from app.deps import (
    CurrentUser,
    PublicWorkSlot,
    ReadSession,
    Session,
    SettingsDep,
    admit_anonymous,
)
from app.entries.router import entry_out
from app.errors import (
    AlreadyReported,
    AnonRateLimited,
    CaseExists,
    CaseNotFound,
    ChallengeExpired,
    ChallengeInvalid,
    DecisionConflict,
    DecisionNotAllowed,
    EntryGone,
    EntryNotFound,
    InvalidCursor,
    InvalidDecision,
    InvalidModerationKey,
    InvalidRequest,
    ModerationKeyConflict,
    ModerationKeyMissing,
    ModerationKeyStale,
    ModeratorSetMismatch,
    ProofInvalid,
    ReceiptNotFound,
    ServerBusy,
    TakedownLinkInvalid,
)
from app.moderation import intake, keys, service
from app.moderation.schemas import (
    AuthorCasesRequest,
    CaseCreated,
    CaseDecided,
    CaseOut,
    CasePage,
    CaseSummary,
    ChallengeOut,
    DecisionBatch,
    DecisionCreate,
    DecisionOut,
    ModerationKeyCreate,
    ModerationKeyOut,
    ReceiptQuery,
    ReceiptStatus,
    ReportCreate,
    TakedownCreate,
    TakedownLinkIn,
)
from app.openapi import error_responses

router = APIRouter(
    prefix="/v1/circles/{circle_id}",
    tags=["moderation"],
    responses=error_responses(
        *access.REFUSALS,
        EntryNotFound,
        EntryGone,
        CaseNotFound,
        CaseExists,
        AlreadyReported,
        ModerationKeyMissing,
        ModerationKeyStale,
        ModerationKeyConflict,
        ModeratorSetMismatch,
        InvalidModerationKey,
        InvalidDecision,
        InvalidCursor,
        DecisionConflict,
        DecisionNotAllowed,
    ),
)
public_router = APIRouter(
    prefix="/v1/takedown",
    tags=["moderation"],
    responses=error_responses(
        TakedownLinkInvalid,
        ReceiptNotFound,
        CaseExists,
        ChallengeInvalid,
        ChallengeExpired,
        ProofInvalid,
        ServerBusy,
    ),
)


def _key_out(view: keys.KeyView) -> ModerationKeyOut:
    row = view.row
    return ModerationKeyOut(
        generation=row.generation,
        public_key=row.public_key,
        record=row.record.decode("utf-8"),
        signature=row.signature,
        signer=view.signer,
        prev_key_box=row.prev_key_box,
        wrap=view.wrap,
        created_at=row.created_at,
    )


def _case_out(view: service.CaseView) -> CaseOut:
    case = view.case
    return CaseOut(
        case_id=case.id,
        kind=case.kind,
        entry_id=case.entry_id,
        status=case.status,
        generation=case.generation,
        ciphertext=case.ciphertext,
        case_hash=case.case_hash,
        receipt_key=case.receipt_key,
        created_at=case.created_at,
        updated_at=case.updated_at,
        entry=None if view.entry is None else entry_out(view.entry),
        decisions=[
            DecisionOut(
                seq=d.row.seq,
                action=d.row.action,
                entry_id=d.row.entry_id,
                decision=d.row.decision,
                signature=d.row.signature,
                signer=d.signer,
                note=d.row.note,
                response=d.row.response,
                created_at=d.row.created_at,
            )
            for d in view.decisions
        ],
    )


@router.get("/moderation/keys", response_model=list[ModerationKeyOut])
def list_keys(circle_id: uuid.UUID, session: Session, user: CurrentUser) -> list[ModerationKeyOut]:
    return [_key_out(v) for v in keys.list_keys(session, circle_id=circle_id, user=user)]


@router.post("/moderation/keys", response_model=ModerationKeyOut, status_code=201)
def create_key(
    circle_id: uuid.UUID, body: ModerationKeyCreate, session: Session, user: CurrentUser
) -> ModerationKeyOut:
    row = keys.create_key(session, circle_id=circle_id, actor=user, request=body)
    mine = next((w.wrap for w in body.wraps if w.username == user.username), None)
    return _key_out(keys.KeyView(row, user.username, mine))


@router.post("/reports", response_model=CaseCreated, status_code=201)
def file_report(
    circle_id: uuid.UUID, body: ReportCreate, session: Session, user: CurrentUser
) -> CaseCreated:
    case = service.file_report(session, circle_id=circle_id, actor=user, request=body)
    return CaseCreated(case_id=case.id, status=case.status, created_at=case.created_at)


@router.get("/moderation/cases", response_model=CasePage)
def list_cases(
    circle_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    status: Annotated[
        Literal["open", "decided", "hidden", "dismissed", "removed", "restored"] | None,
        Query(),
    ] = None,
    kind: Annotated[Literal["report", "takedown"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=service.PAGE_MAX)] = service.PAGE_DEFAULT,
    cursor: Annotated[str | None, Query()] = None,
) -> CasePage:
    """One page of cases, newest first; ``cursor`` is a previous page's ``next_cursor``."""
    page = service.list_cases(
        session,
        circle_id=circle_id,
        actor=user,
        status=status,
        kind=kind,
        limit=limit,
        cursor=cursor,
    )
    return CasePage(cases=[_case_out(v) for v in page.cases], next_cursor=page.next_cursor)


@router.get("/moderation/cases/{case_id}", response_model=CaseOut)
def get_case(
    circle_id: uuid.UUID, case_id: uuid.UUID, session: Session, user: CurrentUser
) -> CaseOut:
    return _case_out(service.get_case(session, circle_id=circle_id, case_id=case_id, actor=user))


@router.post("/moderation/cases/{case_id}/decisions", response_model=CaseOut, status_code=201)
def decide(
    circle_id: uuid.UUID,
    case_id: uuid.UUID,
    body: DecisionCreate,
    session: Session,
    user: CurrentUser,
) -> CaseOut:
    service.decide(session, circle_id=circle_id, case_id=case_id, actor=user, request=body)
    return _case_out(service.get_case(session, circle_id=circle_id, case_id=case_id, actor=user))


@router.get("/entries/{entry_id}/moderation", response_model=list[CaseSummary])
def entry_cases(
    circle_id: uuid.UUID, entry_id: uuid.UUID, session: Session, user: CurrentUser
) -> list[CaseSummary]:
    return [
        CaseSummary(
            case_id=case.id,
            kind=case.kind,
            status=case.status,
            actions=actions,
            created_at=case.created_at,
            updated_at=case.updated_at,
        )
        for case, actions in service.entry_cases(
            session, circle_id=circle_id, entry_id=entry_id, actor=user
        )
    ]


@router.post("/moderation/decisions", response_model=list[CaseDecided], status_code=201)
def decide_many(
    circle_id: uuid.UUID, body: DecisionBatch, session: Session, user: CurrentUser
) -> list[CaseDecided]:
    cases = service.decide_many(
        session,
        circle_id=circle_id,
        actor=user,
        requests=[(d.case_id, d) for d in body.decisions],
    )
    return [CaseDecided(case_id=case.id, status=case.status) for case in cases]


@public_router.post("/challenge", response_model=ChallengeOut)
def takedown_challenge(
    body: TakedownLinkIn, session: Session, settings: SettingsDep
) -> ChallengeOut:
    challenge = intake.issue_challenge(session, settings, link=body)
    return ChallengeOut(
        challenge=challenge.raw,
        work=challenge.work,
        solutions=SOLUTIONS,
        expires_at=challenge.expires_at(settings),
    )


@public_router.post("", response_model=CaseCreated, status_code=201, dependencies=[PublicWorkSlot])
def file_takedown(
    body: TakedownCreate, session: Session, reader: ReadSession, settings: SettingsDep
) -> CaseCreated:
    case = intake.file_takedown(session, settings, reader=reader, request=body)
    return CaseCreated(case_id=case.id, status=case.status, created_at=case.created_at)


@public_router.post("/status", response_model=ReceiptStatus)
def receipt_status(body: ReceiptQuery, session: Session) -> ReceiptStatus:
    case = intake.receipt_status(session, case_id=body.case_id, token=body.receipt_token)
    return ReceiptStatus(
        case_id=case.id, status=case.status, response=case.response, updated_at=case.updated_at
    )


# §38.5: the author of an anonymous warning reads its cases without a session.
anonymous_router = APIRouter(
    prefix="/v1/anon/circles/{circle_id}",
    tags=["anonymous"],
    dependencies=[Depends(admit_anonymous)],
    responses=error_responses(EntryNotFound, InvalidRequest, AnonRateLimited),
)


@anonymous_router.post("/entries/{entry_id}/moderation", response_model=list[CaseSummary])
def anonymous_entry_cases(
    circle_id: uuid.UUID, entry_id: uuid.UUID, body: AuthorCasesRequest, session: Session
) -> list[CaseSummary]:
    return [
        CaseSummary(
            case_id=case.id,
            kind=case.kind,
            status=case.status,
            actions=actions,
            created_at=case.created_at,
            updated_at=case.updated_at,
        )
        for case, actions in service.anonymous_entry_cases(
            session, circle_id=circle_id, entry_id=entry_id, at=body.at, signature=body.signature
        )
    ]
