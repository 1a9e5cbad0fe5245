"""Marker strings never reach the database, the logs or a non-member; anonymity holds."""

import contextlib
import json
import logging

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from app.client.entries import Entries
from app.crypto import b64encode
from tests.accounts.test_at_rest import _all_stored_bytes
from tests.conftest import World

SUBJECT = "Zbyszek Markerowski-QX7Zq9wK"
ALIAS = "@marker_alias_QX7Zq9wK"
TEXT = "MARKER-TEXT-QX7Zq9wK happened at the studio"
CORROBORATION = "MARKER-CORROBORATION-QX7Zq9wK me too"
MARKERS = [SUBJECT, ALIAS, TEXT, CORROBORATION, "Markerowski", "QX7Zq9wK"]


def test_markers_never_reach_db_logs_or_non_members(
    world: World, engine: Engine, http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bob = Entries(world.bob.circles)
    entry = bob.post(
        world.circle_id, subject=SUBJECT, aliases=[ALIAS], text=TEXT, categories=["harassment"]
    )
    Entries(world.carol.circles).corroborate(world.circle_id, entry["entry_id"], text=CORROBORATION)
    found = Entries(world.alice.circles).check(world.circle_id, "zbyszek markerowski qx7zq9wk")
    assert [m.warning["text"] for m in found.matches] == [TEXT]  # the markers are really there

    stored = _all_stored_bytes(engine)
    logs = caplog.text.encode()
    for marker in MARKERS:
        assert marker.encode() not in stored, marker
        assert marker.encode() not in logs, marker

    cid = world.circle_id
    paths = [
        f"/v1/circles/{cid}/entries",
        f"/v1/circles/{cid}/entries/{entry['entry_id']}",
        f"/v1/circles/{cid}",
        f"/v1/circles/{cid}/events",
        f"/v1/circles/{cid}/records",
    ]
    for who in ("outsider", "pending", "removed"):
        token = world.everyone()[who].client.token
        headers = {"Authorization": f"Bearer {token}"}
        for path in paths:
            response = http.get(path, headers=headers)
            assert response.status_code in (403, 404)
            assert "QX7Zq9wK" not in response.text and "ciphertext" not in response.text


def test_anonymous_entries_name_no_author_anywhere(world: World, http: TestClient) -> None:
    world.open_anonymous()
    bob = Entries(world.bob.circles)
    entry = bob.post(
        world.circle_id, subject="Anon Subject", text="quiet", categories=["other"], anonymous=True
    )
    carol = Entries(world.carol.circles)  # authors cannot corroborate their own (§24.1)
    carol.corroborate(world.circle_id, entry["entry_id"], text="anon too", anonymous=True)
    bob.retract(world.circle_id, entry["entry_id"])
    entry2 = bob.post(
        world.circle_id, subject="Anon Subject", text="again", categories=["other"], anonymous=True
    )
    ed25519 = world.bob.account.identity.public().ed25519_public
    cid = world.circle_id
    headers = {"Authorization": f"Bearer {world.carol.client.token}"}
    responses = [
        http.get(f"/v1/circles/{cid}/entries", headers=headers),
        http.get(f"/v1/circles/{cid}/entries/{entry['entry_id']}", headers=headers),
        http.get(f"/v1/circles/{cid}/entries/{entry2['entry_id']}", headers=headers),
        http.get(f"/v1/circles/{cid}/entries?changed_after=0", headers=headers),
    ]
    reader = Entries(world.carol.circles)
    for response in responses:
        assert response.status_code == 200
        assert _authors(response.json()) == []
        assert b64encode(ed25519) not in response.text
    # The event log records the retraction without naming who retracted it.
    events = http.get(f"/v1/circles/{cid}/events", headers=headers).json()
    entry_events = [json.loads(e["body"]) for e in events if '"entry_' in e["body"]]
    assert [(e["kind"], e["actor"]) for e in entry_events] == [("entry_retracted", "")]
    assert all(e.author is None for e in reader.pages(cid))


def _authors(body: object) -> list[object]:
    found: list[object] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key in ("author", "actor", "subject") and value:
                found.append(value)
            found.extend(_authors(value))
    elif isinstance(body, list):
        for item in body:
            found.extend(_authors(item))
    elif isinstance(body, str) and body.startswith("{"):
        with contextlib.suppress(ValueError):
            found.extend(_authors(json.loads(body)))
    return found
