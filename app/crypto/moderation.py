"""The moderation key, and the sealed boxes and signatures every moderation protocol uses.

The moderation key is an X25519 key pair held by a circle's admins only (§29). Its
public half is published in a signed *moderation key record* and in takedown links;
its secret is sealed to each admin. Reports (``reports``), takedown requests
(``takedowns``) and decision notes (``decisions``) are encrypted to it
(XChaCha20-Poly1305 under ``crypto_box_beforenm`` of two X25519 keys, with associated
data), so members other than admins, requesters and the server see only ciphertext.
"""

import hmac
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
from nacl.signing import VerifyKey

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
)
from app.crypto.identity import IdentityKeys, PublicIdentity, normalise_fingerprint
from app.crypto.kdf import subkey

NONCE_BYTES = nacl.secret.Aead.NONCE_SIZE  # 24


def person_hash(person: bytes, data: bytes) -> bytes:
    digest: bytes = blake2b(data, digest_size=32, person=person, encoder=RawEncoder)
    return digest


def u64(value: int) -> bytes:
    if value < 0 or value >= 2**63:
        raise InvalidKey("number out of range")
    return value.to_bytes(8, "big")


def seal_box(key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return bytes(nacl.secret.Aead(key).encrypt(plaintext, ad, nonce))


def open_box(key: bytes, box: bytes, ad: bytes, what: str) -> bytes:
    try:
        return bytes(nacl.secret.Aead(key).decrypt(box, ad))
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise DecryptionFailed(f"the {what} does not open") from exc


def open_text_box(key: bytes, box: bytes, ad: bytes, what: str) -> str:
    """Open a box whose plaintext must be UTF-8 text (responses, decision notes)."""
    try:
        return open_box(key, box, ad, what).decode("utf-8")
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
    return circle_id.bytes + u64(generation)


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
    return seal_box(new.box_key, bytes(previous), ad)


def open_previous_moderation_key(
    box: bytes,
    new: ModerationKey,
    *,
    circle_id: uuid.UUID,
    generation: int,
    expected_public: bytes,
) -> ModerationKey:
    ad = labels.MODKEY_PREV_AD_PREFIX + _generation_context(circle_id, generation)
    raw = open_box(new.box_key, box, ad, "previous moderation key")
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


class SignedByMember:
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
        verify_signed(signer.ed25519_public, message, signature, self.WHAT)


@dataclass(frozen=True)
class ModerationKeyRecord(SignedByMember):
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
        return person_hash(labels.PERSON_MODKEY_HASH, self.to_bytes())

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


def verify_signed(public: bytes, message: bytes, signature: bytes, what: str) -> None:
    try:
        VerifyKey(public).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, TypeError) as exc:
        raise BadSignature(f"{what} signature does not verify") from exc
