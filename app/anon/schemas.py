from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.crypto.anon import MAX_TOKEN_BATCH, SEALED_AUTHOR_MAX, SEALED_AUTHOR_MIN, TOKEN_INPUT_BYTES
from app.entries.schemas import CorroborationFields, EntryFields
from app.types import INTEGER_MAX, REQUEST_CONFIG, B64Bytes, Key32, Signature64, UUIDField

Element = Annotated[bytes, B64Bytes(32)]
Proof = Annotated[bytes, B64Bytes(64)]
RecordText = Annotated[str, Field(min_length=2, max_length=4096)]
SealedAuthor = Annotated[bytes, B64Bytes(SEALED_AUTHOR_MIN, SEALED_AUTHOR_MAX)]


class IssuanceCreate(BaseModel):
    model_config = REQUEST_CONFIG

    record: RecordText
    signature: Signature64


class IssuanceRecordOut(BaseModel):
    epoch: int
    record: str
    signature: Signature64
    signer: str
    created_at: datetime


class IssuanceOut(BaseModel):
    epoch: int  # the circle's current epoch
    oprf_public_key: Key32  # the server's own word; clients pin the signed record's key
    record: IssuanceRecordOut | None  # null until an admin signs this epoch's key
    tokens_used: int  # tokens the caller took this week in this epoch
    tokens_allowed: int  # per week (the record's tokens_per_week); 0 if unsigned


class TokenRequest(BaseModel):
    model_config = REQUEST_CONFIG

    epoch: int = Field(ge=0, le=INTEGER_MAX)
    blinded: list[Element] = Field(min_length=1, max_length=MAX_TOKEN_BATCH)


class TokenAnswer(BaseModel):
    evaluated: list[Element]
    proof: Proof


class Token(BaseModel):
    model_config = REQUEST_CONFIG

    input: Annotated[bytes, B64Bytes(TOKEN_INPUT_BYTES)]
    output: Annotated[bytes, B64Bytes(64)]


class AnonymousFields(BaseModel):
    """What every anonymous request adds to its envelope: one token, the sealed author."""

    model_config = REQUEST_CONFIG

    token: Token
    sealed_author: SealedAuthor
    author_generation: int = Field(ge=0, le=INTEGER_MAX)


class AnonymousEntryCreate(EntryFields, AnonymousFields):
    pass


class AnonymousCorroborationCreate(CorroborationFields, AnonymousFields):
    pass


class UnmaskRequest(BaseModel):
    model_config = REQUEST_CONFIG

    entry_id: UUIDField
    corroboration_id: UUIDField | None = None


class UnmaskOut(BaseModel):
    object_id: UUIDField  # the entry or corroboration whose author this is
    author_key: Key32
    sealed_author: Annotated[bytes, B64Bytes(SEALED_AUTHOR_MIN, SEALED_AUTHOR_MAX)]
    author_generation: int
