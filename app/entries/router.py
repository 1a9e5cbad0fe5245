"""HTTP for warnings. Every route needs a session; the service checks membership."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.deps import CurrentUser, Session
from app.entries import service
from app.entries.models import Corroboration
from app.entries.schemas import (
    CheckRequest,
    CheckResult,
    CorroborationCreate,
    CorroborationOut,
    EntryCreate,
    EntryDetail,
    EntryOut,
    EntryPage,
    PostedOut,
    RetractRequest,
)
from app.entries.service import EntryView

router = APIRouter(prefix="/v1/circles/{circle_id}", tags=["entries"])


def entry_out(view: EntryView) -> EntryOut:
    e = view.entry
    return EntryOut(
        entry_id=e.id,
        seq=e.seq,
        epoch=e.epoch,
        status=e.status,
        anonymous=e.anonymous,
        author=view.author,
        author_key=e.author_key,
        commitment=e.commitment,
        nonce=None if view.redacted else e.nonce,
        ciphertext=None if view.redacted else e.ciphertext,
        signature=None if view.redacted else e.signature,
        corroborations=e.corroboration_count,
        created_at=e.created_at,
        expires_at=e.expires_at,
    )


def corroboration_out(item: Corroboration, author: str | None) -> CorroborationOut:
    return CorroborationOut(
        corroboration_id=item.id,
        entry_id=item.entry_id,
        epoch=item.epoch,
        anonymous=item.anonymous,
        author=author,
        author_key=item.author_key,
        commitment=item.commitment,
        nonce=item.nonce,
        ciphertext=item.ciphertext,
        signature=item.signature,
        created_at=item.created_at,
    )


@router.post("/entries", response_model=PostedOut, status_code=201)
def post_entry(
    circle_id: uuid.UUID, body: EntryCreate, session: Session, user: CurrentUser
) -> PostedOut:
    entry = service.post_entry(session, circle_id=circle_id, actor=user, request=body)
    return PostedOut(
        entry_id=entry.id, seq=entry.seq, created_at=entry.created_at, expires_at=entry.expires_at
    )


@router.get("/entries", response_model=EntryPage, response_class=Response)
def list_entries(
    circle_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    before: Annotated[int | None, Query(ge=0)] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Response:
    views, last_seq = service.list_entries(
        session, circle_id=circle_id, actor=user, before=before, after=after, limit=limit
    )
    older = views[-1].seq if after is None and len(views) == limit else None
    # The hot path: built from our own rows without re-validation, serialised once.
    page = EntryPage.model_construct(
        entries=[
            EntryOut.model_construct(
                entry_id=e.id,
                seq=e.seq,
                epoch=e.epoch,
                status=e.status,
                anonymous=e.anonymous,
                author=e.author,
                author_key=e.author_key,
                commitment=e.commitment,
                nonce=e.nonce,
                ciphertext=e.ciphertext,
                signature=e.signature,
                corroborations=e.corroboration_count,
                created_at=e.created_at,
                expires_at=e.expires_at,
            )
            for e in views
        ],
        next_before=older,
        last_seq=last_seq,
    )
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/entries/{entry_id}", response_model=EntryDetail)
def get_entry(
    circle_id: uuid.UUID, entry_id: uuid.UUID, session: Session, user: CurrentUser
) -> EntryDetail:
    view, items = service.get_entry(session, circle_id=circle_id, entry_id=entry_id, actor=user)
    return EntryDetail(
        entry=entry_out(view), corroborations=[corroboration_out(c, a) for c, a in items]
    )


@router.post("/check", response_model=CheckResult)
def check_names(
    circle_id: uuid.UUID, body: CheckRequest, session: Session, user: CurrentUser
) -> CheckResult:
    """Tokens travel in the body, not the URL, so they stay out of access logs."""
    views, distinct = service.check_names(session, circle_id=circle_id, actor=user, request=body)
    older = views[-1].entry.seq if len(views) == body.limit else None
    return CheckResult(
        entries=[entry_out(v) for v in views], next_before=older, distinct_members=distinct
    )


@router.post("/entries/{entry_id}/corroborations", response_model=CorroborationOut, status_code=201)
def corroborate(
    circle_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: CorroborationCreate,
    session: Session,
    user: CurrentUser,
) -> CorroborationOut:
    item = service.corroborate(
        session, circle_id=circle_id, entry_id=entry_id, actor=user, request=body
    )
    return corroboration_out(item, None if item.anonymous else user.username)


@router.post("/entries/{entry_id}/retract", response_model=EntryOut)
def retract(
    circle_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: RetractRequest,
    session: Session,
    user: CurrentUser,
) -> EntryOut:
    entry = service.retract(
        session, circle_id=circle_id, entry_id=entry_id, actor=user, signature=body.signature
    )
    return entry_out(EntryView(entry, None if entry.anonymous else user.username))
