"""What a live update stream (GET /v1/events) re-reads each tick: whether the session still
holds, and the newest sequence numbers of the caller's circles. Never content.

Both come from the database on every tick, with no per-worker cache, so a logout, an ended
session, a removal, a departure or a circle's deletion made through any worker is seen on
the next tick, and so is a warning posted through any worker (docs/protocol.md, "Live
updates"). The cost per tick is two indexed lookups: the session by primary key and the
caller's memberships by user (``memberships.user_id`` is indexed) joined to their circles.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.accounts.models import AuthSession
from app.accounts.service import session_ended
from app.circles.models import Circle, Membership
from app.settings import Settings


@dataclass(frozen=True)
class CirclePosition:
    """A circle's newest warning (``last_seq``) and newest change (``last_change_seq``), the
    numbers ``GET /v1/circles/{id}/entries`` answers with; ``deleted`` once an owner
    deleted it."""

    circle_id: uuid.UUID
    last_seq: int
    last_change_seq: int
    deleted: bool


_SESSION = select(AuthSession.revoked_at, AuthSession.expires_at, AuthSession.last_used_at).where(
    AuthSession.id == bindparam("session_id")
)

_POSITIONS = (
    select(Circle.id, Circle.entry_seq, Circle.change_seq, Circle.deleted_at)
    .join(Membership, Membership.circle_id == Circle.id)
    .where(Membership.user_id == bindparam("user_id"), Membership.status == "active")
)


def positions(
    session: Session, settings: Settings, *, session_id: uuid.UUID, user_id: uuid.UUID
) -> dict[uuid.UUID, CirclePosition] | None:
    """The caller's active circles and their positions, or None when the session no longer
    holds (revoked, expired, idle, or its account deleted)."""
    row = session.execute(_SESSION, {"session_id": session_id}).one_or_none()
    if row is None or session_ended(row, settings):
        return None
    return {
        cid: CirclePosition(cid, entry_seq, change_seq, deleted_at is not None)
        for cid, entry_seq, change_seq, deleted_at in session.execute(
            _POSITIONS, {"user_id": user_id}
        )
    }
