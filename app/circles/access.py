"""Who may touch a circle. Every service function calls one of these for the object it touches."""

import uuid

from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles.models import Circle, Membership
from app.crypto.circles import ADMIN_ROLES
from app.errors import AdminRequired, CircleNotFound, MembershipPending, NotAMember


def membership(
    session: Session, *, circle_id: uuid.UUID, user: User, lock: bool = False
) -> tuple[Circle, Membership]:
    """The circle and the caller's membership; outsiders get 404 (existence is not revealed).

    ``lock`` takes the circle row's lock first, so a mutation reads a stable member set.
    """
    circle = session.get(Circle, circle_id, with_for_update=lock, populate_existing=lock)
    found = session.get(Membership, (circle_id, user.id)) if circle is not None else None
    if circle is None or found is None:
        raise CircleNotFound()
    return circle, found


def active_member(
    session: Session, *, circle_id: uuid.UUID, user: User, lock: bool = False
) -> tuple[Circle, Membership]:
    circle, found = membership(session, circle_id=circle_id, user=user, lock=lock)
    if found.status == "pending":
        raise MembershipPending()
    if found.status != "active":
        raise NotAMember()
    return circle, found


def circle_admin(
    session: Session, *, circle_id: uuid.UUID, user: User, lock: bool = False
) -> tuple[Circle, Membership]:
    circle, found = active_member(session, circle_id=circle_id, user=user, lock=lock)
    if found.role not in ADMIN_ROLES:
        raise AdminRequired()
    return circle, found
