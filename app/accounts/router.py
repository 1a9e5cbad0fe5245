"""HTTP for accounts. Public routes are listed explicitly; the rest require a session."""

import json
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.accounts import deletion, service, sessions
from app.accounts.models import User
from app.accounts.queries import Account
from app.accounts.schemas import (
    AccountDeletedOut,
    AccountDeleteRequest,
    IdentityOut,
    KdfParamsOut,
    LoginRequest,
    MeOut,
    PassphraseChangeRequest,
    RecoveryBundleOut,
    RecoveryBundleRequest,
    RecoveryCompleteRequest,
    RegisterRequest,
    SessionInfoOut,
    SessionOut,
    SessionsEndedOut,
    SessionsEndRequest,
    UserOut,
)
from app.crypto import b64encode, fingerprint
from app.deps import (
    Argon2Slot,
    ClientAddress,
    CurrentCaller,
    CurrentSession,
    CurrentUser,
    PresentedToken,
    PublicWorkSlot,
    ReadSession,
    Session,
    SettingsDep,
)
from app.errors import (
    CircleChanged,
    DepartureRequired,
    InvalidCredentials,
    InvalidDeparture,
    InvalidIdentity,
    InviteExpired,
    InviteNotFound,
    InviteRequired,
    InviteRevoked,
    InviteUsedUp,
    KdfParametersRejected,
    LastOwner,
    RateLimited,
    UsernameTaken,
    UserNotFound,
)
from app.hand_solved import hand_solved
from app.openapi import error_responses
from app.settings import Settings
from app.types import Username

public_router = APIRouter(
    prefix="/v1/auth",
    tags=["auth"],
    responses=error_responses(
        InvalidCredentials,
        RateLimited,
        UsernameTaken,
        KdfParametersRejected,
        InvalidIdentity,
        InviteRequired,
        InviteNotFound,
        InviteExpired,
        InviteRevoked,
        InviteUsedUp,
    ),
)
router = APIRouter(
    prefix="/v1",
    tags=["accounts"],
    responses=error_responses(InvalidCredentials, RateLimited, KdfParametersRejected, UserNotFound),
)


def _identity(user: User | Account) -> IdentityOut:
    return IdentityOut(
        x25519_public=user.x25519_public,
        ed25519_public=user.ed25519_public,
        x25519_signature=user.x25519_signature,
    )


def user_out(user: User | Account) -> UserOut:
    return UserOut(
        username=user.username,
        fingerprint=fingerprint(user.ed25519_public, user.x25519_public),
        identity=_identity(user),
    )


def me_out(user: User | Account) -> MeOut:
    return MeOut(
        username=user.username,
        fingerprint=fingerprint(user.ed25519_public, user.x25519_public),
        identity=_identity(user),
        kdf=KdfParamsOut(
            opslimit=user.kdf_opslimit, memlimit=user.kdf_memlimit, salt=user.kdf_salt
        ),
        key_bundle=user.key_bundle,
        created_at=user.created_at,
    )


def session_out(new: service.NewSession, settings: Settings) -> SessionOut:
    return SessionOut(
        token=new.token,
        expires_at=new.record.expires_at,
        idle_timeout_seconds=settings.session_idle_seconds,
        user=me_out(new.user),
    )


@public_router.get("/params", response_model=KdfParamsOut)
def auth_params(
    session: Session, settings: SettingsDep, username: Annotated[Username, Query()]
) -> KdfParamsOut:
    found = service.auth_params(session, settings, username=username)
    return KdfParamsOut(opslimit=found.opslimit, memlimit=found.memlimit, salt=found.salt)


@public_router.post(
    "/register", response_model=SessionOut, status_code=201, dependencies=[PublicWorkSlot]
)
def register(
    body: RegisterRequest,
    session: Session,
    reader: ReadSession,
    settings: SettingsDep,
    address: ClientAddress,
    previous: PresentedToken,
) -> SessionOut:
    new = service.register(
        session, settings, reader=reader, request=body, address=address, previous=previous
    )
    return session_out(new, settings)


@public_router.post("/login", response_model=SessionOut, dependencies=[Argon2Slot])
def login(
    body: LoginRequest,
    session: Session,
    settings: SettingsDep,
    address: ClientAddress,
    previous: PresentedToken,
) -> SessionOut:
    new = service.login(
        session,
        settings,
        username=body.username,
        auth_key=body.auth_key,
        address=address,
        previous=previous,
        device_label=body.device_label,
    )
    return session_out(new, settings)


@public_router.post("/recovery/bundle", response_model=RecoveryBundleOut, dependencies=[Argon2Slot])
def recovery_bundle(
    body: RecoveryBundleRequest, session: Session, settings: SettingsDep, address: ClientAddress
) -> RecoveryBundleOut:
    user = service.recovery_bundle(
        session,
        settings,
        username=body.username,
        recovery_auth_key=body.recovery_auth_key,
        address=address,
    )
    return RecoveryBundleOut(
        username=user.username, identity=_identity(user), recovery_bundle=user.recovery_bundle
    )


@public_router.post("/recovery/complete", response_model=SessionOut, dependencies=[Argon2Slot])
def recovery_complete(
    body: RecoveryCompleteRequest,
    session: Session,
    settings: SettingsDep,
    address: ClientAddress,
    previous: PresentedToken,
) -> SessionOut:
    new = service.complete_recovery(
        session, settings, request=body, address=address, previous=previous
    )
    return session_out(new, settings)


@router.post("/auth/logout", status_code=204)
def logout(session: Session, current: CurrentSession, address: ClientAddress) -> Response:
    service.logout(session, current=current, address=address)
    return Response(status_code=204)


def me_json(user: Account) -> bytes:
    """``me_out(user).model_dump_json()``, byte for byte (a test holds it to that), written
    with the C JSON encoder: ``GET /v1/me`` is a hot path (every client start asks), and the
    model's validation of what the server itself stored was a tenth of its time."""
    body = {
        "username": user.username,
        "fingerprint": fingerprint(user.ed25519_public, user.x25519_public),
        "identity": {
            "x25519_public": b64encode(user.x25519_public),
            "ed25519_public": b64encode(user.ed25519_public),
            "x25519_signature": b64encode(user.x25519_signature),
        },
        "kdf": {
            "algorithm": "argon2id13",
            "opslimit": user.kdf_opslimit,
            "memlimit": user.kdf_memlimit,
            "salt": b64encode(user.kdf_salt),
        },
        "key_bundle": b64encode(user.key_bundle),
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@router.get("/me", response_model=MeOut, response_class=Response)
@hand_solved
async def me(caller: CurrentCaller) -> Response:
    """Your account as the server holds it: public identity, KDF parameters and sealed key
    bundle.
    \f
    Read with the session check alone (``HandSolved``); written once, by ``me_json``."""
    return Response(me_json(caller.user), media_type="application/json")


@router.post("/me/passphrase", response_model=MeOut, dependencies=[Argon2Slot])
def change_passphrase(
    body: PassphraseChangeRequest,
    session: Session,
    settings: SettingsDep,
    current: CurrentSession,
    address: ClientAddress,
) -> MeOut:
    user = service.change_passphrase(
        session, settings, current=current, request=body, address=address
    )
    return me_out(user)


@router.get("/me/sessions", response_model=list[SessionInfoOut])
def my_sessions(
    session: Session, settings: SettingsDep, current: CurrentSession
) -> list[SessionInfoOut]:
    return [
        SessionInfoOut(
            session_id=row.id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            device_label=row.device_label,
            current=row.id == current.id,
        )
        for row in sessions.active_sessions(session, settings, user=current.user)
    ]


@router.post("/me/sessions/end", response_model=SessionsEndedOut, dependencies=[Argon2Slot])
def end_my_sessions(
    body: SessionsEndRequest,
    session: Session,
    settings: SettingsDep,
    current: CurrentSession,
    address: ClientAddress,
) -> SessionsEndedOut:
    ended = sessions.end_own_sessions(
        session,
        settings,
        current=current,
        auth_key=body.auth_key,
        only=body.session_ids,
        address=address,
    )
    return SessionsEndedOut(ended=ended)


@router.post(
    "/me/delete",
    response_model=AccountDeletedOut,
    dependencies=[Argon2Slot],
    responses=error_responses(DepartureRequired, InvalidDeparture, LastOwner, CircleChanged),
)
def delete_me(
    body: AccountDeleteRequest,
    session: Session,
    settings: SettingsDep,
    current: CurrentSession,
    address: ClientAddress,
) -> AccountDeletedOut:
    """Delete the caller's account after the passphrase is proved again (docs/api.md)."""
    done = deletion.delete_account(
        session, settings, current=current, request=body, address=address
    )
    return AccountDeletedOut(
        circles_left=done.circles_left, warnings_retracted=done.warnings_retracted
    )


@router.get("/users/{username}", response_model=UserOut)
def get_user(session: Session, username: Username, _: CurrentUser) -> UserOut:
    return user_out(service.get_user(session, username=username))
