"""Generate docs/vectors/circles-v1.json, the test vectors of the circles layer (version 1).

    .venv/bin/python -m tests.crypto.make_circle_vectors > docs/vectors/circles-v1.json

Every input is fixed, so the output is the same on every run. The identities are
RFC test keys: alice is the identity of docs/vectors/v1.json (RFC 7748 §6.1
"Alice", RFC 8032 §7.1 TEST 1), bob is RFC 7748 §6.1 "Bob" with RFC 8032 TEST 2,
and mallory (who is never in the circle) is RFC 8032 TEST 3 with a fixed
X25519 key.

Record 3 (alice makes bob an admin) exists for the chain cases that need an admin
who is not an owner; the invite names record 0, the newest record alice had verified
when she invited bob; bob's leave statement is made at record 3.

Three things are randomised in real use and are fixed here by building them with
PyNaCl directly, never through app.crypto (whose API rightly refuses a nonce):

* sealed boxes (``crypto_box_seal``) use a fresh ephemeral key pair: ``seal_fixed``
  rebuilds libsodium's construction with a fixed ephemeral secret;
* the previous-key box and the metadata box use a random 24-byte nonce;
* an event's ``at`` is the server's clock.
"""

import base64
import json
import sys
import uuid
from typing import Any

import nacl.bindings
import nacl.secret
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey

from app.circles.events import event_hash
from app.crypto import CryptoError, IdentityKeys, b64encode, labels
from app.crypto.circles import (
    CircleKey,
    Invite,
    KeyRecord,
    RecordMember,
    canonical_json,
    leave_statement,
    sign_leave,
    verify_leave,
    verify_record,
)
from app.crypto.identity import PublicIdentity

CIRCLE_ID = uuid.UUID("8a3f0c6e-5b1d-4f2a-9c7e-1d2b3a4c5d6e")
INVITE_ID = uuid.UUID("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")
OTHER_CIRCLE_ID = uuid.UUID("11111111-2222-4333-8444-555555555555")

EPOCH_KEYS = [bytes(range(0x10, 0x30)), bytes(range(0x30, 0x50))]
STRAY_KEY = bytes(range(0x50, 0x70))  # a key no record names
INVITE_SECRET = bytes(range(0xE0, 0x100))  # its base64url has "-" and "_"

PREV_KEY_NONCE = bytes(range(0x70, 0x88))
META_NONCE = bytes(range(0x88, 0xA0))
SEAL_EPHEMERAL_SECRETS = {
    (0, "alice"): bytes(range(0xA0, 0xC0)),
    (0, "bob"): bytes(range(0xC0, 0xE0)),
    (1, "alice"): bytes(range(0x21, 0x41)),
    (1, "bob"): bytes(range(0x41, 0x61)),
}

# (x25519 secret, ed25519 seed, expected x25519 public, expected ed25519 public)
IDENTITIES = {
    "alice": (
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    ),
    "bob": (
        "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    ),
    "mallory": (
        bytes(range(0x01, 0x21)).hex(),
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        None,
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    ),
}

# Non-ASCII on purpose: canonical JSON keeps UTF-8 as is (ensure_ascii=False).
META = {"name": "Filmcrews M\u00fcnchen", "description": "Call sheets \u2013 not for the press"}
EVENT_TIMES = ["2025-03-01T09:30:00.000000Z", "2025-03-01T09:31:15.250000Z"]
ERROR_CLASSES = (
    "InvalidKey",
    "RecordChainBroken",
    "UntrustedSigner",
    "WrongEpoch",
    "BadSignature",
    "DecryptionFailed",
)


def identity(name: str) -> IdentityKeys:
    x_secret, ed_seed, x_public, ed_public = IDENTITIES[name]
    keys = IdentityKeys(bytes.fromhex(x_secret), bytes.fromhex(ed_seed))
    public = keys.public()
    assert x_public is None or public.x25519_public.hex() == x_public
    assert public.ed25519_public.hex() == ed_public
    return keys


def epoch_context(circle_id: uuid.UUID, epoch: int) -> bytes:
    return circle_id.bytes + epoch.to_bytes(8, "big")


def seal_fixed(plaintext: bytes, recipient: bytes, ephemeral_secret: bytes) -> bytes:
    """libsodium ``crypto_box_seal`` with a chosen ephemeral key: for vectors only.

    epk || crypto_box(m, nonce = BLAKE2b-192(epk || recipient), recipient, esk)
    """
    ephemeral = PrivateKey(ephemeral_secret)
    epk = bytes(ephemeral.public_key)
    nonce = blake2b(epk + recipient, digest_size=24, encoder=RawEncoder)
    boxed = nacl.bindings.crypto_box(plaintext, nonce, recipient, ephemeral_secret)
    return epk + bytes(boxed)


def aead_fixed(key: bytes, plaintext: bytes, ad: bytes, nonce: bytes) -> bytes:
    """nonce || XChaCha20-Poly1305-IETF(key, nonce, plaintext, ad): for vectors only."""
    return bytes(nacl.secret.Aead(key).encrypt(plaintext, ad, nonce, encoder=RawEncoder))


def public_json(public: PublicIdentity) -> dict[str, str]:
    return {
        "x25519_public": b64encode(public.x25519_public),
        "ed25519_public": b64encode(public.ed25519_public),
        "x25519_signature": b64encode(public.x25519_signature),
    }


def key_vector(epoch: int, raw: bytes) -> dict[str, Any]:
    key = CircleKey(raw)
    return {
        "epoch": epoch,
        "key": raw.hex(),
        "key_id": key.key_id.hex(),
        "key_id_b64": b64encode(key.key_id),
        "entry_key": key.entry_key.hex(),
        "meta_key": key.meta_key.hex(),
    }


def record_vector(
    record: KeyRecord, signer: IdentityKeys, previous: KeyRecord | None
) -> dict[str, Any]:
    raw = record.to_bytes()
    signature = record.sign(signer)
    verify_record(previous, record, signature, signer.public())
    return {
        "seq": record.seq,
        "epoch": record.epoch,
        "signer": record.signer,
        "json": json.loads(raw),  # key order as in the canonical bytes
        "text": raw.decode("utf-8"),
        "bytes": raw.hex(),
        "hash": record.hash().hex(),
        "hash_b64": b64encode(record.hash()),
        "signature_message": (labels.KEY_RECORD_SIGNATURE_CONTEXT + raw).hex(),
        "signature": signature.hex(),
        "signature_b64": b64encode(signature),
    }


def error_name(action: Any) -> str:
    try:
        action()
    except CryptoError as exc:
        name = type(exc).__name__
        assert name in ERROR_CLASSES, name
        return name
    raise AssertionError("expected a CryptoError")


def parse_cases(good: str) -> list[dict[str, str]]:
    """Texts KeyRecord.parse must refuse, each a small edit of a valid record."""
    data = json.loads(good)

    def dumps(value: Any) -> str:
        return canonical_json(value).decode("utf-8")

    def edited(**changes: Any) -> str:
        return dumps({**data, **changes})

    member = data["members"][0]
    owner_only = [{**member, "role": "owner"}]
    cases = {
        "space after a comma": good.replace(",", ", ", 1),
        "trailing newline": good + "\n",
        "keys not sorted": json.dumps(
            dict(reversed(list(data.items()))),
            separators=(",", ":"),
            ensure_ascii=False,
        ),
        "a letter written as a \\u escape": good.replace('"alice"', '"\\u0061lice"', 1),
        "unknown field": edited(extra=1),
        "missing field": dumps({k: v for k, v in data.items() if k != "signer"}),
        "version 2": edited(v=2),
        "other type": edited(type="backchannel.key-recrod"),
        "seq as a string": edited(seq=str(data["seq"])),
        "seq as a float": good.replace(f'"seq":{data["seq"]}', f'"seq":{data["seq"]}.0'),
        "negative epoch": edited(epoch=-1),
        "circle with dashes": edited(circle=str(uuid.UUID(hex=data["circle"]))),
        "circle in upper case": edited(circle=data["circle"].upper()),
        "key_id of 15 bytes": edited(key_id=b64encode(bytes(15))),
        "key_id without padding": edited(key_id=data["key_id"].rstrip("=")),
        "prev of 31 bytes": edited(prev=b64encode(bytes(31))),
        "members not sorted": edited(members=list(reversed(data["members"]))),
        "duplicate member": edited(members=[data["members"][0], data["members"][0]]),
        "no members": edited(members=[]),
        "unknown role": edited(members=[{**m, "role": "moderator"} for m in data["members"]]),
        "no owner": edited(members=[{**m, "role": "admin"} for m in data["members"]]),
        "fingerprint without spaces": edited(
            members=[{**member, "fp": member["fp"].replace(" ", "")}, *data["members"][1:]]
        ),
        "member with an extra field": edited(members=[{**member, "x": 1}, *data["members"][1:]]),
        "valid: the same record with only its owner": edited(members=owner_only),
    }
    out = []
    for description, text in cases.items():
        try:
            KeyRecord.parse(text.encode("utf-8"))
        except CryptoError as exc:
            out.append({"case": description, "text": text, "error": type(exc).__name__})
        else:
            out.append({"case": description, "text": text, "canonical": text})
    return out


def _next(previous: KeyRecord, signer: str) -> KeyRecord:
    """The no-op successor of ``previous`` (same epoch, key and members) signed by ``signer``."""
    return KeyRecord(
        previous.circle_id,
        previous.seq + 1,
        previous.epoch,
        previous.key_id,
        previous.members,
        previous.hash(),
        signer,
    )


def _roles(record: KeyRecord, **roles: str) -> tuple[RecordMember, ...]:
    return tuple(RecordMember(m.user, m.fp, roles.get(m.user, m.role)) for m in record.members)


def chain_cases(
    r1: KeyRecord,
    r3: KeyRecord,
    alice: IdentityKeys,
    bob: IdentityKeys,
    mallory: IdentityKeys,
    stray_key_id: bytes,
) -> list[dict[str, Any]]:
    """Candidate successors of record 1 (alice owner, bob member) and of record 3 (alice
    owner, bob admin): each breaks one rule, in the rule order, or is valid."""
    base = _next(r1, "alice")
    mallory_fp = mallory.public().fingerprint()
    alice_only = tuple(m for m in r1.members if m.user == "alice")
    cases: list[tuple[KeyRecord, str, KeyRecord, IdentityKeys, IdentityKeys | None]] = [
        (r1, "valid: same epoch, same members (a no-op record)", base, alice, None),
        (r1, "other circle", _with(base, circle_id=OTHER_CIRCLE_ID), alice, None),
        (r1, "seq skips one", _with(base, seq=r1.seq + 2), alice, None),
        (r1, "seq repeats", _with(base, seq=r1.seq), alice, None),
        (r1, "prev is null", _with(base, prev=None), alice, None),
        (r1, "prev is another hash", _with(base, prev=bytes(32)), alice, None),
        (r1, "key changed without a new epoch", _with(base, key_id=stray_key_id), alice, None),
        (r1, "new epoch with the same key", _with(base, epoch=r1.epoch + 1), alice, None),
        (
            r1,
            "epoch jumps by two",
            _with(base, epoch=r1.epoch + 2, key_id=stray_key_id),
            alice,
            None,
        ),
        (r1, "signer was a plain member", _with(base, signer="bob"), bob, None),
        (r1, "signer not in the previous record", _with(base, signer="mallory"), mallory, None),
        (r1, "a member dropped without a new epoch", _with(base, members=alice_only), alice, None),
        (
            r1,
            "valid: a member dropped in a new epoch (a removal)",
            _with(base, epoch=r1.epoch + 1, key_id=stray_key_id, members=alice_only),
            alice,
            None,
        ),
        (
            r1,
            "a member's fingerprint changed",
            _with(
                base,
                members=tuple(
                    RecordMember(m.user, mallory_fp if m.user == "bob" else m.fp, m.role)
                    for m in base.members
                ),
            ),
            alice,
            None,
        ),
        (
            r1,
            "valid: the owner makes a member an owner",
            _with(base, members=_roles(r1, bob="owner")),
            alice,
            None,
        ),
        (r1, "signer's identity is not the listed key", base, mallory, mallory),
        (r1, "signature by another key over the right identity", base, mallory, alice),
    ]
    base3 = _next(r3, "bob")
    with_mallory = tuple(sorted((*r3.members, RecordMember("mallory", mallory_fp, "member"))))
    cases += [
        (
            r3,
            "valid: an admin adds a member",
            _with(base3, members=with_mallory),
            bob,
            None,
        ),
        (
            r3,
            "valid: an admin makes himself a plain member",
            _with(base3, members=_roles(r3, bob="member")),
            bob,
            None,
        ),
        (
            r3,
            "an admin makes himself an owner",
            _with(base3, members=_roles(r3, bob="owner")),
            bob,
            None,
        ),
        (
            r3,
            "an admin adds a new owner",
            _with(
                base3,
                members=tuple(sorted((*r3.members, RecordMember("mallory", mallory_fp, "owner")))),
            ),
            bob,
            None,
        ),
    ]
    out = []
    for previous, description, record, signing, claimed in cases:
        identity_shown = (claimed or signing).public()
        signature = record.sign(signing)
        case: dict[str, Any] = {
            "case": description,
            "follows_seq": previous.seq,
            "record": record.to_bytes().decode("utf-8"),
            "signature_b64": b64encode(signature),
            "signer_identity": public_json(identity_shown),
        }
        try:
            verify_record(previous, record, signature, identity_shown)
        except CryptoError as exc:
            case["error"] = type(exc).__name__
        else:
            case["valid"] = True
        assert description.startswith("valid") == ("valid" in case), description
        out.append(case)
    return out


def _with(record: KeyRecord, **changes: Any) -> KeyRecord:
    fields = {
        "circle_id": record.circle_id,
        "seq": record.seq,
        "epoch": record.epoch,
        "key_id": record.key_id,
        "members": record.members,
        "prev": record.prev,
        "signer": record.signer,
        **changes,
    }
    return KeyRecord(**fields)


def wrap_vector(
    key: CircleKey, epoch: int, user: str, keys: IdentityKeys, ephemeral: bytes
) -> dict[str, Any]:
    recipient = keys.public().x25519_public
    plaintext = labels.WRAP_PREFIX + epoch_context(CIRCLE_ID, epoch) + bytes(key)
    sealed = seal_fixed(plaintext, recipient, ephemeral)
    return {
        "epoch": epoch,
        "recipient": user,
        "recipient_x25519_public": recipient.hex(),
        "plaintext": plaintext.hex(),
        "ephemeral_secret": ephemeral.hex(),
        "ephemeral_public": sealed[:32].hex(),
        "nonce": blake2b(sealed[:32] + recipient, digest_size=24, encoder=RawEncoder).hex(),
        "sealed": sealed.hex(),
        "sealed_b64": b64encode(sealed),
    }


B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def non_canonical_tail(text: str) -> str:
    """The same 32 bytes with a non-zero unused bit in the last base64url character."""
    last = B64URL_ALPHABET.index(text[-1])
    assert last & 0b11 == 0, "a canonical 43-character encoding leaves the low 2 bits zero"
    edited = text[:-1] + B64URL_ALPHABET[last | 1]
    assert base64.urlsafe_b64decode(edited + "=") == base64.urlsafe_b64decode(text + "=")
    return edited


def invite_vectors(alice_fp: str, anchor: KeyRecord) -> dict[str, Any]:
    invite = Invite(CIRCLE_ID, INVITE_ID, INVITE_SECRET, alice_fp, anchor.hash())
    text = str(invite)
    parts = text.split(".")
    assert len(parts) == 6

    def variant(index: int, value: str) -> str:
        return ".".join(value if i == index else p for i, p in enumerate(parts))

    accept = {
        "the canonical string": text,
        "surrounding spaces and a newline": "  " + text + "\n",
        "surrounding tab and CR LF": "\t" + text + "\r\n",
        # Pasted (§1, "Pasted tokens"): whitespace anywhere is dropped, then <angle brackets>.
        "a space inside": text.replace(".", " .", 1),
        "fingerprint with spaces": variant(4, alice_fp),
        "wrapped at 60 columns": "\n".join(text[i : i + 60] for i in range(0, len(text), 60)),
        "in angle brackets": f"<{text}>",
        "the web's link": f"https://backchannel.example/join#{text}",
        "the web's link, wrapped, in angle brackets": "<https://backchannel.example/join#"
        + text[:50]
        + "\r\n  "
        + text[50:]
        + ">",
    }
    reject = {
        "empty": "",
        "other version": text.replace("bcinvite1", "bcinvite2", 1),
        "prefix in upper case": text.replace("bcinvite1", "BCINVITE1", 1),
        "five parts (no record hash)": ".".join(parts[:5]),
        "seven parts": text + ".x",
        "trailing dot": text + ".",
        "circle id of 31 hex digits": variant(1, parts[1][:-1]),
        "circle id in upper case": variant(1, parts[1].upper()),
        "circle id with dashes": variant(1, str(CIRCLE_ID)),
        "invite id not hex": variant(2, "not-a-uuid"),
        "secret of 31 bytes": variant(3, b64url(INVITE_SECRET[:31])),
        "secret of 35 bytes": variant(3, parts[3] + "AAAA"),
        "secret with = padding": variant(3, parts[3] + "="),
        "secret in the standard base64 alphabet": variant(
            3, parts[3].replace("-", "+").replace("_", "/")
        ),
        "secret with a non-zero unused bit": variant(3, non_canonical_tail(parts[3])),
        "fingerprint of 29 digits": variant(4, parts[4][:-1]),
        "fingerprint of 31 digits": variant(4, parts[4] + "0"),
        "fingerprint with a letter": variant(4, parts[4][:5] + "x" + parts[4][6:]),
        "record hash empty": variant(5, ""),
        "record hash of 31 bytes": variant(5, b64url(anchor.hash()[:31])),
        "record hash of 33 bytes": variant(5, b64url(anchor.hash() + b"\x00")),
        "record hash with = padding": variant(5, parts[5] + "="),
        "record hash with a non-zero unused bit": variant(5, non_canonical_tail(parts[5])),
        "a letter inside the fingerprint": variant(4, parts[4][:10] + "o" + parts[4][11:]),
        "only one angle bracket": f"<{text}",
        "too long": text + "A" * 200,
    }
    cases = []
    for description, candidate in {**accept, **reject}.items():
        try:
            parsed = Invite.parse(candidate)
        except CryptoError as exc:
            assert description in reject, description
            cases.append({"case": description, "input": candidate, "error": type(exc).__name__})
        else:
            assert description in accept and parsed == invite, description
            cases.append({"case": description, "input": candidate, "canonical": str(parsed)})
    return {
        "circle_id": str(CIRCLE_ID),
        "invite_id": str(INVITE_ID),
        "secret": INVITE_SECRET.hex(),
        "secret_b64url": parts[3],
        "inviter_fingerprint": alice_fp,
        "record_seq": anchor.seq,
        "record_hash": anchor.hash().hex(),
        "record_hash_b64url": parts[5],
        "text": text,
        "secret_hash": invite.secret_hash.hex(),
        "create_request": {
            "invite_id": str(INVITE_ID),
            "secret_hash": b64encode(invite.secret_hash),
            "role": "member",
            "max_uses": 1,
            "expires_in_days": 7,
        },
        "redeem_request": {
            "circle_id": str(CIRCLE_ID),
            "invite_id": str(INVITE_ID),
            "secret": b64encode(INVITE_SECRET),
        },
        "parse": cases,
    }


def leave_vectors(
    alice: IdentityKeys, bob: IdentityKeys, mallory: IdentityKeys, record_seq: int
) -> dict[str, Any]:
    """bob's signed departure at ``record_seq``, and statements verify_leave must refuse."""
    statement = leave_statement(circle_id=CIRCLE_ID, user="bob", record_seq=record_seq)
    signature = sign_leave(bob, statement)
    message = labels.LEAVE_SIGNATURE_CONTEXT + statement
    data = json.loads(statement)
    text = statement.decode("utf-8")

    def dumps(value: Any) -> str:
        return canonical_json(value).decode("utf-8")

    def edited(**changes: Any) -> str:
        return dumps({**data, **changes})

    def signed(raw: bytes, keys: IdentityKeys = bob, context: bytes | None = None) -> bytes:
        if context is None:
            return sign_leave(keys, raw)
        return bytes(keys.signing_key.sign(context + raw).signature)

    earlier = leave_statement(circle_id=CIRCLE_ID, user="bob", record_seq=1)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    # (description, statement, signature, verified for circle, for user, with whose identity)
    specs: list[tuple[str, str, bytes, uuid.UUID, str, str]] = [
        ("valid: bob's departure", text, signature, CIRCLE_ID, "bob", "bob"),
        (
            "valid: a departure made at an earlier record (the caller compares the seq)",
            earlier.decode(),
            signed(earlier),
            CIRCLE_ID,
            "bob",
            "bob",
        ),
        ("checked for another circle", text, signature, OTHER_CIRCLE_ID, "bob", "bob"),
        ("checked for another member", text, signature, CIRCLE_ID, "alice", "alice"),
        ("names another circle", edited(circle=OTHER_CIRCLE_ID.hex), b"", CIRCLE_ID, "bob", "bob"),
        ("names another member", edited(user="alice"), b"", CIRCLE_ID, "bob", "bob"),
        (
            "seq changed after signing",
            edited(record_seq=record_seq - 1),
            signature,
            CIRCLE_ID,
            "bob",
            "bob",
        ),
        ("signed by mallory", text, signed(statement, mallory), CIRCLE_ID, "bob", "bob"),
        (
            "signature without the context label",
            text,
            signed(statement, context=b""),
            CIRCLE_ID,
            "bob",
            "bob",
        ),
        (
            "signature under the key-record context",
            text,
            signed(statement, context=labels.KEY_RECORD_SIGNATURE_CONTEXT),
            CIRCLE_ID,
            "bob",
            "bob",
        ),
        ("signature with one bit flipped", text, flipped, CIRCLE_ID, "bob", "bob"),
        ("signature of 63 bytes", text, signature[:63], CIRCLE_ID, "bob", "bob"),
        ("space after a comma", text.replace(",", ", ", 1), b"", CIRCLE_ID, "bob", "bob"),
        ("trailing newline", text + "\n", b"", CIRCLE_ID, "bob", "bob"),
        (
            "keys not sorted",
            json.dumps(dict(reversed(list(data.items()))), separators=(",", ":")),
            b"",
            CIRCLE_ID,
            "bob",
            "bob",
        ),
        (
            "a letter written as a \\u escape",
            text.replace('"bob"', '"\\u0062ob"', 1),
            b"",
            CIRCLE_ID,
            "bob",
            "bob",
        ),
        (
            "record_seq as a string",
            edited(record_seq=str(record_seq)),
            b"",
            CIRCLE_ID,
            "bob",
            "bob",
        ),
        (
            "record_seq as a float",
            text.replace(f'"record_seq":{record_seq}', f'"record_seq":{record_seq}.0'),
            b"",
            CIRCLE_ID,
            "bob",
            "bob",
        ),
        ("version 2", edited(v=2), b"", CIRCLE_ID, "bob", "bob"),
        ("other type", edited(type=labels.KEY_RECORD_TYPE), b"", CIRCLE_ID, "bob", "bob"),
        ("circle with dashes", edited(circle=str(CIRCLE_ID)), b"", CIRCLE_ID, "bob", "bob"),
        ("unknown field", edited(reason="moving"), b"", CIRCLE_ID, "bob", "bob"),
        (
            "missing field",
            dumps({k: v for k, v in data.items() if k != "type"}),
            b"",
            CIRCLE_ID,
            "bob",
            "bob",
        ),
        (
            "no record_seq",
            dumps({k: v for k, v in data.items() if k != "record_seq"}),
            b"",
            CIRCLE_ID,
            "bob",
            "bob",
        ),
        ("a JSON array", "[]", b"", CIRCLE_ID, "bob", "bob"),
        ("not JSON", "bob left", b"", CIRCLE_ID, "bob", "bob"),
    ]
    people = {"alice": alice, "bob": bob, "mallory": mallory}
    cases = []
    for description, candidate, sig, circle_id, user, signer in specs:
        raw = candidate.encode("utf-8")
        sig = sig or signed(raw)  # b"": bob's valid signature over exactly these bytes
        case: dict[str, Any] = {
            "case": description,
            "statement": candidate,
            "signature_b64": b64encode(sig),
            "circle_id": str(circle_id),
            "user": user,
            "signer": signer,
        }
        try:
            seq = verify_leave(
                raw, sig, circle_id=circle_id, user=user, signer=people[signer].public()
            )
        except CryptoError as exc:
            case["error"] = type(exc).__name__
        else:
            case["record_seq"] = seq
        assert description.startswith("valid") == ("record_seq" in case), description
        cases.append(case)
    return {
        "circle_id": str(CIRCLE_ID),
        "user": "bob",
        "record_seq": record_seq,
        "json": data,
        "statement": text,
        "bytes": statement.hex(),
        "signature_message": message.hex(),
        "signature": signature.hex(),
        "signature_b64": b64encode(signature),
        "cases": cases,
    }


def event_vectors(r0: KeyRecord) -> list[dict[str, Any]]:
    """The first two events of the circle, built as app.circles.events.append builds them."""
    created = {"record_seq": 0, "epoch": 0, "record_hash": b64encode(r0.hash())}
    specs = [
        ("circle_created", "alice", None, created),
        (
            "invite_created",
            "alice",
            None,
            {"invite_id": INVITE_ID.hex, "role": "member", "max_uses": 1},
        ),
    ]
    out = []
    prev: bytes | None = None
    for seq, ((kind, actor, subject, details), at) in enumerate(
        zip(specs, EVENT_TIMES, strict=True)
    ):
        fields = {
            "v": 1,
            "circle": CIRCLE_ID.hex,
            "seq": seq,
            "kind": kind,
            "actor": actor,
            "subject": subject,
            "details": details,
            "at": at,
            "prev": None if prev is None else b64encode(prev),
        }
        body = canonical_json(fields)
        digest = event_hash(body)
        out.append(
            {
                "fields": fields,
                "body": body.decode("utf-8"),
                "hash": digest.hex(),
                "hash_b64": b64encode(digest),
            }
        )
        prev = digest
    return out


def build_vectors() -> dict[str, Any]:
    alice, bob, mallory = identity("alice"), identity("bob"), identity("mallory")
    alice_fp, bob_fp = alice.public().fingerprint(), bob.public().fingerprint()
    key0, key1 = CircleKey(EPOCH_KEYS[0]), CircleKey(EPOCH_KEYS[1])
    stray = CircleKey(STRAY_KEY)

    r0 = KeyRecord(
        CIRCLE_ID, 0, 0, key0.key_id, (RecordMember("alice", alice_fp, "owner"),), None, "alice"
    )
    two = (RecordMember("alice", alice_fp, "owner"), RecordMember("bob", bob_fp, "member"))
    r1 = KeyRecord(CIRCLE_ID, 1, 0, key0.key_id, two, r0.hash(), "alice")
    r2 = KeyRecord(CIRCLE_ID, 2, 1, key1.key_id, two, r1.hash(), "alice")
    bob_admin = (RecordMember("alice", alice_fp, "owner"), RecordMember("bob", bob_fp, "admin"))
    r3 = KeyRecord(CIRCLE_ID, 3, 1, key1.key_id, bob_admin, r2.hash(), "alice")
    records = [
        record_vector(r0, alice, None),
        record_vector(r1, alice, r0),
        record_vector(r2, alice, r1),
        record_vector(r3, alice, r2),
    ]

    wraps = [
        wrap_vector(key, epoch, user, keys, SEAL_EPHEMERAL_SECRETS[(epoch, user)])
        for epoch, key in ((0, key0), (1, key1))
        for user, keys in (("alice", alice), ("bob", bob))
    ]
    prev_ad = labels.PREV_KEY_AD_PREFIX + epoch_context(CIRCLE_ID, 1)
    prev_box = aead_fixed(bytes(key1), bytes(key0), prev_ad, PREV_KEY_NONCE)
    meta_plain = canonical_json(META)
    meta_ad = labels.CIRCLE_META_AD_PREFIX + epoch_context(CIRCLE_ID, 0)
    meta_box = aead_fixed(key0.meta_key, meta_plain, meta_ad, META_NONCE)

    leave = leave_vectors(alice, bob, mallory, r3.seq)

    def wrong_wrap(circle_id: uuid.UUID, epoch: int, raw: bytes) -> dict[str, Any]:
        plaintext = labels.WRAP_PREFIX + epoch_context(circle_id, epoch) + raw
        sealed = seal_fixed(
            plaintext, bob.public().x25519_public, SEAL_EPHEMERAL_SECRETS[(0, "bob")]
        )
        return {"plaintext": plaintext.hex(), "sealed": sealed.hex()}

    return {
        "protocol": "backchannel",
        "layer": "circles",
        "version": 1,
        "generator": (
            "python -m tests.crypto.make_circle_vectors (app.crypto, libsodium via PyNaCl)"
        ),
        "encoding": (
            "Byte strings are lowercase hex, except fields whose name ends in _b64 (RFC 4648 "
            "section 4 base64 with padding, as sent over HTTP) or _b64url (RFC 4648 section 5, "
            "no padding). Record and event texts are JSON strings holding the exact canonical "
            "JSON; this file itself writes non-ASCII characters as \\u escapes, the canonical "
            "bytes (the bytes fields) are UTF-8."
        ),
        "labels": {
            "PERSON_KEY_ID": labels.PERSON_KEY_ID.hex(),
            "PERSON_ENTRY_KEY": labels.PERSON_ENTRY_KEY.hex(),
            "PERSON_META_KEY": labels.PERSON_META_KEY.hex(),
            "PERSON_RECORD_HASH": labels.PERSON_RECORD_HASH.hex(),
            "PERSON_EVENT_HASH": labels.PERSON_EVENT_HASH.hex(),
            "PERSON_INVITE_HASH": labels.PERSON_INVITE_HASH.hex(),
            "KEY_RECORD_TYPE": labels.KEY_RECORD_TYPE,
            "KEY_RECORD_VERSION": labels.KEY_RECORD_VERSION,
            "KEY_RECORD_SIGNATURE_CONTEXT": labels.KEY_RECORD_SIGNATURE_CONTEXT.hex(),
            "WRAP_PREFIX": labels.WRAP_PREFIX.hex(),
            "PREV_KEY_AD_PREFIX": labels.PREV_KEY_AD_PREFIX.hex(),
            "CIRCLE_META_AD_PREFIX": labels.CIRCLE_META_AD_PREFIX.hex(),
            "INVITE_PREFIX": labels.INVITE_PREFIX,
            "LEAVE_TYPE": labels.LEAVE_TYPE,
            "LEAVE_SIGNATURE_CONTEXT": labels.LEAVE_SIGNATURE_CONTEXT.hex(),
        },
        # The name index's subkey is gone (§9, §25); its label must never be reused.
        "retired_labels": {"PERSON_INDEX_KEY": labels.RETIRED_PERSON_INDEX_KEY.hex()},
        "identities": {
            name: {
                "x25519_secret": IDENTITIES[name][0],
                "ed25519_seed": IDENTITIES[name][1],
                "x25519_public": keys.public().x25519_public.hex(),
                "ed25519_public": keys.public().ed25519_public.hex(),
                "fingerprint": keys.public().fingerprint(),
                "identity": public_json(keys.public()),
            }
            for name, keys in (("alice", alice), ("bob", bob), ("mallory", mallory))
        },
        "circle": {
            "circle_id": str(CIRCLE_ID),
            "hex": CIRCLE_ID.hex,
            "bytes": CIRCLE_ID.bytes.hex(),
            "epoch_context": [
                {"epoch": epoch, "bytes": epoch_context(CIRCLE_ID, epoch).hex()}
                for epoch in (0, 1, 2**63 - 1)
            ],
        },
        "epoch_keys": [key_vector(0, EPOCH_KEYS[0]), key_vector(1, EPOCH_KEYS[1])],
        "records": records,
        "record_parse": parse_cases(records[1]["text"]),
        "chain": {
            "stray_key_id": stray.key_id.hex(),
            "cases": chain_cases(r1, r3, alice, bob, mallory, stray.key_id),
        },
        "wraps": wraps,
        "wrap_open": {
            "recipient": "bob",
            "expected_key_id": key0.key_id.hex(),
            "cases": [
                {
                    "case": "other epoch",
                    **wrong_wrap(CIRCLE_ID, 1, bytes(key0)),
                    "error": "WrongEpoch",
                },
                {
                    "case": "other circle",
                    **wrong_wrap(OTHER_CIRCLE_ID, 0, bytes(key0)),
                    "error": "WrongEpoch",
                },
                {
                    "case": "key the record does not name",
                    **wrong_wrap(CIRCLE_ID, 0, STRAY_KEY),
                    "error": "UntrustedSigner",
                },
                {
                    "case": "sealed to alice",
                    "sealed": wraps[0]["sealed"],
                    "error": "DecryptionFailed",
                },
            ],
        },
        "previous_key_box": {
            "epoch": 1,
            "new_key": bytes(key1).hex(),
            "previous_key": bytes(key0).hex(),
            "previous_key_id": key0.key_id.hex(),
            "nonce": PREV_KEY_NONCE.hex(),
            "associated_data": prev_ad.hex(),
            "box": prev_box.hex(),
            "box_b64": b64encode(prev_box),
        },
        "circle_meta": {
            "epoch": 0,
            "meta": META,
            "plaintext": meta_plain.hex(),
            "meta_key": key0.meta_key.hex(),
            "nonce": META_NONCE.hex(),
            "associated_data": meta_ad.hex(),
            "box": meta_box.hex(),
            "box_b64": b64encode(meta_box),
        },
        "invite": invite_vectors(alice_fp, r0),
        "leave": leave,
        "events": event_vectors(r0),
        "requests": {
            "create": {
                "circle_id": str(CIRCLE_ID),
                "record": records[0]["text"],
                "signature": records[0]["signature_b64"],
                "wrap": wraps[0]["sealed_b64"],
                "meta": b64encode(meta_box),
            },
            "confirm_bob": {
                "record": records[1]["text"],
                "signature": records[1]["signature_b64"],
                "wrap": wraps[1]["sealed_b64"],
            },
            "rotate": {
                "record": records[2]["text"],
                "signature": records[2]["signature_b64"],
                "wraps": [
                    {"username": w["recipient"], "wrap": w["sealed_b64"]}
                    for w in wraps
                    if w["epoch"] == 1
                ],
                "prev_key_box": b64encode(prev_box),
            },
            "leave_bob": {
                "statement": leave["statement"],
                "signature": leave["signature_b64"],
            },
        },
    }


def main() -> None:
    json.dump(build_vectors(), sys.stdout, indent=2, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
