"""Application factory: one app per settings object, so tests build their own."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.accounts import router as accounts_router
from app.anon import router as anon_router
from app.anon.throttle import AnonThrottle
from app.audit import router as audit_router
from app.audit.signing import ensure_key as ensure_signing_key
from app.circles import router as circles_router
from app.circles import stream as events_router
from app.circles.stream import StreamSlots
from app.db import make_engine, make_session_factory
from app.deps import current_caller
from app.entries import router as entries_router
from app.entries.purge import purge_periodically
from app.errors import install_error_handlers
from app.guard import NoSniff, RequestGuard
from app.invites import router as invites_router
from app.migrate import SchemaOutOfRange, check_schema
from app.moderation import router as moderation_router
from app.openapi import install_openapi
from app.sealed import router as sealed_router
from app.settings import Settings
from app.version import API_VERSION
from app.web import install_web_client, load_release

logger = logging.getLogger("backchannel")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            check_schema(app.state.engine)
        except SchemaOutOfRange as exc:
            logger.error("refusing to start: %s", exc)
            raise
        except SQLAlchemyError:  # unreachable: health says so; requests answer 503 meanwhile
            logger.warning("database schema not checked at startup: the database does not answer")
        # The tree-head key exists before the first request (a write, so not inside a GET).
        try:
            with app.state.write_factory() as session, session.begin():
                ensure_signing_key(session, settings)
        except SQLAlchemyError:  # unreachable: the key is made on first use instead
            logger.warning("tree-head signing key not created at startup")
        task = None
        if settings.purge_interval_seconds > 0:
            task = asyncio.create_task(purge_periodically(app, settings.purge_interval_seconds))
        yield
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        lifespan=lifespan,
        title="Backchannel",
        version=str(API_VERSION),
        description="End-to-end encrypted whisper network. The server stores ciphertext only.",
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.write_factory = make_session_factory(engine, write=True)
    # SQLite: the request's queries run on the event loop, and writers queue for the one write
    # lock in-process (app.deps.on_database, take_write_turn).
    app.state.queries_on_loop = engine.dialect.name == "sqlite"
    app.state.write_turn = asyncio.Lock()
    app.state.argon2_slots = asyncio.Semaphore(settings.argon2_concurrency)
    app.state.public_slots = asyncio.Semaphore(settings.public_work_concurrency)
    app.state.anon_throttle = AnonThrottle(
        limit=settings.anon_address_limit, window_seconds=settings.anon_address_window_seconds
    )
    app.state.event_streams = StreamSlots(
        per_session=settings.events_per_session,
        per_account=settings.events_per_account,
        total=settings.events_max_streams,
    )

    install_error_handlers(app)
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        large_body_bytes=settings.max_rotation_body_bytes,
    )
    app.add_middleware(NoSniff)
    # The client address comes from X-Forwarded-For only when the TCP peer is a proxy the
    # operator named (the rightmost address no trusted proxy added); otherwise the header is
    # ignored, so a client cannot choose the address the per-address limits count.
    if settings.trusted_proxy_networks:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_networks)

    @app.get(
        "/healthz",
        tags=["health"],
        response_model=Health,
        responses={503: {"model": Health, "description": "The database does not answer."}},
    )
    def healthz() -> Health | JSONResponse:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return Health(status="ok")

    # Routes are matched in order, one included router after another, so the hot ones (the
    # feed, posting, GET /v1/me) come first; no two routes share a path and method, so the
    # order changes nothing else.
    # Everything in ``authenticated`` requires a session; public routes are the explicit
    # exceptions below it.
    authenticated = APIRouter(dependencies=[Depends(current_caller)])
    authenticated.include_router(entries_router.router)
    authenticated.include_router(accounts_router.router)
    authenticated.include_router(circles_router.router)
    authenticated.include_router(invites_router.router)
    authenticated.include_router(moderation_router.router)
    authenticated.include_router(sealed_router.router)
    authenticated.include_router(anon_router.router)
    authenticated.include_router(audit_router.router)
    authenticated.include_router(events_router.router)
    app.include_router(authenticated)
    app.include_router(accounts_router.public_router)
    app.include_router(entries_router.public_router)
    app.include_router(moderation_router.anonymous_router)
    app.include_router(moderation_router.public_router)
    app.include_router(audit_router.public_router)
    install_web_client(app, load_release(settings.web_release))
    install_openapi(app)
    return app
