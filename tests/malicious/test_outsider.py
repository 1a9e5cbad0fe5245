"""A malicious outsider: no account, no invite, only the server's public routes.

Each test plays one attack through the real HTTP app, on both databases, and asserts what
it gains: nothing, or exactly what the threat model says (docs/threat-model.md, "Outsider
attacks").
"""

import logging
import statistics
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.accounts.models import User
from app.cli import uvicorn_options
from app.client.sdk import Client
from app.crypto import b64decode, b64encode
from app.settings import Settings
from tests.accounts.test_register import _valid_body
from tests.conftest import Person, World, serving, sign_up
from tests.moderation.conftest import Desk

PEER = ("127.0.0.1", 40000)  # a proxy on the same host, as `serve` behind nginx sees it


# --- Which usernames exist, by timing ----------------------------------------------------------

ROUNDS = 25  # each round times A, B, B, A: 50 samples of each
TOLERANCE = 0.20


def _real_cost(make_app: Callable[..., FastAPI]) -> FastAPI:
    """The production Argon2 cost (the fixture's cheap one would hide a skipped hash in the
    noise), throttles out of the way."""
    defaults = Settings()
    return make_app(
        server_hash_time_cost=defaults.server_hash_time_cost,
        server_hash_memory_kib=defaults.server_hash_memory_kib,
        login_pair_limit=10_000,
        login_account_limit=10_000,
        login_address_limit=10_000,
    )


def _timed(http: TestClient, path: str, body: dict[str, str]) -> float:
    started = time.perf_counter()
    response = http.post(path, json=body)
    elapsed = time.perf_counter() - started
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "invalid_credentials"
    return elapsed


def _medians(request: Callable[[str], float]) -> tuple[float, float]:
    """Interleaved (ABBA), so a busy machine slows both alike; medians of many samples."""
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
def test_timing_does_not_tell_which_usernames_exist(
    make_app: Callable[..., FastAPI], path: str, field: str
) -> None:
    """An unknown name used to skip the dummy Argon2: 4.5 ms against 25 ms for a real one."""
    with TestClient(_real_cost(make_app), base_url="http://testserver") as http:
        sign_up(Client("http://testserver", http=http), "alice")
        wrong = b64encode(b"\x07" * 32)
        known, unknown = _medians(
            lambda username: _timed(http, path, {"username": username, field: wrong})
        )
    assert abs(unknown / known - 1) <= TOLERANCE, (
        f"median {known * 1000:.1f} ms for a real account, {unknown * 1000:.1f} ms for none"
    )


# --- Choosing the address the limits count (X-Forwarded-For) -----------------------------------


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="backchannel.security")
    return caplog


def addresses(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The client address of each authentication event, as the server saw it."""
    return [
        r.security["address"]  # type: ignore[attr-defined]
        for r in caplog.records
        if getattr(r, "security", {}).get("event") == "authentication"
    ]


def bad_login(http: TestClient, username: str, forwarded: str | None) -> int:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    response = http.post(
        "/v1/auth/login",
        json={"username": username, "auth_key": b64encode(bytes(32))},
        headers=headers,
    )
    return response.status_code


ADDRESS_LIMIT_3 = {"login_address_limit": 3, "login_pair_limit": 100, "login_account_limit": 100}


@pytest.mark.parametrize("trusted", ["", "10.0.0.5"])
def test_a_forged_x_forwarded_for_does_not_escape_the_address_limit(
    make_app: Callable[..., FastAPI], captured: pytest.LogCaptureFixture, trusted: str
) -> None:
    """With no proxy named (or another one), the header is ignored: every forged address is
    still this peer, and the per-address limit fills."""
    app = make_app(trusted_proxies=trusted, **ADDRESS_LIMIT_3)
    with TestClient(app, client=PEER) as http:
        codes = [bad_login(http, f"user{n}", f"203.0.113.{n}") for n in range(4)]
    assert codes == [401, 401, 401, 429]
    assert set(addresses(captured)) == {"127.0.0.1"}


def test_a_named_proxy_passes_on_the_real_client_address(
    make_app: Callable[..., FastAPI],
    captured: pytest.LogCaptureFixture,
) -> None:
    app = make_app(trusted_proxies="127.0.0.1, 10.0.0.0/8", **ADDRESS_LIMIT_3)
    with TestClient(app, client=PEER) as http:
        # The proxy keeps the client's own header and appends what it saw: the rightmost
        # address no trusted proxy added is the client, whatever the client wrote before it.
        forged = [bad_login(http, f"u{n}", f"192.0.2.{n}, 203.0.113.9, 10.1.1.1") for n in range(4)]
        other = bad_login(http, "someone", "198.51.100.7")
    assert forged == [401, 401, 401, 429]
    assert other == 401  # another client behind the same proxy has its own window
    assert addresses(captured) == ["203.0.113.9"] * 4 + ["198.51.100.7"]


def test_serve_does_not_let_uvicorn_trust_loopback_peers(
    make_app: Callable[..., FastAPI], captured: pytest.LogCaptureFixture
) -> None:
    """`backchannel-server serve` ran uvicorn with proxy_headers on, which trusts
    X-Forwarded-For from any loopback peer: a client on the server's host (or any client of
    a same-host proxy that passes the header through) chose its own address."""
    options = uvicorn_options(host="127.0.0.1", port=0, workers=1)
    app = make_app(**ADDRESS_LIMIT_3)
    with serving(app, proxy_headers=options["proxy_headers"]) as url:
        codes = [
            httpx.post(
                f"{url}/v1/auth/login",
                json={"username": f"user{n}", "auth_key": b64encode(bytes(32))},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(4)
        ]
    assert codes == [401, 401, 401, 429]
    assert set(addresses(captured)) == {"127.0.0.1"}


# --- Minting accounts ---------------------------------------------------------------------------


def _register_raw(http: TestClient, username: str, **extra: object) -> int:
    return http.post("/v1/auth/register", json=_valid_body(username) | extra).status_code


def _accounts(app: FastAPI) -> int:
    with Session(app.state.engine) as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def test_a_registration_flood_from_one_address_is_cut_off(
    make_app: Callable[..., FastAPI],
) -> None:
    """The review made 120 accounts from one address in 6.8 s, each two Argon2 hashes in
    the slots logins wait for. Now the address's window (default 10 an hour) ends it, and
    the refused ones cost no Argon2."""
    app = make_app()
    limit = Settings().registration_address_limit
    with TestClient(app, client=("198.51.100.7", 40000)) as http:
        codes = [_register_raw(http, f"bot{n:03d}") for n in range(120)]
    assert codes == [201] * limit + [429] * (120 - limit)
    assert _accounts(app) == limit


def test_an_outsider_makes_no_account_on_an_invite_only_server(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app(registration="invite")
    invented = {
        "circle_id": str(uuid.uuid4()),
        "invite_id": str(uuid.uuid4()),
        "secret": b64encode(bytes(32)),
    }
    with TestClient(app, client=("198.51.100.7", 40000)) as http:
        codes = {
            _register_raw(http, f"bot{n}", **extra)
            for n in range(10)
            for extra in ({}, {"invite": invented})
        }
    assert codes == {403, 404}
    assert _accounts(app) == 0


# --- Jamming the takedown channel -----------------------------------------------------------------


def test_a_takedown_flood_does_not_lock_genuine_requesters_out(
    world: World,
    http: TestClient,
    person: Callable[[str], Person],
    make_app: Callable[..., FastAPI],
) -> None:
    """The review filled the per-circle window with 50 junk requests from 10 addresses, and
    genuine requesters got 429 for an hour. Now junk only makes the next request dearer
    (docs/benchmarks.md, takedown flood, for what a flood with 100 times a requester's CPU
    does to the price)."""
    desk = Desk(world, http, person)
    desk.create_key()
    app = make_app()
    works = []
    for n in range(60):
        with TestClient(app, client=(f"198.51.100.{n % 10}", 40000)) as junk:
            works.append(desk.challenge(desk.link(), junk).json()["work"])
            body, _ = desk.takedown_body(desk.link(), http=junk, text="x" * 3800)
            assert junk.post("/v1/takedown", json=body).status_code == 201
    # 1 + floor(59/40 + 59/400): the price rose, and no request was refused.
    assert works[0] == 1 and works[-1] == 2 and works == sorted(works)
    for address in ("203.0.113.9", "198.51.100.0"):  # someone new, and a junk address
        with TestClient(app, client=(address, 40000)) as genuine:
            body, receipt = desk.takedown_body(desk.link(), http=genuine)
            assert genuine.post("/v1/takedown", json=body).status_code == 201
            assert desk.status(receipt).json()["status"] == "open"
    cases = desk.ok(
        world.carol, "GET", f"/v1/circles/{desk.cid}/moderation/cases", params={"limit": 200}
    )["cases"]
    assert len(cases) == 62
    assert max(len(b64decode(c["ciphertext"])) for c in cases) <= 4096
