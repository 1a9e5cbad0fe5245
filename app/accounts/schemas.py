import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.crypto.bundle import BUNDLE_BYTES
from app.types import (
    REQUEST_CONFIG,
    RESPONSE_CONFIG,
    B64Bytes,
    DeviceLabel,
    Key32,
    Salt16,
    Signature64,
    Username,
    UUIDField,
)

KeyBundle = Annotated[bytes, B64Bytes(BUNDLE_BYTES)]


class KdfParamsOut(BaseModel):
    algorithm: Literal["argon2id13"] = "argon2id13"
    opslimit: int
    memlimit: int
    salt: Salt16


class KdfParamsIn(BaseModel):
    model_config = REQUEST_CONFIG

    algorithm: Literal["argon2id13"]
    opslimit: int = Field(ge=1, le=1024)
    memlimit: int = Field(ge=8192, le=4 * 1024 * 1024 * 1024)
    salt: Salt16


class IdentityIn(BaseModel):
    model_config = REQUEST_CONFIG

    x25519_public: Key32
    ed25519_public: Key32
    x25519_signature: Signature64


class IdentityOut(BaseModel):
    x25519_public: Key32
    ed25519_public: Key32
    x25519_signature: Signature64


class RecoveryIn(BaseModel):
    model_config = REQUEST_CONFIG

    auth_key: Key32
    key_bundle: KeyBundle


class RegisterInvite(BaseModel):
    """The circle invite an account is made with (``BACKCHANNEL_REGISTRATION=invite``):
    the three values a redemption sends (``POST /v1/invites/redeem``)."""

    model_config = REQUEST_CONFIG

    circle_id: UUIDField
    invite_id: UUIDField
    secret: Key32


class RegisterRequest(BaseModel):
    model_config = REQUEST_CONFIG

    username: Username
    kdf: KdfParamsIn
    auth_key: Key32
    identity: IdentityIn
    key_bundle: KeyBundle
    recovery: RecoveryIn
    invite: RegisterInvite | None = None
    device_label: DeviceLabel | None = None


class LoginRequest(BaseModel):
    model_config = REQUEST_CONFIG

    username: Username
    auth_key: Key32
    device_label: DeviceLabel | None = None


class PassphraseChangeRequest(BaseModel):
    model_config = REQUEST_CONFIG

    current_auth_key: Key32
    kdf: KdfParamsIn
    auth_key: Key32
    key_bundle: KeyBundle


class RecoveryBundleRequest(BaseModel):
    model_config = REQUEST_CONFIG

    username: Username
    recovery_auth_key: Key32


class RecoveryCompleteRequest(BaseModel):
    model_config = REQUEST_CONFIG

    username: Username
    recovery_auth_key: Key32
    kdf: KdfParamsIn
    auth_key: Key32
    key_bundle: KeyBundle
    recovery: RecoveryIn
    device_label: DeviceLabel | None = None


class UserOut(BaseModel):
    """What any signed-in user may learn about another: public keys for fingerprint checks."""

    model_config = RESPONSE_CONFIG

    username: str
    fingerprint: str
    identity: IdentityOut


class MeOut(UserOut):
    kdf: KdfParamsOut
    key_bundle: KeyBundle
    created_at: datetime


class SessionOut(BaseModel):
    token: str
    expires_at: datetime
    idle_timeout_seconds: int
    user: MeOut


class RecoveryBundleOut(BaseModel):
    username: str
    identity: IdentityOut
    recovery_bundle: KeyBundle


class SessionInfoOut(BaseModel):
    """One of the caller's live sessions (never its token)."""

    model_config = RESPONSE_CONFIG

    session_id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    device_label: str | None
    current: bool


class SessionsEndRequest(BaseModel):
    model_config = REQUEST_CONFIG

    auth_key: Key32  # the passphrase-derived key again: re-authentication
    session_ids: list[UUIDField] | None = Field(default=None, min_length=1, max_length=100)


class AccountDeparture(BaseModel):
    """The signed leave statement (docs/protocol.md §16.6) for one circle the account is in."""

    model_config = REQUEST_CONFIG

    circle_id: UUIDField
    statement: Annotated[str, Field(max_length=512)]
    signature: Signature64


class AccountDeleteRequest(BaseModel):
    model_config = REQUEST_CONFIG

    auth_key: Key32  # the passphrase-derived key again: re-authentication
    # What happens to the warnings and corroborations the person posted: wiped for everyone
    # ("retract"), or left in place, shown as from "a former member" ("keep").
    warnings: Literal["retract", "keep"]
    departures: list[AccountDeparture] = Field(default_factory=list, max_length=1000)


class AccountDeletedOut(BaseModel):
    circles_left: int
    warnings_retracted: int


class SessionsEndedOut(BaseModel):
    ended: int
