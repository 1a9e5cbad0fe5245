"""The rules of the account layer in app.crypto, one test per rule.

Everything here runs without Argon2 except where the test is about Argon2
refusing to run.
"""

import re
import secrets

import nacl.pwhash.argon2id
import pytest

from app.crypto import (
    AccountKeys,
    BadSignature,
    DecryptionFailed,
    IdentityKeys,
    InvalidKey,
    KdfParams,
    PublicIdentity,
    RecoveryCode,
    WeakKdfParameters,
    b64decode,
    b64encode,
    derive_root_key,
    fingerprint,
    normalise_fingerprint,
    open_key_bundle,
    seal_key_bundle,
)
from app.crypto.labels import BUNDLE_PURPOSE_PASSPHRASE, BUNDLE_PURPOSE_RECOVERY

MIB = 1024 * 1024
FLOOR_OPS, FLOOR_MEM = 3, 64 * MIB
CEILING_OPS, CEILING_MEM = 32, 1024 * MIB
SALT = bytes(16)
CROCKFORD_CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){7}$")


@pytest.fixture
def identity() -> IdentityKeys:
    return IdentityKeys.generate()


@pytest.fixture
def key() -> bytes:
    return secrets.token_bytes(32)


def seal(identity: IdentityKeys, key: bytes, username: str = "alice") -> bytes:
    return seal_key_bundle(identity, key=key, username=username, purpose=BUNDLE_PURPOSE_PASSPHRASE)


def open_(bundle: bytes, key: bytes, username: str = "alice") -> IdentityKeys:
    return open_key_bundle(bundle, key=key, username=username, purpose=BUNDLE_PURPOSE_PASSPHRASE)


# -- KDF parameters -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("opslimit", "memlimit"),
    [(FLOOR_OPS, FLOOR_MEM), (CEILING_OPS, CEILING_MEM), (4, 256 * MIB)],
)
def test_kdf_params_between_floor_and_ceiling_are_accepted(opslimit: int, memlimit: int) -> None:
    KdfParams(opslimit=opslimit, memlimit=memlimit).check()


@pytest.mark.parametrize(
    ("opslimit", "memlimit"),
    [
        (FLOOR_OPS - 1, FLOOR_MEM),
        (1, FLOOR_MEM),
        (0, FLOOR_MEM),
        (-3, FLOOR_MEM),
        (FLOOR_OPS, FLOOR_MEM - 1),
        (FLOOR_OPS, 8192),
        (FLOOR_OPS, 0),
    ],
)
def test_kdf_params_below_the_floor_are_refused(opslimit: int, memlimit: int) -> None:
    with pytest.raises(WeakKdfParameters):
        KdfParams(opslimit=opslimit, memlimit=memlimit).check()


@pytest.mark.parametrize(
    ("opslimit", "memlimit"),
    [(CEILING_OPS + 1, FLOOR_MEM), (FLOOR_OPS, CEILING_MEM + 1), (10**9, 2**62)],
)
def test_kdf_params_above_the_ceiling_are_refused(opslimit: int, memlimit: int) -> None:
    with pytest.raises(WeakKdfParameters):
        KdfParams(opslimit=opslimit, memlimit=memlimit).check()


@pytest.mark.parametrize("algorithm", ["argon2i13", "scrypt", "ARGON2ID13", "argon2id", ""])
def test_unknown_kdf_algorithm_is_refused(algorithm: str) -> None:
    with pytest.raises(WeakKdfParameters):
        KdfParams(opslimit=FLOOR_OPS, memlimit=FLOOR_MEM, algorithm=algorithm).check()


def test_weak_params_are_refused_before_the_passphrase_is_hashed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def must_not_run(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("Argon2id ran with parameters the client should have refused")

    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", must_not_run)
    with pytest.raises(WeakKdfParameters):
        derive_root_key("a passphrase", SALT, KdfParams(opslimit=1, memlimit=FLOOR_MEM))
    with pytest.raises(WeakKdfParameters):
        AccountKeys.from_passphrase("a passphrase", SALT, KdfParams(FLOOR_OPS, 8 * MIB))


@pytest.mark.parametrize("size", [0, 8, 15, 17, 32])
def test_salt_must_be_16_bytes(size: int) -> None:
    with pytest.raises(InvalidKey):
        derive_root_key("a passphrase", bytes(size), KdfParams(FLOOR_OPS, FLOOR_MEM))


def test_auth_key_and_wrap_key_are_distinct_subkeys_of_the_root() -> None:
    root = secrets.token_bytes(32)
    keys = AccountKeys.from_root(root)
    assert len(keys.auth_key) == len(keys.wrap_key) == 32
    assert len({keys.auth_key, keys.wrap_key, root}) == 3
    assert AccountKeys.from_root(root) == keys
    assert AccountKeys.from_root(secrets.token_bytes(32)).auth_key != keys.auth_key


@pytest.mark.parametrize("size", [16, 31, 33, 64])
def test_root_key_must_be_32_bytes(size: int) -> None:
    with pytest.raises(InvalidKey):
        AccountKeys.from_root(bytes(size))


# -- key bundles --------------------------------------------------------------------


def test_bundle_round_trip(identity: IdentityKeys, key: bytes) -> None:
    assert bytes(open_(seal(identity, key), key)) == bytes(identity)


def test_fresh_bundles_use_different_nonces(identity: IdentityKeys, key: bytes) -> None:
    bundles = [seal(identity, key) for _ in range(8)]
    nonces = {bundle[1:25] for bundle in bundles}
    assert len(nonces) == len(bundles)
    assert len({bundle[25:] for bundle in bundles}) == len(bundles)
    assert all(bytes(open_(bundle, key)) == bytes(identity) for bundle in bundles)


@pytest.mark.parametrize("position", [1, 12, 24, 25, 60, -17, -1], ids=lambda p: f"byte{p}")
def test_tampered_bundle_byte_raises_decryption_failed(
    identity: IdentityKeys, key: bytes, position: int
) -> None:
    """Nonce, ciphertext and tag bytes are all authenticated."""
    bundle = bytearray(seal(identity, key))
    bundle[position] ^= 0x01
    with pytest.raises(DecryptionFailed):
        open_(bytes(bundle), key)


@pytest.mark.parametrize("version", [0, 2, 0xFF])
def test_wrong_version_byte_raises_decryption_failed(
    identity: IdentityKeys, key: bytes, version: int
) -> None:
    bundle = seal(identity, key)
    with pytest.raises(DecryptionFailed):
        open_(bytes([version]) + bundle[1:], key)


@pytest.mark.parametrize("change", ["truncated", "extended", "empty"])
def test_bundle_of_the_wrong_size_raises_decryption_failed(
    identity: IdentityKeys, key: bytes, change: str
) -> None:
    bundle = seal(identity, key)
    altered = {"truncated": bundle[:-1], "extended": bundle + b"\x00", "empty": b""}[change]
    with pytest.raises(DecryptionFailed):
        open_(altered, key)


def test_bundle_under_another_key_raises_decryption_failed(
    identity: IdentityKeys, key: bytes
) -> None:
    with pytest.raises(DecryptionFailed):
        open_(seal(identity, key), secrets.token_bytes(32))


def test_bundle_moved_to_another_account_or_slot_raises_decryption_failed(
    identity: IdentityKeys, key: bytes
) -> None:
    bundle = seal(identity, key, username="alice")
    with pytest.raises(DecryptionFailed):
        open_(bundle, key, username="mallory")
    with pytest.raises(DecryptionFailed):
        open_key_bundle(bundle, key=key, username="alice", purpose=BUNDLE_PURPOSE_RECOVERY)


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_bundle_key_must_be_32_bytes(identity: IdentityKeys, size: int) -> None:
    with pytest.raises(InvalidKey):
        seal(identity, bytes(size))
    with pytest.raises(InvalidKey):
        open_(seal(identity, secrets.token_bytes(32)), bytes(size))


def test_unknown_bundle_purpose_is_a_programming_error(identity: IdentityKeys, key: bytes) -> None:
    with pytest.raises(ValueError, match="purpose"):
        seal_key_bundle(identity, key=key, username="alice", purpose="backup")


# -- identity -----------------------------------------------------------------------


def test_identity_secret_round_trips_through_bytes(identity: IdentityKeys) -> None:
    raw = bytes(identity)
    assert len(raw) == IdentityKeys.SECRET_BYTES == 64
    assert IdentityKeys.from_bytes(raw).public() == identity.public()


def test_fresh_identity_verifies(identity: IdentityKeys) -> None:
    identity.public().verify()


def test_identity_signature_over_a_different_x25519_key_raises_bad_signature(
    identity: IdentityKeys,
) -> None:
    public = identity.public()
    swapped = PublicIdentity(
        x25519_public=IdentityKeys.generate().public().x25519_public,
        ed25519_public=public.ed25519_public,
        x25519_signature=public.x25519_signature,
    )
    with pytest.raises(BadSignature):
        swapped.verify()


def test_identity_signature_by_a_different_ed25519_key_raises_bad_signature(
    identity: IdentityKeys,
) -> None:
    public = identity.public()
    other = PublicIdentity(
        x25519_public=public.x25519_public,
        ed25519_public=IdentityKeys.generate().public().ed25519_public,
        x25519_signature=public.x25519_signature,
    )
    with pytest.raises(BadSignature):
        other.verify()


def test_signature_without_the_identity_context_raises_bad_signature(
    identity: IdentityKeys,
) -> None:
    public = identity.public()
    bare = identity.signing_key.sign(public.x25519_public).signature
    unlabelled = PublicIdentity(public.x25519_public, public.ed25519_public, bare)
    with pytest.raises(BadSignature):
        unlabelled.verify()


def test_identity_signature_that_is_not_a_point_raises_bad_signature(
    identity: IdentityKeys,
) -> None:
    public = identity.public()
    garbage = PublicIdentity(public.x25519_public, b"\xff" * 32, public.x25519_signature)
    with pytest.raises(BadSignature):
        garbage.verify()


@pytest.mark.parametrize("field", ["x25519_public", "ed25519_public", "x25519_signature"])
def test_public_identity_rejects_wrong_sizes(identity: IdentityKeys, field: str) -> None:
    values = {
        "x25519_public": identity.public().x25519_public,
        "ed25519_public": identity.public().ed25519_public,
        "x25519_signature": identity.public().x25519_signature,
    }
    values[field] = values[field][:-1]
    with pytest.raises(InvalidKey):
        PublicIdentity(**values)


# -- fingerprints -------------------------------------------------------------------


def test_fingerprint_is_six_groups_of_five_digits(identity: IdentityKeys) -> None:
    assert re.fullmatch(r"\d{5}( \d{5}){5}", identity.public().fingerprint())


def test_fingerprint_changes_when_either_public_key_changes(identity: IdentityKeys) -> None:
    mine, other = identity.public(), IdentityKeys.generate().public()
    base = fingerprint(mine.ed25519_public, mine.x25519_public)
    assert fingerprint(other.ed25519_public, mine.x25519_public) != base
    assert fingerprint(mine.ed25519_public, other.x25519_public) != base
    assert fingerprint(mine.x25519_public, mine.ed25519_public) != base  # order matters


@pytest.mark.parametrize(
    "typed",
    [
        "{0}",
        "{1}",
        "{2}",
        "  {0}  ",
        "{0}".replace(" ", "  "),
    ],
)
def test_fingerprint_normalisation_accepts_dashes_and_spaces(
    identity: IdentityKeys, typed: str
) -> None:
    canonical = identity.public().fingerprint()
    text = typed.format(canonical, canonical.replace(" ", "-"), canonical.replace(" ", ""))
    assert normalise_fingerprint(text) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12345 67890 12345 67890 12345 6789",
        "12345 67890 12345 67890 12345 678901",
        "12345 67890 12345 67890 12345",
        "12345 " * 7,
        "1--" * 30,  # 30 digits, but too long to be a typed fingerprint
    ],
)
def test_fingerprint_normalisation_rejects_wrong_lengths(text: str) -> None:
    with pytest.raises(InvalidKey):
        normalise_fingerprint(text)


def test_fingerprint_normalisation_counts_only_ascii_digits() -> None:
    """Arabic-Indic digits are digits to Python but not to the protocol."""
    with pytest.raises(InvalidKey):
        normalise_fingerprint("\u0661" * 30)


# -- recovery codes -----------------------------------------------------------------


def test_recovery_code_round_trip() -> None:
    for _ in range(20):
        code = RecoveryCode.generate()
        text = str(code)
        assert CROCKFORD_CODE.match(text), text
        parsed = RecoveryCode.parse(text)
        assert str(parsed) == text
        assert parsed.bundle_key == code.bundle_key
        assert parsed.auth_key == code.auth_key


def test_recovery_code_subkeys_are_distinct_32_byte_keys() -> None:
    code = RecoveryCode.generate()
    assert len(code.bundle_key) == len(code.auth_key) == 32
    assert code.bundle_key != code.auth_key


@pytest.mark.parametrize("bad", ["U", "*", "=", "\u00c9", "_", "\n", "\u0661"])
def test_recovery_code_rejects_bad_characters(bad: str) -> None:
    text = str(RecoveryCode.generate())
    with pytest.raises(InvalidKey):
        RecoveryCode.parse(bad + text[1:])


@pytest.mark.parametrize("text", ["", "0000", "0" * 31, "0" * 33, "0" * 32 + " " * 60, "0" * 81])
def test_recovery_code_rejects_wrong_lengths(text: str) -> None:
    with pytest.raises(InvalidKey):
        RecoveryCode.parse(text)


def test_recovery_code_of_all_zero_and_all_one_bits() -> None:
    assert str(RecoveryCode(bytes(20))) == "-".join(["0000"] * 8)
    assert str(RecoveryCode(b"\xff" * 20)) == "-".join(["ZZZZ"] * 8)
    assert str(RecoveryCode.parse("z" * 32)) == "-".join(["ZZZZ"] * 8)


@pytest.mark.parametrize("size", [0, 16, 19, 21, 32])
def test_recovery_code_must_be_20_bytes(size: int) -> None:
    with pytest.raises(InvalidKey):
        RecoveryCode(bytes(size))


# -- encoding -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["AAA", "AA", "AA==AA==", "AA AA", "AAAA\n", "-_-_", "AA=A", "\u00e9AAA"]
)
def test_base64_decoding_is_strict(text: str) -> None:
    with pytest.raises(InvalidKey):
        b64decode(text)


def test_base64_is_the_standard_alphabet_with_padding() -> None:
    raw = bytes([0xFB, 0xFF, 0xBF])
    assert b64encode(raw) == "+/+/"
    assert b64encode(b"\x00") == "AA=="
    assert b64decode("+/+/") == raw


# -- secrets stay out of repr -------------------------------------------------------


def _renderings(secret: bytes) -> list[str]:
    return [secret.hex(), b64encode(secret), repr(secret)[2:-1]]


def test_repr_of_secret_types_does_not_include_secret_bytes(identity: IdentityKeys) -> None:
    keys = AccountKeys.from_root(secrets.token_bytes(32))
    code = RecoveryCode.generate()
    cases = [
        (identity, [bytes(identity), bytes(identity)[:32], bytes(identity)[32:]]),
        (keys, [keys.auth_key, keys.wrap_key]),
        (code, [code.bundle_key, code.auth_key]),
    ]
    for value, secret_values in cases:
        shown = repr(value)
        assert "<secret>" in shown
        for secret in secret_values:
            for rendering in _renderings(secret):
                assert rendering not in shown
    assert str(code) not in repr(code)
    assert str(code).replace("-", "") not in repr(code)
