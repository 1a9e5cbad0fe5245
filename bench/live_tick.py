"""What one live-update stream costs the server per poll (docs/api.md, "Live updates").

Each open ``GET /v1/events`` stream re-reads, every ``BACKCHANNEL_EVENTS_POLL_SECONDS``, its
session and the caller's circles (``app.circles.live.positions``) in a read-only session of
its own. This measures exactly that step, on a fresh migrated database with one member of
``--circles`` circles made through the real API, and says what share of one core a
worker's full load of streams (``--streams`` at ``--poll`` seconds) would take.

    .venv/bin/python -m bench.live_tick --engines sqlite,postgresql --circles 20
"""

import argparse
import statistics
import time
import uuid

from sqlalchemy import select
from starlette.testclient import TestClient

from app.accounts.models import AuthSession
from app.circles import live
from app.client.circles import Circles
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.db import finish
from app.main import create_app
from app.settings import Settings
from bench.common import fresh_database, usable_engines

SECRET = "bench-secret-key-that-is-long-enough-for-benches"


def measure(database_url: str, *, circles: int, ticks: int) -> tuple[list[float], float]:
    """Each tick's wall time, and this process's CPU time per tick (the database server's
    own CPU, for PostgreSQL, is not in it)."""
    settings = Settings(
        database_url=database_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        server_hash_time_cost=1,
        server_hash_memory_kib=1024,
    )
    app = create_app(settings)
    try:
        with TestClient(app, base_url="http://bench") as http:
            client = Client("http://bench", http=http)
            account = client.register("member", "quartz-vellum 7731 kite")
            mine = Circles(
                client,
                username=account.username,
                identity=account.identity,
                trust=TrustStore.in_memory(),
            )
            for n in range(circles):
                mine.create(f"circle {n}")
        factory = app.state.session_factory
        with factory() as session:
            row = session.execute(select(AuthSession.id, AuthSession.user_id)).one()
        session_id, user_id = uuid.UUID(str(row[0])), uuid.UUID(str(row[1]))
        timings = []
        cpu_started = time.process_time()
        for _ in range(ticks):
            started = time.perf_counter()
            session = factory()
            try:
                found = live.positions(session, settings, session_id=session_id, user_id=user_id)
            finally:
                finish(session, commit=False)
            timings.append(time.perf_counter() - started)
            assert found is not None and len(found) == circles
        return timings, (time.process_time() - cpu_started) / ticks
    finally:
        app.state.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--circles", type=int, default=20)
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--poll", type=float, default=2.0)
    args = parser.parse_args(argv)
    print(f"one member of {args.circles} circles; {args.ticks} ticks per engine")
    for engine in usable_engines(args.engines):
        with fresh_database(engine) as url:
            timings, cpu = measure(url, circles=args.circles, ticks=args.ticks)
        ordered = sorted(timings)
        p50 = statistics.median(ordered)
        p99 = ordered[int(len(ordered) * 0.99) - 1]
        share = args.streams / args.poll * cpu
        print(
            f"{engine}: tick wall p50 {p50 * 1e6:.0f} µs, p99 {p99 * 1e6:.0f} µs, "
            f"CPU {cpu * 1e6:.0f} µs; {args.streams} streams at a {args.poll:g} s poll: "
            f"{share * 100:.1f} % of one core in the worker"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
