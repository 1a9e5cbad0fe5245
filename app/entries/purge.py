"""Expiry: `backchannel-server purge` and the periodic task the app runs: warnings past
their expiry, and sealed-warning evaluation rows past their retention."""

import asyncio
import logging
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.db import make_engine, make_session_factory, session_scope, utcnow
from app.entries.service import purge_expired
from app.sealed.service import purge_evaluations
from app.settings import Settings

logger = logging.getLogger("backchannel.purge")


def purge_once(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """One pass, in batches, each batch its own transaction (``now``: a test's clock)."""
    total = 0
    while True:
        with session_scope(factory) as session:
            count = purge_expired(session, now=now or utcnow())
        total += count
        if count == 0:
            return total


def purge_evaluation_rows(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None
) -> int:
    """Sealed-warning evaluation rows past ``sealed_evaluation_retention_seconds``, in
    batches, each its own transaction."""
    total = 0
    while True:
        with session_scope(factory) as session:
            count = purge_evaluations(session, settings, now=now or utcnow())
        total += count
        if count == 0:
            return total


def purge_all(settings: Settings, *, now: datetime | None = None) -> int:
    engine = make_engine(settings.database_url)
    try:
        return purge_once(make_session_factory(engine, write=True), now=now)
    finally:
        engine.dispose()


def purge_all_evaluations(settings: Settings, *, now: datetime | None = None) -> int:
    engine = make_engine(settings.database_url)
    try:
        return purge_evaluation_rows(make_session_factory(engine, write=True), settings, now=now)
    finally:
        engine.dispose()


async def purge_periodically(app: FastAPI, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            count = await run_in_threadpool(purge_once, app.state.write_factory)
            rows = await run_in_threadpool(
                purge_evaluation_rows, app.state.write_factory, app.state.settings
            )
        except Exception:  # a failed pass is logged and retried next interval
            logger.exception("expiry pass failed")
            continue
        if count:
            logger.info("expired entries wiped: %d", count)
        if rows:
            logger.info("sealed evaluation rows purged: %d", rows)
