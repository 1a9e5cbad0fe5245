"""Anonymous warnings and corroborations (docs/protocol.md §38): sent with one token and no
session, stored with no account.

What stands in for the account: the token (a current member of this circle, this epoch),
the author tag (no self-corroboration, one corroboration per identity), the per-entry key
(retraction) and the sealed author (the admins' unmask). Each use case locks the circle row
first, as the named paths do, so a token is spent once and counters stay in order.
"""

import uuid

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.anon import service as tokens
from app.anon.schemas import AnonymousCorroborationCreate, AnonymousEntryCreate, AnonymousFields
from app.circles import queries as circle_queries
from app.circles.models import Circle
from app.circles.queries import CircleCounters
from app.crypto.entries import CORROBORATION, ENTRY, EnvelopeContext
from app.db import coarse, utcnow
from app.entries import queries
from app.entries.corroborations import live_entry_for_update, stored_corroboration
from app.entries.models import Corroboration, Entry
from app.entries.schemas import EnvelopeFields
from app.entries.service import (
    Posted,
    check_envelope,
    check_terms,
    envelope_columns,
    new_entry_row,
    retract_signed,
    stamp_change,
)
from app.errors import (
    AuthorMismatch,
    CircleNotFound,
    EntryExists,
    EntryNotFound,
    ModerationKeyMissing,
    ModerationKeyStale,
    NotAuthor,
)
from app.moderation.models import ModerationKeyRow
from app.settings import Settings


def _circle(session: Session, circle_id: uuid.UUID) -> CircleCounters:
    """The circle, locked; a deleted one is as unknown as one that never existed."""
    circle = circle_queries.lock_circle_alone(session, circle_id=circle_id)
    if circle is None or circle.deleted_at is not None:
        raise CircleNotFound()
    return circle


def _check_anonymous(
    session: Session,
    settings: Settings,
    *,
    circle: CircleCounters,
    request: AnonymousFields,
    envelope: EnvelopeFields,
    context: EnvelopeContext,
) -> None:
    """Token, envelope and sealed author, in the order §38.4 gives."""
    tokens.spend(
        session,
        settings,
        circle=circle,
        token_input=request.token.input,
        token_output=request.token.output,
    )
    check_envelope(envelope, named_key=None, circle=circle, context=context)
    # An identity key would name the author: anonymous envelopes use per-object keys.
    if session.scalar(select(exists().where(User.ed25519_public == envelope.author_key))):
        raise AuthorMismatch()
    newest = session.scalar(
        select(ModerationKeyRow.generation)
        .where(ModerationKeyRow.circle_id == circle.id)
        .order_by(ModerationKeyRow.generation.desc())
        .limit(1)
    )
    if newest is None:
        raise ModerationKeyMissing()
    if request.author_generation != newest:
        raise ModerationKeyStale()


def post_anonymous(
    session: Session, settings: Settings, *, circle_id: uuid.UUID, request: AnonymousEntryCreate
) -> Posted:
    """Store an anonymous warning with no account; the same request again (a lost answer)
    gives the stored warning back without spending another token."""
    circle = _circle(session, circle_id)
    existing = queries.existing_entry(session, request.entry_id)
    if existing is not None:
        same = (
            existing.circle_id == circle.id
            and existing.author_id is None
            and existing.signature == request.signature
            and existing.ciphertext == request.ciphertext
        )
        if same:
            return Posted(existing.id, existing.seq, existing.created_at, existing.expires_at)
        raise EntryExists()
    context = EnvelopeContext(ENTRY, circle.id, request.epoch, request.entry_id)
    _check_anonymous(
        session, settings, circle=circle, request=request, envelope=request, context=context
    )
    now = utcnow()
    expires_at = check_terms(request, circle=circle, now=now)
    # Its hour only: no finer time to join it with its author's requests (app/retention.py).
    created_at = coarse(now)
    row = new_entry_row(
        circle,
        request,
        author_id=None,
        anonymous=True,
        created_at=created_at,
        expires_at=expires_at,
        sealed_author=request.sealed_author,
        author_generation=request.author_generation,
    )
    circle_queries.store_counters(session, circle)
    queries.insert_entry(session, row)
    return Posted(request.entry_id, circle.entry_seq, created_at, expires_at)


def corroborate_anonymous(
    session: Session,
    settings: Settings,
    *,
    circle_id: uuid.UUID,
    entry_id: uuid.UUID,
    request: AnonymousCorroborationCreate,
) -> Corroboration:
    circle = session.get(Circle, circle_id, with_for_update=True, populate_existing=True)
    if circle is None or circle.deleted_at is not None:
        raise CircleNotFound()
    entry = live_entry_for_update(session, circle, entry_id)
    existing = stored_corroboration(session, entry, request, actor=None)
    if existing is not None:
        return existing  # idempotent retry
    context = EnvelopeContext(
        CORROBORATION, circle.id, request.epoch, entry.id, request.corroboration_id
    )
    counters = CircleCounters(
        circle.id,
        circle.epoch,
        circle.entry_seq,
        circle.change_seq,
        circle.entry_ttl_days,
        circle.deleted_at,
    )
    _check_anonymous(
        session, settings, circle=counters, request=request, envelope=request, context=context
    )
    item = Corroboration(
        id=request.corroboration_id,
        entry_id=entry.id,
        circle_id=circle.id,
        author_id=None,
        **envelope_columns(request, anonymous=True),
        author_tag=request.author_tag,
        sealed_author=request.sealed_author,
        author_generation=request.author_generation,
        created_at=coarse(utcnow()),
    )
    session.add(item)
    entry.corroboration_count += 1
    stamp_change(circle, entry)
    session.flush()
    return item


def retract_anonymous(
    session: Session, *, circle_id: uuid.UUID, entry_id: uuid.UUID, signature: bytes
) -> Entry:
    """The holder of an anonymous entry's per-entry key wipes it; no session, no token."""
    circle = session.get(Circle, circle_id, with_for_update=True, populate_existing=True)
    if circle is None or circle.deleted_at is not None:
        raise CircleNotFound()
    entry = session.get(Entry, entry_id)
    if entry is None or entry.circle_id != circle.id:
        raise EntryNotFound()
    if not entry.anonymous:
        raise NotAuthor()  # a named entry is retracted by its author's session (§26.6)
    retract_signed(session, circle, entry, signature=signature, actor="")
    return entry
