"""Corroborations: a member's "me too" to a warning, named here (anonymous ones go with a
token, ``app.entries.anonymous``), and the rules both share: one per identity, none of one's
own warning, an id used once (docs/protocol.md §24.1, §38.5)."""

import hmac
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles.access import active_member
from app.circles.models import Circle
from app.crypto.entries import CORROBORATION, EnvelopeContext
from app.db import utcnow
from app.entries.models import Corroboration, Entry
from app.entries.schemas import CorroborationCreate, CorroborationFields
from app.entries.service import check_envelope, envelope_columns, named_only, stamp_change
from app.errors import (
    AlreadyCorroborated,
    CorroborationExists,
    EntryGone,
    EntryNotFound,
    SelfCorroboration,
)


def corroborate(
    session: Session,
    *,
    circle_id: uuid.UUID,
    entry_id: uuid.UUID,
    actor: User,
    request: CorroborationCreate,
) -> Corroboration:
    circle, _ = active_member(session, circle_id=circle_id, user=actor, lock=True)
    entry = live_entry_for_update(session, circle, entry_id)
    named_only(request)
    existing = stored_corroboration(session, entry, request, actor=actor)
    if existing is not None:
        return existing  # idempotent retry
    context = EnvelopeContext(
        CORROBORATION, circle.id, request.epoch, entry.id, request.corroboration_id
    )
    check_envelope(request, named_key=actor.ed25519_public, circle=circle, context=context)
    item = Corroboration(
        id=request.corroboration_id,
        entry_id=entry.id,
        circle_id=circle.id,
        author_id=actor.id,
        **envelope_columns(request, anonymous=False),
        author_tag=request.author_tag,
        sealed_author=None,
        author_generation=None,
        created_at=utcnow(),
    )
    session.add(item)
    entry.corroboration_count += 1
    stamp_change(circle, entry)
    session.flush()
    return item


def live_entry_for_update(session: Session, circle: Circle, entry_id: uuid.UUID) -> Entry:
    """The circle's live entry, locked for a corroboration: 404 if it is not the circle's,
    410 if it is no longer live. Named and anonymous corroborations both start here."""
    entry = session.get(Entry, entry_id, with_for_update=True)
    if entry is None or entry.circle_id != circle.id:
        raise EntryNotFound()
    if entry.status != "live":
        raise EntryGone()
    return entry


def stored_corroboration(
    session: Session, entry: Entry, request: CorroborationFields, *, actor: User | None
) -> Corroboration | None:
    """The corroboration rules a named and an anonymous corroboration share: no
    self-corroboration, one per identity (409 ``already_corroborated``), and an id used once
    (409 ``corroboration_exists``). Returns the stored corroboration when this is a retry of
    it, byte for byte; None for a new one."""
    refuse_own(entry, actor=actor, tag=request.author_tag)
    existing = existing_corroboration(session, entry, tag=request.author_tag, actor=actor)
    if existing is not None:
        if existing.id == request.corroboration_id and existing.signature == request.signature:
            return existing
        raise AlreadyCorroborated()
    if session.get(Corroboration, request.corroboration_id) is not None:
        raise CorroborationExists()
    return None


def existing_corroboration(
    session: Session, entry: Entry, *, tag: bytes, actor: User | None
) -> Corroboration | None:
    """The corroboration this identity (its tag) or, with a session, this account already
    made of ``entry``: one each, named or anonymous (§24.1, §38.5)."""
    same = Corroboration.author_tag == tag
    if actor is not None:
        same = same | (Corroboration.author_id == actor.id)
    found: Corroboration | None = session.scalar(
        select(Corroboration).where(Corroboration.entry_id == entry.id, same).limit(1)
    )
    return found


def refuse_own(entry: Entry, *, actor: User | None, tag: bytes) -> None:
    """No self-corroboration (§24.1). The tag comparison needs no knowledge of who wrote
    the entry: the corroborator's tag for this entry equals the entry's tag only when the
    same identity key made both. For a named entry and a corroboration with a session the
    accounts are compared too; an anonymous entry has no account (§38.5 says what that
    leaves to a modified client)."""
    own_tag = entry.author_tag is not None and hmac.compare_digest(entry.author_tag, tag)
    own_account = actor is not None and entry.author_id == actor.id
    if own_tag or own_account:
        raise SelfCorroboration()
