"""The server works only with the schema revisions it declares (``SCHEMA_REVISIONS``) and refuses
to start outside them with a message that says what to do, instead of answering with 500s."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient
from typer.testing import CliRunner, Result

from app.cli import cli
from app.db import make_engine
from app.main import create_app
from app.migrate import (
    SCHEMA_REVISIONS,
    SchemaOutOfRange,
    database_revisions,
    downgrade,
    known_revisions,
)
from tests.conftest import make_settings

UNKNOWN = "ffff_from_a_newer_release"


def test_the_declared_range_ends_at_the_newest_migration() -> None:
    known = known_revisions()
    assert SCHEMA_REVISIONS.newest == known[-1], (
        "a new migration: say in app/migrate.py SCHEMA_REVISIONS which revisions this code "
        "works with (docs/operations.md, Upgrades)"
    )
    assert known.index(SCHEMA_REVISIONS.oldest) <= known.index(SCHEMA_REVISIONS.newest)


@pytest.fixture
def server_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """`backchannel-server` in-process; a serve that got past its checks fails instead of
    blocking the test."""

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("serve started")

    monkeypatch.setattr("uvicorn.run", started)
    yield CliRunner()


def _invoke(runner: CliRunner, database_url: str, *args: str) -> Result:
    return runner.invoke(cli, list(args), env={"BACKCHANNEL_DATABASE_URL": database_url})


def _older_than_the_range(database_url: str) -> str:
    known = known_revisions()
    older = known[known.index(SCHEMA_REVISIONS.oldest) - 1]
    downgrade(database_url, older)
    return older


def _at_an_unknown_revision(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": UNKNOWN})
    engine.dispose()


def test_serve_refuses_a_database_older_than_the_range(
    database_url: str, server_cli: CliRunner
) -> None:
    older = _older_than_the_range(database_url)
    result = _invoke(server_cli, database_url, "serve")
    assert result.exit_code == 2
    assert f"schema revision {older}, older than this server works with" in result.output
    assert "run `backchannel-server migrate`" in result.output


def test_serve_refuses_a_database_a_newer_release_migrated(
    database_url: str, server_cli: CliRunner
) -> None:
    _at_an_unknown_revision(database_url)
    result = _invoke(server_cli, database_url, "serve")
    assert result.exit_code == 2
    assert f"schema revision {UNKNOWN}, newer than this server" in result.output
    assert "upgrade this server" in result.output


def test_serve_refuses_a_database_without_a_schema(tmp_path: Path, server_cli: CliRunner) -> None:
    result = _invoke(server_cli, f"sqlite:///{tmp_path / 'empty.db'}", "serve")
    assert result.exit_code == 2
    assert "no Backchannel schema yet: run `backchannel-server migrate`" in result.output


def test_an_app_refuses_to_start_outside_the_range(database_url: str) -> None:
    """However it is run (a worker of `serve`, uvicorn directly), the app checks at startup."""
    _older_than_the_range(database_url)
    app = create_app(make_settings(database_url))
    try:
        with (
            pytest.raises(SchemaOutOfRange, match="run `backchannel-server migrate`"),
            TestClient(app),
        ):
            pass
    finally:
        app.state.engine.dispose()


def test_migrate_leaves_a_database_a_newer_release_migrated_alone(
    database_url: str, server_cli: CliRunner
) -> None:
    _at_an_unknown_revision(database_url)
    result = _invoke(server_cli, database_url, "migrate")
    assert result.exit_code == 2
    assert "migrate with that one" in result.output and "Traceback" not in result.output
    engine = make_engine(database_url)
    assert database_revisions(engine) == (UNKNOWN,)
    engine.dispose()


def test_migrate_brings_an_older_database_into_the_range(
    database_url: str, server_cli: CliRunner
) -> None:
    _older_than_the_range(database_url)
    assert _invoke(server_cli, database_url, "migrate").exit_code == 0
    shown = _invoke(server_cli, database_url, "schema")
    assert shown.exit_code == 0
    assert shown.output.splitlines() == [
        f"database: {SCHEMA_REVISIONS.newest}",
        f"this server works with {SCHEMA_REVISIONS.oldest} to {SCHEMA_REVISIONS.newest}",
    ]
