"""Core statements for the hottest paths (issue 19): posting, and the feed page. No ORM
objects on the way in or out. The rules stay in ``service``; ``tests/entries/test_queries.py``
holds these to the ORM path they replaced.

The feed's rows come out in the form the page's JSON writes them, converted by the database
from the stored form (``feed_page``): the entry id as its canonical text and both times as
RFC 3339 UTC text (``…Z``, no fraction when it is zero: what pydantic writes), so no UUID or
datetime object is made per value. Only the binary columns are left to the caller (base64:
SQLite has no such function)."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.direct import Direct
from app.entries.models import Entry


class StoredEntry(NamedTuple):
    """The columns of a stored entry that a repeated post is compared on."""

    id: uuid.UUID
    circle_id: uuid.UUID
    author_id: uuid.UUID | None
    signature: bytes
    ciphertext: bytes
    seq: int
    created_at: datetime
    expires_at: datetime


_EXISTING = Direct(
    select(
        Entry.id,
        Entry.circle_id,
        Entry.author_id,
        Entry.signature,
        Entry.ciphertext,
        Entry.seq,
        Entry.created_at,
        Entry.expires_at,
    ).where(Entry.id == bindparam("entry_id"))
)
_ENTRIES: Table = Entry.__table__  # type: ignore[assignment]
_COLUMNS = tuple(column.key for column in _ENTRIES.columns)
_COLUMN_SET = frozenset(_COLUMNS)
_INSERT = Direct(insert(_ENTRIES).values({key: bindparam(key) for key in _COLUMNS}))


def existing_entry(session: Session, entry_id: uuid.UUID) -> StoredEntry | None:
    """The stored entry with this id (the columns idempotency compares), or None."""
    row = _EXISTING.one_or_none(session, {"entry_id": entry_id})
    return None if row is None else StoredEntry(*row)


def insert_entry(session: Session, row: Mapping[str, Any]) -> None:
    """Insert a new entry's row (``service.new_entry_row``: every column, no ORM object) as
    one statement, straight on the driver (``app.direct``)."""
    if row.keys() != _COLUMN_SET:
        raise ValueError("an entry row names every column and nothing else")
    _INSERT.execute(session, row)


# -- the feed page ---------------------------------------------------------------------------


def _sqlite_id(column: Any) -> ColumnElement[str]:
    """SQLite stores a UUID as 32 lower-case hex digits; the JSON has the dashed form."""
    raw = type_coerce(column, String)
    parts = [func.substr(raw, start, length) for start, length in _UUID_GROUPS]
    joined: ColumnElement[str] = parts[0]
    for part in parts[1:]:
        joined = joined + literal("-") + part
    return joined


_UUID_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


def _sqlite_time(column: Any) -> ColumnElement[str]:
    """SQLite stores a UTC time as ``YYYY-MM-DD HH:MM:SS.ffffff``; the JSON has
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, without the fraction when it is zero."""
    raw = type_coerce(column, String)
    whole = case((func.substr(raw, 20) == ".000000", func.substr(raw, 1, 19)), else_=raw)
    return func.replace(whole, " ", "T") + literal("Z")


def _postgresql_time(column: Any) -> ColumnElement[str]:
    utc = column.op("AT TIME ZONE")(literal("UTC"))
    seconds = func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
    fraction = case(
        (func.extract("microseconds", utc) % 1_000_000 == 0, literal("")),
        else_=func.to_char(utc, ".US"),
    )
    return seconds + fraction + literal("Z")


_RAW = (
    Entry.id,
    Entry.seq,
    Entry.epoch,
    Entry.status,
    Entry.anonymous,
    Entry.author_id,
    Entry.author_key,
    Entry.commitment,
    Entry.nonce,
    Entry.ciphertext,
    Entry.signature,
    Entry.author_tag,
    Entry.terms_signature,
    Entry.corroboration_count,
    Entry.created_at,
    Entry.expires_at,
    Entry.change_seq,
)


def _pages() -> dict[str, tuple[Any, str, bool]]:
    """The four orders a page is read in: the page's rows (stored form), the column they are
    in order of, and whether newest first."""
    base = select(*_RAW).where(Entry.circle_id == bindparam("circle_id"))
    limit: Any = bindparam("limit")
    orders = {
        "newest": (base, Entry.seq, True),
        "before": (base.where(Entry.seq < bindparam("seq")), Entry.seq, True),
        "after": (base.where(Entry.seq > bindparam("seq")), Entry.seq, False),
        "changed": (base.where(Entry.change_seq > bindparam("seq")), Entry.change_seq, False),
    }
    return {
        order: (
            rows.order_by(column.desc() if newest_first else column.asc()).limit(limit),
            column.key,
            newest_first,
        )
        for order, (rows, column, newest_first) in orders.items()
    }


def _feed(entry_id: Any, time: Any) -> dict[str, Direct]:
    """Each order's statement: the page chosen from the stored rows first, then only its rows
    converted to the JSON's text and joined with their authors' names. Converting first made
    PostgreSQL compute the text of every entry of the circle whenever it chose to sort rather
    than walk the index (as it does while its statistics still see a small table), so a page
    cost grew with the circle (issue 19: 6 ms against 2.5 ms at 1,000 entries)."""
    built = {}
    for order, (rows, key, newest_first) in _pages().items():
        page = rows.subquery("page")
        ordering = page.c[key].desc() if newest_first else page.c[key].asc()
        built[order] = Direct(
            select(
                entry_id(page.c.id),
                page.c.seq,
                page.c.epoch,
                page.c.status,
                page.c.anonymous,
                case((page.c.anonymous, None), else_=User.username),
                page.c.author_key,
                page.c.commitment,
                page.c.nonce,
                page.c.ciphertext,
                page.c.signature,
                page.c.author_tag,
                page.c.terms_signature,
                page.c.corroboration_count,
                time(page.c.created_at),
                time(page.c.expires_at),
                page.c.change_seq,
            )
            .select_from(page.outerjoin(User, User.id == page.c.author_id))
            .order_by(ordering)
        )
    return built


_FEED = {
    "sqlite": _feed(_sqlite_id, _sqlite_time),
    "postgresql": _feed(lambda c: cast(c, String), _postgresql_time),
}


def feed_page(
    session: Session, *, circle_id: uuid.UUID, order: str, seq: int | None, limit: int
) -> Sequence[Any]:
    """Up to ``limit`` entries of the circle in ``order`` (``newest``, or ``before``,
    ``after`` or ``changed`` relative to ``seq``), each row: entry id (text), seq, epoch,
    status, anonymous, author name (None when anonymous), author key, commitment, nonce,
    ciphertext, signature, author tag, terms signature, corroborations, created and expiry
    times (RFC 3339 text), change number."""
    query = _FEED[session.get_bind().dialect.name][order]  # no transaction begun for it
    params: dict[str, Any] = {"circle_id": circle_id, "limit": limit}
    if seq is not None:
        params["seq"] = seq
    return query.all(session, params)
