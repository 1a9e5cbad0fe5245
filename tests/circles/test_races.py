"""Two admins racing: exactly one rotation wins; the circle is never left half-rotated."""

import threading
import time

import httpx
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles.access import circle_admin
from app.circles.models import Circle, EpochKey, KeyRecordRow, Membership, Wrap
from app.client.circles import Circles
from app.client.errors import ApiError
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.errors import BackchannelError
from tests.conftest import World


def _live(person: object, server: str) -> Circles:
    client = Client(server, token=person.client.token, http=httpx.Client(timeout=30))  # type: ignore[attr-defined]
    return Circles(
        client,
        username=person.name,
        identity=person.account.identity,  # type: ignore[attr-defined]
        trust=TrustStore.in_memory(),
    )


def test_racing_rotations_one_wins_one_gets_409(
    world: World, live_server: str, engine: Engine
) -> None:
    alice, carol = _live(world.alice, live_server), _live(world.carol, live_server)
    bodies = {}
    for name, circles in (("alice", alice), ("carol", carol)):
        bodies[name] = (circles, circles._rotation(circles.sync(world.circle_id), without=None))
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def go(name: str) -> None:
        circles, body = bodies[name]
        barrier.wait()
        try:
            outcomes[name] = circles.client.request(
                "POST", f"/v1/circles/{world.circle_id}/rotate", json=body
            )
        except ApiError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=go, args=(n,)) for n in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [o for o in outcomes.values() if isinstance(o, ApiError)]
    wins = [o for o in outcomes.values() if not isinstance(o, ApiError)]
    assert len(wins) == 1 and len(errors) == 1, outcomes
    assert (errors[0].status, errors[0].code) == (409, "circle_changed")
    with Session(engine) as session:
        circle = session.get(Circle, world.circle_id)
        assert circle is not None and circle.epoch == 2
        assert (
            session.scalar(
                select(func.count())
                .select_from(EpochKey)
                .where(EpochKey.circle_id == world.circle_id)
            )
            == 3
        )
        assert (
            session.scalar(
                select(func.count())
                .select_from(KeyRecordRow)
                .where(KeyRecordRow.circle_id == world.circle_id, KeyRecordRow.epoch == 2)
            )
            == 1
        )
        assert (
            session.scalar(
                select(func.count())
                .select_from(Wrap)
                .where(Wrap.circle_id == world.circle_id, Wrap.epoch == 2)
            )
            == 3
        )
    for person in (world.alice, world.bob, world.carol):
        assert person.circles.sync(world.circle_id).epoch == 2
    for c in (alice, carol):
        c.client.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_locked_check_sees_a_removal_committed_while_it_waited(
    world: World, engine: Engine
) -> None:
    """An admin's write waits for the circle's lock while another transaction removes her:
    once it gets the lock it must see the removal and refuse (PostgreSQL; SQLite writers take
    the database's write lock before reading anything)."""
    circle_id = world.circle_id
    with Session(engine) as session:
        carol = session.scalars(select(User).where(User.username == "carol")).one()
        carol_id = carol.id
    outcome: dict[str, object] = {}
    remover = engine.connect()
    removal = remover.begin()
    remover.execute(select(Circle.id).where(Circle.id == circle_id).with_for_update())
    remover.execute(
        update(Membership)
        .where(Membership.circle_id == circle_id, Membership.user_id == carol_id)
        .values(status="removed")
    )

    def carols_write() -> None:
        with Session(engine) as session:
            user = session.get(User, carol_id)
            assert user is not None
            try:
                circle_admin(session, circle_id=circle_id, user=user, lock=True)
                outcome["result"] = "allowed"
            except BackchannelError as exc:
                outcome["result"] = exc.code
            session.rollback()

    waiter = threading.Thread(target=carols_write)
    waiter.start()
    time.sleep(0.5)  # carol's request is now waiting for the circle's lock
    removal.commit()
    remover.close()
    waiter.join(timeout=30)
    assert outcome["result"] == "not_a_member"
