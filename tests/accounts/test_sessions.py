"""Session tokens: opaque, hashed at rest, ended by logout, idleness, age or credential change."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.accounts.models import AuthSession
from app.accounts.tokens import token_hash
from app.client.errors import ApiError
from app.client.sdk import Client
from app.db import utcnow
from app.settings import Settings


def _status(http: TestClient, token: str | None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = http.get("/v1/me", headers=headers)
    return response.status_code, response.json().get("error", {}).get("code", "")


def test_anonymous_request_is_401(http: TestClient) -> None:
    assert _status(http, None) == (401, "not_authenticated")


def test_forged_token_is_401(register: Callable[..., Client], http: TestClient) -> None:
    client = register("alice")
    assert client.token is not None
    forged = client.token[:-4] + ("AAAA" if not client.token.endswith("AAAA") else "BBBB")
    assert _status(http, forged) == (401, "not_authenticated")
    assert _status(http, "x" * 500) == (401, "not_authenticated")
    assert _status(http, client.token) == (200, "")


def test_token_is_stored_only_as_a_keyed_hash(
    register: Callable[..., Client], engine: Engine, settings: Settings
) -> None:
    client = register("alice")
    assert client.token is not None and len(client.token) >= 43  # 256 bits, base64url
    with Session(engine) as session:
        stored = session.scalars(select(AuthSession.token_hash)).one()
    assert stored == token_hash(settings.server_key, client.token)
    assert client.token.encode() not in stored


def test_logout_revokes_the_token_server_side(
    register: Callable[..., Client], http: TestClient
) -> None:
    client = register("alice")
    token = client.token
    client.logout()
    assert _status(http, token) == (401, "not_authenticated")


def test_idle_session_expires(
    register: Callable[..., Client], http: TestClient, engine: Engine, settings: Settings
) -> None:
    client = register("alice")
    with Session(engine) as session:
        session.execute(
            update(AuthSession).values(
                last_used_at=utcnow() - timedelta(seconds=settings.session_idle_seconds + 1)
            )
        )
        session.commit()
    assert _status(http, client.token) == (401, "not_authenticated")


def test_session_expires_at_its_absolute_lifetime_even_when_active(
    register: Callable[..., Client], http: TestClient, engine: Engine
) -> None:
    client = register("alice")
    with Session(engine) as session:
        session.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert _status(http, client.token) == (401, "not_authenticated")


def test_use_extends_the_idle_deadline(
    register: Callable[..., Client], engine: Engine, settings: Settings
) -> None:
    client = register("alice")
    stale = utcnow() - timedelta(seconds=settings.session_idle_seconds - 30)
    with Session(engine) as session:
        session.execute(update(AuthSession).values(last_used_at=stale))
        session.commit()
    client.me()
    with Session(engine) as session:
        touched = session.scalars(select(AuthSession.last_used_at)).one()
    assert touched > stale + timedelta(seconds=60)


def test_other_users_public_keys_need_a_session(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    alice = register("alice")
    register("bob")
    with pytest.raises(ApiError) as caught:
        make_client().user_keys("bob")
    assert caught.value.status == 401
    bob = alice.user_keys("bob")
    assert bob.username == "bob"
    with pytest.raises(ApiError) as missing:
        alice.user_keys("nobody")
    assert (missing.value.status, missing.value.code) == (404, "user_not_found")
