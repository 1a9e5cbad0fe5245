"""Login from any device: same keys, wrong passphrase refused, throttling."""

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.accounts.models import AuthFailure
from app.client.errors import ApiError
from app.client.sdk import Client
from app.crypto import b64encode
from app.db import utcnow
from app.settings import Settings
from tests.conftest import PASSPHRASES


def test_login_on_another_device_yields_the_same_identity(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    original = register("alice").account  # type: ignore[attr-defined]
    account = make_client().login("alice", PASSPHRASES["alice"])
    assert bytes(account.identity) == bytes(original.identity)
    assert account.fingerprint == original.fingerprint


def test_wrong_passphrase_is_invalid_credentials(
    register: Callable[..., Client], make_client: Callable[..., Client]
) -> None:
    register("alice")
    with pytest.raises(ApiError) as caught:
        make_client().login("alice", "not the passphrase at all")
    assert (caught.value.status, caught.value.code) == (401, "invalid_credentials")


def test_unknown_user_gets_the_same_error_as_a_wrong_passphrase(
    make_client: Callable[..., Client],
) -> None:
    with pytest.raises(ApiError) as caught:
        make_client().login("nobody", "some long passphrase")
    assert (caught.value.status, caught.value.code) == (401, "invalid_credentials")


def _bad_login(http: TestClient, username: str = "alice") -> int:
    response = http.post(
        "/v1/auth/login", json={"username": username, "auth_key": b64encode(b"\x00" * 32)}
    )
    return response.status_code


@pytest.mark.asvs("6.1.1", "6.3.1")
def test_rate_limit_trips_after_ten_failures_and_recovers(
    register: Callable[..., Client],
    make_client: Callable[..., Client],
    http: TestClient,
    engine: Engine,
) -> None:
    """ASVS 6.1.1, 6.3.1: the documented throttle trips, and lifts on its own (no lasting
    lockout)."""
    register("alice")
    assert [_bad_login(http) for _ in range(10)] == [401] * 10
    response = http.post(
        "/v1/auth/login", json={"username": "alice", "auth_key": b64encode(b"\x00" * 32)}
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response.headers["retry-after"]) > 0
    # Even the right passphrase is refused while the window is full (no oracle).
    with pytest.raises(ApiError) as caught:
        make_client().login("alice", PASSPHRASES["alice"])
    assert caught.value.code == "rate_limited"
    # The lock lifts by itself once the failures leave the window.
    with Session(engine) as session:
        session.execute(
            update(AuthFailure).values(created_at=utcnow().replace(year=utcnow().year - 1))
        )
        session.commit()
    assert make_client().login("alice", PASSPHRASES["alice"]).username == "alice"


@pytest.mark.asvs("6.1.1", "6.3.1")
def test_throttle_of_one_account_does_not_lock_others(
    register: Callable[..., Client], make_client: Callable[..., Client], http: TestClient
) -> None:
    """ASVS 6.1.1, 6.3.1: one account's throttle locks no one else out."""
    register("alice")
    register("bob")
    for _ in range(11):
        _bad_login(http, "alice")
    assert make_client().login("bob", PASSPHRASES["bob"]).username == "bob"


@pytest.mark.asvs("6.3.1")
def test_account_wide_limit_is_one_hundred_failures_an_hour(
    register: Callable[..., Client], http: TestClient, engine: Engine, settings: Settings
) -> None:
    """ASVS 6.3: no more than 100 failed attempts per hour on one account, from any address."""
    from app.accounts import throttle

    register("alice")
    with Session(engine) as session:
        for i in range(100):
            throttle.record_failure(
                session, settings, username="alice", address=f"10.0.{i // 250}.{i % 250}"
            )
        session.commit()
    assert _bad_login(http) == 429


def test_client_refuses_weak_kdf_parameters_from_the_server(settings: Settings) -> None:
    """A server that announces Argon2id below t=3 / 64 MiB never gets a derived key."""
    from starlette.testclient import TestClient

    from app.client.errors import ProtocolError
    from app.main import create_app

    weak = create_app(settings.model_copy(update={"kdf_opslimit": 1, "kdf_memlimit": 8192}))
    with TestClient(weak) as http:
        for action in ("register", "login"):
            client = Client("http://testserver", http=http)
            with pytest.raises(ProtocolError) as caught:
                getattr(client, action)("alice", PASSPHRASES["alice"])
            assert caught.value.code == "weak_kdf_params"
    weak.state.engine.dispose()
