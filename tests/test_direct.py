"""Statements run straight on the driver (``app.direct``) and the session they run in
(``app.db.UnitSession``), on both engines: values read and written exactly as SQLAlchemy
reads and writes them, one transaction shared with the ORM, errors raised as SQLAlchemy
raises them, and the connection back in the pool when a transaction ends (issue 19)."""

import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, bindparam, event, literal, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import AuthSession
from app.client.entries import Entries
from app.db import UnitSession, coarse, make_session_factory, utcnow
from app.direct import Direct
from app.entries.models import Entry
from tests.conftest import World
from tests.test_ceiling import _post_body

_SESSIONS = AuthSession.__table__
_TOUCH = Direct(
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("sid"))
    .values(last_used_at=bindparam("when"))
)
_WHEN = Direct(select(AuthSession.last_used_at).where(AuthSession.id == bindparam("sid")))


def _checked_out(engine: Engine) -> int:
    return engine.pool.checkedout()  # type: ignore[attr-defined]


def test_values_read_as_sqlalchemy_reads_them(world: World, engine: Engine) -> None:
    """Every column of every entry (UUIDs, aware times, flags, bytes, numbers, nulls) and
    literals fixed in the statement come back as Core returns them."""
    Entries(world.bob.circles).post(world.circle_id, subject="S", text="t", categories=["other"])
    world.open_anonymous()
    Entries(world.bob.circles).post(
        world.circle_id, subject="A", text="t", categories=["other"], anonymous=True
    )
    statement = select(Entry.__table__, literal(7), literal("x")).order_by(Entry.seq)
    with make_session_factory(engine)() as session:
        direct = Direct(statement).all(session, {})
    with Session(engine) as session:
        core = [tuple(row) for row in session.execute(statement).all()]
    assert len(core) >= 2
    assert direct == core
    assert {row[Entry.__table__.columns.keys().index("anonymous")] for row in direct} == {
        True,
        False,
    }


def test_the_orm_and_direct_statements_share_one_transaction(world: World, engine: Engine) -> None:
    """A direct write and an ORM write in one session land together or not at all, and the
    session's connection is back in the pool once the transaction ends, whichever began it."""
    writes = make_session_factory(engine, write=True)
    with Session(engine) as session:
        record = session.scalars(select(AuthSession).limit(1)).one()
        sid, revoked_before = record.id, record.revoked_at
    for step, (direct_first, commit) in enumerate(
        [(True, False), (True, True), (False, False), (False, True)]
    ):
        later = coarse(utcnow()) + timedelta(hours=5 + step)
        label = f"label {step}"
        session = writes()
        assert isinstance(session, UnitSession)
        if direct_first:
            _TOUCH.execute(session, {"sid": sid, "when": later})
        loaded = session.get(AuthSession, sid)
        assert loaded is not None
        loaded.device_label = label
        session.flush()
        if not direct_first:
            _TOUCH.execute(session, {"sid": sid, "when": later})
        assert _WHEN.one_or_none(session, {"sid": sid}) == (later,)  # its own write
        assert session.in_transaction()
        if commit:
            session.commit()
        else:
            session.rollback()
        assert not session.in_transaction()
        assert _checked_out(engine) == 0
        session.close()
        with Session(engine) as check:
            stored = check.get(AuthSession, sid)
            assert stored is not None
            assert (stored.device_label == label) is commit
            assert (stored.last_used_at == later) is commit
            assert stored.revoked_at == revoked_before


def test_a_direct_only_transaction_commits_rolls_back_and_closes(
    world: World, engine: Engine
) -> None:
    writes = make_session_factory(engine, write=True)
    with Session(engine) as session:
        sid = session.scalars(select(AuthSession.id).limit(1)).one()
    first, second = coarse(utcnow()) + timedelta(hours=7), coarse(utcnow()) + timedelta(hours=9)
    for when, end in ((first, "commit"), (second, "rollback"), (second, "close")):
        session = writes()
        _TOUCH.execute(session, {"sid": sid, "when": when})
        assert session.in_transaction()
        getattr(session, end)()
        session.close()
        assert _checked_out(engine) == 0
        with make_session_factory(engine)() as check:
            assert _WHEN.one_or_none(check, {"sid": sid}) == (first,)


def test_driver_errors_are_raised_as_sqlalchemy_raises_them(world: World, engine: Engine) -> None:
    """A duplicate key is SQLAlchemy's IntegrityError (what the error handlers and
    ``is_unavailable`` read), without the values; the session rolls back and goes on."""
    posted = Entries(world.bob.circles).post(
        world.circle_id, subject="S", text="t", categories=["other"]
    )
    entry_id = posted["entry_id"]
    table = Entry.__table__
    copy = Direct(
        table.insert().from_select(
            list(table.columns.keys()),
            select(*table.columns).where(table.c.id == bindparam("entry_id")),
        )
    )
    writes = make_session_factory(engine, write=True)
    session = writes()
    with pytest.raises(IntegrityError) as raised:
        copy.execute(session, {"entry_id": uuid.UUID(entry_id)})
    assert raised.value.params is None
    assert uuid.UUID(entry_id).hex not in str(raised.value)
    session.rollback()
    assert _checked_out(engine) == 0
    assert _WHEN.one_or_none(session, {"sid": uuid.uuid4()}) is None  # usable again
    session.close()


def test_each_hot_request_takes_one_connection(world: World, app: FastAPI, engine: Engine) -> None:
    """``GET /v1/me``, a feed page and a post each take one connection from the pool (on
    PostgreSQL each checkout is a ping, and a second transaction a ``BEGIN`` more): the
    session check shares the request's transaction; ``GET /v1/me`` makes it alone, in a
    session of its own (``app.hand_solved``)."""
    taken: list[object] = []
    event.listen(engine, "checkout", lambda *_: taken.append(1))
    bob = world.bob.client
    with TestClient(app) as http:
        headers = {"authorization": f"Bearer {bob.token}"}
        http.get("/v1/me", headers=headers)  # a due use recorded apart: not counted below
        feed = f"/v1/circles/{world.circle_id}/entries"
        for method, path, body in (
            ("GET", "/v1/me", None),
            ("GET", feed, None),
            ("POST", feed, _post_body(world.bob, world.circle_id)),
        ):
            taken.clear()
            response = http.request(method, path, headers=headers, json=body)
            assert response.status_code in (200, 201), response.text
            assert len(taken) == 1, (method, path, len(taken))


def test_direct_statements_inside_an_orm_block_end_with_it(world: World, engine: Engine) -> None:
    """Within ``session.begin()`` the direct statements run in the ORM's transaction, so
    the block's end commits them (or rolls them back) with it."""
    writes = make_session_factory(engine, write=True)
    with Session(engine) as session:
        sid = session.scalars(select(AuthSession.id).limit(1)).one()
    kept, dropped = coarse(utcnow()) + timedelta(hours=11), coarse(utcnow()) + timedelta(hours=13)
    with writes() as session, session.begin():
        _TOUCH.execute(session, {"sid": sid, "when": kept})
    assert _checked_out(engine) == 0
    with pytest.raises(LookupError), writes() as session, session.begin():
        _TOUCH.execute(session, {"sid": sid, "when": dropped})
        raise LookupError("the block fails")
    with make_session_factory(engine)() as check:
        assert _WHEN.one_or_none(check, {"sid": sid}) == (kept,)


def test_one_statement_reads_leave_no_autocommit_behind(world: World, app: FastAPI) -> None:
    """``GET /v1/me``'s session check is one statement, run outside a transaction on
    PostgreSQL (no ``BEGIN`` or ``ROLLBACK`` round trip); the connection goes back to the
    pool as it was, so the next request's transaction is a transaction."""
    engine: Engine = app.state.engine
    postgres = engine.dialect.name == "postgresql"
    with app.state.check_factory() as session:
        conn = session.get_bind()
        if postgres:
            assert conn.connection.dbapi_connection.autocommit is True
    with TestClient(app) as http:
        headers = {"authorization": f"Bearer {world.bob.client.token}"}
        for _ in range(3):
            assert http.get("/v1/me", headers=headers).status_code == 200
    held = [engine.connect() for _ in range(3)]  # whatever the pool holds, and more
    try:
        for conn in held:
            conn.execute(text("SELECT 1"))
            if postgres:  # the server holds a transaction open: BEGIN was sent
                dbapi = conn.connection.dbapi_connection
                assert dbapi.autocommit is False
                assert dbapi.info.transaction_status.name == "INTRANS"
    finally:
        for conn in held:
            conn.close()
