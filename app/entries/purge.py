"""The retention pass: `backchannel-server purge` and the periodic task the app runs.

It wipes warnings past their expiry and deletes what no rule needs any more
(``app.retention.purge_held``: ended sessions, old throttle rows, evaluation counts).
"""

import asyncio
import logging
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.db import make_engine, make_session_factory, session_scope, utcnow
from app.entries.service import purge_expired
from app.retention import Purged, purge_held
from app.settings import Settings

logger = logging.getLogger("backchannel.purge")


def purge_once(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None
) -> int:
    """One pass, in batches, each batch its own transaction; the number of warnings wiped.
    ``now`` (a test's clock) moves expiry only: what is held is aged by the real clock."""
    moment = now or utcnow()
    with session_scope(factory) as session:
        held = purge_held(session, settings, now=utcnow())
    if held.total:
        logger.info("retention: %s", _summary(held))
    total = 0
    while True:
        with session_scope(factory) as session:
            count = purge_expired(session, now=moment)
        total += count
        if count == 0:
            return total


def _summary(held: Purged) -> str:
    return (
        f"{held.sessions} ended sessions, {held.auth_failures} failed-login rows, "
        f"{held.registration_hits} registration rows, {held.evaluations} evaluation rows, "
        f"{held.issuances} token issuance rows, {held.spent_tokens} spent tokens deleted; "
        f"{held.takedown_requests} decided takedown requests wiped"
    )


def purge_all(settings: Settings, *, now: datetime | None = None) -> int:
    engine = make_engine(settings.database_url)
    try:
        return purge_once(make_session_factory(engine, write=True), settings, now=now)
    finally:
        engine.dispose()


async def purge_periodically(app: FastAPI, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        app.state.anon_throttle.sweep()  # memory, not the database: the pass below misses it
        try:
            count = await run_in_threadpool(purge_once, app.state.write_factory, app.state.settings)
        except Exception:  # a failed pass is logged and retried next interval
            logger.exception("retention pass failed")
            continue
        if count:
            logger.info("expired entries wiped: %d", count)
