"""Which database failures are ``503 database_unavailable`` (retry later) and which are not.

Passing failures (a lock wait that ran out, a lost or refused connection) are 503; a broken
schema is a 500 that no retry cures.
"""

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from app.db import is_unavailable, make_engine
from app.main import create_app
from app.migrate import upgrade
from app.settings import Settings
from tests.conftest import TEST_SECRET


def test_a_sqlite_lock_wait_that_runs_out_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        with engine.connect() as conn, pytest.raises(OperationalError) as waited:
            conn.exec_driver_sql("PRAGMA busy_timeout=0")
            conn.execute(text("INSERT INTO t VALUES (1)"))
        assert is_unavailable(waited.value)
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()


def test_a_missing_table_is_an_internal_error_not_unavailable(tmp_path: Path) -> None:
    """The schema revision is right (so the server starts) but a table was dropped by hand."""
    url = f"sqlite:///{tmp_path / 'broken.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE auth_sessions"))
    engine.dispose()
    settings = Settings(database_url=url, secret_key=TEST_SECRET)  # type: ignore[arg-type]
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as http:
            response = http.get("/v1/me", headers={"Authorization": "Bearer some-token"})
    finally:
        app.state.engine.dispose()
    assert (response.status_code, response.json()["error"]["code"]) == (500, "internal_error")
