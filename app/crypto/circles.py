"""Circle keys: per-epoch keys, signed key records, sealed wraps, the previous-key chain.

A circle's membership history is a chain of *key records*. Each record lists
the exact member set (username, fingerprint, role) for an epoch and the epoch
key's id, points at the previous record's hash, and is signed by an admin of
the previous record. A new member or a role change adds a record in the same
epoch; a removal adds a record in a new epoch with a new key.
"""

import base64
import binascii
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import nacl.exceptions
import nacl.secret
from nacl.encoding import RawEncoder
from nacl.hash import blake2b
from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from app.crypto import labels
from app.crypto.encoding import pasted_token
from app.crypto.errors import (
    BadSignature,
    DecryptionFailed,
    InvalidKey,
    RecordChainBroken,
    UntrustedSigner,
    WrongEpoch,
)
from app.crypto.identity import IdentityKeys, PublicIdentity
from app.crypto.kdf import subkey

KEY_ID_BYTES = 16
ROLES = ("owner", "admin", "member")
ADMIN_ROLES = frozenset({"owner", "admin"})


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes that are hashed and signed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _reject_number(text: str) -> Any:
    raise ValueError(f"non-integer number {text[:20]!r}")


# One decoder for every protocol document (``json.loads`` with hooks builds a new one per
# call, which cost more than parsing a warning's payload).
_DECODER = json.JSONDecoder(parse_float=_reject_number, parse_constant=_reject_number)


def load_json(raw: bytes | str) -> Any:
    """Parse protocol JSON: integers only (no floats, NaN or Infinity), bounded nesting."""
    try:
        if isinstance(raw, bytes):
            # Strict UTF-8 only, as §1 says: json.loads(bytes) would also take a byte-order
            # mark or UTF-16/32, which another client rightly refuses.
            if raw.startswith(b"\xef\xbb\xbf"):
                raise ValueError("byte-order mark")
            raw = raw.decode("utf-8")
        return _DECODER.decode(raw)
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:  # JSON, UTF-8 too
        raise InvalidKey("malformed JSON") from exc


def _epoch_context(circle_id: uuid.UUID, epoch: int) -> bytes:
    if epoch < 0 or epoch >= 2**63:
        raise InvalidKey("epoch out of range")
    return circle_id.bytes + epoch.to_bytes(8, "big")


class CircleKey:
    """One epoch's 32-byte key; its subkeys encrypt entries and circle metadata.

    Subkeys are derived once per object (reading a feed uses them for every entry).
    """

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise InvalidKey("a circle key is 32 bytes")
        self._raw = raw

    @classmethod
    def generate(cls) -> "CircleKey":
        return cls(secrets.token_bytes(32))

    def __bytes__(self) -> bytes:
        return self._raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CircleKey) and hmac.compare_digest(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(self.key_id)

    def __repr__(self) -> str:
        return f"CircleKey(id={self.key_id.hex()})"

    @cached_property
    def key_id(self) -> bytes:
        return subkey(self._raw, labels.PERSON_KEY_ID, KEY_ID_BYTES)

    @cached_property
    def entry_key(self) -> bytes:
        return subkey(self._raw, labels.PERSON_ENTRY_KEY)

    @cached_property
    def meta_key(self) -> bytes:
        return subkey(self._raw, labels.PERSON_META_KEY)


def seal_prefixed(secret: bytes, *, prefix: bytes, recipient: bytes) -> bytes:
    """crypto_box_seal of ``prefix || secret`` to an X25519 key: how every wrap is made."""
    sealed: bytes = SealedBox(PublicKey(recipient)).encrypt(prefix + secret, encoder=RawEncoder)
    return sealed


def open_prefixed(
    wrap: bytes, *, prefix: bytes, identity: IdentityKeys, what: str, elsewhere: str
) -> bytes:
    """Unseal a wrap and return its 32-byte secret, if it starts with exactly ``prefix``."""
    try:
        plaintext = SealedBox(identity.box_key).decrypt(wrap, encoder=RawEncoder)
    except (nacl.exceptions.CryptoError, nacl.exceptions.TypeError) as exc:
        raise DecryptionFailed(f"the {what} does not open with your key") from exc
    if len(plaintext) != len(prefix) + 32 or not hmac.compare_digest(
        plaintext[: len(prefix)], prefix
    ):
        raise WrongEpoch(f"the {what} is for {elsewhere}")
    return bytes(plaintext[len(prefix) :])


def seal_wrap(key: CircleKey, *, circle_id: uuid.UUID, epoch: int, recipient: bytes) -> bytes:
    """crypto_box_seal of prefix || circle id || epoch || key to the member's X25519 key."""
    prefix = labels.WRAP_PREFIX + _epoch_context(circle_id, epoch)
    return seal_prefixed(bytes(key), prefix=prefix, recipient=recipient)


def open_wrap(
    wrap: bytes,
    *,
    circle_id: uuid.UUID,
    epoch: int,
    identity: IdentityKeys,
    expected_key_id: bytes,
) -> CircleKey:
    """Unseal a wrap and check it is this circle's key for this epoch, as the signed record says."""
    raw = open_prefixed(
        wrap,
        prefix=labels.WRAP_PREFIX + _epoch_context(circle_id, epoch),
        identity=identity,
        what="key wrap",
        elsewhere="another circle or epoch",
    )
    key = CircleKey(raw)
    if not hmac.compare_digest(key.key_id, expected_key_id):
        raise UntrustedSigner("the wrapped key is not the key the signed record names")
    return key


def seal_previous_key(
    new: CircleKey, previous: CircleKey, *, circle_id: uuid.UUID, epoch: int
) -> bytes:
    """The previous epoch's key encrypted under the new one (``epoch`` is the new epoch)."""
    nonce = secrets.token_bytes(nacl.secret.Aead.NONCE_SIZE)
    ad = labels.PREV_KEY_AD_PREFIX + _epoch_context(circle_id, epoch)
    return bytes(nacl.secret.Aead(bytes(new)).encrypt(bytes(previous), ad, nonce))


def open_previous_key(
    box: bytes, new: CircleKey, *, circle_id: uuid.UUID, epoch: int, expected_key_id: bytes
) -> CircleKey:
    ad = labels.PREV_KEY_AD_PREFIX + _epoch_context(circle_id, epoch)
    try:
        raw = nacl.secret.Aead(bytes(new)).decrypt(box, ad)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:  # short box: ValueError
        raise DecryptionFailed("the previous-epoch key does not open") from exc
    if len(raw) != 32:
        raise DecryptionFailed("the previous-epoch key has the wrong size")
    key = CircleKey(raw)
    if not hmac.compare_digest(key.key_id, expected_key_id):
        raise UntrustedSigner("the previous-epoch key is not the one the signed record names")
    return key


def seal_circle_meta(
    key: CircleKey, *, circle_id: uuid.UUID, epoch: int, meta: dict[str, str]
) -> bytes:
    """Circle name and description, encrypted so the server sees an opaque id only."""
    nonce = secrets.token_bytes(nacl.secret.Aead.NONCE_SIZE)
    ad = labels.CIRCLE_META_AD_PREFIX + _epoch_context(circle_id, epoch)
    return bytes(nacl.secret.Aead(key.meta_key).encrypt(canonical_json(meta), ad, nonce))


def open_circle_meta(
    box: bytes, key: CircleKey, *, circle_id: uuid.UUID, epoch: int
) -> dict[str, str]:
    ad = labels.CIRCLE_META_AD_PREFIX + _epoch_context(circle_id, epoch)
    try:
        raw = nacl.secret.Aead(key.meta_key).decrypt(box, ad)
        meta = load_json(raw)
    except (nacl.exceptions.CryptoError, ValueError, TypeError, InvalidKey) as exc:
        raise DecryptionFailed("the circle's name does not open") from exc
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise DecryptionFailed("the circle's metadata is malformed")
    return meta


@dataclass(frozen=True, order=True)
class RecordMember:
    user: str
    fp: str
    role: str


@dataclass(frozen=True)
class KeyRecord:
    """The signed membership state of a circle at one point of its history."""

    circle_id: uuid.UUID
    seq: int
    epoch: int
    key_id: bytes
    members: tuple[RecordMember, ...]
    prev: bytes | None
    signer: str

    def to_json(self) -> dict[str, Any]:
        from app.crypto.encoding import b64encode

        return {
            "v": labels.KEY_RECORD_VERSION,
            "type": labels.KEY_RECORD_TYPE,
            "circle": self.circle_id.hex,
            "seq": self.seq,
            "epoch": self.epoch,
            "key_id": b64encode(self.key_id),
            "members": [{"user": m.user, "fp": m.fp, "role": m.role} for m in self.members],
            "prev": None if self.prev is None else b64encode(self.prev),
            "signer": self.signer,
        }

    def to_bytes(self) -> bytes:
        return self._bytes

    @cached_property
    def _bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def parse(cls, raw: bytes) -> "KeyRecord":
        """Parse and validate; the bytes must be exactly the canonical encoding."""
        from app.crypto.encoding import b64decode
        from app.crypto.identity import normalise_fingerprint

        try:
            data = load_json(raw)
            if data["v"] != labels.KEY_RECORD_VERSION or data["type"] != labels.KEY_RECORD_TYPE:
                raise InvalidKey("unknown key record version")
            members = tuple(
                RecordMember(
                    user=str(m["user"]), fp=normalise_fingerprint(m["fp"]), role=str(m["role"])
                )
                for m in data["members"]
            )
            record = cls(
                circle_id=uuid.UUID(hex=data["circle"]),
                seq=int(data["seq"]),
                epoch=int(data["epoch"]),
                key_id=b64decode(data["key_id"]),
                members=members,
                prev=None if data["prev"] is None else b64decode(data["prev"]),
                signer=str(data["signer"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            raise InvalidKey("malformed key record") from exc
        record.check_shape()
        if record.to_bytes() != raw:
            raise InvalidKey("key record is not in canonical form")
        return record

    def check_shape(self) -> None:
        if len(self.key_id) != KEY_ID_BYTES or self.seq < 0 or self.epoch < 0:
            raise InvalidKey("malformed key record")
        if self.prev is not None and len(self.prev) != 32:
            raise InvalidKey("malformed key record")
        users = [m.user for m in self.members]
        if users != sorted(set(users)) or not users:
            raise InvalidKey("record members must be unique and sorted by username")
        if any(m.role not in ROLES for m in self.members):
            raise InvalidKey("unknown role in key record")
        if not any(m.role == "owner" for m in self.members):
            raise InvalidKey("a circle always has an owner")

    def hash(self) -> bytes:
        digest: bytes = blake2b(
            self.to_bytes(),
            digest_size=32,
            person=labels.PERSON_RECORD_HASH,
            encoder=RawEncoder,
        )
        return digest

    @cached_property
    def _by_user(self) -> dict[str, RecordMember]:
        return {m.user: m for m in self.members}

    def member(self, user: str) -> RecordMember | None:
        """O(1): chain checks look up every member of 10,000-member records."""
        return self._by_user.get(user)

    def sign(self, identity: IdentityKeys) -> bytes:
        signing: SigningKey = identity.signing_key
        message = labels.KEY_RECORD_SIGNATURE_CONTEXT + self.to_bytes()
        return bytes(signing.sign(message).signature)

    def verify_signature(self, signature: bytes, signer: PublicIdentity) -> None:
        message = labels.KEY_RECORD_SIGNATURE_CONTEXT + self.to_bytes()
        try:
            VerifyKey(signer.ed25519_public).verify(message, signature)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError) as exc:
            raise BadSignature("key record signature does not verify") from exc


def check_successor(previous: KeyRecord | None, record: KeyRecord) -> None:
    """Raise ``RecordChainBroken`` unless ``record`` may follow ``previous`` in a circle's chain."""
    if previous is None:
        if record.seq != 0 or record.epoch != 0 or record.prev is not None:
            raise RecordChainBroken("the first record must be seq 0, epoch 0, with no parent")
        creator = record.member(record.signer)
        if creator is None or creator.role != "owner" or len(record.members) != 1:
            raise RecordChainBroken("the first record lists only its signer, as owner")
        return
    if record.circle_id != previous.circle_id:
        raise RecordChainBroken("record belongs to another circle")
    if record.seq != previous.seq + 1:
        raise RecordChainBroken(f"expected record {previous.seq + 1}, got {record.seq}")
    if record.prev is None or not hmac.compare_digest(record.prev, previous.hash()):
        raise RecordChainBroken(f"record {record.seq} does not point at record {previous.seq}")
    if record.epoch == previous.epoch:
        if not hmac.compare_digest(record.key_id, previous.key_id):
            raise RecordChainBroken("the key changed without a new epoch")
    elif record.epoch == previous.epoch + 1:
        if hmac.compare_digest(record.key_id, previous.key_id):
            raise RecordChainBroken("a new epoch must have a new key")
    else:
        raise WrongEpoch(f"epoch jumped from {previous.epoch} to {record.epoch}")
    signer = previous.member(record.signer)
    if signer is None or signer.role not in ADMIN_ROLES:
        raise UntrustedSigner(f"{record.signer} was not an admin of the previous record")
    kept = {m.user for m in record.members}
    dropped = [m for m in previous.members if m.user not in kept]
    if dropped and record.epoch == previous.epoch:
        # Whoever leaves the member set still holds the key: only a new epoch may drop them.
        raise RecordChainBroken("members were dropped without a new epoch key")
    for member in record.members:
        before = previous.member(member.user)
        if before is not None and before.fp != member.fp:
            raise UntrustedSigner(f"{member.user}'s key changed inside the circle")
        was_owner = before is not None and before.role == "owner"
        if (member.role == "owner") != was_owner and signer.role != "owner":
            raise UntrustedSigner("only an owner may make or unmake an owner")


def signer_fingerprint(previous: KeyRecord | None, record: KeyRecord) -> str:
    """The fingerprint the signer must have: as listed by the record that authorises them."""
    source = record if previous is None else previous
    member = source.member(record.signer)
    if member is None:
        raise UntrustedSigner("the signer is not listed")
    return member.fp


def verify_record(
    previous: KeyRecord | None, record: KeyRecord, signature: bytes, signer: PublicIdentity
) -> None:
    """Chain rule, signer authority, signer key fingerprint and signature, in that order."""
    check_successor(previous, record)
    if signer.fingerprint() != signer_fingerprint(previous, record):
        raise UntrustedSigner(f"{record.signer}'s key is not the one the circle lists")
    record.verify_signature(signature, signer)


def leave_statement(*, circle_id: uuid.UUID, user: str, record_seq: int) -> bytes:
    """What a leaving member signs, so no admin client drops a member the server made up."""
    return canonical_json(
        {
            "v": 1,
            "type": labels.LEAVE_TYPE,
            "circle": circle_id.hex,
            "user": user,
            "record_seq": record_seq,
        }
    )


def sign_leave(identity: IdentityKeys, statement: bytes) -> bytes:
    signing: SigningKey = identity.signing_key
    return bytes(signing.sign(labels.LEAVE_SIGNATURE_CONTEXT + statement).signature)


def verify_leave(
    statement: bytes, signature: bytes, *, circle_id: uuid.UUID, user: str, signer: PublicIdentity
) -> int:
    """Check a departure is ``user``'s own signed word; return the record seq it was made at."""
    try:
        data = load_json(statement)
        seq = int(data["record_seq"])
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise InvalidKey("malformed leave statement") from exc
    if statement != leave_statement(circle_id=circle_id, user=user, record_seq=seq):
        raise InvalidKey("the leave statement names another circle or member")
    try:
        VerifyKey(signer.ed25519_public).verify(
            labels.LEAVE_SIGNATURE_CONTEXT + statement, signature
        )
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError) as exc:
        raise BadSignature("leave statement signature does not verify") from exc
    return seq


# Invites: one string to send, carrying the secret, the inviter's fingerprint and the
# hash of the newest key record the inviter's client verified.
INVITE_SECRET_BYTES = 32
_INVITE_FORM = re.compile(
    r"bcinvite1\.[0-9a-f]{32}\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43}\.[0-9]{30}\.[A-Za-z0-9_-]{43}"
)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, repr=False)
class Invite:
    """What the inviter sends out of band.

    ``record_hash`` names the newest key record the inviter verified: the joiner's chain
    must pass through it, so a server cannot show the joiner a history of its own making.
    """

    circle_id: uuid.UUID
    invite_id: uuid.UUID
    secret: bytes
    inviter_fingerprint: str
    record_hash: bytes

    @classmethod
    def create(
        cls, *, circle_id: uuid.UUID, inviter_fingerprint: str, record_hash: bytes
    ) -> "Invite":
        if len(record_hash) != 32:
            raise InvalidKey("a record hash is 32 bytes")
        return cls(
            circle_id,
            uuid.uuid4(),
            secrets.token_bytes(INVITE_SECRET_BYTES),
            inviter_fingerprint,
            record_hash,
        )

    @property
    def secret_hash(self) -> bytes:
        return invite_secret_hash(self.secret)

    def __str__(self) -> str:
        digits = self.inviter_fingerprint.replace(" ", "")
        return ".".join(
            [
                labels.INVITE_PREFIX,
                self.circle_id.hex,
                self.invite_id.hex,
                _b64url(self.secret),
                digits,
                _b64url(self.record_hash),
            ]
        )

    @classmethod
    def parse(cls, text: str) -> "Invite":
        """Strict: exactly the form ``__str__`` writes, once pasted (whitespace and angle
        brackets, §1) and taken out of a link (``https://…/join#bcinvite1…``)."""
        from app.crypto.identity import normalise_fingerprint

        text = pasted_token(text)
        if "#" in text:
            text = text.rsplit("#", 1)[1]
        if len(text) > 300 or not _INVITE_FORM.fullmatch(text):
            raise InvalidKey("this is not a Backchannel invite")
        _, circle_hex, invite_hex, secret_text, digits, anchor_text = text.split(".")
        try:
            secret = base64.urlsafe_b64decode(secret_text + "=")
            anchor = base64.urlsafe_b64decode(anchor_text + "=")
        except (ValueError, binascii.Error) as exc:
            raise InvalidKey("this invite is damaged") from exc
        invite = cls(
            circle_id=uuid.UUID(hex=circle_hex),
            invite_id=uuid.UUID(hex=invite_hex),
            secret=secret,
            inviter_fingerprint=normalise_fingerprint(digits),
            record_hash=anchor,
        )
        if str(invite) != text:  # a non-canonical base64 tail
            raise InvalidKey("this invite is damaged")
        return invite

    def __repr__(self) -> str:
        return f"Invite(circle={self.circle_id}, id={self.invite_id})"


def event_hash(body: bytes) -> bytes:
    """A membership event's hash (§15): what the next event's ``prev`` names."""
    digest: bytes = blake2b(
        body, digest_size=32, person=labels.PERSON_EVENT_HASH, encoder=RawEncoder
    )
    return digest


def invite_secret_hash(secret: bytes) -> bytes:
    digest: bytes = blake2b(
        secret, digest_size=32, person=labels.PERSON_INVITE_HASH, encoder=RawEncoder
    )
    return digest
