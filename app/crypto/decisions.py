"""Decisions (§32): an admin's signed ruling on a case, chained per case, with its reason
sealed to the moderation key as a note only admins can open."""

import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from nacl.public import PrivateKey

from app.crypto import labels
from app.crypto.circles import canonical_json, load_json
from app.crypto.encoding import b64decode, b64encode
from app.crypto.errors import DecryptionFailed, InvalidKey
from app.crypto.moderation import (
    NONCE_BYTES,
    ModerationKey,
    SignedByMember,
    open_text_box,
    person_hash,
    seal_box,
    shared_key,
    u64,
)

ACTIONS = ("dismiss", "hide", "remove", "restore")
MAX_REASON = 4000


def _note_ad(
    circle_id: uuid.UUID, case_id: uuid.UUID, generation: int, ephemeral: bytes, recipient: bytes
) -> bytes:
    return (
        labels.DECISION_NOTE_AD_PREFIX
        + circle_id.bytes
        + case_id.bytes
        + u64(generation)
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
    return ephemeral_public + seal_box(key, reason.encode("utf-8"), ad)


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
    return open_text_box(shared, ciphertext[32:], ad, "decision note")


@dataclass(frozen=True)
class Decision(SignedByMember):
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
        return person_hash(labels.PERSON_DECISION_HASH, self.to_bytes())

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
    return person_hash(labels.PERSON_MOD_BLOB, data)
