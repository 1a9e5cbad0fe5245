"""`backchannel-server`: refuses public addresses with the development secret."""

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import Settings, is_loopback


def test_serve_refuses_a_public_host_with_the_development_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BACKCHANNEL_SECRET_KEY", raising=False)
    assert Settings().uses_development_secret
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "8999"])
    assert result.exit_code == 2
    assert "development secret" in result.output


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert (
        not is_loopback("0.0.0.0")
        and not is_loopback("10.0.0.1")
        and not is_loopback("example.org")
    )


def test_migrate_command_upgrades_the_configured_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    monkeypatch.setenv("BACKCHANNEL_DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    from sqlalchemy import inspect

    from app.db import make_engine

    engine = make_engine(url)
    assert "users" in inspect(engine).get_table_names()
    engine.dispose()
