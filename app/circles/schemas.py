from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.accounts.schemas import IdentityOut
from app.types import REQUEST_CONFIG, B64Bytes, Signature64, Username, UUIDField

WrapBytes = Annotated[bytes, B64Bytes(48, 256)]
MetaBytes = Annotated[bytes, B64Bytes(40, 4096)]
PrevKeyBox = Annotated[bytes, B64Bytes(72)]  # 24-byte nonce + 32-byte key + 16-byte tag
RecordText = Annotated[str, Field(min_length=2, max_length=4 * 1024 * 1024)]
MAX_MEMBERS = 20_000


class SignedRecord(BaseModel):
    model_config = REQUEST_CONFIG

    record: RecordText
    signature: Signature64


class CircleCreateRequest(SignedRecord):
    circle_id: UUIDField
    wrap: WrapBytes
    meta: MetaBytes


class WrapIn(BaseModel):
    model_config = REQUEST_CONFIG

    username: Username
    wrap: WrapBytes


class Rotation(SignedRecord):
    """A new epoch: the signed record, a wrap for exactly each member, the previous key."""

    wraps: Annotated[list[WrapIn], Field(min_length=1, max_length=MAX_MEMBERS)]
    prev_key_box: PrevKeyBox
    meta: MetaBytes | None = None


class ConfirmRequest(SignedRecord):
    wrap: WrapBytes


class RoleRequest(SignedRecord):
    role: Literal["owner", "admin", "member"]


class LeaveRequest(BaseModel):
    """An active member's signed departure (a pending member may send an empty body)."""

    model_config = REQUEST_CONFIG

    statement: Annotated[str, Field(max_length=512)]
    signature: Signature64


class DeleteRequest(BaseModel):
    """An owner's signed deletion statement (docs/protocol.md §16.9)."""

    model_config = REQUEST_CONFIG

    statement: Annotated[str, Field(max_length=512)]
    signature: Signature64


class Deletion(BaseModel):
    """A deleted circle's tombstone, for its members' clients to check."""

    by: str
    at: datetime
    statement: str
    signature: Signature64


class Departure(BaseModel):
    statement: str
    signature: Signature64


class RemoveRequest(BaseModel):
    model_config = REQUEST_CONFIG

    rotation: Rotation | None = None


class CircleOut(BaseModel):
    circle_id: UUIDField
    role: str
    status: str
    epoch: int
    record_seq: int
    rotation_due: bool
    meta_epoch: int | None
    meta: Annotated[bytes, B64Bytes(0, 4096)] | None
    deletion: Deletion | None = None


class MemberOut(BaseModel):
    username: str
    role: str
    status: str
    fingerprint: str
    identity: IdentityOut
    departure: Departure | None = None
    # The person deleted their account: what they left shows as from "a former member".
    account_deleted: bool = False


class RecordOut(BaseModel):
    seq: int
    epoch: int
    record: str
    signature: Signature64
    signer: str
    signer_identity: IdentityOut


class EpochKeyOut(BaseModel):
    epoch: int
    key_id: Annotated[bytes, B64Bytes(16)]
    prev_key_box: PrevKeyBox | None
    wrap: WrapBytes | None


class EventOut(BaseModel):
    seq: int
    body: str
    hash: Annotated[bytes, B64Bytes(32)]


class MembershipOut(BaseModel):
    circle_id: UUIDField
    username: str
    role: str
    status: str
    epoch: int
