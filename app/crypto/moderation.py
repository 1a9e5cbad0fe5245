"""Moderation: the circle's moderation key, reports, takedown requests, decisions, tree heads.

The moderation key is an X25519 key pair held by a circle's admins only. Its
public half is published in a signed *moderation key record* and in takedown
links; its secret is sealed to each admin. Reports and takedown requests are
encrypted to it (XChaCha20-Poly1305 under ``crypto_box_beforenm`` of the two
X25519 keys, with associated data), so members other than admins, requesters
and the server see only ciphertext. Decisions are signed by the deciding admin
and chained per case. Tree heads of the audit log are signed by the server.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import nacl.bindings
import nacl.exceptions
import nacl.secret
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PrivateKey
from nacl.signing import SigningKey, VerifyKey

from app.crypto import labels
from app.crypto.circles import (
    ADMIN_ROLES,
    KeyRecord,
    canonical_json,
    load_json,
    open_prefixed,
    seal_prefixed,
)
from app.crypto.encoding import b64decode, b64encode
from app.crypto.errors import (
    BadSignature,
    DecryptionFailed,
    InvalidKey,
    RecordChainBroken,
    UntrustedSigner,
    WrongEpoch,
)
from app.crypto.identity import IdentityKeys, PublicIdentity, normalise_fingerprint
from app.crypto.kdf import subkey

NONCE_BYTES = nacl.secret.Aead.NONCE_SIZE  # 24
REASONS = ("false", "doxxing", "harassment", "off-topic", "other")
ACTIONS = ("dismiss", "hide", "remove", "restore")
CASE_KINDS = ("report", "takedown")
MAX_NOTE = 4000
MAX_NAME = 200
MAX_CONTACT = 500
MAX_TEXT = 8000
MAX_RESPONSE = 4000
MAX_REASON = 4000


def _hash(person: bytes, data: bytes) -> bytes:
    digest: bytes = blake2b(data, digest_size=32, person=person, encoder=RawEncoder)
    return digest


def _u64(value: int) -> bytes:
    if value < 0 or value >= 2**63:
        raise InvalidKey("number out of range")
    return value.to_bytes(8, "big")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _from_b64url(text: str, size: int) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error) as exc:
        raise InvalidKey("damaged") from exc
    if len(raw) != size or _b64url(raw) != text:
        raise InvalidKey("damaged")
    return raw


def _seal(key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return bytes(nacl.secret.Aead(key).encrypt(plaintext, ad, nonce))


def _open(key: bytes, box: bytes, ad: bytes, what: str) -> bytes:
    try:
        return bytes(nacl.secret.Aead(key).decrypt(box, ad))
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise DecryptionFailed(f"the {what} does not open") from exc


def _open_text(key: bytes, box: bytes, ad: bytes, what: str) -> str:
    """Open a box whose plaintext must be UTF-8 text (responses, decision notes)."""
    try:
        return _open(key, box, ad, what).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecryptionFailed(f"the {what} is not text") from exc


def shared_key(secret: bytes, public: bytes) -> bytes:
    """``crypto_box_beforenm``: the same 32 bytes from either secret and the other public key."""
    if len(secret) != 32 or len(public) != 32:
        raise InvalidKey("X25519 keys are 32 bytes")
    try:
        return bytes(nacl.bindings.crypto_box_beforenm(public, secret))
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:  # low-order point
        raise InvalidKey("unusable X25519 public key") from exc


def usable_public_key(public: bytes) -> bool:
    """False for a wrong size or a low-order X25519 point (no shared secret can come of it)."""
    try:
        shared_key(secrets.token_bytes(32), public)
    except InvalidKey:
        return False
    return True


# --- The moderation key -----------------------------------------------------------------------


class ModerationKey:
    """One generation's 32-byte X25519 secret; admins hold it, nobody else."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise InvalidKey("a moderation key is 32 bytes")
        self._private = PrivateKey(raw)

    @classmethod
    def generate(cls) -> "ModerationKey":
        return cls(bytes(PrivateKey.generate()))

    def __bytes__(self) -> bytes:
        return bytes(self._private)

    def __repr__(self) -> str:
        return f"ModerationKey(public={self.public_key.hex()[:16]}…)"

    @cached_property
    def public_key(self) -> bytes:
        return bytes(self._private.public_key)

    @cached_property
    def box_key(self) -> bytes:
        """Key of the previous-generation box (below)."""
        return subkey(bytes(self), labels.PERSON_MODKEY_BOX)


def _generation_context(circle_id: uuid.UUID, generation: int) -> bytes:
    return circle_id.bytes + _u64(generation)


def seal_moderation_wrap(
    key: ModerationKey, *, circle_id: uuid.UUID, generation: int, recipient: bytes
) -> bytes:
    prefix = labels.MODKEY_WRAP_PREFIX + _generation_context(circle_id, generation)
    return seal_prefixed(bytes(key), prefix=prefix, recipient=recipient)


def open_moderation_wrap(
    wrap: bytes,
    *,
    circle_id: uuid.UUID,
    generation: int,
    identity: IdentityKeys,
    expected_public: bytes,
) -> ModerationKey:
    raw = open_prefixed(
        wrap,
        prefix=labels.MODKEY_WRAP_PREFIX + _generation_context(circle_id, generation),
        identity=identity,
        what="moderation key wrap",
        elsewhere="another circle or generation",
    )
    key = ModerationKey(raw)
    if not hmac.compare_digest(key.public_key, expected_public):
        raise UntrustedSigner("the wrapped moderation key is not the one the signed record names")
    return key


def seal_previous_moderation_key(
    new: ModerationKey, previous: ModerationKey, *, circle_id: uuid.UUID, generation: int
) -> bytes:
    ad = labels.MODKEY_PREV_AD_PREFIX + _generation_context(circle_id, generation)
    return _seal(new.box_key, bytes(previous), ad)


def open_previous_moderation_key(
    box: bytes,
    new: ModerationKey,
    *,
    circle_id: uuid.UUID,
    generation: int,
    expected_public: bytes,
) -> ModerationKey:
    ad = labels.MODKEY_PREV_AD_PREFIX + _generation_context(circle_id, generation)
    raw = _open(new.box_key, box, ad, "previous moderation key")
    if len(raw) != 32:
        raise DecryptionFailed("the previous moderation key has the wrong size")
    key = ModerationKey(raw)
    if not hmac.compare_digest(key.public_key, expected_public):
        raise UntrustedSigner("the previous moderation key is not the one its record names")
    return key


@dataclass(frozen=True)
class ModeratorEntry:
    user: str
    fp: str


class _SignedByMember:
    """Canonical bytes a member signs with their identity key, behind a context label."""

    SIGNATURE_CONTEXT: ClassVar[bytes]
    WHAT: ClassVar[str]

    def to_bytes(self) -> bytes:
        raise NotImplementedError

    def sign(self, identity: IdentityKeys) -> bytes:
        message = self.SIGNATURE_CONTEXT + self.to_bytes()
        return bytes(identity.signing_key.sign(message).signature)

    def verify_signature(self, signature: bytes, signer: PublicIdentity) -> None:
        message = self.SIGNATURE_CONTEXT + self.to_bytes()
        _verify(signer.ed25519_public, message, signature, self.WHAT)


@dataclass(frozen=True)
class ModerationKeyRecord(_SignedByMember):
    """Signed by an admin: this public key belongs to exactly these admins (this generation)."""

    SIGNATURE_CONTEXT: ClassVar[bytes] = labels.MODKEY_SIGNATURE_CONTEXT
    WHAT: ClassVar[str] = "moderation key record"

    circle_id: uuid.UUID
    generation: int
    public_key: bytes
    admins: tuple[ModeratorEntry, ...]
    record_seq: int  # the key record whose admin set this generation was made for
    prev: bytes | None  # hash of the previous generation's record
    signer: str

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "type": labels.MODKEY_TYPE,
            "circle": self.circle_id.hex,
            "generation": self.generation,
            "public_key": b64encode(self.public_key),
            "admins": [{"user": a.user, "fp": a.fp} for a in self.admins],
            "record_seq": self.record_seq,
            "prev": None if self.prev is None else b64encode(self.prev),
            "signer": self.signer,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def hash(self) -> bytes:
        return _hash(labels.PERSON_MODKEY_HASH, self.to_bytes())

    @classmethod
    def for_key_record(
        cls,
        record: KeyRecord,
        *,
        key: ModerationKey,
        generation: int,
        prev: bytes | None,
        signer: str,
    ) -> "ModerationKeyRecord":
        return cls(
            circle_id=record.circle_id,
            generation=generation,
            public_key=key.public_key,
            admins=admin_set(record),
            record_seq=record.seq,
            prev=prev,
            signer=signer,
        )

    @classmethod
    def parse(cls, raw: bytes) -> "ModerationKeyRecord":
        try:
            data = load_json(raw)
            if data["v"] != 1 or data["type"] != labels.MODKEY_TYPE:
                raise InvalidKey("unknown moderation key record version")
            record = cls(
                circle_id=uuid.UUID(hex=data["circle"]),
                generation=int(data["generation"]),
                public_key=b64decode(data["public_key"]),
                admins=tuple(
                    ModeratorEntry(user=str(a["user"]), fp=normalise_fingerprint(a["fp"]))
                    for a in data["admins"]
                ),
                record_seq=int(data["record_seq"]),
                prev=None if data["prev"] is None else b64decode(data["prev"]),
                signer=str(data["signer"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            raise InvalidKey("malformed moderation key record") from exc
        users = [a.user for a in record.admins]
        if (
            len(record.public_key) != 32
            or record.generation < 0
            or record.record_seq < 0
            or (record.prev is not None and len(record.prev) != 32)
            or (record.prev is None) != (record.generation == 0)
            or not users
            or users != sorted(set(users))
            or record.signer not in users
        ):
            raise InvalidKey("malformed moderation key record")
        if record.to_bytes() != raw:
            raise InvalidKey("moderation key record is not in canonical form")
        return record

    def matches(self, record: KeyRecord) -> bool:
        """Is this generation's admin set exactly the admins (and their keys) of ``record``?"""
        return record.circle_id == self.circle_id and self.admins == admin_set(record)


def admin_set(record: KeyRecord) -> tuple[ModeratorEntry, ...]:
    return tuple(ModeratorEntry(m.user, m.fp) for m in record.members if m.role in ADMIN_ROLES)


def check_moderation_successor(
    previous: ModerationKeyRecord | None, record: ModerationKeyRecord
) -> None:
    if previous is None:
        if record.generation != 0 or record.prev is not None:
            raise RecordChainBroken("the first moderation key record must be generation 0")
        return
    if (
        record.circle_id != previous.circle_id
        or record.generation != previous.generation + 1
        or record.prev is None
        or not hmac.compare_digest(record.prev, previous.hash())
        or record.record_seq < previous.record_seq
    ):
        raise RecordChainBroken(
            f"moderation key record {record.generation} does not follow the one before"
        )
    if hmac.compare_digest(record.public_key, previous.public_key):
        raise RecordChainBroken("a new moderation key generation must have a new key")


def _verify(public: bytes, message: bytes, signature: bytes, what: str) -> None:
    try:
        VerifyKey(public).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, TypeError) as exc:
        raise BadSignature(f"{what} signature does not verify") from exc


# --- Case hashes ------------------------------------------------------------------------------


def case_hash(ciphertext: bytes) -> bytes:
    """What audit records and decisions point at: the hash of a case's stored ciphertext."""
    return _hash(labels.PERSON_CASE_HASH, ciphertext)


# --- Reports ----------------------------------------------------------------------------------


def _report_ad(
    circle_id: uuid.UUID,
    case_id: uuid.UUID,
    entry_id: uuid.UUID,
    generation: int,
    ephemeral: bytes,
    recipient: bytes,
) -> bytes:
    """Binds the context and both public keys, so the sealed bytes have one encoding only."""
    return (
        labels.REPORT_AD_PREFIX
        + circle_id.bytes
        + case_id.bytes
        + entry_id.bytes
        + _u64(generation)
        + ephemeral
        + recipient
    )


@dataclass(frozen=True)
class Report:
    circle_id: uuid.UUID
    case_id: uuid.UUID
    entry_id: uuid.UUID
    reporter: str
    reason: str
    note: str
    body: bytes  # the revealed entry body bytes (franking opening below)
    opening: bytes

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": 1,
                "type": "backchannel.report",
                "circle": self.circle_id.hex,
                "case": self.case_id.hex,
                "entry": self.entry_id.hex,
                "reporter": self.reporter,
                "reason": self.reason,
                "note": self.note,
                "reveal": {"body": b64encode(self.body), "opening": b64encode(self.opening)},
            }
        )


def check_report_fields(reason: str, note: str) -> None:
    if reason not in REASONS:
        raise InvalidKey(f"reason must be one of {', '.join(REASONS)}")
    if len(note) > MAX_NOTE:
        raise InvalidKey(f"a note is at most {MAX_NOTE} characters")


def seal_report(
    report: Report, *, identity: IdentityKeys, public_key: bytes, generation: int
) -> bytes:
    """``eph_pk || nonce || AEAD(signature || report bytes)``, signed by the reporter."""
    check_report_fields(report.reason, report.note)
    body = report.to_bytes()
    signature = identity.signing_key.sign(labels.REPORT_SIGNATURE_CONTEXT + body).signature
    ephemeral = PrivateKey.generate()
    key = shared_key(bytes(ephemeral), public_key)
    ephemeral_public = bytes(ephemeral.public_key)
    ad = _report_ad(
        report.circle_id, report.case_id, report.entry_id, generation, ephemeral_public, public_key
    )
    return ephemeral_public + _seal(key, bytes(signature) + body, ad)


def open_report(
    ciphertext: bytes,
    *,
    key: ModerationKey,
    circle_id: uuid.UUID,
    case_id: uuid.UUID,
    entry_id: uuid.UUID,
    generation: int,
) -> tuple[Report, bytes]:
    """The report and the reporter's signature (check it with ``verify_report``)."""
    if len(ciphertext) < 32 + NONCE_BYTES + 16 + 64:
        raise DecryptionFailed("the report is too short")
    shared = shared_key(bytes(key), ciphertext[:32])
    ad = _report_ad(circle_id, case_id, entry_id, generation, ciphertext[:32], key.public_key)
    plaintext = _open(shared, ciphertext[32:], ad, "report")
    signature, body = plaintext[:64], plaintext[64:]
    try:
        data = load_json(body)
        report = Report(
            circle_id=uuid.UUID(hex=data["circle"]),
            case_id=uuid.UUID(hex=data["case"]),
            entry_id=uuid.UUID(hex=data["entry"]),
            reporter=str(data["reporter"]),
            reason=str(data["reason"]),
            note=str(data["note"]),
            body=b64decode(data["reveal"]["body"]),
            opening=b64decode(data["reveal"]["opening"]),
        )
        if data["v"] != 1 or data["type"] != "backchannel.report":
            raise ValueError("version")
    except (ValueError, KeyError, TypeError, AttributeError, InvalidKey) as exc:
        raise DecryptionFailed("the report is malformed") from exc
    if report.to_bytes() != body or len(report.opening) != 32:
        raise DecryptionFailed("the report is not in canonical form")
    if (report.circle_id, report.case_id, report.entry_id) != (circle_id, case_id, entry_id):
        raise WrongEpoch("the report belongs to another case")
    return report, signature


def verify_report(report: Report, signature: bytes, reporter: PublicIdentity) -> None:
    _verify(
        reporter.ed25519_public,
        labels.REPORT_SIGNATURE_CONTEXT + report.to_bytes(),
        signature,
        "report",
    )


# --- Takedown links, receipts, requests, responses ---------------------------------------------

_LINK_FORM = re.compile(r"bctakedown1\.[0-9a-f]{32}\.[0-9]{1,18}\.[A-Za-z0-9_-]{43}")
_RECEIPT_FORM = re.compile(
    r"bcreceipt1\.[0-9a-f]{32}\.[0-9a-f]{32}\.[0-9]{1,18}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}"
)


def _split_url(text: str, path: str) -> tuple[str, str]:
    """``<base>/<path>#<fragment>`` → (base, fragment); the fragment never reaches a server."""
    text = text.strip()
    marker = f"/{path}#"
    if len(text) > 600 or marker not in text:
        raise InvalidKey(f"this is not a Backchannel {path} link")
    base, fragment = text.split(marker, 1)
    if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/]*)?", base):
        raise InvalidKey(f"this is not a Backchannel {path} link")
    return base.rstrip("/"), fragment


@dataclass(frozen=True)
class TakedownLink:
    """Given out by a circle's admins: where to send a request and whom to encrypt it to."""

    base_url: str
    circle_id: uuid.UUID
    generation: int
    public_key: bytes

    def fragment(self) -> str:
        return ".".join(
            [
                labels.TAKEDOWN_LINK_PREFIX,
                self.circle_id.hex,
                str(self.generation),
                _b64url(self.public_key),
            ]
        )

    def __str__(self) -> str:
        return f"{self.base_url}/takedown#{self.fragment()}"

    @classmethod
    def parse(cls, text: str) -> "TakedownLink":
        base, fragment = _split_url(text, "takedown")
        if not _LINK_FORM.fullmatch(fragment):
            raise InvalidKey("this takedown link is damaged")
        _, circle_hex, generation, key_text = fragment.split(".")
        link = cls(base, uuid.UUID(hex=circle_hex), int(generation), _from_b64url(key_text, 32))
        if link.fragment() != fragment:
            raise InvalidKey("this takedown link is damaged")
        return link


@dataclass(frozen=True, repr=False)
class Receipt:
    """Kept by whoever filed a takedown request: check status, read the admins' response."""

    base_url: str
    circle_id: uuid.UUID
    case_id: uuid.UUID
    generation: int
    moderation_public: bytes
    secret: bytes

    @classmethod
    def create(cls, link: TakedownLink) -> "Receipt":
        return cls(
            link.base_url,
            link.circle_id,
            uuid.uuid4(),
            link.generation,
            link.public_key,
            secrets.token_bytes(32),
        )

    @property
    def token(self) -> bytes:
        """Shown to the server to read the status; it keeps only a hash."""
        return subkey(self.secret, labels.PERSON_RECEIPT_TOKEN)

    @cached_property
    def private_key(self) -> PrivateKey:
        return PrivateKey(subkey(self.secret, labels.PERSON_RECEIPT_KEY))

    @property
    def public_key(self) -> bytes:
        return bytes(self.private_key.public_key)

    def fragment(self) -> str:
        return ".".join(
            [
                labels.RECEIPT_PREFIX,
                self.circle_id.hex,
                self.case_id.hex,
                str(self.generation),
                _b64url(self.moderation_public),
                _b64url(self.secret),
            ]
        )

    def __str__(self) -> str:
        return f"{self.base_url}/receipt#{self.fragment()}"

    def __repr__(self) -> str:
        return f"Receipt(case={self.case_id})"

    @classmethod
    def parse(cls, text: str) -> "Receipt":
        base, fragment = _split_url(text, "receipt")
        if not _RECEIPT_FORM.fullmatch(fragment):
            raise InvalidKey("this receipt is damaged")
        _, circle_hex, case_hex, generation, key_text, secret_text = fragment.split(".")
        receipt = cls(
            base,
            uuid.UUID(hex=circle_hex),
            uuid.UUID(hex=case_hex),
            int(generation),
            _from_b64url(key_text, 32),
            _from_b64url(secret_text, 32),
        )
        if receipt.fragment() != fragment:
            raise InvalidKey("this receipt is damaged")
        return receipt


def receipt_token_hash(token: bytes) -> bytes:
    """What the server stores for a receipt token (a plain hash: the token is 256 random bits)."""
    return hashlib.sha256(labels.RECEIPT_PREFIX.encode() + b"\x00" + token).digest()


def _takedown_ad(prefix: bytes, circle_id: uuid.UUID, case_id: uuid.UUID, generation: int) -> bytes:
    return prefix + circle_id.bytes + case_id.bytes + _u64(generation)


@dataclass(frozen=True)
class TakedownRequest:
    circle_id: uuid.UUID
    case_id: uuid.UUID
    name: str
    contact: str
    text: str

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": 1,
                "type": "backchannel.takedown",
                "circle": self.circle_id.hex,
                "case": self.case_id.hex,
                "name": self.name,
                "contact": self.contact,
                "text": self.text,
            }
        )


def check_takedown_fields(name: str, contact: str, text: str) -> None:
    if not name.strip() or len(name) > MAX_NAME:
        raise InvalidKey(f"a name is 1 to {MAX_NAME} characters")
    if len(contact) > MAX_CONTACT:
        raise InvalidKey(f"contact details are at most {MAX_CONTACT} characters")
    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidKey(f"the request text is 1 to {MAX_TEXT} characters")


def seal_takedown(request: TakedownRequest, receipt: Receipt) -> bytes:
    """``nonce || AEAD`` under the key the receipt key and the moderation key share."""
    check_takedown_fields(request.name, request.contact, request.text)
    if (request.circle_id, request.case_id) != (receipt.circle_id, receipt.case_id):
        raise InvalidKey("the receipt is for another request")
    key = shared_key(bytes(receipt.private_key), receipt.moderation_public)
    ad = _takedown_ad(
        labels.TAKEDOWN_AD_PREFIX, receipt.circle_id, receipt.case_id, receipt.generation
    )
    return _seal(key, request.to_bytes(), ad)


def open_takedown(
    ciphertext: bytes,
    *,
    key: ModerationKey,
    receipt_public: bytes,
    circle_id: uuid.UUID,
    case_id: uuid.UUID,
    generation: int,
) -> TakedownRequest:
    shared = shared_key(bytes(key), receipt_public)
    ad = _takedown_ad(labels.TAKEDOWN_AD_PREFIX, circle_id, case_id, generation)
    body = _open(shared, ciphertext, ad, "takedown request")
    try:
        data = load_json(body)
        request = TakedownRequest(
            circle_id=uuid.UUID(hex=data["circle"]),
            case_id=uuid.UUID(hex=data["case"]),
            name=str(data["name"]),
            contact=str(data["contact"]),
            text=str(data["text"]),
        )
        if data["v"] != 1 or data["type"] != "backchannel.takedown":
            raise ValueError("version")
    except (ValueError, KeyError, TypeError, AttributeError, InvalidKey) as exc:
        raise DecryptionFailed("the takedown request is malformed") from exc
    if request.to_bytes() != body:
        raise DecryptionFailed("the takedown request is not in canonical form")
    if (request.circle_id, request.case_id) != (circle_id, case_id):
        raise WrongEpoch("the takedown request belongs to another case")
    return request


def seal_response(
    text: str,
    *,
    key: ModerationKey,
    receipt_public: bytes,
    circle_id: uuid.UUID,
    case_id: uuid.UUID,
    generation: int,
) -> bytes:
    """The admins' answer: only the receipt holder (and the admins) can open it."""
    if not text.strip() or len(text) > MAX_RESPONSE:
        raise InvalidKey(f"a response is 1 to {MAX_RESPONSE} characters")
    shared = shared_key(bytes(key), receipt_public)
    ad = _takedown_ad(labels.TAKEDOWN_RESPONSE_AD_PREFIX, circle_id, case_id, generation)
    return _seal(shared, text.encode("utf-8"), ad)


def open_response(ciphertext: bytes, receipt: Receipt) -> str:
    shared = shared_key(bytes(receipt.private_key), receipt.moderation_public)
    ad = _takedown_ad(
        labels.TAKEDOWN_RESPONSE_AD_PREFIX, receipt.circle_id, receipt.case_id, receipt.generation
    )
    return _open_text(shared, ciphertext, ad, "response")


def open_own_response(
    ciphertext: bytes,
    *,
    key: ModerationKey,
    receipt_public: bytes,
    circle_id: uuid.UUID,
    case_id: uuid.UUID,
    generation: int,
) -> str:
    """An admin reading a response the admins sent (moderation list)."""
    shared = shared_key(bytes(key), receipt_public)
    ad = _takedown_ad(labels.TAKEDOWN_RESPONSE_AD_PREFIX, circle_id, case_id, generation)
    return _open_text(shared, ciphertext, ad, "response")


# --- Decisions --------------------------------------------------------------------------------


def _note_ad(
    circle_id: uuid.UUID, case_id: uuid.UUID, generation: int, ephemeral: bytes, recipient: bytes
) -> bytes:
    return (
        labels.DECISION_NOTE_AD_PREFIX
        + circle_id.bytes
        + case_id.bytes
        + _u64(generation)
        + ephemeral
        + recipient
    )


def seal_decision_note(
    reason: str, *, public_key: bytes, circle_id: uuid.UUID, case_id: uuid.UUID, generation: int
) -> bytes:
    """The decision's reason, for admins only: ``eph_pk || nonce || AEAD(reason)``."""
    if not reason.strip() or len(reason) > MAX_REASON:
        raise InvalidKey(f"a reason is 1 to {MAX_REASON} characters")
    ephemeral = PrivateKey.generate()
    key = shared_key(bytes(ephemeral), public_key)
    ephemeral_public = bytes(ephemeral.public_key)
    ad = _note_ad(circle_id, case_id, generation, ephemeral_public, public_key)
    return ephemeral_public + _seal(key, reason.encode("utf-8"), ad)


def open_decision_note(
    ciphertext: bytes,
    *,
    key: ModerationKey,
    circle_id: uuid.UUID,
    case_id: uuid.UUID,
    generation: int,
) -> str:
    if len(ciphertext) < 32 + NONCE_BYTES + 16:
        raise DecryptionFailed("the decision note is too short")
    shared = shared_key(bytes(key), ciphertext[:32])
    ad = _note_ad(circle_id, case_id, generation, ciphertext[:32], key.public_key)
    return _open_text(shared, ciphertext[32:], ad, "decision note")


@dataclass(frozen=True)
class Decision(_SignedByMember):
    """An admin's signed ruling on a case; ``prev`` chains the decisions of one case."""

    SIGNATURE_CONTEXT: ClassVar[bytes] = labels.DECISION_SIGNATURE_CONTEXT
    WHAT: ClassVar[str] = "decision"

    circle_id: uuid.UUID
    case_id: uuid.UUID
    seq: int
    action: str
    entry_id: uuid.UUID | None
    case_hash: bytes
    generation: int  # the moderation key generation the note is sealed to
    note_hash: bytes
    response_hash: bytes | None
    prev: bytes | None
    signer: str

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "type": labels.DECISION_TYPE,
            "circle": self.circle_id.hex,
            "case": self.case_id.hex,
            "seq": self.seq,
            "action": self.action,
            "entry": None if self.entry_id is None else self.entry_id.hex,
            "case_hash": b64encode(self.case_hash),
            "generation": self.generation,
            "note_hash": b64encode(self.note_hash),
            "response_hash": None if self.response_hash is None else b64encode(self.response_hash),
            "prev": None if self.prev is None else b64encode(self.prev),
            "signer": self.signer,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def hash(self) -> bytes:
        return _hash(labels.PERSON_DECISION_HASH, self.to_bytes())

    @classmethod
    def parse(cls, raw: bytes) -> "Decision":
        try:
            data = load_json(raw)
            if data["v"] != 1 or data["type"] != labels.DECISION_TYPE:
                raise InvalidKey("unknown decision version")
            decision = cls(
                circle_id=uuid.UUID(hex=data["circle"]),
                case_id=uuid.UUID(hex=data["case"]),
                seq=int(data["seq"]),
                action=str(data["action"]),
                entry_id=None if data["entry"] is None else uuid.UUID(hex=data["entry"]),
                case_hash=b64decode(data["case_hash"]),
                generation=int(data["generation"]),
                note_hash=b64decode(data["note_hash"]),
                response_hash=(
                    None if data["response_hash"] is None else b64decode(data["response_hash"])
                ),
                prev=None if data["prev"] is None else b64decode(data["prev"]),
                signer=str(data["signer"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            raise InvalidKey("malformed decision") from exc
        if (
            decision.action not in ACTIONS
            or decision.seq < 0
            or decision.generation < 0
            or len(decision.case_hash) != 32
            or len(decision.note_hash) != 32
            or (decision.response_hash is not None and len(decision.response_hash) != 32)
            or (decision.prev is None) != (decision.seq == 0)
            or (decision.prev is not None and len(decision.prev) != 32)
            or (decision.action != "dismiss" and decision.entry_id is None)
        ):
            raise InvalidKey("malformed decision")
        if decision.to_bytes() != raw:
            raise InvalidKey("decision is not in canonical form")
        return decision


def blob_hash(data: bytes) -> bytes:
    """Hash of an encrypted note or response that a decision signs."""
    return _hash(labels.PERSON_MOD_BLOB, data)


# --- Signed tree heads ------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeHead:
    circle_id: uuid.UUID
    size: int
    root: bytes
    at: str  # server time, UTC, as in membership events

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": 1,
                "type": labels.TREE_HEAD_TYPE,
                "circle": self.circle_id.hex,
                "size": self.size,
                "root": b64encode(self.root),
                "at": self.at,
            }
        )

    @classmethod
    def parse(cls, raw: bytes) -> "TreeHead":
        try:
            data = load_json(raw)
            if data["v"] != 1 or data["type"] != labels.TREE_HEAD_TYPE:
                raise InvalidKey("unknown tree head version")
            head = cls(
                circle_id=uuid.UUID(hex=data["circle"]),
                size=int(data["size"]),
                root=b64decode(data["root"]),
                at=str(data["at"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            raise InvalidKey("malformed tree head") from exc
        if head.size < 0 or len(head.root) != 32 or head.to_bytes() != raw:
            raise InvalidKey("malformed tree head")
        return head

    def sign(self, key: SigningKey) -> bytes:
        return bytes(key.sign(labels.TREE_HEAD_SIGNATURE_CONTEXT + self.to_bytes()).signature)

    def verify_signature(self, signature: bytes, server_key: bytes) -> None:
        _verify(
            server_key,
            labels.TREE_HEAD_SIGNATURE_CONTEXT + self.to_bytes(),
            signature,
            "tree head",
        )


def succession_message(old_public: bytes, new_public: bytes, not_before: str) -> bytes:
    """Signed by the outgoing server key: ``new_public`` signs tree heads from ``not_before``."""
    # Fixed-size keys and an ASCII tail keep the message unambiguous (the server sends all three).
    if len(old_public) != 32 or len(new_public) != 32 or not not_before.isascii():
        raise InvalidKey("a succession names two 32-byte keys and an ASCII time")
    return (
        labels.SIGNING_KEY_SUCCESSION_CONTEXT + old_public + new_public + not_before.encode("ascii")
    )


def verify_succession(
    old_public: bytes, new_public: bytes, not_before: str, signature: bytes
) -> None:
    _verify(
        old_public,
        succession_message(old_public, new_public, not_before),
        signature,
        "key succession",
    )
