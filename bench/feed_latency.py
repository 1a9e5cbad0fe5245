"""Feed page latency: a circle with 1,000,000 warnings against one with 10,000.

Run from the repository root::

    .venv/bin/python -m bench.feed_latency                        # SQLite and PostgreSQL (if up)
    .venv/bin/python -m bench.feed_latency --engines sqlite --requests 300
    .venv/bin/python -m bench.feed_latency --large 200000         # a quicker, smaller run

Target (warnings issue): the latency of a feed page with 1,000,000 entries in the circle is
within 1.2x of the latency with 10,000 entries, on PostgreSQL and on SQLite.

Method (docs/benchmarks.md has the numbers):

* per engine, two fresh migrated databases, each served by the real app (``create_app``) under
  uvicorn on 127.0.0.1 in its own child process: "10k" holds one circle of 10,000 entries;
  "1M" holds one circle of 1,000,000 entries and a second circle of 10,000 (to show the effect
  of the table's size separately from the circle's). PostgreSQL databases are temporary
  (``bc_bench_<pid>_s`` / ``_l``) and dropped afterwards;
* in each circle, alice and bob (registered through the API, real Argon2id; bob invited and
  confirmed through the SDK) post 6 entries through the API; the rest are bulk rows copied from
  16 real envelopes sealed with ``app.crypto.entries.seal`` for that circle (528-byte
  ciphertext, 24-byte nonce, 64-byte signature, 32-byte key and commitment; distinct ids and
  sequential ``seq``; one name token each), named by alice or bob or anonymous. PostgreSQL is
  loaded with ``COPY``, SQLite with ``executemany`` in 50,000-row transactions; then
  ``circles.entry_seq`` is set, and PostgreSQL gets ``VACUUM ANALYZE`` (what autovacuum would do);
* measured: ``GET /v1/circles/{id}/entries?limit=50`` (first page, newest first), ``...&before=
  <middle seq>`` (a deep page) and ``...&after=<middle seq>`` (the sync direction), each
  ``--requests`` times per circle after a warm-up, one request at a time over a keep-alive
  httpx connection, the circles' requests interleaved in a random order each round. Latency is
  client-side wall time until the body is read; the server's own time and its time in the
  database come back in response headers;
* ``EXPLAIN (ANALYZE, BUFFERS)`` of the page queries on the 1M PostgreSQL database (custom and
  generic plans) and ``EXPLAIN QUERY PLAN`` on SQLite.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import psycopg
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from app.accounts.models import User
from app.circles.models import Circle
from app.db import make_engine, utcnow
from app.entries.models import Entry
from bench.common import (
    fresh_database,
    pg_admin,
    postgres_unavailable,
    postgres_url,
    postgres_version,
)
from bench.entries_sync import (
    DB_SECONDS,
    SERVER_SECONDS,
    CircleWorld,
    LiveServer,
    Sealed,
    build_circle,
    git_head,
    post_via_api,
    seal_bulk,
    start_server,
)

TARGET_RATIO = 1.2
TEMPLATES = 16
BATCH = 50_000
PAGE = 50
ENTRY_COLUMNS = (
    "id",
    "circle_id",
    "seq",
    "epoch",
    "author_id",
    "anonymous",
    "author_key",
    "commitment",
    "nonce",
    "ciphertext",
    "signature",
    "status",
    "corroboration_count",
    "created_at",
    "expires_at",
    "wiped_at",
    "change_seq",
)


# -- building the circles ---------------------------------------------------------------------


@dataclass
class Target:
    """One circle behind one server, as measured."""

    label: str  # "10k", "1M", "10k in the 1M database"
    entries: int
    server: LiveServer
    world: CircleWorld
    database_url: str
    build_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def token(self) -> str:
        token = self.world.reader.client.token
        assert token is not None
        return token


def _rows(
    world: CircleWorld, templates: list[Sealed], ids: dict[str, uuid.UUID], first: int, last: int
) -> Iterator[dict[str, Any]]:
    """Entry rows for seq first..last (inclusive), each its own change (change_seq = seq)."""
    base = utcnow() - timedelta(days=30)
    expires = utcnow() + timedelta(days=730)
    step = timedelta(days=29) / max(last - first + 1, 1)
    for seq in range(first, last + 1):
        t = templates[seq % len(templates)]
        e = t.envelope
        yield {
            "id": uuid.uuid4(),
            "circle_id": world.circle_id,
            "seq": seq,
            "epoch": 0,
            "author_id": ids[t.author],
            "anonymous": t.anonymous,
            "author_key": e.author_key,
            "commitment": e.commitment,
            "nonce": e.nonce,
            "ciphertext": e.ciphertext,
            "signature": e.signature,
            "status": "live",
            "corroboration_count": 0,
            "created_at": base + step * (seq - first),
            "expires_at": expires,
            "wiped_at": None,
            "change_seq": seq,
        }


def bulk_load(database_url: str, world: CircleWorld, total: int) -> dict[str, float]:
    """Fill the circle up to ``total`` entries after the API-posted ones."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    templates = seal_bulk(world, TEMPLATES, start=world.posted_via_api)
    timings["seal 16 template envelopes"] = time.perf_counter() - t
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            ids = dict(conn.execute(select(User.username, User.id)).all())
            first = (
                conn.execute(
                    select(Circle.entry_seq).where(Circle.id == world.circle_id)
                ).scalar_one()
                + 1
            )
    finally:
        engine.dispose()
    t = time.perf_counter()
    if database_url.startswith("postgresql"):
        _copy_postgres(database_url, world, templates, ids, first, total)
    else:
        _insert_sqlite(database_url, world, templates, ids, first, total)
    timings[f"insert {total - first + 1:,} rows"] = time.perf_counter() - t
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(Circle)
                .where(Circle.id == world.circle_id)
                .values(entry_seq=total, change_seq=total)
            )
    finally:
        engine.dispose()
    return timings


def _copy_postgres(
    database_url: str,
    world: CircleWorld,
    templates: list[Sealed],
    ids: dict[str, uuid.UUID],
    first: int,
    last: int,
) -> None:
    url = pg_admin(database_url)
    with psycopg.connect(url) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY entries ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in _rows(world, templates, ids, first, last):
                copy.write_row(tuple(row[c] for c in ENTRY_COLUMNS))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE entries")


def _insert_sqlite(
    database_url: str,
    world: CircleWorld,
    templates: list[Sealed],
    ids: dict[str, uuid.UUID],
    first: int,
    last: int,
) -> None:
    """SQLAlchemy Core executemany (so values are stored exactly as the app stores them)."""
    engine = make_engine(database_url)
    try:
        rows = _rows(world, templates, ids, first, last)
        while True:
            batch = [r for _, r in zip(range(BATCH), rows, strict=False)]
            if not batch:
                break
            with engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MiB for the load only
                conn.execute(insert(Entry), batch)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()


def make_circle(
    label: str, database_url: str, server: LiveServer, entries: int, *, names: tuple[str, ...]
) -> Target:
    timings: dict[str, float] = {}
    t = time.perf_counter()
    world = build_circle(server.url, names=names)
    post_via_api(world)
    timings["register, create circle, invite, post via API"] = time.perf_counter() - t
    timings.update(bulk_load(database_url, world, entries))
    return Target(label, entries, server, world, database_url, timings)


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    db: list[float] = field(default_factory=list)
    body_bytes: int = 0


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def queries(target: Target) -> dict[str, dict[str, int]]:
    middle = target.entries // 2
    return {
        "first page": {"limit": PAGE},
        "deep page (before=middle)": {"limit": PAGE, "before": middle},
        "sync page (after=middle)": {"limit": PAGE, "after": middle},
    }


def measure(targets: list[Target], requests: int, warmup: int) -> dict[str, dict[str, Samples]]:
    """For each query kind: ``requests`` rounds, every target once per round in random order."""
    rng = random.Random(20240501)
    clients = {t.label: httpx.Client(base_url=t.server.url, timeout=60) for t in targets}
    out: dict[str, dict[str, Samples]] = {}
    try:
        kinds = list(queries(targets[0]))
        for kind in kinds:
            out[kind] = {t.label: Samples() for t in targets}
            for i in range(warmup + requests):
                order = targets[:]
                rng.shuffle(order)
                for t in order:
                    params = queries(t)[kind]
                    http = clients[t.label]
                    headers = {"Authorization": f"Bearer {t.token}"}
                    path = f"/v1/circles/{t.world.circle_id}/entries"
                    started = time.perf_counter()
                    response = http.get(path, params=params, headers=headers)
                    body = response.content
                    elapsed = time.perf_counter() - started
                    if response.status_code != 200:
                        raise RuntimeError(
                            f"{t.label} {kind}: {response.status_code} {body[:300]!r}"
                        )
                    if i < warmup:
                        continue
                    s = out[kind][t.label]
                    s.wall.append(elapsed)
                    s.server.append(float(response.headers[SERVER_SECONDS]))
                    s.db.append(float(response.headers[DB_SECONDS]))
                    s.body_bytes = len(body)
                    if i == warmup:
                        n = len(response.json()["entries"])
                        if n != PAGE:
                            raise RuntimeError(f"{t.label} {kind}: {n} entries, not {PAGE}")
    finally:
        for c in clients.values():
            c.close()
    return out


# -- query plans ------------------------------------------------------------------------------


def _page_sql(
    circle_id: uuid.UUID, before: int | None, after: int | None
) -> tuple[str, dict[str, Any]]:
    """The statement app.entries.service.list_entries builds, compiled for PostgreSQL."""
    query = select(Entry).where(Entry.circle_id == circle_id)
    if after is not None:
        query = query.where(Entry.seq > after).order_by(Entry.seq.asc())
    else:
        if before is not None:
            query = query.where(Entry.seq < before)
        query = query.order_by(Entry.seq.desc())
    compiled = query.limit(PAGE).compile(dialect=postgresql.psycopg.dialect())  # type: ignore[no-untyped-call]
    return str(compiled), dict(compiled.params)


def explain_postgres(target: Target) -> str:
    cid, middle = target.world.circle_id, target.entries // 2
    url = pg_admin(target.database_url)
    lines: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        size = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('entries')), "
            "pg_size_pretty(pg_relation_size('uq_entries_circle_id_seq')), count(*) FROM entries"
        ).fetchone()
        assert size is not None
        lines.append(
            f"entries: total size {size[0]}, (circle_id, seq) index {size[1]}, {size[2]:,} rows"
        )
        for kind, before, after in (
            ("first page", None, None),
            ("deep page (before=middle)", middle, None),
            ("sync page (after=middle)", None, middle),
        ):
            sql, params = _page_sql(cid, before, after)
            plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).fetchall()
            lines.append(f"\n-- {kind}, custom plan:\n" + "\n".join(r[0] for r in plan))
        # psycopg prepares a statement on a connection after 5 uses, and PostgreSQL then may
        # switch to a generic plan (LIMIT and seq unknown): show those plans too.
        conn.execute("SET plan_cache_mode = force_generic_plan")
        for i, (kind, before, after) in enumerate(
            (
                ("first page", None, None),
                ("deep page (before=middle)", middle, None),
                ("sync page (after=middle)", None, middle),
            )
        ):
            sql, params = _page_sql(cid, before, after)
            names = list(params)
            generic = sql
            for n, name in enumerate(names, 1):
                generic = generic.replace(f"%({name})s", f"${n}")
            conn.execute(f"PREPARE page{i} AS {generic}")
            args = ", ".join(
                f"'{params[n]}'" if isinstance(params[n], uuid.UUID) else str(params[n])
                for n in names
            )
            plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE page{i}({args})").fetchall()
            lines.append(f"\n-- {kind}, generic (prepared) plan:\n" + "\n".join(r[0] for r in plan))
    return "\n".join(lines)


def explain_sqlite(target: Target) -> str:
    path = make_url(target.database_url).database
    assert path
    cid = target.world.circle_id.hex  # SQLAlchemy stores UUIDs as 32 hex chars on SQLite
    lines = [f"database file: {os.path.getsize(path) / 2**20:,.0f} MiB"]
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for kind, sql, args in (
            ("first page", "WHERE circle_id = ? ORDER BY seq DESC LIMIT 50", (cid,)),
            (
                "deep page (before=middle)",
                "WHERE circle_id = ? AND seq < ? ORDER BY seq DESC LIMIT 50",
                (cid, target.entries // 2),
            ),
            (
                "sync page (after=middle)",
                "WHERE circle_id = ? AND seq > ? ORDER BY seq ASC LIMIT 50",
                (cid, target.entries // 2),
            ),
        ):
            rows = conn.execute(f"EXPLAIN QUERY PLAN SELECT * FROM entries {sql}", args).fetchall()
            lines.append(f"-- {kind}: " + "; ".join(str(r[-1]) for r in rows))
    return "\n".join(lines)


# -- the run ----------------------------------------------------------------------------------


def run_engine(
    engine_name: str, small: int, large: int, requests: int, warmup: int
) -> tuple[list[Target], dict[str, dict[str, Samples]], str]:
    with contextlib.ExitStack() as stack:
        small_url = stack.enter_context(fresh_database(engine_name, "_s"))
        large_url = stack.enter_context(fresh_database(engine_name, "_l"))
        small_server = start_server(small_url)
        stack.callback(small_server.stop)
        large_server = start_server(large_url)
        stack.callback(large_server.stop)
        t = time.perf_counter()
        targets = [make_circle("10k", small_url, small_server, small, names=("alice", "bob"))]
        print(
            f"  [{engine_name}] 10k circle built in {time.perf_counter() - t:.0f}s", file=sys.stderr
        )
        t = time.perf_counter()
        big = make_circle("1M", large_url, large_server, large, names=("alice", "bob"))
        print(
            f"  [{engine_name}] {large:,} circle built in {time.perf_counter() - t:.0f}s "
            f"({big.build_seconds})",
            file=sys.stderr,
        )
        neighbour = make_circle(
            "10k (in the 1M database)", large_url, large_server, small, names=("carol", "dave")
        )
        if engine_name == "postgresql":
            with psycopg.connect(pg_admin(large_url), autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE entries")
        targets += [big, neighbour]
        t = time.perf_counter()
        results = measure(targets, requests, warmup)
        print(f"  [{engine_name}] measured in {time.perf_counter() - t:.0f}s", file=sys.stderr)
        plans = explain_postgres(big) if engine_name == "postgresql" else explain_sqlite(big)
        for target in targets:
            for p in target.world.people.values():
                p.client.close()
        return targets, results, plans


def report(
    engine_name: str,
    targets: list[Target],
    results: dict[str, dict[str, Samples]],
    requests: int,
) -> tuple[str, bool]:
    lines = [
        f"**{engine_name}** ({requests} requests per cell after warm-up; ms):",
        "",
        "| query | circle | p50 | p90 | p99 | mean | server p50 | DB p50 | body |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    met = True
    ratios: list[str] = []
    for kind, per in results.items():
        for t in targets:
            s = per[t.label]
            lines.append(
                f"| {kind} | {t.label} | {pct(s.wall, 50) * 1e3:.2f} | {pct(s.wall, 90) * 1e3:.2f} "
                f"| {pct(s.wall, 99) * 1e3:.2f} | {statistics.fmean(s.wall) * 1e3:.2f} "
                f"| {pct(s.server, 50) * 1e3:.2f} | {pct(s.db, 50) * 1e3:.2f} "
                f"| {s.body_bytes:,} B |"
            )
        small, big, nb = per["10k"], per["1M"], per["10k (in the 1M database)"]
        r50 = pct(big.wall, 50) / pct(small.wall, 50)
        r99 = pct(big.wall, 99) / pct(small.wall, 99)
        rdb = pct(big.db, 50) / pct(small.db, 50)
        rnb = pct(big.wall, 50) / pct(nb.wall, 50)
        if kind != "sync page (after=middle)":
            met = met and r50 <= TARGET_RATIO
        ratios.append(f"| {kind} | **{r50:.2f}x** | {r99:.2f}x | {rdb:.2f}x | {rnb:.2f}x |")
    lines += [
        "",
        "| query | 1M / 10k, p50 | 1M / 10k, p99 | 1M / 10k, DB time p50 "
        "| 1M / 10k in the same database, p50 |",
        "|---|---:|---:|---:|---:|",
        *ratios,
    ]
    return "\n".join(lines), met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args(argv)
    print(
        f"Commit {git_head()}. Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    all_met = True
    for engine_name in [e.strip() for e in args.engines.split(",") if e.strip()]:
        if engine_name == "postgresql":
            why = postgres_unavailable(postgres_url())
            if why:
                print(f"PostgreSQL skipped: {why}", file=sys.stderr)
                continue
            print(f"PostgreSQL {postgres_version(postgres_url())}")
        print(f"{engine_name}: building {args.small:,} and {args.large:,} ...", file=sys.stderr)
        targets, results, plans = run_engine(
            engine_name, args.small, args.large, args.requests, args.warmup
        )
        text, met = report(engine_name, targets, results, args.requests)
        all_met = all_met and met
        print("\n" + text)
        print(
            f"\nTarget p50 1M/10k <= {TARGET_RATIO} ({engine_name}): {'met' if met else 'NOT met'}"
        )
        print(
            "\nBuild times: "
            + "; ".join(
                f"{t.label}: " + ", ".join(f"{k} {v:.1f} s" for k, v in t.build_seconds.items())
                for t in targets
            )
        )
        print(f"\nQuery plans ({engine_name}, 1M circle):\n```\n{plans}\n```")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
