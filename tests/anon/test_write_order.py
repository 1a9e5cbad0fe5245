"""Where an anonymous post lands in the database's write order (docs/protocol.md §38.2).

On PostgreSQL every row carries the id of the transaction that wrote it (``xmin``), so the
order of writes outlives the hour-coarsened times. A post that spends a token fetched just
before it is the next write after its author's issuance row: linked by order, not by time.
The clients therefore take tokens when a circle is **opened** (``Anonymous.stock_up``), and
the post later spends one. This test reads every row's ``xmin`` in the test's database and
checks, for a post made that way, that the write just before it is not its author's (neither
their issuance count nor their session); and, so that the check is seen to work, that a post
whose tokens were fetched at the post (the fallback of a client with no stock) is caught.
"""

import time
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text

from app.accounts.models import User
from app.client.anon import Anonymous
from app.client.entries import Entries
from tests.conftest import Person, World


def writes(engine: Engine) -> dict[int, list[tuple[str, dict[str, Any]]]]:
    """Every live row of every table, by the transaction that wrote it (PostgreSQL)."""
    found: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    with engine.connect() as connection:
        for name in inspect(engine).get_table_names():
            query = text(f'SELECT xmin::text::bigint AS _xmin, * FROM "{name}"')
            for row in connection.execute(query).mappings():
                values = dict(row)
                found.setdefault(values.pop("_xmin"), []).append((name, values))
    return found


def write_before(engine: Engine, entry_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The rows of the last write transaction before the one that stored the entry."""
    by_xid = writes(engine)
    [post] = [
        x
        for x, rows in by_xid.items()
        for t, r in rows
        if t == "entries" and str(r["id"]) == entry_id
    ]
    return by_xid[max(x for x in by_xid if x < post)]


def names(engine: Engine, rows: list[tuple[str, dict[str, Any]]], person: Person) -> bool:
    """Whether any of ``rows`` is ``person``'s issuance count or session."""
    with engine.connect() as connection:
        user_id = connection.scalar(select(User.id).where(User.username == person.name))
    return any(
        table in ("anon_issuances", "auth_sessions") and row.get("user_id") == user_id
        for table, row in rows
    )


def post(person: Person, world: World, subject: str) -> str:
    result = Entries(person.circles).post(
        world.circle_id, subject=subject, text="x", categories=["harassment"], anonymous=True
    )
    return str(result["entry_id"])


def test_a_post_from_tokens_taken_at_opening_does_not_follow_its_authors_writes(
    world: World, engine: Engine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("xmin is PostgreSQL's")
    world.open_anonymous()
    bob = world.bob.circles
    assert Anonymous(bob).stock_up(bob.sync(world.circle_id)) == 4  # bob opens the circle
    # ... and the circle goes on: others post, corroborate, open it and take tokens too.
    named = Entries(world.alice.circles).post(
        world.circle_id, subject="Jan Novák", text="y", categories=["harassment"]
    )
    Entries(world.carol.circles).corroborate(world.circle_id, named["entry_id"], text="me too")
    carol = world.carol.circles
    Anonymous(carol).stock_up(carol.sync(world.circle_id))

    entry_id = post(world.bob, world, "Petr Malý")  # later: spends a token from the stock
    assert not names(engine, write_before(engine, entry_id), world.bob)
    from_stock = post(world.carol, world, "Eva Dvořák")
    assert not names(engine, write_before(engine, from_stock), world.carol)

    # The fallback this avoids: alice never opened the circle for tokens, so her client takes
    # them at the post, and the write just before her post is her own issuance count.
    fetched_at_post = post(world.alice, world, "Ivo Král")
    assert names(engine, write_before(engine, fetched_at_post), world.alice), "no link seen"


def test_opening_a_circle_takes_one_batch_and_posting_spends_from_it(world: World) -> None:
    bob = world.bob.circles
    anonymous = Anonymous(bob)
    circle = bob.sync(world.circle_id)
    assert anonymous.stock_up(circle) == 0  # no admin signed the token key yet: nothing taken
    world.open_anonymous()
    assert anonymous.stock_up(circle) == 4
    assert anonymous.stock_up(circle) == 4  # held: no second batch
    issuance = world.bob.client.request("GET", f"/v1/circles/{world.circle_id}/anon/issuance")
    assert issuance["tokens_used"] == 4
    post(world.bob, world, "Petr Malý")  # Entries shares the stock (one per Circles)
    stock = anonymous.tokens.load(world.circle_id)
    assert stock is not None and len(stock["tokens"]) == 3
    again = world.bob.client.request("GET", f"/v1/circles/{world.circle_id}/anon/issuance")
    assert again["tokens_used"] == 4


def test_every_opener_takes_the_same_batch_each_week_whatever_they_hold(world: World) -> None:
    """A review finding: a stock lasted the whole epoch, so after its first week a member
    taking tokens again was one who had spent theirs. Now each week's first opening takes a
    batch whatever is held (the stock keeps the newest two batches): a week's issuance
    counts say who opened the circle, not who posted."""
    world.open_anonymous()
    now = [time.time()]
    anonymous = Anonymous(world.bob.circles, clock=lambda: now[0])
    circle = world.bob.circles.sync(world.circle_id)

    def used() -> int:
        path = f"/v1/circles/{world.circle_id}/anon/issuance"
        return int(world.bob.client.request("GET", path)["tokens_used"])

    assert anonymous.stock_up(circle) == 4
    assert anonymous.stock_up(circle) == 4  # the same week: nothing more
    assert used() == 4
    now[0] += 7 * 86_400  # the next week, by this device's clock
    assert anonymous.stock_up(circle) == 8  # this week's batch, though 4 are held
    assert anonymous.stock_up(circle) == 8
    assert used() == 8  # (the server's clock is still in the first week: it counts 8)
    now[0] += 7 * 86_400
    assert anonymous.stock_up(circle) == 8  # two batches at most are kept
    assert used() == 12
