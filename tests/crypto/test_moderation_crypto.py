"""The rules of moderation and the audit log in app.crypto.moderation.

Fresh random keys throughout; docs/vectors/moderation-v1.json pins the bytes.
"""

import json
import uuid
from dataclasses import replace
from typing import Any

import pytest
from nacl.signing import SigningKey

from app.crypto import IdentityKeys, labels
from app.crypto.audit import (
    TreeHead,
    succession_message,
    verify_succession,
)
from app.crypto.circles import KeyRecord, RecordMember, canonical_json
from app.crypto.decisions import (
    MAX_REASON,
    Decision,
    blob_hash,
    open_decision_note,
    seal_decision_note,
)
from app.crypto.entries import commitment, verify_commitment
from app.crypto.errors import (
    BadSignature,
    DecryptionFailed,
    InvalidKey,
    RecordChainBroken,
    UntrustedSigner,
    WrongEpoch,
)
from app.crypto.moderation import (
    ModerationKey,
    ModerationKeyRecord,
    check_moderation_successor,
    open_moderation_wrap,
    open_previous_moderation_key,
    seal_moderation_wrap,
    seal_previous_moderation_key,
    shared_key,
)
from app.crypto.reports import (
    MAX_NOTE,
    Report,
    case_hash,
    check_report_fields,
    open_report,
    seal_report,
    verify_report,
)
from app.crypto.takedowns import (
    MAX_CONTACT,
    MAX_NAME,
    MAX_REQUEST_BYTES,
    MAX_RESPONSE,
    Receipt,
    TakedownLink,
    TakedownRequest,
    check_takedown_fields,
    open_own_response,
    open_response,
    open_takedown,
    receipt_token_hash,
    seal_response,
    seal_takedown,
)

CIRCLE = uuid.UUID("8a3f0c6e-5b1d-4f2a-9c7e-1d2b3a4c5d6e")
OTHER = uuid.UUID("11111111-2222-4333-8444-555555555555")
BASE = "https://bc.example.org"


class Circle:
    """alice (owner), bob (admin) and carol (member), with their key record and two keys."""

    def __init__(self) -> None:
        self.alice, self.bob, self.carol = (IdentityKeys.generate() for _ in range(3))
        self.people = {"alice": self.alice, "bob": self.bob, "carol": self.carol}
        members = (
            RecordMember("alice", self.alice.public().fingerprint(), "owner"),
            RecordMember("bob", self.bob.public().fingerprint(), "admin"),
            RecordMember("carol", self.carol.public().fingerprint(), "member"),
        )
        self.record = KeyRecord(CIRCLE, 4, 1, bytes(16), members, bytes(32), "alice")
        self.keys = [ModerationKey.generate(), ModerationKey.generate()]
        self.gen0 = ModerationKeyRecord.for_key_record(
            self.record, key=self.keys[0], generation=0, prev=None, signer="alice"
        )
        self.gen1 = ModerationKeyRecord.for_key_record(
            self.record, key=self.keys[1], generation=1, prev=self.gen0.hash(), signer="bob"
        )

    def with_roles(self, **roles: str) -> KeyRecord:
        members = tuple(replace(m, role=roles.get(m.user, m.role)) for m in self.record.members)
        return replace(self.record, seq=self.record.seq + 1, members=members)


@pytest.fixture(scope="module")
def circle() -> Circle:
    return Circle()


# -- the moderation key ------------------------------------------------------------------


def test_moderation_key_sizes_and_repr() -> None:
    key = ModerationKey.generate()
    assert len(bytes(key)) == len(key.public_key) == len(key.box_key) == 32
    assert bytes(key).hex() not in repr(key)
    with pytest.raises(InvalidKey):
        ModerationKey(bytes(31))


def test_record_names_exactly_the_admins_of_its_key_record(circle: Circle) -> None:
    assert [a.user for a in circle.gen1.admins] == ["alice", "bob"]
    assert circle.gen1.matches(circle.record)
    assert circle.gen1.record_seq == circle.record.seq


def test_record_round_trip_and_signature(circle: Circle) -> None:
    raw = circle.gen1.to_bytes()
    assert ModerationKeyRecord.parse(raw) == circle.gen1
    signature = circle.gen1.sign(circle.bob)
    circle.gen1.verify_signature(signature, circle.bob.public())
    with pytest.raises(BadSignature):
        circle.gen1.verify_signature(signature, circle.alice.public())
    with pytest.raises(BadSignature):
        replace(circle.gen1, record_seq=5).verify_signature(signature, circle.bob.public())
    with pytest.raises(BadSignature):
        circle.gen1.verify_signature(signature[:63], circle.bob.public())


def test_record_signature_is_domain_separated(circle: Circle) -> None:
    """A key record signature over the same bytes is not a moderation key signature."""
    raw = circle.gen1.to_bytes()
    other = bytes(circle.bob.signing_key.sign(labels.KEY_RECORD_SIGNATURE_CONTEXT + raw).signature)
    with pytest.raises(BadSignature):
        circle.gen1.verify_signature(other, circle.bob.public())


@pytest.mark.parametrize(
    ("roles", "stale"),
    [
        ({}, False),
        ({"carol": "admin"}, True),  # a promotion
        ({"bob": "member"}, True),  # a demotion
        ({"bob": "owner"}, False),  # owner and admin both moderate
    ],
)
def test_a_changed_admin_set_makes_the_key_stale(
    circle: Circle, roles: dict[str, str], stale: bool
) -> None:
    assert circle.gen1.matches(circle.with_roles(**roles)) is not stale


def test_another_key_or_circle_makes_the_key_stale(circle: Circle) -> None:
    bob_again = IdentityKeys.generate().public().fingerprint()
    members = tuple(
        replace(m, fp=bob_again) if m.user == "bob" else m for m in circle.record.members
    )
    assert not circle.gen1.matches(replace(circle.record, members=members))
    assert not circle.gen1.matches(replace(circle.record, circle_id=OTHER))


def test_successor_rules(circle: Circle) -> None:
    check_moderation_successor(None, circle.gen0)
    check_moderation_successor(circle.gen0, circle.gen1)
    for previous, record in [
        (None, circle.gen1),
        (circle.gen1, circle.gen1),
        (circle.gen0, replace(circle.gen1, generation=2)),
        (circle.gen0, replace(circle.gen1, prev=bytes(32))),
        (circle.gen0, replace(circle.gen1, circle_id=OTHER)),
        (circle.gen1, replace(circle.gen1, generation=2, prev=circle.gen0.hash())),
    ]:
        with pytest.raises(RecordChainBroken):
            check_moderation_successor(previous, record)


def _edit(raw: bytes, **changes: Any) -> bytes:
    return canonical_json({**json.loads(raw), **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {"v": 2},
        {"type": "backchannel.key-record"},
        {"generation": -1},
        {"generation": 0},  # with a prev
        {"prev": None},  # generation 1
        {"public_key": "AAAA"},
        {"admins": []},
        {"signer": "carol"},
        {"circle": "not-hex"},
    ],
    ids=str,
)
def test_malformed_records_are_refused(circle: Circle, changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidKey):
        ModerationKeyRecord.parse(_edit(circle.gen1.to_bytes(), **changes))


@pytest.mark.parametrize(
    "raw",
    [b"", b"[]", b'"x"', b"{}", b"\xff", b'{"v":1.0}', b'{"v":1}' * 2],
    ids=repr,
)
def test_non_records_are_invalid_keys(raw: bytes) -> None:
    with pytest.raises(InvalidKey):
        ModerationKeyRecord.parse(raw)


def test_non_canonical_record_is_refused(circle: Circle) -> None:
    raw = circle.gen1.to_bytes()
    for variant in (raw + b" ", raw.replace(b",", b", ", 1), raw.replace(b'"v":1', b'"v":true')):
        with pytest.raises(InvalidKey):
            ModerationKeyRecord.parse(variant)


def test_wrap_round_trip_and_context(circle: Circle) -> None:
    key = circle.keys[1]
    recipient = circle.bob.public().x25519_public
    wrap = seal_moderation_wrap(key, circle_id=CIRCLE, generation=1, recipient=recipient)
    assert wrap != seal_moderation_wrap(key, circle_id=CIRCLE, generation=1, recipient=recipient)

    def read(
        generation: int = 1,
        circle_id: uuid.UUID = CIRCLE,
        who: IdentityKeys = circle.bob,
        expected: bytes = key.public_key,
    ) -> ModerationKey:
        return open_moderation_wrap(
            wrap, circle_id=circle_id, generation=generation, identity=who, expected_public=expected
        )

    assert bytes(read()) == bytes(key)
    with pytest.raises(WrongEpoch):
        read(generation=0)
    with pytest.raises(WrongEpoch):
        read(circle_id=OTHER)
    with pytest.raises(DecryptionFailed):
        read(who=circle.alice)
    with pytest.raises(UntrustedSigner):
        read(expected=circle.keys[0].public_key)
    with pytest.raises(DecryptionFailed):
        open_moderation_wrap(
            wrap[:-1],
            circle_id=CIRCLE,
            generation=1,
            identity=circle.bob,
            expected_public=key.public_key,
        )


def test_previous_generation_box(circle: Circle) -> None:
    new, old = circle.keys[1], circle.keys[0]
    box = seal_previous_moderation_key(new, old, circle_id=CIRCLE, generation=1)
    assert len(box) == 24 + 32 + 16

    def read(
        box: bytes = box,
        key: ModerationKey = new,
        generation: int = 1,
        circle_id: uuid.UUID = CIRCLE,
        expected: bytes = old.public_key,
    ) -> ModerationKey:
        return open_previous_moderation_key(
            box, key, circle_id=circle_id, generation=generation, expected_public=expected
        )

    assert bytes(read()) == bytes(old)
    for bad in (
        {"generation": 0},
        {"circle_id": OTHER},
        {"key": old},
        {"box": box[:-1]},
        {"box": box[:39]},
        {"box": b""},
    ):
        with pytest.raises(DecryptionFailed):
            read(**bad)
    with pytest.raises(UntrustedSigner):
        read(expected=new.public_key)


# -- reports -----------------------------------------------------------------------------


ENTRY = uuid.UUID("5e1f7a2c-3b4d-4e6f-8a9b-0c1d2e3f4a5b")


def report(case_id: uuid.UUID, **changes: Any) -> Report:
    fields: dict[str, Any] = {
        "circle_id": CIRCLE,
        "case_id": case_id,
        "entry_id": ENTRY,
        "reporter": "carol",
        "reason": "doxxing",
        "note": "It gives her home address.",
        "body": b'{"subject":"x","v":1}',
        "opening": bytes(range(32)),
    }
    return Report(**{**fields, **changes})


def test_report_round_trip_and_reveal(circle: Circle) -> None:
    case_id = uuid.uuid4()
    filed = report(case_id)
    sealed = seal_report(
        filed, identity=circle.carol, public_key=circle.keys[1].public_key, generation=1
    )
    opened, signature = open_report(
        sealed, key=circle.keys[1], circle_id=CIRCLE, case_id=case_id, entry_id=ENTRY, generation=1
    )
    assert opened == filed
    verify_report(opened, signature, circle.carol.public())
    commit = commitment(filed.body, filed.opening)
    assert verify_commitment(opened.body, opened.opening, commit)


@pytest.mark.parametrize(
    "changes",
    [
        {"circle_id": OTHER},
        {"case_id": uuid.UUID(int=1)},
        {"entry_id": uuid.UUID(int=2)},
        {"generation": 0},
    ],
    ids=str,
)
def test_report_opened_in_another_context_fails(circle: Circle, changes: dict[str, Any]) -> None:
    case_id = uuid.uuid4()
    sealed = seal_report(
        report(case_id), identity=circle.carol, public_key=circle.keys[1].public_key, generation=1
    )
    context: dict[str, Any] = {
        "circle_id": CIRCLE,
        "case_id": case_id,
        "entry_id": ENTRY,
        "generation": 1,
    }
    with pytest.raises(DecryptionFailed):
        open_report(sealed, key=circle.keys[1], **{**context, **changes})


def test_report_under_another_generation_key_fails(circle: Circle) -> None:
    case_id = uuid.uuid4()
    sealed = seal_report(
        report(case_id), identity=circle.carol, public_key=circle.keys[1].public_key, generation=1
    )
    with pytest.raises(DecryptionFailed):
        open_report(
            sealed,
            key=circle.keys[0],
            circle_id=CIRCLE,
            case_id=case_id,
            entry_id=ENTRY,
            generation=1,
        )


@pytest.mark.parametrize("index", [0, 31, 32, 55, 56, 100, -1])
def test_tampering_any_byte_of_a_report_fails(circle: Circle, index: int) -> None:
    case_id = uuid.uuid4()
    sealed = bytearray(
        seal_report(
            report(case_id),
            identity=circle.carol,
            public_key=circle.keys[1].public_key,
            generation=1,
        )
    )
    sealed[index] ^= 0x01
    with pytest.raises(DecryptionFailed):
        open_report(
            bytes(sealed),
            key=circle.keys[1],
            circle_id=CIRCLE,
            case_id=case_id,
            entry_id=ENTRY,
            generation=1,
        )


def test_report_signature_names_the_reporter(circle: Circle) -> None:
    case_id = uuid.uuid4()
    sealed = seal_report(
        report(case_id), identity=circle.carol, public_key=circle.keys[1].public_key, generation=1
    )
    opened, signature = open_report(
        sealed, key=circle.keys[1], circle_id=CIRCLE, case_id=case_id, entry_id=ENTRY, generation=1
    )
    with pytest.raises(BadSignature):
        verify_report(opened, signature, circle.bob.public())
    with pytest.raises(BadSignature):
        verify_report(replace(opened, reason="other"), signature, circle.carol.public())


def test_report_fields_are_checked_before_sealing(circle: Circle) -> None:
    for changes in ({"reason": "spam"}, {"note": "x" * (MAX_NOTE + 1)}):
        with pytest.raises(InvalidKey):
            seal_report(
                report(uuid.uuid4(), **changes),
                identity=circle.carol,
                public_key=circle.keys[1].public_key,
                generation=1,
            )
    check_report_fields("other", "x" * MAX_NOTE)


def test_report_to_a_low_order_key_is_refused(circle: Circle) -> None:
    with pytest.raises(InvalidKey):
        seal_report(report(uuid.uuid4()), identity=circle.carol, public_key=bytes(32), generation=1)
    with pytest.raises(InvalidKey):
        shared_key(bytes(circle.keys[0]), bytes(31))


def test_case_hash_and_blob_hash() -> None:
    assert case_hash(b"abc") != blob_hash(b"abc")  # distinct personalisations
    assert case_hash(b"abc") != case_hash(b"abd") and blob_hash(b"abc") != blob_hash(b"abd")
    assert len(case_hash(b"")) == 32


# -- takedown links and receipts -----------------------------------------------------------


def test_link_round_trip(circle: Circle) -> None:
    link = TakedownLink(BASE, CIRCLE, 7, circle.keys[1].public_key)
    assert str(link).startswith(f"{BASE}/takedown#bctakedown1.{CIRCLE.hex}.7.")
    assert TakedownLink.parse(str(link)) == link
    assert TakedownLink.parse(f"  {link}\n") == link


@pytest.mark.parametrize(
    "text",
    [
        "",
        "bctakedown1",
        "https://bc.example.org/takedown#",
        "https://bc.example.org/takedown#bctakedown1.x.1.y",
        "javascript:alert(1)//takedown#bctakedown1",
        "https://bc.example.org/receipt#bctakedown1",
    ],
)
def test_link_parse_refuses(text: str) -> None:
    with pytest.raises(InvalidKey):
        TakedownLink.parse(text)


def test_receipt_round_trip_and_derived_values(circle: Circle) -> None:
    link = TakedownLink(BASE, CIRCLE, 1, circle.keys[1].public_key)
    receipt = Receipt.create(link)
    assert (receipt.circle_id, receipt.generation) == (CIRCLE, 1)
    assert receipt.moderation_public == link.public_key
    assert Receipt.parse(str(receipt)) == receipt
    assert receipt.token != receipt.secret and len(receipt.token) == 32
    assert receipt.public_key == bytes(receipt.private_key.public_key)
    assert receipt_token_hash(receipt.token) != receipt.token
    assert str(receipt.secret.hex()) not in repr(receipt)
    other = Receipt.create(link)
    assert (other.case_id, other.secret) != (receipt.case_id, receipt.secret)


def test_a_link_is_not_a_receipt(circle: Circle) -> None:
    link = TakedownLink(BASE, CIRCLE, 1, circle.keys[1].public_key)
    receipt = Receipt.create(link)
    with pytest.raises(InvalidKey):
        Receipt.parse(str(link))
    with pytest.raises(InvalidKey):
        TakedownLink.parse(str(receipt))


# -- takedown requests and responses ----------------------------------------------------------


def filed(circle: Circle) -> tuple[Receipt, TakedownRequest, bytes]:
    receipt = Receipt.create(TakedownLink(BASE, CIRCLE, 1, circle.keys[1].public_key))
    request = TakedownRequest(CIRCLE, receipt.case_id, "Jan Nov\u00e1k", "", "This is false.")
    return receipt, request, seal_takedown(request, receipt)


def open_as(circle: Circle, receipt: Receipt, sealed: bytes, **changes: Any) -> TakedownRequest:
    context: dict[str, Any] = {
        "key": circle.keys[1],
        "receipt_public": receipt.public_key,
        "circle_id": CIRCLE,
        "case_id": receipt.case_id,
        "generation": 1,
    }
    return open_takedown(sealed, **{**context, **changes})


def test_takedown_round_trip(circle: Circle) -> None:
    receipt, request, sealed = filed(circle)
    assert open_as(circle, receipt, sealed) == request


@pytest.mark.parametrize(
    "changes",
    [
        {"case_id": uuid.UUID(int=3)},
        {"circle_id": OTHER},
        {"generation": 2},
        {"receipt_public": ModerationKey.generate().public_key},
    ],
    ids=str,
)
def test_takedown_in_another_context_fails(circle: Circle, changes: dict[str, Any]) -> None:
    receipt, _, sealed = filed(circle)
    with pytest.raises(DecryptionFailed):
        open_as(circle, receipt, sealed, **changes)


def test_takedown_under_another_generation_key_fails(circle: Circle) -> None:
    receipt, _, sealed = filed(circle)
    with pytest.raises(DecryptionFailed):
        open_as(circle, receipt, sealed, key=circle.keys[0])


def test_takedown_fields_and_receipt_are_checked_before_sealing(circle: Circle) -> None:
    receipt, request, _ = filed(circle)
    for changes in (
        {"name": " "},
        {"name": "x" * (MAX_NAME + 1)},
        {"contact": "x" * (MAX_CONTACT + 1)},
        {"text": ""},
        {"text": "x" * MAX_REQUEST_BYTES},
        {"case_id": uuid.UUID(int=4)},
    ):
        with pytest.raises(InvalidKey):
            seal_takedown(replace(request, **changes), receipt)
    # The whole request, with the name and contact, fits in MAX_REQUEST_BYTES: 157 bytes
    # of names, ids and "J" leave the rest to the text, counted in UTF-8 bytes.
    check_takedown_fields("J", "", "x" * (MAX_REQUEST_BYTES - 157))
    with pytest.raises(InvalidKey, match="1 bytes too long"):
        check_takedown_fields("J", "", "x" * (MAX_REQUEST_BYTES - 156))
    with pytest.raises(InvalidKey, match="2 bytes too long"):
        check_takedown_fields("J", "", "x" * (MAX_REQUEST_BYTES - 159) + "é" * 2)


def test_response_reaches_the_receipt_holder_only(circle: Circle) -> None:
    receipt, _, _ = filed(circle)
    context: dict[str, Any] = {
        "key": circle.keys[1],
        "receipt_public": receipt.public_key,
        "circle_id": CIRCLE,
        "case_id": receipt.case_id,
        "generation": 1,
    }
    sealed = seal_response("We removed it.", **context)
    assert open_response(sealed, receipt) == "We removed it."
    assert open_own_response(sealed, **context) == "We removed it."
    stranger = Receipt.create(TakedownLink(BASE, CIRCLE, 1, circle.keys[1].public_key))
    with pytest.raises(DecryptionFailed):
        open_response(sealed, stranger)
    with pytest.raises(DecryptionFailed):
        open_response(sealed, replace(receipt, generation=0))
    for text in ("", " ", "x" * (MAX_RESPONSE + 1)):
        with pytest.raises(InvalidKey):
            seal_response(text, **context)


def test_a_request_is_not_a_response_and_back(circle: Circle) -> None:
    receipt, _, sealed = filed(circle)
    with pytest.raises(DecryptionFailed):
        open_response(sealed, receipt)
    response = seal_response(
        "No.",
        key=circle.keys[1],
        receipt_public=receipt.public_key,
        circle_id=CIRCLE,
        case_id=receipt.case_id,
        generation=1,
    )
    with pytest.raises(DecryptionFailed):
        open_as(circle, receipt, response)


# -- decisions ---------------------------------------------------------------------------


def decision(circle: Circle, **changes: Any) -> Decision:
    fields: dict[str, Any] = {
        "circle_id": CIRCLE,
        "case_id": uuid.UUID(int=9),
        "seq": 0,
        "action": "hide",
        "entry_id": ENTRY,
        "case_hash": case_hash(b"case"),
        "generation": 1,
        "note_hash": blob_hash(b"note"),
        "response_hash": None,
        "prev": None,
        "signer": "bob",
    }
    return Decision(**{**fields, **changes})


def test_decision_round_trip_and_signature(circle: Circle) -> None:
    first = decision(circle)
    assert Decision.parse(first.to_bytes()) == first
    signature = first.sign(circle.bob)
    first.verify_signature(signature, circle.bob.public())
    with pytest.raises(BadSignature):
        first.verify_signature(signature, circle.alice.public())
    for changes in ({"action": "remove"}, {"seq": 1, "prev": bytes(32)}, {"generation": 0}):
        with pytest.raises(BadSignature):
            replace(first, **changes).verify_signature(signature, circle.bob.public())
    second = decision(circle, seq=1, prev=first.hash(), action="restore")
    assert Decision.parse(second.to_bytes()).prev == first.hash()


@pytest.mark.parametrize(
    "changes",
    [
        {"action": "ban"},
        {"entry_id": None},
        {"seq": 1},  # without prev
        {"prev": bytes(32)},  # seq 0 with prev
        {"case_hash": bytes(31)},
        {"response_hash": bytes(16)},
        {"seq": -1},
        {"generation": -1},
    ],
    ids=str,
)
def test_malformed_decisions_are_refused(circle: Circle, changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidKey):
        Decision.parse(decision(circle, **changes).to_bytes())


def test_non_canonical_decision_is_refused(circle: Circle) -> None:
    raw = decision(circle).to_bytes()
    with pytest.raises(InvalidKey):
        Decision.parse(raw.replace(b'"seq":0', b'"seq":0.0'))
    with pytest.raises(InvalidKey):
        Decision.parse(b" " + raw)


def test_decision_note_round_trip_and_context(circle: Circle) -> None:
    case_id = uuid.uuid4()
    note = seal_decision_note(
        "Doxxing.",
        public_key=circle.keys[1].public_key,
        circle_id=CIRCLE,
        case_id=case_id,
        generation=1,
    )
    assert (
        open_decision_note(
            note, key=circle.keys[1], circle_id=CIRCLE, case_id=case_id, generation=1
        )
        == "Doxxing."
    )
    for changes in (
        {"case_id": uuid.uuid4()},
        {"circle_id": OTHER},
        {"generation": 0},
        {"key": circle.keys[0]},
    ):
        context: dict[str, Any] = {
            "key": circle.keys[1],
            "circle_id": CIRCLE,
            "case_id": case_id,
            "generation": 1,
            **changes,
        }
        with pytest.raises(DecryptionFailed):
            open_decision_note(note, **context)
    with pytest.raises(DecryptionFailed):
        open_decision_note(
            note[:71], key=circle.keys[1], circle_id=CIRCLE, case_id=case_id, generation=1
        )
    for reason in ("", "  ", "x" * (MAX_REASON + 1)):
        with pytest.raises(InvalidKey):
            seal_decision_note(
                reason,
                public_key=circle.keys[1].public_key,
                circle_id=CIRCLE,
                case_id=case_id,
                generation=1,
            )


# -- tree heads and server keys --------------------------------------------------------------


def test_tree_head_round_trip_and_signature() -> None:
    server = SigningKey.generate()
    head = TreeHead(CIRCLE, 3, bytes(range(32)), "2025-01-01T00:00:00.000000Z")
    assert TreeHead.parse(head.to_bytes()) == head
    signature = head.sign(server)
    head.verify_signature(signature, bytes(server.verify_key))
    for changes in ({"size": 4}, {"root": bytes(32)}, {"circle_id": OTHER}, {"at": "later"}):
        with pytest.raises(BadSignature):
            replace(head, **changes).verify_signature(signature, bytes(server.verify_key))
    with pytest.raises(BadSignature):
        head.verify_signature(signature, bytes(SigningKey.generate().verify_key))


def test_tree_head_signature_is_not_a_succession_signature() -> None:
    server = SigningKey.generate()
    head = TreeHead(CIRCLE, 0, bytes(32), "t")
    raw_signature = bytes(server.sign(head.to_bytes()).signature)  # no context label
    with pytest.raises(BadSignature):
        head.verify_signature(raw_signature, bytes(server.verify_key))


def test_succession() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    old_public, new_public = bytes(old.verify_key), bytes(new.verify_key)
    when = "2025-01-01T00:00:00Z"
    signature = bytes(old.sign(succession_message(old_public, new_public, when)).signature)
    verify_succession(old_public, new_public, when, signature)
    for args in (
        (new_public, new_public, when),
        (old_public, old_public, when),
        (old_public, new_public, "2025-01-01T00:00:01Z"),
    ):
        with pytest.raises(BadSignature):
            verify_succession(*args, signature)
    for args in (
        (old_public, new_public, "2025-01-01T00:00:00\u00dc"),
        (old_public, new_public[:31], when),
        (old_public[:31], new_public, when),
    ):
        with pytest.raises(InvalidKey):
            verify_succession(*args, signature)


def test_a_report_or_note_has_one_encoding_only(circle: Circle) -> None:
    """X25519 ignores the top bit of a public key; the AD binds the exact ephemeral key."""
    case_id = uuid.uuid4()
    key = circle.keys[1]
    sealed = seal_report(
        report(case_id), identity=circle.carol, public_key=key.public_key, generation=1
    )
    twin = sealed[:31] + bytes([sealed[31] ^ 0x80]) + sealed[32:]
    assert case_hash(twin) != case_hash(sealed)
    with pytest.raises(DecryptionFailed):
        open_report(twin, key=key, circle_id=CIRCLE, case_id=case_id, entry_id=ENTRY, generation=1)
    note = seal_decision_note(
        "A reason.", public_key=key.public_key, circle_id=CIRCLE, case_id=case_id, generation=1
    )
    note_twin = note[:31] + bytes([note[31] ^ 0x80]) + note[32:]
    with pytest.raises(DecryptionFailed):
        open_decision_note(note_twin, key=key, circle_id=CIRCLE, case_id=case_id, generation=1)
