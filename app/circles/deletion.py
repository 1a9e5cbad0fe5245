"""Deleting a circle: an owner's signed statement, a tombstone, and the content gone.

What stays (docs/protocol.md §16.9): the ``circles`` row with the statement, who and
when; the memberships, so each member's list says the circle was deleted and by whom;
the key records, which say who was an owner; and the audit log, whose last record is
the deletion. Everything a member wrote or a key opened goes: warnings, corroborations,
wrapped keys, invites, moderation keys and cases, sealed warnings.
"""

import uuid

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles import events
from app.circles.access import active_member
from app.circles.models import Circle, EpochKey, Wrap
from app.circles.records import identity_of
from app.circles.schemas import DeleteRequest
from app.crypto import CryptoError, b64encode
from app.crypto.deletion import verify_deletion
from app.db import utcnow
from app.entries.models import Corroboration, Entry
from app.errors import CircleChanged, InvalidDeletion, OwnerRequired
from app.invites.models import InviteRow
from app.moderation.models import Case, DecisionRow, ModerationKeyRow, ModerationWrap
from app.sealed import service as sealed

# Children before parents, so no foreign key is left pointing at a deleted row.
_CONTENT = (
    DecisionRow,
    Case,
    Corroboration,
    Entry,
    ModerationWrap,
    ModerationKeyRow,
    Wrap,
    EpochKey,
    InviteRow,
)


def delete_circle(
    session: Session, *, circle_id: uuid.UUID, actor: User, request: DeleteRequest
) -> Circle:
    """An owner deletes the circle with a statement signed at the newest key record."""
    circle, member = active_member(session, circle_id=circle_id, user=actor, lock=True)
    if member.role != "owner":
        raise OwnerRequired()
    statement = request.statement.encode("utf-8")
    try:
        deletion = verify_deletion(
            statement, request.signature, circle_id=circle.id, signer=identity_of(actor)
        )
    except CryptoError as exc:
        raise InvalidDeletion(str(exc)) from exc
    if deletion.by != actor.username:
        raise InvalidDeletion("the statement names another owner")
    if deletion.record_seq != circle.record_seq:
        raise CircleChanged()
    events.append(
        session,
        circle_id=circle.id,
        kind="circle_deleted",
        actor=actor.username,
        details={"deletion_signature": b64encode(request.signature)},
    )
    sealed.delete_circle_content(session, circle_id=circle.id)
    for model in _CONTENT:
        session.execute(delete(model).where(model.circle_id == circle.id))
    circle.meta_ciphertext = b""
    circle.rotation_due = False
    circle.deleted_at = utcnow()
    circle.deleted_by = actor.username
    circle.deletion, circle.deletion_signature = statement, request.signature
    return circle
