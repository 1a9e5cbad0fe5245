"""The Core statements of the post path and the feed answer what the ORM path they replaced answered
(issue 19): the same access decision and counters, the same stored entry."""

import dataclasses
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from pydantic import TypeAdapter
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles import access
from app.circles.models import Circle
from app.circles.queries import lock_circle, store_counters
from app.client.entries import Entries
from app.db import utcnow
from app.entries import queries
from app.entries.models import Entry
from app.errors import BackchannelError, CircleDeleted
from tests.conftest import World


def _decision(check: Callable[..., object], **kw: object) -> object:
    try:
        return check(**kw)
    except BackchannelError as exc:
        return type(exc)


def _orm_locked(session: Session, *, circle_id: uuid.UUID, user: User) -> object:
    circle = access.active_member(session, circle_id=circle_id, user=user, lock=True)[0]
    return (
        circle.id,
        circle.epoch,
        circle.entry_seq,
        circle.change_seq,
        circle.entry_ttl_days,
        circle.deleted_at,
    )


def _core_locked(session: Session, *, circle_id: uuid.UUID, user: User) -> object:
    return dataclasses.astuple(access.active_member_locked(session, circle_id=circle_id, user=user))


def _orm_read(session: Session, *, circle_id: uuid.UUID, user: User) -> object:
    circle = access.active_member(session, circle_id=circle_id, user=user)[0]
    return (circle.id, circle.entry_seq, circle.change_seq, circle.deleted_at)


def _core_read(session: Session, *, circle_id: uuid.UUID, user: User) -> object:
    circle = access.active_member_read(session, circle_id=circle_id, user=user)
    return (circle.id, circle.entry_seq, circle.change_seq, circle.deleted_at)


@pytest.mark.parametrize("deleted", [False, True])
@pytest.mark.parametrize(
    ("orm_check", "core_check"),
    [(_orm_locked, _core_locked), (_orm_read, _core_read)],
    ids=["posting", "feed"],
)
def test_the_core_access_checks_decide_as_the_orm_ones(
    world: World,
    engine: Engine,
    deleted: bool,
    orm_check: Callable[..., object],
    core_check: Callable[..., object],
) -> None:
    Entries(world.bob.circles).post(world.circle_id, subject="S", text="t", categories=["other"])
    if deleted:
        with Session(engine) as session, session.begin():
            circle = session.get(Circle, world.circle_id)
            assert circle is not None
            circle.deleted_at = utcnow()
    for role, person in world.everyone().items():
        for circle_id in (world.circle_id, uuid.uuid4()):
            with Session(engine) as session:
                user = session.scalars(select(User).where(User.username == person.name)).one()
                orm = _decision(orm_check, session=session, circle_id=circle_id, user=user)
                session.rollback()
                core = _decision(core_check, session=session, circle_id=circle_id, user=user)
            assert core == orm, role
            if role == "member" and circle_id == world.circle_id:
                assert (orm is CircleDeleted) if deleted else not isinstance(orm, type)


def test_existing_entry_reads_what_the_orm_reads(world: World, engine: Engine) -> None:
    posted = Entries(world.bob.circles).post(
        world.circle_id, subject="S", text="t", categories=["other"]
    )
    with Session(engine) as session:
        row = queries.existing_entry(session, uuid.UUID(posted["entry_id"]))
        entry = session.get(Entry, uuid.UUID(posted["entry_id"]))
        assert entry is not None and row is not None
        for key in row._fields:
            assert getattr(row, key) == getattr(entry, key), key
        assert queries.existing_entry(session, uuid.uuid4()) is None


@pytest.mark.parametrize("anonymous", [False, True])
def test_a_core_insert_stores_what_the_orm_stores(
    world: World, engine: Engine, anonymous: bool
) -> None:
    """The same entry's columns, once through ``insert_entry`` and once through the ORM; a
    row missing a column, or with one too many, is refused before anything is written."""
    if anonymous:
        world.open_anonymous()
    template = Entries(world.bob.circles).post(
        world.circle_id, subject="S", text="t", categories=["other"], anonymous=anonymous
    )
    with Session(engine) as session, session.begin():
        stored = session.get(Entry, uuid.UUID(template["entry_id"]))
        assert stored is not None
        stored_count = session.scalar(select(func.count()).select_from(Entry))
        user = session.scalars(select(User).where(User.username == "bob")).one()
        counters, _ = lock_circle(session, circle_id=world.circle_id, user_id=user.id)
        assert counters is not None
        now = utcnow()
        made = []
        for core in (True, False):
            counters.entry_seq += 1
            counters.change_seq += 1
            entry = Entry(
                **{
                    c.key: getattr(stored, c.key)
                    for c in Entry.__table__.columns
                    if c.key not in ("id", "seq", "change_seq", "created_at", "expires_at")
                },
                id=uuid.uuid4(),
                seq=counters.entry_seq,
                change_seq=counters.change_seq,
                created_at=now,
                expires_at=now + timedelta(days=3),
            )
            if core:
                queries.insert_entry(
                    session, {c.key: getattr(entry, c.key) for c in Entry.__table__.columns}
                )
            else:
                session.add(entry)
                session.flush()
            made.append(entry.id)
        store_counters(session, counters)
        whole = {c.key: getattr(entry, c.key) for c in Entry.__table__.columns}
        for wrong in (
            {k: v for k, v in whole.items() if k != "wiped_at"},
            {**whole, "id": uuid.uuid4(), "author": "bob"},
        ):
            with pytest.raises(ValueError, match="every column"):
                queries.insert_entry(session, wrong)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == stored_count + 2
        rows = [session.get(Entry, entry_id) for entry_id in made]
        columns = [
            c.key for c in Entry.__table__.columns if c.key not in ("id", "seq", "change_seq")
        ]
        first, second = rows
        assert first is not None and second is not None
        assert [getattr(first, k) for k in columns] == [getattr(second, k) for k in columns]
        assert (first.seq + 1, first.change_seq + 1) == (second.seq, second.change_seq)
        counters_now, _ = lock_circle(session, circle_id=world.circle_id, user_id=first.author_id)
        assert counters_now is not None
        assert (counters_now.entry_seq, counters_now.change_seq) == (second.seq, second.change_seq)


_TIME = TypeAdapter(datetime)


def test_feed_rows_are_the_stored_entries_as_the_json_writes_them(
    world: World, engine: Engine
) -> None:
    """Every order of ``feed_page`` against the ORM's entries: the id as canonical text, the
    times as pydantic writes them (with a fraction and, for whole seconds, without)."""
    world.open_anonymous()
    bob = Entries(world.bob.circles)
    for i in range(4):
        bob.post(world.circle_id, subject=f"S{i}", text="t", categories=["other"])
    bob.post(world.circle_id, subject="A", text="t", categories=["other"], anonymous=True)
    with Session(engine) as session:
        stored = session.scalars(select(Entry).where(Entry.circle_id == world.circle_id)).all()
        by_id = {str(e.id): e for e in stored}
        names = {u.id: u.username for u in session.scalars(select(User))}
        whole = [e for e in stored if e.expires_at.microsecond == 0]
        assert whole and any(e.created_at.microsecond for e in stored)
        for order, seq, expected in (
            ("newest", None, sorted(stored, key=lambda e: -e.seq)),
            ("before", 4, sorted((e for e in stored if e.seq < 4), key=lambda e: -e.seq)),
            ("after", 1, sorted((e for e in stored if e.seq > 1), key=lambda e: e.seq)),
            ("changed", 2, sorted((e for e in stored if e.change_seq > 2), key=lambda e: e.seq)),
        ):
            rows = queries.feed_page(
                session, circle_id=world.circle_id, order=order, seq=seq, limit=50
            )
            assert [row[0] for row in rows] == [str(e.id) for e in expected], order
            for row in rows:
                e = by_id[row[0]]
                assert list(row) == [
                    str(e.id),
                    e.seq,
                    e.epoch,
                    e.status,
                    e.anonymous,
                    None if e.anonymous else names[e.author_id],  # type: ignore[index]
                    e.author_key,
                    e.commitment,
                    e.nonce,
                    e.ciphertext,
                    e.signature,
                    e.author_tag,
                    e.terms_signature,
                    e.corroboration_count,
                    _TIME.dump_json(e.created_at).decode().strip('"'),
                    _TIME.dump_json(e.expires_at).decode().strip('"'),
                    e.change_seq,
                ]
        assert (
            len(
                queries.feed_page(
                    session, circle_id=world.circle_id, order="newest", seq=None, limit=2
                )
            )
            == 2
        )
