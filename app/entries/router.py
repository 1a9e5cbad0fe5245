"""HTTP for warnings. Every route needs a session; the service checks membership."""

import json
import uuid
from binascii import b2a_base64
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.anon.schemas import AnonymousCorroborationCreate, AnonymousEntryCreate
from app.circles import access
from app.deps import (
    CurrentCaller,
    CurrentUser,
    Session,
    SettingsDep,
    admit_anonymous,
    circle_turn,
    last_step,
)
from app.entries import anonymous, corroborations, service
from app.entries.models import Corroboration
from app.entries.schemas import (
    CorroborationCreate,
    CorroborationOut,
    EntryCreate,
    EntryDetail,
    EntryOut,
    EntryPage,
    PostedOut,
    RetractRequest,
)
from app.entries.service import EntryView, FeedPage
from app.errors import (
    AlreadyCorroborated,
    AnonRateLimited,
    AnonymousNeedsToken,
    AuthorMismatch,
    BadCiphertext,
    BadEnvelope,
    BadExpiry,
    BadTerms,
    BadToken,
    CircleNotFound,
    CorroborationExists,
    EntryExists,
    EntryGone,
    EntryNotFound,
    InvalidRequest,
    ModerationKeyMissing,
    ModerationKeyStale,
    NotAuthor,
    RotationDue,
    SelfCorroboration,
    StaleEpoch,
    StaleToken,
    TokenSpent,
)
from app.hand_solved import hand_solved
from app.openapi import error_responses
from app.types import INTEGER_MAX

router = APIRouter(
    prefix="/v1/circles/{circle_id}",
    tags=["entries"],
    responses=error_responses(
        *access.REFUSALS,
        EntryNotFound,
        NotAuthor,
        AuthorMismatch,
        BadEnvelope,
        BadCiphertext,
        StaleEpoch,
        EntryExists,
        AlreadyCorroborated,
        CorroborationExists,
        EntryGone,
        SelfCorroboration,
        BadExpiry,
        BadTerms,
        AnonymousNeedsToken,
    ),
)

# §38: anonymous warnings and corroborations come with a token and no session, so the
# server never learns whose they are. Hung outside the authenticated parent.
public_router = APIRouter(
    prefix="/v1/anon/circles/{circle_id}",
    tags=["entries"],
    dependencies=[Depends(admit_anonymous)],
    responses=error_responses(
        AnonRateLimited,
        CircleNotFound,
        EntryNotFound,
        EntryGone,
        EntryExists,
        AlreadyCorroborated,
        CorroborationExists,
        SelfCorroboration,
        NotAuthor,
        BadToken,
        StaleToken,
        TokenSpent,
        StaleEpoch,
        AuthorMismatch,
        BadEnvelope,
        BadCiphertext,
        BadExpiry,
        BadTerms,
        ModerationKeyMissing,
        ModerationKeyStale,
        RotationDue,
    ),
)


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
        author_tag=e.author_tag,
        terms_signature=e.terms_signature,
        corroborations=e.corroboration_count,
        created_at=e.created_at,
        expires_at=e.expires_at,
        change_seq=e.change_seq,
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


@router.post("/entries", response_model=PostedOut, status_code=201, response_class=Response)
@hand_solved
async def post_entry(
    request: Request,
    circle_id: uuid.UUID,
    body: EntryCreate,
    session: Session,
    caller: CurrentCaller,
) -> Response:
    """Store a warning; the same entry id posted again answers the stored one.
    \f
    Written once by its model, not validated and encoded again by FastAPI (the hottest
    write; ``HandSolved`` solves its parameters). On PostgreSQL, this process's posts to the
    circle queue first (``CircleTurns``)."""
    async with circle_turn(request, circle_id):
        entry = await last_step(
            request,
            session,
            service.post_entry,
            circle_id=circle_id,
            actor=caller.user,
            request=body,
        )
    posted = PostedOut(
        entry_id=entry.id, seq=entry.seq, created_at=entry.created_at, expires_at=entry.expires_at
    )
    return Response(posted.model_dump_json(), status_code=201, media_type="application/json")


@router.get("/entries", response_model=EntryPage, response_class=Response)
@hand_solved
async def list_entries(
    request: Request,
    circle_id: uuid.UUID,
    session: Session,
    caller: CurrentCaller,
    before: Annotated[int | None, Query(ge=0, le=INTEGER_MAX)] = None,
    after: Annotated[int | None, Query(ge=0, le=INTEGER_MAX)] = None,
    changed_after: Annotated[int | None, Query(ge=0, le=INTEGER_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Response:
    """One of: newest first (``before``), oldest first above a seq (``after``), or every
    entry changed after a change number (``changed_after``); at most one of them."""
    if sum(p is not None for p in (before, after, changed_after)) > 1:
        raise InvalidRequest("give at most one of before, after and changed_after")
    page = await last_step(
        request,
        session,
        service.list_entries,
        circle_id=circle_id,
        actor=caller.user,
        before=before,
        after=after,
        changed_after=changed_after,
        limit=limit,
    )
    backwards = after is None and changed_after is None
    older = page.entries[-1][1] if backwards and len(page.entries) == limit else None
    return Response(feed_page_json(page, older), media_type="application/json")


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else b2a_base64(raw, newline=False).decode("ascii")


def feed_page_json(page: FeedPage, next_before: int | None) -> bytes:
    """The hot path: an ``EntryPage`` written straight from the page's rows with the C JSON
    encoder, byte for byte what ``EntryPage.model_dump_json()`` writes (a test holds it to
    that). The database gave the ids and times as the JSON's text (``queries.feed_page``);
    only the binary columns are encoded here."""
    body = {
        "entries": [
            {
                "entry_id": entry_id,
                "seq": seq,
                "epoch": epoch,
                "status": status,
                "anonymous": unnamed,
                "author": author,
                "author_key": _b64(author_key),
                "commitment": _b64(commitment),
                "nonce": _b64(nonce),
                "ciphertext": _b64(ciphertext),
                "signature": _b64(signature),
                "author_tag": _b64(tag),
                "terms_signature": _b64(terms),
                "corroborations": corroborations,
                "created_at": created_at,
                "expires_at": expires_at,
                "change_seq": change_seq,
            }
            for (
                entry_id,
                seq,
                epoch,
                status,
                unnamed,
                author,
                author_key,
                commitment,
                nonce,
                ciphertext,
                signature,
                tag,
                terms,
                corroborations,
                created_at,
                expires_at,
                change_seq,
            ) in page.entries
        ],
        "next_before": next_before,
        "last_seq": page.last_seq,
        "last_change_seq": page.last_change_seq,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@router.get("/entries/{entry_id}", response_model=EntryDetail)
def get_entry(
    circle_id: uuid.UUID, entry_id: uuid.UUID, session: Session, user: CurrentUser
) -> EntryDetail:
    view, items = service.get_entry(session, circle_id=circle_id, entry_id=entry_id, actor=user)
    return EntryDetail(
        entry=entry_out(view), corroborations=[corroboration_out(c, a) for c, a in items]
    )


@router.post("/entries/{entry_id}/corroborations", response_model=CorroborationOut, status_code=201)
def corroborate(
    circle_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: CorroborationCreate,
    session: Session,
    user: CurrentUser,
) -> CorroborationOut:
    item = corroborations.corroborate(
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


@public_router.post("/entries", response_model=PostedOut, status_code=201)
def post_anonymous(
    circle_id: uuid.UUID, body: AnonymousEntryCreate, session: Session, settings: SettingsDep
) -> PostedOut:
    entry = anonymous.post_anonymous(session, settings, circle_id=circle_id, request=body)
    return PostedOut(
        entry_id=entry.id, seq=entry.seq, created_at=entry.created_at, expires_at=entry.expires_at
    )


@public_router.post(
    "/entries/{entry_id}/corroborations", response_model=CorroborationOut, status_code=201
)
def corroborate_anonymous(
    circle_id: uuid.UUID,
    entry_id: uuid.UUID,
    body: AnonymousCorroborationCreate,
    session: Session,
    settings: SettingsDep,
) -> CorroborationOut:
    item = anonymous.corroborate_anonymous(
        session, settings, circle_id=circle_id, entry_id=entry_id, request=body
    )
    return corroboration_out(item, None)


@public_router.post("/entries/{entry_id}/retract", response_model=EntryOut)
def retract_anonymous(
    circle_id: uuid.UUID, entry_id: uuid.UUID, body: RetractRequest, session: Session
) -> EntryOut:
    entry = anonymous.retract_anonymous(
        session, circle_id=circle_id, entry_id=entry_id, signature=body.signature
    )
    return entry_out(EntryView(entry, None))
