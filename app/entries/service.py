"""Posting, reading, retracting and expiring warnings (corroborations: ``corroborations``).

The server keeps no name index: matching names happens in the clients, over the warnings
they synced (docs/protocol.md §25). A client learns every change since its cursor from
the circle's change counter (``stamp_change``; ``list_entries`` with ``changed_after``).
"""

import dataclasses
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.queries import Account
from app.circles import events
from app.circles import queries as circle_queries
from app.circles.access import active_member, active_member_locked, active_member_read
from app.circles.models import Circle
from app.circles.queries import CircleCounters
from app.crypto import CryptoError
from app.crypto.circles import ADMIN_ROLES
from app.crypto.encoding import b64encode
from app.crypto.entries import (
    BUCKETS,
    ENTRY,
    Envelope,
    EnvelopeContext,
    verify_retraction,
    verify_terms,
)
from app.db import coarse, utcnow
from app.entries import queries
from app.entries.models import Corroboration, Entry
from app.entries.schemas import (
    EntryCreate,
    EntryFields,
    EnvelopeFields,
    EnvelopeIn,
)
from app.errors import (
    AnonymousNeedsToken,
    AuthorMismatch,
    BadCiphertext,
    BadEnvelope,
    BadExpiry,
    BadTerms,
    EntryExists,
    EntryGone,
    EntryNotFound,
    NotAuthor,
    StaleEpoch,
)

_CIPHERTEXT_SIZES = frozenset(b + 16 for b in BUCKETS)  # padded plaintext + Poly1305 tag
DAY = 86_400
MIN_TTL_DAYS, MAX_TTL_DAYS = 1, 3650
CLOCK_SKEW = 3_600  # seconds a client's clock may be off when it signs its expiry


def check_envelope(
    body: EnvelopeFields,
    *,
    named_key: bytes | None,
    circle: Circle | CircleCounters,
    context: EnvelopeContext,
) -> None:
    """Defence in depth: clients verify again; the server refuses what cannot be genuine.
    ``named_key`` is the caller's identity key (a named envelope must be signed with it);
    None for an anonymous one, whose caller checks its key names no one."""
    if body.epoch != circle.epoch:
        raise StaleEpoch()
    if named_key is not None and not hmac.compare_digest(body.author_key, named_key):
        raise AuthorMismatch()
    if len(body.ciphertext) not in _CIPHERTEXT_SIZES:
        raise BadCiphertext()
    envelope = Envelope(
        body.author_key, body.commitment, body.nonce, body.ciphertext, body.signature
    )
    try:
        envelope.verify(context)
    except CryptoError as exc:
        raise BadEnvelope() from exc


def named_only(body: EnvelopeIn) -> None:
    """With a session only named envelopes: an anonymous one sent with a session would tell
    the server its author (§38)."""
    if body.anonymous:
        raise AnonymousNeedsToken()


def envelope_columns(request: EnvelopeFields, *, anonymous: bool) -> dict[str, object]:
    """The envelope as stored: what the author signed, byte for byte."""
    return {
        "epoch": request.epoch,
        "anonymous": anonymous,
        "author_key": request.author_key,
        "commitment": request.commitment,
        "nonce": request.nonce,
        "ciphertext": request.ciphertext,
        "signature": request.signature,
    }


def check_terms(
    request: EntryFields, *, circle: Circle | CircleCounters, now: datetime
) -> datetime:
    """§24.2: the expiry the author signed, within the window; it is the one stored."""
    now_s = int(now.timestamp())
    earliest = now_s + MIN_TTL_DAYS * DAY - CLOCK_SKEW
    latest = now_s + MAX_TTL_DAYS * DAY + CLOCK_SKEW
    if not earliest <= request.expires_at <= latest:
        raise BadExpiry()
    try:
        verify_terms(
            request.author_key,
            request.terms_signature,
            circle_id=circle.id,
            entry_id=request.entry_id,
            tag=request.author_tag,
            expires_at=request.expires_at,
        )
    except CryptoError as exc:
        raise BadTerms() from exc
    return datetime.fromtimestamp(request.expires_at, UTC)


def _same_entry(entry: Any, request: EntryCreate, actor: User | Account) -> bool:
    """``entry``: an ``Entry`` or a row of ``queries.existing_entry``."""
    return bool(
        entry.author_id == actor.id
        and entry.signature == request.signature
        and entry.ciphertext == request.ciphertext
    )


@dataclass(frozen=True, slots=True)
class Posted:
    """What a post answers: the stored entry's id, seq and times."""

    id: uuid.UUID
    seq: int
    created_at: datetime
    expires_at: datetime


def post_entry(
    session: Session, *, circle_id: uuid.UUID, actor: User | Account, request: EntryCreate
) -> Posted:
    """Store a warning; posting the same entry id again returns the stored one (idempotent).
    The hottest write: its reads and writes are Core statements (``queries``), not ORM."""
    circle = active_member_locked(session, circle_id=circle_id, user=actor)
    named_only(request)
    existing = queries.existing_entry(session, request.entry_id)
    if existing is not None:
        if existing.circle_id == circle.id and _same_entry(existing, request, actor):
            return Posted(existing.id, existing.seq, existing.created_at, existing.expires_at)
        raise EntryExists()
    context = EnvelopeContext(ENTRY, circle.id, request.epoch, request.entry_id)
    check_envelope(request, named_key=actor.ed25519_public, circle=circle, context=context)
    now = utcnow()
    expires_at = check_terms(request, circle=circle, now=now)
    row = new_entry_row(
        circle,
        request,
        author_id=actor.id,
        anonymous=False,
        created_at=now,
        expires_at=expires_at,
    )
    circle_queries.store_counters(session, circle)
    queries.insert_entry(session, row)
    return Posted(request.entry_id, circle.entry_seq, now, expires_at)


def new_entry_row(
    circle: CircleCounters,
    request: EntryFields,
    *,
    author_id: uuid.UUID | None,
    anonymous: bool,
    created_at: datetime,
    expires_at: datetime,
    sealed_author: bytes | None = None,
    author_generation: int | None = None,
) -> dict[str, Any]:
    """A new entry's row for ``queries.insert_entry`` (no ORM object: a post is the hottest
    write): the circle's next seq and change number, the envelope as its author signed it,
    live and not yet corroborated. The caller holds the circle row's lock."""
    circle.entry_seq += 1
    return {
        "id": request.entry_id,
        "circle_id": circle.id,
        "seq": circle.entry_seq,
        "author_id": author_id,
        **envelope_columns(request, anonymous=anonymous),
        "author_tag": request.author_tag,
        "terms_signature": request.terms_signature,
        "sealed_author": sealed_author,
        "author_generation": author_generation,
        "status": "live",
        "corroboration_count": 0,
        "created_at": created_at,
        "expires_at": expires_at,
        "wiped_at": None,
        "change_seq": next_change(circle),
    }


def stamp_change(circle: Circle | CircleCounters, entry: Entry) -> None:
    """Give ``entry`` the circle's next change number (``next_change``)."""
    entry.change_seq = next_change(circle)


def next_change(circle: Circle | CircleCounters) -> int:
    """The circle's next change number. The caller holds the circle row's lock until it
    commits, so change numbers become visible in increasing order and a reader's cursor
    (``changed_after``) never skips a change that commits later."""
    circle.change_seq += 1
    return circle.change_seq


@dataclass(frozen=True)
class EntryView:
    entry: Entry
    author: str | None  # None for anonymous entries: never revealed to members
    redacted: bool = False  # a hidden entry, shown without its envelope


def entry_views(session: Session, entries: list[Entry]) -> list[EntryView]:
    """Entries as an admin reviewing cases sees them (never redacted), in one query for
    the authors' names: a page of cases carries its reported entries."""
    return _views(session, entries)


def _views(session: Session, entries: list[Entry]) -> list[EntryView]:
    named = {e.author_id for e in entries if e.author_id is not None}
    names = (
        dict(session.execute(select(User.id, User.username).where(User.id.in_(named))).all())
        if named
        else {}
    )
    return [
        EntryView(e, None if e.anonymous or e.author_id is None else names.get(e.author_id))
        for e in entries
    ]


@dataclass(frozen=True)
class FeedPage:
    """A page of ``queries.feed_page`` rows (ids and times already as the JSON's text), hidden
    entries without their envelope, and the circle's counters when the page was read."""

    entries: list[Any]
    last_seq: int  # the circle's newest seq when the page was read
    last_change_seq: int  # the circle's newest change number when the page was read


_ENVELOPE = slice(8, 11)  # nonce, ciphertext, signature in a feed row


def list_entries(
    session: Session,
    *,
    circle_id: uuid.UUID,
    actor: User | Account,
    before: int | None,
    after: int | None,
    changed_after: int | None,
    limit: int,
) -> FeedPage:
    """Newest first below ``before``; with ``after``, oldest first above it; with
    ``changed_after``, every entry whose last change is newer, in change order (how a
    client keeps a local copy current: new entries, and changes to ones it holds)."""
    circle = active_member_read(session, circle_id=circle_id, user=actor)
    if changed_after is not None:
        order, seq = "changed", changed_after
    elif after is not None:
        order, seq = "after", after
    elif before is not None:
        order, seq = "before", before
    else:
        order, seq = "newest", None
    rows = queries.feed_page(session, circle_id=circle.id, order=order, seq=seq, limit=limit)
    return FeedPage([_shown(row) for row in rows], circle.entry_seq, circle.change_seq)


_STATUS = 3  # a feed row's status (``queries.feed_page``)


def _shown(row: Any) -> Any:
    if row[_STATUS] == "hidden":  # out of feeds pending review: no envelope for anyone
        shown = list(row)
        shown[_ENVELOPE] = (None, None, None)
        return shown
    return row


def get_entry(
    session: Session, *, circle_id: uuid.UUID, entry_id: uuid.UUID, actor: User
) -> tuple[EntryView, list[tuple[Corroboration, str | None]]]:
    _, membership = active_member(session, circle_id=circle_id, user=actor)
    entry = session.get(Entry, entry_id)
    if entry is None or entry.circle_id != circle_id:
        raise EntryNotFound()
    # A hidden entry stays readable to its author and the admins who review it.
    redacted = (
        entry.status == "hidden"
        and entry.author_id != actor.id
        and membership.role not in ADMIN_ROLES
    )
    rows = session.execute(
        select(Corroboration, User.username)
        .outerjoin(User, User.id == Corroboration.author_id)
        .where(Corroboration.entry_id == entry.id)
        .order_by(Corroboration.created_at)
    ).all()
    corroborations = [(c, None if c.anonymous else name) for c, name in rows]
    view = dataclasses.replace(_views(session, [entry])[0], redacted=redacted)
    return view, ([] if redacted else corroborations)


def wipe_entry(
    session: Session, circle: Circle, entry: Entry, *, status: str, now: datetime
) -> None:
    """Keep a tombstone: id, order and status; drop the ciphertext and the corroborations'.
    The caller holds ``circle``'s lock (the wipe is a change readers must learn of)."""
    entry.status = status
    entry.nonce = entry.ciphertext = entry.signature = None
    entry.wiped_at = coarse(now) if entry.anonymous else now
    stamp_change(circle, entry)
    session.execute(
        update(Corroboration)
        .where(Corroboration.entry_id == entry.id)
        .values(nonce=None, ciphertext=None, signature=None)
    )


def retract(
    session: Session,
    *,
    circle_id: uuid.UUID,
    entry_id: uuid.UUID,
    actor: User,
    signature: bytes,
) -> Entry:
    """The author (proven by the entry's own signing key) wipes their entry."""
    circle, _ = active_member(session, circle_id=circle_id, user=actor, lock=True)
    entry = session.get(Entry, entry_id)
    if entry is None or entry.circle_id != circle.id:
        raise EntryNotFound()
    if entry.author_id is None or entry.author_id != actor.id:
        raise NotAuthor()  # an anonymous entry is retracted without a session (§38.6)
    retract_signed(session, circle, entry, signature=signature, actor=actor.username)
    return entry


def retract_signed(
    session: Session, circle: Circle, entry: Entry, *, signature: bytes, actor: str
) -> None:
    """Wipe ``entry`` on its author's signature (§24), under ``circle``'s lock, and log it
    with the signature; ``actor`` is ``""`` for an anonymous entry."""
    if entry.status not in ("live", "hidden"):
        raise EntryGone()
    try:
        verify_retraction(entry.author_key, signature, circle_id=circle.id, entry_id=entry.id)
    except CryptoError as exc:
        raise BadEnvelope("the retraction is not signed by the entry's key") from exc
    wipe_entry(session, circle, entry, status="retracted", now=utcnow())
    # The log must not name the author of an anonymous entry.
    events.append(
        session,
        circle_id=circle.id,
        kind="entry_retracted",
        actor="" if entry.anonymous else actor,
        # The author's signed retraction (§24): any member's audit check verifies it.
        details={
            "entry_id": entry.id.hex,
            "author_key": b64encode(entry.author_key),
            "signature": b64encode(signature),
        },
    )


def expiry_details(entry: Entry) -> dict[str, Any]:
    """An expiry's log record carries the author's signed terms (§24.2), so any member can
    check that the server wiped the entry no earlier than its author asked."""
    details: dict[str, Any] = {"entry_id": entry.id.hex}
    if entry.author_tag is not None and entry.terms_signature is not None:
        details.update(
            expires_at=int(entry.expires_at.timestamp()),
            author_key=b64encode(entry.author_key),
            author_tag=b64encode(entry.author_tag),
            terms_signature=b64encode(entry.terms_signature),
        )
    return details


def purge_expired(session: Session, *, now: datetime, batch: int = 500) -> int:
    """Wipe entries past their expiry; each wipe lands in its circle's event log.

    Locks are taken circle first, then entries, as every other writer does (post,
    corroborate, retract, decide), so a purge and a corroboration cannot deadlock.
    """
    due = session.execute(
        select(Entry.circle_id, Entry.id)
        .where(Entry.status.in_(("live", "hidden")), Entry.expires_at <= now)
        .order_by(Entry.expires_at)
        .limit(batch)
    ).all()
    by_circle: dict[uuid.UUID, list[uuid.UUID]] = {}
    for circle_id, entry_id in due:
        by_circle.setdefault(circle_id, []).append(entry_id)
    wiped = 0
    for circle_id in sorted(by_circle):
        circle = session.get(Circle, circle_id, with_for_update=True, populate_existing=True)
        if circle is None:
            continue
        expired = session.scalars(
            select(Entry)
            .where(
                Entry.id.in_(by_circle[circle_id]),
                Entry.status.in_(("live", "hidden")),
                Entry.expires_at <= now,
            )
            .order_by(Entry.expires_at, Entry.seq)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for entry in expired:
            wipe_entry(session, circle, entry, status="expired", now=now)
            events.append(
                session,
                circle_id=entry.circle_id,
                kind="entry_expired",
                actor="",
                details=expiry_details(entry),
            )
            wiped += 1
    return wiped
