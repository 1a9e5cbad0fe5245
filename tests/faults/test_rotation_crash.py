"""The server SIGKILLed in the middle of a removal with key rotation (both engines).

The removal request is frozen with every write flushed and the transaction open, or
just after its commit with the response unsent, and the process is killed there. On
restart the circle is at the old epoch with bob still in it, or at the new epoch with
exactly one wrap per remaining member; never in between. Alice's SDK re-syncs and
finishes the removal; everyone left reads old and new warnings, bob reads nothing.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles.models import Circle, EpochKey, KeyRecordRow, Membership, MembershipEvent, Wrap
from app.client.entries import Entries
from app.client.errors import ApiError, TransportError
from app.crypto.circles import KeyRecord, load_json
from app.db import make_engine
from tests.conftest import Person
from tests.faults.conftest import ServerProcess, assert_writes_uncommitted, circle_of, register
from tests.faults.halting_server import POINTS

REMOVE_BOB = ("POST", r"/v1/circles/[^/]+/members/bob/remove")
NEW_EPOCH_TABLES = ("memberships", "key_records", "epoch_keys", "wraps", "membership_events")


@dataclass(frozen=True)
class StoredCircle:
    epoch: int
    record_epochs: list[int]  # by record seq
    record_members: set[str]  # who the newest signed record lists
    key_epochs: list[int]
    wraps: dict[int, set[str]]  # epoch -> who has a wrap
    statuses: dict[str, str]
    events: list[str]

    @property
    def active(self) -> set[str]:
        return {name for name, status in self.statuses.items() if status == "active"}


def stored(database_url: str, circle_id: uuid.UUID) -> StoredCircle:
    """What is in the database, read directly (not through the server)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            circle = session.get_one(Circle, circle_id)
            records = session.scalars(
                select(KeyRecordRow)
                .where(KeyRecordRow.circle_id == circle_id)
                .order_by(KeyRecordRow.seq)
            ).all()
            wraps: dict[int, set[str]] = {}
            for epoch, name in session.execute(
                select(Wrap.epoch, User.username)
                .join(User, User.id == Wrap.user_id)
                .where(Wrap.circle_id == circle_id)
            ):
                wraps.setdefault(epoch, set()).add(name)
            return StoredCircle(
                epoch=circle.epoch,
                record_epochs=[r.epoch for r in records],
                record_members={m.user for m in KeyRecord.parse(records[-1].record).members},
                key_epochs=list(
                    session.scalars(
                        select(EpochKey.epoch)
                        .where(EpochKey.circle_id == circle_id)
                        .order_by(EpochKey.epoch)
                    )
                ),
                wraps=wraps,
                statuses=dict(
                    session.execute(
                        select(User.username, Membership.status)
                        .join(User, User.id == Membership.user_id)
                        .where(Membership.circle_id == circle_id)
                    ).all()
                ),
                events=[
                    load_json(body.encode())["kind"]
                    for body in session.scalars(
                        select(MembershipEvent.body)
                        .where(MembershipEvent.circle_id == circle_id)
                        .order_by(MembershipEvent.seq)
                    )
                ],
            )
    finally:
        engine.dispose()


def assert_whole(circle: StoredCircle) -> None:
    """Every epoch complete: its record, key and event, and wraps for exactly who is in."""
    assert circle.key_epochs == list(range(circle.epoch + 1))
    assert max(circle.record_epochs) == circle.epoch
    assert circle.events.count("key_rotated") == circle.epoch
    assert circle.record_members == circle.active
    assert circle.wraps[circle.epoch] == circle.active
    assert set(circle.wraps) == set(circle.key_epochs)
    removed = {name for name, status in circle.statuses.items() if status == "removed"}
    assert circle.events.count("member_removed") == len(removed)


def texts(reader: Person, circle_id: uuid.UUID) -> list[str | None]:
    return [entry.text for entry in Entries(reader.circles).pages(circle_id)]


@pytest.mark.parametrize("point", POINTS)
def test_a_removal_killed_mid_rotation_lands_whole_or_not_at_all(
    server: ServerProcess, point: str
) -> None:
    server.start(halt=(*REMOVE_BOB, point))
    alice, bob, carol, dave = (register(server.url, n) for n in ("alice", "bob", "carol", "dave"))
    cid = circle_of(alice, bob, carol, dave)
    post = Entries(alice.circles).post
    post(cid, subject="Jan Novák", text="before the rotation", categories=["harassment"])
    everyone = {"alice", "bob", "carol", "dave"}
    assert stored(server.database_url, cid).wraps == {0: everyone}

    with ThreadPoolExecutor(max_workers=1) as pool:
        removal = pool.submit(alice.circles.remove, cid, "bob")
        assert server.wait_halted() == point
        frozen = stored(server.database_url, cid)
        if point == "before_commit":  # written, uncommitted, invisible
            assert_writes_uncommitted(server.database_url, *NEW_EPOCH_TABLES)
            assert frozen.epoch == 0 and frozen.active == everyone
        else:  # committed; the response is what never left
            assert frozen.epoch == 1 and frozen.statuses["bob"] == "removed"
        server.kill()
        with pytest.raises(TransportError):  # the client never heard back
            removal.result(timeout=20)
    server.start()

    after_crash = stored(server.database_url, cid)
    assert_whole(after_crash)
    if point == "before_commit":
        # Nothing of the new epoch survived: bob is in, epoch 0, as before.
        assert after_crash.epoch == 0 and after_crash.active == everyone
        assert after_crash.wraps == {0: everyone}
        assert "member_removed" not in after_crash.events
        alice.circles.remove(cid, "bob")  # the retry re-syncs and goes through
    else:
        # All of it landed; the SDK sees bob gone from the signed record and stops there.
        assert after_crash.epoch == 1 and after_crash.statuses["bob"] == "removed"
        assert alice.circles.sync(cid).record.member("bob") is None
        with pytest.raises(ApiError) as again:
            alice.circles.remove(cid, "bob")
        assert (again.value.status, again.value.code) == (409, "wrong_member_state")

    final = stored(server.database_url, cid)
    assert_whole(final)
    assert final.epoch == 1 and final.wraps[1] == {"alice", "carol", "dave"}
    assert final.events.count("member_removed") == 1

    post(cid, subject="Jan Novák", text="after the rotation", categories=["harassment"])
    for reader in (alice, carol, dave):
        assert reader.circles.sync(cid).epoch == 1
        assert texts(reader, cid) == ["before the rotation", "after the rotation"]
    with pytest.raises(ApiError) as refused:
        texts(bob, cid)
    assert refused.value.status == 403
