"""Engine, session and the declarative base shared by every domain's models."""

import select
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# The stated period (app/retention.py): the finest time stored next to anything anonymous,
# or that could be joined with it.
PRECISION = timedelta(hours=1)


def coarse(moment: datetime) -> datetime:
    """``moment`` floored to a whole hour (UTC)."""
    seconds = int(PRECISION.total_seconds())
    return datetime.fromtimestamp(int(moment.timestamp()) // seconds * seconds, UTC)


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling is lazy).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Set by ``UnitSession.begin_now(no_wait=True)`` for the ``BEGIN`` it makes (on the thread and
# in the task that makes it): a context variable, not the connection's execution options,
# which cost two option updates and their events per write.
_BEGIN_NO_WAIT: ContextVar[bool] = ContextVar("sqlite_begin_no_wait", default=False)


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock up front, so two writers queue instead of one failing
    # to upgrade a stale read snapshot (SQLITE_BUSY_SNAPSHOT) halfway through a use case.
    # Straight to the driver: every request begins a transaction, and these statements
    # return nothing a caller reads, so SQLAlchemy's result machinery is pure cost (issue
    # 19: a ``PRAGMA`` through ``exec_driver_sql`` built a result's metadata each time).
    options = conn.get_execution_options()
    mode = "IMMEDIATE" if options.get("sqlite_begin") == "IMMEDIATE" else "DEFERRED"
    driver: Any = conn.connection.driver_connection
    statement = f"BEGIN {mode}"
    try:
        if not _BEGIN_NO_WAIT.get():
            driver.execute(statement)
            return
        # Take the lock only if it is free this instant (app.deps.take_write_turn):
        # SQLITE_BUSY at once rather than a wait in the busy handler.
        driver.execute("PRAGMA busy_timeout=0")
        try:
            driver.execute(statement)
        finally:
            driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:  # as SQLAlchemy raises a failed statement (is_busy reads it)
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


# A pooled PostgreSQL connection back in the pool for longer than this is pinged before it is
# handed out again (``_ping_when_idle``).
PING_IDLE_SECONDS = 1.0


def make_engine(url: str, *, ping_idle_seconds: float = PING_IDLE_SECONDS) -> Engine:
    """The engine for ``url``; ``ping_idle_seconds`` (PostgreSQL): see ``_ping_when_idle``."""
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {}
        if parsed.database and parsed.database != ":memory:":
            # A connection is a file handle: let the pool grow with the requests in flight
            # rather than make the 16th wait (on the event loop, where the queries run).
            options = {"pool_size": 10, "max_overflow": -1}
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, hide_parameters=True, **options
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # LIFO: the connections in use stay the ones handed out, and the rest age into the ping
    # (``_ping_when_idle``) instead of every connection of the pool taking turns.
    engine = create_engine(
        url, pool_size=10, max_overflow=20, pool_use_lifo=True, hide_parameters=True
    )
    _ping_when_idle(engine, ping_idle_seconds)
    return engine


def _has_news(dbapi_connection: Any) -> bool:
    """Whether the server sent an idle connection anything (or closed it): its socket is
    readable. A connection whose socket cannot be asked counts as having news."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN)
        return bool(poller.poll(0))
    except Exception:
        return True


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """SQLAlchemy's pessimistic disconnect handling (``pool_pre_ping``), paid only where it
    buys something. A pooled connection is pinged before it is handed out when it has sat
    in the pool for longer than ``idle_seconds``, or when the server has sent it something
    while it sat there (an idle connection gets nothing unasked: a database that stops,
    crashes or ends the session closes the socket, and the kernel says so at once). One
    that does not answer is replaced (a ``DisconnectionError`` from a checkout listener
    makes the pool take another). Any other connection is handed out as it is: pinging
    each one cost every request a round trip (on PostgreSQL a third of ``GET /v1/me``, issue
    19). A request that still finds its connection dead (the network cut without a word
    within the last ``idle_seconds``) fails cleanly (``503 database_unavailable``), and
    SQLAlchemy then invalidates the whole pool, so the requests after it connect afresh."""

    def returned(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info["returned_at"] = time.monotonic()

    def handed_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")  # None: connected just now
        if returned_at is None:
            return
        if time.monotonic() - returned_at < idle_seconds and not _has_news(dbapi_connection):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: the pool replaces the connection
            raise DisconnectionError("a pooled connection did not answer its ping") from exc

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", handed_out)


def is_busy(exc: DBAPIError) -> bool:
    """SQLite's write lock is held by another connection (SQLITE_BUSY and its variants)."""
    name: str | None = getattr(exc.orig, "sqlite_errorname", None)
    return name is not None and name.startswith("SQLITE_BUSY")


def is_unavailable(exc: DBAPIError) -> bool:
    """A database failure that passes by itself: the connection lost or refused, the server
    shutting down, starting up or recovering, a lock or serialization wait. Not a bug or a
    broken schema (a missing SQLite table is an OperationalError too, and is not transient)."""
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    sqlite_error: str | None = getattr(exc.orig, "sqlite_errorname", None)
    return sqlite_error is None or sqlite_error.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


class UnitSession(Session):
    """A session whose transactions all run on one connection of its own, taken when first
    needed and given back when a transaction ends (as a plain ``Session`` gives back its
    own), which the hot paths' statements (``app.direct``) use without the ORM's
    transaction machinery: a request that only runs those (``GET /v1/me``, the feed, a
    post) never builds an ORM transaction, which cost about a third of its database time
    (issue 19). ORM use on the same session joins the same transaction
    (``join_transaction_mode="control_fully"``), whichever began it; ``commit``,
    ``rollback`` and ``close`` end whichever is open."""

    def __init__(self, bind: Engine, **kw: Any) -> None:
        super().__init__(bind=bind, join_transaction_mode="control_fully", **kw)
        self._engine = bind
        self._unit: Connection | None = None

    def unit_connection(self) -> Connection:
        """The session's connection, in a transaction (begun here if none is open). Within
        an ORM transaction (``session.begin()``, or ORM use first) the ORM's, so that its end
        ends the statements run here too."""
        if super().in_transaction():
            return self.connection()
        conn = self.get_bind()
        assert isinstance(conn, Connection)
        if not conn.in_transaction():
            conn.begin()
        return conn

    def begin_now(self, *, no_wait: bool = False) -> None:
        """Begin the session's transaction now; on SQLite with ``no_wait``, only if the write
        lock is free this instant (see ``_sqlite_begin``). On failure nothing has begun."""
        conn = self.get_bind()
        assert isinstance(conn, Connection) and not conn.in_transaction()
        token = _BEGIN_NO_WAIT.set(no_wait)
        try:
            conn.begin()
        finally:
            _BEGIN_NO_WAIT.reset(token)

    def get_bind(self, mapper: Any = None, **kw: Any) -> Engine | Connection:
        """The ORM's bind: the session's own connection."""
        if self._unit is None:
            self._unit = self._engine.connect()
        return self._unit

    def in_transaction(self) -> bool:
        return super().in_transaction() or (self._unit is not None and self._unit.in_transaction())

    def commit(self) -> None:
        if super().in_transaction():
            super().commit()
        self._end(commit=True)

    def rollback(self) -> None:
        if super().in_transaction():
            super().rollback()
        self._end(commit=False)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._end(commit=False)

    def _end(self, *, commit: bool) -> None:
        """End a transaction only the hot paths' statements used, and give the connection
        back to the pool (its reset rolls back anything left)."""
        conn, self._unit = self._unit, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                if commit:
                    conn.commit()
                else:
                    conn.rollback()
        finally:
            conn.close()


def make_session_factory(
    engine: Engine, *, write: bool = False, one_statement: bool = False
) -> sessionmaker[Session]:
    """Sessions for reads, or for writes (on SQLite these begin IMMEDIATE).

    ``one_statement``: for a read that is a single statement (``GET /v1/me``'s session
    check). On PostgreSQL it runs outside a transaction (autocommit: a statement is its own
    snapshot), which saves the ``BEGIN`` and ``ROLLBACK`` round trips; the pool puts the
    connection back as it was when it returns. On SQLite a read's ``BEGIN`` is a call on
    the loop, not a round trip, so nothing changes there."""
    bind = engine
    if write:
        bind = engine.execution_options(sqlite_begin="IMMEDIATE")
    elif one_statement and engine.dialect.name == "postgresql":
        bind = engine.execution_options(isolation_level="AUTOCOMMIT")
    return sessionmaker(bind, class_=UnitSession, expire_on_commit=False)


def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One use case, all or nothing: commit on success, roll back on any exception.

    The one exception is an error that declares ``keep_writes`` (a failed login's
    counters): its writes were made deliberately before raising, and they land.
    """
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException as exc:
            if getattr(exc, "keep_writes", False):
                session.commit()
            else:
                session.rollback()
            raise


def finish(session: Session, *, commit: bool) -> None:
    """End a request's use case (see ``app.deps.get_session``): commit or roll back, then
    close. A failed commit rolls back (``close``) and raises."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


# The same use-case boundary for code outside a request (CLI commands, periodic tasks).
session_scope = contextmanager(transaction)
