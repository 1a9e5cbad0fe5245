"""Core statements run straight on the driver, for the hottest paths (issue 19).

SQLAlchemy's execution layer (its events, execution context, result metadata and row
objects) costs more than the statement itself on the paths every request takes: the
session check took about 65 µs through ``Connection.execute`` and 5 µs on the sqlite3
cursor. A ``Direct`` statement is still written once, as a Core statement in its domain's
``queries`` module; it is compiled once per dialect, and each run converts the values
with the very bind and result processors SQLAlchemy would apply (so a UUID, a time or a
flag reads and writes exactly as through the ORM, which each module's tests compare), on
the cursor of the request's own connection and transaction (``UnitSession``: with no ORM
transaction built for it).
A driver error is raised as SQLAlchemy raises it (``DBAPIError``, with a lost connection
invalidated), so the error handlers and ``app.db.is_unavailable`` see no difference.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from app.db import UnitSession

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # bind names in order (qmark), None for named styles
    binds: dict[str, Processor]
    defaults: dict[str, Any]  # the values of binds fixed in the statement (literals)
    results: tuple[Processor, ...]
    convert: bool  # some result column has a processor


class Direct:
    """One Core statement, run on the DBAPI cursor of a session's connection."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[type[Dialect], str], _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (type(dialect), dialect.paramstyle)  # the driver, not only the database
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled: Any = self.statement.compile(dialect=dialect)
        if compiled.has_out_parameters or any(
            bind.expanding for bind in compiled.binds.values()
        ):  # pragma: no cover - a statement this module is not for
            raise TypeError("Direct runs plain statements only")
        binds = {
            name: bind.type._cached_bind_processor(dialect) for name, bind in compiled.binds.items()
        }
        positional = tuple(compiled.positiontup) if compiled.positional else None
        used = set(positional) if positional is not None else None
        defaults = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required
            and bind.callable is None
            and (name in used if used is not None else f"%({name})s" in compiled.string)
        }
        columns = getattr(self.statement, "selected_columns", None)  # None: no rows back
        if any(isinstance(column.type, Numeric) for column in columns or ()):
            raise TypeError("Direct reads no Numeric column (its driver type decides it)")
        results = tuple(
            column.type._cached_result_processor(dialect, None) for column in columns or ()
        )
        return _Compiled(compiled.string, positional, binds, defaults, results, any(results))

    def _run(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        conn: Connection = (
            session.unit_connection() if isinstance(session, UnitSession) else session.connection()
        )
        compiled = self._for(conn.dialect)
        values = {**compiled.defaults, **params} if compiled.defaults else params
        binds = compiled.binds
        converted: dict[str, Any] = {}
        for name, value in values.items():
            process = binds.get(name)
            converted[name] = value if process is None else process(value)
        arguments: Sequence[Any] | Mapping[str, Any] = (
            converted
            if compiled.positional is None
            else tuple(converted[name] for name in compiled.positional)
        )
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None  # a live connection of the session's transaction
        cursor = dbapi.cursor()
        try:
            cursor.execute(compiled.sql, arguments)
        except conn.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            lost = conn.dialect.is_disconnect(exc, dbapi, cursor)
            if lost:  # as SQLAlchemy's own statements do: the server is gone for every
                # connection the pool holds, so they are all replaced (pool_pre_ping does
                # not check each one: app.db._ping_when_idle)
                conn.engine.pool._invalidate(conn.connection, exc)
                conn.invalidate(exc)
            raise DBAPIError.instance(
                compiled.sql,
                None,  # never the values: tokens' hashes and ciphertext stay out of logs
                exc,
                conn.dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=conn.dialect,
            ) from exc
        return cursor, compiled

    def execute(self, session: Session, params: Mapping[str, Any]) -> None:
        """Run a statement whose rows (if any) nobody reads."""
        cursor, _ = self._run(session, params)
        cursor.close()

    def one_or_none(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The one row, its values converted as SQLAlchemy converts them, or None."""
        cursor, compiled = self._run(session, params)
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not rows:
            return None
        if len(rows) > 1:  # pragma: no cover - each caller selects by a key
            raise LookupError("more than one row")
        return self._convert(rows[0], compiled)

    def all(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row, converted as SQLAlchemy converts them."""
        cursor, compiled = self._run(session, params)
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return [self._convert(row, compiled) for row in rows]

    @staticmethod
    def _convert(row: Sequence[Any], compiled: _Compiled) -> tuple[Any, ...]:
        if not compiled.convert:
            return tuple(row)
        return tuple(
            value if process is None else process(value)
            for process, value in zip(compiled.results, row, strict=True)
        )
