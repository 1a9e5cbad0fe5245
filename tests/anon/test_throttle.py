"""The limit on requests without a session (app/anon/throttle.py): per circle and client
address, in a window, refused with 429 ``anon_rate_limited`` and Retry-After; counted in the
worker's memory only, never in the database, and forgotten once the window has passed."""

import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, inspect, select, table
from starlette.testclient import TestClient

from app.anon.throttle import AnonThrottle
from app.errors import AnonRateLimited
from tests.anon.test_anonymous_posting import anonymous_entry, token
from tests.conftest import World

LIMIT = 3


def rows(engine: Engine) -> dict[str, int]:
    """Every table's row count: what a request could have written."""
    with engine.connect() as connection:
        return {
            name: connection.scalar(select(func.count()).select_from(table(name))) or 0
            for name in inspect(engine).get_table_names()
        }


def test_requests_without_a_session_are_limited_per_circle_and_address(
    make_app: Callable[..., FastAPI],
) -> None:
    application = make_app(anon_address_limit=LIMIT)
    engine: Engine = application.state.engine
    circle, other = uuid.uuid4(), uuid.uuid4()
    paths = [
        f"/v1/anon/circles/{circle}/entries",
        f"/v1/anon/circles/{circle}/entries/{uuid.uuid4()}/retract",
        f"/v1/anon/circles/{circle}/entries/{uuid.uuid4()}/corroborations",
    ]
    with TestClient(application) as http:
        before = rows(engine)
        for path in paths:  # every route counts, refused or not (422: the body is empty)
            assert http.post(path, json={}).status_code == 422
        refused = http.post(f"/v1/anon/circles/{circle}/entries/{uuid.uuid4()}/moderation", json={})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "anon_rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 601
        assert http.post(f"/v1/anon/circles/{other}/entries", json={}).status_code == 422
        assert rows(engine) == before  # nothing was written: not a count, not an address
    assert application.state.anon_throttle.held() == 2


def test_an_honest_anonymous_post_passes_the_limit(world: World, http: TestClient) -> None:
    world.open_anonymous()
    path, body = anonymous_entry(world, world.bob, token(world, world.bob))
    assert http.post(path, json=body).status_code == 201


def test_the_window_slides_and_forgets() -> None:
    now = [1000.0]
    throttle = AnonThrottle(limit=2, window_seconds=60, clock=lambda: now[0])
    circle = uuid.uuid4()
    throttle.admit(circle, "192.0.2.1")
    now[0] += 30
    throttle.admit(circle, "192.0.2.1")
    with pytest.raises(AnonRateLimited) as caught:
        throttle.admit(circle, "192.0.2.1")
    assert caught.value.headers["Retry-After"] == "31"
    throttle.admit(circle, "192.0.2.2")  # another address
    throttle.admit(uuid.uuid4(), "192.0.2.1")  # another circle
    now[0] += 31  # the first hit left the window
    throttle.admit(circle, "192.0.2.1")
    now[0] += 61
    throttle.sweep()
    assert throttle.held() == 0  # nothing outlives the window


def test_an_ipv6_client_is_counted_per_64() -> None:
    throttle = AnonThrottle(limit=1, window_seconds=60)
    circle = uuid.uuid4()
    throttle.admit(circle, "2001:db8:1:2::1")
    with pytest.raises(AnonRateLimited):
        throttle.admit(circle, "2001:db8:1:2:ffff::9")
    throttle.admit(circle, "2001:db8:1:3::1")


def test_memory_is_bounded_under_a_flood_of_addresses() -> None:
    throttle = AnonThrottle(limit=5, window_seconds=60, max_counters=3)
    circle = uuid.uuid4()
    for n in range(3):
        throttle.admit(circle, f"192.0.2.{n}")
    throttle.admit(circle, "192.0.2.0")  # 192.0.2.1 is now the least recently used
    throttle.admit(circle, "192.0.2.200")  # full: a new address is still let in ...
    assert throttle.held() == 3  # ... and memory stays bounded
    for _ in range(5):  # 192.0.2.1's count was the one dropped: it starts afresh
        throttle.admit(circle, "192.0.2.1")
    with pytest.raises(AnonRateLimited):
        throttle.admit(circle, "192.0.2.1")


def test_one_address_cannot_fill_the_table_and_lock_everyone_out() -> None:
    """The review's flood: empty bodies to made-up circle ids from one address. Before, the
    table filled and every other sender got 429 for the whole window."""
    throttle = AnonThrottle(limit=5, window_seconds=600, max_counters=50, circles_per_address=16)
    for _ in range(16):
        throttle.admit(uuid.uuid4(), "198.51.100.7")
    with pytest.raises(AnonRateLimited) as caught:
        throttle.admit(uuid.uuid4(), "198.51.100.7")
    assert caught.value.headers["Retry-After"] == "601"
    victim = uuid.uuid4()
    for _ in range(5):
        throttle.admit(victim, "203.0.113.9")
    assert throttle.held() == 17


def test_a_flood_over_http_from_one_address_is_refused_alone(
    make_app: Callable[..., FastAPI],
) -> None:
    application = make_app(anon_address_circles=3)
    with TestClient(application) as client:
        codes = [
            client.post(f"/v1/anon/circles/{uuid.uuid4()}/entries", json={}).status_code
            for _ in range(4)
        ]
        assert codes == [422, 422, 422, 429]
        assert application.state.anon_throttle.held() == 3
