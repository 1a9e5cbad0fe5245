"""app.crypto reproduces docs/vectors/entries-v1.json byte for byte.

Each value is also recomputed independently (hashlib BLAKE2b, raw libsodium
bindings) so the vectors pin the construction, not just the Python code path.
"""

import hashlib
import json
import re
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import pytest
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_sign,
    crypto_sign_open,
    crypto_sign_seed_keypair,
)

from app.crypto import b64decode, b64encode, errors, labels
from app.crypto.circles import CircleKey, canonical_json
from app.crypto.entries import (
    BUCKETS,
    CATEGORIES,
    NONCE_BYTES,
    OPENING_BYTES,
    SEVERITIES,
    Envelope,
    EnvelopeContext,
    anonymous_signing_key,
    check_entry_body,
    commitment,
    open_envelope,
    pad,
    retract_message,
    sign_retraction,
    unpad,
    verify_commitment,
    verify_retraction,
)
from app.crypto.identity import IdentityKeys
from app.crypto.names import _FOLD, exact_keys, normalise_name
from app.entries.schemas import CorroborationCreate, EntryCreate, RetractRequest
from tests.crypto.make_entry_vectors import build_vectors

DOCS = Path(__file__).resolve().parents[2] / "docs"
VECTORS_PATH = DOCS / "vectors" / "entries-v1.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="ascii"))
ACCOUNT_VECTORS: dict[str, Any] = json.loads((DOCS / "vectors" / "v1.json").read_text())
CIRCLE_VECTORS: dict[str, Any] = json.loads((DOCS / "vectors" / "circles-v1.json").read_text())
CIRCLE_ID = uuid.UUID(VECTORS["circle"]["circle_id"])
KEYS = {k["epoch"]: k for k in VECTORS["circle"]["epoch_keys"]}
PEOPLE = VECTORS["identities"]
ENVELOPES = VECTORS["entries"] + VECTORS["corroborations"]
PROTOCOL_MD = (DOCS / "protocol.md").read_text(encoding="utf-8")


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def person(label: str) -> bytes:
    return h(VECTORS["labels"][label])


def blake2b(message: bytes, label: str, key: bytes) -> bytes:
    return hashlib.blake2b(message, digest_size=32, key=key, person=person(label)).digest()


def circle_key(epoch: int) -> CircleKey:
    return CircleKey(h(KEYS[epoch]["key"]))


def context_of(case: dict[str, Any]) -> EnvelopeContext:
    corroboration = case.get("corroboration_id")
    return EnvelopeContext(
        case["kind"],
        uuid.UUID(case["circle_id"]),
        case["epoch"],
        uuid.UUID(case["entry_id"]),
        None if corroboration is None else uuid.UUID(corroboration),
    )


def envelope_of(fields: dict[str, str]) -> Envelope:
    return Envelope(
        author_key=b64decode(fields["author_key"]),
        commitment=b64decode(fields["commitment"]),
        nonce=b64decode(fields["nonce"]),
        ciphertext=b64decode(fields["ciphertext"]),
        signature=b64decode(fields["signature"]),
    )


def raises(name: str) -> Any:
    return pytest.raises(getattr(errors, name))


def section(title_prefix: str) -> str:
    """The text of the protocol.md section whose heading starts with ``## <title_prefix>``."""
    return PROTOCOL_MD.split(f"\n## {title_prefix}", 1)[1].split("\n## ", 1)[0]


# -- the file ----------------------------------------------------------------------------


def test_file_is_entries_version_1_and_ascii_only() -> None:
    assert (VECTORS["protocol"], VECTORS["layer"], VECTORS["version"]) == (
        "backchannel",
        "entries",
        1,
    )
    assert VECTORS_PATH.read_bytes().isascii()


def test_vectors_file_matches_its_generator() -> None:
    """Regenerate with:
    .venv/bin/python -m tests.crypto.make_entry_vectors > docs/vectors/entries-v1.json
    """
    assert build_vectors() == VECTORS


def test_labels_are_the_ones_in_labels_py() -> None:
    for name, value in VECTORS["labels"].items():
        actual = getattr(labels, name)
        assert (actual.hex() if isinstance(actual, bytes) else actual) == value, name
        if name.startswith("PERSON_"):
            assert len(actual) == 16, name


def test_retired_labels_are_never_reused() -> None:
    active = {v for k, v in vars(labels).items() if k.isupper() and not k.startswith("RETIRED_")}
    for name, value in VECTORS["retired_labels"].items():
        assert getattr(labels, "RETIRED_" + name).hex() == value
        assert bytes.fromhex(value) not in active, name


def _documented(cell: str) -> bytes | str | int:
    if cell.startswith('P("'):
        return cell[3:-2].encode("ascii").ljust(16, b"\x00")
    if cell.startswith('"'):
        return cell[1:-1].replace("\\0", "\x00").encode("ascii")
    return int(cell)


def test_protocol_md_entry_label_table_matches_labels_py() -> None:
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| `([^`]+)`", section("18."), re.M)
    documented = {name: _documented(cell) for name, cell in rows}
    assert set(documented) == set(VECTORS["labels"])
    for name, value in documented.items():
        assert getattr(labels, name) == value, name


def test_protocol_md_fold_table_matches_names_py() -> None:
    rows = re.findall(r"^ *\| `(.)` \| U\+([0-9A-F]{4}) \| `([a-z]+)` \|", section("25."), re.M)
    documented = {char: folded for char, _, folded in rows}
    assert all(ord(char) == int(code, 16) for char, code, _ in rows)
    assert documented == {chr(k): v for k, v in _FOLD.items()}


def test_protocol_md_lists_the_categories_and_severities() -> None:
    payload = section("19.")
    for value in (*CATEGORIES, *SEVERITIES):
        assert f"`{value}`" in payload, value


def test_constants() -> None:
    constants = VECTORS["constants"]
    assert constants["opening_bytes"] == OPENING_BYTES == 32
    assert constants["nonce_bytes"] == NONCE_BYTES == 24
    assert tuple(constants["buckets"]) == BUCKETS
    assert constants["buckets"] == [512 * 2**i for i in range(8)]
    assert tuple(constants["categories"]) == CATEGORIES
    assert tuple(constants["severities"]) == SEVERITIES


# -- identities and keys -----------------------------------------------------------------


def test_alice_is_the_account_identity_and_bob_the_circle_one() -> None:
    assert PEOPLE["alice"]["ed25519_seed"] == ACCOUNT_VECTORS["identity"]["ed25519_seed"]
    assert PEOPLE["alice"]["ed25519_public"] == ACCOUNT_VECTORS["identity"]["ed25519_public"]
    bob = CIRCLE_VECTORS["identities"]["bob"]
    assert PEOPLE["bob"]["ed25519_seed"] == bob["ed25519_seed"]
    for name, data in PEOPLE.items():
        assert crypto_sign_seed_keypair(h(data["ed25519_seed"]))[0] == h(data["ed25519_public"])
        assert name in ("alice", "bob")


def test_circle_and_epoch_keys_are_those_of_the_circle_vectors() -> None:
    assert VECTORS["circle"]["circle_id"] == CIRCLE_VECTORS["circle"]["circle_id"]
    assert h(VECTORS["circle"]["bytes"]) == CIRCLE_ID.bytes
    circle_keys = {k["epoch"]: k for k in CIRCLE_VECTORS["epoch_keys"]}
    for epoch, case in KEYS.items():
        for field in ("key", "entry_key"):
            assert case[field] == circle_keys[epoch][field], (epoch, field)
        raw = h(case["key"])
        entry_person = CIRCLE_VECTORS["labels"]["PERSON_ENTRY_KEY"]
        assert (
            hashlib.blake2b(b"", digest_size=32, key=raw, person=h(entry_person)).digest()
            == h(case["entry_key"])
            == CircleKey(raw).entry_key
        )


# -- padding -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["padding"], ids=lambda c: str(c["data_length"]))
def test_padding_sizes(case: dict[str, Any]) -> None:
    data = b"\x5a" * case["data_length"]
    if "error" in case:
        with raises(case["error"]):
            pad(data)
        return
    padded = pad(data)
    size = case["padded_length"]
    assert len(padded) == size
    assert size == min(b for b in BUCKETS if b > len(data))
    assert padded == data + b"\x80" + bytes(size - len(data) - 1)
    assert unpad(padded) == data


# -- envelopes ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", ENVELOPES, ids=[c["name"] for c in ENVELOPES])
def test_body_bytes_and_plaintext(case: dict[str, Any]) -> None:
    body = h(case["body_bytes"])
    assert case["body_text"].encode("utf-8") == body
    assert canonical_json(case["body"]) == body
    assert json.loads(body) == case["body"]
    assert list(json.loads(body)) == sorted(case["body"])
    assert len(body) == case["body_length"]
    opening = h(case["opening"])
    assert len(opening) == OPENING_BYTES
    plaintext = opening + body
    assert len(plaintext) == case["plaintext_length"]
    padded = h(case["padded"])
    assert len(padded) == case["padded_length"] == min(b for b in BUCKETS if b > len(plaintext))
    assert padded == plaintext + b"\x80" + bytes(len(padded) - len(plaintext) - 1)
    assert pad(plaintext) == padded
    if case["kind"] == "entry":
        assert check_entry_body(case["body"]) == case["body"]
        assert case["body"]["attribution"] == ("anonymous" if case["anonymous"] else "named")
    else:
        assert set(case["body"]) == {"text", "v"}


@pytest.mark.parametrize("case", ENVELOPES, ids=[c["name"] for c in ENVELOPES])
def test_commitment(case: dict[str, Any]) -> None:
    body, opening, commit = h(case["body_bytes"]), h(case["opening"]), h(case["commitment"])
    assert blake2b(body, "PERSON_FRANKING", opening) == commit
    assert commitment(body, opening) == commit
    assert verify_commitment(body, opening, commit)
    assert not verify_commitment(body + b" ", opening, commit)


@pytest.mark.parametrize("case", ENVELOPES, ids=[c["name"] for c in ENVELOPES])
def test_signing_key(case: dict[str, Any]) -> None:
    signing = case["signing_key"]
    author = PEOPLE[case["author"]]
    if case["anonymous"]:
        assert signing["derivation"] == "anonymous"
        assert signing["identity_ed25519_seed"] == author["ed25519_seed"]
        object_id = uuid.UUID(case.get("corroboration_id", case["entry_id"]))
        message = CIRCLE_ID.bytes + object_id.bytes
        assert h(signing["message"]) == message
        seed = blake2b(message, "PERSON_ANON_ENTRY", h(author["ed25519_seed"]))
        assert seed == h(signing["seed"])
        derived = anonymous_signing_key(
            IdentityKeys(bytes(32), h(author["ed25519_seed"])),
            circle_id=CIRCLE_ID,
            object_id=object_id,
        )
        assert bytes(derived) == seed
        public = crypto_sign_seed_keypair(seed)[0]
        assert public == bytes(derived.verify_key) == h(signing["public"])
        assert public != h(author["ed25519_public"])
    else:
        assert signing["derivation"] == "identity"
        assert signing["ed25519_seed"] == author["ed25519_seed"]
        assert signing["public"] == author["ed25519_public"]
    assert case["author_key"] == signing["public"]


def _seed(case: dict[str, Any]) -> bytes:
    signing = case["signing_key"]
    return h(signing["seed"] if case["anonymous"] else signing["ed25519_seed"])


@pytest.mark.parametrize("case", ENVELOPES, ids=[c["name"] for c in ENVELOPES])
def test_associated_data(case: dict[str, Any]) -> None:
    ad = h(case["associated_data"])
    author_key, commit = h(case["author_key"]), h(case["commitment"])
    if case["kind"] == "entry":
        expected = (
            b"backchannel.entry.v1\x00"
            + CIRCLE_ID.bytes
            + case["epoch"].to_bytes(8, "big")
            + uuid.UUID(case["entry_id"]).bytes
            + author_key
            + commit
        )
        assert len(ad) == case["associated_data_length"] == 21 + 16 + 8 + 16 + 32 + 32 == 125
    else:
        expected = (
            b"backchannel.corroboration.v1\x00"
            + CIRCLE_ID.bytes
            + case["epoch"].to_bytes(8, "big")
            + uuid.UUID(case["entry_id"]).bytes
            + uuid.UUID(case["corroboration_id"]).bytes
            + author_key
            + commit
        )
        assert len(ad) == case["associated_data_length"] == 29 + 16 + 8 + 16 + 16 + 32 + 32 == 149
    assert ad == expected
    assert context_of(case).associated_data(author_key, commit) == ad


@pytest.mark.parametrize("case", ENVELOPES, ids=[c["name"] for c in ENVELOPES])
def test_ciphertext(case: dict[str, Any]) -> None:
    entry_key = h(case["entry_key"])
    assert entry_key == circle_key(case["epoch"]).entry_key
    nonce, ad, padded = h(case["nonce"]), h(case["associated_data"]), h(case["padded"])
    assert len(nonce) == NONCE_BYTES
    ciphertext = h(case["ciphertext"])
    assert len(ciphertext) == case["ciphertext_length"] == case["padded_length"] + 16
    assert crypto_aead_xchacha20poly1305_ietf_encrypt(padded, ad, nonce, entry_key) == ciphertext
    assert crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, entry_key) == padded


@pytest.mark.parametrize("case", ENVELOPES, ids=[c["name"] for c in ENVELOPES])
def test_signature(case: dict[str, Any]) -> None:
    message = h(case["signature_message"])
    assert message == (
        b"backchannel.envelope-sig.v1\x00"
        + h(case["associated_data"])
        + h(case["nonce"])
        + h(case["ciphertext"])
    )
    signature = h(case["signature"])
    public, secret = crypto_sign_seed_keypair(_seed(case))
    assert public == h(case["author_key"])
    assert crypto_sign(message, secret)[:64] == signature  # Ed25519 is deterministic
    assert crypto_sign_open(signature + message, public) == message
    envelope = envelope_of(case["envelope"])
    assert envelope.signed_message(context_of(case)) == message
    envelope.verify(context_of(case))


@pytest.mark.parametrize("case", ENVELOPES, ids=[c["name"] for c in ENVELOPES])
def test_envelope_fields_and_open(case: dict[str, Any]) -> None:
    envelope = envelope_of(case["envelope"])
    assert envelope == Envelope(
        h(case["author_key"]),
        h(case["commitment"]),
        h(case["nonce"]),
        h(case["ciphertext"]),
        h(case["signature"]),
    )
    opened = open_envelope(
        envelope, keys={0: circle_key(0), 1: circle_key(1)}, context=context_of(case)
    )
    assert opened.body == case["body"]
    assert opened.body_bytes == h(case["body_bytes"])
    assert opened.opening == h(case["opening"])


@pytest.mark.parametrize("case", VECTORS["entries"], ids=[c["name"] for c in VECTORS["entries"]])
def test_entry_request(case: dict[str, Any]) -> None:
    request = case["request"]
    parsed = EntryCreate.model_validate(request)
    assert str(parsed.entry_id) == case["entry_id"]
    assert (parsed.epoch, parsed.anonymous) == (case["epoch"], case["anonymous"])
    for field in ("author_key", "commitment", "nonce", "ciphertext", "signature"):
        assert request[field] == b64encode(h(case[field])) == case["envelope"][field], field
    assert "tokens" not in request  # no name, in any form, travels to the server


@pytest.mark.parametrize(
    "case", VECTORS["corroborations"], ids=[c["name"] for c in VECTORS["corroborations"]]
)
def test_corroboration_request(case: dict[str, Any]) -> None:
    request = case["request"]
    parsed = CorroborationCreate.model_validate(request)
    assert str(parsed.corroboration_id) == case["corroboration_id"]
    assert (parsed.epoch, parsed.anonymous) == (case["epoch"], case["anonymous"])
    assert {k: v for k, v in request.items() if k in case["envelope"]} == case["envelope"]


def test_anonymous_keys() -> None:
    alice = PEOPLE["alice"]
    publics = set()
    for case in VECTORS["anonymous_keys"]:
        circle_id, object_id = uuid.UUID(case["circle_id"]), uuid.UUID(case["object_id"])
        seed = blake2b(
            circle_id.bytes + object_id.bytes, "PERSON_ANON_ENTRY", h(alice["ed25519_seed"])
        )
        assert seed == h(case["seed"])
        assert crypto_sign_seed_keypair(seed)[0] == h(case["public"])
        publics.add(case["public"])
    assert len(publics) == len(VECTORS["anonymous_keys"])
    assert alice["ed25519_public"] not in publics
    entry = VECTORS["entries"][1]
    assert VECTORS["anonymous_keys"][0]["public"] == entry["author_key"]


# -- reading -----------------------------------------------------------------------------


def _read(case: dict[str, Any]) -> dict[str, Any]:
    keys = {epoch: circle_key(epoch) for epoch in case["keys_held"]}
    context = context_of(case)
    opened = open_envelope(envelope_of(case), keys=keys, context=context)
    if context.kind == "entry":
        check_entry_body(opened.body)
    return opened.body


OPEN_CASES = VECTORS["open_entry"] + VECTORS["open_corroboration"]


@pytest.mark.parametrize("case", OPEN_CASES, ids=[c["case"] for c in OPEN_CASES])
def test_open_case(case: dict[str, Any]) -> None:
    if "error" in case:
        with raises(case["error"]):
            _read(case)
    else:
        assert _read(case) == case["body"]


def test_open_cases_cover_every_error_of_the_verification_order() -> None:
    errors_seen = {c.get("error") for c in OPEN_CASES}
    assert errors_seen == {None, "BadSignature", "WrongEpoch", "DecryptionFailed"}


# -- retraction --------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["retractions"], ids=lambda c: c["signed_with"])
def test_retraction(case: dict[str, Any]) -> None:
    circle_id, entry_id = uuid.UUID(case["circle_id"]), uuid.UUID(case["entry_id"])
    message = h(case["message"])
    assert message == b"backchannel.retract.v1\x00" + circle_id.bytes + entry_id.bytes
    assert retract_message(circle_id=circle_id, entry_id=entry_id) == message
    entry = next(e for e in VECTORS["entries"] if e["entry_id"] == case["entry_id"])
    assert case["author_key"] == entry["author_key"]
    assert case["signed_with"] == entry["signing_key"]["derivation"]
    public, secret = crypto_sign_seed_keypair(_seed(entry))
    signature = h(case["signature"])
    assert crypto_sign(message, secret)[:64] == signature
    assert crypto_sign_open(signature + message, public) == message
    verify_retraction(public, signature, circle_id=circle_id, entry_id=entry_id)
    alice = IdentityKeys(bytes(32), h(PEOPLE["alice"]["ed25519_seed"]))
    if case["signed_with"] == "identity":
        signing = alice.signing_key
    else:
        signing = anonymous_signing_key(alice, circle_id=circle_id, object_id=entry_id)
    assert sign_retraction(signing, circle_id=circle_id, entry_id=entry_id) == signature
    assert RetractRequest.model_validate(case["request"]).signature == signature


RETRACTION_CASES = VECTORS["retraction_cases"]


@pytest.mark.parametrize("case", RETRACTION_CASES, ids=[c["case"] for c in RETRACTION_CASES])
def test_retraction_case(case: dict[str, Any]) -> None:
    def check() -> None:
        verify_retraction(
            h(case["author_key"]),
            b64decode(case["signature_b64"]),
            circle_id=uuid.UUID(case["circle_id"]),
            entry_id=uuid.UUID(case["entry_id"]),
        )

    if "error" in case:
        with raises(case["error"]):
            check()
    else:
        check()


# -- names -------------------------------------------------------------------------------

NAME_CASES = VECTORS["names"]["cases"]


def test_the_running_python_has_the_protocols_unicode_version() -> None:
    """Name tokens depend on the Unicode data (docs/protocol.md section 25.1): a Python with
    other data computes other tokens for names with newer code points."""
    assert unicodedata.unidata_version == VECTORS["unicode_version"] == "14.0.0"


def test_names_cover_refusals() -> None:
    assert len(NAME_CASES) >= 20
    assert sum("error" in c for c in NAME_CASES) >= 5


@pytest.mark.parametrize("case", NAME_CASES, ids=[c["case"] for c in NAME_CASES])
def test_name_case(case: dict[str, Any]) -> None:
    assert normalise_name(case["input"]) == case["normalised"]
    if "error" in case:
        assert case["normalised"] == ""
        with raises(case["error"]):
            exact_keys(case["input"])
        return
    assert case["normalised"].encode("utf-8") == h(case["utf8"])
    words = case["normalised"].split(" ")
    assert case["exact_keys"] == sorted({"w:" + " ".join(sorted(words)), "c:" + "".join(words)})
    assert sorted(exact_keys(case["input"])) == case["exact_keys"]


def test_equivalent_spellings_share_an_exact_key() -> None:
    by_input = {c["input"]: set(c["exact_keys"]) for c in NAME_CASES if "exact_keys" in c}
    jan = by_input["Jan Nov\u00e1k"]
    for text in (
        "JAN NOVAK",
        " jan  novak ",
        "Jan Nova\u0301k",
        "Jan-Nov\u00e1k",
        "Nov\u00e1k, Jan",
    ):
        assert by_input[text] & jan, text
    assert not by_input["@jnovak"] & jan


# -- §24: author tags and signed terms ---------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["author_tags"], ids=lambda c: c["case"])
def test_author_tags(case: dict[str, Any]) -> None:
    from app.crypto.entries import author_tag

    message = h(case["message"])
    assert message == uuid.UUID(case["circle_id"]).bytes + uuid.UUID(case["entry_id"]).bytes
    raw = hashlib.blake2b(
        message, digest_size=32, key=h(case["key"]), person=labels.PERSON_AUTHOR_TAG
    ).digest()
    assert raw == h(case["tag"])
    assert h(case["key"]) == h(PEOPLE[case["who"]]["ed25519_seed"])
    keys = IdentityKeys(bytes(range(32)), h(case["key"]))
    tag = author_tag(
        keys, circle_id=uuid.UUID(case["circle_id"]), entry_id=uuid.UUID(case["entry_id"])
    )
    assert tag == h(case["tag"])


def test_a_corroborators_tag_differs_from_the_authors() -> None:
    tags = {(c["who"], c["entry_id"]): c["tag"] for c in VECTORS["author_tags"]}
    assert len(set(tags.values())) == len(tags) == 4
    for entry in VECTORS["entries"]:
        request = entry["request"]
        assert b64decode(request["author_tag"]).hex() == tags[("alice", entry["entry_id"])]
    for corroboration in VECTORS["corroborations"]:
        request = corroboration["request"]
        assert b64decode(request["author_tag"]).hex() == tags[("bob", corroboration["entry_id"])]


@pytest.mark.parametrize("case", VECTORS["terms"], ids=lambda c: c["name"])
def test_terms(case: dict[str, Any]) -> None:
    from app.crypto.entries import terms_message, verify_terms

    message = terms_message(
        circle_id=uuid.UUID(case["circle_id"]),
        entry_id=uuid.UUID(case["entry_id"]),
        tag=h(case["author_tag"]),
        expires_at=case["expires_at"],
    )
    assert message == h(case["message"]) and len(message) == case["message_length"] == 99
    assert message.startswith(labels.TERMS_SIGNATURE_CONTEXT)
    assert message[-8:] == case["expires_at"].to_bytes(8, "big")
    crypto_sign_open(h(case["signature"]) + message, h(case["author_key"]))  # raw libsodium
    verify_terms(
        h(case["author_key"]),
        h(case["signature"]),
        circle_id=uuid.UUID(case["circle_id"]),
        entry_id=uuid.UUID(case["entry_id"]),
        tag=h(case["author_tag"]),
        expires_at=case["expires_at"],
    )
    [entry] = [e for e in VECTORS["entries"] if e["entry_id"] == case["entry_id"]]
    parsed = EntryCreate.model_validate(entry["request"])
    assert parsed.expires_at == case["expires_at"]
    assert parsed.terms_signature == h(case["signature"])


@pytest.mark.parametrize("case", VECTORS["terms_cases"], ids=lambda c: c["case"])
def test_terms_cases(case: dict[str, Any]) -> None:
    from app.crypto.entries import verify_terms

    def check() -> None:
        verify_terms(
            h(case["author_key"]),
            h(case["signature"]),
            circle_id=uuid.UUID(case["circle_id"]),
            entry_id=uuid.UUID(case["entry_id"]),
            tag=h(case["author_tag"]),
            expires_at=case["expires_at"],
        )

    if case.get("valid"):
        check()
    else:
        with pytest.raises(getattr(errors, case["error"])):
            check()
