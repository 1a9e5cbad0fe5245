"""The feed page is written without pydantic (the hot path); it must be exactly what the
declared ``EntryPage`` model would write, for every kind of row."""

import uuid

from fastapi.testclient import TestClient

from app.client.entries import Entries
from app.entries.schemas import EntryPage
from tests.conftest import World


def test_feed_page_bytes_are_the_declared_model(world: World, http: TestClient) -> None:
    world.open_anonymous()
    bob, carol = Entries(world.bob.circles), Entries(world.carol.circles)
    named = bob.post(world.circle_id, subject="Jan Novák", text="ü ß 東京", categories=["other"])
    bob.post(world.circle_id, subject="Anon Person", text="t", categories=["other"], anonymous=True)
    gone = carol.post(world.circle_id, subject="Retracted", text="t", categories=["other"])
    carol.retract(world.circle_id, gone["entry_id"])
    for params in ({"limit": 50}, {"limit": 2}, {"after": 0, "limit": 50}, {"before": 3}):
        response = http.get(
            f"/v1/circles/{world.circle_id}/entries",
            params=params,
            headers={"authorization": f"Bearer {world.alice.client.token}"},
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        page = EntryPage.model_validate_json(response.content)
        assert response.content == page.model_dump_json().encode()
    rows = {
        str(e.entry_id): e
        for e in EntryPage.model_validate_json(
            http.get(
                f"/v1/circles/{world.circle_id}/entries",
                headers={"authorization": f"Bearer {world.alice.client.token}"},
            ).content
        ).entries
    }
    assert rows[named["entry_id"]].author == "bob"
    assert [r.author for r in rows.values() if r.anonymous] == [None]
    tombstone = rows[gone["entry_id"]]
    assert tombstone.status == "retracted"
    assert (tombstone.nonce, tombstone.ciphertext, tombstone.signature) == (None, None, None)
    assert uuid.UUID(named["entry_id"]) in {e.entry_id for e in rows.values()}
