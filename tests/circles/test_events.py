"""Live updates (GET /v1/events): authenticated, bounded, content-free, and ended by the
session checks within one poll, whichever worker made the change.

The stream is served by a second app over the test's database (``make_app``, a live
uvicorn) while every change goes through the first (``http``): two workers, so what the
stream sees it read from the database, not from anything in its own process.
"""

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.client.entries import Entries
from tests.conftest import World, serving

POLL = 0.2
LIMIT = 3.0  # a change must show on the stream within this many seconds
MARKER = "MARKER-live-stream-4e1a"


class Stream:
    """One open stream, read event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self) -> tuple[str, dict[str, Any]]:
        event, data = "", ""
        for line in self.lines:
            if line == "":
                if event:
                    return event, json.loads(data)
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data = value
            # "retry:" and ":" comments (heartbeats) are not events
        raise EOFError("the stream ended")

    def until(self, kind: str) -> tuple[dict[str, Any], float]:
        """The next ``kind`` event and how long it took to come."""
        started = time.monotonic()
        while True:
            event, data = self.next()
            if event == kind:
                return data, time.monotonic() - started


@pytest.fixture
def worker(make_app: Any) -> Iterator[str]:
    """A second worker over the same database, polling fast."""
    application: FastAPI = make_app(
        events_poll_seconds=POLL, events_heartbeat_seconds=0.5, events_max_streams=10
    )
    with serving(application) as url:
        yield url


@contextmanager
def stream(url: str, token: str | None) -> Iterator[Stream]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with (
        httpx.Client(base_url=url, timeout=httpx.Timeout(10.0)) as client,
        client.stream("GET", "/v1/events", headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        yield Stream(response)


def _refusal(url: str, token: str | None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{url}/v1/events", headers=headers, timeout=10)
    return response.status_code, response.json()["error"]["code"]


def test_refuses_without_a_live_session(world: World, worker: str) -> None:
    assert _refusal(worker, None) == (401, "not_authenticated")
    assert _refusal(worker, "forged-token") == (401, "not_authenticated")
    token = world.bob.client.token
    world.bob.client.logout()
    assert _refusal(worker, token) == (401, "not_authenticated")


def test_carries_positions_only_and_sees_another_workers_post(world: World, worker: str) -> None:
    with stream(worker, world.bob.client.token) as events:
        first, _ = events.until("circles")
        assert first == {
            "circles": [{"circle_id": str(world.circle_id), "last_seq": 0, "last_change_seq": 0}]
        }
        Entries(world.alice.circles).post(
            world.circle_id, subject=MARKER, text=MARKER, categories=["harassment"]
        )
        change, took = events.until("circle")
        assert change == {"circle_id": str(world.circle_id), "last_seq": 1, "last_change_seq": 1}
        assert took < LIMIT
        assert MARKER not in json.dumps(change)


def test_bounded_per_session_and_per_worker(world: World, worker: str, make_app: Any) -> None:
    token = world.bob.client.token
    with stream(worker, token), stream(worker, token), stream(worker, token) as third:
        third.until("circles")
        assert _refusal(worker, token) == (429, "too_many_streams")
        # Another session of another person is not counted against this one.
        with stream(worker, world.carol.client.token) as other:
            other.until("circles")
    # Closed streams give their slots back (the server notices within a poll).
    deadline = time.monotonic() + LIMIT
    while True:
        try:
            with stream(worker, token) as again:
                again.until("circles")
            break
        except AssertionError:
            assert time.monotonic() < deadline
            time.sleep(POLL)
    small: FastAPI = make_app(events_poll_seconds=POLL, events_max_streams=1)
    with serving(small) as url, stream(url, token) as only:
        only.until("circles")
        assert _refusal(url, world.carol.client.token) == (503, "streams_full")


def test_logout_ends_the_stream(world: World, worker: str) -> None:
    with stream(worker, world.bob.client.token) as events:
        events.until("circles")
        world.bob.client.logout()
        ended, took = events.until("end")
        assert ended == {"code": "session_ended"}
        assert took < LIMIT
        with pytest.raises(EOFError):
            events.next()


def test_removal_and_deletion_end_the_circle(world: World, worker: str) -> None:
    with (
        stream(worker, world.bob.client.token) as bob,
        stream(worker, world.carol.client.token) as carol,
    ):
        bob.until("circles")
        carol.until("circles")
        world.alice.circles.remove(world.circle_id, "bob")
        gone, took = bob.until("gone")
        assert gone == {"circle_id": str(world.circle_id), "code": "not_a_member"}
        assert took < LIMIT
        world.alice.circles.delete(world.circle_id)
        gone, took = carol.until("gone")
        assert gone == {"circle_id": str(world.circle_id), "code": "circle_deleted"}
        assert took < LIMIT


def test_a_confirmed_member_sees_the_circle_appear(world: World, worker: str) -> None:
    with stream(worker, world.dave.client.token) as dave:
        assert dave.until("circles")[0] == {"circles": []}  # pending: nothing yet
        world.alice.circles.confirm(world.circle_id, "dave", fingerprint=world.dave.fingerprint)
        change, _ = dave.until("circle")
        assert uuid.UUID(change["circle_id"]) == world.circle_id


def test_one_account_cannot_take_every_stream_of_a_worker(
    world: World, make_app: Any, make_client: Any
) -> None:
    """Sessions are cheap to make (one login each), so the per-session bound alone would let
    one member fill a worker's table and shut everyone else out (503 streams_full); each
    account holds at most ``events_per_account`` streams per worker."""
    from tests.conftest import PASSPHRASES

    tokens = [make_client().login("bob", PASSPHRASES["bob"]).token for _ in range(3)]
    small: FastAPI = make_app(events_poll_seconds=POLL, events_max_streams=8, events_per_account=5)
    with serving(small) as url, ExitStack() as held:
        opened = [held.enter_context(stream(url, token)) for token in tokens[:2] * 2]
        opened.append(held.enter_context(stream(url, tokens[2])))
        for each in opened:  # kept referenced: a dropped reader closes its stream
            each.until("circles")
        assert _refusal(url, tokens[2]) == (429, "too_many_streams")
        # The worker still has room for someone else.
        with stream(url, world.carol.client.token) as other:
            other.until("circles")


def test_heartbeats_then_an_end_to_reconnect(world: World, make_app: Any) -> None:
    """Comment lines keep proxies from closing a quiet stream; after its lifetime it ends
    with ``reconnect`` (the client opens a new one), and its slot is free again."""
    application: FastAPI = make_app(
        events_poll_seconds=POLL, events_heartbeat_seconds=0.3, events_max_seconds=1.5
    )
    token = world.bob.client.token
    with serving(application) as url, stream(url, token) as events:
        lines = []
        for line in events.lines:
            lines.append(line)
            if line.startswith("data: ") and "reconnect" in line:
                break
        assert lines[0] == "retry: 3000"
        assert lines.count(": keep-alive") >= 2
        assert lines[-2:] == ["event: end", 'data: {"code":"reconnect"}']
        assert all(
            line.startswith(("retry:", ": keep-alive", "event:", "data:")) or not line
            for line in lines
        )
    assert application.state.event_streams.held == {}
