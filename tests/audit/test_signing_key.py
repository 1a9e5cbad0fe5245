"""The server's tree-head key: made once, kept in the database, usable only with its secret."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from nacl.signing import SigningKey
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.audit.models import ServerSigningKey
from app.client.sdk import Client
from app.crypto import b64decode
from app.crypto.audit import TreeHead
from app.main import create_app
from app.settings import Settings
from tests.conftest import PASSPHRASES, World
from tests.moderation.conftest import error_of


def _stored_keys(engine: Engine) -> list[bytes]:
    with Session(engine) as session:
        return list(session.scalars(select(ServerSigningKey.public_key)))


@pytest.fixture
def second_app(settings: Settings) -> Iterator[FastAPI]:
    """Another worker (or a restart) on the same database with the same settings."""
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


def test_a_restarted_server_signs_with_the_same_key(
    world: World, http: TestClient, second_app: FastAPI, engine: Engine
) -> None:
    headers = {"Authorization": f"Bearer {world.bob.client.token}"}
    path = f"/v1/circles/{world.circle_id}/audit/head"
    first = http.get(path, headers=headers).json()
    with TestClient(second_app) as other:
        second = other.get(path, headers=headers).json()
        published = other.get("/v1/server/keys").json()["keys"]
    assert (second["key_id"], second["public_key"]) == (first["key_id"], first["public_key"])
    assert [k["public_key"] for k in published] == [first["public_key"]]
    assert published[0]["succession_signature"] is None
    for signed in (first, second):
        TreeHead.parse(signed["tree_head"].encode()).verify_signature(
            b64decode(signed["signature"]), b64decode(published[0]["public_key"])
        )
    assert _stored_keys(engine) == [b64decode(first["public_key"])]


def test_the_seed_is_stored_sealed(http: TestClient, engine: Engine) -> None:
    [published] = http.get("/v1/server/keys").json()["keys"]
    with Session(engine) as session:
        row = session.scalars(select(ServerSigningKey)).one()
    assert row.public_key == b64decode(published["public_key"])
    assert len(row.sealed_seed) == 24 + 32 + 16  # nonce, encrypted seed, tag
    for at in range(len(row.sealed_seed) - 31):  # no 32 bytes of it are the signing seed
        assert bytes(SigningKey(row.sealed_seed[at : at + 32]).verify_key) != row.public_key


def test_a_server_with_another_secret_refuses_to_sign(
    world: World, http: TestClient, settings: Settings, engine: Engine
) -> None:
    path = f"/v1/circles/{world.circle_id}/audit/head"
    headers = {"Authorization": f"Bearer {world.bob.client.token}"}
    original = http.get(path, headers=headers).json()
    other = create_app(settings.model_copy(update={"secret_key": SecretStr("another-" * 8)}))
    try:
        with TestClient(other) as misconfigured:
            bob = Client("http://testserver", http=misconfigured)
            bob.login("bob", PASSPHRASES["bob"])  # sessions are keyed by the secret too
            refused = misconfigured.get(path, headers={"Authorization": f"Bearer {bob.token}"})
            assert error_of(refused) == (503, "signing_key_unavailable")
            # No new key was made behind the operator's back; the published one stays.
            keys = misconfigured.get("/v1/server/keys").json()["keys"]
            assert [k["public_key"] for k in keys] == [original["public_key"]]
    finally:
        other.state.engine.dispose()
    assert _stored_keys(engine) == [b64decode(original["public_key"])]
    assert http.get(path, headers=headers).status_code == 200
