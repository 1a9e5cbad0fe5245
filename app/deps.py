"""Request dependencies. Router signatures read as their access rule."""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from anyio import CancelScope
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import joinedload, sessionmaker

from app import security_log
from app.accounts import service as accounts
from app.accounts.credentials import log_authentication
from app.accounts.models import AuthSession, User
from app.accounts.queries import SignedIn
from app.db import UnitSession, finish, is_busy, is_unavailable, session_scope
from app.errors import NotAuthenticated, ServerBusy, SessionEnded
from app.settings import Settings

# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency on a
# worker thread, and each such hop costs more than the work here.


logger = logging.getLogger("backchannel")
T = TypeVar("T")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


READ_METHODS = {"GET", "HEAD", "OPTIONS"}


async def on_database(request: Request, call: Callable[..., T], /, *args: Any, **kw: Any) -> T:
    """Run one step of the request's use case where it cannot stall other requests: on the
    event loop for SQLite (in WAL mode a read never waits for a lock, and a write's lock was
    taken off the loop when it began: ``take_write_turn``), on a worker thread for
    PostgreSQL (a statement can wait on a row lock or the network)."""
    if request.app.state.queries_on_loop:
        return call(*args, **kw)
    return await run_in_threadpool(call, *args, **kw)


async def take_write_turn(request: Request, session: OrmSession) -> None:
    """SQLite allows one writer at a time. Writers queue for it here (``app.write_turn``):
    this process's on the loop, so a waiting writer holds no worker thread and sleeps in no
    busy handler, and the server's other processes' on a lock file, waited for on a worker
    thread and woken when it is given back. The transaction then begins (``BEGIN
    IMMEDIATE``) on the loop when SQLite's lock is free, and otherwise (a writer that is not
    the server, such as the CLI, holds it) on a worker thread, so the loop never waits for
    another process. ``get_session`` gives the turn back once the use case has committed or
    rolled back."""
    try:
        await request.app.state.write_turn.acquire()
    except TimeoutError as exc:  # another worker held it as long as SQLite's busy timeout
        raise ServerBusy() from exc
    request.state.holds_write_turn = True
    assert isinstance(session, UnitSession)
    if not _begin_at_once(session):
        await run_in_threadpool(session.unit_connection)


def _begin_at_once(session: UnitSession) -> bool:
    """Begin the write transaction on the loop if the lock is free this instant (no other
    process holds it: the common case, and no thread hop); False if it is not, and nothing
    began, so the caller waits for it off the loop."""
    try:
        session.begin_now(no_wait=True)
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        return False
    return True


@asynccontextmanager
async def request_session(
    request: Request, factory: sessionmaker[OrmSession] | None = None
) -> AsyncIterator[OrmSession]:
    """One use case per request, all or nothing, as ``app.db.transaction``: a session of
    ``factory``, by default the one for the request's method. Making the session does no
    I/O, so it happens here; finishing it (commit or roll back, then close) is a database
    step (``on_database``)."""
    state = request.app.state
    if factory is None:
        reads = request.method in READ_METHODS
        factory = state.session_factory if reads else state.write_factory
    session = factory()
    try:
        try:
            yield session
        except BaseException as exc:
            with CancelScope(shield=True):  # as FastAPI ends a dependency: not cut short
                await _finish(request, session, commit=getattr(exc, "keep_writes", False))
            raise
        with CancelScope(shield=True):
            await _finish(request, session, commit=True)
    finally:
        if getattr(request.state, "holds_write_turn", False):
            request.state.holds_write_turn = False
            state.write_turn.release()


async def get_session(request: Request) -> AsyncIterator[OrmSession]:
    """The request's session (``request_session``) as a dependency."""
    async with request_session(request) as session:
        yield session


async def _finish(request: Request, session: OrmSession, *, commit: bool) -> None:
    """Commit or roll back, then close; a database step only if a transaction is open (a
    route whose last step committed already, ``last_step``, needs no second step)."""
    if session.in_transaction():
        await on_database(request, finish, session, commit=commit)
    else:
        session.close()  # no transaction, no connection: no I/O


async def last_step(
    request: Request, session: OrmSession, call: Callable[..., T], /, *args: Any, **kw: Any
) -> T:
    """The use case's last database step, committed within it: for a route that does nothing
    with the database after ``call``. On PostgreSQL each step is a thread hop, so this saves
    one per request; on SQLite it changes nothing. A failure (of ``call`` or of the commit)
    rolls back as any other (``get_session``)."""
    return await on_database(request, _then_commit, session, call, *args, **kw)


@asynccontextmanager
async def circle_turn(request: Request, circle_id: uuid.UUID) -> AsyncIterator[None]:
    """Hold this process's turn to write to the circle (PostgreSQL: ``CircleTurns``) until
    the block ends; on SQLite the process's write turn, taken with the session check,
    already orders every write. Waited for too long: ``503 server_busy``."""
    turns = request.app.state.circle_turns
    if turns is None:
        yield
        return
    try:
        await turns.acquire(circle_id)
    except TimeoutError as exc:
        raise ServerBusy() from exc
    try:
        yield
    finally:
        turns.release(circle_id)


def _then_commit(session: OrmSession, call: Callable[..., T], /, *args: Any, **kw: Any) -> T:
    result = call(session, *args, **kw)
    session.commit()
    return result


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


async def admit_anonymous(request: Request, circle_id: uuid.UUID, address: ClientAddress) -> None:
    """The limit on requests without a session, per circle and address (app/anon/throttle.py)."""
    request.app.state.anon_throttle.admit(circle_id, address)


async def bearer_token(request: Request) -> str | None:
    """The bearer token the request presents, if any (checked by ``current_caller``)."""
    return _bearer(request)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


PresentedToken = Annotated[str | None, Depends(bearer_token)]


async def current_caller(request: Request, session: Session) -> SignedIn:
    """The live session behind the token, with its account, read on every request (no cache:
    a logout or an ended session holds on the next request in every worker); a refused token
    is logged (ASVS 16.3.1). Every authenticated route depends on it, so it reads the
    settings and the header itself rather than through two more dependencies."""
    return await check_caller(request, session, release=False)


async def check_caller(request: Request, session: OrmSession, *, release: bool) -> SignedIn:
    """``current_caller``; with ``release``, a read's transaction ends with the check
    (``_authenticate``)."""
    settings: Settings = request.app.state.settings
    token = _bearer(request)
    write = request.method not in READ_METHODS
    try:
        if token is None:
            raise NotAuthenticated()
        if write and request.app.state.queries_on_loop:
            await take_write_turn(request, session)
        record, due = await on_database(
            request,
            _authenticate,
            session,
            settings,
            token=token,
            write=write,
            release=release,
        )
        if due:
            await _record_use_apart(request, record)
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


def _authenticate(
    session: OrmSession, settings: Settings, *, token: str, write: bool, release: bool
) -> tuple[SignedIn, bool]:
    """The session, and whether a read must still record its use apart. A write records it
    in its own transaction. (A read's transaction must not write: on SQLite, turning a read
    snapshot into a write fails outright when another request wrote since.)

    A read ends its transaction here, in the same step, when its use is due, and always
    when ``release`` (PostgreSQL, where each step is a thread hop, for a route with no other
    database work: ``GET /v1/me``, ``app.hand_solved``, then the request needs no second
    step). When the use is due the connection goes back before the wait for the write
    turn: reads that held theirs while they waited could take every connection of the
    pool, and the writer holding the turn then waited for one (30 s, then failed)."""
    record = accounts.authenticate(session, settings, token=token)
    due = accounts.use_due(record)
    if due and write:
        accounts.record_use(session, record)
    if not write and (due or release):
        session.rollback()
    return record, due and not write


async def _record_use_apart(request: Request, record: SignedIn) -> None:
    """A read's use, in a short write transaction of its own, off the loop (on SQLite after
    the process's write turn)."""
    state = request.app.state
    if not state.queries_on_loop:
        await run_in_threadpool(_record_use, state.write_factory, record)
        return
    try:
        await state.write_turn.acquire()
    except TimeoutError:
        logger.warning("session use not recorded: no write turn in time")
        return
    try:
        await run_in_threadpool(_record_use, state.write_factory, record)
    finally:
        state.write_turn.release()


def _record_use(write_factory: sessionmaker[OrmSession], record: SignedIn) -> None:
    """Best effort: if the database cannot take the write just now, the read still answers
    and a later request records it."""
    try:
        with session_scope(write_factory) as writer:
            accounts.record_use(writer, record)
    except DBAPIError as exc:
        if not is_unavailable(exc):
            raise
        logger.warning("session use not recorded: database unavailable")


CurrentCaller = Annotated[SignedIn, Depends(current_caller)]


async def current_session(request: Request, session: Session, caller: CurrentCaller) -> AuthSession:
    """The checked session as an ORM object with its ``User``, for the routes that change
    them (logout, passphrase, sessions, deletion and the rest): one more read by primary key
    in the request's transaction, after ``current_caller`` applied the rule."""
    record = await on_database(request, _load_session, session, caller.id)
    if record is None:  # gone since the check (its account deleted): as an ended session
        raise SessionEnded()
    return record


def _load_session(session: OrmSession, session_id: uuid.UUID) -> AuthSession | None:
    return session.get(AuthSession, session_id, options=[joinedload(AuthSession.user)])


CurrentSession = Annotated[AuthSession, Depends(current_session)]


async def current_user(auth: CurrentSession) -> User:
    return auth.user  # loaded with the session (``current_session``): no I/O here


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
