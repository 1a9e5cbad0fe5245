"""Deleting a circle: an owner's signed statement; the content goes, a tombstone stays."""

import uuid

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from app.client.entries import Entries
from app.client.errors import ApiError
from app.crypto import b64encode
from app.crypto.deletion import deletion_statement, sign_deletion
from tests.conftest import Person, World

MARKER = "MARKER-deleted-warning-7c1d"


def _body(
    person: Person, circle_id: uuid.UUID, *, seq: int, by: str | None = None
) -> dict[str, str]:
    statement = deletion_statement(circle_id=circle_id, by=by or person.name, record_seq=seq)
    return {
        "statement": statement.decode(),
        "signature": b64encode(sign_deletion(person.account.identity, statement)),
    }


def _send(http: TestClient, person: Person, circle_id: uuid.UUID, body: object) -> tuple[int, str]:
    response = http.post(
        f"/v1/circles/{circle_id}/delete",
        json=body,
        headers={"Authorization": f"Bearer {person.client.token}"},
    )
    return response.status_code, response.json().get("error", {}).get("code", "")


def _count(engine: Engine, table: str, circle_id: uuid.UUID) -> int:
    cid = str(circle_id) if engine.dialect.name == "postgresql" else circle_id.hex
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE circle_id = :c"), {"c": cid}
            ).scalar_one()
        )


def test_anonymous_cannot_delete(world: World, http: TestClient) -> None:
    response = http.post(f"/v1/circles/{world.circle_id}/delete", json={})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("outsider", (404, "circle_not_found")),
        ("removed", (403, "not_a_member")),
        ("pending", (403, "membership_pending")),
        ("member", (403, "owner_required")),
        ("admin", (403, "owner_required")),
    ],
)
def test_only_an_owner_deletes(
    world: World, http: TestClient, engine: Engine, role: str, expected: tuple[int, str]
) -> None:
    who = world.everyone()[role]
    seq = world.alice.circles.sync(world.circle_id).record.seq
    assert _send(http, who, world.circle_id, _body(who, world.circle_id, seq=seq)) == expected
    assert world.bob.circles.sync(world.circle_id).name == "Film crews Berlin"
    assert _count(engine, "epoch_keys", world.circle_id) > 0


def test_a_bad_statement_is_refused_and_nothing_changes(
    world: World, http: TestClient, engine: Engine
) -> None:
    cid, alice = world.circle_id, world.alice
    seq = alice.circles.sync(cid).record.seq
    other = uuid.uuid4()
    forged = _body(alice, cid, seq=seq)
    forged["signature"] = _body(world.bob, cid, seq=seq, by="alice")["signature"]
    for body, expected in [
        (_body(alice, other, seq=seq), (422, "invalid_deletion")),  # another circle's
        (_body(alice, cid, seq=seq, by="carol"), (422, "invalid_deletion")),  # names another
        (forged, (422, "invalid_deletion")),  # signed by someone else
        (_body(alice, cid, seq=seq - 1), (409, "circle_changed")),  # stale record
        (
            {"statement": "{}", "signature": b64encode(bytes(64)), "extra": 1},
            (422, "invalid_request"),
        ),
    ]:
        assert _send(http, alice, cid, body) == expected
    assert world.bob.circles.sync(cid).name == "Film crews Berlin"
    assert _count(engine, "wraps", cid) > 0


def test_deleting_removes_the_content_and_every_member_learns_who_deleted_it(
    world: World, http: TestClient, engine: Engine
) -> None:
    cid = world.circle_id
    Entries(world.bob.circles).post(
        cid, subject="Jan Novák", text=MARKER, categories=["harassment"], aliases=[]
    )
    world.carol.circles.sync(cid)  # every device that ever opened the circle pins its record
    events_before = _count(engine, "membership_events", cid)
    world.alice.circles.delete(cid)

    for table in (
        "entries",
        "wraps",
        "epoch_keys",
        "invites",
        "moderation_keys",
        "moderation_cases",
    ):
        assert _count(engine, table, cid) == 0, table
    assert _count(engine, "membership_events", cid) == events_before + 1
    assert _count(engine, "key_records", cid) > 0
    with engine.connect() as conn:
        dumped = str(conn.execute(text("SELECT * FROM circles")).all())
    assert MARKER not in dumped

    for person in (world.bob, world.carol):
        [row] = person.circles.list_circles()
        assert row["status"] == "deleted"
        assert (row["deleted_by"], row["verified"], row["name"]) == (
            "alice",
            True,
            "Film crews Berlin",
        )
        with pytest.raises(ApiError) as refused:
            person.circles.sync(cid)
        assert (refused.value.status, refused.value.code) == (410, "circle_deleted")
    # Outsiders and removed members still cannot tell it ever existed.
    assert world.frank.circles.list_circles() == []
    assert _send(http, world.frank, cid, _body(world.frank, cid, seq=0)) == (
        404,
        "circle_not_found",
    )
    last = http.get(
        f"/v1/circles/{cid}", headers={"Authorization": f"Bearer {world.alice.client.token}"}
    )
    assert (last.status_code, last.json()["error"]["code"]) == (410, "circle_deleted")


def test_a_tombstone_the_server_made_up_does_not_verify(world: World, engine: Engine) -> None:
    """A server that marks a circle deleted by bob (a plain member) cannot make bob's
    members' clients say so as fact."""
    cid = world.circle_id
    world.carol.circles.sync(cid)  # carol's device pins the record: alice owner, bob member
    statement = deletion_statement(circle_id=cid, by="bob", record_seq=0)
    signature = sign_deletion(world.bob.account.identity, statement)
    db_id = str(cid) if engine.dialect.name == "postgresql" else cid.hex
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE circles SET deleted_at = created_at, deleted_by = 'bob', "
                "deletion = :d, deletion_signature = :s WHERE id = :c"
            ),
            {"d": statement, "s": signature, "c": db_id},
        )
    [row] = world.carol.circles.list_circles()
    assert (row["status"], row["deleted_by"], row["verified"]) == ("deleted", "bob", False)
