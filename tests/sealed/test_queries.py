"""The Core statements of the evaluation and the filing (``app.sealed.queries``) answer what
the ORM reads they replaced answered: the newest settings record and moderation key
generation, the member's evaluations in the window, and which filings count."""

import uuid
from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles.models import Membership
from app.db import utcnow
from app.moderation.models import ModerationKeyRow
from app.sealed import queries
from app.sealed.models import SealedEvaluation, SealedFiling, SealedSettingsRow
from app.sealed.service import COUNTING, WINDOW
from tests.conftest import World
from tests.sealed.conftest import Ring, sealed_of


def _user_id(session: Session, name: str) -> uuid.UUID:
    return session.scalars(select(User.id).where(User.username == name)).one()


def _orm_state(session: Session, circle_id: uuid.UUID, user_id: uuid.UUID) -> queries.SealedState:
    settings = session.scalar(
        select(SealedSettingsRow)
        .where(SealedSettingsRow.circle_id == circle_id)
        .order_by(SealedSettingsRow.seq.desc())
        .limit(1)
    )
    key = session.scalar(
        select(ModerationKeyRow)
        .where(ModerationKeyRow.circle_id == circle_id)
        .order_by(ModerationKeyRow.generation.desc())
        .limit(1)
    )
    used = session.scalar(
        select(func.coalesce(func.sum(SealedEvaluation.elements), 0)).where(
            SealedEvaluation.circle_id == circle_id,
            SealedEvaluation.user_id == user_id,
            SealedEvaluation.created_at > utcnow() - WINDOW,
        )
    )
    return queries.SealedState(
        None if settings is None else settings.record,
        None if settings is None else settings.k,
        None if settings is None else settings.evaluations_per_day,
        None if key is None else key.generation,
        None if key is None else key.public_key,
        int(used or 0),
    )


def _core_state(session: Session, circle_id: uuid.UUID, user_id: uuid.UUID) -> queries.SealedState:
    return queries.state(session, circle_id=circle_id, user_id=user_id, since=utcnow() - WINDOW)


def test_the_state_before_any_setup_is_empty(world: World, engine: Engine) -> None:
    with Session(engine) as session:
        bob = _user_id(session, "bob")
        core = _core_state(session, world.circle_id, bob)
        assert core == _orm_state(session, world.circle_id, bob)
        assert core == queries.SealedState(None, None, None, None, None, 0)


def test_the_state_reads_the_newest_records_and_the_window(ring: Ring, engine: Engine) -> None:
    world = ring.world
    ring.seal(world.bob, "Jan Novák")
    sealed_of(world.alice).configure(ring.cid, k=3)  # a second settings record
    ring.seal(world.carol, "Petra Schmidt", aliases=["P. Schmidt"])
    with Session(engine) as session:
        for name in ("alice", "bob", "carol", "frank"):
            user = _user_id(session, name)
            core = _core_state(session, ring.cid, user)
            assert core == _orm_state(session, ring.cid, user), name
        assert _core_state(session, ring.cid, _user_id(session, "bob")).k == 3
        carol = _user_id(session, "carol")
        assert _core_state(session, ring.cid, carol).used == 4  # two names, two forms each
        # Rows at the window's edge no longer count, in both.
        later = utcnow() + timedelta(hours=24, seconds=1)
        assert queries.used(session, circle_id=ring.cid, user_id=carol, since=later - WINDOW) == 0


def test_counting_filers_are_the_open_and_matched_filings_of_active_members(
    ring: Ring, engine: Engine
) -> None:
    world = ring.world
    ring.seal(world.bob, "Jan Novák")
    ring.seal(world.carol, "Petra Schmidt")
    withdrawn = ring.seal(world.carol, "Eva Weiss")
    sealed_of(world.carol).withdraw(ring.cid, withdrawn["filing_id"])
    world.alice.circles.remove(ring.cid, "bob")
    with Session(engine) as session:
        rows = session.execute(select(SealedFiling.id, SealedFiling.filer_id)).all()
        expected = {
            fid: filer
            for fid, filer in session.execute(
                select(SealedFiling.id, SealedFiling.filer_id)
                .join(
                    Membership,
                    (Membership.circle_id == SealedFiling.circle_id)
                    & (Membership.user_id == SealedFiling.filer_id),
                )
                .where(SealedFiling.status.in_(COUNTING), Membership.status == "active")
            )
        }
        found = queries.counting_filers(session, {fid for fid, _ in rows}, COUNTING)
        assert found == expected
        assert list(found.values()) == [_user_id(session, "carol")]
        assert queries.counting_filers(session, set(), COUNTING) == {}
