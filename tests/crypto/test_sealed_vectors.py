"""docs/vectors/sealed-v1.json, checked byte for byte by the Python client (§36); the
browser client checks the same file in web/test/vectors/sealed.test.js."""

import json
import uuid
from pathlib import Path

import pytest

from app.crypto import IdentityKeys, b64decode
from app.crypto.errors import BadSignature, DecryptionFailed, InvalidKey, WrongEpoch
from app.crypto.moderation import ModerationKey
from app.crypto.sealed import (
    NamePolynomial,
    SealedSettings,
    check_settings_successor,
    interpolate,
    share_verifies,
)
from app.crypto.sealed_filings import (
    MatchOpening,
    NotEnoughFilers,
    NotEnoughShares,
    SealedFiling,
    open_match,
    open_own,
)
from tests.crypto.make_sealed_vectors import build_vectors

PATH = Path(__file__).resolve().parents[2] / "docs" / "vectors" / "sealed-v1.json"
VECTORS = json.loads(PATH.read_text("ascii"))
CIRCLE = uuid.UUID(VECTORS["circle_id"])


def _identity(user: str) -> IdentityKeys:
    return IdentityKeys.from_bytes(bytes.fromhex(VECTORS["users"][user]["secret"]))


def _filings() -> list[tuple[SealedFiling, bytes]]:
    return [
        (SealedFiling.parse(f["record"].encode()), b64decode(f["signature"]))
        for f in VECTORS["filings"]
    ]


def _open(filings: list[tuple[SealedFiling, bytes]], **overrides: object) -> MatchOpening:
    arguments: dict[str, object] = {
        "circle_id": CIRCLE,
        "tag": bytes.fromhex(VECTORS["match"]["tag"]),
        "k": 2,
        "identities": {u: _identity(u).public() for u in VECTORS["users"]},
        "moderation_keys": {0: ModerationKey(bytes.fromhex(VECTORS["moderation_secret"]))},
    }
    arguments.update(overrides)
    return open_match(filings, **arguments)  # type: ignore[arg-type]


def test_file_is_sealed_version_1_and_ascii_only() -> None:
    assert (VECTORS["protocol"], VECTORS["layer"], VECTORS["version"]) == (
        "backchannel",
        "sealed",
        1,
    )
    assert PATH.read_bytes().isascii()


def test_deterministic_values_match_their_generator() -> None:
    """Regenerate: .venv/bin/python -m tests.crypto.make_sealed_vectors (then keep
    ``filings`` and ``match`` from the old file; they are sealed once, at random)."""
    fresh = build_vectors()
    assert {k: v for k, v in VECTORS.items() if k not in ("filings", "match")} == fresh


def test_the_shared_form_has_one_tag_for_everyone_who_names_it() -> None:
    tags = [
        {v["by_k"]["2"]["tag"] for v in VECTORS["values"][user] if v["form"] == "w:jan novak"}
        for user in ("alice", "bob", "carol")
    ]
    assert tags[0] == tags[1] == tags[2] and len(tags[0]) == 1


def test_interpolation_gives_the_constant_coefficient() -> None:
    shared = next(v for v in VECTORS["values"]["alice"] if v["form"] == "w:jan novak")
    for k, case in VECTORS["interpolation"].items():
        points = [(bytes.fromhex(p["x"]), bytes.fromhex(p["y"])) for p in case["points"]]
        assert interpolate(points).hex() == case["f0"] == shared["by_k"][k]["coefficients"][0]
    with pytest.raises(InvalidKey):
        interpolate([points[0], points[0]])


def test_settings_record_parses_and_verifies() -> None:
    text = VECTORS["settings"]["text"].encode()
    record = SealedSettings.parse(text)
    assert record.hash().hex() == VECTORS["settings"]["hash"]
    record.verify_signature(
        b64decode(VECTORS["settings"]["signature"]), _identity("alice").public()
    )
    check_settings_successor(None, record)
    with pytest.raises(InvalidKey):
        SealedSettings.parse(text.replace(b'"k":2', b'"k":6'))
    with pytest.raises(InvalidKey):
        SealedSettings.parse(text.replace(b'{"circle"', b'{ "circle"'))


def test_a_filer_opens_their_own_filing() -> None:
    filing, signature = _filings()[0]
    filing.verify_signature(signature, _identity("alice").public())
    assert open_own(filing, _identity("alice"))["subject"] == "Jan Novák"
    with pytest.raises(DecryptionFailed):
        open_own(filing, _identity("bob"))


def test_commitments_and_share_checks() -> None:
    for user in VECTORS["values"]:
        for value in VECTORS["values"][user]:
            for k, expected in value["by_k"].items():
                poly = NamePolynomial.derive(bytes.fromhex(value["value"]), int(k))
                assert [c.hex() for c in poly.commitments] == expected["commitments"]
    for case in VECTORS["share_checks"]:
        commitments = [bytes.fromhex(c) for c in case["commitments"]]
        x, y = bytes.fromhex(case["x"]), bytes.fromhex(case["y"])
        assert share_verifies(x, y, commitments) is case["valid"], case["note"]


def test_the_admins_open_the_match_and_leave_out_the_spoiled_share() -> None:
    alice, bob, carol = _filings()
    opening = _open([alice, bob, carol])
    assert [o.payload["text"] for o in opening.opened] == ["what alice saw", "what bob saw"]
    assert [(e.filing.filer, e.reason) for e in opening.excluded] == [("carol", "bad_share")]
    # Carol sorts after alice and bob; first in line, her share still cannot spoil it.
    opening = _open([carol, bob, alice])
    assert [o.filing.filer for o in opening.opened] == ["bob", "alice"]
    with pytest.raises(NotEnoughShares) as short:
        _open([alice, carol])
    assert [(e.filing.filer, e.reason) for e in short.value.excluded] == [("carol", "bad_share")]


def test_refusals_when_opening_a_match() -> None:
    alice, bob, _ = _filings()
    with pytest.raises(NotEnoughFilers):
        _open([alice, alice])
    with pytest.raises(BadSignature):
        _open([alice, (bob[0], alice[1])])
    with pytest.raises(WrongEpoch):
        _open([alice, bob], tag=bytes(32))
    with pytest.raises(WrongEpoch):
        _open([alice, bob], k=3)
    with pytest.raises(DecryptionFailed):
        _open([alice, bob], moderation_keys={0: ModerationKey(bytes(range(32)))})
