"""Reports (§30): a member's signed report, sealed to the moderation key, carrying the
reported warning's body and opening so the admins can check what it said (§21)."""

import uuid
from dataclasses import dataclass

from nacl.public import PrivateKey

from app.crypto import labels
from app.crypto.circles import canonical_json, load_json
from app.crypto.encoding import b64decode, b64encode
from app.crypto.errors import DecryptionFailed, InvalidKey, WrongEpoch
from app.crypto.identity import IdentityKeys, PublicIdentity
from app.crypto.moderation import (
    NONCE_BYTES,
    ModerationKey,
    open_box,
    person_hash,
    seal_box,
    shared_key,
    u64,
    verify_signed,
)

REASONS = ("false", "doxxing", "harassment", "off-topic", "other")
MAX_NOTE = 4000


def case_hash(ciphertext: bytes) -> bytes:
    """What audit records and decisions point at: the hash of a case's stored ciphertext."""
    return person_hash(labels.PERSON_CASE_HASH, ciphertext)


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
        + u64(generation)
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
    return ephemeral_public + seal_box(key, bytes(signature) + body, ad)


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
    plaintext = open_box(shared, ciphertext[32:], ad, "report")
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
    verify_signed(
        reporter.ed25519_public,
        labels.REPORT_SIGNATURE_CONTEXT + report.to_bytes(),
        signature,
        "report",
    )
