"""Hold less, for less time (app/retention.py): coarse times, the retention pass, the logs."""

import json
import logging
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from app.accounts.models import AuthFailure, AuthSession, RegistrationHit
from app.cli import uvicorn_options
from app.client.errors import ApiError
from app.client.sdk import Client
from app.db import PRECISION, coarse, utcnow
from app.entries.purge import purge_all
from app.retention import registration_horizon, throttle_horizon
from app.sealed.models import SealedEvaluation
from app.security_log import AccessFormatter, log_config
from app.settings import Settings
from tests.conftest import PASSPHRASES, Person, make_settings


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_defaults_are_short() -> None:
    """Every retention period is a setting; the defaults hold little for long."""
    defaults = Settings()
    assert defaults.ended_session_retention_seconds == 24 * 3600
    assert defaults.purge_interval_seconds == 3600
    assert defaults.log_addresses is False
    assert throttle_horizon(defaults) == timedelta(hours=1)
    assert registration_horizon(defaults) == timedelta(hours=1)
    assert timedelta(hours=1) == PRECISION


def test_a_sessions_times_of_use_are_whole_hours(
    register: Callable[..., Client], engine: Engine
) -> None:
    """A session's last use is stored as its hour, written at most once an hour."""
    alice = register("alice")
    alice.me()
    with Session(engine) as session:
        row = session.scalars(select(AuthSession)).one()
    assert row.last_used_at == coarse(utcnow()) or row.last_used_at == coarse(
        utcnow() - timedelta(minutes=1)
    )
    with Session(engine) as session:
        session.execute(update(AuthSession).values(last_used_at=utcnow() - timedelta(hours=3)))
        session.commit()
    alice.me()
    with Session(engine) as session:
        touched = session.scalars(select(AuthSession.last_used_at)).one()
    assert touched == coarse(touched) and utcnow() - touched < PRECISION + timedelta(minutes=1)


def test_the_retention_pass_deletes_what_no_rule_needs(
    person: Callable[[str], Person],
    make_client: Callable[..., Client],
    engine: Engine,
    settings: Settings,
) -> None:
    """Ended sessions after their retention, throttle rows after their longest window,
    evaluation counts after their day; live sessions and fresh counters stay."""
    alice = person("alice")
    circle = alice.circles.create("Retention", "counters")
    old = make_client()
    old.login("alice", PASSPHRASES["alice"])
    old.logout()
    ended = make_client()
    ended.login("alice", PASSPHRASES["alice"])
    ended.logout()
    for _ in range(2):
        with pytest.raises(ApiError):
            make_client().login("alice", "not alice's passphrase at all")
    now = utcnow()
    with Session(engine) as session:
        user_id = session.scalars(select(AuthSession.user_id)).first()
        stale = now - timedelta(seconds=settings.ended_session_retention_seconds + 60)
        # One logged-out session ended long ago, one just now (kept for its retention).
        first_ended = session.scalars(
            select(AuthSession.id).where(AuthSession.revoked_at.is_not(None))
        ).first()
        session.execute(
            update(AuthSession).where(AuthSession.id == first_ended).values(revoked_at=stale)
        )
        # The failure rows of the first attempt are past every window, the second's are not.
        first_failure = session.scalar(select(func.min(AuthFailure.created_at)))
        session.execute(
            update(AuthFailure)
            .where(AuthFailure.created_at == first_failure)
            .values(created_at=now - throttle_horizon(settings) - timedelta(seconds=1))
        )
        session.execute(
            update(RegistrationHit).values(
                created_at=now - registration_horizon(settings) - timedelta(seconds=1)
            )
        )
        session.add_all(
            SealedEvaluation(
                circle_id=circle.circle_id, user_id=user_id, elements=1, created_at=moment
            )
            for moment in (now - timedelta(days=1, seconds=1), now - timedelta(hours=1))
        )
        session.commit()
    sessions, failures = _count(engine, AuthSession), _count(engine, AuthFailure)
    assert (sessions, _count(engine, RegistrationHit)) == (3, 2)
    purge_all(settings)
    assert _count(engine, AuthSession) == sessions - 1
    assert _count(engine, AuthFailure) == failures - 3  # pair, account and address rows
    assert _count(engine, RegistrationHit) == 0
    assert _count(engine, SealedEvaluation) == 1
    alice.client.me()  # the live session was left alone


def test_sessions_ended_by_time_are_deleted_too(
    register: Callable[..., Client], engine: Engine, settings: Settings
) -> None:
    """Expired and idle sessions go after the same retention as logged-out ones."""
    register("alice")
    register("bob")
    past = utcnow() - timedelta(seconds=settings.ended_session_retention_seconds + 60)
    with Session(engine) as session:
        first, second = session.scalars(select(AuthSession.id)).all()
        session.execute(update(AuthSession).where(AuthSession.id == first).values(expires_at=past))
        idle = past - timedelta(seconds=settings.session_idle_seconds)
        session.execute(
            update(AuthSession).where(AuthSession.id == second).values(last_used_at=idle)
        )
        session.commit()
    purge_all(settings)
    assert _count(engine, AuthSession) == 0


def test_a_zero_retention_deletes_ended_sessions_at_once(
    register: Callable[..., Client], engine: Engine, settings: Settings
) -> None:
    alice = register("alice")
    alice.logout()
    purge_all(make_settings(settings.database_url, ended_session_retention_seconds=0))
    assert _count(engine, AuthSession) == 0


def test_the_access_log_names_no_address_and_no_query() -> None:
    """uvicorn's access line as `serve` writes it: method, path, version, status."""
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:51234", "GET", "/v1/auth/params?username=alice", "1.1", 200),
        None,
    )
    line = AccessFormatter().format(record)
    assert line == 'INFO:     "GET /v1/auth/params HTTP/1.1" 200'
    config = log_config()
    assert config["formatters"]["access"] == {"()": "app.security_log.AccessFormatter"}
    assert config["formatters"]["json"]["addresses"] is False
    assert log_config(addresses=True)["formatters"]["json"]["addresses"] is True


def test_serve_takes_its_log_settings(settings: Settings) -> None:
    quiet = settings.model_copy(update={"access_log": False, "log_addresses": True})
    options = uvicorn_options(host="127.0.0.1", port=1, workers=1, settings=quiet)
    assert options["access_log"] is False
    assert options["log_config"]["formatters"]["json"]["addresses"] is True
    assert uvicorn_options(host="127.0.0.1", port=1, workers=1)["access_log"] is True


def test_security_events_name_no_address_by_default(
    make_client: Callable[..., Client], caplog: pytest.LogCaptureFixture
) -> None:
    from app.security_log import JsonFormatter

    caplog.set_level(logging.INFO)
    with pytest.raises(ApiError):
        make_client().login("nobody", "not a passphrase of anyone")
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    assert lines and all("address" not in line for line in lines)
    assert "testclient" not in json.dumps(lines)


def test_no_page_loads_anything_from_another_site(http: TestClient) -> None:
    """The web client works through Tor and any proxy: its policy allows only its own origin
    for scripts, styles, images and connections, and no page names another site to load."""
    for page in ("/", "/join", "/receipt", "/takedown"):
        response = http.get(page)
        assert response.status_code == 200, page
        policy = dict(
            part.strip().split(" ", 1)
            for part in response.headers["content-security-policy"].split(";")
        )
        for directive in ("default-src", "script-src", "style-src", "img-src", "connect-src"):
            sources = policy[directive].split()
            assert all(
                s in ("'self'", "data:", "'wasm-unsafe-eval'") or s.startswith("'sha256-")
                for s in sources
            ), (page, directive)
        assert not re.search(r'(?:src|href)="(?:https?:)?//', response.text), page


def test_token_counts_go_after_their_week_and_spent_tokens_after_their_epoch(
    person: Callable[[str], Person], engine: Engine, settings: Settings
) -> None:
    """Who took tokens in a past week, and tokens spent in a past epoch, are no rule's any
    more: the retention pass deletes them; this week's and this epoch's stay."""
    from app.anon.models import Issuance, SpentToken
    from app.circles.models import Circle
    from app.crypto.anon import token_period

    alice = person("alice")
    circle = alice.circles.create("Retention", "tokens")
    week = token_period(int(utcnow().timestamp()))
    with Session(engine) as session:
        user_id = session.scalars(select(AuthSession.user_id)).one()
        session.execute(update(Circle).values(epoch=1))
        session.add_all(
            Issuance(circle_id=circle.circle_id, user_id=user_id, epoch=1, period=p, tokens=3)
            for p in (week - 1, week)
        )
        session.add_all(
            SpentToken(circle_id=circle.circle_id, nullifier=bytes([epoch]) * 32, epoch=epoch)
            for epoch in (0, 1)
        )
        session.commit()
    purge_all(settings)
    with Session(engine) as session:
        assert session.scalars(select(Issuance.period)).all() == [week]
        assert session.scalars(select(SpentToken.epoch)).all() == [1]
