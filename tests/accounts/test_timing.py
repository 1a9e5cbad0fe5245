"""Answers about unknown usernames take as long as answers about real ones (login, recovery).

Timing is measured through the real HTTP app with the production server-side Argon2
parameters (the fixture's cheap ones would hide a skipped hash in the noise). The two kinds
of request are interleaved (ABBA), so a busy machine slows both alike, and the medians of
many samples are compared.
"""

import statistics
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from app.client.sdk import Client
from app.crypto import b64encode
from app.main import create_app
from app.settings import Settings
from tests.conftest import make_settings, sign_up

ROUNDS = 25  # each round times A, B, B, A: 50 samples of each
TOLERANCE = 0.20


@pytest.fixture
def real_cost_app(database_url: str) -> Iterator[FastAPI]:
    """The production Argon2 cost (argon2-cffi defaults of Settings), throttles out of the way."""
    defaults = Settings()
    settings = make_settings(
        database_url,
        login_pair_limit=10_000,
        login_account_limit=10_000,
        login_address_limit=10_000,
    ).model_copy(
        update={
            "server_hash_time_cost": defaults.server_hash_time_cost,
            "server_hash_memory_kib": defaults.server_hash_memory_kib,
        }
    )
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


def _timed(http: TestClient, path: str, body: dict[str, str]) -> float:
    started = time.perf_counter()
    response = http.post(path, json=body)
    elapsed = time.perf_counter() - started
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_credentials"
    return elapsed


def _medians(request: Callable[[str], float]) -> tuple[float, float]:
    known: list[float] = []
    unknown: list[float] = []
    request("alice")  # warm up: the dummy hash is made on first use
    request("nobody")
    for _ in range(ROUNDS):
        known.append(request("alice"))
        unknown.append(request("nobody"))
        unknown.append(request("nobody"))
        known.append(request("alice"))
    return statistics.median(known), statistics.median(unknown)


@pytest.mark.parametrize(
    ("path", "field"),
    [("/v1/auth/login", "auth_key"), ("/v1/auth/recovery/bundle", "recovery_auth_key")],
)
def test_unknown_usernames_cost_the_same_argon2_as_real_ones(
    real_cost_app: FastAPI, path: str, field: str
) -> None:
    with TestClient(real_cost_app, base_url="http://testserver") as http:
        sign_up(Client("http://testserver", http=http), "alice")
        wrong = b64encode(b"\x07" * 32)
        known, unknown = _medians(
            lambda username: _timed(http, path, {"username": username, field: wrong})
        )
    assert abs(unknown / known - 1) <= TOLERANCE, (
        f"median {known * 1000:.1f} ms for a real account, {unknown * 1000:.1f} ms for none"
    )
