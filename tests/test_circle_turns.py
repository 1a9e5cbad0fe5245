"""PostgreSQL: a process's posts to one circle queue in-process, first come first served,
before their transaction locks the circle's row (``app.write_turn.CircleTurns``)."""

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from app.entries.models import Entry
from app.write_turn import CircleTurns
from tests.conftest import World
from tests.test_ceiling import _post_body


def test_turns_are_first_come_first_served_and_leave_nothing_behind() -> None:
    async def scenario() -> tuple[list[int], int]:
        turns, order = CircleTurns(), []
        circle = uuid.uuid4()

        async def post(n: int) -> None:
            await turns.acquire(circle)
            try:
                await asyncio.sleep(0.001 * (5 - n % 5))  # later ones would finish sooner
                order.append(n)
            finally:
                turns.release(circle)

        tasks = []
        for n in range(20):
            tasks.append(asyncio.create_task(post(n)))
            await asyncio.sleep(0)  # each is queued before the next starts
        await asyncio.gather(*tasks)
        return order, len(turns)

    order, left = asyncio.run(scenario())
    assert order == list(range(20))
    assert left == 0


def test_a_wait_that_times_out_or_is_cancelled_gives_its_place_back() -> None:
    async def scenario() -> tuple[int, int]:
        turns, circle, other = CircleTurns(), uuid.uuid4(), uuid.uuid4()
        await turns.acquire(circle)
        with pytest.raises(TimeoutError):
            await turns.acquire(circle, timeout=0.05)
        waiting = asyncio.create_task(turns.acquire(circle))
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await turns.acquire(other)  # another circle never waits for this one
        turns.release(other)
        during = len(turns)
        turns.release(circle)
        await turns.acquire(circle, timeout=0.05)  # free again: the dropped waiters are gone
        turns.release(circle)
        return during, len(turns)

    during, after = asyncio.run(scenario())
    assert (during, after) == (1, 0)


def test_concurrent_posts_to_one_circle_all_land_in_order(
    world: World, app: FastAPI, engine: Engine
) -> None:
    """Through the app on both engines (on SQLite the process's write turn orders them, on
    PostgreSQL the circle's turn and then its row lock): every post lands once, with the
    next sequence number, and no turn is left behind."""
    bob = {"authorization": f"Bearer {world.bob.client.token}"}
    bodies = [_post_body(world.bob, world.circle_id) for _ in range(24)]
    path = f"/v1/circles/{world.circle_id}/entries"

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=bob) as c:
            return list(await asyncio.gather(*(c.post(path, json=b) for b in bodies)))

    responses = asyncio.run(scenario())
    assert [r.status_code for r in responses] == [201] * len(bodies)
    seqs = sorted(r.json()["seq"] for r in responses)
    assert seqs == list(range(seqs[0], seqs[0] + len(bodies)))
    with engine.connect() as conn:
        stored = conn.scalars(select(Entry.seq).where(Entry.circle_id == world.circle_id)).all()
    assert set(seqs) <= set(stored) and len(stored) == len(set(stored))
    turns = app.state.circle_turns
    assert (turns is None) == (engine.dialect.name == "sqlite")
    assert turns is None or len(turns) == 0
