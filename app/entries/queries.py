"""Core statements for posting, the hottest write (issue 19): no ORM objects on the way in or
out. The rules stay in ``service``; ``tests/entries/test_queries.py`` holds these to the ORM."""

import uuid
from typing import Any

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from app.entries.models import Entry

_EXISTING = select(
    Entry.id,
    Entry.circle_id,
    Entry.author_id,
    Entry.signature,
    Entry.ciphertext,
    Entry.seq,
    Entry.created_at,
    Entry.expires_at,
).where(Entry.id == bindparam("entry_id"))
_ENTRIES: Table = Entry.__table__  # type: ignore[assignment]
_INSERT = insert(_ENTRIES)
_COLUMNS = tuple(column.key for column in _ENTRIES.columns)


def existing_entry(session: Session, entry_id: uuid.UUID) -> Any:
    """The stored entry with this id (the columns idempotency compares), or None."""
    return session.connection().execute(_EXISTING, {"entry_id": entry_id}).one_or_none()


def insert_entry(session: Session, entry: Entry) -> None:
    """Insert a transient ``Entry`` (never added to the session) as one Core statement."""
    session.connection().execute(_INSERT, {key: getattr(entry, key) for key in _COLUMNS})
