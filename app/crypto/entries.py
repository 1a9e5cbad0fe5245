"""Warnings and corroborations: padded payloads, franking commitments, signed AEAD envelopes.

Plaintext = opening (32 random bytes) || canonical JSON body, padded (ISO/IEC 7816-4)
to a size bucket. The commitment BLAKE2b-256(body, key=opening, person "bc.v1.franking")
is bound into the associated data and stored by the server, so a reporter can later
reveal (body, opening) and anyone can check exactly what the author posted.

Associated data: label || circle id (16) || epoch (u64 BE) || entry id (16)
[|| corroboration id (16)] || author key (32) || commitment (32).
Signature: Ed25519 over "backchannel.envelope-sig.v1\\0" || AD || nonce || ciphertext,
by the author's identity key, or for anonymous posts by a per-object key derived from it.
"""

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.secret
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.signing import SigningKey, VerifyKey

from app.crypto import labels
from app.crypto.circles import CircleKey, canonical_json, load_json
from app.crypto.errors import BadSignature, DecryptionFailed, InvalidKey, WrongEpoch
from app.crypto.identity import IdentityKeys

OPENING_BYTES = 32
BUCKETS = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536)
MAX_PADDED = BUCKETS[-1]
NONCE_BYTES = nacl.secret.Aead.NONCE_SIZE
CATEGORIES = (
    "harassment",
    "sexual-harassment",
    "assault",
    "stalking",
    "intimidation",
    "discrimination",
    "bullying",
    "boundary-violation",
    "wage-theft",
    "unsafe-conditions",
    "other",
)
SEVERITIES = ("concern", "serious", "severe")
ENTRY = "entry"
CORROBORATION = "corroboration"


def pad(data: bytes) -> bytes:
    """ISO/IEC 7816-4 padding (0x80 then zeros) to the smallest bucket that fits."""
    for bucket in BUCKETS:
        if len(data) < bucket:
            return data + b"\x80" + bytes(bucket - len(data) - 1)
    raise InvalidKey(f"payload larger than {MAX_PADDED - 1} bytes")


def unpad(padded: bytes) -> bytes:
    if len(padded) not in BUCKETS:
        raise DecryptionFailed("padded payload has a size that is not a bucket")
    end = padded.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise DecryptionFailed("bad padding")
    return end[:-1]


def commitment(body: bytes, opening: bytes) -> bytes:
    if len(opening) != OPENING_BYTES:
        raise InvalidKey("an opening is 32 bytes")
    # hashlib's BLAKE2b is libsodium's (zero salt, NUL-padded personalisation), minus overhead.
    return hashlib.blake2b(
        body, digest_size=32, key=opening, person=labels.PERSON_FRANKING
    ).digest()


def verify_commitment(body: bytes, opening: bytes, expected: bytes) -> bool:
    """What a moderator checks when a reporter reveals an entry's body and opening."""
    return hmac.compare_digest(commitment(body, opening), expected)


def _u64(value: int) -> bytes:
    if value < 0 or value >= 2**63:
        raise InvalidKey("epoch out of range")
    return value.to_bytes(8, "big")


@dataclass(frozen=True)
class EnvelopeContext:
    """Where an envelope belongs; every field is bound into the associated data."""

    kind: str  # ENTRY or CORROBORATION
    circle_id: uuid.UUID
    epoch: int
    entry_id: uuid.UUID
    corroboration_id: uuid.UUID | None = None

    def associated_data(self, author_key: bytes, commit: bytes) -> bytes:
        if self.kind == ENTRY and self.corroboration_id is None:
            prefix, tail = labels.ENTRY_AD_PREFIX, b""
        elif self.kind == CORROBORATION and self.corroboration_id is not None:
            prefix, tail = labels.CORROBORATION_AD_PREFIX, self.corroboration_id.bytes
        else:
            raise InvalidKey("unknown envelope kind")
        if len(author_key) != 32 or len(commit) != 32:
            raise InvalidKey("author key and commitment are 32 bytes")
        return (
            prefix
            + self.circle_id.bytes
            + _u64(self.epoch)
            + self.entry_id.bytes
            + tail
            + author_key
            + commit
        )

    @property
    def object_id(self) -> uuid.UUID:
        return self.corroboration_id if self.corroboration_id is not None else self.entry_id

    def with_epoch(self, epoch: int) -> "EnvelopeContext":
        return EnvelopeContext(
            self.kind, self.circle_id, epoch, self.entry_id, self.corroboration_id
        )


@dataclass(frozen=True)
class Envelope:
    author_key: bytes
    commitment: bytes
    nonce: bytes
    ciphertext: bytes
    signature: bytes

    def signed_message(self, context: EnvelopeContext) -> bytes:
        return (
            labels.ENVELOPE_SIGNATURE_CONTEXT
            + context.associated_data(self.author_key, self.commitment)
            + self.nonce
            + self.ciphertext
        )

    def verify(self, context: EnvelopeContext) -> None:
        """Raise ``BadSignature`` unless the author key signed this envelope in this context."""
        if len(self.signature) != 64 or len(self.nonce) != NONCE_BYTES:
            raise BadSignature("malformed envelope")
        try:
            if len(self.author_key) != 32:
                raise InvalidKey("an author key is 32 bytes")
            # The binding VerifyKey.verify wraps, without its per-call object: feeds verify
            # thousands of envelopes.
            nacl.bindings.crypto_sign_open(
                self.signature + self.signed_message(context), self.author_key
            )
        except InvalidKey as exc:
            raise BadSignature(f"malformed envelope: {exc}") from exc
        except (
            nacl.exceptions.BadSignatureError,
            nacl.exceptions.ValueError,
            nacl.exceptions.TypeError,
        ) as exc:
            raise BadSignature("the envelope's signature does not verify here") from exc


def anonymous_signing_key(
    identity: IdentityKeys, *, circle_id: uuid.UUID, object_id: uuid.UUID
) -> SigningKey:
    """A per-object key only the author can re-derive (to retract), unlinkable to them."""
    seed: bytes = blake2b(
        circle_id.bytes + object_id.bytes,
        digest_size=32,
        key=bytes(identity.signing_key),
        person=labels.PERSON_ANON_ENTRY,
        encoder=RawEncoder,
    )
    return SigningKey(seed)


def signing_key_for(
    identity: IdentityKeys, context: EnvelopeContext, *, anonymous: bool
) -> SigningKey:
    if not anonymous:
        key: SigningKey = identity.signing_key
        return key
    return anonymous_signing_key(identity, circle_id=context.circle_id, object_id=context.object_id)


def seal(
    body: dict[str, Any], *, key: CircleKey, context: EnvelopeContext, signing_key: SigningKey
) -> Envelope:
    """Encrypt and sign a payload body; the nonce and opening are fresh and random."""
    body_bytes = canonical_json(body)
    opening = secrets.token_bytes(OPENING_BYTES)
    commit = commitment(body_bytes, opening)
    author_key = bytes(signing_key.verify_key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    ad = context.associated_data(author_key, commit)
    ciphertext = nacl.secret.Aead(key.entry_key).encrypt(
        pad(opening + body_bytes), ad, nonce, encoder=RawEncoder
    )[NONCE_BYTES:]
    unsigned = Envelope(author_key, commit, nonce, bytes(ciphertext), b"")
    signature = signing_key.sign(unsigned.signed_message(context)).signature
    return Envelope(author_key, commit, nonce, bytes(ciphertext), bytes(signature))


@dataclass(frozen=True)
class Opened:
    body: dict[str, Any]
    body_bytes: bytes
    opening: bytes


def open_envelope(
    envelope: Envelope, *, keys: dict[int, CircleKey], context: EnvelopeContext
) -> Opened:
    """Verify the signature first, then decrypt and check the commitment.

    An envelope that verifies only under another epoch's context raises ``WrongEpoch``.
    """
    try:
        envelope.verify(context)
    except BadSignature:
        for epoch in keys:
            if epoch != context.epoch:
                try:
                    envelope.verify(context.with_epoch(epoch))
                except BadSignature:
                    continue
                raise WrongEpoch(
                    f"this envelope belongs to epoch {epoch}, not {context.epoch}"
                ) from None
        raise
    key = keys.get(context.epoch)
    if key is None:
        raise DecryptionFailed(f"no key for epoch {context.epoch}")
    ad = context.associated_data(envelope.author_key, envelope.commitment)
    try:
        padded = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            envelope.ciphertext, ad, envelope.nonce, key.entry_key
        )
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise DecryptionFailed("the envelope does not decrypt") from exc
    plaintext = unpad(padded)
    opening, body_bytes = plaintext[:OPENING_BYTES], plaintext[OPENING_BYTES:]
    if len(opening) != OPENING_BYTES or not verify_commitment(
        body_bytes, opening, envelope.commitment
    ):
        raise DecryptionFailed("the commitment does not match the content")
    try:
        body = load_json(body_bytes)
    except InvalidKey as exc:
        raise DecryptionFailed("the payload is not valid JSON") from exc
    if not isinstance(body, dict):
        raise DecryptionFailed("the payload is not an object")
    return Opened(body, body_bytes, opening)


def retract_message(*, circle_id: uuid.UUID, entry_id: uuid.UUID) -> bytes:
    return labels.RETRACT_SIGNATURE_CONTEXT + circle_id.bytes + entry_id.bytes


def sign_retraction(signing_key: SigningKey, *, circle_id: uuid.UUID, entry_id: uuid.UUID) -> bytes:
    return bytes(
        signing_key.sign(retract_message(circle_id=circle_id, entry_id=entry_id)).signature
    )


def verify_retraction(
    author_key: bytes, signature: bytes, *, circle_id: uuid.UUID, entry_id: uuid.UUID
) -> None:
    try:
        VerifyKey(author_key).verify(
            retract_message(circle_id=circle_id, entry_id=entry_id), signature
        )
    except (
        nacl.exceptions.BadSignatureError,
        nacl.exceptions.ValueError,
        nacl.exceptions.TypeError,
    ) as exc:
        raise BadSignature("the retraction is not signed by the entry's author key") from exc


def author_tag(identity: IdentityKeys, *, circle_id: uuid.UUID, entry_id: uuid.UUID) -> bytes:
    """§24.1: BLAKE2b-256(circle_id || entry_id, key = Ed25519 seed, person "bc.v1.author-tag").

    The author sends it with a warning; every corroborator sends *their own* tag for the
    same entry. Only the same identity key gives the same tag, so the server refuses a
    self-corroboration by comparing two opaque values; tags of different entries are
    unrelated (a PRF under a key only the author holds), so they link nothing."""
    tag: bytes = blake2b(
        circle_id.bytes + entry_id.bytes,
        digest_size=32,
        key=bytes(identity.signing_key),
        person=labels.PERSON_AUTHOR_TAG,
        encoder=RawEncoder,
    )
    return tag


TERMS_MESSAGE_BYTES = len(labels.TERMS_SIGNATURE_CONTEXT) + 16 + 16 + 32 + 8


def terms_message(
    *, circle_id: uuid.UUID, entry_id: uuid.UUID, tag: bytes, expires_at: int
) -> bytes:
    """§24.2: "backchannel.entry-terms.v1\\0" || circle_id || entry_id || author_tag
    || expires_at (u64 BE, Unix seconds)."""
    if len(tag) != 32:
        raise InvalidKey("an author tag is 32 bytes")
    return (
        labels.TERMS_SIGNATURE_CONTEXT + circle_id.bytes + entry_id.bytes + tag + _u64(expires_at)
    )


def sign_terms(
    signing_key: SigningKey,
    *,
    circle_id: uuid.UUID,
    entry_id: uuid.UUID,
    tag: bytes,
    expires_at: int,
) -> bytes:
    """Signed by the key that signs the envelope (identity, or the per-entry anonymous key)."""
    message = terms_message(circle_id=circle_id, entry_id=entry_id, tag=tag, expires_at=expires_at)
    return bytes(signing_key.sign(message).signature)


def verify_terms(
    author_key: bytes,
    signature: bytes,
    *,
    circle_id: uuid.UUID,
    entry_id: uuid.UUID,
    tag: bytes,
    expires_at: int,
) -> None:
    try:
        message = terms_message(
            circle_id=circle_id, entry_id=entry_id, tag=tag, expires_at=expires_at
        )
        if len(author_key) != 32 or len(signature) != 64:
            raise InvalidKey("an author key is 32 bytes, a signature 64")
        # The binding VerifyKey.verify wraps, without its per-call object (a sync checks
        # the terms of every row, as it checks every envelope).
        nacl.bindings.crypto_sign_open(signature + message, author_key)
    except (
        InvalidKey,
        nacl.exceptions.BadSignatureError,
        nacl.exceptions.ValueError,
        nacl.exceptions.TypeError,
    ) as exc:
        raise BadSignature("the entry's terms are not signed by its author key") from exc


def _short_text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) <= limit


def _optional_text(value: Any, limit: int) -> bool:
    return value is None or _short_text(value, limit)


_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
SUBJECT_LIMIT = 200
ALIAS_LIMIT = 20
FIELD_LIMIT = 200


def check_entry_body(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a decrypted warning payload (version 1); raise ``DecryptionFailed`` if odd."""
    version = body.get("v")
    aliases, categories = body.get("aliases"), body.get("categories")
    happened = body.get("happened")
    ok = (
        type(version) is int
        and version == labels.ENTRY_PAYLOAD_VERSION
        and _short_text(body.get("subject"), SUBJECT_LIMIT)
        and bool(body["subject"])
        and isinstance(aliases, list)
        and len(aliases) <= ALIAS_LIMIT
        and all(_short_text(a, FIELD_LIMIT) and a for a in aliases)
        and isinstance(categories, list)
        and 0 < len(categories) == len(set(map(str, categories)))
        and all(c in CATEGORIES for c in categories)
        and isinstance(body.get("text"), str)
        and "severity" in body
        and (body["severity"] is None or body["severity"] in SEVERITIES)
        and _optional_text(body.get("affiliation"), FIELD_LIMIT)
        and _optional_text(body.get("contact"), FIELD_LIMIT)
        and (happened is None or (isinstance(happened, str) and bool(_MONTH.fullmatch(happened))))
        and body.get("attribution") in ("named", "anonymous")
    )
    if not ok:
        raise DecryptionFailed("the warning's payload is malformed")
    return body


def check_corroboration_body(body: dict[str, Any]) -> dict[str, Any]:
    version = body.get("v")
    if not (type(version) is int and version == 1 and isinstance(body.get("text"), str)):
        raise DecryptionFailed("the corroboration's payload is malformed")
    return body
