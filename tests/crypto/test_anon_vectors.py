"""docs/vectors/anon-v1.json, checked byte for byte by the Python client (§38); the browser
client checks the same file in web/test/vectors/anon.test.js."""

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from app.crypto import CryptoError, IdentityKeys
from app.crypto.anon import IssuanceRecord, open_author, token_scope
from app.crypto.moderation import ModerationKey
from tests.crypto.make_anon_vectors import build_vectors

PATH = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "anon-v1.json"


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PATH.read_text())
    return data


def test_the_file_is_what_the_generator_makes(vectors: dict[str, Any]) -> None:
    """Regenerate: .venv/bin/python -m tests.crypto.make_anon_vectors > docs/vectors/anon-v1.json"""
    assert build_vectors() == vectors


def test_the_issuance_record_parses_verifies_and_refuses(vectors: dict[str, Any]) -> None:
    case = vectors["issuance_record"]
    record = IssuanceRecord.parse(case["text"].encode())
    alice = IdentityKeys.from_bytes(bytes.fromhex(case["alice_identity"])).public()
    record.verify_signature(bytes.fromhex(case["signature"]), alice)
    assert record.to_bytes() == case["text"].encode()
    for text in case["refuse"]:
        with pytest.raises(CryptoError):
            IssuanceRecord.parse(text.encode())
    bob = IdentityKeys.from_bytes(bytes.fromhex(vectors["sealed_author"]["bob_identity"]))
    with pytest.raises(CryptoError):
        record.verify_signature(bytes.fromhex(case["signature"]), bob.public())


def test_token_scopes(vectors: dict[str, Any]) -> None:
    for token in vectors["tokens"]:
        scope = token_scope(bytes.fromhex(token["input"]))
        assert (str(scope.circle_id), scope.epoch) == (vectors["circle_id"], token["epoch"])
    for raw in vectors["token_refuse"].values():
        with pytest.raises(CryptoError):
            token_scope(bytes.fromhex(raw))


def test_the_sealed_author_opens_for_the_admins_only(vectors: dict[str, Any]) -> None:
    case = vectors["sealed_author"]
    sealed = bytes.fromhex(case["sealed"])
    where = {
        "circle_id": uuid.UUID(vectors["circle_id"]),
        "object_id": uuid.UUID(case["entry_id"]),
        "generation": case["generation"],
    }
    claim = open_author(
        sealed, key=ModerationKey(bytes.fromhex(case["moderation_secret"])), **where
    )
    bob = IdentityKeys.from_bytes(bytes.fromhex(case["bob_identity"])).public()
    assert claim.user == "bob"
    claim.verify(
        bob,
        circle_id=where["circle_id"],
        object_id=where["object_id"],
        author_key=bytes.fromhex(case["author_key"]),
    )
    with pytest.raises(CryptoError):
        open_author(sealed, key=ModerationKey.generate(), **where)
    with pytest.raises(CryptoError):
        open_author(
            sealed,
            key=ModerationKey(bytes.fromhex(case["moderation_secret"])),
            **{**where, "generation": 3},
        )
