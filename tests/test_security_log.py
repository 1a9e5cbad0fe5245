"""Security events (ASVS V16): what is logged, in which shape, and what never is."""

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from starlette.testclient import TestClient

from app.client.errors import ApiError
from app.client.sdk import Client
from app.crypto import b64encode
from app.main import create_app
from app.security_log import EVENTS, JsonFormatter, log_config
from app.settings import Settings
from tests.conftest import PASSPHRASES, World

OPERATIONS = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


def _events(caplog: pytest.LogCaptureFixture, event: str | None = None) -> list[dict[str, Any]]:
    found = [r.security for r in caplog.records if hasattr(r, "security")]  # type: ignore[attr-defined]
    return [e for e in found if event is None or e["event"] == event]


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(record) for record in caplog.records]


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.mark.asvs("16.3.1")
def test_authentication_operations_are_logged_with_their_outcome(
    register: Callable[..., Client],
    make_client: Callable[..., Client],
    http: TestClient,
    captured: pytest.LogCaptureFixture,
) -> None:
    """ASVS 16.3.1: every authentication operation, successful or not, with its factor."""
    alice = register("alice")
    account = alice.account  # type: ignore[attr-defined]
    with pytest.raises(ApiError):
        make_client().login("alice", "a wrong passphrase for alice")
    make_client().login("alice", PASSPHRASES["alice"])
    alice.change_passphrase(
        username="alice",
        current=PASSPHRASES["alice"],
        new=PASSPHRASES["alice"] + "!",
        identity=account.identity,
    )
    make_client().recover("alice", account.recovery_code, "the recovered passphrase")
    http.get("/v1/me", headers={"Authorization": "Bearer forged-token"})
    http.get("/v1/me", headers={"Authorization": f"Bearer {alice.token}"})  # ended by recovery
    http.get("/v1/me")
    fresh = make_client()
    fresh.login("alice", "the recovered passphrase")
    fresh.logout()
    seen = [
        (e["operation"], e["outcome"], e.get("reason"), e["factor"])
        for e in _events(captured, "authentication")
    ]
    assert seen == [
        ("register", "success", None, "auth_key"),
        ("login", "failure", "invalid_credentials", "auth_key"),
        ("login", "success", None, "auth_key"),
        ("passphrase_change", "success", None, "auth_key"),
        ("recovery_bundle", "success", None, "recovery_code"),
        ("recovery_complete", "success", None, "recovery_code"),
        ("session", "failure", "invalid_token", "session_token"),
        ("session", "failure", "session_ended", "session_token"),
        ("session", "failure", "no_token", "session_token"),
        ("login", "success", None, "auth_key"),
        ("logout", "success", None, "session_token"),
    ]
    assert all(e["user"] in ("alice", None) for e in _events(captured, "authentication"))


@pytest.mark.asvs("16.3.2")
def test_failed_authorization_is_logged_with_who_and_what(
    world: World, http: TestClient, captured: pytest.LogCaptureFixture
) -> None:
    """ASVS 16.3.2: refused callers (outsider 404, pending, removed, plain member) are logged."""
    path = f"/v1/circles/{world.circle_id}/invites"
    for person in (world.frank, world.dave, world.erin, world.bob):
        http.get(path, headers={"Authorization": f"Bearer {person.client.token}"})
    denied = _events(captured, "access_denied")
    assert [(e["user"], e["status"], e["code"]) for e in denied] == [
        ("frank", 404, "circle_not_found"),
        ("dave", 403, "membership_pending"),
        ("erin", 403, "not_a_member"),
        ("bob", 403, "admin_required"),
    ]
    assert {(e["method"], e["path"], e["outcome"]) for e in denied} == {("GET", path, "refused")}


@pytest.mark.asvs("16.3.3")
def test_attempts_to_get_past_the_controls_are_logged(
    register: Callable[..., Client], http: TestClient, captured: pytest.LogCaptureFixture
) -> None:
    """ASVS 16.3.3: schema and value checks, body size and type, and the throttle."""
    register("alice")
    http.post("/v1/auth/login", json={"username": "alice", "auth_key": "not base64"})
    http.post("/v1/auth/login", content=b"x", headers={"content-type": "text/plain"})
    http.post(
        "/v1/auth/login",
        content=b"{" + b" " * 300_000 + b"}",
        headers={"content-type": "application/json"},
    )
    body = {"username": "alice", "auth_key": b64encode(bytes(32))}
    for _ in range(11):
        http.post("/v1/auth/login", json=body)
    rejected = [(e["status"], e["code"]) for e in _events(captured, "request_rejected")]
    assert rejected == [
        (422, "invalid_request"),
        (415, "unsupported_media_type"),
        (413, "payload_too_large"),
    ]
    limited = _events(captured, "rate_limited")
    assert [(e["status"], e["code"], e["path"]) for e in limited] == [
        (429, "rate_limited", "/v1/auth/login")
    ]


@pytest.mark.asvs("16.3.3")
def test_forged_records_and_signatures_are_logged(
    world: World, http: TestClient, captured: pytest.LogCaptureFixture
) -> None:
    """ASVS 16.3.3: business-logic checks (a record that does not verify) log a rejection."""
    response = http.post(
        f"/v1/circles/{world.circle_id}/members/dave/confirm",
        headers={"Authorization": f"Bearer {world.alice.client.token}"},
        json={"record": "{}", "signature": b64encode(bytes(64)), "wrap": b64encode(bytes(80))},
    )
    assert response.json()["error"]["code"] == "invalid_record"
    [event] = _events(captured, "request_rejected")
    assert (event["user"], event["code"]) == ("alice", "invalid_record")


def _broken(settings: Settings) -> FastAPI:
    """The real app over a database whose sessions table is gone (a fault, not a mock)."""
    app = create_app(settings)
    with app.state.engine.begin() as conn:
        conn.execute(text("DROP TABLE auth_sessions"))
    return app


@pytest.mark.asvs("16.3.4", "16.5.1", "16.5.3")
def test_an_unexpected_error_is_logged_and_the_client_learns_nothing(
    register: Callable[..., Client], settings: Settings, captured: pytest.LogCaptureFixture
) -> None:
    """ASVS 16.3.4, 16.5.1, 16.5.3: a failing database is logged with its traceback; the client
    gets a generic 500 (no SQL, no trace), and a request that cannot check its token is refused,
    never served (fail closed)."""
    token = register("alice").token
    app = _broken(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as broken:
            response = broken.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    finally:
        app.state.engine.dispose()
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "Something went wrong on the server."}
    }
    assert "auth_sessions" not in response.text and "Traceback" not in response.text
    [event] = _events(captured, "unexpected_error")
    assert (event["path"], event["status"]) == ("/v1/me", 500)
    assert event["error"] in {"OperationalError", "ProgrammingError"}
    [line] = [json.loads(s) for s in _lines(captured) if '"unexpected_error"' in s]
    assert "auth_sessions" in line["exception"]  # the operator gets the detail
    assert str(token) not in "\n".join(_lines(captured))


@pytest.mark.asvs("16.5.2", "16.3.4")
def test_the_server_degrades_safely_without_its_database(
    settings: Settings, captured: pytest.LogCaptureFixture
) -> None:
    """ASVS 16.5.2, 16.3.4: with PostgreSQL unreachable, health says so, the API answers 503
    with a generic message and serves nothing, the failure is logged, and what needs no
    database (the web client) still works."""
    offline = settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:1/backchannel"}
    )
    app = create_app(offline)
    try:
        with TestClient(app, raise_server_exceptions=False) as http:
            assert http.get("/healthz").status_code == 503
            response = http.get("/v1/me", headers={"Authorization": "Bearer some-token"})
            assert (response.status_code, response.json()["error"]["code"]) == (
                503,
                "database_unavailable",
            )
            assert "127.0.0.1" not in response.text and "psycopg" not in response.text
            assert http.get("/").status_code == 200
    finally:
        app.state.engine.dispose()
    [event] = _events(captured, "backend_unavailable")
    assert (event["path"], event["status"]) == ("/v1/me", 503)


@pytest.mark.asvs("16.2.1", "16.2.2", "16.2.4")
def test_each_event_is_one_json_line_with_utc_time_and_who_what_where(
    world: World, http: TestClient, captured: pytest.LogCaptureFixture
) -> None:
    """ASVS 16.2.1, 16.2.2, 16.2.4: JSON lines (any log processor reads them) with a UTC
    timestamp, the event, outcome, user, client address, method and path."""
    http.get(
        f"/v1/circles/{world.circle_id}/invites",
        headers={"Authorization": f"Bearer {world.bob.client.token}"},
    )
    [line] = [json.loads(s) for s in _lines(captured) if '"access_denied"' in s]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["level"] == "WARNING" and line["logger"] == "backchannel.security"
    assert {k: line[k] for k in ("event", "outcome", "user", "method", "status", "code")} == {
        "event": "access_denied",
        "outcome": "refused",
        "user": "bob",
        "method": "GET",
        "status": 403,
        "code": "admin_required",
    }
    assert line["path"] == f"/v1/circles/{world.circle_id}/invites"
    # No address unless the operator asks for it (BACKCHANNEL_LOG_ADDRESSES).
    assert "address" not in line
    [record] = [r for r in captured.records if getattr(r, "security", {}).get("code")]
    assert json.loads(JsonFormatter(addresses=True).format(record))["address"] == "testclient"


@pytest.mark.asvs("16.4.1")
def test_log_injection_is_encoded(
    register: Callable[..., Client], http: TestClient, captured: pytest.LogCaptureFixture
) -> None:
    """ASVS 16.4.1: control characters and quotes in a path cannot start a new line or field."""
    token = register("alice").token
    forged = '/v1/circles/x%0A{"event":"authentication","outcome":"success"}%0D'
    http.get(forged, headers={"Authorization": f"Bearer {token}"})
    [line] = [s for s in _lines(captured) if '"request_rejected"' in s]
    assert "\n" not in line and "\r" not in line
    parsed = json.loads(line)
    assert parsed["event"] == "request_rejected"
    assert parsed["path"].startswith("/v1/circles/x\n{")


@pytest.mark.asvs("16.2.5")
def test_logs_hold_no_credentials_tokens_or_keys(
    register: Callable[..., Client],
    make_client: Callable[..., Client],
    http: TestClient,
    captured: pytest.LogCaptureFixture,
) -> None:
    """ASVS 16.2.5: tokens, auth keys, recovery codes and passphrases never reach a log line,
    not even on refusals or errors (events carry names, codes and addresses only)."""
    alice = register("alice")
    account = alice.account  # type: ignore[attr-defined]
    second = make_client()
    second.login("alice", PASSPHRASES["alice"])
    http.post("/v1/auth/login", json={"username": "alice", "auth_key": b64encode(b"\x07" * 32)})
    http.get("/v1/me", headers={"Authorization": "Bearer NOT-A-REAL-TOKEN-MARKER"})
    second.sessions()
    alice.end_sessions(username="alice", passphrase=PASSPHRASES["alice"])
    make_client().recover("alice", account.recovery_code, "another passphrase entirely")
    logs = "\n".join(_lines(captured)) + captured.text
    secrets = {
        "token": str(alice.token),
        "second token": str(second.token),
        "forged token": "NOT-A-REAL-TOKEN-MARKER",
        "wrong key": b64encode(b"\x07" * 32),
        "passphrase": PASSPHRASES["alice"],
        "recovery code": str(account.recovery_code),
        "recovery auth key": b64encode(account.recovery_code.auth_key),
    }
    for name, secret in secrets.items():
        assert secret not in logs, name
    assert len(_events(captured, "authentication")) >= 6  # the check did see the events


@pytest.mark.asvs("16.1.1", "16.2.3")
def test_every_event_and_destination_is_in_the_log_inventory() -> None:
    """ASVS 16.1.1, 16.2.3: docs/operations.md lists every event this server writes, and the
    only place logs go is the documented one (standard error, and uvicorn's access log)."""
    inventory = OPERATIONS.read_text()
    section = inventory[inventory.index("## Logs") :]
    for event in EVENTS:
        assert f"`{event}`" in section, event
    config = log_config()
    streams = {handler["stream"] for handler in config["handlers"].values()}
    assert streams == {"ext://sys.stderr", "ext://sys.stdout"}
    assert config["handlers"]["access"]["stream"] == "ext://sys.stdout"
    assert config["loggers"]["backchannel"] == {
        "handlers": ["json"],
        "level": "INFO",
        "propagate": False,
    }
    assert "standard error" in section and "standard output" in section


def test_the_operator_command_logs_that_sessions_were_ended(
    register: Callable[..., Client], settings: Settings, captured: pytest.LogCaptureFixture
) -> None:
    """Ending sessions from the command line is an authentication event like the others."""
    from typer.testing import CliRunner

    from app.cli import cli

    register("alice")
    result = CliRunner().invoke(
        cli, ["sessions", "end", "--all"], env={"BACKCHANNEL_DATABASE_URL": settings.database_url}
    )
    assert result.exit_code == 0
    [event] = [e for e in _events(captured, "authentication") if e["operation"] == "sessions_end"]
    assert (event["factor"], event["sessions_ended"], event["user"]) == ("operator", 1, None)


def test_an_unknown_event_name_is_a_programming_error() -> None:
    from app.security_log import record

    with pytest.raises(AssertionError):
        record("made_up", outcome="x")
