"""The hot routes solve their parameters by hand (``app.hand_solved``, issue 19); they must
answer byte for byte what FastAPI's own solving of the same declared route answers, refusals
included, and refuse to be built in a shape the hand solving does not cover."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Header, Request, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.deps import CurrentCaller, CurrentUser, Session, current_caller
from app.errors import NotAuthenticated
from app.hand_solved import HandSolved, hand_solved, is_hand_solved
from tests.conftest import World
from tests.test_ceiling import _auth, _post_body

HOT = {
    ("GET", "/v1/me"),
    ("GET", "/v1/circles/{circle_id}/entries"),
    ("POST", "/v1/circles/{circle_id}/entries"),
}


@pytest.fixture
def generic(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The same app over the same database, with FastAPI solving every route (the code
    the hand solving replaced)."""
    with monkeypatch.context() as patch:
        patch.setattr(HandSolved, "get_route_handler", APIRoute.get_route_handler)
        application = make_app()
    with TestClient(application) as client:
        yield client


def _same(hand: TestClient, generic: TestClient, method: str, path: str, **kw: Any) -> int:
    a = hand.request(method, path, **kw)
    b = generic.request(method, path, **kw)
    assert (a.status_code, a.content) == (b.status_code, b.content), (method, path, kw)
    assert a.headers.get("content-type") == b.headers.get("content-type")
    return a.status_code


def test_the_hot_routes_and_only_they_are_hand_solved(app: FastAPI) -> None:
    """Otherwise the comparisons below would compare FastAPI with itself."""
    found = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, HandSolved)
        for method in route.methods
    }
    assert found == HOT
    for route in app.routes:
        if isinstance(route, APIRoute):
            assert is_hand_solved(route.endpoint) == isinstance(route, HandSolved)


def test_me_alike(world: World, http: TestClient, generic: TestClient) -> None:
    assert _same(http, generic, "GET", "/v1/me", headers=_auth(world.bob)) == 200
    assert _same(http, generic, "GET", "/v1/me") == 401
    assert _same(http, generic, "GET", "/v1/me", headers=_auth("forged")) == 401
    assert _same(http, generic, "GET", "/v1/me?unknown=1", headers=_auth(world.bob)) == 200


def test_feed_alike(world: World, http: TestClient, generic: TestClient) -> None:
    feed = f"/v1/circles/{world.circle_id}/entries"
    for _ in range(3):
        http.post(feed, json=_post_body(world.bob, world.circle_id), headers=_auth(world.bob))
    cases = {
        "": 200,
        "?limit=2": 200,
        "?limit=1&limit=2": 200,
        "?before=2": 200,
        "?after=1": 200,
        "?changed_after=0": 200,
        "?unknown=x": 200,
        "?before=1&after=1": 422,  # refused by the endpoint
        "?limit=0&before=-1&after=x": 422,  # three parameter errors, in FastAPI's order
        "?limit=%F0%9F%98%80": 422,
    }
    for query, status in cases.items():
        assert _same(http, generic, "GET", feed + query, headers=_auth(world.alice)) == status
    for person, status in ((world.frank, 404), (world.dave, 403), (world.erin, 403)):
        assert _same(http, generic, "GET", feed, headers=_auth(person)) == status
    assert _same(http, generic, "GET", feed) == 401
    # The caller is checked before the parameters, as FastAPI solves dependencies first.
    assert _same(http, generic, "GET", "/v1/circles/nope/entries?limit=0") == 401
    bad = "/v1/circles/nope/entries?limit=0"
    assert _same(http, generic, "GET", bad, headers=_auth(world.alice)) == 422


def test_post_alike(world: World, http: TestClient, generic: TestClient) -> None:
    path = f"/v1/circles/{world.circle_id}/entries"
    bob = _auth(world.bob)
    good = _post_body(world.bob, world.circle_id)
    first = http.post(path, json=good, headers=bob)
    assert first.status_code == 201
    # Idempotent: the stored entry's answer, from both.
    assert _same(http, generic, "POST", path, json=good, headers=bob) == 201
    assert generic.post(path, json=good, headers=bob).content == first.content
    other = _post_body(world.bob, world.circle_id)
    documents: dict[str, tuple[Any, int]] = {
        "unknown field": ({**other, "extra": 1}, 422),
        "missing field": ({k: v for k, v in other.items() if k != "nonce"}, 422),
        "many errors": ({"entry_id": "x", "epoch": "y", "nonce": 5}, 422),
        "not an object": ([1, 2], 422),
        "null": (None, 422),
        "a string": ("text", 422),
        "stale epoch": ({**other, "epoch": 7}, 409),
        "not own key": (_post_body(world.alice, world.circle_id), 422),
    }
    for name, (document, status) in documents.items():
        assert _same(http, generic, "POST", path, json=document, headers=bob) == status, name
    raw = {
        "malformed JSON": (b'{"entry_id": ', 422),
        "not UTF-8": (b'{"entry_id": "\xff"}', 422),
        "empty": (b"", 422),
        "spaces": (b"   ", 422),
        "deep": (b"[" * 5000 + b"]" * 5000, 422),
    }
    for name, (content, status) in raw.items():
        headers = {**bob, "content-type": "application/json; charset=utf-8"}
        got = _same(http, generic, "POST", path, content=content, headers=headers)
        assert got == status, name
    # Errors of the path and of the body are refused together, the path's first.
    bad_path = "/v1/circles/not-a-uuid/entries"
    assert _same(http, generic, "POST", bad_path, json={"epoch": "x"}, headers=bob) == 422
    # A JSON syntax error is refused before the session check; anything else after it.
    json_media = {"content-type": "application/json"}
    for content, status in ((b"{", 422), (b'{"epoch": 1}', 401)):
        assert _same(http, generic, "POST", path, content=content, headers=json_media) == status
    for person, status in ((world.frank, 404), (world.dave, 403), (world.erin, 403)):
        body = _post_body(world.bob, world.circle_id)
        assert _same(http, generic, "POST", path, json=body, headers=_auth(person)) == status
    # Nothing the refusals sent was stored: only the first post and its retries.
    page = http.get(path, headers=bob).json()
    assert [e["entry_id"] for e in page["entries"]] == [good["entry_id"]]


def test_an_override_falls_back_to_fastapi(world: World, app: FastAPI, http: TestClient) -> None:
    """A dependency override (FastAPI's testing hook) is honoured: the route is then solved
    by FastAPI, which applies it."""

    async def nobody() -> None:
        raise NotAuthenticated()

    assert http.get("/v1/me", headers=_auth(world.bob)).status_code == 200
    app.dependency_overrides[current_caller] = nobody
    try:
        assert http.get("/v1/me", headers=_auth(world.bob)).status_code == 401
    finally:
        app.dependency_overrides.clear()


async def _post(request: Request, session: Session, caller: CurrentCaller) -> Response:
    return Response()


async def _me(caller: CurrentCaller) -> Response:
    return Response()


async def _user(caller: CurrentCaller, user: CurrentUser) -> Response:
    return Response()


async def _header(session: Session, caller: CurrentCaller, x_thing: str = Header()) -> Response:
    return Response()


async def _caller_first(caller: CurrentCaller, session: Session) -> Response:
    return Response()


def _sync(session: Session, caller: CurrentCaller) -> Response:
    return Response()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_shapes_it_cannot_solve_are_refused_when_built(database_url: str) -> None:
    HandSolved("/ok", _post, methods=["POST"])
    HandSolved("/ok", _me, methods=["GET"])
    refused = (
        (_me, "POST", "a read"),  # a check-only session is for reads
        (_user, "GET", "session and the caller only"),
        (_header, "GET", "parameter kind"),
        (_caller_first, "GET", "session and the caller only"),
        (_sync, "GET", "async"),
    )
    for endpoint, method, message in refused:
        with pytest.raises(TypeError, match=message):
            HandSolved("/x", endpoint, methods=[method])
    assert is_hand_solved(hand_solved(_me)) and not is_hand_solved(_post)


def test_unknown_route_ids_are_not_found(world: World, http: TestClient) -> None:
    """A well-formed id of no circle: 404 from the service, after the check."""
    path = f"/v1/circles/{uuid.uuid4()}/entries"
    assert http.get(path, headers=_auth(world.bob)).status_code == 404
