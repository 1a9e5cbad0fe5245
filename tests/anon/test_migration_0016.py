"""Migration 0016 (docs/protocol.md §38.8): existing anonymous warnings and corroborations
lose their account, on both engines, and nothing else changes."""

from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from app.client.entries import Entries
from app.migrate import downgrade, upgrade
from tests.conftest import World


def test_0016_nulls_the_account_of_existing_anonymous_rows(
    world: World, engine: Engine, database_url: str, http: TestClient
) -> None:
    cid = world.circle_id
    bob = Entries(world.bob.circles)
    anonymous = bob.post(cid, subject="Jan Novák", text="t", categories=["harassment"])
    named = bob.post(cid, subject="Someone Else", text="t", categories=["other"])
    engine.dispose()
    downgrade(database_url, "0015")
    with engine.begin() as conn:  # what a pre-0016 server stored for an anonymous post
        conn.execute(
            text("UPDATE entries SET anonymous = true WHERE seq = 1"),
        )
    engine.dispose()
    upgrade(database_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT seq, author_id FROM entries")).all())
    assert rows[1] is None and rows[2] is not None
    assert {anonymous["entry_id"], named["entry_id"]}
