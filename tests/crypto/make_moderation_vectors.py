"""Generate docs/vectors/moderation-v1.json, the vectors of moderation and the audit log (v1).

    .venv/bin/python -m tests.crypto.make_moderation_vectors > docs/vectors/moderation-v1.json

Every input is fixed, so the output is the same on every run. The circle, its id, its
key records and alice and bob are those of docs/vectors/circles-v1.json (record 1: alice
owner, bob member; record 3: bob made an admin); the reported entry is the named warning
of docs/vectors/entries-v1.json. Moderation key generation 0 is made for record 1 (admins:
alice), generation 1 for record 3 (admins: alice and bob).

Four kinds of value are random in real use: moderation keys and receipt secrets (fixed
here by constructing the value types directly), ephemeral X25519 keys (reports, decision
notes, wraps), AEAD nonces, and the server's clock (event and tree-head times). app.crypto
rightly takes no nonce or ephemeral key from its caller, so every sealed value here is
built from raw libsodium bindings with fixed inputs, and then opened with app.crypto: the
vectors pin the opening side byte for byte, and test_moderation_vectors.py checks that
what app.crypto seals opens under the documented construction.
"""

import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import nacl.bindings
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from app.crypto import CryptoError, IdentityKeys, b64encode, labels, merkle
from app.crypto.audit import (
    TreeHead,
    succession_message,
    verify_succession,
)
from app.crypto.circles import CircleKey, KeyRecord, RecordMember, canonical_json, event_hash
from app.crypto.decisions import (
    ACTIONS,
    MAX_REASON,
    Decision,
    blob_hash,
    open_decision_note,
)
from app.crypto.entries import commitment
from app.crypto.moderation import (
    NONCE_BYTES,
    ModerationKey,
    ModerationKeyRecord,
    check_moderation_successor,
    open_moderation_wrap,
    open_previous_moderation_key,
)
from app.crypto.proofs import MAX_WORK, SOLUTIONS, proof_hash, proof_seed, solve_proof, verify_proof
from app.crypto.proofs import MEMLIMIT as PROOF_MEMLIMIT
from app.crypto.proofs import OPSLIMIT as PROOF_OPSLIMIT
from app.crypto.reports import (
    MAX_NOTE,
    REASONS,
    Report,
    case_hash,
    open_report,
    verify_report,
)
from app.crypto.takedowns import (
    MAX_CONTACT,
    MAX_NAME,
    MAX_REQUEST_BYTES,
    MAX_RESPONSE,
    MAX_SEALED,
    Receipt,
    TakedownLink,
    TakedownRequest,
    open_response,
    open_takedown,
    receipt_token_hash,
)
from tests.crypto.make_circle_vectors import (
    CIRCLE_ID,
    EPOCH_KEYS,
    OTHER_CIRCLE_ID,
    b64url,
    identity,
    non_canonical_tail,
    seal_fixed,
)
from tests.crypto.make_entry_vectors import NAMED_BODY, NAMED_ENTRY_ID, RANDOMNESS, pattern

BASE_URL = "https://backchannel.example.org"
MODERATION_KEYS = {0: pattern(0x91, 32), 1: pattern(0xB3, 32)}
STRAY_MODERATION_KEY = pattern(0x0D, 32)  # no record names it
WRAP_EPHEMERALS = {
    (0, "alice"): pattern(0x11, 32),
    (1, "alice"): pattern(0x33, 32),
    (1, "bob"): pattern(0x55, 32),
}
PREV_BOX_NONCE = pattern(0x70, NONCE_BYTES)

REPORT_CASE_ID = uuid.UUID("3c0b7e51-9a2d-4f6e-8b1c-5d4e3f2a1b0c")
TAKEDOWN_CASE_ID = uuid.UUID("b1a2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")
OTHER_CASE_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
REPORT_EPHEMERAL = pattern(0x07, 32)
REPORT_NONCE = pattern(0x27, NONCE_BYTES)
REPORT_REASON = "false"
REPORT_NOTE = "Ich war an dem Tag am Set \u2013 so war es nicht."

RECEIPT_SECRET = pattern(0xE7, 32)  # its base64url has "-" and "_"
TAKEDOWN_NONCE = pattern(0x3F, NONCE_BYTES)
RESPONSE_NONCE = pattern(0x4B, NONCE_BYTES)
TAKEDOWN_FIELDS = {
    "name": "Jan Nov\u00e1k",
    "contact": "jan.novak@example.org",
    "text": "An entry about me in your circle is false. I was not on that set in 2024.",
}
RESPONSE_TEXT = "We looked into it and keep the entry; you may write again with evidence."

# (ephemeral secret, nonce, reason) of each decision note.
NOTES = {
    "hide": (pattern(0x61, 32), pattern(0x81, NONCE_BYTES), "Hidden while we ask both sides."),
    "restore": (pattern(0x62, 32), pattern(0x82, NONCE_BYTES), "Two crew members confirm it."),
    "dismiss": (pattern(0x63, 32), pattern(0x83, NONCE_BYTES), "No entry names this person."),
}

SERVER_SEEDS = [pattern(0x5A, 32), pattern(0x7C, 32)]
NOT_BEFORE = ["2025-03-01T09:00:00Z", "2025-09-01T00:00:00Z"]
EVENT_TIMES = [
    "2025-03-01T09:30:00.000000Z",
    "2025-03-02T10:00:00.000000Z",
    "2025-03-03T11:15:30.500000Z",
    "2025-03-04T08:00:00.000000Z",
    "2025-03-05T16:45:00.125000Z",
]
HEAD_TIMES = {3: "2025-03-03T12:00:00.000000Z", 5: "2025-03-05T17:00:00.000000Z"}

ERROR_CLASSES = (
    "InvalidKey",
    "BadSignature",
    "DecryptionFailed",
    "RecordChainBroken",
    "UntrustedSigner",
    "WrongEpoch",
    "InvalidWork",
)


def u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def aead(key: bytes, plaintext: bytes, ad: bytes, nonce: bytes) -> bytes:
    """XChaCha20-Poly1305-IETF ciphertext || tag, without the nonce."""
    return bytes(
        nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)
    )


def beforenm(secret: bytes, public: bytes) -> bytes:
    return bytes(nacl.bindings.crypto_box_beforenm(public, secret))


def x25519_public(secret: bytes) -> bytes:
    return bytes(PrivateKey(secret).public_key)


def error_name(action: Callable[[], Any]) -> str | None:
    try:
        action()
    except CryptoError as exc:
        name = type(exc).__name__
        assert name in ERROR_CLASSES, name
        return name
    return None


def flip(raw: bytes, index: int = 0) -> bytes:
    return raw[:index] + bytes([raw[index] ^ 0x01]) + raw[index + 1 :]


def key_records() -> dict[int, KeyRecord]:
    """Records 0 to 3 of circles-v1.json, rebuilt."""
    alice_fp, bob_fp = (
        identity("alice").public().fingerprint(),
        identity("bob").public().fingerprint(),
    )
    key0, key1 = CircleKey(EPOCH_KEYS[0]), CircleKey(EPOCH_KEYS[1])
    r0 = KeyRecord(
        CIRCLE_ID, 0, 0, key0.key_id, (RecordMember("alice", alice_fp, "owner"),), None, "alice"
    )
    two = (RecordMember("alice", alice_fp, "owner"), RecordMember("bob", bob_fp, "member"))
    r1 = KeyRecord(CIRCLE_ID, 1, 0, key0.key_id, two, r0.hash(), "alice")
    r2 = KeyRecord(CIRCLE_ID, 2, 1, key1.key_id, two, r1.hash(), "alice")
    admins = (RecordMember("alice", alice_fp, "owner"), RecordMember("bob", bob_fp, "admin"))
    r3 = KeyRecord(CIRCLE_ID, 3, 1, key1.key_id, admins, r2.hash(), "alice")
    return {0: r0, 1: r1, 2: r2, 3: r3}


def generation_context(circle_id: uuid.UUID, generation: int) -> bytes:
    return circle_id.bytes + u64(generation)


# -- the moderation key ----------------------------------------------------------------------


def moderation_records(records: dict[int, KeyRecord]) -> list[ModerationKeyRecord]:
    gen0 = ModerationKeyRecord.for_key_record(
        records[1],
        key=ModerationKey(MODERATION_KEYS[0]),
        generation=0,
        prev=None,
        signer="alice",
    )
    gen1 = ModerationKeyRecord.for_key_record(
        records[3],
        key=ModerationKey(MODERATION_KEYS[1]),
        generation=1,
        prev=gen0.hash(),
        signer="alice",
    )
    return [gen0, gen1]


def moderation_key_vector(record: ModerationKeyRecord, signer: IdentityKeys) -> dict[str, Any]:
    raw = record.to_bytes()
    signature = record.sign(signer)
    record.verify_signature(signature, signer.public())
    assert ModerationKeyRecord.parse(raw) == record
    key = ModerationKey(MODERATION_KEYS[record.generation])
    return {
        "generation": record.generation,
        "secret": bytes(key).hex(),
        "public_key": key.public_key.hex(),
        "public_key_b64": b64encode(key.public_key),
        "box_key": key.box_key.hex(),
        "json": json.loads(raw),
        "text": raw.decode("utf-8"),
        "bytes": raw.hex(),
        "hash": record.hash().hex(),
        "hash_b64": b64encode(record.hash()),
        "signature_message": (labels.MODKEY_SIGNATURE_CONTEXT + raw).hex(),
        "signature": signature.hex(),
        "signature_b64": b64encode(signature),
    }


def wrap_vector(generation: int, user: str) -> dict[str, Any]:
    keys = identity(user)
    key = ModerationKey(MODERATION_KEYS[generation])
    plaintext = labels.MODKEY_WRAP_PREFIX + generation_context(CIRCLE_ID, generation) + bytes(key)
    recipient = keys.public().x25519_public
    ephemeral = WRAP_EPHEMERALS[(generation, user)]
    sealed = seal_fixed(plaintext, recipient, ephemeral)
    opened = open_moderation_wrap(
        sealed,
        circle_id=CIRCLE_ID,
        generation=generation,
        identity=keys,
        expected_public=key.public_key,
    )
    assert bytes(opened) == bytes(key)
    return {
        "generation": generation,
        "recipient": user,
        "recipient_x25519_public": recipient.hex(),
        "plaintext": plaintext.hex(),
        "ephemeral_secret": ephemeral.hex(),
        "ephemeral_public": sealed[:32].hex(),
        "sealed": sealed.hex(),
        "sealed_b64": b64encode(sealed),
    }


def wrap_open_cases() -> list[dict[str, Any]]:
    """Sealed boxes to bob, opened as generation 1 of CIRCLE_ID expecting generation 1's key."""
    bob = identity("bob")
    key1 = ModerationKey(MODERATION_KEYS[1])

    def sealed(circle_id: uuid.UUID, generation: int, raw: bytes, to: str = "bob") -> bytes:
        plaintext = labels.MODKEY_WRAP_PREFIX + generation_context(circle_id, generation) + raw
        recipient = identity(to).public().x25519_public
        return seal_fixed(plaintext, recipient, WRAP_EPHEMERALS[(1, "bob")])

    specs = {
        "valid: generation 1 for bob": sealed(CIRCLE_ID, 1, bytes(key1)),
        "a wrap of generation 0": sealed(CIRCLE_ID, 0, bytes(key1)),
        "a wrap for another circle": sealed(OTHER_CIRCLE_ID, 1, bytes(key1)),
        "a key the record does not name": sealed(CIRCLE_ID, 1, STRAY_MODERATION_KEY),
        "sealed to alice": sealed(CIRCLE_ID, 1, bytes(key1), to="alice"),
        "a wrap plaintext without the label": seal_fixed(
            generation_context(CIRCLE_ID, 1) + bytes(key1),
            bob.public().x25519_public,
            WRAP_EPHEMERALS[(1, "bob")],
        ),
    }
    out = []
    for description, box in specs.items():
        error = error_name(
            lambda b=box: open_moderation_wrap(
                b,
                circle_id=CIRCLE_ID,
                generation=1,
                identity=bob,
                expected_public=key1.public_key,
            )
        )
        assert description.startswith("valid") == (error is None), description
        case: dict[str, Any] = {"case": description, "sealed": box.hex()}
        case |= {"valid": True} if error is None else {"error": error}
        out.append(case)
    return out


def previous_box_vector() -> dict[str, Any]:
    new, previous = ModerationKey(MODERATION_KEYS[1]), ModerationKey(MODERATION_KEYS[0])
    ad = labels.MODKEY_PREV_AD_PREFIX + generation_context(CIRCLE_ID, 1)
    box = PREV_BOX_NONCE + aead(new.box_key, bytes(previous), ad, PREV_BOX_NONCE)
    opened = open_previous_moderation_key(
        box, new, circle_id=CIRCLE_ID, generation=1, expected_public=previous.public_key
    )
    assert bytes(opened) == bytes(previous)
    assert (
        error_name(
            lambda: open_previous_moderation_key(
                box, new, circle_id=CIRCLE_ID, generation=2, expected_public=previous.public_key
            )
        )
        == "DecryptionFailed"
    )
    return {
        "generation": 1,
        "new_secret": bytes(new).hex(),
        "box_key": new.box_key.hex(),
        "previous_secret": bytes(previous).hex(),
        "previous_public": previous.public_key.hex(),
        "nonce": PREV_BOX_NONCE.hex(),
        "associated_data": ad.hex(),
        "box": box.hex(),
        "box_b64": b64encode(box),
    }


def record_parse_cases(good: str) -> list[dict[str, str]]:
    """Edits of generation 1's record that ModerationKeyRecord.parse must refuse."""
    data = json.loads(good)

    def edited(**changes: Any) -> str:
        return canonical_json({**data, **changes}).decode("utf-8")

    admins = data["admins"]
    cases = {
        "space after a comma": good.replace(",", ", ", 1),
        "trailing newline": good + "\n",
        "keys not sorted": json.dumps(
            dict(reversed(list(data.items()))), separators=(",", ":"), ensure_ascii=False
        ),
        "unknown field": edited(extra=1),
        "missing field": canonical_json(
            {k: v for k, v in data.items() if k != "record_seq"}
        ).decode(),
        "version 2": edited(v=2),
        "key record type": edited(type=labels.KEY_RECORD_TYPE),
        "generation as a string": edited(generation="1"),
        "generation as a float": good.replace('"generation":1', '"generation":1.0'),
        "negative record_seq": edited(record_seq=-1),
        "circle with dashes": edited(circle=str(CIRCLE_ID)),
        "public key of 31 bytes": edited(public_key=b64encode(bytes(31))),
        "public key without padding": edited(public_key=data["public_key"].rstrip("=")),
        "prev of 31 bytes": edited(prev=b64encode(bytes(31))),
        "generation 1 without prev": edited(prev=None),
        "generation 0 with a prev": edited(generation=0),
        "admins not sorted": edited(admins=list(reversed(admins))),
        "duplicate admin": edited(admins=[admins[0], admins[0]]),
        "no admins": edited(admins=[]),
        "signer not among the admins": edited(signer="carol"),
        "admin with a role field": edited(admins=[{**admins[0], "role": "owner"}, admins[1]]),
        "fingerprint without spaces": edited(
            admins=[{**admins[0], "fp": admins[0]["fp"].replace(" ", "")}, admins[1]]
        ),
        "valid: only alice, signed by alice": edited(admins=[admins[0]]),
    }
    out = []
    for description, text in cases.items():
        error = error_name(lambda t=text: ModerationKeyRecord.parse(t.encode("utf-8")))
        assert description.startswith("valid") == (error is None), description
        case = {"case": description, "text": text}
        case |= {"canonical": text} if error is None else {"error": str(error)}
        out.append(case)
    return out


def successor_cases(gen0: ModerationKeyRecord, gen1: ModerationKeyRecord) -> list[dict[str, Any]]:
    """Candidates for check_moderation_successor(previous, record)."""
    specs: list[tuple[str, ModerationKeyRecord | None, ModerationKeyRecord]] = [
        ("valid: generation 0 first", None, gen0),
        ("valid: generation 1 after generation 0", gen0, gen1),
        ("generation 1 first", None, gen1),
        ("generation 1 after generation 1", gen1, gen1),
        ("generation 2 after generation 0", gen0, replace(gen1, generation=2)),
        ("prev is not the hash of generation 0", gen0, replace(gen1, prev=flip(gen0.hash()))),
        ("another circle", gen0, replace(gen1, circle_id=OTHER_CIRCLE_ID)),
        ("the same public key again", gen0, replace(gen1, public_key=gen0.public_key)),
        (
            "record_seq goes back",
            replace(gen0, record_seq=gen1.record_seq + 1),
            replace(gen1, prev=replace(gen0, record_seq=gen1.record_seq + 1).hash()),
        ),
    ]
    out = []
    for description, previous, record in specs:
        error = error_name(lambda p=previous, r=record: check_moderation_successor(p, r))
        assert description.startswith("valid") == (error is None), description
        case: dict[str, Any] = {
            "case": description,
            "previous": None if previous is None else previous.to_bytes().decode(),
            "record": record.to_bytes().decode(),
        }
        case |= {"valid": True} if error is None else {"error": error}
        out.append(case)
    return out


# -- reports -----------------------------------------------------------------------------------


def report_ad(case_id: uuid.UUID, entry_id: uuid.UUID, generation: int) -> bytes:
    """Every report here is sealed with REPORT_EPHEMERAL to generation 1's key."""
    return (
        labels.REPORT_AD_PREFIX
        + CIRCLE_ID.bytes
        + case_id.bytes
        + entry_id.bytes
        + u64(generation)
        + x25519_public(REPORT_EPHEMERAL)
        + ModerationKey(MODERATION_KEYS[1]).public_key
    )


def seal_report_fixed(plaintext: bytes, ad: bytes, public: bytes) -> bytes:
    shared = beforenm(REPORT_EPHEMERAL, public)
    return (
        x25519_public(REPORT_EPHEMERAL) + REPORT_NONCE + aead(shared, plaintext, ad, REPORT_NONCE)
    )


def report_vectors(bob: IdentityKeys) -> tuple[dict[str, Any], bytes]:
    opening = RANDOMNESS["named_entry"][0]
    body = canonical_json(NAMED_BODY)
    report = Report(
        circle_id=CIRCLE_ID,
        case_id=REPORT_CASE_ID,
        entry_id=NAMED_ENTRY_ID,
        reporter="bob",
        reason=REPORT_REASON,
        note=REPORT_NOTE,
        body=body,
        opening=opening,
    )
    raw = report.to_bytes()
    message = labels.REPORT_SIGNATURE_CONTEXT + raw
    signature = bytes(bob.signing_key.sign(message).signature)
    key = ModerationKey(MODERATION_KEYS[1])
    ad = report_ad(REPORT_CASE_ID, NAMED_ENTRY_ID, 1)
    shared = beforenm(REPORT_EPHEMERAL, key.public_key)
    assert shared == beforenm(bytes(key), x25519_public(REPORT_EPHEMERAL))
    sealed = seal_report_fixed(signature + raw, ad, key.public_key)
    opened, opened_signature = open_report(
        sealed,
        key=key,
        circle_id=CIRCLE_ID,
        case_id=REPORT_CASE_ID,
        entry_id=NAMED_ENTRY_ID,
        generation=1,
    )
    assert (opened, opened_signature) == (report, signature)
    verify_report(opened, opened_signature, bob.public())
    vector = {
        "circle_id": str(CIRCLE_ID),
        "case_id": str(REPORT_CASE_ID),
        "entry_id": str(NAMED_ENTRY_ID),
        "generation": 1,
        "reporter": "bob",
        "reveal": {
            "body_bytes": body.hex(),
            "opening": opening.hex(),
            "commitment": commitment(body, opening).hex(),
        },
        "json": json.loads(raw),
        "text": raw.decode("utf-8"),
        "bytes": raw.hex(),
        "signature_message": message.hex(),
        "signature": signature.hex(),
        "plaintext": (signature + raw).hex(),
        "moderation_public": key.public_key.hex(),
        "ephemeral_secret": REPORT_EPHEMERAL.hex(),
        "ephemeral_public": x25519_public(REPORT_EPHEMERAL).hex(),
        "shared_key": shared.hex(),
        "nonce": REPORT_NONCE.hex(),
        "associated_data": ad.hex(),
        "associated_data_length": len(ad),
        "sealed": sealed.hex(),
        "case_hash": case_hash(sealed).hex(),
        "request": {
            "case_id": str(REPORT_CASE_ID),
            "entry_id": str(NAMED_ENTRY_ID),
            "generation": 1,
            "ciphertext": b64encode(sealed),
        },
    }
    return vector, sealed


def report_open_cases(
    sealed: bytes, bob: IdentityKeys, alice: IdentityKeys
) -> list[dict[str, Any]]:
    """Reports an admin opens (``open_report``) and checks (``verify_report``) in a context."""
    public = ModerationKey(MODERATION_KEYS[1]).public_key
    good_body = split_report(sealed)[1]
    good = json.loads(good_body)
    ad = report_ad(REPORT_CASE_ID, NAMED_ENTRY_ID, 1)

    def resealed(body: bytes, signed: bytes | None = None) -> bytes:
        """A reporter who seals correctly around a body of their choosing."""
        message = labels.REPORT_SIGNATURE_CONTEXT + (body if signed is None else signed)
        signature = bytes(bob.signing_key.sign(message).signature)
        return seal_report_fixed(signature + body, ad, public)

    specs: list[tuple[str, bytes, dict[str, Any]]] = [
        ("valid: the report", sealed, {}),
        ("opened as another case", sealed, {"case_id": str(OTHER_CASE_ID)}),
        ("opened for another entry", sealed, {"entry_id": str(OTHER_CASE_ID)}),
        ("opened as generation 0", sealed, {"generation": 0}),
        ("opened with generation 0's key", sealed, {"moderation_generation": 0}),
        ("opened in another circle", sealed, {"circle_id": str(OTHER_CIRCLE_ID)}),
        ("ephemeral key with one bit flipped", flip(sealed, 0), {}),
        ("nonce with one bit flipped", flip(sealed, 40), {}),
        ("ciphertext with one bit flipped", flip(sealed, 100), {}),
        ("truncated to 135 bytes", sealed[:135], {}),
        ("checked against alice's key", sealed, {"verify_with": "alice"}),
        (
            "sealed correctly, body names another case",
            resealed(canonical_json({**good, "case": OTHER_CASE_ID.hex})),
            {},
        ),
        ("sealed correctly, body not canonical", resealed(json.dumps(good).encode()), {}),
        ("sealed correctly, version 2", resealed(canonical_json({**good, "v": 2})), {}),
        (
            "sealed correctly, signature over another body",
            resealed(canonical_json({**good, "note": "edited"}), signed=good_body),
            {},
        ),
    ]
    people = {"alice": alice, "bob": bob}
    out = []
    for description, box, changes in specs:
        case: dict[str, Any] = {
            "case": description,
            "sealed": box.hex(),
            "moderation_generation": 1,
            "circle_id": str(CIRCLE_ID),
            "case_id": str(REPORT_CASE_ID),
            "entry_id": str(NAMED_ENTRY_ID),
            "generation": 1,
            "verify_with": "bob",
            **changes,
        }
        error = error_name(lambda c=case: read_report(c, people[c["verify_with"]]))
        assert description.startswith("valid") == (error is None), description
        case |= {"valid": True} if error is None else {"error": error}
        out.append(case)
    return out


def read_report(case: dict[str, Any], reporter: IdentityKeys) -> Report:
    report, signature = open_report(
        bytes.fromhex(case["sealed"]),
        key=ModerationKey(MODERATION_KEYS[case["moderation_generation"]]),
        circle_id=uuid.UUID(case["circle_id"]),
        case_id=uuid.UUID(case["case_id"]),
        entry_id=uuid.UUID(case["entry_id"]),
        generation=case["generation"],
    )
    verify_report(report, signature, reporter.public())
    return report


def split_report(sealed: bytes) -> tuple[bytes, bytes]:
    """(signature, report bytes) of a report sealed to generation 1 for REPORT_CASE_ID."""
    shared = beforenm(MODERATION_KEYS[1], sealed[:32])
    ad = report_ad(REPORT_CASE_ID, NAMED_ENTRY_ID, 1)
    plaintext = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
        sealed[56:], ad, sealed[32:56], shared
    )
    return plaintext[:64], plaintext[64:]


# -- takedown links, receipts, requests and responses -----------------------------------------


def link_cases(link: TakedownLink) -> list[dict[str, Any]]:
    text = str(link)
    fragment = link.fragment()
    parts = fragment.split(".")

    def variant(index: int, value: str) -> str:
        return f"{BASE_URL}/takedown#" + ".".join(
            value if i == index else p for i, p in enumerate(parts)
        )

    accept = {
        "the link as written": text,
        "surrounding spaces and a newline": "  " + text + "\n",
        # Pasted (§1, "Pasted tokens"): whitespace anywhere is dropped, then <angle brackets>.
        "wrapped at 60 columns": "\n".join(text[i : i + 60] for i in range(0, len(text), 60)),
        "in angle brackets, wrapped with CR LF": "<" + text[:70] + "\r\n" + text[70:] + ">",
        "a base with a path": f"https://example.org/bc/takedown#{fragment}",
        "a base with a port, over http": f"http://localhost:8000/takedown#{fragment}",
        "a base ending in a slash (dropped)": f"{BASE_URL}//takedown#{fragment}",
    }
    reject = {
        "empty": "",
        "the fragment alone": fragment,
        "other version": text.replace("bctakedown1", "bctakedown2", 1),
        "three parts": f"{BASE_URL}/takedown#" + ".".join(parts[:3]),
        "five parts": text + ".x",
        "circle id in upper case": variant(1, parts[1].upper()),
        "circle id with dashes": variant(1, str(link.circle_id)),
        "generation with a leading zero": variant(2, "01"),
        "generation of 19 digits": variant(2, "1" * 19),
        "negative generation": variant(2, "-1"),
        "key with = padding": variant(3, parts[3] + "="),
        "key of 31 bytes": variant(3, b64url(link.public_key[:31])),
        "key in the standard base64 alphabet": variant(
            3, parts[3].replace("-", "+").replace("_", "/")
        ),
        "key with a non-zero unused bit": variant(3, non_canonical_tail(parts[3])),
        "receipt path": text.replace("/takedown#", "/receipt#"),
        "ftp scheme": text.replace("https://", "ftp://"),
        "a query in the base": text.replace("/takedown#", "/x?a=b/takedown#"),
        "user info in the base": text.replace("https://", "https://user@"),
        "longer than 600 characters": f"{BASE_URL}/{'a' * 520}/takedown#{fragment}",
    }
    out = []
    for description, candidate in {**accept, **reject}.items():
        try:
            parsed = TakedownLink.parse(candidate)
        except CryptoError as exc:
            assert description in reject, description
            out.append({"case": description, "input": candidate, "error": type(exc).__name__})
        else:
            assert description in accept, description
            assert parsed.fragment() == fragment, description
            out.append(
                {
                    "case": description,
                    "input": candidate,
                    "base_url": parsed.base_url,
                    "canonical": str(parsed),
                }
            )
    return out


def receipt_cases(receipt: Receipt) -> list[dict[str, Any]]:
    text = str(receipt)
    fragment = receipt.fragment()
    parts = fragment.split(".")

    def variant(index: int, value: str) -> str:
        return f"{BASE_URL}/receipt#" + ".".join(
            value if i == index else p for i, p in enumerate(parts)
        )

    accept = {
        "the receipt as written": text,
        "surrounding tab and CR LF": "\t" + text + "\r\n",
        "wrapped at 60 columns": "\n".join(text[i : i + 60] for i in range(0, len(text), 60)),
        "in angle brackets, wrapped with spaces": "<" + text[:80] + "\n    " + text[80:] + ">",
    }
    reject = {
        "the fragment alone": fragment,
        "takedown path": text.replace("/receipt#", "/takedown#"),
        "other version": text.replace("bcreceipt1", "bcreceipt2", 1),
        "case id with dashes": variant(2, str(receipt.case_id)),
        "generation with a leading zero": variant(3, "01"),
        "secret of 31 bytes": variant(5, b64url(receipt.secret[:31])),
        "secret with = padding": variant(5, parts[5] + "="),
        "secret in the standard base64 alphabet": variant(
            5, parts[5].replace("-", "+").replace("_", "/")
        ),
        "secret with a non-zero unused bit": variant(5, non_canonical_tail(parts[5])),
        "moderation key with a non-zero unused bit": variant(4, non_canonical_tail(parts[4])),
        "no secret": ".".join(text.split(".")[:-1]),
    }
    out = []
    for description, candidate in {**accept, **reject}.items():
        try:
            parsed = Receipt.parse(candidate)
        except CryptoError as exc:
            assert description in reject, description
            out.append({"case": description, "input": candidate, "error": type(exc).__name__})
        else:
            assert description in accept and parsed == receipt, description
            out.append({"case": description, "input": candidate, "canonical": str(parsed)})
    return out


def takedown_ad(prefix: bytes, case_id: uuid.UUID, generation: int) -> bytes:
    return prefix + CIRCLE_ID.bytes + case_id.bytes + u64(generation)


def read_takedown(case: dict[str, Any]) -> TakedownRequest:
    return open_takedown(
        bytes.fromhex(case["sealed"]),
        key=ModerationKey(MODERATION_KEYS[case["moderation_generation"]]),
        receipt_public=bytes.fromhex(case["receipt_public"]),
        circle_id=uuid.UUID(case["circle_id"]),
        case_id=uuid.UUID(case["case_id"]),
        generation=case["generation"],
    )


def takedown_vectors() -> dict[str, Any]:
    key = ModerationKey(MODERATION_KEYS[1])
    link = TakedownLink(BASE_URL, CIRCLE_ID, 1, key.public_key)
    receipt = Receipt(BASE_URL, CIRCLE_ID, TAKEDOWN_CASE_ID, 1, key.public_key, RECEIPT_SECRET)
    assert TakedownLink.parse(str(link)) == link and Receipt.parse(str(receipt)) == receipt
    receipt_secret_key = receipt.private_key.encode()
    shared = beforenm(receipt_secret_key, key.public_key)
    assert shared == beforenm(bytes(key), receipt.public_key)

    request = TakedownRequest(CIRCLE_ID, TAKEDOWN_CASE_ID, **TAKEDOWN_FIELDS)
    raw = request.to_bytes()
    request_ad = takedown_ad(labels.TAKEDOWN_AD_PREFIX, TAKEDOWN_CASE_ID, 1)
    sealed = TAKEDOWN_NONCE + aead(shared, raw, request_ad, TAKEDOWN_NONCE)
    opened = open_takedown(
        sealed,
        key=key,
        receipt_public=receipt.public_key,
        circle_id=CIRCLE_ID,
        case_id=TAKEDOWN_CASE_ID,
        generation=1,
    )
    assert opened == request

    response_ad = takedown_ad(labels.TAKEDOWN_RESPONSE_AD_PREFIX, TAKEDOWN_CASE_ID, 1)
    response_plain = RESPONSE_TEXT.encode("utf-8")
    response = RESPONSE_NONCE + aead(shared, response_plain, response_ad, RESPONSE_NONCE)
    assert open_response(response, receipt) == RESPONSE_TEXT

    other_request = TakedownRequest(CIRCLE_ID, OTHER_CASE_ID, **TAKEDOWN_FIELDS).to_bytes()
    specs: list[tuple[str, bytes, dict[str, Any]]] = [
        ("valid: the request", sealed, {}),
        ("opened as another case", sealed, {"case_id": str(OTHER_CASE_ID)}),
        ("opened as generation 0", sealed, {"generation": 0}),
        (
            "opened with another receipt key",
            sealed,
            {"receipt_public": x25519_public(STRAY_MODERATION_KEY).hex()},
        ),
        ("opened with generation 0's key", sealed, {"moderation_generation": 0}),
        ("the response, opened as a request", response, {}),
        ("ciphertext with one bit flipped", flip(sealed, 30), {}),
        ("shorter than a nonce and a tag", sealed[:39], {}),
        (
            "sealed correctly, body names another case",
            TAKEDOWN_NONCE + aead(shared, other_request, request_ad, TAKEDOWN_NONCE),
            {},
        ),
        (
            "sealed correctly, body not canonical",
            TAKEDOWN_NONCE
            + aead(shared, json.dumps(json.loads(raw)).encode(), request_ad, TAKEDOWN_NONCE),
            {},
        ),
    ]
    open_cases = []
    for description, box, changes in specs:
        case: dict[str, Any] = {
            "case": description,
            "sealed": box.hex(),
            "moderation_generation": 1,
            "receipt_public": receipt.public_key.hex(),
            "circle_id": str(CIRCLE_ID),
            "case_id": str(TAKEDOWN_CASE_ID),
            "generation": 1,
            **changes,
        }
        error = error_name(lambda c=case: read_takedown(c))
        assert description.startswith("valid") == (error is None), description
        case |= {"valid": True} if error is None else {"error": error}
        open_cases.append(case)

    other_receipt = Receipt(BASE_URL, CIRCLE_ID, OTHER_CASE_ID, 1, key.public_key, RECEIPT_SECRET)
    response_cases = []
    for description, box, holder in (
        ("valid: the response", response, receipt),
        ("read with the receipt of another case", response, other_receipt),
        ("the request, read as a response", sealed, receipt),
        ("response with one bit flipped", flip(response, 40), receipt),
    ):
        error = error_name(lambda b=box, r=holder: open_response(b, r))
        assert description.startswith("valid") == (error is None), description
        case = {"case": description, "sealed": box.hex(), "receipt": str(holder)}
        case |= {"text": RESPONSE_TEXT} if error is None else {"error": error}
        response_cases.append(case)

    token_hash = receipt_token_hash(receipt.token)
    proof = proof_vectors(case_hash(sealed))
    return {
        "base_url": BASE_URL,
        "link": {
            "circle_id": str(CIRCLE_ID),
            "generation": 1,
            "public_key": key.public_key.hex(),
            "public_key_b64url": b64url(key.public_key),
            "fragment": link.fragment(),
            "text": str(link),
            "parse": link_cases(link),
        },
        "receipt": {
            "case_id": str(TAKEDOWN_CASE_ID),
            "secret": RECEIPT_SECRET.hex(),
            "secret_b64url": b64url(RECEIPT_SECRET),
            "token": receipt.token.hex(),
            "token_hash_input": (labels.RECEIPT_PREFIX.encode() + b"\x00" + receipt.token).hex(),
            "token_hash": token_hash.hex(),
            "receipt_secret_key": receipt_secret_key.hex(),
            "receipt_public_key": receipt.public_key.hex(),
            "text": str(receipt),
            "parse": receipt_cases(receipt),
        },
        "request": {
            "fields": TAKEDOWN_FIELDS,
            "json": json.loads(raw),
            "text": raw.decode("utf-8"),
            "bytes": raw.hex(),
            "shared_key": shared.hex(),
            "nonce": TAKEDOWN_NONCE.hex(),
            "associated_data": request_ad.hex(),
            "sealed": sealed.hex(),
            "case_hash": case_hash(sealed).hex(),
            "http": {
                "circle_id": str(CIRCLE_ID),
                "case_id": str(TAKEDOWN_CASE_ID),
                "generation": 1,
                "moderation_key": b64encode(key.public_key),
                "receipt_key": b64encode(receipt.public_key),
                "receipt_token": b64encode(receipt.token),
                "ciphertext": b64encode(sealed),
                "proof": {
                    "challenge": b64encode(PROOF_CHALLENGE),
                    "nonces": proof["nonces"],
                },
            },
            "open": open_cases,
        },
        "proof": proof,
        "response": {
            "text": RESPONSE_TEXT,
            "plaintext": response_plain.hex(),
            "nonce": RESPONSE_NONCE.hex(),
            "associated_data": response_ad.hex(),
            "sealed": response.hex(),
            "response_hash": blob_hash(response).hex(),
            "open": response_cases,
        },
        "status_request": {
            "case_id": str(TAKEDOWN_CASE_ID),
            "receipt_token": b64encode(receipt.token),
        },
    }


# -- the proof of work on a takedown request ------------------------------------------------

# The server's challenge is opaque to clients; any bytes do for the client's computation.
PROOF_CHALLENGE = pattern(0x5D, 77)
PROOF_WORK = 3


def proof_vectors(sealed_case_hash: bytes) -> dict[str, Any]:
    seed = proof_seed(PROOF_CHALLENGE, TAKEDOWN_CASE_ID, sealed_case_hash)
    nonces = solve_proof(seed, PROOF_WORK)
    digests = {n: proof_hash(seed, n) for n in range(nonces[-1] + 1)}
    threshold = (1 << 64) // PROOF_WORK
    assert [n for n, d in digests.items() if int.from_bytes(d[:8], "big") < threshold] == nonces
    missed = next(n for n in digests if n not in nonces)
    specs: list[tuple[str, int, list[Any]]] = [
        ("valid: the first eight nonces that meet the work", PROOF_WORK, nonces),
        ("valid: at work 1 any eight ascending nonces", 1, list(range(8))),
        ("a nonce that misses the work", PROOF_WORK, sorted([*nonces[:7], missed])),
        ("seven nonces", PROOF_WORK, nonces[:7]),
        ("nine nonces", PROOF_WORK, [*nonces, nonces[-1] + 1]),
        ("not ascending", PROOF_WORK, nonces[::-1]),
        ("a nonce twice", PROOF_WORK, [nonces[0], *nonces[:7]]),
        ("a nonce of 2^32", 1, [*range(7), 2**32]),
        ("a negative nonce", 1, [-1, *range(7)]),
        ("work 0", 0, list(range(8))),
        ("work above the ceiling", MAX_WORK + 1, list(range(8))),
    ]
    cases = []
    for description, work, candidate in specs:
        error = error_name(lambda w=work, c=candidate: verify_proof(seed, w, c))
        assert description.startswith("valid") == (error is None), description
        case: dict[str, Any] = {"case": description, "work": work, "nonces": candidate}
        cases.append(case | ({"valid": True} if error is None else {"error": error}))
    return {
        "solutions": SOLUTIONS,
        "opslimit": PROOF_OPSLIMIT,
        "memlimit": PROOF_MEMLIMIT,
        "salt": labels.PROOF_ARGON2_SALT.hex(),
        "max_work": MAX_WORK,
        "challenge": PROOF_CHALLENGE.hex(),
        "case_id": str(TAKEDOWN_CASE_ID),
        "case_hash": sealed_case_hash.hex(),
        "seed_input": (PROOF_CHALLENGE + TAKEDOWN_CASE_ID.bytes + sealed_case_hash).hex(),
        "seed": seed.hex(),
        "work": PROOF_WORK,
        "threshold": str(threshold),
        "hashes": [{"nonce": n, "hash": d.hex()} for n, d in digests.items()],
        "nonces": nonces,
        "verify": cases,
    }


# -- decisions ------------------------------------------------------------------------------


def note_vector(name: str, case_id: uuid.UUID) -> tuple[dict[str, Any], bytes]:
    ephemeral, nonce, reason = NOTES[name]
    key = ModerationKey(MODERATION_KEYS[1])
    ad = (
        labels.DECISION_NOTE_AD_PREFIX
        + CIRCLE_ID.bytes
        + case_id.bytes
        + u64(1)
        + x25519_public(ephemeral)
        + key.public_key
    )
    shared = beforenm(ephemeral, key.public_key)
    sealed = x25519_public(ephemeral) + nonce + aead(shared, reason.encode("utf-8"), ad, nonce)
    opened = open_decision_note(sealed, key=key, circle_id=CIRCLE_ID, case_id=case_id, generation=1)
    assert opened == reason
    return {
        "reason": reason,
        "generation": 1,
        "ephemeral_secret": ephemeral.hex(),
        "ephemeral_public": x25519_public(ephemeral).hex(),
        "shared_key": shared.hex(),
        "nonce": nonce.hex(),
        "associated_data": ad.hex(),
        "sealed": sealed.hex(),
        "note_hash": blob_hash(sealed).hex(),
    }, sealed


def decision_vector(
    decision: Decision, signer: IdentityKeys, note: dict[str, Any], response: bytes | None
) -> dict[str, Any]:
    raw = decision.to_bytes()
    signature = decision.sign(signer)
    decision.verify_signature(signature, signer.public())
    assert Decision.parse(raw) == decision
    return {
        "case_id": str(decision.case_id),
        "seq": decision.seq,
        "action": decision.action,
        "signer": decision.signer,
        "note": note,
        "json": json.loads(raw),
        "text": raw.decode("utf-8"),
        "bytes": raw.hex(),
        "hash": decision.hash().hex(),
        "hash_b64": b64encode(decision.hash()),
        "signature_message": (labels.DECISION_SIGNATURE_CONTEXT + raw).hex(),
        "signature": signature.hex(),
        "signature_b64": b64encode(signature),
        "request": {
            "decision": raw.decode("utf-8"),
            "signature": b64encode(signature),
            "note": b64encode(bytes.fromhex(note["sealed"])),
            "response": None if response is None else b64encode(response),
        },
    }


def decision_vectors(
    report_sealed: bytes, takedown: dict[str, Any], alice: IdentityKeys, bob: IdentityKeys
) -> list[dict[str, Any]]:
    hide_note, hide_sealed = note_vector("hide", REPORT_CASE_ID)
    restore_note, restore_sealed = note_vector("restore", REPORT_CASE_ID)
    dismiss_note, dismiss_sealed = note_vector("dismiss", TAKEDOWN_CASE_ID)
    response = bytes.fromhex(takedown["response"]["sealed"])
    hide = Decision(
        circle_id=CIRCLE_ID,
        case_id=REPORT_CASE_ID,
        seq=0,
        action="hide",
        entry_id=NAMED_ENTRY_ID,
        case_hash=case_hash(report_sealed),
        generation=1,
        note_hash=blob_hash(hide_sealed),
        response_hash=None,
        prev=None,
        signer="alice",
    )
    restore = Decision(
        circle_id=CIRCLE_ID,
        case_id=REPORT_CASE_ID,
        seq=1,
        action="restore",
        entry_id=NAMED_ENTRY_ID,
        case_hash=case_hash(report_sealed),
        generation=1,
        note_hash=blob_hash(restore_sealed),
        response_hash=None,
        prev=hide.hash(),
        signer="bob",
    )
    dismiss = Decision(
        circle_id=CIRCLE_ID,
        case_id=TAKEDOWN_CASE_ID,
        seq=0,
        action="dismiss",
        entry_id=None,
        case_hash=case_hash(bytes.fromhex(takedown["request"]["sealed"])),
        generation=1,
        note_hash=blob_hash(dismiss_sealed),
        response_hash=blob_hash(response),
        prev=None,
        signer="alice",
    )
    return [
        decision_vector(hide, alice, hide_note, None),
        decision_vector(restore, bob, restore_note, None),
        decision_vector(dismiss, alice, dismiss_note, response),
    ]


def decision_parse_cases(good: str) -> list[dict[str, str]]:
    data = json.loads(good)

    def edited(**changes: Any) -> str:
        return canonical_json({**data, **changes}).decode("utf-8")

    cases = {
        "space after a colon": good.replace(":", ": ", 1),
        "unknown field": edited(extra=1),
        "version 2": edited(v=2),
        "moderation key type": edited(type=labels.MODKEY_TYPE),
        "unknown action": edited(action="delete"),
        "hide without an entry": edited(entry=None),
        "seq 1 without prev": edited(seq=1, prev=None),
        "seq 0 with a prev": edited(prev=b64encode(bytes(32))),
        "negative generation": edited(generation=-1),
        "generation as a string": edited(generation="1"),
        "case_hash of 31 bytes": edited(case_hash=b64encode(bytes(31))),
        "note_hash without padding": edited(note_hash=data["note_hash"].rstrip("=")),
        "response_hash of 33 bytes": edited(response_hash=b64encode(bytes(33))),
        "case id with dashes": edited(case=str(REPORT_CASE_ID)),
        "valid: a dismissal that names the entry": edited(action="dismiss"),
        "valid: a dismissal without an entry": edited(action="dismiss", entry=None),
    }
    out = []
    for description, text in cases.items():
        error = error_name(lambda t=text: Decision.parse(t.encode("utf-8")))
        assert description.startswith("valid") == (error is None), description
        case = {"case": description, "text": text}
        case |= {"canonical": text} if error is None else {"error": str(error)}
        out.append(case)
    return out


# -- the audit log --------------------------------------------------------------------------


def event_body(
    seq: int, kind: str, actor: str, details: dict[str, Any], prev: bytes | None
) -> bytes:
    """As app.circles.events.append writes it, with a fixed time."""
    return canonical_json(
        {
            "v": 1,
            "circle": CIRCLE_ID.hex,
            "seq": seq,
            "kind": kind,
            "actor": actor,
            "subject": None,
            "details": details,
            "at": EVENT_TIMES[seq],
            "prev": None if prev is None else b64encode(prev),
        }
    )


def audit_events(
    r0: KeyRecord,
    gen0: dict[str, Any],
    report: dict[str, Any],
    takedown: dict[str, Any],
    hide: dict[str, Any],
) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, actor, details) of a five-record log, as the server makes them."""
    return [
        (
            "circle_created",
            "alice",
            {"record_seq": 0, "epoch": 0, "record_hash": b64encode(r0.hash())},
        ),
        (
            "moderation_key_rotated",
            "alice",
            {
                "generation": 0,
                "record_hash": gen0["hash_b64"],
                "signature": gen0["signature_b64"],
                "admins": 1,
            },
        ),
        (
            "report_filed",
            "",
            {
                "case_id": REPORT_CASE_ID.hex,
                "entry_id": NAMED_ENTRY_ID.hex,
                "case_hash": b64encode(bytes.fromhex(report["case_hash"])),
            },
        ),
        (
            "takedown_filed",
            "",
            {
                "case_id": TAKEDOWN_CASE_ID.hex,
                "case_hash": b64encode(bytes.fromhex(takedown["request"]["case_hash"])),
            },
        ),
        (
            "case_decided",
            "alice",
            {
                "case_id": REPORT_CASE_ID.hex,
                "action": "hide",
                "entry_id": NAMED_ENTRY_ID.hex,
                "decision": hide["text"],
                "signature": hide["signature_b64"],
            },
        ),
    ]


def head_vector(size: int, root: bytes, key: SigningKey) -> dict[str, Any]:
    head = TreeHead(CIRCLE_ID, size, root, HEAD_TIMES[size])
    raw = head.to_bytes()
    signature = head.sign(key)
    head.verify_signature(signature, bytes(key.verify_key))
    assert TreeHead.parse(raw) == head
    return {
        "size": size,
        "root": root.hex(),
        "json": json.loads(raw),
        "text": raw.decode("utf-8"),
        "bytes": raw.hex(),
        "signature_message": (labels.TREE_HEAD_SIGNATURE_CONTEXT + raw).hex(),
        "signature": signature.hex(),
        "http": {
            "tree_head": raw.decode("utf-8"),
            "signature": b64encode(signature),
            "key_id": 1,
            "public_key": b64encode(bytes(key.verify_key)),
        },
    }


def head_parse_cases(good: str) -> list[dict[str, str]]:
    data = json.loads(good)

    def edited(**changes: Any) -> str:
        return canonical_json({**data, **changes}).decode("utf-8")

    cases = {
        "trailing space": good + " ",
        "version 2": edited(v=2),
        "decision type": edited(type=labels.DECISION_TYPE),
        "negative size": edited(size=-1),
        "size as a string": edited(size=str(data["size"])),
        "root of 31 bytes": edited(root=b64encode(bytes(31))),
        "root without padding": edited(root=data["root"].rstrip("=")),
        "unknown field": edited(key_id=1),
        "missing time": canonical_json({k: v for k, v in data.items() if k != "at"}).decode(),
    }
    out = []
    for description, text in cases.items():
        error = error_name(lambda t=text: TreeHead.parse(t.encode("utf-8")))
        assert error is not None, description
        out.append({"case": description, "text": text, "error": error})
    return out


def audit_vectors(
    events: list[tuple[str, str, dict[str, Any]]],
) -> dict[str, Any]:
    server = [SigningKey(seed) for seed in SERVER_SEEDS]
    records = []
    bodies: list[bytes] = []
    prev: bytes | None = None
    for seq, (kind, actor, details) in enumerate(events):
        body = event_body(seq, kind, actor, details, prev)
        bodies.append(body)
        records.append(
            {
                "seq": seq,
                "kind": kind,
                "body": body.decode("utf-8"),
                "event_hash": event_hash(body).hex(),
                "leaf_hash": merkle.leaf_hash(body).hex(),
                "http": {
                    "seq": seq,
                    "body": body.decode("utf-8"),
                    "hash": b64encode(event_hash(body)),
                    "leaf_hash": b64encode(merkle.leaf_hash(body)),
                },
            }
        )
        prev = event_hash(body)
    tree = merkle.MerkleTree(bodies)
    roots = [{"size": n, "root": tree.root(n).hex()} for n in range(len(bodies) + 1)]
    old, new = head_vector(3, tree.root(3), server[0]), head_vector(5, tree.root(5), server[0])
    proof = tree.consistency_proof(3, 5)
    merkle.verify_consistency(3, 5, tree.root(3), tree.root(5), proof)
    inclusion = tree.inclusion_proof(4, 5)
    merkle.verify_inclusion(tree.leaf_hash(4), 4, 5, inclusion, tree.root(5))

    old_public, new_public = (bytes(k.verify_key) for k in server)
    message = succession_message(old_public, new_public, NOT_BEFORE[1])
    succession = bytes(server[0].sign(message).signature)
    verify_succession(old_public, new_public, NOT_BEFORE[1], succession)
    succession_cases = []
    specs: list[tuple[str, bytes, bytes, str]] = [
        ("valid: key 2 announced by key 1", old_public, new_public, NOT_BEFORE[1]),
        ("another not_before", old_public, new_public, NOT_BEFORE[0]),
        ("the keys swapped", new_public, old_public, NOT_BEFORE[1]),
        ("checked under key 2", new_public, new_public, NOT_BEFORE[1]),
        ("a non-ASCII not_before", old_public, new_public, "2025-09-01T00:00:00\uff3a"),
        ("a new key of 33 bytes", old_public, new_public + b"2", NOT_BEFORE[1][1:]),
    ]
    for description, old_key, new_key, when in specs:
        error = error_name(
            lambda o=old_key, n=new_key, w=when: verify_succession(o, n, w, succession)
        )
        assert description.startswith("valid") == (error is None), description
        case: dict[str, Any] = {
            "case": description,
            "old_public": old_key.hex(),
            "new_public": new_key.hex(),
            "not_before": when,
        }
        case |= {"valid": True} if error is None else {"error": error}
        succession_cases.append(case)

    head_signature_cases = []
    for description, head, key in (
        ("valid: head of size 5 under key 1", new, old_public),
        ("head of size 5 under key 2", new, new_public),
        (
            "head of size 3 with the signature of size 5",
            {**old, "signature": new["signature"]},
            old_public,
        ),
    ):
        parsed = TreeHead.parse(head["text"].encode())
        error = error_name(
            lambda p=parsed, s=head["signature"], k=key: p.verify_signature(bytes.fromhex(s), k)
        )
        assert description.startswith("valid") == (error is None), description
        case = {
            "case": description,
            "text": head["text"],
            "signature": head["signature"],
            "public_key": key.hex(),
        }
        case |= {"valid": True} if error is None else {"error": error}
        head_signature_cases.append(case)

    return {
        "records": records,
        "roots": roots,
        "server_keys": [
            {
                "key_id": index + 1,
                "seed": seed.hex(),
                "public_key": bytes(key.verify_key).hex(),
                "not_before": NOT_BEFORE[index],
            }
            for index, (seed, key) in enumerate(zip(SERVER_SEEDS, server, strict=True))
        ],
        "heads": [old, new],
        "head_parse": head_parse_cases(new["text"]),
        "head_signatures": head_signature_cases,
        "consistency": {
            "first": 3,
            "second": 5,
            "proof": [p.hex() for p in proof],
            "http": {"first": 3, "second": 5, "proof": [b64encode(p) for p in proof]},
        },
        "inclusion": {
            "index": 4,
            "size": 5,
            "leaf_hash": tree.leaf_hash(4).hex(),
            "proof": [p.hex() for p in inclusion],
        },
        "succession": {
            "old_public": old_public.hex(),
            "new_public": new_public.hex(),
            "not_before": NOT_BEFORE[1],
            "message": message.hex(),
            "signature": succession.hex(),
            "cases": succession_cases,
            "http": {
                "keys": [
                    {
                        "key_id": 1,
                        "public_key": b64encode(old_public),
                        "not_before": NOT_BEFORE[0],
                        "succession_signature": None,
                    },
                    {
                        "key_id": 2,
                        "public_key": b64encode(new_public),
                        "not_before": NOT_BEFORE[1],
                        "succession_signature": b64encode(succession),
                    },
                ]
            },
        },
    }


# -- the file -------------------------------------------------------------------------------

LABEL_NAMES = (
    "PERSON_MODKEY_HASH",
    "PERSON_MODKEY_BOX",
    "PERSON_CASE_HASH",
    "PERSON_MOD_BLOB",
    "PERSON_DECISION_HASH",
    "PERSON_RECEIPT_TOKEN",
    "PERSON_RECEIPT_KEY",
    "MODKEY_TYPE",
    "MODKEY_SIGNATURE_CONTEXT",
    "MODKEY_WRAP_PREFIX",
    "MODKEY_PREV_AD_PREFIX",
    "REPORT_AD_PREFIX",
    "REPORT_SIGNATURE_CONTEXT",
    "TAKEDOWN_AD_PREFIX",
    "TAKEDOWN_RESPONSE_AD_PREFIX",
    "DECISION_NOTE_AD_PREFIX",
    "DECISION_TYPE",
    "DECISION_SIGNATURE_CONTEXT",
    "TAKEDOWN_LINK_PREFIX",
    "RECEIPT_PREFIX",
    "PERSON_PROOF_SEED",
    "PROOF_ARGON2_SALT",
    "PERSON_PROOF_CHALLENGE",
    "TREE_HEAD_TYPE",
    "TREE_HEAD_SIGNATURE_CONTEXT",
    "SIGNING_KEY_SUCCESSION_CONTEXT",
    "PERSON_SIGNING_SEAL",
    "SIGNING_SEED_AD_PREFIX",
)


def build_vectors() -> dict[str, Any]:
    alice, bob = identity("alice"), identity("bob")
    records = key_records()
    gen0, gen1 = moderation_records(records)
    keys = [moderation_key_vector(gen0, alice), moderation_key_vector(gen1, alice)]
    wraps = [wrap_vector(0, "alice"), wrap_vector(1, "alice"), wrap_vector(1, "bob")]
    previous_box = previous_box_vector()
    report, report_sealed = report_vectors(bob)
    takedown = takedown_vectors()
    decisions = decision_vectors(report_sealed, takedown, alice, bob)
    events = audit_events(records[0], keys[0], report, takedown, decisions[0])
    return {
        "protocol": "backchannel",
        "layer": "moderation",
        "version": 1,
        "generator": (
            "python -m tests.crypto.make_moderation_vectors (app.crypto, libsodium via PyNaCl)"
        ),
        "encoding": (
            "Byte strings are lowercase hex, except fields whose name ends in _b64 and the "
            "bodies of HTTP requests and responses (RFC 4648 section 4 base64 with padding, "
            "as sent over HTTP) and fields ending in _b64url (RFC 4648 section 5, no padding). "
            "Record, report, decision, event and tree-head texts are JSON strings holding the "
            "exact canonical JSON; this file writes non-ASCII characters as \\u escapes, the "
            "canonical bytes (the bytes fields) are UTF-8."
        ),
        "labels": {
            name: (value.hex() if isinstance(value, bytes) else value)
            for name in LABEL_NAMES
            for value in (getattr(labels, name),)
        },
        "constants": {
            "nonce_bytes": NONCE_BYTES,
            "reasons": list(REASONS),
            "actions": list(ACTIONS),
            "max_note": MAX_NOTE,
            "max_name": MAX_NAME,
            "max_contact": MAX_CONTACT,
            "max_sealed": MAX_SEALED,
            "max_request_bytes": MAX_REQUEST_BYTES,
            "max_response": MAX_RESPONSE,
            "max_reason": MAX_REASON,
        },
        "circle": {
            "circle_id": str(CIRCLE_ID),
            "key_records": [
                {
                    "seq": seq,
                    "text": records[seq].to_bytes().decode(),
                    "hash": records[seq].hash().hex(),
                }
                for seq in (0, 1, 3)
            ],
        },
        "moderation_keys": keys,
        "record_parse": record_parse_cases(keys[1]["text"]),
        "successor": successor_cases(gen0, gen1),
        "matches": [
            {
                "generation": generation.generation,
                "key_record_seq": seq,
                "matches": generation.matches(records[seq]),
            }
            for generation in (gen0, gen1)
            for seq in (1, 3)
        ],
        "wraps": wraps,
        "wrap_open": wrap_open_cases(),
        "previous_box": previous_box,
        "key_requests": [
            {
                "generation": 0,
                "record": keys[0]["text"],
                "signature": keys[0]["signature_b64"],
                "wraps": [{"username": "alice", "wrap": wraps[0]["sealed_b64"]}],
                "prev_key_box": None,
            },
            {
                "generation": 1,
                "record": keys[1]["text"],
                "signature": keys[1]["signature_b64"],
                "wraps": [
                    {"username": "alice", "wrap": wraps[1]["sealed_b64"]},
                    {"username": "bob", "wrap": wraps[2]["sealed_b64"]},
                ],
                "prev_key_box": previous_box["box_b64"],
            },
        ],
        "report": report,
        "report_open": report_open_cases(report_sealed, bob, alice),
        "takedown": takedown,
        "decisions": decisions,
        "decision_parse": decision_parse_cases(decisions[0]["text"]),
        "audit": audit_vectors(events),
    }


def main() -> None:
    json.dump(build_vectors(), sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
