from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.crypto.entries import MAX_PADDED
from app.types import INTEGER_MAX, REQUEST_CONFIG, B64Bytes, Key32, Signature64, UUIDField

Nonce = Annotated[bytes, B64Bytes(24)]
Ciphertext = Annotated[bytes, B64Bytes(512 + 16, MAX_PADDED + 16)]


class EnvelopeFields(BaseModel):
    model_config = REQUEST_CONFIG

    epoch: int = Field(ge=0, le=INTEGER_MAX)
    author_key: Key32
    commitment: Key32
    nonce: Nonce
    ciphertext: Ciphertext
    signature: Signature64


class EnvelopeIn(EnvelopeFields):
    anonymous: bool  # only false is accepted with a session (§38: anonymous needs a token)


class EntryFields(EnvelopeFields):
    entry_id: UUIDField
    author_tag: Key32  # §24.1: the author's tag for this entry
    expires_at: int = Field(ge=0, le=2**53)  # Unix seconds, signed in the terms (§24.2)
    terms_signature: Signature64


class CorroborationFields(EnvelopeFields):
    corroboration_id: UUIDField
    author_tag: Key32  # the corroborator's own tag for the entry (§24.1)


class EntryCreate(EntryFields, EnvelopeIn):
    pass


class CorroborationCreate(CorroborationFields, EnvelopeIn):
    pass


class RetractRequest(BaseModel):
    model_config = REQUEST_CONFIG

    signature: Signature64


class EntryOut(BaseModel):
    entry_id: UUIDField
    seq: int
    epoch: int
    status: str
    anonymous: bool
    author: str | None  # null for anonymous entries, always
    author_key: Key32
    commitment: Key32
    nonce: Nonce | None
    ciphertext: Annotated[bytes, B64Bytes(0, MAX_PADDED + 16)] | None
    signature: Signature64 | None
    author_tag: Key32 | None  # null for entries posted before tags existed (§24.1)
    terms_signature: Signature64 | None  # null likewise: their expiry is the server's word
    corroborations: int  # corroborations ever accepted for this entry (not people)
    created_at: datetime
    expires_at: datetime
    change_seq: int  # the circle's change number when this entry last changed


class CorroborationOut(BaseModel):
    corroboration_id: UUIDField
    entry_id: UUIDField
    epoch: int
    anonymous: bool
    author: str | None
    author_key: Key32
    commitment: Key32
    nonce: Nonce | None
    ciphertext: Annotated[bytes, B64Bytes(0, MAX_PADDED + 16)] | None
    signature: Signature64 | None
    created_at: datetime


class EntryPage(BaseModel):
    entries: list[EntryOut]
    next_before: int | None  # pass as ?before= for the next (older) page
    last_seq: int  # the highest seq in the circle when the page was read
    last_change_seq: int  # the circle's newest change number when the page was read


class EntryDetail(BaseModel):
    entry: EntryOut
    corroborations: list[CorroborationOut]


class PostedOut(BaseModel):
    entry_id: UUIDField
    seq: int
    created_at: datetime
    expires_at: datetime
