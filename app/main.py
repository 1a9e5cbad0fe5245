"""Application factory: one app per settings object, so tests build their own."""

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import Engine, text
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
from app.deps import current_caller, get_session
from app.entries import router as entries_router
from app.entries.purge import purge_periodically
from app.errors import install_error_handlers
from app.guard import NoSniff, RequestGuard
from app.hand_solved import HandSolved, is_hand_solved
from app.invites import router as invites_router
from app.migrate import SchemaOutOfRange, check_schema
from app.moderation import router as moderation_router
from app.openapi import install_openapi
from app.sealed import router as sealed_router
from app.settings import Settings
from app.version import API_VERSION
from app.web import install_web_client, load_release
from app.write_turn import CircleTurns, WriteTurn

logger = logging.getLogger("backchannel")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]


def _add_flat(app: FastAPI, router: APIRouter, *, dependencies: Sequence[Any] = ()) -> None:
    """Each of ``router``'s routes as a route of the app itself, as ``include_router`` would
    add it (its path, options and the router's own dependencies are already in the route),
    with ``dependencies`` run first."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"not an API route: {route!r}")
        first = [] if _checks_first(route, dependencies) else list(dependencies)
        app.router.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=list(route.tags),
            dependencies=[*first, *route.dependencies],
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
            form_limits=route.form_limits,
            route_class_override=HandSolved if is_hand_solved(route.endpoint) else None,
        )


def _checks_first(route: APIRoute, dependencies: Sequence[Any]) -> bool:
    """Whether ``route`` already runs ``dependencies`` (the session check) before anything
    else: it has no dependencies of its own and its first parameters are the request's
    session and the caller (the hot routes: ``session: Session, caller: CurrentCaller``), or
    the caller alone. FastAPI solves a dependency's whole tree each time it is named, cached
    or not, so naming it twice costs every request of the hottest routes (and a
    ``HandSolved`` route takes no other dependency)."""
    if route.dependencies or [d.dependency for d in dependencies] != [current_caller]:
        return False
    calls = [sub.call for sub in route.dependant.dependencies]
    while calls and calls[0] is get_session:
        calls.pop(0)
    return bool(calls) and calls[0] is current_caller


def _sqlite_file(engine: Engine) -> Path | None:
    """The SQLite database's file, if it is one (the write turn's lock file goes beside it)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


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
    app.state.check_factory = make_session_factory(engine, one_statement=True)
    # SQLite: the request's queries run on the event loop, and writers queue for the one write
    # lock, in-process and between the server's processes (app.deps.on_database,
    # take_write_turn; app.write_turn).
    app.state.queries_on_loop = engine.dialect.name == "sqlite"
    app.state.write_turn = WriteTurn(_sqlite_file(engine))
    # PostgreSQL: posts to one circle queue in-process before its row lock (CircleTurns).
    app.state.circle_turns = None if app.state.queries_on_loop else CircleTurns()
    app.state.argon2_slots = asyncio.Semaphore(settings.argon2_concurrency)
    app.state.public_slots = asyncio.Semaphore(settings.public_work_concurrency)
    app.state.anon_throttle = AnonThrottle(
        limit=settings.anon_address_limit,
        window_seconds=settings.anon_address_window_seconds,
        circles_per_address=settings.anon_address_circles,
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

    # Every API route is one of the app's own (``_add_flat``): FastAPI matches an included
    # router twice (once to pick it, once to handle it), and once per level of nesting. Routes
    # are matched in order, so the hot ones (the feed, posting, GET /v1/me) come first; no two
    # routes share a path and method, so the order changes nothing else.
    # Everything in the first group requires a session; the public routes are the explicit
    # exceptions after it.
    signed_in = [Depends(current_caller)]
    for router in (
        entries_router.router,
        accounts_router.router,
        circles_router.router,
        invites_router.router,
        moderation_router.router,
        sealed_router.router,
        anon_router.router,
        audit_router.router,
        events_router.router,
    ):
        _add_flat(app, router, dependencies=signed_in)
    for router in (
        accounts_router.public_router,
        entries_router.public_router,
        moderation_router.anonymous_router,
        moderation_router.public_router,
        audit_router.public_router,
    ):
        _add_flat(app, router)
    install_web_client(app, load_release(settings.web_release))
    install_openapi(app)
    return app
