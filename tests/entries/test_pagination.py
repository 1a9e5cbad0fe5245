"""Keyset pagination under concurrent posting: nothing skipped, nothing repeated."""

import threading
import uuid

import httpx

from app.client.circles import Circles
from app.client.entries import Entries
from app.client.errors import ApiError
from app.client.sdk import Client
from app.client.trust import TrustStore
from tests.conftest import World


def _live(person: object, server: str) -> Entries:
    client = Client(server, token=person.client.token, http=httpx.Client(timeout=30))  # type: ignore[attr-defined]
    circles = Circles(
        client,
        username=person.name,  # type: ignore[attr-defined]
        identity=person.account.identity,  # type: ignore[attr-defined]
        trust=TrustStore.in_memory(),
    )
    return Entries(circles)


def test_pages_never_skip_or_repeat_while_others_post(world: World, live_server: str) -> None:
    bob, carol, alice = (_live(p, live_server) for p in (world.bob, world.carol, world.alice))
    initial = [
        bob.post(world.circle_id, subject=f"Person {i}", text="t", categories=["other"])["entry_id"]
        for i in range(12)
    ]
    stop = threading.Event()
    posted: list[str] = []

    def keep_posting(writer: Entries) -> None:
        n = 0
        while not stop.is_set() and n < 40:
            posted.append(
                writer.post(
                    world.circle_id,
                    subject=f"Later {uuid.uuid4().hex[:6]}",
                    text="t",
                    categories=["other"],
                )["entry_id"]
            )
            n += 1

    writers = [threading.Thread(target=keep_posting, args=(w,)) for w in (bob, carol)]
    for t in writers:
        t.start()
    # Newest-first pages with a small page size while the writers post.
    seen: list[str] = []
    before = None
    client = alice.client
    while True:
        params: dict[str, object] = {"limit": 3}
        if before is not None:
            params["before"] = before
        page = client.request("GET", f"/v1/circles/{world.circle_id}/entries", params=params)
        seen.extend(row["entry_id"] for row in page["entries"])
        before = page["next_before"]
        if before is None:
            break
    # And an oldest-first sync that follows a cursor, as `read` does.
    synced = [e.entry_id for e in alice.pages(world.circle_id, page_size=4)]
    stop.set()
    for t in writers:
        t.join(30)
    assert len(seen) == len(set(seen)), "a page repeated an entry"
    assert set(initial) <= set(seen), "an entry that existed before paging was skipped"
    assert len(synced) == len(set(synced))
    # Everything posted so far is reachable after the last cursor, with no gap.
    last = max(e.seq for e in alice.pages(world.circle_id))
    rest = [e.entry_id for e in alice.pages(world.circle_id, after=len(synced))]
    assert set(synced) | set(rest) == set(initial) | set(posted)
    assert last == len(initial) + len(posted)
    for e in (bob, carol, alice):
        e.client.close()


def test_cursors_past_the_integer_columns_are_refused(world: World) -> None:
    """seq is an INTEGER column (2**31 - 1 on PostgreSQL): a larger cursor is a 422 with our
    code, not a database error (found by the fuzz suite)."""
    client = world.alice.client
    path = f"/v1/circles/{world.circle_id}"
    for method, url, kwargs in (
        ("GET", f"{path}/entries", {"params": {"after": 2**31}}),
        ("GET", f"{path}/entries", {"params": {"before": 2**63}}),
        ("GET", f"{path}/entries", {"params": {"changed_after": 2**31}}),
    ):
        try:
            client.request(method, url, **kwargs)
        except ApiError as exc:
            assert (exc.status, exc.code) == (422, "invalid_request"), (url, kwargs)
        else:
            raise AssertionError(f"{method} {url} {kwargs} was accepted")
