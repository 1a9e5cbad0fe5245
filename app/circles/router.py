"""HTTP for circles. Every route needs a session; the services check the role per circle."""

import binascii
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.accounts.router import user_out
from app.circles import access, deletion, rotation, service
from app.circles.schemas import (
    CircleCreateRequest,
    CircleOut,
    ConfirmRequest,
    DeleteRequest,
    Deletion,
    EpochKeyOut,
    EventOut,
    LeaveRequest,
    MemberOut,
    MembershipOut,
    RecordOut,
    RemoveRequest,
    RoleRequest,
    Rotation,
)
from app.circles.service import MyCircle
from app.crypto import fingerprint
from app.deps import CurrentUser, Session
from app.errors import (
    CircleChanged,
    CircleExists,
    DepartureRequired,
    InvalidDeletion,
    InvalidDeparture,
    InvalidRecord,
    LastOwner,
    MemberNotFound,
    MemberSetMismatch,
    OwnerRequired,
    RotationDue,
    RotationRequired,
    WrongMemberState,
)
from app.openapi import error_responses
from app.types import INTEGER_MAX, Username

router = APIRouter(
    prefix="/v1/circles",
    tags=["circles"],
    responses=error_responses(
        *access.REFUSALS,
        OwnerRequired,
        MemberNotFound,
        InvalidRecord,
        RotationRequired,
        DepartureRequired,
        InvalidDeparture,
        InvalidDeletion,
        MemberSetMismatch,
        CircleChanged,
        RotationDue,
        LastOwner,
        WrongMemberState,
        CircleExists,
    ),
)


def circle_out(mine: MyCircle) -> CircleOut:
    circle = mine.circle
    active = mine.membership.status == "active" and circle.deleted_at is None
    tombstone = None
    if circle.deleted_at is not None:
        assert circle.deleted_by is not None and circle.deletion is not None
        assert circle.deletion_signature is not None
        tombstone = Deletion(
            by=circle.deleted_by,
            at=circle.deleted_at,
            statement=circle.deletion.decode("utf-8"),
            signature=circle.deletion_signature,
        )
    return CircleOut(
        circle_id=mine.circle.id,
        role=mine.membership.role,
        status=mine.membership.status,
        epoch=mine.circle.epoch,
        record_seq=mine.circle.record_seq,
        rotation_due=mine.circle.rotation_due,
        meta_epoch=mine.circle.meta_epoch if active else None,
        meta=mine.circle.meta_ciphertext if active else None,
        deletion=tombstone,
    )


def _membership_out(
    circle_id: uuid.UUID, username: str, role: str, status: str, epoch: int
) -> MembershipOut:
    return MembershipOut(
        circle_id=circle_id, username=username, role=role, status=status, epoch=epoch
    )


@router.post("", response_model=CircleOut, status_code=201)
def create_circle(body: CircleCreateRequest, session: Session, user: CurrentUser) -> CircleOut:
    circle = service.create_circle(session, actor=user, request=body)
    return circle_out(service.get_circle(session, circle_id=circle.id, user=user))


@router.get("", response_model=list[CircleOut])
def list_circles(session: Session, user: CurrentUser) -> list[CircleOut]:
    return [circle_out(mine) for mine in service.list_circles(session, user=user)]


@router.get("/{circle_id}", response_model=CircleOut)
def get_circle(circle_id: uuid.UUID, session: Session, user: CurrentUser) -> CircleOut:
    return circle_out(service.get_circle(session, circle_id=circle_id, user=user))


@router.get("/{circle_id}/members", response_model=list[MemberOut], response_class=Response)
def list_members(circle_id: uuid.UUID, session: Session, user: CurrentUser) -> Response:
    """Written straight from our own rows with the C JSON encoder, byte for byte what
    ``list[MemberOut]`` would write (a test holds it to that): circles reach 10,000 members,
    and building and dumping a model per member cost more than the query."""
    members = [
        {
            "username": m.username,
            "role": m.role,
            "status": m.status,
            "fingerprint": fingerprint(m.ed25519_public, m.x25519_public),
            "identity": {
                "x25519_public": _b64(m.x25519_public),
                "ed25519_public": _b64(m.ed25519_public),
                "x25519_signature": _b64(m.x25519_signature),
            },
            "departure": None
            if m.departure is None or m.departure_signature is None
            else {
                "statement": m.departure.decode("utf-8"),
                "signature": _b64(m.departure_signature),
            },
            "account_deleted": bool(m.account_deleted),
        }
        for m in service.list_members(session, circle_id=circle_id, user=user)
    ]
    body = json.dumps(members, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, media_type="application/json")


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode("ascii")


@router.get("/{circle_id}/records", response_model=list[RecordOut])
def list_records(
    circle_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    after: Annotated[int, Query(ge=-1, le=INTEGER_MAX)] = -1,
) -> list[RecordOut]:
    return [
        RecordOut(
            seq=r.seq,
            epoch=r.epoch,
            record=r.record.decode("utf-8"),
            signature=r.signature,
            signer=signer.username,
            signer_identity=user_out(signer).identity,
        )
        for r, signer in service.list_records(session, circle_id=circle_id, user=user, after=after)
    ]


@router.get("/{circle_id}/keys", response_model=list[EpochKeyOut])
def list_keys(circle_id: uuid.UUID, session: Session, user: CurrentUser) -> list[EpochKeyOut]:
    return [
        EpochKeyOut(epoch=k.epoch, key_id=k.key_id, prev_key_box=k.prev_key_box, wrap=wrap)
        for k, wrap in service.list_keys(session, circle_id=circle_id, user=user)
    ]


@router.get("/{circle_id}/events", response_model=list[EventOut])
def list_events(
    circle_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    after: Annotated[int, Query(ge=-1, le=INTEGER_MAX)] = -1,
) -> list[EventOut]:
    return [
        EventOut(seq=e.seq, body=e.body, hash=e.record_hash)
        for e in service.list_events(session, circle_id=circle_id, user=user, after=after)
    ]


@router.post("/{circle_id}/members/{username}/confirm", response_model=MembershipOut)
def confirm_member(
    circle_id: uuid.UUID,
    username: Username,
    body: ConfirmRequest,
    session: Session,
    user: CurrentUser,
) -> MembershipOut:
    member, record = service.confirm_member(
        session, circle_id=circle_id, actor=user, username=username, request=body
    )
    return _membership_out(circle_id, username, member.role, member.status, record.epoch)


@router.post("/{circle_id}/members/{username}/role", response_model=MembershipOut)
def change_role(
    circle_id: uuid.UUID,
    username: Username,
    body: RoleRequest,
    session: Session,
    user: CurrentUser,
) -> MembershipOut:
    member = service.change_role(
        session, circle_id=circle_id, actor=user, username=username, request=body
    )
    circle = service.get_circle(session, circle_id=circle_id, user=user).circle
    return _membership_out(circle_id, username, member.role, member.status, circle.epoch)


@router.post("/{circle_id}/members/{username}/remove", response_model=MembershipOut)
def remove_member(
    circle_id: uuid.UUID,
    username: Username,
    body: RemoveRequest,
    session: Session,
    user: CurrentUser,
) -> MembershipOut:
    member, epoch = rotation.remove_member(
        session, circle_id=circle_id, actor=user, username=username, rotation=body.rotation
    )
    return _membership_out(circle_id, username, member.role, member.status, epoch)


@router.post("/{circle_id}/leave", response_model=MembershipOut)
def leave_circle(
    circle_id: uuid.UUID, session: Session, user: CurrentUser, body: LeaveRequest | None = None
) -> MembershipOut:
    member, circle = rotation.leave_circle(session, circle_id=circle_id, actor=user, request=body)
    return _membership_out(circle_id, user.username, member.role, member.status, circle.epoch)


@router.post("/{circle_id}/delete", response_model=CircleOut)
def delete_circle(
    circle_id: uuid.UUID, body: DeleteRequest, session: Session, user: CurrentUser
) -> CircleOut:
    """An owner deletes the circle (docs/api.md): its content goes, a tombstone stays."""
    circle = deletion.delete_circle(session, circle_id=circle_id, actor=user, request=body)
    return circle_out(service.list_circles(session, user=user, only=circle.id)[0])


@router.post("/{circle_id}/rotate", response_model=CircleOut)
def rotate_key(
    circle_id: uuid.UUID, body: Rotation, session: Session, user: CurrentUser
) -> CircleOut:
    rotation.rotate_key(session, circle_id=circle_id, actor=user, rotation=body)
    return circle_out(service.get_circle(session, circle_id=circle_id, user=user))
