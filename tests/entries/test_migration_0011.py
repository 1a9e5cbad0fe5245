"""Migration 0011 deletes existing self-corroborations and tells every device's copy."""

import uuid

from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from app.client.cache import MemoryCache
from app.client.entries import Entries
from app.migrate import downgrade, upgrade
from tests.conftest import World


def test_0011_removes_self_corroborations_and_stamps_the_change(
    world: World, engine: Engine, database_url: str, http: TestClient
) -> None:
    cid = world.circle_id
    entry_id = Entries(world.bob.circles).post(
        cid, subject="Jan Novák", text="Grabbed my arm", categories=["harassment"]
    )["entry_id"]  # named: an anonymous one has no account since 0016, so 0016's downgrade drops it
    Entries(world.carol.circles).corroborate(cid, entry_id, text="me too")
    reader = Entries(world.alice.circles, cache=MemoryCache())
    assert reader.sync(cid).warnings[entry_id].data["corroborations"] == 1
    engine.dispose()

    downgrade(database_url, "0010")
    sqlite = engine.dialect.name == "sqlite"

    def key(value: uuid.UUID | str) -> str:
        value = uuid.UUID(str(value))
        return value.hex if sqlite else str(value)

    with engine.begin() as conn:
        # What the old server accepted: bob's "me too" under his own warning.
        conn.execute(
            text(
                "INSERT INTO corroborations (id, entry_id, circle_id, epoch, author_id, anonymous,"
                " author_key, commitment, nonce, ciphertext, signature, created_at)"
                " SELECT :id, e.id, e.circle_id, e.epoch, e.author_id, false, e.author_key,"
                " e.commitment, e.nonce, e.ciphertext, e.signature, e.created_at"
                " FROM entries e WHERE e.id = :entry"
            ),
            {"id": key(uuid.uuid4()), "entry": key(entry_id)},
        )
        conn.execute(
            text("UPDATE entries SET corroboration_count = 2 WHERE id = :entry"),
            {"entry": key(entry_id)},
        )
        before = conn.execute(
            text("SELECT change_seq FROM circles WHERE id = :id"), {"id": key(cid)}
        ).scalar_one()
    upgrade(database_url)
    engine.dispose()

    with engine.connect() as conn:
        authors = conn.execute(
            text("SELECT author_id FROM corroborations WHERE entry_id = :entry"),
            {"entry": key(entry_id)},
        ).all()
        count, change = conn.execute(
            text("SELECT corroboration_count, change_seq FROM entries WHERE id = :entry"),
            {"entry": key(entry_id)},
        ).one()
    assert len(authors) == 1 and count == 1 and change == before + 1
    # The copy learns of the change at its next sync: one row came back.
    copy = reader.sync(cid)
    assert copy.change_seq == before + 1 and copy.warnings[entry_id].data["corroborations"] == 1
