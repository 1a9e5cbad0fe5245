"""Request dependencies. Router signatures read as their access rule."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as OrmSession

from app import security_log
from app.accounts import service as accounts
from app.accounts.credentials import log_authentication
from app.accounts.models import AuthSession, User
from app.db import finish, is_unavailable, session_scope
from app.errors import NotAuthenticated, ServerBusy, SessionEnded
from app.settings import Settings

# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency on a
# worker thread, and each such hop costs more than the work here.


logger = logging.getLogger("backchannel")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


async def get_session(request: Request) -> AsyncIterator[OrmSession]:
    """One use case per request, all or nothing, as ``app.db.transaction``. Making the session
    does no I/O, so it happens here; finishing it (commit or roll back, then close) waits on
    the database, so it runs on a worker thread."""
    state = request.app.state
    factory = state.session_factory if request.method in _READ_METHODS else state.write_factory
    session = factory()
    try:
        yield session
    except BaseException as exc:
        await run_in_threadpool(finish, session, commit=getattr(exc, "keep_writes", False))
        raise
    await run_in_threadpool(finish, session, commit=True)


async def get_read_session(request: Request) -> AsyncIterator[OrmSession]:
    """A read-only session beside the request's own, for a use case that checks before slow
    work (Argon2) and writes after it: on SQLite the request's write session holds the
    database's write lock from its first statement, so checking there would hold it
    through the slow part."""
    session = request.app.state.session_factory()
    try:
        yield session
    finally:
        await run_in_threadpool(finish, session, commit=False)


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit (or roll back) before the response is sent, so a client never
# sees success for a write that did not land.
Session = Annotated[OrmSession, Depends(get_session, scope="function")]
ReadSession = Annotated[OrmSession, Depends(get_read_session, scope="function")]
ClientAddress = Annotated[str, Depends(client_address)]


async def bearer_token(request: Request) -> str | None:
    """The bearer token the request presents, if any (checked by ``current_session``)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


PresentedToken = Annotated[str | None, Depends(bearer_token)]


def current_session(
    request: Request, session: Session, settings: SettingsDep, token: PresentedToken
) -> AuthSession:
    """The live session behind the token; a refused token is logged (ASVS 16.3.1)."""
    try:
        if token is None:
            raise NotAuthenticated()
        record = accounts.authenticate(session, settings, token=token)
        if accounts.use_due(record):
            if request.method in _READ_METHODS:
                _record_use_apart(request, record)
            else:
                accounts.record_use(session, record)
    except NotAuthenticated as exc:
        reason = (
            "no_token"
            if token is None
            else "session_ended"
            if isinstance(exc, SessionEnded)
            else "invalid_token"
        )
        fields = security_log.request_fields(request)
        log_authentication(
            "session",
            outcome="failure",
            reason=reason,
            user=None,
            address=fields["address"],
            factor="session_token",
            method=fields["method"],
            path=fields["path"],
        )
        raise
    request.state.username = record.user.username  # who, for the security events that follow
    return record


def _record_use_apart(request: Request, record: AuthSession) -> None:
    """A read's use, in a short write transaction of its own; best effort: if the database
    cannot take the write just now, the read still answers and a later request records it."""
    try:
        with session_scope(request.app.state.write_factory) as writer:
            accounts.record_use(writer, record)
    except DBAPIError as exc:
        if not is_unavailable(exc):
            raise
        logger.warning("session use not recorded: database unavailable")


CurrentSession = Annotated[AuthSession, Depends(current_session)]


async def current_user(auth: CurrentSession) -> User:
    return auth.user  # loaded with the session (``authenticate``): no I/O here


CurrentUser = Annotated[User, Depends(current_user)]


@asynccontextmanager
async def _holding(request: Request, slots: asyncio.Semaphore) -> AsyncIterator[None]:
    settings: Settings = request.app.state.settings
    try:
        await asyncio.wait_for(slots.acquire(), timeout=settings.argon2_wait_seconds)
    except TimeoutError as exc:
        raise ServerBusy() from exc
    try:
        yield
    finally:
        slots.release()


async def argon2_slot(request: Request) -> AsyncIterator[None]:
    """Bound concurrent Argon2 work for existing accounts (logins, recovery, passphrase
    checks); waiters hold no worker thread, so other requests go on."""
    async with _holding(request, request.app.state.argon2_slots):
        yield


async def public_work_slot(request: Request) -> AsyncIterator[None]:
    """The separate, smaller lane for callers without an account (registrations, takedown
    proofs): a flood of them waits here, never in the lane logins use."""
    async with _holding(request, request.app.state.public_slots):
        yield


Argon2Slot = Depends(argon2_slot, scope="function")
PublicWorkSlot = Depends(public_work_slot, scope="function")
