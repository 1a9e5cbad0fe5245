from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.accounts.schemas import IdentityOut
from app.types import REQUEST_CONFIG, Key32, UUIDField


class InviteCreateRequest(BaseModel):
    model_config = REQUEST_CONFIG

    invite_id: UUIDField
    secret_hash: Key32  # BLAKE2b(secret); the secret itself stays in the invite string
    role: Literal["member", "admin"] = "member"
    max_uses: int = Field(default=1, ge=1, le=1000)
    expires_in_days: int = Field(default=7, ge=1, le=90)


class InviteOut(BaseModel):
    invite_id: UUIDField
    circle_id: UUIDField
    role: str
    max_uses: int
    uses: int
    expires_at: datetime
    revoked: bool
    created_by: str


class RedeemRequest(BaseModel):
    model_config = REQUEST_CONFIG

    circle_id: UUIDField
    invite_id: UUIDField
    secret: Key32


class InviterOut(BaseModel):
    username: str
    fingerprint: str
    identity: IdentityOut


class RedeemOut(BaseModel):
    circle_id: UUIDField
    status: Literal["pending"]
    inviter: InviterOut
