from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.crypto.proofs import MAX_NONCE, SOLUTIONS
from app.crypto.takedowns import MAX_SEALED
from app.entries.schemas import EntryOut
from app.types import INTEGER_MAX, REQUEST_CONFIG, B64Bytes, Key32, Signature64, Username, UUIDField

Hash32 = Annotated[bytes, B64Bytes(32)]
ReportCiphertext = Annotated[bytes, B64Bytes(32 + 24 + 16 + 64 + 2, 160 * 1024)]
TakedownCiphertext = Annotated[bytes, B64Bytes(24 + 16 + 2, MAX_SEALED)]
# A challenge (app.moderation.intake): version, circle, time, work, random, keyed hash.
CHALLENGE_BYTES = 1 + 16 + 8 + 4 + 16 + 32
ChallengeBytes = Annotated[bytes, B64Bytes(CHALLENGE_BYTES)]
Nonce = Annotated[int, Field(ge=0, le=MAX_NONCE, strict=True)]
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


class TakedownLinkIn(BaseModel):
    """What a takedown link names: the circle and one generation of its moderation key."""

    model_config = REQUEST_CONFIG

    circle_id: UUIDField
    generation: int = Field(ge=0, le=INTEGER_MAX)
    moderation_key: Key32


class ChallengeOut(BaseModel):
    challenge: ChallengeBytes  # opaque to clients: made and checked by this server
    work: int  # expected evaluations per solution
    solutions: int
    expires_at: datetime


class ProofIn(BaseModel):
    model_config = REQUEST_CONFIG

    challenge: ChallengeBytes
    nonces: Annotated[list[Nonce], Field(min_length=SOLUTIONS, max_length=SOLUTIONS)]


class TakedownCreate(BaseModel):
    model_config = REQUEST_CONFIG

    circle_id: UUIDField
    case_id: UUIDField
    generation: int = Field(ge=0, le=INTEGER_MAX)
    moderation_key: Key32
    receipt_key: Key32
    receipt_token: Key32
    ciphertext: TakedownCiphertext
    proof: ProofIn


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


class CaseDecisionIn(DecisionCreate):
    """One decision of a batch: a signed decision as for one case, and which case."""

    case_id: UUIDField


class DecisionBatch(BaseModel):
    """Decisions on several cases at once (a flood of junk requests dismissed in a few
    calls); all or none, each exactly as if posted alone."""

    model_config = REQUEST_CONFIG

    decisions: Annotated[list[CaseDecisionIn], Field(min_length=1, max_length=100)]


class CaseDecided(BaseModel):
    case_id: UUIDField
    status: str


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
    entry: EntryOut | None = None  # a report's entry as an admin sees it (pages of cases only)


class AuthorCasesRequest(BaseModel):
    """An anonymous warning's author, asking for its cases without a session (§38.5)."""

    model_config = REQUEST_CONFIG

    at: int = Field(ge=0, le=2**53)  # Unix seconds, within five minutes of the server's
    signature: Signature64  # by the per-entry key over author_cases_message


class CasePage(BaseModel):
    """One page of a circle's cases, newest first; ``next_cursor`` (when there may be more)
    is passed back as ``cursor`` for the next page."""

    cases: list[CaseOut]
    next_cursor: str | None


class CaseSummary(BaseModel):
    """What an entry's author learns: that it was reported and the outcome; never by whom."""

    case_id: UUIDField
    kind: str
    status: str
    actions: list[str]
    created_at: datetime
    updated_at: datetime
