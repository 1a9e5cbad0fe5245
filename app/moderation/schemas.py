from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.types import INTEGER_MAX, REQUEST_CONFIG, B64Bytes, Key32, Signature64, Username, UUIDField

Hash32 = Annotated[bytes, B64Bytes(32)]
ReportCiphertext = Annotated[bytes, B64Bytes(32 + 24 + 16 + 64 + 2, 160 * 1024)]
TakedownCiphertext = Annotated[bytes, B64Bytes(24 + 16 + 2, 64 * 1024)]
NoteCiphertext = Annotated[bytes, B64Bytes(32 + 24 + 16 + 1, 20 * 1024)]
ResponseCiphertext = Annotated[bytes, B64Bytes(24 + 16 + 1, 20 * 1024)]
Wrap = Annotated[bytes, B64Bytes(48 + 32 + 27 + 16 + 8, 256)]
RecordText = Annotated[str, Field(min_length=2, max_length=64 * 1024)]


class ModerationWrapIn(BaseModel):
    model_config = REQUEST_CONFIG

    username: Username
    wrap: Wrap


class ModerationKeyCreate(BaseModel):
    model_config = REQUEST_CONFIG

    generation: int = Field(ge=0, le=INTEGER_MAX)
    record: RecordText
    signature: Signature64
    wraps: Annotated[list[ModerationWrapIn], Field(min_length=1, max_length=1000)]
    prev_key_box: Annotated[bytes, B64Bytes(24 + 16 + 32)] | None = None


class ModerationKeyOut(BaseModel):
    generation: int
    public_key: Key32
    record: str
    signature: Signature64
    signer: str
    prev_key_box: Annotated[bytes, B64Bytes(24 + 16 + 32)] | None
    wrap: Wrap | None  # the caller's own wrap, when the caller is one of its admins
    created_at: datetime


class ReportCreate(BaseModel):
    model_config = REQUEST_CONFIG

    case_id: UUIDField
    entry_id: UUIDField
    generation: int = Field(ge=0, le=INTEGER_MAX)
    ciphertext: ReportCiphertext


class TakedownCreate(BaseModel):
    model_config = REQUEST_CONFIG

    circle_id: UUIDField
    case_id: UUIDField
    generation: int = Field(ge=0, le=INTEGER_MAX)
    moderation_key: Key32
    receipt_key: Key32
    receipt_token: Key32
    ciphertext: TakedownCiphertext


class CaseCreated(BaseModel):
    case_id: UUIDField
    status: str
    created_at: datetime


class ReceiptQuery(BaseModel):
    model_config = REQUEST_CONFIG

    case_id: UUIDField
    receipt_token: Key32


class ReceiptStatus(BaseModel):
    case_id: UUIDField
    status: str
    response: ResponseCiphertext | None
    updated_at: datetime


class DecisionCreate(BaseModel):
    model_config = REQUEST_CONFIG

    decision: RecordText
    signature: Signature64
    note: NoteCiphertext
    response: ResponseCiphertext | None = None


class DecisionOut(BaseModel):
    seq: int
    action: str
    entry_id: UUIDField | None
    decision: str
    signature: Signature64
    signer: str
    note: NoteCiphertext
    response: ResponseCiphertext | None
    created_at: datetime


class CaseOut(BaseModel):
    case_id: UUIDField
    kind: Literal["report", "takedown"]
    entry_id: UUIDField | None
    status: str
    generation: int
    ciphertext: Annotated[bytes, B64Bytes(0, 160 * 1024)]
    case_hash: Hash32
    receipt_key: Key32 | None
    created_at: datetime
    updated_at: datetime
    decisions: list[DecisionOut]


class CaseSummary(BaseModel):
    """What an entry's author learns: that it was reported and the outcome; never by whom."""

    case_id: UUIDField
    kind: str
    status: str
    actions: list[str]
    created_at: datetime
    updated_at: datetime
