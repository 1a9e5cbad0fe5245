"""Deleting an account: passphrase again, a signed departure from each circle, warnings
retracted or kept (as a former member's), and a tombstone with no secret in it."""

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.accounts.models import User
from app.client.deletion import delete_account
from app.client.entries import Entries
from app.client.errors import ApiError
from app.client.sdk import Client
from app.entries.models import Entry
from tests.conftest import PASSPHRASES, World

MARKER = "MARKER-deleted-account-warning-41aa"


def _post(world: World) -> str:
    result = Entries(world.bob.circles).post(
        world.circle_id, subject="Jan Novák", text=MARKER, categories=["harassment"]
    )
    return str(result["entry_id"])


def _statuses(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(Entry.status)))


def test_anonymous_cannot_delete_an_account(http: TestClient) -> None:
    assert http.post("/v1/me/delete", json={}).status_code == 401


def test_a_wrong_passphrase_or_a_missing_departure_deletes_nothing(
    world: World, http: TestClient, engine: Engine
) -> None:
    headers = {"Authorization": f"Bearer {world.bob.client.token}"}
    wrong = http.post(
        "/v1/me/delete",
        json={"auth_key": "A" * 43 + "=", "warnings": "keep", "departures": []},
        headers=headers,
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_credentials")
    auth_key = world.bob.client.reauthenticate(username="bob", passphrase=PASSPHRASES["bob"])
    missing = http.post(
        "/v1/me/delete",
        json={"auth_key": auth_key, "warnings": "keep", "departures": []},
        headers=headers,
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "departure_required")
    bad = http.post(
        "/v1/me/delete",
        json={"auth_key": auth_key, "warnings": "maybe", "departures": []},
        headers=headers,
    )
    assert bad.status_code == 422
    assert world.bob.circles.sync(world.circle_id).name == "Film crews Berlin"


def test_the_last_owner_must_hand_over_or_delete_the_circle_first(world: World) -> None:
    with pytest.raises(ApiError) as refused:
        delete_account(world.alice.circles, passphrase=PASSPHRASES["alice"], warnings="keep")
    assert refused.value.code == "last_owner"
    assert world.alice.circles.sync(world.circle_id).role == "owner"


@pytest.mark.parametrize("choice", ["retract", "keep"])
def test_deleting_an_account(world: World, http: TestClient, engine: Engine, choice: str) -> None:
    _post(world)
    result = delete_account(world.bob.circles, passphrase=PASSPHRASES["bob"], warnings=choice)
    assert result == {"circles_left": 1, "warnings_retracted": 1 if choice == "retract" else 0}
    assert _statuses(engine) == (["retracted"] if choice == "retract" else ["live"])

    # The tombstone: no secret, the name stays taken, the keys stay for what was left.
    with Session(engine) as session:
        bob = session.scalars(select(User).where(User.username == "bob")).one()
        assert bob.deleted_at is not None and bob.key_bundle == bytes(len(bob.key_bundle))
    old = Client("http://testserver", http=http)
    with pytest.raises(ApiError) as refused:
        old.login("bob", PASSPHRASES["bob"])
    assert refused.value.code == "invalid_credentials"
    with pytest.raises(ApiError) as taken:
        Client("http://testserver", http=http).register("bob", "a fresh quartz passphrase 9")
    assert taken.value.code == "username_taken"

    # Members see bob as having left with a signed departure, his account deleted; an admin
    # rotates him out as for any leaver.
    members = {
        m["username"]: m
        for m in http.get(
            f"/v1/circles/{world.circle_id}/members",
            headers={"Authorization": f"Bearer {world.alice.client.token}"},
        ).json()
    }
    assert (members["bob"]["status"], members["bob"]["account_deleted"]) == ("left", True)
    assert members["carol"]["account_deleted"] is False
    world.alice.circles.rotate(world.circle_id)
    texts = [e.text for e in Entries(world.carol.circles).pages(world.circle_id) if e.text]
    assert texts == ([] if choice == "retract" else [MARKER])
