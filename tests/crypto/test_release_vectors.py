"""app.crypto.release reproduces docs/vectors/release-v1.json: every served release file is
accepted with the pin the file gives, or refused with the error it names (§35)."""

import json
from pathlib import Path
from typing import Any

import pytest

from app.crypto import b64decode, b64encode, labels
from app.crypto.circles import canonical_json
from app.crypto.errors import CryptoError, InvalidKey
from app.crypto.release import (
    ReleasePin,
    Rotation,
    SignedRelease,
    check_asset,
    check_release,
    release_key_fingerprint,
    release_public_key,
)
from tests.crypto.make_release_vectors import build_vectors

DOCS = Path(__file__).resolve().parents[2] / "docs"
VECTORS_PATH = DOCS / "vectors" / "release-v1.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="ascii"))


def pin(value: dict[str, Any] | None) -> ReleasePin | None:
    if value is None:
        return None
    return ReleasePin(
        key=b64decode(value["key"]), release=value["release"], digest=b64decode(value["digest"])
    )


def test_vectors_file_matches_its_generator() -> None:
    """Regenerate with:
    .venv/bin/python -m tests.crypto.make_release_vectors > docs/vectors/release-v1.json
    """
    assert build_vectors() == VECTORS
    assert VECTORS_PATH.read_bytes().isascii()


def test_labels() -> None:
    assert VECTORS["labels"]["RELEASE_TYPE"] == labels.RELEASE_TYPE
    for name in (
        "RELEASE_SIGNATURE_CONTEXT",
        "RELEASE_ROTATION_CONTEXT",
        "RELEASE_FINGERPRINT_PREFIX",
    ):
        assert bytes.fromhex(VECTORS["labels"][name]) == getattr(labels, name)


def test_keys_and_fingerprints() -> None:
    for key in VECTORS["keys"].values():
        public = release_public_key(bytes.fromhex(key["seed"]))
        assert b64encode(public) == key["public"]
        assert release_key_fingerprint(public) == key["fingerprint"]


def test_signed_messages_and_digests() -> None:
    for release in VECTORS["releases"].values():
        signed = SignedRelease.parse(release["file"].encode("ascii"))
        assert (labels.RELEASE_SIGNATURE_CONTEXT + signed.manifest.to_bytes()).hex() == release[
            "signed_message"
        ]
        assert b64encode(signed.manifest.digest()) == release["digest"]
        assert signed.to_bytes().decode("ascii") == release["file"]


def test_rotation_message() -> None:
    keys = VECTORS["keys"]
    message = Rotation.message(b64decode(keys["A"]["public"]), b64decode(keys["B"]["public"]))
    assert message.hex() == VECTORS["rotation_a_to_b"]["message"]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda case: case["name"])
def test_case(case: dict[str, Any]) -> None:
    try:
        after = check_release(SignedRelease.parse(case["file"].encode("ascii")), pin(case["pin"]))
    except CryptoError as exc:
        assert type(exc).__name__ == case["error"]
        return
    assert "error" not in case
    assert after == pin(case["pin_after"])


def test_assets_are_checked_against_the_manifest() -> None:
    signed = SignedRelease.parse(VECTORS["releases"]["2"]["file"].encode("ascii"))
    script = VECTORS["assets"]["script"].encode("ascii")
    check_asset(signed.manifest, "/static/ui/app.js", script)
    with pytest.raises(InvalidKey, match="not the file"):
        check_asset(signed.manifest, "/static/ui/app.js", VECTORS["assets"]["old_script"].encode())
    with pytest.raises(InvalidKey, match="not part of release 2"):
        check_asset(signed.manifest, "/static/ui/extra.js", script)


@pytest.mark.parametrize("case", VECTORS["refusals"], ids=lambda case: case["name"])
def test_refusal(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidKey):
        SignedRelease.parse(case["file"].encode("ascii"))


def test_size_limits() -> None:
    good = json.loads(VECTORS["releases"]["2"]["file"])
    digest = "0" * 64
    many = {
        **good,
        "manifest": {**good["manifest"], "assets": {f"/a{i}": digest for i in range(1001)}},
    }
    with pytest.raises(InvalidKey, match="1 to 1000 assets"):
        SignedRelease.parse(canonical_json(many))
    huge = {**good, "manifest": {**good["manifest"], "version": "x" * 300_000}}
    with pytest.raises(InvalidKey, match="256 KiB"):
        SignedRelease.parse(canonical_json(huge))
