"""app.crypto reproduces docs/vectors/moderation-v1.json byte for byte.

Each value is also recomputed independently (hashlib BLAKE2b and SHA-256, raw libsodium
bindings, a pure-Python HSalsa20 for ``crypto_box_beforenm`` and a naive RFC 6962 tree)
so the vectors pin the construction, not just the Python code path. What app.crypto
seals with fresh randomness is opened here with the documented construction.
"""

import base64
import hashlib
import json
import re
import struct
import uuid
from pathlib import Path
from typing import Any

import pytest
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_box_beforenm,
    crypto_box_seal_open,
    crypto_scalarmult,
    crypto_scalarmult_base,
    crypto_sign,
    crypto_sign_seed_keypair,
)

from app.audit.schemas import ConsistencyOut, ServerKeysOut, TreeHeadOut
from app.crypto import b64decode, b64encode, errors, labels, merkle
from app.crypto.audit import (
    TreeHead,
    succession_message,
    verify_succession,
)
from app.crypto.circles import KeyRecord, canonical_json
from app.crypto.decisions import (
    ACTIONS,
    Decision,
    blob_hash,
    open_decision_note,
    seal_decision_note,
)
from app.crypto.entries import commitment
from app.crypto.identity import IdentityKeys
from app.crypto.moderation import (
    NONCE_BYTES,
    ModerationKey,
    ModerationKeyRecord,
    check_moderation_successor,
    open_moderation_wrap,
    open_previous_moderation_key,
    seal_moderation_wrap,
    seal_previous_moderation_key,
)
from app.crypto.proofs import MAX_WORK, SOLUTIONS, proof_hash, proof_seed, solve_proof, verify_proof
from app.crypto.proofs import MEMLIMIT as PROOF_MEMLIMIT
from app.crypto.proofs import OPSLIMIT as PROOF_OPSLIMIT
from app.crypto.reports import (
    MAX_NOTE,
    REASONS,
    Report,
    case_hash,
    seal_report,
    verify_report,
)
from app.crypto.takedowns import (
    MAX_REQUEST_BYTES,
    MAX_SEALED,
    Receipt,
    TakedownLink,
    TakedownRequest,
    open_response,
    receipt_token_hash,
    seal_response,
    seal_takedown,
)
from app.moderation.schemas import (
    DecisionCreate,
    ModerationKeyCreate,
    ReceiptQuery,
    ReportCreate,
    TakedownCreate,
)
from tests.crypto.make_circle_vectors import seal_fixed
from tests.crypto.make_moderation_vectors import build_vectors, read_report, read_takedown

DOCS = Path(__file__).resolve().parents[2] / "docs"
VECTORS_PATH = DOCS / "vectors" / "moderation-v1.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="ascii"))
CIRCLE_VECTORS: dict[str, Any] = json.loads((DOCS / "vectors" / "circles-v1.json").read_text())
ENTRY_VECTORS: dict[str, Any] = json.loads((DOCS / "vectors" / "entries-v1.json").read_text())
PEOPLE = CIRCLE_VECTORS["identities"]
CIRCLE_ID = uuid.UUID(VECTORS["circle"]["circle_id"])
KEYS = {k["generation"]: k for k in VECTORS["moderation_keys"]}
REPORT = VECTORS["report"]
TAKEDOWN = VECTORS["takedown"]
AUDIT = VECTORS["audit"]
PROTOCOL_MD = (DOCS / "protocol.md").read_text(encoding="utf-8")


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def person(label: str) -> bytes:
    return h(VECTORS["labels"][label])


def blake2b(message: bytes, label: str, key: bytes = b"") -> bytes:
    return hashlib.blake2b(message, digest_size=32, key=key, person=person(label)).digest()


def identity(name: str) -> IdentityKeys:
    return IdentityKeys(h(PEOPLE[name]["x25519_secret"]), h(PEOPLE[name]["ed25519_seed"]))


def moderation_key(generation: int) -> ModerationKey:
    return ModerationKey(h(KEYS[generation]["secret"]))


def sign(seed: bytes, message: bytes) -> bytes:
    """Deterministic Ed25519 (RFC 8032) from raw libsodium: the detached signature."""
    _, secret = crypto_sign_seed_keypair(seed)
    return bytes(crypto_sign(message, secret)[:64])


def aead(key: bytes, plaintext: bytes, ad: bytes, nonce: bytes) -> bytes:
    return bytes(crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key))


def aead_open(key: bytes, ciphertext: bytes, ad: bytes, nonce: bytes) -> bytes:
    return bytes(crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key))


def u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def ctx(generation: int, circle_id: uuid.UUID = CIRCLE_ID) -> bytes:
    return circle_id.bytes + u64(generation)


def raises(name: str) -> Any:
    return pytest.raises(getattr(errors, name))


def section(title_prefix: str) -> str:
    return PROTOCOL_MD.split(f"\n## {title_prefix}", 1)[1].split("\n## ", 1)[0]


# Salsa20's quarter-rounds as (target, a, b, rotation): x[target] ^= rotl(x[a] + x[b], rotation).
_COLUMN_ROUND = [
    (4, 0, 12, 7), (8, 4, 0, 9), (12, 8, 4, 13), (0, 12, 8, 18),
    (9, 5, 1, 7), (13, 9, 5, 9), (1, 13, 9, 13), (5, 1, 13, 18),
    (14, 10, 6, 7), (2, 14, 10, 9), (6, 2, 14, 13), (10, 6, 2, 18),
    (3, 15, 11, 7), (7, 3, 15, 9), (11, 7, 3, 13), (15, 11, 7, 18),
]  # fmt: skip
_ROW_ROUND = [
    (1, 0, 3, 7), (2, 1, 0, 9), (3, 2, 1, 13), (0, 3, 2, 18),
    (6, 5, 4, 7), (7, 6, 5, 9), (4, 7, 6, 13), (5, 4, 7, 18),
    (11, 10, 9, 7), (8, 11, 10, 9), (9, 8, 11, 13), (10, 9, 8, 18),
    (12, 15, 14, 7), (13, 12, 15, 9), (14, 13, 12, 13), (15, 14, 13, 18),
]  # fmt: skip


def hsalsa20(key: bytes, nonce: bytes) -> bytes:
    """HSalsa20 (the XSalsa20 paper, section 2), written out to pin crypto_box_beforenm."""
    c = struct.unpack("<4I", b"expand 32-byte k")
    k = struct.unpack("<8I", key)
    n = struct.unpack("<4I", nonce)
    x = [c[0], *k[:4], c[1], *n, c[2], *k[4:], c[3]]
    for _ in range(10):
        for target, a, b, rotation in _COLUMN_ROUND + _ROW_ROUND:
            s = (x[a] + x[b]) & 0xFFFFFFFF
            x[target] ^= ((s << rotation) | (s >> (32 - rotation))) & 0xFFFFFFFF
    return struct.pack("<8I", *(x[i] for i in (0, 5, 10, 15, 6, 7, 8, 9)))


def beforenm(secret: bytes, public: bytes) -> bytes:
    """crypto_box_beforenm: HSalsa20 keyed with the X25519 shared point, input 16 zero bytes."""
    shared = hsalsa20(bytes(crypto_scalarmult(secret, public)), bytes(16))
    assert shared == crypto_box_beforenm(public, secret)
    return shared


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, the recursive definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


# -- the file ----------------------------------------------------------------------------


def test_file_is_moderation_version_1_and_ascii_only() -> None:
    assert (VECTORS["protocol"], VECTORS["layer"], VECTORS["version"]) == (
        "backchannel",
        "moderation",
        1,
    )
    assert VECTORS_PATH.read_bytes().isascii()


def test_vectors_file_matches_its_generator() -> None:
    """Regenerate with:
    .venv/bin/python -m tests.crypto.make_moderation_vectors > docs/vectors/moderation-v1.json
    """
    assert build_vectors() == VECTORS


def test_labels_are_the_ones_in_labels_py() -> None:
    for name, value in VECTORS["labels"].items():
        actual = getattr(labels, name)
        assert (actual.hex() if isinstance(actual, bytes) else actual) == value, name
        if name.startswith("PERSON_"):
            assert len(actual) == 16, name


def _documented(cell: str) -> bytes | str:
    if cell.startswith('P("'):
        return cell[3:-2].encode("ascii").ljust(16, b"\x00")
    text = cell[1:-1]
    return text.replace("\\0", "\x00").encode("ascii") if text.endswith("\\0") else text


def test_protocol_md_moderation_label_table_matches_labels_py() -> None:
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| `([^`]+)`", section("28."), re.M)
    documented = {name: _documented(cell) for name, cell in rows}
    assert set(documented) == set(VECTORS["labels"])
    for name, value in documented.items():
        assert getattr(labels, name) == value, name


def test_protocol_md_lists_reasons_and_actions() -> None:
    for value in (*REASONS, *ACTIONS):
        assert f"`{value}`" in section("30.") + section("32."), value


def test_constants() -> None:
    constants = VECTORS["constants"]
    assert constants["nonce_bytes"] == NONCE_BYTES == 24
    assert tuple(constants["reasons"]) == REASONS
    assert tuple(constants["actions"]) == ACTIONS
    assert constants["max_note"] == MAX_NOTE
    assert (
        (constants["max_sealed"], constants["max_request_bytes"])
        == (
            MAX_SEALED,
            MAX_REQUEST_BYTES,
        )
        == (4096, 4056)
    )


def test_key_records_are_those_of_the_circle_vectors() -> None:
    circle_records = {r["seq"]: r for r in CIRCLE_VECTORS["records"]}
    assert VECTORS["circle"]["circle_id"] == CIRCLE_VECTORS["circle"]["circle_id"]
    for record in VECTORS["circle"]["key_records"]:
        assert record["text"] == circle_records[record["seq"]]["text"]
        assert record["hash"] == circle_records[record["seq"]]["hash"]


# -- the moderation key ------------------------------------------------------------------


@pytest.mark.parametrize("generation", [0, 1])
def test_moderation_key_record(generation: int) -> None:
    case = KEYS[generation]
    secret = h(case["secret"])
    assert crypto_scalarmult_base(secret) == h(case["public_key"])
    assert b64encode(h(case["public_key"])) == case["public_key_b64"]
    assert blake2b(b"", "PERSON_MODKEY_BOX", key=secret) == h(case["box_key"])
    assert moderation_key(generation).box_key == h(case["box_key"])
    raw = h(case["bytes"])
    assert case["text"].encode("utf-8") == raw == canonical_json(case["json"])
    assert list(case["json"]) == sorted(case["json"])
    fields = "v type circle generation public_key admins record_seq prev signer"
    assert set(case["json"]) == set(fields.split())
    assert case["json"]["public_key"] == case["public_key_b64"]
    record = ModerationKeyRecord.parse(raw)
    assert record.to_bytes() == raw and record.generation == generation
    assert blake2b(raw, "PERSON_MODKEY_HASH") == h(case["hash"]) == record.hash()
    message = labels.MODKEY_SIGNATURE_CONTEXT + raw
    assert h(case["signature_message"]) == message
    signature = sign(h(PEOPLE[record.signer]["ed25519_seed"]), message)
    assert signature == h(case["signature"]) == record.sign(identity(record.signer))
    record.verify_signature(signature, identity(record.signer).public())
    with raises("BadSignature"):
        record.verify_signature(signature, identity("bob").public())


def test_generations_chain_and_name_the_admins_of_their_key_record() -> None:
    gen0 = ModerationKeyRecord.parse(h(KEYS[0]["bytes"]))
    gen1 = ModerationKeyRecord.parse(h(KEYS[1]["bytes"]))
    check_moderation_successor(None, gen0)
    check_moderation_successor(gen0, gen1)
    assert KEYS[1]["json"]["prev"] == b64encode(h(KEYS[0]["hash"]))
    records = {r["seq"]: r for r in VECTORS["circle"]["key_records"]}
    for record, seq in ((gen0, 1), (gen1, 3)):
        key_record = KeyRecord.parse(records[seq]["text"].encode())
        assert record.record_seq == seq
        admins = [
            {"fp": m.fp, "user": m.user} for m in key_record.members if m.role in ("owner", "admin")
        ]
        assert KEYS[record.generation]["json"]["admins"] == admins


@pytest.mark.parametrize("case", VECTORS["record_parse"], ids=lambda c: c["case"])
def test_record_parse(case: dict[str, str]) -> None:
    raw = case["text"].encode("utf-8")
    if "error" in case:
        with raises(case["error"]):
            ModerationKeyRecord.parse(raw)
    else:
        assert ModerationKeyRecord.parse(raw).to_bytes() == raw


@pytest.mark.parametrize("case", VECTORS["successor"], ids=lambda c: c["case"])
def test_successor(case: dict[str, Any]) -> None:
    previous = case["previous"]
    parsed = None if previous is None else ModerationKeyRecord.parse(previous.encode())
    record = ModerationKeyRecord.parse(case["record"].encode())
    if "error" in case:
        with raises(case["error"]):
            check_moderation_successor(parsed, record)
    else:
        check_moderation_successor(parsed, record)


@pytest.mark.parametrize("case", VECTORS["matches"], ids=str)
def test_matches_says_whether_a_generation_is_stale(case: dict[str, Any]) -> None:
    records = {r["seq"]: r for r in VECTORS["circle"]["key_records"]}
    key_record = KeyRecord.parse(records[case["key_record_seq"]]["text"].encode())
    record = ModerationKeyRecord.parse(h(KEYS[case["generation"]]["bytes"]))
    assert record.matches(key_record) is case["matches"]
    assert case["matches"] == (record.record_seq == key_record.seq)  # here, not in general


@pytest.mark.parametrize(
    "case", VECTORS["wraps"], ids=lambda c: f"{c['generation']}-{c['recipient']}"
)
def test_wrap(case: dict[str, Any]) -> None:
    key = moderation_key(case["generation"])
    plaintext = h(case["plaintext"])
    assert plaintext == labels.MODKEY_WRAP_PREFIX + ctx(case["generation"]) + bytes(key)
    assert len(plaintext) == 27 + 24 + 32
    recipient = identity(case["recipient"])
    public = recipient.public().x25519_public
    assert public == h(case["recipient_x25519_public"])
    sealed = h(case["sealed"])
    assert seal_fixed(plaintext, public, h(case["ephemeral_secret"])) == sealed
    assert sealed[:32] == h(case["ephemeral_public"]) and len(sealed) == 48 + 83
    assert crypto_box_seal_open(sealed, public, bytes(recipient.box_key)) == plaintext
    opened = open_moderation_wrap(
        sealed,
        circle_id=CIRCLE_ID,
        generation=case["generation"],
        identity=recipient,
        expected_public=key.public_key,
    )
    assert bytes(opened) == bytes(key)


@pytest.mark.parametrize("case", VECTORS["wrap_open"], ids=lambda c: c["case"])
def test_wrap_open(case: dict[str, Any]) -> None:
    def read() -> ModerationKey:
        return open_moderation_wrap(
            h(case["sealed"]),
            circle_id=CIRCLE_ID,
            generation=1,
            identity=identity("bob"),
            expected_public=moderation_key(1).public_key,
        )

    if "error" in case:
        with raises(case["error"]):
            read()
    else:
        assert bytes(read()) == bytes(moderation_key(1))


def test_previous_generation_box() -> None:
    case = VECTORS["previous_box"]
    new, previous = moderation_key(1), moderation_key(0)
    assert h(case["new_secret"]) == bytes(new) and h(case["previous_secret"]) == bytes(previous)
    ad = h(case["associated_data"])
    assert ad == labels.MODKEY_PREV_AD_PREFIX + ctx(1) and len(ad) == 27 + 24
    box, nonce = h(case["box"]), h(case["nonce"])
    assert box == nonce + aead(h(case["box_key"]), bytes(previous), ad, nonce)
    assert len(box) == 24 + 32 + 16 and b64encode(box) == case["box_b64"]
    opened = open_previous_moderation_key(
        box, new, circle_id=CIRCLE_ID, generation=1, expected_public=h(case["previous_public"])
    )
    assert bytes(opened) == bytes(previous)
    with raises("UntrustedSigner"):
        open_previous_moderation_key(
            box, new, circle_id=CIRCLE_ID, generation=1, expected_public=new.public_key
        )


def test_key_requests_are_valid_bodies() -> None:
    for request in VECTORS["key_requests"]:
        body = ModerationKeyCreate.model_validate_json(json.dumps(request))
        assert body.record == KEYS[request["generation"]]["text"]
        assert {w.username for w in body.wraps} == {
            a["user"] for a in KEYS[request["generation"]]["json"]["admins"]
        }
        assert (body.prev_key_box is None) == (request["generation"] == 0)


def test_what_app_crypto_seals_for_the_key_opens_by_the_construction() -> None:
    key, bob = moderation_key(1), identity("bob")
    wrap = seal_moderation_wrap(
        key, circle_id=CIRCLE_ID, generation=1, recipient=bob.public().x25519_public
    )
    plaintext = crypto_box_seal_open(wrap, bob.public().x25519_public, bytes(bob.box_key))
    assert plaintext == labels.MODKEY_WRAP_PREFIX + ctx(1) + bytes(key)
    box = seal_previous_moderation_key(key, moderation_key(0), circle_id=CIRCLE_ID, generation=1)
    ad = labels.MODKEY_PREV_AD_PREFIX + ctx(1)
    assert aead_open(key.box_key, box[24:], ad, box[:24]) == bytes(moderation_key(0))


# -- reports -----------------------------------------------------------------------------


def report_ad(
    case_id: uuid.UUID, entry_id: uuid.UUID, generation: int, ephemeral: bytes, recipient: bytes
) -> bytes:
    return (
        labels.REPORT_AD_PREFIX
        + CIRCLE_ID.bytes
        + case_id.bytes
        + entry_id.bytes
        + u64(generation)
        + ephemeral
        + recipient
    )


def test_report_bytes_and_signature() -> None:
    raw = h(REPORT["bytes"])
    assert REPORT["text"].encode("utf-8") == raw == canonical_json(REPORT["json"])
    data = REPORT["json"]
    assert set(data) == {
        "v",
        "type",
        "circle",
        "case",
        "entry",
        "reporter",
        "reason",
        "note",
        "reveal",
    }
    assert (data["v"], data["type"], data["circle"]) == (1, "backchannel.report", CIRCLE_ID.hex)
    assert data["reason"] in REASONS
    reveal = REPORT["reveal"]
    assert data["reveal"] == {
        "body": b64encode(h(reveal["body_bytes"])),
        "opening": b64encode(h(reveal["opening"])),
    }
    report = Report(
        circle_id=CIRCLE_ID,
        case_id=uuid.UUID(REPORT["case_id"]),
        entry_id=uuid.UUID(REPORT["entry_id"]),
        reporter=data["reporter"],
        reason=data["reason"],
        note=data["note"],
        body=h(reveal["body_bytes"]),
        opening=h(reveal["opening"]),
    )
    assert report.to_bytes() == raw
    message = labels.REPORT_SIGNATURE_CONTEXT + raw
    assert h(REPORT["signature_message"]) == message
    assert sign(h(PEOPLE["bob"]["ed25519_seed"]), message) == h(REPORT["signature"])
    verify_report(report, h(REPORT["signature"]), identity("bob").public())


def test_report_reveal_opens_the_entry_commitment() -> None:
    """The revealed body and opening are those of the named warning of entries-v1.json."""
    reveal = REPORT["reveal"]
    entry = next(e for e in ENTRY_VECTORS["entries"] if e["entry_id"] == REPORT["entry_id"])
    assert reveal["body_bytes"] == entry["body_bytes"] and reveal["opening"] == entry["opening"]
    body, opening = h(reveal["body_bytes"]), h(reveal["opening"])
    franking = b"bc.v1.franking".ljust(16, b"\x00")
    digest = hashlib.blake2b(body, digest_size=32, key=opening, person=franking).digest()
    assert digest == commitment(body, opening) == h(reveal["commitment"]) == h(entry["commitment"])


def test_report_sealing() -> None:
    key = moderation_key(1)
    eph_secret, eph_public = h(REPORT["ephemeral_secret"]), h(REPORT["ephemeral_public"])
    assert crypto_scalarmult_base(eph_secret) == eph_public
    shared = h(REPORT["shared_key"])
    assert beforenm(eph_secret, key.public_key) == shared == beforenm(bytes(key), eph_public)
    case_id, entry_id = uuid.UUID(REPORT["case_id"]), uuid.UUID(REPORT["entry_id"])
    ad = h(REPORT["associated_data"])
    assert ad == report_ad(case_id, entry_id, 1, eph_public, key.public_key)
    assert len(ad) == REPORT["associated_data_length"] == 22 + 16 + 16 + 16 + 8 + 32 + 32
    plaintext = h(REPORT["plaintext"])
    assert plaintext == h(REPORT["signature"]) + h(REPORT["bytes"])
    nonce = h(REPORT["nonce"])
    sealed = h(REPORT["sealed"])
    assert sealed == eph_public + nonce + aead(shared, plaintext, ad, nonce)
    assert blake2b(sealed, "PERSON_CASE_HASH") == h(REPORT["case_hash"]) == case_hash(sealed)
    case = {
        "sealed": REPORT["sealed"],
        "moderation_generation": 1,
        "circle_id": str(CIRCLE_ID),
        "case_id": str(case_id),
        "entry_id": str(entry_id),
        "generation": 1,
    }
    assert read_report(case, identity("bob")).to_bytes() == h(REPORT["bytes"])


def test_report_request_is_a_valid_body() -> None:
    body = ReportCreate.model_validate_json(json.dumps(REPORT["request"]))
    assert body.ciphertext == h(REPORT["sealed"])
    assert str(body.case_id) == REPORT["case_id"] and body.generation == 1


@pytest.mark.parametrize("case", VECTORS["report_open"], ids=lambda c: c["case"])
def test_report_open(case: dict[str, Any]) -> None:
    reporter = identity(case["verify_with"])
    if "error" in case:
        with raises(case["error"]):
            read_report(case, reporter)
    else:
        assert read_report(case, reporter).reporter == "bob"


def test_report_open_cases_cover_every_error() -> None:
    errors_seen = {c.get("error") for c in VECTORS["report_open"]}
    assert errors_seen == {None, "DecryptionFailed", "WrongEpoch", "BadSignature"}


def test_what_app_crypto_seals_as_a_report_opens_by_the_construction() -> None:
    key = moderation_key(1)
    data = REPORT["json"]
    report = Report(
        CIRCLE_ID,
        uuid.UUID(REPORT["case_id"]),
        uuid.UUID(REPORT["entry_id"]),
        "bob",
        data["reason"],
        data["note"],
        h(REPORT["reveal"]["body_bytes"]),
        h(REPORT["reveal"]["opening"]),
    )
    sealed = seal_report(report, identity=identity("bob"), public_key=key.public_key, generation=1)
    assert sealed[:32] != h(REPORT["ephemeral_public"])  # a fresh ephemeral key
    shared = beforenm(bytes(key), sealed[:32])
    ad = report_ad(report.case_id, report.entry_id, 1, sealed[:32], key.public_key)
    plaintext = aead_open(shared, sealed[56:], ad, sealed[32:56])
    assert plaintext == h(REPORT["signature"]) + h(REPORT["bytes"])  # deterministic signature


# -- takedown links and receipts -----------------------------------------------------------


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def test_takedown_link_string() -> None:
    link = TAKEDOWN["link"]
    public = h(link["public_key"])
    assert public == moderation_key(1).public_key
    assert link["public_key_b64url"] == b64url(public)
    fragment = f"bctakedown1.{CIRCLE_ID.hex}.{link['generation']}.{b64url(public)}"
    assert link["fragment"] == fragment
    assert link["text"] == f"{TAKEDOWN['base_url']}/takedown#{fragment}"
    assert str(TakedownLink(TAKEDOWN["base_url"], CIRCLE_ID, 1, public)) == link["text"]


@pytest.mark.parametrize("case", TAKEDOWN["link"]["parse"], ids=lambda c: c["case"])
def test_takedown_link_parse(case: dict[str, Any]) -> None:
    if "error" in case:
        with raises(case["error"]):
            TakedownLink.parse(case["input"])
        return
    link = TakedownLink.parse(case["input"])
    assert (link.base_url, str(link)) == (case["base_url"], case["canonical"])
    assert (link.circle_id, link.generation) == (CIRCLE_ID, 1)
    assert link.public_key == moderation_key(1).public_key


def test_receipt_secret_token_and_key() -> None:
    receipt = TAKEDOWN["receipt"]
    secret = h(receipt["secret"])
    token = blake2b(b"", "PERSON_RECEIPT_TOKEN", key=secret)
    assert token == h(receipt["token"])
    secret_key = blake2b(b"", "PERSON_RECEIPT_KEY", key=secret)
    assert secret_key == h(receipt["receipt_secret_key"])
    assert crypto_scalarmult_base(secret_key) == h(receipt["receipt_public_key"])
    prefix = labels.RECEIPT_PREFIX.encode("ascii")
    assert h(receipt["token_hash_input"]) == prefix + b"\x00" + token
    assert hashlib.sha256(prefix + b"\x00" + token).digest() == h(receipt["token_hash"])
    assert receipt_token_hash(token) == h(receipt["token_hash"])
    parsed = Receipt.parse(receipt["text"])
    assert (parsed.token, parsed.public_key) == (token, h(receipt["receipt_public_key"]))
    assert parsed.secret == secret and str(parsed.case_id) == receipt["case_id"]
    assert "secret" not in repr(parsed) and receipt["secret_b64url"] not in repr(parsed)
    fragment = ".".join(
        [
            "bcreceipt1",
            CIRCLE_ID.hex,
            uuid.UUID(receipt["case_id"]).hex,
            "1",
            TAKEDOWN["link"]["public_key_b64url"],
            receipt["secret_b64url"],
        ]
    )
    assert receipt["text"] == f"{TAKEDOWN['base_url']}/receipt#{fragment}"


@pytest.mark.parametrize("case", TAKEDOWN["receipt"]["parse"], ids=lambda c: c["case"])
def test_receipt_parse(case: dict[str, Any]) -> None:
    if "error" in case:
        with raises(case["error"]):
            Receipt.parse(case["input"])
    else:
        assert str(Receipt.parse(case["input"])) == case["canonical"] == TAKEDOWN["receipt"]["text"]


# -- takedown requests and responses ----------------------------------------------------------


def takedown_ad(prefix: bytes, generation: int = 1) -> bytes:
    case_id = uuid.UUID(TAKEDOWN["receipt"]["case_id"])
    return prefix + CIRCLE_ID.bytes + case_id.bytes + u64(generation)


def test_takedown_request_sealing() -> None:
    request, receipt = TAKEDOWN["request"], TAKEDOWN["receipt"]
    raw = h(request["bytes"])
    assert request["text"].encode("utf-8") == raw == canonical_json(request["json"])
    assert request["json"] == {
        "v": 1,
        "type": "backchannel.takedown",
        "circle": CIRCLE_ID.hex,
        "case": uuid.UUID(receipt["case_id"]).hex,
        **request["fields"],
    }
    shared = h(request["shared_key"])
    key = moderation_key(1)
    assert beforenm(h(receipt["receipt_secret_key"]), key.public_key) == shared
    assert beforenm(bytes(key), h(receipt["receipt_public_key"])) == shared
    ad = h(request["associated_data"])
    assert ad == takedown_ad(labels.TAKEDOWN_AD_PREFIX) and len(ad) == 24 + 16 + 16 + 8
    nonce, sealed = h(request["nonce"]), h(request["sealed"])
    assert sealed == nonce + aead(shared, raw, ad, nonce)
    assert case_hash(sealed) == h(request["case_hash"]) == blake2b(sealed, "PERSON_CASE_HASH")
    case = {
        "sealed": request["sealed"],
        "moderation_generation": 1,
        "receipt_public": receipt["receipt_public_key"],
        "circle_id": str(CIRCLE_ID),
        "case_id": receipt["case_id"],
        "generation": 1,
    }
    assert read_takedown(case).to_bytes() == raw


def test_takedown_requests_are_valid_bodies() -> None:
    body = TakedownCreate.model_validate_json(json.dumps(TAKEDOWN["request"]["http"]))
    receipt = TAKEDOWN["receipt"]
    assert body.receipt_token == h(receipt["token"])
    assert body.receipt_key == h(receipt["receipt_public_key"])
    assert body.moderation_key == moderation_key(1).public_key
    assert body.ciphertext == h(TAKEDOWN["request"]["sealed"])
    status = ReceiptQuery.model_validate_json(json.dumps(TAKEDOWN["status_request"]))
    assert status.receipt_token == h(receipt["token"])


# -- the proof of work ------------------------------------------------------------------------

PROOF = TAKEDOWN["proof"]


def test_proof_seed_and_evaluations() -> None:
    assert (
        (PROOF["solutions"], PROOF["opslimit"], PROOF["memlimit"])
        == (
            SOLUTIONS,
            PROOF_OPSLIMIT,
            PROOF_MEMLIMIT,
        )
        == (8, 1, 4 * 1024 * 1024)
    )
    assert (h(PROOF["salt"]), PROOF["max_work"]) == (b"bc.v1.takedn-pow", MAX_WORK)
    case_id = uuid.UUID(PROOF["case_id"])
    assert PROOF["case_hash"] == TAKEDOWN["request"]["case_hash"]
    assert h(PROOF["seed_input"]) == h(PROOF["challenge"]) + case_id.bytes + h(PROOF["case_hash"])
    seed = proof_seed(h(PROOF["challenge"]), case_id, h(PROOF["case_hash"]))
    assert seed == h(PROOF["seed"])
    threshold = int(PROOF["threshold"])
    assert threshold == 2**64 // PROOF["work"]
    for evaluation in PROOF["hashes"]:
        digest = proof_hash(seed, evaluation["nonce"])
        assert digest == h(evaluation["hash"])
        meets = int.from_bytes(digest[:8], "big") < threshold
        assert meets == (evaluation["nonce"] in PROOF["nonces"])
    assert solve_proof(seed, PROOF["work"]) == PROOF["nonces"]
    assert TAKEDOWN["request"]["http"]["proof"] == {
        "challenge": b64encode(h(PROOF["challenge"])),
        "nonces": PROOF["nonces"],
    }


@pytest.mark.parametrize("case", PROOF["verify"], ids=lambda c: c["case"])
def test_proof_verify(case: dict[str, Any]) -> None:
    seed = h(PROOF["seed"])
    if "error" in case:
        with raises(case["error"]):
            verify_proof(seed, case["work"], case["nonces"])
    else:
        verify_proof(seed, case["work"], case["nonces"])


@pytest.mark.parametrize("case", TAKEDOWN["request"]["open"], ids=lambda c: c["case"])
def test_takedown_request_open(case: dict[str, Any]) -> None:
    if "error" in case:
        with raises(case["error"]):
            read_takedown(case)
    else:
        assert read_takedown(case).name == TAKEDOWN["request"]["fields"]["name"]


def test_response_sealing() -> None:
    response, request = TAKEDOWN["response"], TAKEDOWN["request"]
    plaintext = h(response["plaintext"])
    assert plaintext == response["text"].encode("utf-8")
    ad = h(response["associated_data"])
    assert ad == takedown_ad(labels.TAKEDOWN_RESPONSE_AD_PREFIX) and len(ad) == 33 + 40
    nonce, sealed = h(response["nonce"]), h(response["sealed"])
    assert sealed == nonce + aead(h(request["shared_key"]), plaintext, ad, nonce)
    assert blob_hash(sealed) == h(response["response_hash"]) == blake2b(sealed, "PERSON_MOD_BLOB")
    assert open_response(sealed, Receipt.parse(TAKEDOWN["receipt"]["text"])) == response["text"]


@pytest.mark.parametrize("case", TAKEDOWN["response"]["open"], ids=lambda c: c["case"])
def test_response_open(case: dict[str, Any]) -> None:
    receipt = Receipt.parse(case["receipt"])
    if "error" in case:
        with raises(case["error"]):
            open_response(h(case["sealed"]), receipt)
    else:
        assert open_response(h(case["sealed"]), receipt) == case["text"]


def test_what_app_crypto_seals_for_a_takedown_opens_by_the_construction() -> None:
    receipt = Receipt.parse(TAKEDOWN["receipt"]["text"])
    fields = TAKEDOWN["request"]["fields"]
    request = TakedownRequest(CIRCLE_ID, receipt.case_id, **fields)
    shared = h(TAKEDOWN["request"]["shared_key"])
    sealed = seal_takedown(request, receipt)
    ad = takedown_ad(labels.TAKEDOWN_AD_PREFIX)
    assert aead_open(shared, sealed[24:], ad, sealed[:24]) == h(TAKEDOWN["request"]["bytes"])
    response = seal_response(
        TAKEDOWN["response"]["text"],
        key=moderation_key(1),
        receipt_public=receipt.public_key,
        circle_id=CIRCLE_ID,
        case_id=receipt.case_id,
        generation=1,
    )
    ad = takedown_ad(labels.TAKEDOWN_RESPONSE_AD_PREFIX)
    assert aead_open(shared, response[24:], ad, response[:24]) == h(
        TAKEDOWN["response"]["plaintext"]
    )


# -- decisions ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", VECTORS["decisions"], ids=lambda c: f"{c['case_id']}-{c['seq']}")
def test_decision_note(case: dict[str, Any]) -> None:
    note = case["note"]
    key = moderation_key(note["generation"])
    eph_secret, eph_public = h(note["ephemeral_secret"]), h(note["ephemeral_public"])
    assert crypto_scalarmult_base(eph_secret) == eph_public
    shared = h(note["shared_key"])
    assert beforenm(eph_secret, key.public_key) == shared
    case_id = uuid.UUID(case["case_id"])
    ad = h(note["associated_data"])
    assert ad == (
        labels.DECISION_NOTE_AD_PREFIX
        + CIRCLE_ID.bytes
        + case_id.bytes
        + u64(1)
        + eph_public
        + key.public_key
    )
    nonce, sealed = h(note["nonce"]), h(note["sealed"])
    assert sealed == eph_public + nonce + aead(shared, note["reason"].encode(), ad, nonce)
    assert blake2b(sealed, "PERSON_MOD_BLOB") == h(note["note_hash"]) == blob_hash(sealed)
    opened = open_decision_note(sealed, key=key, circle_id=CIRCLE_ID, case_id=case_id, generation=1)
    assert opened == note["reason"]
    with raises("DecryptionFailed"):
        open_decision_note(sealed, key=key, circle_id=CIRCLE_ID, case_id=case_id, generation=0)


@pytest.mark.parametrize("case", VECTORS["decisions"], ids=lambda c: f"{c['case_id']}-{c['seq']}")
def test_decision_bytes_hash_and_signature(case: dict[str, Any]) -> None:
    raw = h(case["bytes"])
    assert case["text"].encode("utf-8") == raw == canonical_json(case["json"])
    fields = "v type circle case seq action entry case_hash generation note_hash response_hash"
    assert set(case["json"]) == {*fields.split(), "prev", "signer"}
    decision = Decision.parse(raw)
    assert decision.to_bytes() == raw and decision.action in ACTIONS
    assert decision.note_hash == h(case["note"]["note_hash"])
    assert blake2b(raw, "PERSON_DECISION_HASH") == h(case["hash"]) == decision.hash()
    message = labels.DECISION_SIGNATURE_CONTEXT + raw
    assert h(case["signature_message"]) == message
    signature = sign(h(PEOPLE[decision.signer]["ed25519_seed"]), message)
    assert signature == h(case["signature"])
    decision.verify_signature(signature, identity(decision.signer).public())
    request = DecisionCreate.model_validate_json(json.dumps(case["request"]))
    assert request.decision == case["text"] and blob_hash(request.note) == decision.note_hash
    if decision.response_hash is None:
        assert request.response is None
    else:
        assert request.response is not None
        assert blob_hash(request.response) == decision.response_hash


def test_decisions_chain_per_case_and_bind_the_case_ciphertext() -> None:
    hide, restore, dismiss = (Decision.parse(h(d["bytes"])) for d in VECTORS["decisions"])
    assert (hide.seq, hide.prev, restore.seq, restore.prev) == (0, None, 1, hide.hash())
    assert hide.case_hash == restore.case_hash == case_hash(h(REPORT["sealed"]))
    assert dismiss.case_hash == case_hash(h(TAKEDOWN["request"]["sealed"]))
    assert (dismiss.seq, dismiss.prev, dismiss.entry_id) == (0, None, None)
    assert dismiss.response_hash == h(TAKEDOWN["response"]["response_hash"])


@pytest.mark.parametrize("case", VECTORS["decision_parse"], ids=lambda c: c["case"])
def test_decision_parse(case: dict[str, str]) -> None:
    raw = case["text"].encode("utf-8")
    if "error" in case:
        with raises(case["error"]):
            Decision.parse(raw)
    else:
        assert Decision.parse(raw).to_bytes() == raw


def test_what_app_crypto_seals_as_a_note_opens_by_the_construction() -> None:
    key, case_id = moderation_key(1), uuid.UUID(REPORT["case_id"])
    note = seal_decision_note(
        "A reason.", public_key=key.public_key, circle_id=CIRCLE_ID, case_id=case_id, generation=1
    )
    ad = (
        labels.DECISION_NOTE_AD_PREFIX
        + CIRCLE_ID.bytes
        + case_id.bytes
        + u64(1)
        + note[:32]
        + key.public_key
    )
    assert aead_open(beforenm(bytes(key), note[:32]), note[56:], ad, note[32:56]) == b"A reason."


# -- the audit log ------------------------------------------------------------------------


def test_audit_records_are_chained_events() -> None:
    prev: bytes | None = None
    for position, record in enumerate(AUDIT["records"]):
        body = record["body"].encode("utf-8")
        data = json.loads(body)
        assert canonical_json(data) == body
        assert set(data) == {
            "v",
            "circle",
            "seq",
            "kind",
            "actor",
            "subject",
            "details",
            "at",
            "prev",
        }
        assert (data["seq"], data["kind"], data["circle"]) == (
            position,
            record["kind"],
            CIRCLE_ID.hex,
        )
        assert data["prev"] == (None if prev is None else b64encode(prev))
        event = hashlib.blake2b(body, digest_size=32, person=b"bc.v1.event".ljust(16, b"\x00"))
        assert event.digest() == h(record["event_hash"])
        assert hashlib.sha256(b"\x00" + body).digest() == h(record["leaf_hash"])
        assert merkle.leaf_hash(body) == h(record["leaf_hash"])
        assert record["http"] == {
            "seq": position,
            "body": record["body"],
            "hash": b64encode(h(record["event_hash"])),
            "leaf_hash": b64encode(h(record["leaf_hash"])),
        }
        prev = h(record["event_hash"])


def test_audit_records_carry_the_signed_moderation_values() -> None:
    details = {r["kind"]: json.loads(r["body"])["details"] for r in AUDIT["records"]}
    rotated = details["moderation_key_rotated"]
    assert rotated == {
        "generation": 0,
        "record_hash": KEYS[0]["hash_b64"],
        "signature": KEYS[0]["signature_b64"],
        "admins": 1,
    }
    assert details["report_filed"]["case_hash"] == b64encode(h(REPORT["case_hash"]))
    assert details["takedown_filed"]["case_hash"] == b64encode(h(TAKEDOWN["request"]["case_hash"]))
    decided = details["case_decided"]
    hide = VECTORS["decisions"][0]
    assert (decided["decision"], decided["signature"]) == (hide["text"], hide["signature_b64"])
    decision = Decision.parse(decided["decision"].encode())
    decision.verify_signature(b64decode(decided["signature"]), identity("alice").public())
    assert (decided["case_id"], decided["action"]) == (decision.case_id.hex, decision.action)


def test_roots_at_every_size() -> None:
    leaves = [r["body"].encode("utf-8") for r in AUDIT["records"]]
    tree = merkle.MerkleTree(leaves)
    for case in AUDIT["roots"]:
        root = h(case["root"])
        assert mth(leaves[: case["size"]]) == root == tree.root(case["size"])


@pytest.mark.parametrize("index", [0, 1])
def test_tree_head_bytes_and_signature(index: int) -> None:
    head = AUDIT["heads"][index]
    raw = h(head["bytes"])
    assert head["text"].encode() == raw == canonical_json(head["json"])
    assert head["json"] == {
        "v": 1,
        "type": "backchannel.tree-head",
        "circle": CIRCLE_ID.hex,
        "size": head["size"],
        "root": b64encode(h(head["root"])),
        "at": head["json"]["at"],
    }
    leaves = [r["body"].encode("utf-8") for r in AUDIT["records"][: head["size"]]]
    assert mth(leaves) == h(head["root"])
    parsed = TreeHead.parse(raw)
    assert (parsed.size, parsed.root) == (head["size"], h(head["root"]))
    message = labels.TREE_HEAD_SIGNATURE_CONTEXT + raw
    assert h(head["signature_message"]) == message
    server = AUDIT["server_keys"][0]
    assert crypto_sign_seed_keypair(h(server["seed"]))[0] == h(server["public_key"])
    assert sign(h(server["seed"]), message) == h(head["signature"])
    parsed.verify_signature(h(head["signature"]), h(server["public_key"]))
    out = TreeHeadOut.model_validate(head["http"])
    assert (out.signature, out.public_key) == (h(head["signature"]), h(server["public_key"]))


@pytest.mark.parametrize("case", AUDIT["head_parse"], ids=lambda c: c["case"])
def test_tree_head_parse(case: dict[str, str]) -> None:
    with raises(case["error"]):
        TreeHead.parse(case["text"].encode("utf-8"))


@pytest.mark.parametrize("case", AUDIT["head_signatures"], ids=lambda c: c["case"])
def test_tree_head_signature_case(case: dict[str, str]) -> None:
    head = TreeHead.parse(case["text"].encode())
    if "error" in case:
        with raises(case["error"]):
            head.verify_signature(h(case["signature"]), h(case["public_key"]))
    else:
        head.verify_signature(h(case["signature"]), h(case["public_key"]))


def test_consistency_and_inclusion_proofs() -> None:
    old, new = AUDIT["heads"]
    proof = AUDIT["consistency"]
    assert (proof["first"], proof["second"]) == (old["size"], new["size"])
    path = [h(p) for p in proof["proof"]]
    merkle.verify_consistency(3, 5, h(old["root"]), h(new["root"]), path)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(3, 5, h(new["root"]), h(new["root"]), path)
    out = ConsistencyOut.model_validate(proof["http"])
    assert out.proof == path
    inclusion = AUDIT["inclusion"]
    assert h(inclusion["leaf_hash"]) == h(AUDIT["records"][4]["leaf_hash"])
    merkle.verify_inclusion(
        h(inclusion["leaf_hash"]), 4, 5, [h(p) for p in inclusion["proof"]], h(new["root"])
    )


def test_server_key_succession() -> None:
    succession = AUDIT["succession"]
    old, new = h(succession["old_public"]), h(succession["new_public"])
    keys = AUDIT["server_keys"]
    assert (old, new) == (h(keys[0]["public_key"]), h(keys[1]["public_key"]))
    message = (
        labels.SIGNING_KEY_SUCCESSION_CONTEXT + old + new + succession["not_before"].encode("ascii")
    )
    assert (
        h(succession["message"])
        == message
        == succession_message(old, new, succession["not_before"])
    )
    assert len(message) == 37 + 32 + 32 + 20
    assert sign(h(keys[0]["seed"]), message) == h(succession["signature"])
    verify_succession(old, new, succession["not_before"], h(succession["signature"]))
    listed = ServerKeysOut.model_validate(succession["http"])
    assert [k.public_key for k in listed.keys] == [old, new]
    assert listed.keys[0].succession_signature is None
    assert listed.keys[1].succession_signature == h(succession["signature"])


@pytest.mark.parametrize("case", AUDIT["succession"]["cases"], ids=lambda c: c["case"])
def test_succession_case(case: dict[str, str]) -> None:
    signature = h(AUDIT["succession"]["signature"])
    args = (h(case["old_public"]), h(case["new_public"]), case["not_before"])
    if "error" in case:
        with raises(case["error"]):
            verify_succession(*args, signature)
    else:
        verify_succession(*args, signature)
