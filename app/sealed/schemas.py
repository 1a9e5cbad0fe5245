from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.crypto.sealed import MAX_TAGS
from app.types import REQUEST_CONFIG, B64Bytes, Key32, Signature64, UUIDField

Element = Annotated[bytes, B64Bytes(32)]
Proof = Annotated[bytes, B64Bytes(64)]
Tag = Annotated[bytes, B64Bytes(32)]
SettingsText = Annotated[str, Field(min_length=2, max_length=4096)]
# A filing with ten tags, its wraps and a 64 KiB padded body, base64 in JSON.
FilingText = Annotated[str, Field(min_length=2, max_length=96 * 1024)]


class SettingsCreate(BaseModel):
    model_config = REQUEST_CONFIG

    record: SettingsText
    signature: Signature64


class SettingsRecordOut(BaseModel):
    seq: int
    record: str
    signature: Signature64
    signer: str
    created_at: datetime


class SettingsOut(BaseModel):
    oprf_public_key: Key32  # the server's own word; clients pin the signed records' key
    records: list[SettingsRecordOut]  # oldest first
    evaluations_used: int  # OPRF elements the caller asked for in the last 24 hours
    evaluations_allowed: int  # per 24 hours (twice the record's names per day); 0 if unset


class EvaluationCreate(BaseModel):
    model_config = REQUEST_CONFIG

    blinded: Annotated[list[Element], Field(min_length=1, max_length=MAX_TAGS)]


class EvaluationOut(BaseModel):
    evaluated: list[Element]
    proof: Proof


class FilingCreate(BaseModel):
    model_config = REQUEST_CONFIG

    record: FilingText
    signature: Signature64


class FilingOut(BaseModel):
    filing_id: UUIDField
    status: str  # open | matched | withdrawn | void
    k: int
    record: str | None  # wiped when withdrawn or void
    signature: Signature64 | None
    created_at: datetime
    updated_at: datetime


class MatchFilingOut(BaseModel):
    filing_id: UUIDField
    filer: str
    record: str
    signature: Signature64
    created_at: datetime


class MatchOut(BaseModel):
    match_id: UUIDField
    k: int
    tag: Tag
    created_at: datetime
    filings: list[MatchFilingOut]
