"""A client's copy of the circle's warnings stays right while the circle changes under it:
every kind of change reaches it through ``changed_after``, wiped text leaves it, a key
rotation between syncs does not break it, and it costs only the changes."""

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from app.client.cache import CircleCopy, MemoryCache
from app.client.entries import Entries
from app.client.errors import ApiError, ProtocolError
from app.db import utcnow
from app.settings import Settings
from tests.conftest import Person, World
from tests.moderation.conftest import Desk


class Counting:
    """Counts the warnings each sync fetched (what a sync costs is what changed)."""

    def __init__(self, entries: Entries) -> None:
        self.rows = 0
        original = entries.client.request

        def request(method: str, path: str, **kw: Any) -> Any:
            answer = original(method, path, **kw)
            if (kw.get("params") or {}).get("changed_after") is not None:
                self.rows += len(answer["entries"])
            return answer

        entries.client.request = request  # type: ignore[method-assign]


def live_texts(copy: CircleCopy) -> dict[str, str | None]:
    return {k: w.data["text"] for k, w in copy.warnings.items() if w.live}


def post(desk: Desk, author: Person, subject: str, text: str, **fields: Any) -> str:
    return str(desk.post_entry(author, subject=subject, text=text, **fields))


def test_a_cached_client_learns_every_kind_of_change_and_keeps_no_wiped_text(
    desk: Desk, engine: Engine, settings: Settings
) -> None:
    from app.entries.purge import purge_all

    world = desk.world
    reader = Entries(desk.add_member("gina").circles, cache=MemoryCache())
    counted = Counting(reader)
    ids = {
        kind: post(
            desk,
            world.bob,
            f"Subject {kind}",
            f"TEXT-{kind}-Qz9",
            expires_in_days=1 if kind == "expire" else 30,
        )
        for kind in ("retract", "expire", "hide", "remove", "corroborate", "untouched")
    }
    copy = reader.sync(desk.cid)
    assert set(live_texts(copy)) == set(ids.values()) and counted.rows == 6

    def changed(expected_rows: int) -> CircleCopy:
        before = counted.rows
        result = reader.sync(desk.cid)
        assert counted.rows - before == expected_rows  # only what changed came back
        assert reader.cache.load(desk.cid) is result
        return result

    assert changed(0).change_seq == copy.change_seq  # nothing new: nothing fetched

    Entries(world.bob.circles).retract(desk.cid, ids["retract"])
    copy = changed(1)
    assert copy.warnings[ids["retract"]].data["status"] == "retracted"

    # The expiry is signed by its author (§24.2): the clock moves, not the stored time.
    assert purge_all(settings, now=utcnow() + timedelta(days=2)) == 1
    assert changed(1).warnings[ids["expire"]].data["status"] == "expired"

    case = desk.report(world.carol, uuid.UUID(ids["hide"]))
    desk.decide(case, "hide")
    assert changed(1).warnings[ids["hide"]].data["status"] == "hidden"
    assert reader.check(desk.cid, "Subject hide").matches == []
    desk.decide(case, "restore")
    copy = changed(1)
    assert copy.warnings[ids["hide"]].data["text"] == "TEXT-hide-Qz9"
    assert [m.level for m in reader.check(desk.cid, "Subject hide").matches] == ["exact"]

    removal = desk.report(world.carol, uuid.UUID(ids["remove"]))
    desk.decide(removal, "remove")
    assert changed(1).warnings[ids["remove"]].data["status"] == "removed"

    Entries(world.carol.circles).corroborate(desk.cid, ids["corroborate"], text="me too")
    assert changed(1).warnings[ids["corroborate"]].data["corroborations"] == 1

    copy = changed(0)
    assert live_texts(copy) == {
        ids["hide"]: "TEXT-hide-Qz9",
        ids["corroborate"]: "TEXT-corroborate-Qz9",
        ids["untouched"]: "TEXT-untouched-Qz9",
    }
    held = copy.to_json()
    for gone in ("retract", "expire", "remove"):
        assert f"TEXT-{gone}-Qz9".encode() not in held, gone
        assert f"Subject {gone}".encode() not in held, gone
    checked = reader.check(desk.cid, "Subject")
    assert checked.searched == 3
    assert sorted(m.matched_name for m in checked.matches) == [
        "Subject corroborate",
        "Subject hide",
        "Subject untouched",
    ]


def test_hidden_text_leaves_the_copy_while_hidden(desk: Desk) -> None:
    world = desk.world
    reader = Entries(desk.add_member("gina").circles)
    entry = post(desk, world.bob, "Hidden Person", "HIDDEN-TEXT-Qz9")
    reader.sync(desk.cid)
    desk.decide(desk.report(world.carol, uuid.UUID(entry)), "hide")
    assert b"HIDDEN-TEXT-Qz9" not in reader.sync(desk.cid).to_json()


def test_a_key_rotation_between_syncs_does_not_break_reading(world: World) -> None:
    reader = Entries(world.carol.circles)
    bob = Entries(world.bob.circles)
    bob.post(world.circle_id, subject="Before Rotation", text="old", categories=["other"])
    synced_to = reader.sync(world.circle_id).change_seq
    epoch_before = world.carol.circles.sync(world.circle_id).epoch
    original = reader.client.request
    rotated = False

    def rotate_between_circle_sync_and_changes(method: str, path: str, **kw: Any) -> Any:
        """Right after the reader verified the circle, a member is removed (new epoch key)
        and a warning is posted under the new key: the page brings an epoch it lacks."""
        nonlocal rotated
        if (kw.get("params") or {}).get("changed_after") is not None and not rotated:
            rotated = True
            world.alice.circles.remove(world.circle_id, "bob")
            Entries(world.alice.circles).post(
                world.circle_id, subject="After Rotation", text="new", categories=["other"]
            )
        return original(method, path, **kw)

    reader.client.request = rotate_between_circle_sync_and_changes  # type: ignore[method-assign]
    copy = reader.sync(world.circle_id)
    assert rotated
    texts = sorted(w.data["text"] for w in copy.warnings.values())
    assert texts == ["new", "old"] and copy.change_seq == synced_to + 1
    assert world.carol.circles.sync(world.circle_id).epoch == epoch_before + 1


def test_a_removed_member_loses_their_copy(world: World) -> None:
    cache = MemoryCache()
    Entries(world.bob.circles).post(
        world.circle_id, subject="Kept Away", text="x", categories=["other"]
    )
    reader = Entries(world.bob.circles, cache=cache)
    reader.sync(world.circle_id)
    assert cache.load(world.circle_id) is not None
    world.alice.circles.remove(world.circle_id, "bob")
    with pytest.raises(ApiError) as caught:
        reader.check(world.circle_id, "Kept Away")
    assert caught.value.code == "not_a_member"
    assert cache.load(world.circle_id) is None


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (lambda page: page.update(last_change_seq=0), "rollback"),
        (lambda page: page["entries"].reverse(), "bad_page"),
    ],
)
def test_a_server_that_rolls_the_changes_back_or_reorders_them_is_refused(
    world: World, tamper: Callable[[dict[str, Any]], None], code: str
) -> None:
    bob = Entries(world.bob.circles)
    first = bob.post(world.circle_id, subject="Person 0", text="t", categories=["other"])
    bob.post(world.circle_id, subject="Person 1", text="t", categories=["other"])
    reader = Entries(world.carol.circles)
    reader.sync(world.circle_id)
    bob.post(world.circle_id, subject="Person 2", text="t", categories=["other"])
    Entries(world.alice.circles).corroborate(world.circle_id, first["entry_id"], text="x")
    held = reader.cache.load(world.circle_id)
    assert held is not None
    cursor = held.change_seq
    original = reader.client.request

    def lying(method: str, path: str, **kw: Any) -> Any:
        answer = original(method, path, **kw)
        if (kw.get("params") or {}).get("changed_after") is not None:
            tamper(answer)
        return answer

    reader.client.request = lying  # type: ignore[method-assign]
    with pytest.raises(ProtocolError) as caught:
        reader.sync(world.circle_id)
    assert caught.value.code == code
    after = reader.cache.load(world.circle_id)
    assert after is not None and after.change_seq == cursor  # nothing applied was saved


def test_changes_are_listed_once_each_in_change_order(world: World, http: TestClient) -> None:
    bob = Entries(world.bob.circles)
    first = bob.post(world.circle_id, subject="A A", text="t", categories=["other"])
    bob.post(world.circle_id, subject="B B", text="t", categories=["other"])
    Entries(world.carol.circles).corroborate(world.circle_id, first["entry_id"], text="x")
    page = world.carol.client.request(
        "GET", f"/v1/circles/{world.circle_id}/entries", params={"changed_after": 0}
    )
    assert [(e["seq"], e["change_seq"]) for e in page["entries"]] == [(2, 2), (1, 3)]
    assert page["last_change_seq"] == 3 and page["last_seq"] == 2
    later = world.carol.client.request(
        "GET", f"/v1/circles/{world.circle_id}/entries", params={"changed_after": 2}
    )
    assert [e["entry_id"] for e in later["entries"]] == [first["entry_id"]]


@pytest.mark.parametrize(
    "params",
    [
        {"changed_after": 0, "after": 0},
        {"changed_after": 0, "before": 5},
        {"after": 0, "before": 5},
    ],
)
def test_at_most_one_cursor_is_given(world: World, params: dict[str, int]) -> None:
    with pytest.raises(ApiError) as caught:
        world.carol.client.request("GET", f"/v1/circles/{world.circle_id}/entries", params=params)
    assert (caught.value.status, caught.value.code) == (422, "invalid_request")


def test_an_old_client_that_sends_tokens_is_refused_and_nothing_is_stored(
    world: World, http: TestClient
) -> None:
    bob = Entries(world.bob.circles)
    sent: dict[str, Any] = {}
    original = bob.client.request

    def capture(method: str, path: str, **kw: Any) -> Any:
        if method == "POST" and path.endswith("/entries"):
            sent.update(kw["json"])
            raise ApiError(599, "captured", "not sent")
        return original(method, path, **kw)

    bob.client.request = capture  # type: ignore[method-assign]
    with pytest.raises(ApiError):
        bob.post(world.circle_id, subject="Old Client", text="t", categories=["other"])
    headers = {"Authorization": f"Bearer {world.bob.client.token}"}
    old = http.post(
        f"/v1/circles/{world.circle_id}/entries",
        headers=headers,
        json={**sent, "tokens": ["A" * 43 + "="]},
    )
    assert (old.status_code, old.json()["error"]["code"]) == (422, "invalid_request")
    assert "tokens" in old.json()["error"]["message"]
    checked = http.post(
        f"/v1/circles/{world.circle_id}/check", headers=headers, json={"tokens": ["A" * 43 + "="]}
    )
    assert checked.status_code == 404
    page = world.carol.client.request("GET", f"/v1/circles/{world.circle_id}/entries")
    assert page["entries"] == [] and page["last_change_seq"] == 0
    assert json.dumps(sent).count("Old Client") == 0  # the post itself never carried the name
