"""A post whose answer is lost (broken connection, or a 503 while the database restarts) is
sent again with the same entry id: the warning is stored once, never twice."""

import json
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from app.client.circles import Circles
from app.client.entries import Entries
from app.client.errors import ApiError
from app.client.sdk import Client
from app.client.trust import TrustStore
from tests.conftest import World


def _entries_through(http: TestClient, world: World, lose: Callable[[int], httpx.Response | None]):
    """bob's SDK, talking to the real app through a transport that forwards every request and
    then lets ``lose(n)`` (n = the how-many-th post) replace the answer of a post."""
    posts: list[str] = []

    def forward(request: httpx.Request) -> httpx.Response:
        real = http.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        if request.method == "POST" and request.url.path.endswith("/entries"):
            posts.append(json.loads(request.content)["entry_id"])
            lost = lose(len(posts))
            if lost is not None:
                return lost
        return httpx.Response(real.status_code, content=real.content, headers=real.headers)

    client = Client(
        "http://testserver",
        token=world.bob.client.token,
        http=httpx.Client(transport=httpx.MockTransport(forward)),
    )
    circles = Circles(
        client, username="bob", identity=world.bob.account.identity, trust=TrustStore.in_memory()
    )
    return Entries(circles), posts


def _stored(http: TestClient, world: World) -> list[str]:
    page = http.get(
        f"/v1/circles/{world.circle_id}/entries",
        headers={"authorization": f"Bearer {world.alice.client.token}"},
    ).json()
    return [e["entry_id"] for e in page["entries"]]


def _broken(n: int) -> httpx.Response | None:
    if n == 1:
        raise httpx.ReadError("connection reset after the request was sent")
    return None


def _unavailable(n: int) -> httpx.Response | None:
    if n == 1:
        return httpx.Response(503, json={"error": {"code": "database_unavailable", "message": "x"}})
    return None


@pytest.mark.parametrize("lose", [_broken, _unavailable], ids=["connection_lost", "503"])
def test_a_lost_answer_is_retried_with_the_same_entry_id(
    world: World, http: TestClient, lose: Callable[[int], httpx.Response | None]
) -> None:
    entries, posts = _entries_through(http, world, lose)
    posted = entries.post(world.circle_id, subject="Jan Novák", text="t", categories=["other"])
    assert len(posts) == 2 and posts[0] == posts[1] == posted["entry_id"]
    assert _stored(http, world).count(posted["entry_id"]) == 1
    assert len(_stored(http, world)) == 1


def test_stale_epoch_is_resealed_once_then_raised(world: World, http: TestClient) -> None:
    def refuse(n: int) -> httpx.Response:
        return httpx.Response(409, json={"error": {"code": "stale_epoch", "message": "x"}})

    entries, posts = _entries_through(http, world, refuse)
    with pytest.raises(ApiError) as refused:
        entries.post(world.circle_id, subject="x", text="t", categories=["other"])
    assert (refused.value.status, refused.value.code) == (409, "stale_epoch")
    assert len(posts) == 2 and posts[0] == posts[1]  # one new seal, under the same entry id


def test_a_refusal_is_not_retried(world: World, http: TestClient) -> None:
    def refuse(n: int) -> httpx.Response:
        return httpx.Response(409, json={"error": {"code": "entry_exists", "message": "x"}})

    entries, posts = _entries_through(http, world, refuse)
    with pytest.raises(ApiError) as refused:
        entries.post(world.circle_id, subject="x", text="t", categories=["other"])
    assert (refused.value.status, refused.value.code) == (409, "entry_exists")
    assert len(posts) == 1  # a 4xx is an answer: sending it again would not change it
