"""HTTP for invites."""

import uuid

from fastapi import APIRouter

from app.accounts.router import user_out
from app.circles import access
from app.deps import CurrentUser, Session
from app.errors import (
    AlreadyMember,
    Conflict,
    InviteExpired,
    InviteNotFound,
    InviteRevoked,
    InviteUsedUp,
)
from app.invites import service
from app.invites.models import InviteRow
from app.invites.schemas import InviteCreateRequest, InviteOut, InviterOut, RedeemOut, RedeemRequest
from app.openapi import error_responses

router = APIRouter(
    prefix="/v1",
    tags=["invites"],
    responses=error_responses(
        *access.REFUSALS,
        InviteNotFound,
        InviteExpired,
        InviteRevoked,
        InviteUsedUp,
        AlreadyMember,
        Conflict,
    ),
)


def invite_out(invite: InviteRow, creator: str) -> InviteOut:
    return InviteOut(
        invite_id=invite.id,
        circle_id=invite.circle_id,
        role=invite.role,
        max_uses=invite.max_uses,
        uses=invite.uses,
        expires_at=invite.expires_at,
        revoked=invite.revoked_at is not None,
        created_by=creator,
    )


@router.post("/circles/{circle_id}/invites", response_model=InviteOut, status_code=201)
def create_invite(
    circle_id: uuid.UUID, body: InviteCreateRequest, session: Session, user: CurrentUser
) -> InviteOut:
    invite = service.create_invite(session, circle_id=circle_id, actor=user, request=body)
    return invite_out(invite, user.username)


@router.get("/circles/{circle_id}/invites", response_model=list[InviteOut])
def list_invites(circle_id: uuid.UUID, session: Session, user: CurrentUser) -> list[InviteOut]:
    return [
        invite_out(invite, creator.username)
        for invite, creator in service.list_invites(session, circle_id=circle_id, actor=user)
    ]


@router.post("/circles/{circle_id}/invites/{invite_id}/revoke", response_model=InviteOut)
def revoke_invite(
    circle_id: uuid.UUID, invite_id: uuid.UUID, session: Session, user: CurrentUser
) -> InviteOut:
    invite = service.revoke_invite(session, circle_id=circle_id, invite_id=invite_id, actor=user)
    return invite_out(invite, "")


@router.post("/invites/redeem", response_model=RedeemOut)
def redeem_invite(body: RedeemRequest, session: Session, user: CurrentUser) -> RedeemOut:
    _, inviter = service.redeem_invite(
        session,
        circle_id=body.circle_id,
        invite_id=body.invite_id,
        secret=body.secret,
        actor=user,
    )
    public = user_out(inviter)
    return RedeemOut(
        circle_id=body.circle_id,
        status="pending",
        inviter=InviterOut(
            username=public.username, fingerprint=public.fingerprint, identity=public.identity
        ),
    )
