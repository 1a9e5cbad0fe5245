"""app.crypto reproduces docs/vectors/circles-v1.json byte for byte.

Each value is also recomputed independently (hashlib BLAKE2b, raw libsodium
bindings) so the vectors pin the construction, not just the Python code path.
"""

import base64
import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_box_seal_open,
    crypto_scalarmult_base,
    crypto_sign_open,
    crypto_sign_seed_keypair,
)

from app.circles.events import event_hash
from app.circles.schemas import CircleCreateRequest, ConfirmRequest, LeaveRequest, Rotation
from app.crypto import IdentityKeys, PublicIdentity, b64decode, b64encode, errors, labels
from app.crypto.circles import (
    ADMIN_ROLES,
    CircleKey,
    Invite,
    KeyRecord,
    canonical_json,
    check_successor,
    invite_secret_hash,
    leave_statement,
    open_circle_meta,
    open_previous_key,
    open_wrap,
    sign_leave,
    verify_leave,
    verify_record,
)
from app.invites.schemas import InviteCreateRequest, RedeemRequest
from tests.crypto.make_circle_vectors import build_vectors, seal_fixed

DOCS = Path(__file__).resolve().parents[2] / "docs"
VECTORS_PATH = DOCS / "vectors" / "circles-v1.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="ascii"))
ACCOUNT_VECTORS: dict[str, Any] = json.loads((DOCS / "vectors" / "v1.json").read_text())
CIRCLE_ID = uuid.UUID(VECTORS["circle"]["circle_id"])
KEYS = {k["epoch"]: k for k in VECTORS["epoch_keys"]}
RECORDS = VECTORS["records"]
PEOPLE = VECTORS["identities"]


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def blake2b(message: bytes, label: str, size: int = 32, key: bytes = b"") -> bytes:
    person = h(VECTORS["labels"][label])
    return hashlib.blake2b(message, digest_size=size, key=key, person=person).digest()


def identity(name: str) -> IdentityKeys:
    return IdentityKeys(h(PEOPLE[name]["x25519_secret"]), h(PEOPLE[name]["ed25519_seed"]))


def public(data: dict[str, str]) -> PublicIdentity:
    return PublicIdentity(
        x25519_public=b64decode(data["x25519_public"]),
        ed25519_public=b64decode(data["ed25519_public"]),
        x25519_signature=b64decode(data["x25519_signature"]),
    )


def record(index: int) -> KeyRecord:
    return KeyRecord.parse(h(RECORDS[index]["bytes"]))


def raises(name: str) -> Any:
    return pytest.raises(getattr(errors, name))


# -- the file ----------------------------------------------------------------------------


def test_file_is_circles_version_1_and_ascii_only() -> None:
    assert (VECTORS["protocol"], VECTORS["layer"], VECTORS["version"]) == (
        "backchannel",
        "circles",
        1,
    )
    assert VECTORS_PATH.read_bytes().isascii()


def test_vectors_file_matches_its_generator() -> None:
    """Regenerate with:
    .venv/bin/python -m tests.crypto.make_circle_vectors > docs/vectors/circles-v1.json
    """
    assert build_vectors() == VECTORS


def test_labels_are_the_ones_in_labels_py() -> None:
    for name, value in VECTORS["labels"].items():
        actual = getattr(labels, name)
        assert (actual.hex() if isinstance(actual, bytes) else actual) == value, name
        if name.startswith("PERSON_"):
            assert len(actual) == 16, name


def test_the_retired_index_label_is_never_reused() -> None:
    active = {v for k, v in vars(labels).items() if k.isupper() and not k.startswith("RETIRED_")}
    for name, value in VECTORS["retired_labels"].items():
        assert getattr(labels, "RETIRED_" + name).hex() == value
        assert bytes.fromhex(value) not in active, name


def _documented(cell: str) -> bytes | str | int:
    if cell.startswith('P("'):
        return cell[3:-2].encode("ascii").ljust(16, b"\x00")
    if cell.startswith('"'):
        text = cell[1:-1]
        return text.replace("\\0", "\x00").encode("ascii") if "\\0" in text else text
    return int(cell)


def test_protocol_md_circle_label_table_matches_labels_py() -> None:
    text = (DOCS / "protocol.md").read_text()
    circles = text.split("\n## 8.", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| `([^`]+)`", circles, re.M)
    documented = {name: _documented(cell) for name, cell in rows}
    assert set(documented) == set(VECTORS["labels"])
    for name, value in documented.items():
        assert getattr(labels, name) == value, name


# -- identities, circle id, epoch keys -------------------------------------------------


def test_alice_is_the_identity_of_the_account_vectors() -> None:
    account = ACCOUNT_VECTORS["identity"]
    alice = PEOPLE["alice"]
    for field in ("x25519_secret", "ed25519_seed", "x25519_public", "ed25519_public"):
        assert alice[field] == account[field], field
    assert alice["fingerprint"] == account["fingerprint"]


@pytest.mark.parametrize("name", ["alice", "bob", "mallory"])
def test_identities_public_keys_and_fingerprints(name: str) -> None:
    person = PEOPLE[name]
    keys = identity(name).public()
    assert keys.x25519_public == h(person["x25519_public"])
    assert crypto_scalarmult_base(h(person["x25519_secret"])) == h(person["x25519_public"])
    assert crypto_sign_seed_keypair(h(person["ed25519_seed"]))[0] == h(person["ed25519_public"])
    assert keys.fingerprint() == person["fingerprint"]
    shown = public(person["identity"])
    shown.verify()
    assert shown == keys


def test_circle_id_bytes_and_epoch_context() -> None:
    circle = VECTORS["circle"]
    assert CIRCLE_ID.hex == circle["hex"]
    assert re.fullmatch(r"[0-9a-f]{32}", circle["hex"])
    assert CIRCLE_ID.bytes == h(circle["bytes"]) == h(circle["hex"])
    for case in circle["epoch_context"]:
        assert h(case["bytes"]) == CIRCLE_ID.bytes + case["epoch"].to_bytes(8, "big")


@pytest.mark.parametrize("epoch", sorted(KEYS))
def test_epoch_key_id_and_subkeys(epoch: int) -> None:
    case = KEYS[epoch]
    raw = h(case["key"])
    key = CircleKey(raw)
    assert key.key_id == h(case["key_id"]) == b64decode(case["key_id_b64"])
    assert key.entry_key == h(case["entry_key"])
    assert not hasattr(key, "index_key")  # retired with the server's name index
    assert key.meta_key == h(case["meta_key"])
    # Keyed BLAKE2b of the empty message, as hashlib computes it.
    assert blake2b(b"", "PERSON_KEY_ID", 16, raw) == h(case["key_id"])
    assert blake2b(b"", "PERSON_ENTRY_KEY", 32, raw) == h(case["entry_key"])
    assert blake2b(b"", "PERSON_META_KEY", 32, raw) == h(case["meta_key"])


# -- key records -----------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(RECORDS)))
def test_record_bytes_hash_and_signature(index: int) -> None:
    case = RECORDS[index]
    raw = h(case["bytes"])
    assert case["text"].encode("utf-8") == raw
    assert canonical_json(case["json"]) == raw
    assert json.loads(raw) == case["json"]
    parsed = KeyRecord.parse(raw)
    assert parsed.to_bytes() == raw
    assert parsed.to_json() == case["json"]
    assert (parsed.seq, parsed.epoch, parsed.signer) == (case["seq"], case["epoch"], case["signer"])
    assert parsed.key_id == h(KEYS[case["epoch"]]["key_id"])
    assert parsed.hash() == h(case["hash"]) == b64decode(case["hash_b64"])
    assert blake2b(raw, "PERSON_RECORD_HASH") == h(case["hash"])
    message = labels.KEY_RECORD_SIGNATURE_CONTEXT + raw
    assert message == h(case["signature_message"])
    signature = h(case["signature"])
    assert b64decode(case["signature_b64"]) == signature
    assert parsed.sign(identity(case["signer"])) == signature  # Ed25519 is deterministic
    signer_key = h(PEOPLE[case["signer"]]["ed25519_public"])
    assert crypto_sign_open(signature + message, signer_key) == message  # libsodium, detached


def test_records_form_a_chain() -> None:
    previous = None
    for index, case in enumerate(RECORDS):
        current = record(index)
        signer = identity(case["signer"]).public()
        verify_record(previous, current, h(case["signature"]), signer)
        if previous is not None:
            assert current.prev == previous.hash()
            assert current.to_json()["prev"] == RECORDS[index - 1]["hash_b64"]
        previous = current
    assert [m.user for m in record(1).members] == ["alice", "bob"]
    assert record(2).epoch == record(1).epoch + 1
    assert [(m.user, m.role) for m in record(3).members] == [("alice", "owner"), ("bob", "admin")]
    assert (record(3).epoch, record(3).key_id) == (record(2).epoch, record(2).key_id)


def test_record_json_shape() -> None:
    data = RECORDS[1]["json"]
    assert list(data) == sorted(data)
    assert set(data) == {
        "v",
        "type",
        "circle",
        "seq",
        "epoch",
        "key_id",
        "members",
        "prev",
        "signer",
    }
    assert data["circle"] == VECTORS["circle"]["hex"]
    for member in data["members"]:
        assert list(member) == ["fp", "role", "user"]
        assert re.fullmatch(r"\d{5}( \d{5}){5}", member["fp"])
    assert RECORDS[0]["json"]["prev"] is None


PARSE_CASES = VECTORS["record_parse"]


@pytest.mark.parametrize("case", PARSE_CASES, ids=[c["case"] for c in PARSE_CASES])
def test_record_parse(case: dict[str, str]) -> None:
    raw = case["text"].encode("utf-8")
    if "error" in case:
        with raises(case["error"]):
            KeyRecord.parse(raw)
    else:
        assert KeyRecord.parse(raw).to_bytes() == raw


CHAIN_CASES = VECTORS["chain"]["cases"]


@pytest.mark.parametrize("case", CHAIN_CASES, ids=[c["case"] for c in CHAIN_CASES])
def test_chain_case(case: dict[str, Any]) -> None:
    previous = record(case["follows_seq"])
    candidate = KeyRecord.parse(case["record"].encode("utf-8"))
    signature = b64decode(case["signature_b64"])
    signer = public(case["signer_identity"])
    signer.verify()
    if case.get("valid"):
        verify_record(previous, candidate, signature, signer)
    else:
        with raises(case["error"]):
            verify_record(previous, candidate, signature, signer)


def test_chain_case_stray_key_is_no_epoch_key() -> None:
    stray = h(VECTORS["chain"]["stray_key_id"])
    assert stray not in {h(k["key_id"]) for k in VECTORS["epoch_keys"]}


def test_chain_cases_cover_every_rule_and_error() -> None:
    errors_seen = {c["error"] for c in CHAIN_CASES if "error" in c}
    assert errors_seen == {"RecordChainBroken", "WrongEpoch", "UntrustedSigner", "BadSignature"}
    assert {c["follows_seq"] for c in CHAIN_CASES} == {1, 3}
    names = {c["case"] for c in CHAIN_CASES}
    assert "a member dropped without a new epoch" in names
    assert {"an admin makes himself an owner", "an admin adds a new owner"} <= names
    for case in CHAIN_CASES:
        assert case["case"].startswith("valid") == bool(case.get("valid")), case["case"]


def test_first_record_rules() -> None:
    check_successor(None, record(0))
    with raises("RecordChainBroken"):
        check_successor(None, record(1))


# -- wraps -----------------------------------------------------------------------------

WRAPS = VECTORS["wraps"]


@pytest.mark.parametrize("case", WRAPS, ids=[f"{w['recipient']}-{w['epoch']}" for w in WRAPS])
def test_wrap_plaintext_and_sealed_example(case: dict[str, Any]) -> None:
    epoch = case["epoch"]
    key = h(KEYS[epoch]["key"])
    plaintext = h(case["plaintext"])
    assert plaintext == labels.WRAP_PREFIX + CIRCLE_ID.bytes + epoch.to_bytes(8, "big") + key
    assert len(plaintext) == 20 + 16 + 8 + 32
    recipient = identity(case["recipient"])
    x_public = recipient.public().x25519_public
    assert x_public == h(case["recipient_x25519_public"])
    sealed = h(case["sealed"])
    assert b64decode(case["sealed_b64"]) == sealed
    assert len(sealed) == 32 + len(plaintext) + 16
    # libsodium's crypto_box_seal construction, rebuilt with the fixed ephemeral key.
    assert crypto_scalarmult_base(h(case["ephemeral_secret"])) == h(case["ephemeral_public"])
    assert sealed[:32] == h(case["ephemeral_public"])
    nonce = hashlib.blake2b(sealed[:32] + x_public, digest_size=24).digest()
    assert nonce == h(case["nonce"])
    assert seal_fixed(plaintext, x_public, h(case["ephemeral_secret"])) == sealed
    assert crypto_box_seal_open(sealed, x_public, bytes(recipient.box_key)) == plaintext
    opened = open_wrap(
        sealed,
        circle_id=CIRCLE_ID,
        epoch=epoch,
        identity=recipient,
        expected_key_id=h(KEYS[epoch]["key_id"]),
    )
    assert bytes(opened) == key


WRAP_OPEN = VECTORS["wrap_open"]["cases"]


@pytest.mark.parametrize("case", WRAP_OPEN, ids=[c["case"] for c in WRAP_OPEN])
def test_wrap_open_refusals(case: dict[str, str]) -> None:
    sealed = h(case["sealed"])
    recipient = identity(VECTORS["wrap_open"]["recipient"])
    if "plaintext" in case:
        opened = crypto_box_seal_open(
            sealed, recipient.public().x25519_public, bytes(recipient.box_key)
        )
        assert opened == h(case["plaintext"])
    with raises(case["error"]):
        open_wrap(
            sealed,
            circle_id=CIRCLE_ID,
            epoch=0,
            identity=recipient,
            expected_key_id=h(VECTORS["wrap_open"]["expected_key_id"]),
        )


# -- previous-key box and metadata -----------------------------------------------------


def test_previous_key_box() -> None:
    case = VECTORS["previous_key_box"]
    epoch = case["epoch"]
    new, previous = h(case["new_key"]), h(case["previous_key"])
    assert new == h(KEYS[epoch]["key"]) and previous == h(KEYS[epoch - 1]["key"])
    ad = h(case["associated_data"])
    assert ad == labels.PREV_KEY_AD_PREFIX + CIRCLE_ID.bytes + epoch.to_bytes(8, "big")
    box = h(case["box"])
    assert b64decode(case["box_b64"]) == box
    assert len(box) == 24 + 32 + 16
    nonce = h(case["nonce"])
    assert box == nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(previous, ad, nonce, new)
    opened = open_previous_key(
        box,
        CircleKey(new),
        circle_id=CIRCLE_ID,
        epoch=epoch,
        expected_key_id=h(case["previous_key_id"]),
    )
    assert bytes(opened) == previous
    assert opened.key_id == h(KEYS[epoch - 1]["key_id"]) == record(1).key_id


def test_circle_meta_box() -> None:
    case = VECTORS["circle_meta"]
    epoch = case["epoch"]
    plaintext = h(case["plaintext"])
    assert canonical_json(case["meta"]) == plaintext
    assert plaintext.decode("utf-8") == json.dumps(
        case["meta"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert not plaintext.isascii()  # UTF-8 as is, not \u escapes
    assert list(json.loads(plaintext)) == ["description", "name"]
    meta_key = h(case["meta_key"])
    assert meta_key == h(KEYS[epoch]["meta_key"])
    ad = h(case["associated_data"])
    assert ad == labels.CIRCLE_META_AD_PREFIX + CIRCLE_ID.bytes + epoch.to_bytes(8, "big")
    box = h(case["box"])
    assert b64decode(case["box_b64"]) == box
    nonce = h(case["nonce"])
    assert box == nonce + crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, meta_key)
    key = CircleKey(h(KEYS[epoch]["key"]))
    assert open_circle_meta(box, key, circle_id=CIRCLE_ID, epoch=epoch) == case["meta"]
    with raises("DecryptionFailed"):
        open_circle_meta(box, key, circle_id=CIRCLE_ID, epoch=epoch + 1)


# -- invites ---------------------------------------------------------------------------

INVITE = VECTORS["invite"]


def test_invite_string_and_secret_hash() -> None:
    secret = h(INVITE["secret"])
    anchor = h(INVITE["record_hash"])
    invite = Invite(
        uuid.UUID(INVITE["circle_id"]),
        uuid.UUID(INVITE["invite_id"]),
        secret,
        INVITE["inviter_fingerprint"],
        anchor,
    )
    text = str(invite)
    assert text == INVITE["text"]
    assert re.fullmatch(
        r"bcinvite1\.[0-9a-f]{32}\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43}\.[0-9]{30}\.[A-Za-z0-9_-]{43}",
        text,
    )
    prefix, circle_hex, invite_hex, secret_text, digits, anchor_text = text.split(".")
    assert prefix == VECTORS["labels"]["INVITE_PREFIX"]
    assert circle_hex == uuid.UUID(INVITE["circle_id"]).hex
    assert invite_hex == uuid.UUID(INVITE["invite_id"]).hex
    assert secret_text == INVITE["secret_b64url"]
    assert "-" in secret_text and "_" in secret_text and "=" not in secret_text
    assert base64.urlsafe_b64decode(secret_text + "=") == secret
    assert digits == INVITE["inviter_fingerprint"].replace(" ", "")
    assert INVITE["inviter_fingerprint"] == PEOPLE["alice"]["fingerprint"]
    assert anchor_text == INVITE["record_hash_b64url"]
    assert base64.urlsafe_b64decode(anchor_text + "=") == anchor
    assert invite.secret_hash == invite_secret_hash(secret) == h(INVITE["secret_hash"])
    assert blake2b(secret, "PERSON_INVITE_HASH") == h(INVITE["secret_hash"])
    assert Invite.parse(text) == invite


def test_invite_names_a_record_of_the_chain_with_the_inviter_as_an_admin() -> None:
    """The joiner's anchor: their first sync must pass through this record (the newest one
    alice had verified when she invited bob), and alice must be an admin there."""
    anchor = h(INVITE["record_hash"])
    named = record(INVITE["record_seq"])
    assert named.hash() == anchor == h(RECORDS[INVITE["record_seq"]]["hash"])
    inviter = [m for m in named.members if m.fp == INVITE["inviter_fingerprint"]]
    assert len(inviter) == 1 and inviter[0].role in ADMIN_ROLES
    # The same 32 bytes are the next record's prev (base64 there, base64url here).
    assert b64decode(RECORDS[INVITE["record_seq"] + 1]["json"]["prev"]) == anchor


def test_invite_requests() -> None:
    create = INVITE["create_request"]
    assert b64decode(create["secret_hash"]) == h(INVITE["secret_hash"])
    assert InviteCreateRequest.model_validate(create).secret_hash == h(INVITE["secret_hash"])
    redeem = INVITE["redeem_request"]
    assert b64decode(redeem["secret"]) == h(INVITE["secret"])
    assert RedeemRequest.model_validate(redeem).circle_id == CIRCLE_ID


INVITE_PARSE = INVITE["parse"]


@pytest.mark.parametrize("case", INVITE_PARSE, ids=[c["case"] for c in INVITE_PARSE])
def test_invite_parse(case: dict[str, str]) -> None:
    if "error" in case:
        with raises(case["error"]):
            Invite.parse(case["input"])
    else:
        assert str(Invite.parse(case["input"])) == case["canonical"] == INVITE["text"]


# -- leave statements ------------------------------------------------------------------

LEAVE = VECTORS["leave"]


def test_leave_statement_bytes_and_signature() -> None:
    raw = h(LEAVE["bytes"])
    assert LEAVE["statement"].encode("utf-8") == raw
    assert canonical_json(LEAVE["json"]) == raw
    assert list(LEAVE["json"]) == ["circle", "record_seq", "type", "user", "v"]
    assert LEAVE["json"] == {
        "v": 1,
        "type": VECTORS["labels"]["LEAVE_TYPE"],
        "circle": CIRCLE_ID.hex,
        "user": LEAVE["user"],
        "record_seq": LEAVE["record_seq"],
    }
    assert raw == leave_statement(
        circle_id=CIRCLE_ID, user=LEAVE["user"], record_seq=LEAVE["record_seq"]
    )
    # bob leaves at the newest record of the vectors.
    assert LEAVE["record_seq"] == RECORDS[-1]["seq"]
    message = h(VECTORS["labels"]["LEAVE_SIGNATURE_CONTEXT"]) + raw
    assert message == h(LEAVE["signature_message"])
    signature = h(LEAVE["signature"])
    assert b64decode(LEAVE["signature_b64"]) == signature
    bob = identity(LEAVE["user"])
    assert sign_leave(bob, raw) == signature  # Ed25519 is deterministic
    signer_key = h(PEOPLE[LEAVE["user"]]["ed25519_public"])
    assert crypto_sign_open(signature + message, signer_key) == message  # libsodium, detached
    seq = verify_leave(raw, signature, circle_id=CIRCLE_ID, user=LEAVE["user"], signer=bob.public())
    assert seq == LEAVE["record_seq"]


LEAVE_CASES = LEAVE["cases"]


@pytest.mark.parametrize("case", LEAVE_CASES, ids=[c["case"] for c in LEAVE_CASES])
def test_leave_case(case: dict[str, Any]) -> None:
    arguments = {
        "circle_id": uuid.UUID(case["circle_id"]),
        "user": case["user"],
        "signer": identity(case["signer"]).public(),
    }
    raw = case["statement"].encode("utf-8")
    signature = b64decode(case["signature_b64"])
    if "error" in case:
        with raises(case["error"]):
            verify_leave(raw, signature, **arguments)
    else:
        assert verify_leave(raw, signature, **arguments) == case["record_seq"]


def test_leave_cases_cover_the_rules() -> None:
    errors_seen = {c["error"] for c in LEAVE_CASES if "error" in c}
    assert errors_seen == {"InvalidKey", "BadSignature"}
    for case in LEAVE_CASES:
        assert case["case"].startswith("valid") == ("record_seq" in case), case["case"]


# -- events ----------------------------------------------------------------------------


def test_event_bodies_and_hash_chain() -> None:
    previous = None
    for seq, case in enumerate(VECTORS["events"]):
        body = case["body"].encode("utf-8")
        fields = case["fields"]
        assert canonical_json(fields) == body
        assert set(fields) == {
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
        assert (fields["v"], fields["seq"], fields["circle"]) == (1, seq, CIRCLE_ID.hex)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", fields["at"])
        assert fields["prev"] == (None if previous is None else b64encode(previous))
        digest = event_hash(body)
        assert digest == h(case["hash"]) == b64decode(case["hash_b64"])
        assert blake2b(body, "PERSON_EVENT_HASH") == digest
        previous = digest


def test_events_link_the_signed_record_by_hash() -> None:
    created = VECTORS["events"][0]["fields"]
    assert created["kind"] == "circle_created"
    assert created["details"] == {
        "record_seq": 0,
        "epoch": 0,
        "record_hash": RECORDS[0]["hash_b64"],
    }


# -- request bodies --------------------------------------------------------------------

REQUESTS = VECTORS["requests"]


def test_create_request_is_a_valid_body_built_from_the_vectors() -> None:
    body = CircleCreateRequest.model_validate(REQUESTS["create"])
    assert body.circle_id == CIRCLE_ID
    assert body.record == RECORDS[0]["text"]
    assert body.signature == h(RECORDS[0]["signature"])
    alice = identity("alice")
    key = open_wrap(
        body.wrap,
        circle_id=CIRCLE_ID,
        epoch=0,
        identity=alice,
        expected_key_id=record(0).key_id,
    )
    assert (
        open_circle_meta(body.meta, key, circle_id=CIRCLE_ID, epoch=0)
        == (VECTORS["circle_meta"]["meta"])
    )


def test_confirm_request_is_a_valid_body_built_from_the_vectors() -> None:
    body = ConfirmRequest.model_validate(REQUESTS["confirm_bob"])
    assert body.record == RECORDS[1]["text"]
    key = open_wrap(
        body.wrap,
        circle_id=CIRCLE_ID,
        epoch=0,
        identity=identity("bob"),
        expected_key_id=record(1).key_id,
    )
    assert bytes(key) == h(KEYS[0]["key"])


def test_leave_request_is_a_valid_body_built_from_the_vectors() -> None:
    body = LeaveRequest.model_validate(REQUESTS["leave_bob"])
    assert body.statement == LEAVE["statement"]
    seq = verify_leave(
        body.statement.encode("utf-8"),
        body.signature,
        circle_id=CIRCLE_ID,
        user="bob",
        signer=identity("bob").public(),
    )
    assert seq == LEAVE["record_seq"]


def test_rotate_request_is_a_valid_body_built_from_the_vectors() -> None:
    body = Rotation.model_validate(REQUESTS["rotate"])
    rotated = KeyRecord.parse(body.record.encode("utf-8"))
    verify_record(record(1), rotated, body.signature, identity("alice").public())
    assert sorted(w.username for w in body.wraps) == [m.user for m in rotated.members]
    for wrap in body.wraps:
        key = open_wrap(
            wrap.wrap,
            circle_id=CIRCLE_ID,
            epoch=rotated.epoch,
            identity=identity(wrap.username),
            expected_key_id=rotated.key_id,
        )
        previous = open_previous_key(
            body.prev_key_box,
            key,
            circle_id=CIRCLE_ID,
            epoch=rotated.epoch,
            expected_key_id=record(1).key_id,
        )
        assert bytes(previous) == h(KEYS[0]["key"])
