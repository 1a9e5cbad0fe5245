"""Who may make an account and how many: per-address and server-wide limits, invite-only
servers, and the separate Argon2 lane that keeps logins out of a registration flood."""

import dataclasses
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.accounts.models import RegistrationHit, User
from app.client.circles import Circles
from app.client.errors import ApiError
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.crypto import b64encode
from app.crypto.circles import Invite
from app.db import utcnow
from app.invites.models import InviteRow
from tests.accounts.test_register import _valid_body
from tests.conftest import PASSPHRASES, World, passphrase_for, sign_up


def _register(app: FastAPI, address: str, username: str, **extra: object) -> httpx.Response:
    with TestClient(app, client=(address, 40000)) as http:
        response: httpx.Response = http.post(
            "/v1/auth/register", json=_valid_body(username) | extra
        )
    return response


def _users(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def _code(response: httpx.Response) -> tuple[int, str | None]:
    if response.status_code < 400:
        return response.status_code, None
    return response.status_code, response.json()["error"]["code"]


# --- Limits -------------------------------------------------------------------------------------


def test_one_address_may_make_only_so_many_accounts(
    make_app: Callable[..., FastAPI], engine: Engine
) -> None:
    app = make_app(registration_address_limit=3)
    for n in range(3):
        assert _code(_register(app, "198.51.100.7", f"dora{n}")) == (201, None)
    refused = _register(app, "198.51.100.7", "dora3")
    assert _code(refused) == (429, "rate_limited")
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert "accounts" in refused.json()["error"]["message"]
    assert _users(engine) == 3
    assert _code(_register(app, "203.0.113.9", "dora3")) == (201, None)


def test_an_ipv6_host_counts_as_its_whole_64(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(registration_address_limit=2)
    assert _code(_register(app, "2001:db8:1:2::1", "ivy0")) == (201, None)
    assert _code(_register(app, "2001:db8:1:2:ffff::9", "ivy1")) == (201, None)
    assert _code(_register(app, "2001:db8:1:2::abcd", "ivy2")) == (429, "rate_limited")
    assert _code(_register(app, "2001:db8:1:3::1", "ivy2")) == (201, None)


def test_the_server_wide_limit_holds_across_addresses(
    make_app: Callable[..., FastAPI], engine: Engine
) -> None:
    app = make_app(registration_server_limit=3)
    for n in range(3):
        assert _code(_register(app, f"192.0.2.{n + 1}", f"sam{n}")) == (201, None)
    assert _code(_register(app, "192.0.2.99", "sam3")) == (429, "rate_limited")
    assert _users(engine) == 3


def test_the_limits_hold_across_workers(make_app: Callable[..., FastAPI]) -> None:
    """Counted in the database: two apps over one database (two workers) share the window."""
    first, second = make_app(registration_address_limit=2), make_app(registration_address_limit=2)
    assert _code(_register(first, "198.51.100.7", "wim0")) == (201, None)
    assert _code(_register(second, "198.51.100.7", "wim1")) == (201, None)
    assert _code(_register(first, "198.51.100.7", "wim2")) == (429, "rate_limited")


def test_the_limit_lifts_when_the_window_passes(
    make_app: Callable[..., FastAPI], engine: Engine
) -> None:
    app = make_app(registration_address_limit=1)
    assert _code(_register(app, "198.51.100.7", "lea0")) == (201, None)
    assert _code(_register(app, "198.51.100.7", "lea1")) == (429, "rate_limited")
    with Session(engine) as session:
        session.execute(
            update(RegistrationHit).values(created_at=utcnow() - timedelta(seconds=3601))
        )
        session.commit()
    assert _code(_register(app, "198.51.100.7", "lea1")) == (201, None)
    with Session(engine) as session:  # the aged rows were dropped, the new ones counted
        assert session.scalar(select(func.count()).select_from(RegistrationHit)) == 2


def test_refused_registrations_fill_no_window(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(registration_address_limit=1)
    assert _code(_register(app, "198.51.100.7", "max")) == (201, None)
    other = make_app(registration_address_limit=2)
    assert _code(_register(other, "203.0.113.9", "max")) == (409, "username_taken")
    broken = _valid_body("nia")
    broken["identity"]["x25519_signature"] = b64encode(bytes(64))  # type: ignore[index]
    with TestClient(other, client=("203.0.113.9", 1)) as http:
        assert _code(http.post("/v1/auth/register", json=broken)) == (422, "invalid_identity")
    assert _code(_register(other, "203.0.113.9", "nia")) == (201, None)
    assert _code(_register(other, "203.0.113.9", "ola")) == (201, None)


# --- Invite-only servers ------------------------------------------------------------------------


@pytest.fixture
def invite_only(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app(registration="invite")


def _invite_body(invite: Invite, secret: bytes | None = None) -> dict[str, str]:
    return {
        "circle_id": str(invite.circle_id),
        "invite_id": str(invite.invite_id),
        "secret": b64encode(secret or invite.secret),
    }


def test_an_invite_only_server_makes_accounts_only_with_a_valid_invite(
    invite_only: FastAPI, world: World, engine: Engine
) -> None:
    before = _users(engine)
    alice = world.alice.circles
    invite, _ = alice.create_invite(world.circle_id)
    revoked, _ = alice.create_invite(world.circle_id)
    alice.revoke_invite(world.circle_id, str(revoked.invite_id))
    expired, _ = alice.create_invite(world.circle_id)
    with Session(engine) as session:
        session.execute(
            update(InviteRow)
            .where(InviteRow.id == expired.invite_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    attempts = {
        "no invite": ({}, (403, "invite_required")),
        "wrong secret": ({"invite": _invite_body(invite, bytes(32))}, (404, "invite_not_found")),
        "unknown invite": (
            {"invite": _invite_body(dataclasses.replace(invite, invite_id=uuid.uuid4()))},
            (404, "invite_not_found"),
        ),
        "another circle": (
            {"invite": _invite_body(dataclasses.replace(invite, circle_id=uuid.uuid4()))},
            (404, "invite_not_found"),
        ),
        "revoked": ({"invite": _invite_body(revoked)}, (410, "invite_revoked")),
        "expired": ({"invite": _invite_body(expired)}, (410, "invite_expired")),
    }
    for label, (extra, refusal) in attempts.items():
        assert _code(_register(invite_only, "198.51.100.7", "gus", **extra)) == refusal, label
    assert _users(engine) == before
    made = _register(invite_only, "198.51.100.7", "gus", invite=_invite_body(invite))
    assert _code(made) == (201, None)
    assert _users(engine) == before + 1


def test_an_invite_makes_at_most_max_uses_accounts_and_is_not_redeemed_by_them(
    invite_only: FastAPI, world: World, engine: Engine
) -> None:
    invite, _ = world.alice.circles.create_invite(world.circle_id, max_uses=2)
    with TestClient(invite_only) as http:
        joiners = []
        for name in ("hana", "ines"):
            client = Client("http://testserver", http=http)
            account = client.register(name, passphrase_for(name), invite=str(invite))
            joiners.append((client, account))
        with pytest.raises(ApiError) as third:
            Client("http://testserver", http=http).register(
                "jose", passphrase_for("jose"), invite=str(invite)
            )
        assert (third.value.status, third.value.code) == (410, "invite_used_up")
        with Session(engine) as session:
            row = session.get(InviteRow, invite.invite_id)
            assert row is not None and (row.signups, row.uses) == (2, 0)
        # Each new account then joins with the invite as any account does: one use each.
        for client, account in joiners:
            circles = Circles(
                client,
                username=account.username,
                identity=account.identity,
                trust=TrustStore.in_memory(),
            )
            assert circles.join(str(invite))["status"] == "pending"
    with Session(engine) as session:
        row = session.get(InviteRow, invite.invite_id)
        assert row is not None and (row.signups, row.uses) == (2, 2)


def test_an_open_server_does_not_look_at_the_invite(
    make_app: Callable[..., FastAPI], engine: Engine
) -> None:
    bogus = {
        "circle_id": str(uuid.uuid4()),
        "invite_id": str(uuid.uuid4()),
        "secret": b64encode(bytes(32)),
    }
    assert _code(_register(make_app(), "198.51.100.7", "kai", invite=bogus)) == (201, None)


# --- The lane logins use ------------------------------------------------------------------------


def test_logins_never_wait_behind_registrations(
    make_app: Callable[..., FastAPI], make_client: Callable[..., Client]
) -> None:
    """Registrations wait in their own lane: with every one of its slots taken (a flood in
    progress), a registration times out with 503 while a login is answered at once."""
    sign_up(make_client(), "alice")
    app = make_app(public_work_concurrency=1, argon2_wait_seconds=0.5)
    with TestClient(app, client=("198.51.100.7", 1)) as http:
        slots = app.state.public_slots
        http.portal.call(slots.acquire)  # type: ignore[union-attr]
        try:
            busy = http.post("/v1/auth/register", json=_valid_body("lou"))
            login = Client("http://testserver", http=http).login("alice", PASSPHRASES["alice"])
        finally:
            slots.release()
        assert _code(busy) == (503, "server_busy")
        assert login.username == "alice"
        assert _code(http.post("/v1/auth/register", json=_valid_body("lou"))) == (201, None)
