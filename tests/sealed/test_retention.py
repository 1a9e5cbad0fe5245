"""Evaluation rows (what the daily limit counts) are deleted after their retention
(`sealed_evaluation_retention_seconds`, default and minimum 24 hours): by the retention pass
(``app.retention.purge_held``) for everyone, and by a member's next evaluation for their own
(docs/operations.md)."""

from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.retention import purge_held
from app.sealed.models import SealedEvaluation
from app.settings import Settings
from tests.sealed.conftest import Ring


def purge_all_evaluations(settings: Settings, engine: Engine, *, now: datetime) -> int:
    with Session(engine) as session, session.begin():
        return purge_held(session, settings, now=now).evaluations


def _rows(engine: Engine) -> list[tuple[str, int]]:
    with Session(engine) as session:
        return [
            (str(user), count)
            for user, count in session.execute(
                select(SealedEvaluation.user_id, func.count()).group_by(SealedEvaluation.user_id)
            )
        ]


def test_the_purge_pass_deletes_rows_past_their_retention(
    ring: Ring, engine: Engine, settings: Settings
) -> None:
    ring.seal(ring.world.bob, "Jan Novák")
    ring.seal(ring.world.carol, "Petra Schmidt")
    assert len(_rows(engine)) == 2
    assert purge_all_evaluations(settings, engine, now=utcnow() + timedelta(hours=23)) == 0
    assert (
        purge_all_evaluations(settings, engine, now=utcnow() + timedelta(hours=24, minutes=1)) == 2
    )
    assert _rows(engine) == []
    # The audit leaves stay: the admins can still read who asked (the rows only counted).
    records = ring.world.bob.client.request("GET", f"/v1/circles/{ring.cid}/audit/records")
    assert sum('"sealed_evaluation"' in r["body"] for r in records) == 2


def test_a_longer_retention_is_honoured(ring: Ring, engine: Engine, settings: Settings) -> None:
    ring.seal(ring.world.bob, "Jan Novák")
    longer = settings.model_copy(update={"sealed_evaluation_retention_seconds": 3 * 24 * 3600})
    assert purge_all_evaluations(longer, engine, now=utcnow() + timedelta(days=2)) == 0
    assert purge_all_evaluations(longer, engine, now=utcnow() + timedelta(days=3, minutes=1)) == 1


def test_an_evaluation_deletes_its_members_old_rows_and_keeps_the_limit(
    ring: Ring, engine: Engine
) -> None:
    bob = ring.world.bob
    ring.seal(bob, "Jan Novák")
    ring.seal(ring.world.carol, "Petra Schmidt")
    with Session(engine) as session, session.begin():  # both filed two days ago
        session.execute(update(SealedEvaluation).values(created_at=utcnow() - timedelta(days=2)))
    ring.seal(bob, "Max Weber")
    with Session(engine) as session:
        ages = session.scalars(select(SealedEvaluation.created_at)).all()
    # bob's old row is gone, his new one counts; carol's old row waits for the purge pass.
    assert len(ages) == 2
    assert sorted(age > utcnow() - timedelta(hours=1) for age in ages) == [False, True]
