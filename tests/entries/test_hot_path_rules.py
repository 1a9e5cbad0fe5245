"""The hot routes (posting, corroborating, the feed, ``/v1/me``) apply every authorization rule
on the very next request, in another worker too: a revoked or idle session, a removed member,
a member who left, a deleted circle. Issue 19 rewrites these routes for speed (async routes,
queries on the loop, Core statements); these tests hold the rules to them.

Each request is real and would have succeeded before the change: its body is what bob's SDK
sealed for the circle (captured on its way out, never delivered), replayed byte for byte to a
second app over the same database (another worker) after the change was made in the first.
"""

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text, update
from starlette.testclient import TestClient

from app.accounts.models import AuthSession
from app.client.circles import Circles
from app.client.entries import Entries
from app.client.errors import TransportError
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.db import utcnow
from tests.conftest import World


def _sealed(http: TestClient, world: World, send: Callable[[Entries], Any]) -> dict[str, Any]:
    """The path and body bob's SDK POSTs for ``send``: reads go to the app, the POST is kept
    here and never delivered (each attempt is answered with a broken connection)."""
    kept: list[tuple[str, bytes]] = []

    def forward(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            kept.append((request.url.path, request.content))
            raise httpx.ConnectError("kept by the test")
        real = http.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        return httpx.Response(real.status_code, content=real.content, headers=real.headers)

    client = Client(
        "http://testserver",
        token=world.bob.client.token,
        http=httpx.Client(transport=httpx.MockTransport(forward)),
    )
    circles = Circles(
        client, username="bob", identity=world.bob.account.identity, trust=TrustStore.in_memory()
    )
    with pytest.raises(TransportError):
        send(Entries(circles))
    path, body = kept[-1]
    return {"path": path, "body": json.loads(body)}


def _requests(http: TestClient, world: World) -> dict[str, dict[str, Any]]:
    """One of each hot request bob can make, sealed now, while he may make it."""
    cid = world.circle_id
    carols = Entries(world.carol.circles).post(
        cid, subject="Jan Novák", text="seen at the wrap party", categories=["other"]
    )
    post = _sealed(
        http,
        world,
        lambda e: e.post(cid, subject="Jan Novák", text="also on set", categories=["other"]),
    )
    corroborate = _sealed(
        http, world, lambda e: e.corroborate(cid, carols["entry_id"], text="me too")
    )
    return {
        "post": {"method": "POST", **post},
        "corroborate": {"method": "POST", **corroborate},
        "feed": {"method": "GET", "path": f"/v1/circles/{cid}/entries", "body": None},
        "me": {"method": "GET", "path": "/v1/me", "body": None},
    }


def _send(worker: TestClient, token: str, request: dict[str, Any]) -> tuple[int, str]:
    answer = worker.request(
        request["method"],
        request["path"],
        json=request["body"],
        headers={"Authorization": f"Bearer {token}"},
    )
    code = answer.json().get("error", {}).get("code", "") if answer.status_code >= 400 else ""
    return answer.status_code, code


def _stored(engine: Engine, world: World) -> int:
    cid = str(world.circle_id) if engine.dialect.name == "postgresql" else world.circle_id.hex
    with engine.connect() as conn:
        entries = conn.execute(
            text("SELECT count(*) FROM entries WHERE circle_id = :c"), {"c": cid}
        ).scalar_one()
        corroborations = conn.execute(
            text("SELECT count(*) FROM corroborations WHERE circle_id = :c"), {"c": cid}
        ).scalar_one()
    return int(entries) + int(corroborations)


def _end_session(world: World, engine: Engine, how: str) -> None:
    if how == "revoked":
        world.bob.client.logout()  # on the first worker
        return
    values = (
        {"last_used_at": utcnow() - timedelta(days=2)}
        if how == "idle"
        else {"expires_at": utcnow() - timedelta(seconds=1)}
    )
    with engine.begin() as conn:
        conn.execute(update(AuthSession).values(**values))


CHANGES = ["removed", "left", "deleted"]


@pytest.mark.parametrize("change", CHANGES)
def test_a_membership_change_takes_effect_on_the_next_request_in_another_worker(
    world: World,
    http: TestClient,
    engine: Engine,
    make_app: Callable[..., FastAPI],
    change: str,
) -> None:
    requests = _requests(http, world)
    other = TestClient(make_app(), base_url="http://testserver")
    # Warm the other worker on these routes while bob may still use them.
    assert _send(other, world.bob.client.token, requests["feed"])[0] == 200
    before = _stored(engine, world)
    if change == "removed":
        world.alice.circles.remove(world.circle_id, "bob")
        refused = (403, "not_a_member")
    elif change == "left":
        world.bob.circles.leave(world.circle_id)
        refused = (403, "not_a_member")
    else:
        world.alice.circles.delete(world.circle_id)
        refused = (410, "circle_deleted")
        before = 0
    for name in ("post", "corroborate", "feed"):
        assert _send(other, world.bob.client.token, requests[name]) == refused, name
    assert _send(other, world.bob.client.token, requests["me"])[0] == 200
    assert _stored(engine, world) == before


@pytest.mark.parametrize("how", ["revoked", "idle", "expired"])
def test_an_ended_session_is_refused_on_the_next_request_in_another_worker(
    world: World,
    http: TestClient,
    engine: Engine,
    make_app: Callable[..., FastAPI],
    how: str,
) -> None:
    requests = _requests(http, world)
    other = TestClient(make_app(), base_url="http://testserver")
    token = world.bob.client.token
    assert _send(other, token, requests["me"])[0] == 200
    before = _stored(engine, world)
    _end_session(world, engine, how)
    for name, request in requests.items():
        assert _send(other, token, request) == (401, "not_authenticated"), name
    assert _stored(engine, world) == before


def test_the_captured_requests_are_real(world: World, http: TestClient) -> None:
    """The control: unchanged, the very bodies the tests above replay are accepted."""
    requests = _requests(http, world)
    for name, request in requests.items():
        status, code = _send(http, world.bob.client.token, request)
        assert status in (200, 201), (name, code)
    assert uuid.UUID(requests["post"]["body"]["entry_id"])
