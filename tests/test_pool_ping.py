"""PostgreSQL's pool pings a connection only when it may be dead (``app.db._ping_when_idle``):
after it sat idle, or when the server closed it or sent it something while it sat in the
pool. A connection given back a moment ago and untouched since is handed out without a round
trip (issue 19: the ping was a third of ``GET /v1/me``)."""

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from app.db import make_engine, make_session_factory
from app.direct import Direct
from app.main import create_app
from tests.conftest import World, make_settings

_PID = Direct(select(func.pg_backend_pid()))

# PostgreSQL only: SQLite has no server to lose.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def postgres_url(database_url: str) -> str:
    return database_url


class Pings:
    """Counts the pings the engine's dialect makes (a spy on SQLAlchemy's, not ours)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        real = engine.dialect.do_ping

        def counted(dbapi_connection: Any) -> bool:
            self.count += 1
            return real(dbapi_connection)

        engine.dialect.do_ping = counted  # type: ignore[method-assign]


@pytest.fixture
def engine_with(postgres_url: str) -> Iterator[Any]:
    made: list[Engine] = []

    def make(idle_seconds: float) -> tuple[Engine, Pings]:
        engine = make_engine(postgres_url, ping_idle_seconds=idle_seconds)
        made.append(engine)
        return engine, Pings(engine)

    yield make
    for engine in made:
        engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(postgres_url: str, pid: int) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.2)  # the backend's end reaches the client's socket


def test_a_connection_in_use_is_not_pinged(engine_with: Any) -> None:
    engine, pings = engine_with(3600.0)
    first = _backend(engine)
    for _ in range(20):
        assert _backend(engine) == first  # the same pooled connection, handed out as it is
    assert pings.count == 0


def test_a_connection_the_server_ended_is_replaced_before_use(
    engine_with: Any, postgres_url: str
) -> None:
    engine, pings = engine_with(3600.0)  # not idle long enough: the socket tells
    pid = _backend(engine)
    _terminate(postgres_url, pid)
    assert _backend(engine) != pid  # no request saw the dead connection
    assert pings.count == 1


def test_an_idle_connection_is_pinged(engine_with: Any) -> None:
    engine, pings = engine_with(0.1)
    pid = _backend(engine)
    time.sleep(0.2)
    assert _backend(engine) == pid  # it answered, so it is kept
    assert pings.count == 1
    assert _backend(engine) == pid and pings.count == 1  # a moment later: no ping


def test_a_request_after_the_servers_connections_ended_succeeds(
    world: World, postgres_url: str
) -> None:
    """Every backend the app holds ends (as in a database restart); the next request is
    served, on a fresh connection, with no error."""
    app = create_app(make_settings(postgres_url))
    try:
        with TestClient(app) as http:
            headers = {"authorization": f"Bearer {world.bob.client.token}"}
            assert http.get("/v1/me", headers=headers).status_code == 200
            feed = f"/v1/circles/{world.circle_id}/entries"
            assert http.get(feed, headers=headers).status_code == 200
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            time.sleep(0.2)
            assert http.get("/v1/me", headers=headers).status_code == 200
            assert http.get(feed, headers=headers).status_code == 200
    finally:
        app.state.engine.dispose()


def test_a_dead_connection_found_in_use_fails_cleanly_and_the_next_connects_afresh(
    engine_with: Any, postgres_url: str
) -> None:
    """The case the checks cannot see (a connection that dies while in use): the statement
    fails as a disconnect, and SQLAlchemy invalidates the pool, so the next one connects."""
    engine, _ = engine_with(3600.0)
    with engine.connect() as conn:
        pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        _terminate(postgres_url, pid)
        with pytest.raises(DBAPIError) as failed:
            conn.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated
    assert _backend(engine) != pid


def test_a_dead_connection_found_by_a_direct_statement_replaces_the_whole_pool(
    engine_with: Any, postgres_url: str
) -> None:
    """The hot paths' statements (``app.direct``) handle a disconnect as SQLAlchemy's own
    do: the server is gone for every connection the pool holds, so even one that would
    pass the checkout's checks is replaced."""
    engine, _ = engine_with(3600.0)
    first, second = engine.connect(), engine.connect()
    held = {int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in (first, second)}
    first.close()
    second.close()
    session = make_session_factory(engine)()
    try:
        pid = _PID.one_or_none(session, {})[0]  # type: ignore[index]
        _terminate(postgres_url, pid)
        with pytest.raises(DBAPIError) as failed:
            _PID.one_or_none(session, {})
        assert failed.value.connection_invalidated
    finally:
        session.close()
    assert _backend(engine) not in held  # the healthy one went too
