"""The package, API and protocol versions are each declared once (app/version.py) and the code,
the clients and the documents agree with them; `--version` shows them."""

import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from app.client.cli.main import app as client_cli
from app.main import create_app
from app.migrate import SCHEMA_REVISIONS
from app.version import API_VERSION, PACKAGE_VERSION, PROTOCOL_VERSION
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_version_is_the_one_in_pyproject() -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        assert tomllib.load(file)["project"]["version"] == PACKAGE_VERSION


def test_every_api_route_is_under_the_api_version() -> None:
    app = create_app(make_settings("sqlite://"))
    app.state.engine.dispose()
    document = app.openapi()
    api = set(document["paths"]) - {"/healthz"}
    assert api and all(path.startswith(f"/v{API_VERSION}/") for path in api), sorted(api)
    assert document["info"]["version"] == str(API_VERSION)


def test_both_clients_call_the_api_version() -> None:
    sources = [*(ROOT / "app" / "client").rglob("*.py"), *(ROOT / "web" / "src").rglob("*.js")]
    versions = {
        int(version)
        for source in sources
        for version in re.findall(r"[\"'`]/v(\d+)/", source.read_text(encoding="utf-8"))
    }
    assert versions == {API_VERSION}


def test_the_documents_state_the_same_versions() -> None:
    protocol = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert protocol.startswith(f"# Backchannel protocol — version {PROTOCOL_VERSION}\n")
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert f"every API route is under `/v{API_VERSION}`" in api


def test_the_server_command_shows_its_versions() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"backchannel-server {PACKAGE_VERSION} (HTTP API v{API_VERSION}, "
        f"protocol v{PROTOCOL_VERSION})",
        f"database schema revisions {SCHEMA_REVISIONS.oldest} to {SCHEMA_REVISIONS.newest}",
    ]


def test_the_client_command_shows_its_versions() -> None:
    result = CliRunner().invoke(client_cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == (
        f"backchannel {PACKAGE_VERSION} (HTTP API v{API_VERSION}, protocol v{PROTOCOL_VERSION})\n"
    )
