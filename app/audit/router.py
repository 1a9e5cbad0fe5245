"""HTTP for the audit log. Records, heads and proofs need an active membership (service)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import service, signing
from app.audit.schemas import (
    AuditRecordOut,
    ConsistencyOut,
    InclusionOut,
    ServerKeyOut,
    ServerKeysOut,
    TreeHeadOut,
)
from app.circles import access
from app.deps import CurrentUser, Session, SettingsDep
from app.openapi import error_responses
from app.types import INTEGER_MAX

router = APIRouter(
    prefix="/v1/circles/{circle_id}/audit",
    tags=["audit"],
    responses=error_responses(
        *access.REFUSALS, service.ProofRangeInvalid, signing.SigningKeyUnavailable
    ),
)
public_router = APIRouter(tags=["audit"], responses=error_responses(signing.SigningKeyUnavailable))

MAX_SIZE = 2**62


@router.get("/records", response_model=list[AuditRecordOut])
def list_records(
    circle_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    after: Annotated[int, Query(ge=-1, le=INTEGER_MAX)] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> list[AuditRecordOut]:
    return [
        AuditRecordOut(seq=e.seq, body=e.body, hash=e.record_hash, leaf_hash=e.leaf_hash)
        for e in service.list_records(
            session, circle_id=circle_id, user=user, after=after, limit=limit
        )
    ]


@router.get("/head", response_model=TreeHeadOut)
def tree_head(
    circle_id: uuid.UUID, session: Session, settings: SettingsDep, user: CurrentUser
) -> TreeHeadOut:
    signed = service.tree_head(session, settings, circle_id=circle_id, user=user)
    return TreeHeadOut(
        tree_head=signed.head.to_bytes().decode(),
        signature=signed.signature,
        key_id=signed.key_id,
        public_key=signed.public_key,
    )


@router.get("/consistency", response_model=ConsistencyOut)
def consistency(
    circle_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    first: Annotated[int, Query(ge=0, le=MAX_SIZE)],
    second: Annotated[int, Query(ge=0, le=MAX_SIZE)],
) -> ConsistencyOut:
    proof = service.consistency_proof(
        session, circle_id=circle_id, user=user, first=first, second=second
    )
    return ConsistencyOut(first=first, second=second, proof=proof)


@router.get("/inclusion", response_model=InclusionOut)
def inclusion(
    circle_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    index: Annotated[int, Query(ge=0, le=MAX_SIZE)],
    size: Annotated[int, Query(ge=1, le=MAX_SIZE)],
) -> InclusionOut:
    leaf, proof = service.inclusion_proof(
        session, circle_id=circle_id, user=user, index=index, size=size
    )
    return InclusionOut(index=index, size=size, leaf_hash=leaf, proof=proof)


@public_router.get("/v1/server/keys", response_model=ServerKeysOut)
def server_keys(session: Session, settings: SettingsDep) -> ServerKeysOut:
    """The tree-head keys, oldest first, each successor signed by the key before it."""
    return ServerKeysOut(
        keys=[
            ServerKeyOut(
                key_id=row.id,
                public_key=row.public_key,
                not_before=row.not_before,
                succession_signature=row.succession_signature,
            )
            for row in signing.all_keys(session, settings)
        ]
    )
