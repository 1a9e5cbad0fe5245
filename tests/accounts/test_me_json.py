"""``GET /v1/me`` is written without pydantic (``me_json``, a hot path); it must be exactly
what the declared ``MeOut`` model writes, and the route still checks the session itself
(``app.hand_solved``) as every other route does through its dependencies."""

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from app.accounts.models import AuthSession
from app.accounts.queries import Account
from app.accounts.router import me_json, me_out
from app.accounts.schemas import MeOut
from app.client.sdk import Client
from app.crypto.bundle import BUNDLE_BYTES


def _account(created_at: datetime, username: str = "alice") -> Account:
    return Account(
        id=uuid.uuid4(),
        username=username,
        kdf_salt=os.urandom(16),
        kdf_opslimit=3,
        kdf_memlimit=64 * 1024 * 1024,
        x25519_public=os.urandom(32),
        ed25519_public=os.urandom(32),
        x25519_signature=os.urandom(64),
        key_bundle=os.urandom(BUNDLE_BYTES),
        created_at=created_at,
        deleted_at=None,
    )


@pytest.mark.parametrize(
    "created_at",
    [
        datetime(2026, 12, 6, 5, 25, 43, 123456, tzinfo=UTC),
        datetime(2026, 12, 6, 5, 25, 43, tzinfo=UTC),  # no fraction: pydantic writes none either
        datetime(2026, 12, 6, 5, 25, 43, 1000, tzinfo=timezone(timedelta(hours=2))),
        datetime(1999, 1, 1, tzinfo=UTC),
    ],
)
def test_me_json_is_the_declared_model(created_at: datetime) -> None:
    account = _account(created_at)
    assert me_json(account) == me_out(account).model_dump_json().encode()


@pytest.mark.parametrize(
    "username", ["ålice", "a\u202eb", 'q"uote\\', "<b>x</b>", "東京", "x" * 64, "tab\there"]
)
def test_me_json_escapes_text_as_the_model_does(username: str) -> None:
    account = _account(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), username)
    body = me_json(account)
    assert body == me_out(account).model_dump_json().encode()
    assert MeOut.model_validate_json(body).username == username


def test_served_me_is_the_model_and_checks_the_session(
    register: Callable[..., Client], http: TestClient, engine: Engine
) -> None:
    client = register("alice")
    headers = {"authorization": f"Bearer {client.token}"}
    response = http.get("/v1/me", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    model = MeOut.model_validate_json(response.content)
    assert response.content == model.model_dump_json().encode()
    assert model.username == "alice"
    assert client.me()["fingerprint"] == model.fingerprint  # the SDK reads it as before

    assert http.get("/v1/me").json()["error"]["code"] == "not_authenticated"
    refused = http.get("/v1/me", headers={"authorization": "Bearer forged"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "not_authenticated")
    with engine.begin() as conn:  # the session ends: the very next request is refused
        conn.execute(update(AuthSession).values(revoked_at=datetime.now(UTC)))
    ended = http.get("/v1/me", headers=headers)
    assert (ended.status_code, ended.json()["error"]["code"]) == (401, "not_authenticated")
