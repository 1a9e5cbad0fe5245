"""Takedowns (§31): the link an admin gives out, the requester's receipt, the request
sealed under the key the receipt key and the moderation key share, and the admins'
response. Nothing here needs an account."""

import base64
import binascii
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from functools import cached_property

from nacl.public import PrivateKey

from app.crypto import labels
from app.crypto.circles import canonical_json, load_json
from app.crypto.encoding import pasted_token
from app.crypto.errors import DecryptionFailed, InvalidKey, WrongEpoch
from app.crypto.kdf import subkey
from app.crypto.moderation import (
    ModerationKey,
    open_box,
    open_text_box,
    seal_box,
    shared_key,
    u64,
)

MAX_NAME = 200
MAX_CONTACT = 500
# What the server stores of a request is at most 4 KiB for everyone (junk and genuine look
# alike); a request's canonical JSON may take all of it but the nonce and the tag.
MAX_SEALED = 4096
MAX_REQUEST_BYTES = MAX_SEALED - 24 - 16
MAX_RESPONSE = 4000


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


_LINK_FORM = re.compile(r"bctakedown1\.[0-9a-f]{32}\.[0-9]{1,18}\.[A-Za-z0-9_-]{43}")
_RECEIPT_FORM = re.compile(
    r"bcreceipt1\.[0-9a-f]{32}\.[0-9a-f]{32}\.[0-9]{1,18}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}"
)


def _split_url(text: str, path: str) -> tuple[str, str]:
    """``<base>/<path>#<fragment>`` → (base, fragment); the fragment never reaches a server."""
    text = pasted_token(text)
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
    return prefix + circle_id.bytes + case_id.bytes + u64(generation)


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


def request_size(name: str, contact: str, text: str) -> int:
    """The bytes a request with these fields takes (ids are fixed-length, so any will do)."""
    return len(TakedownRequest(uuid.UUID(int=0), uuid.UUID(int=0), name, contact, text).to_bytes())


def check_takedown_fields(name: str, contact: str, text: str) -> None:
    """What the writer refuses (§31.3), with what to do about it."""
    if not name.strip() or len(name) > MAX_NAME:
        raise InvalidKey(f"a name is 1 to {MAX_NAME} characters")
    if len(contact) > MAX_CONTACT:
        raise InvalidKey(f"contact details are at most {MAX_CONTACT} characters")
    if not text.strip():
        raise InvalidKey("the request needs a text")
    over = request_size(name, contact, text) - MAX_REQUEST_BYTES
    if over > 0:
        raise InvalidKey(
            f"the request is {over} bytes too long (at most {MAX_REQUEST_BYTES} bytes "
            "with the name and contact): shorten the text"
        )


def seal_takedown(request: TakedownRequest, receipt: Receipt) -> bytes:
    """``nonce || AEAD`` under the key the receipt key and the moderation key share."""
    check_takedown_fields(request.name, request.contact, request.text)
    if (request.circle_id, request.case_id) != (receipt.circle_id, receipt.case_id):
        raise InvalidKey("the receipt is for another request")
    key = shared_key(bytes(receipt.private_key), receipt.moderation_public)
    ad = _takedown_ad(
        labels.TAKEDOWN_AD_PREFIX, receipt.circle_id, receipt.case_id, receipt.generation
    )
    return seal_box(key, request.to_bytes(), ad)


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
    body = open_box(shared, ciphertext, ad, "takedown request")
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
    return seal_box(shared, text.encode("utf-8"), ad)


def open_response(ciphertext: bytes, receipt: Receipt) -> str:
    shared = shared_key(bytes(receipt.private_key), receipt.moderation_public)
    ad = _takedown_ad(
        labels.TAKEDOWN_RESPONSE_AD_PREFIX, receipt.circle_id, receipt.case_id, receipt.generation
    )
    return open_text_box(shared, ciphertext, ad, "response")


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
    return open_text_box(shared, ciphertext, ad, "response")
