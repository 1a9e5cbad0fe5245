"""The hot routes solve their parameters by hand (``app.hand_solved``, issue 19); they must
answer byte for byte what FastAPI's own solving of the same declared route answers, refusals
included, and refuse to be built in a shape the hand solving does not cover."""

import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import fastapi.routing
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.datastructures import Default
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session as OrmSession

from app.accounts.models import User
from app.deps import CurrentCaller, CurrentUser, Session, current_caller, get_session
from app.errors import InvalidRequest, NotAuthenticated
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


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths FastAPI's ``solve_dependencies`` ran for: never a hand-solved request's."""
    paths: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def spy(*, request: Request, **kw: Any) -> Any:
        paths.append(request.url.path)
        return await original(request=request, **kw)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", spy)
    return paths


def _same(
    hand: TestClient, generic: TestClient, solved: list[str], method: str, path: str, **kw: Any
) -> int:
    """The same request to both: the same status, headers (but the date) and body bytes;
    FastAPI's solving ran for the generic one only (unless it refused the body before)."""
    solved.clear()
    a = hand.request(method, path, **kw)
    assert solved == []
    b = generic.request(method, path, **kw)
    assert (a.status_code, a.content) == (b.status_code, b.content), (method, path, kw)
    assert {**a.headers, "date": ""} == {**b.headers, "date": ""}
    if a.status_code != 422 or b"JSON decode" not in a.content:
        assert solved, "the generic app did not solve the request itself"
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


def test_me_alike(world: World, http: TestClient, generic: TestClient, solved: list[str]) -> None:
    assert _same(http, generic, solved, "GET", "/v1/me", headers=_auth(world.bob)) == 200
    assert _same(http, generic, solved, "GET", "/v1/me") == 401
    assert _same(http, generic, solved, "GET", "/v1/me", headers=_auth("forged")) == 401
    assert _same(http, generic, solved, "GET", "/v1/me?unknown=1", headers=_auth(world.bob)) == 200


def test_feed_alike(world: World, http: TestClient, generic: TestClient, solved: list[str]) -> None:
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
        assert (
            _same(http, generic, solved, "GET", feed + query, headers=_auth(world.alice)) == status
        )
    for person, status in ((world.frank, 404), (world.dave, 403), (world.erin, 403)):
        assert _same(http, generic, solved, "GET", feed, headers=_auth(person)) == status
    assert _same(http, generic, solved, "GET", feed) == 401
    # The caller is checked before the parameters, as FastAPI solves dependencies first.
    assert _same(http, generic, solved, "GET", "/v1/circles/nope/entries?limit=0") == 401
    bad = "/v1/circles/nope/entries?limit=0"
    assert _same(http, generic, solved, "GET", bad, headers=_auth(world.alice)) == 422


def test_post_alike(world: World, http: TestClient, generic: TestClient, solved: list[str]) -> None:
    path = f"/v1/circles/{world.circle_id}/entries"
    bob = _auth(world.bob)
    good = _post_body(world.bob, world.circle_id)
    first = http.post(path, json=good, headers=bob)
    assert first.status_code == 201
    # Idempotent: the stored entry's answer, from both.
    assert _same(http, generic, solved, "POST", path, json=good, headers=bob) == 201
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
        assert _same(http, generic, solved, "POST", path, json=document, headers=bob) == status, (
            name
        )
    raw = {
        "malformed JSON": (b'{"entry_id": ', 422),
        "not UTF-8": (b'{"entry_id": "\xff"}', 422),
        "empty": (b"", 422),
        "spaces": (b"   ", 422),
        "deep": (b"[" * 5000 + b"]" * 5000, 422),
    }
    for name, (content, status) in raw.items():
        headers = {**bob, "content-type": "application/json; charset=utf-8"}
        got = _same(http, generic, solved, "POST", path, content=content, headers=headers)
        assert got == status, name
    # Errors of the path and of the body are refused together, the path's first.
    bad_path = "/v1/circles/not-a-uuid/entries"
    assert _same(http, generic, solved, "POST", bad_path, json={"epoch": "x"}, headers=bob) == 422
    # A JSON syntax error is refused before the session check; anything else after it.
    json_media = {"content-type": "application/json"}
    for content, status in ((b"{", 422), (b'{"epoch": 1}', 401)):
        assert (
            _same(http, generic, solved, "POST", path, content=content, headers=json_media)
            == status
        )
    for person, status in ((world.frank, 404), (world.dave, 403), (world.erin, 403)):
        body = _post_body(world.bob, world.circle_id)
        assert (
            _same(http, generic, solved, "POST", path, json=body, headers=_auth(person)) == status
        )
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


def _rename_route(app: FastAPI, *, fail: str | None) -> str:
    """A hand-solved route on ``app`` that renames the caller in the request's session, then
    answers, or refuses (``fail``: a domain error) or answers something not a Response."""

    async def rename(session: Session, caller: CurrentCaller) -> Response:
        session.execute(update(User).where(User.id == caller.user.id).values(username="renamed"))
        if fail == "refuse":
            raise InvalidRequest("refused after writing")
        if fail == "not a response":
            return {"not": "a response"}  # type: ignore[return-value]
        return Response(status_code=204)

    path = f"/v1/test/rename/{fail}"
    app.router.add_api_route(path, rename, methods=["POST"], route_class_override=HandSolved)
    return path


def _name(engine: Engine, user_id: uuid.UUID) -> str | None:
    with OrmSession(engine) as s:
        return s.scalar(select(User.username).where(User.id == user_id))


def test_the_session_ends_before_the_answer(
    world: World, app: FastAPI, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal after a write stores nothing, an endpoint that answers something else is
    refused before its write lands, success commits before the answer; each time the
    connection is back in the pool and the next write goes through at once (on SQLite the
    process's write turn was given back)."""
    bob = world.bob
    paths = {fail: _rename_route(app, fail=fail) for fail in ("refuse", "not a response", None)}
    with OrmSession(engine) as s:
        user_id = s.scalar(select(User.id).where(User.username == "bob"))
    assert user_id is not None
    with TestClient(app, raise_server_exceptions=False) as http:
        for fail, status in (("refuse", 422), ("not a response", 500)):
            response = http.post(paths[fail], headers=_auth(bob))
            assert response.status_code == status, response.text
            assert _name(engine, user_id) == "bob"
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            post = _post_body(bob, world.circle_id)
            feed = f"/v1/circles/{world.circle_id}/entries"
            assert http.post(feed, json=post, headers=_auth(bob)).status_code == 201
        assert http.post(paths[None], headers=_auth(bob)).status_code == 204
        assert _name(engine, user_id) == "renamed"
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


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


async def _session_unscoped(
    session: Annotated[OrmSession, Depends(get_session)], caller: CurrentCaller
) -> Response:
    return Response()


async def _session_uncached(
    session: Annotated[OrmSession, Depends(get_session, scope="function", use_cache=False)],
    caller: CurrentCaller,
) -> Response:
    return Response()


async def _answers_a_dict(session: Session, caller: CurrentCaller) -> dict[str, str]:
    return {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_shapes_it_cannot_solve_are_refused_when_built(database_url: str) -> None:
    HandSolved("/ok", _post, methods=["POST"])
    HandSolved("/ok", _me, methods=["GET"])
    refused = (
        (_me, "POST", {}, "a read"),  # a check-only session is for reads
        (_user, "GET", {}, "session and the caller only"),
        (_header, "GET", {}, "parameter kind"),
        (_caller_first, "GET", {}, "session and the caller only"),
        (_sync, "GET", {}, "async"),
        (_session_unscoped, "POST", {}, "the request's"),
        (_session_uncached, "POST", {}, "the request's"),
        (_answers_a_dict, "GET", {}, "Response"),
        (_post, "POST", {"strict_content_type": False}, "parameter kind"),
        (_post, "POST", {"strict_content_type": Default(False)}, "parameter kind"),  # app's
        (_post, "POST", {"dependencies": [Depends(get_session)]}, "session and the caller"),
    )
    for endpoint, method, options, message in refused:
        with pytest.raises(TypeError, match=message):
            HandSolved("/x", endpoint, methods=[method], **options)
    # Included with a router's dependencies, the included route is checked, and refused.
    router = APIRouter()
    router.add_api_route("/x", _post, methods=["POST"], route_class_override=HandSolved)
    outer = FastAPI()
    outer.include_router(router, dependencies=[Depends(get_session)])
    with pytest.raises(TypeError, match="session and the caller only"):
        outer.openapi()  # FastAPI builds an included route's handler when first asked
    assert is_hand_solved(hand_solved(_me)) and not is_hand_solved(_post)


def test_unknown_route_ids_are_not_found(world: World, http: TestClient) -> None:
    """A well-formed id of no circle: 404 from the service, after the check."""
    path = f"/v1/circles/{uuid.uuid4()}/entries"
    assert http.get(path, headers=_auth(world.bob)).status_code == 404
