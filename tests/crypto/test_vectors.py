"""app.crypto reproduces docs/vectors/v1.json byte for byte.

The vectors are what a second client is checked against, so they are frozen:
a change in app.crypto that moves any value here is a protocol change.
"""

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import argon2.low_level
import pytest
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt

from app.crypto import (
    AccountKeys,
    DecryptionFailed,
    IdentityKeys,
    InvalidKey,
    KdfParams,
    RecoveryCode,
    WeakKdfParameters,
    b64decode,
    b64encode,
    derive_root_key,
    fingerprint,
    labels,
    normalise_fingerprint,
    normalise_username,
    open_key_bundle,
)
from app.crypto.bundle import BUNDLE_BYTES, NONCE_BYTES, bundle_associated_data
from app.crypto.kdf import normalise_passphrase
from tests.crypto.make_vectors import build_vectors

DOCS = Path(__file__).resolve().parents[2] / "docs"
VECTORS_PATH = DOCS / "vectors" / "v1.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="ascii"))
ACCOUNT = VECTORS["account_keys"]
IDENTITY = VECTORS["identity"]
RECOVERY = VECTORS["recovery_code"]


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def _params(case: dict[str, Any]) -> KdfParams:
    return KdfParams(
        opslimit=case["opslimit"], memlimit=case["memlimit"], algorithm=case["algorithm"]
    )


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [ascii(case["input"]) for case in cases]


def test_file_is_version_1_and_ascii_only() -> None:
    assert VECTORS["protocol"] == "backchannel"
    assert VECTORS["version"] == 1
    assert VECTORS_PATH.read_bytes().isascii()


def test_labels_are_the_ones_in_labels_py() -> None:
    for name, value in VECTORS["labels"].items():
        actual = getattr(labels, name)
        assert (actual.hex() if isinstance(actual, bytes) else actual) == value, name
        if name.startswith("PERSON_"):
            assert len(actual) == 16, name


def _documented(cell: str) -> bytes | str | int:
    """A value as docs/protocol.md writes it: P("label"), "text\\0" or a number."""
    if cell.startswith('P("'):
        return cell[3:-2].encode("ascii").ljust(16, b"\x00")
    if cell.startswith('"'):
        text = cell[1:-1]
        return text.replace("\\0", "\x00").encode("ascii") if "\\0" in text else text
    return int(cell)


def test_protocol_md_label_table_matches_labels_py() -> None:
    accounts = (DOCS / "protocol.md").read_text().split("\n## 8.", 1)[0]  # circles: other test
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| `([^`]+)`", accounts, re.M)
    documented = {name: _documented(cell) for name, cell in rows}
    assert set(documented) == set(VECTORS["labels"]) | {
        "BUNDLE_PURPOSE_PASSPHRASE",
        "BUNDLE_PURPOSE_RECOVERY",
    }
    for name, value in documented.items():
        assert getattr(labels, name) == value, name


@pytest.mark.parametrize(
    "case", VECTORS["passphrase_normalisation"], ids=_ids(VECTORS["passphrase_normalisation"])
)
def test_passphrase_normalises_to_nfkc_utf8(case: dict[str, str]) -> None:
    assert normalise_passphrase(case["input"]) == h(case["utf8"])


def test_non_ascii_passphrase_derives_the_vector_account_keys() -> None:
    assert normalise_passphrase(ACCOUNT["passphrase"]) == h(ACCOUNT["passphrase_utf8"])
    assert normalise_passphrase(ACCOUNT["passphrase"]) != ACCOUNT["passphrase"].encode("utf-8")
    root = derive_root_key(ACCOUNT["passphrase"], h(ACCOUNT["salt"]), _params(ACCOUNT))
    assert root == h(ACCOUNT["root_key"])
    keys = AccountKeys.from_root(root)
    assert keys.auth_key == h(ACCOUNT["auth_key"])
    assert keys.wrap_key == h(ACCOUNT["wrap_key"])


def test_root_key_is_plain_argon2id_v13_with_one_lane() -> None:
    """argon2-cffi agrees with libsodium: t = opslimit, m = memlimit / 1024 KiB, p = 1."""
    root = argon2.low_level.hash_secret_raw(
        h(ACCOUNT["passphrase_utf8"]),
        h(ACCOUNT["salt"]),
        time_cost=ACCOUNT["opslimit"],
        memory_cost=ACCOUNT["memlimit"] // 1024,
        parallelism=1,
        hash_len=32,
        type=argon2.low_level.Type.ID,
        version=0x13,
    )
    assert root == h(ACCOUNT["root_key"])


def test_subkeys_are_keyed_blake2b_of_the_empty_message() -> None:
    """hashlib's BLAKE2b (salt zero, personalisation from labels.py) agrees with app.crypto."""

    def blake2b(key: bytes, person: str, message: bytes = b"", size: int = 32) -> bytes:
        return hashlib.blake2b(
            message, digest_size=size, key=key, person=h(VECTORS["labels"][person])
        ).digest()

    root, code = h(ACCOUNT["root_key"]), h(RECOVERY["raw"])
    assert blake2b(root, "PERSON_AUTH_KEY") == h(ACCOUNT["auth_key"])
    assert blake2b(root, "PERSON_WRAP_KEY") == h(ACCOUNT["wrap_key"])
    assert blake2b(code, "PERSON_RECOVERY_KEY") == h(RECOVERY["bundle_key"])
    assert blake2b(code, "PERSON_RECOVERY_AUTH") == h(RECOVERY["auth_key"])
    digest = blake2b(b"", "PERSON_FINGERPRINT", h(IDENTITY["fingerprint_input"]), size=12)
    groups = [int.from_bytes(digest[i : i + 2], "big") for i in range(0, 12, 2)]
    assert " ".join(f"{group:05d}" for group in groups) == IDENTITY["fingerprint"]


@pytest.mark.parametrize("case", VECTORS["kdf_bounds"]["accept"])
def test_kdf_params_inside_the_bounds_are_accepted(case: dict[str, Any]) -> None:
    _params(case).check()


@pytest.mark.parametrize("case", VECTORS["kdf_bounds"]["reject"])
def test_kdf_params_outside_the_bounds_are_refused(case: dict[str, Any]) -> None:
    with pytest.raises(WeakKdfParameters):
        _params(case).check()


def test_identity_public_keys_signature_and_fingerprint() -> None:
    identity = IdentityKeys(h(IDENTITY["x25519_secret"]), h(IDENTITY["ed25519_seed"]))
    assert bytes(identity) == h(IDENTITY["identity_secret"])
    assert bytes(IdentityKeys.from_bytes(h(IDENTITY["identity_secret"]))) == bytes(identity)
    public = identity.public()
    assert public.x25519_public == h(IDENTITY["x25519_public"])
    assert public.ed25519_public == h(IDENTITY["ed25519_public"])
    assert labels.IDENTITY_SIGNATURE_CONTEXT + public.x25519_public == h(
        IDENTITY["signature_message"]
    )
    assert public.x25519_signature == h(IDENTITY["x25519_signature"])  # Ed25519 is deterministic
    public.verify()
    assert public.ed25519_public + public.x25519_public == h(IDENTITY["fingerprint_input"])
    assert public.fingerprint() == IDENTITY["fingerprint"]
    assert fingerprint(public.ed25519_public, public.x25519_public) == IDENTITY["fingerprint"]


@pytest.mark.parametrize(
    "case", VECTORS["fingerprint_parse"], ids=_ids(VECTORS["fingerprint_parse"])
)
def test_fingerprint_parse(case: dict[str, str]) -> None:
    if "error" in case:
        with pytest.raises(InvalidKey):
            normalise_fingerprint(case["input"])
    else:
        assert normalise_fingerprint(case["input"]) == case["canonical"]


@pytest.mark.parametrize("case", VECTORS["usernames"], ids=_ids(VECTORS["usernames"]))
def test_username_normalisation(case: dict[str, str]) -> None:
    if "error" in case:
        with pytest.raises(InvalidKey):
            normalise_username(case["input"])
    else:
        assert normalise_username(case["input"]) == case["canonical"]


def test_recovery_code_text_and_subkeys() -> None:
    code = RecoveryCode(h(RECOVERY["raw"]))
    assert str(code) == RECOVERY["text"]
    assert code.bundle_key == h(RECOVERY["bundle_key"])
    assert code.auth_key == h(RECOVERY["auth_key"])
    assert RecoveryCode.parse(RECOVERY["text"]).bundle_key == h(RECOVERY["bundle_key"])


@pytest.mark.parametrize(
    "case", VECTORS["recovery_code_parse"], ids=_ids(VECTORS["recovery_code_parse"])
)
def test_recovery_code_parse(case: dict[str, str]) -> None:
    if "error" in case:
        with pytest.raises(InvalidKey):
            RecoveryCode.parse(case["input"])
    else:
        parsed = RecoveryCode.parse(case["input"])
        assert str(parsed) == case["canonical"]
        assert parsed.auth_key == h(RECOVERY["auth_key"])


BUNDLES = VECTORS["key_bundles"]


def test_bundle_keys_are_the_account_wrap_key_and_the_recovery_bundle_key() -> None:
    by_purpose = {case["purpose"]: case for case in BUNDLES}
    assert h(by_purpose["passphrase"]["key"]) == h(ACCOUNT["wrap_key"])
    assert h(by_purpose["recovery"]["key"]) == h(RECOVERY["bundle_key"])
    assert h(by_purpose["passphrase"]["plaintext"]) == h(IDENTITY["identity_secret"])


@pytest.mark.parametrize("case", BUNDLES, ids=[case["purpose"] for case in BUNDLES])
def test_fixed_nonce_bundle_opens(case: dict[str, str]) -> None:
    bundle = h(case["bundle"])
    ad = bundle_associated_data(case["username"], case["purpose"])
    assert ad == h(case["associated_data"])
    assert ad == (
        labels.KEY_BUNDLE_AD_PREFIX
        + case["purpose"].encode("ascii")
        + b"\x00"
        + case["username"].encode("utf-8")
    )
    assert len(bundle) == BUNDLE_BYTES == 1 + 24 + 64 + 16
    assert bundle[0] == labels.KEY_BUNDLE_VERSION
    assert bundle[1 : 1 + NONCE_BYTES] == h(case["nonce"])
    assert b64decode(case["bundle_b64"]) == bundle
    assert b64encode(bundle) == case["bundle_b64"]
    opened = open_key_bundle(
        bundle, key=h(case["key"]), username=case["username"], purpose=case["purpose"]
    )
    assert bytes(opened) == h(case["plaintext"])
    assert opened.public().fingerprint() == IDENTITY["fingerprint"]


@pytest.mark.parametrize("case", BUNDLES, ids=[case["purpose"] for case in BUNDLES])
def test_bundle_ciphertext_is_libsodium_xchacha20poly1305_ietf(case: dict[str, str]) -> None:
    ciphertext = crypto_aead_xchacha20poly1305_ietf_encrypt(
        h(case["plaintext"]), h(case["associated_data"]), h(case["nonce"]), h(case["key"])
    )
    assert bytes([1]) + h(case["nonce"]) + ciphertext == h(case["bundle"])


OTHER_SLOT = {"passphrase": "recovery", "recovery": "passphrase"}


@pytest.mark.parametrize("case", BUNDLES, ids=[case["purpose"] for case in BUNDLES])
@pytest.mark.parametrize("change", ["other-user", "trailing-space", "other-case", "other-slot"])
def test_bundle_is_bound_to_username_and_purpose(case: dict[str, str], change: str) -> None:
    username, purpose = case["username"], case["purpose"]
    if change == "other-slot":
        purpose = OTHER_SLOT[purpose]
    else:
        username = {"other-user": "bob", "trailing-space": "alice ", "other-case": "Alice"}[change]
    with pytest.raises(DecryptionFailed):
        open_key_bundle(h(case["bundle"]), key=h(case["key"]), username=username, purpose=purpose)


def test_register_request_example_is_built_from_the_vectors() -> None:
    body = VECTORS["register_request"]
    by_purpose = {case["purpose"]: case for case in BUNDLES}
    assert body["username"] == by_purpose["passphrase"]["username"]
    kdf = body["kdf"]
    assert {key: kdf[key] for key in ("algorithm", "opslimit", "memlimit")} == {
        key: ACCOUNT[key] for key in ("algorithm", "opslimit", "memlimit")
    }
    assert b64decode(kdf["salt"]) == h(ACCOUNT["salt"])
    assert b64decode(body["auth_key"]) == h(ACCOUNT["auth_key"])
    assert b64decode(body["identity"]["x25519_public"]) == h(IDENTITY["x25519_public"])
    assert b64decode(body["identity"]["ed25519_public"]) == h(IDENTITY["ed25519_public"])
    assert b64decode(body["identity"]["x25519_signature"]) == h(IDENTITY["x25519_signature"])
    assert body["key_bundle"] == by_purpose["passphrase"]["bundle_b64"]
    assert b64decode(body["recovery"]["auth_key"]) == h(RECOVERY["auth_key"])
    assert body["recovery"]["key_bundle"] == by_purpose["recovery"]["bundle_b64"]


def test_vectors_file_matches_its_generator() -> None:
    """Regenerate with: .venv/bin/python -m tests.crypto.make_vectors > docs/vectors/v1.json"""
    assert build_vectors() == VECTORS
