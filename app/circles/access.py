"""Who may touch a circle. Every service function calls one of these for the object it touches."""

import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.queries import Account
from app.circles import queries
from app.circles.models import Circle, Membership
from app.circles.queries import CircleCounters
from app.crypto.circles import ADMIN_ROLES
from app.errors import AdminRequired, CircleDeleted, CircleNotFound, MembershipPending, NotAMember

# What the checks below refuse with, for the OpenAPI document of every circle route.
REFUSALS = (CircleNotFound, CircleDeleted, MembershipPending, NotAMember, AdminRequired)

# One round trip for both rows (every circle request starts here); built once. Only for
# reads: see ``membership``.
_CIRCLE_AND_MEMBERSHIP = (
    select(Circle, Membership)
    .outerjoin(
        Membership,
        (Membership.circle_id == Circle.id) & (Membership.user_id == bindparam("user_id")),
    )
    .where(Circle.id == bindparam("circle_id"))
)


def membership(
    session: Session, *, circle_id: uuid.UUID, user: User | Account, lock: bool = False
) -> tuple[Circle, Membership]:
    """The circle and the caller's membership; outsiders get 404 (existence is not revealed).

    ``lock`` takes the circle row's lock first, so a mutation reads a stable member set.
    """
    if lock:
        # Two statements, in this order: the membership must be read after the lock is held.
        # (A single statement's snapshot is taken before it waits for the lock, so on
        # PostgreSQL a removal or demotion committed while we waited would go unseen.)
        circle = session.get(Circle, circle_id, with_for_update=True, populate_existing=True)
        found = (
            session.get(Membership, (circle_id, user.id), populate_existing=True)
            if circle is not None
            else None
        )
    else:
        row = session.execute(
            _CIRCLE_AND_MEMBERSHIP, {"circle_id": circle_id, "user_id": user.id}
        ).one_or_none()
        circle, found = (None, None) if row is None else (row.Circle, row.Membership)
    _require_visible(circle, found)
    assert circle is not None and found is not None
    return circle, found


def _require_visible(circle: Circle | CircleCounters | None, found: object | None) -> None:
    if circle is None or found is None:
        raise CircleNotFound()
    if circle.deleted_at is not None:
        # Only to those who were in it; outsiders still cannot tell it ever existed.
        raise CircleDeleted()


def active_member(
    session: Session, *, circle_id: uuid.UUID, user: User | Account, lock: bool = False
) -> tuple[Circle, Membership]:
    circle, found = membership(session, circle_id=circle_id, user=user, lock=lock)
    _require_active(found.status)
    return circle, found


def active_member_locked(
    session: Session, *, circle_id: uuid.UUID, user: User | Account
) -> CircleCounters:
    """``active_member(lock=True)`` for the hot write paths: the same rule over the same two
    rows, read with Core (``queries.lock_circle``), giving the circle's counters."""
    circle, found = queries.lock_circle(session, circle_id=circle_id, user_id=user.id)
    _require_visible(circle, found)
    assert circle is not None and found is not None
    _require_active(found.status)
    return circle


def active_member_read(
    session: Session, *, circle_id: uuid.UUID, user: User | Account
) -> CircleCounters:
    """``active_member`` for the hot reads (the feed): the same rule over the same two rows,
    read with Core in one statement (``queries.circle_and_membership``)."""
    circle, status = queries.circle_and_membership(session, circle_id=circle_id, user_id=user.id)
    _require_visible(circle, status)
    assert circle is not None and status is not None
    _require_active(status)
    return circle


def _require_active(status: str) -> None:
    if status == "pending":
        raise MembershipPending()
    if status != "active":
        raise NotAMember()


def circle_admin(
    session: Session, *, circle_id: uuid.UUID, user: User, lock: bool = False
) -> tuple[Circle, Membership]:
    circle, found = active_member(session, circle_id=circle_id, user=user, lock=lock)
    if found.role not in ADMIN_ROLES:
        raise AdminRequired()
    return circle, found
