"""Request dependencies. Router signatures read as their access rule."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session as OrmSession

from app.accounts import service as accounts
from app.accounts.models import AuthSession, User
from app.db import transaction
from app.errors import NotAuthenticated, ServerBusy
from app.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_session(request: Request) -> Iterator[OrmSession]:
    state = request.app.state
    factory = state.session_factory if request.method in _READ_METHODS else state.write_factory
    yield from transaction(factory)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit (or roll back) before the response is sent, so a client never
# sees success for a write that did not land.
Session = Annotated[OrmSession, Depends(get_session, scope="function")]
ClientAddress = Annotated[str, Depends(client_address)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated()
    return token.strip()


def current_session(
    session: Session, settings: SettingsDep, token: Annotated[str, Depends(bearer_token)]
) -> AuthSession:
    return accounts.authenticate(session, settings, token=token)


CurrentSession = Annotated[AuthSession, Depends(current_session)]


def current_user(auth: CurrentSession) -> User:
    return auth.user


CurrentUser = Annotated[User, Depends(current_user)]


async def argon2_slot(request: Request) -> AsyncIterator[None]:
    """Bound concurrent Argon2 work; waiters hold no worker thread, so other requests go on."""
    slots: asyncio.Semaphore = request.app.state.argon2_slots
    settings: Settings = request.app.state.settings
    try:
        await asyncio.wait_for(slots.acquire(), timeout=settings.argon2_wait_seconds)
    except TimeoutError as exc:
        raise ServerBusy() from exc
    try:
        yield
    finally:
        slots.release()


Argon2Slot = Depends(argon2_slot, scope="function")
