"""A full read of a circle from the device's copy (``Entries.read_all``) is what a fresh
full read shows, after every kind of change (retraction, hiding, removal of a warning, a
key rotation, the reader's own removal), while fetching only what changed; a damaged copy
on disk is refused and read again from the start. Through the real app on both engines."""

import uuid
from pathlib import Path
from typing import Any

import pytest

from app.client.cache import FileCache, MemoryCache
from app.client.entries import Entries, ReadEntry
from app.client.errors import ApiError
from tests.conftest import Person, World
from tests.entries.test_sync import Counting
from tests.moderation.conftest import Desk


def _shown(entries: list[ReadEntry]) -> list[tuple[int, dict[str, Any]]]:
    return [(e.seq, e.as_json()) for e in entries]


def _fresh(person: Person, circle_id: uuid.UUID) -> list[tuple[int, dict[str, Any]]]:
    """What a client with nothing held reads: every page fetched, verified and opened."""
    paged = _shown(list(Entries(person.circles).pages(circle_id)))
    assert _shown(Entries(person.circles, cache=MemoryCache()).read_all(circle_id)) == paged
    return paged


def test_an_incremental_full_read_equals_a_fresh_one_after_every_kind_of_change(
    desk: Desk,
) -> None:
    world = desk.world
    gina = desk.add_member("gina")
    reader = Entries(gina.circles, cache=MemoryCache())
    counted = Counting(reader)
    posted = [
        str(desk.post_entry(world.bob, subject=f"Person {n}", text=f"TEXT-{n}-Qz9"))
        for n in range(6)
    ]

    def read(fetched: int) -> list[tuple[int, dict[str, Any]]]:
        before = counted.rows
        shown = _shown(reader.read_all(desk.cid))
        assert counted.rows - before == fetched  # only what changed came back
        assert shown == _fresh(gina, desk.cid)
        return shown

    assert [row["entry_id"] for _, row in read(6)] == posted
    read(0)
    Entries(world.bob.circles).retract(desk.cid, posted[0])
    assert read(1)[0][1]["status"] == "retracted"
    hidden = desk.report(world.carol, uuid.UUID(posted[1]))
    desk.decide(hidden, "hide")
    assert read(1)[1][1] | {"status": "x"} == read(0)[1][1] | {"status": "x"}
    shown = read(0)
    assert shown[1][1]["status"] == "hidden" and shown[1][1]["text"] is None
    desk.decide(desk.report(world.carol, uuid.UUID(posted[2])), "remove")
    assert read(1)[2][1]["status"] == "removed"
    desk.decide(hidden, "restore")
    assert read(1)[1][1]["text"] == "TEXT-1-Qz9"
    Entries(world.carol.circles).corroborate(desk.cid, posted[3], text="me too")
    assert read(1)[3][1]["corroborations"] == 1
    # A rotation: the next warnings are sealed under an epoch the copy has not seen.
    world.alice.circles.rotate(desk.cid)
    after = [
        str(desk.post_entry(world.alice, subject=f"Rotated {n}", text=f"NEW-{n}")) for n in range(3)
    ]
    shown = read(3)
    assert [row["entry_id"] for _, row in shown[-3:]] == after
    held = reader.cache.load(desk.cid)
    assert held is not None
    for gone in ("TEXT-0-Qz9", "TEXT-2-Qz9"):
        assert gone.encode() not in held.to_json()
    # Removed from the circle: the read is refused and the copy is deleted.
    world.alice.circles.remove(desk.cid, "gina")
    with pytest.raises(ApiError) as caught:
        reader.read_all(desk.cid)
    assert caught.value.code == "not_a_member"
    assert reader.cache.load(desk.cid) is None


def test_a_removed_author_and_a_rotation_leave_the_read_equal(world: World) -> None:
    """bob posts, is removed (a rotation), and the circle goes on: carol's incremental read
    and a fresh one agree on every warning, bob's included."""
    reader = Entries(world.carol.circles)
    counted = Counting(reader)
    for n in range(3):
        Entries(world.bob.circles).post(
            world.circle_id, subject=f"Before {n}", text="old", categories=["other"]
        )
    assert _shown(reader.read_all(world.circle_id)) == _fresh(world.carol, world.circle_id)
    world.alice.circles.remove(world.circle_id, "bob")
    Entries(world.alice.circles).post(
        world.circle_id, subject="After", text="new", categories=["other"]
    )
    before = counted.rows
    shown = _shown(reader.read_all(world.circle_id))
    assert counted.rows - before == 1
    assert shown == _fresh(world.carol, world.circle_id)
    assert [row["text"] for _, row in shown] == ["old", "old", "old", "new"]


def test_a_tampered_copy_on_disk_is_refused_and_read_again(world: World, tmp_path: Path) -> None:
    carol = world.carol

    def on_disk() -> Entries:
        cache = FileCache(
            tmp_path / "cache",
            identity=carol.account.identity,
            username=carol.name,
            server="http://testserver",
        )
        return Entries(carol.circles, cache=cache)

    for n in range(4):
        Entries(world.bob.circles).post(
            world.circle_id, subject=f"Kept {n}", text=f"KEPT-{n}", categories=["other"]
        )
    first = _shown(on_disk().read_all(world.circle_id))
    written = tmp_path / "cache" / f"{world.circle_id}.warnings"
    original = written.read_bytes()
    for position in (0, 30, len(original) - 1):  # the nonce, the body, the tag
        damaged = bytearray(original)
        damaged[position] ^= 1
        written.write_bytes(bytes(damaged))
        reader = on_disk()
        assert reader.cache.load(world.circle_id) is None  # refused (and deleted)
        assert not written.exists()
        written.write_bytes(bytes(damaged))
        counted = Counting(reader)
        assert _shown(reader.read_all(world.circle_id)) == first
        assert counted.rows == 4  # read again from the start
        assert first == _fresh(carol, world.circle_id)
        assert written.read_bytes() != bytes(damaged)
        held = on_disk().cache.load(world.circle_id)
        assert held is not None and len(held.warnings) == 4  # rebuilt, and it opens
        written.write_bytes(original)
