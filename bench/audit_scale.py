"""Audit log heads and proofs at 1,000 and at 1,000,000 leaves (issue 13 item 7).

Run from the repository root::

    .venv/bin/python -m bench.audit_scale                          # SQLite and PostgreSQL (if up)
    .venv/bin/python -m bench.audit_scale --engines sqlite --big 100000 --requests 100

Target: head and proof latency at 1,000,000 leaves is at most 1.2x of at 1,000.

What is measured (docs/benchmarks.md has the method and the numbers):

* the real app (``create_app``) on a freshly migrated database, called in-process through
  Starlette's TestClient (routing, authentication, membership check, the service, JSON);
* alice registers through the API (real Argon2id) and creates two circles with the SDK; each
  circle's log is then filled with SQL to its size (setup, not timed): event rows with
  sequential ``seq`` and ``leaf_hash = leaf_hash(body)``, and every complete subtree's node
  in ``audit_nodes`` computed with ``app.crypto.merkle.MerkleTree`` — exactly what the app
  writes leaf by leaf (tests/audit/test_migration.py checks that equality);
* per circle, ``--requests`` times each, interleaved: ``GET …/audit/head``,
  ``GET …/audit/consistency?first=<random>&second=<size>`` and
  ``GET …/audit/inclusion?index=<random>&size=<size>``; medians and p90 in milliseconds, and
  the ratio of the big circle's median to the small one's.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select, update
from starlette.testclient import TestClient

from app.audit.models import AuditNode, node_key
from app.circles.models import Circle, MembershipEvent
from app.client.circles import Circles
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.crypto import merkle
from app.main import create_app
from app.settings import Settings
from bench.common import fresh_database, usable_engines

BATCH = 20_000
GOAL = 1.2


def _fill(engine: Engine, circle_id: uuid.UUID, size: int) -> None:
    """Events 0..size-1 for the circle (keeping the real first ones) and all their nodes,
    with the driver's executemany (the rows are what the app would write)."""
    sqlite = engine.dialect.name == "sqlite"
    cid: object = circle_id.hex if sqlite else circle_id
    mark = "?" if sqlite else "%s"
    stamp = datetime.now(UTC).isoformat(sep=" ") if sqlite else datetime.now(UTC)
    with engine.begin() as conn:
        leaves = list(
            conn.execute(
                select(MembershipEvent.leaf_hash)
                .where(MembershipEvent.circle_id == circle_id)
                .order_by(MembershipEvent.seq)
            ).scalars()
        )
        events = (
            "INSERT INTO membership_events (circle_id, seq, body, record_hash, leaf_hash, "
            f"created_at) VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {mark})"
        )
        rows = []
        for seq in range(len(leaves), size):
            body = f'{{"bench":{seq},"circle":"{circle_id.hex}"}}'
            leaf = merkle.leaf_hash(body.encode())
            leaves.append(leaf)
            rows.append((cid, seq, body, hashlib.sha256(body.encode()).digest(), leaf, stamp))
            if len(rows) == BATCH:
                conn.exec_driver_sql(events, rows)
                rows = []
        if rows:
            conn.exec_driver_sql(events, rows)
        conn.execute(update(Circle).where(Circle.id == circle_id).values(event_seq=size - 1))
        conn.execute(delete(AuditNode).where(AuditNode.circle_id == circle_id))
        tree = merkle.MerkleTree.from_leaf_hashes(leaves)
        nodes = f"INSERT INTO audit_nodes (circle_id, node, hash) VALUES ({mark}, {mark}, {mark})"
        batch = []
        for level in range(size.bit_length()):
            for position in range(size >> level):
                batch.append((cid, node_key(level, position), tree.node(level, position)))
                if len(batch) == BATCH:
                    conn.exec_driver_sql(nodes, batch)
                    batch = []
        if batch:
            conn.exec_driver_sql(nodes, batch)


def run(engine_name: str, small: int, big: int, requests: int) -> bool:
    with fresh_database(engine_name) as url:
        settings = Settings(
            database_url=url,
            secret_key="bench-secret-key-that-is-long-enough-for-this",  # type: ignore[arg-type]
            server_hash_time_cost=1,
            server_hash_memory_kib=1024,
        )
        app = create_app(settings)
        with TestClient(app, base_url="http://testserver") as http:
            client = Client("http://testserver", http=http)
            account = client.register("alice", "correct horse battery amber")
            circles = Circles(
                client, username="alice", identity=account.identity, trust=TrustStore.in_memory()
            )
            sizes = {"small": small, "big": big}
            ids = {name: circles.create(f"bench {name}").circle_id for name in sizes}
            for name, size in sizes.items():
                started = time.perf_counter()
                _fill(app.state.engine, ids[name], size)
                print(
                    f"  {engine_name}: {name} circle filled to {size:,} leaves in "
                    f"{time.perf_counter() - started:.1f} s (setup)"
                )
            headers = {"Authorization": f"Bearer {client.token}"}
            rng = random.Random(7)
            timings: dict[tuple[str, str], list[float]] = {}

            def get(path: str, params: dict[str, int] | None = None) -> None:
                response = http.get(path, params=params, headers=headers)
                assert response.status_code == 200, response.text

            for _ in range(5):  # warm-up
                for name in sizes:
                    get(f"/v1/circles/{ids[name]}/audit/head")
            for _ in range(requests):
                for name, size in sizes.items():
                    base = f"/v1/circles/{ids[name]}/audit"
                    first = rng.randrange(1, size)
                    index = rng.randrange(0, size)
                    for kind, path, params in (
                        ("head", f"{base}/head", None),
                        ("consistency", f"{base}/consistency", {"first": first, "second": size}),
                        ("inclusion", f"{base}/inclusion", {"index": index, "size": size}),
                    ):
                        started = time.perf_counter()
                        get(path, params)
                        elapsed = (time.perf_counter() - started) * 1000
                        timings.setdefault((name, kind), []).append(elapsed)
        app.state.engine.dispose()
    met = True
    print(f"  {engine_name}: median / p90 ms over {requests} requests each")
    for kind in ("head", "consistency", "inclusion"):
        small_t, big_t = timings[("small", kind)], timings[("big", kind)]
        ratio = statistics.median(big_t) / statistics.median(small_t)
        ok = ratio <= GOAL
        met = met and ok
        print(
            f"    {kind:11} {small:>9,}: {statistics.median(small_t):6.2f} / "
            f"{statistics.quantiles(small_t, n=10)[-1]:6.2f}   {big:>9,}: "
            f"{statistics.median(big_t):6.2f} / {statistics.quantiles(big_t, n=10)[-1]:6.2f}"
            f"   ratio {ratio:.2f} ({'met' if ok else 'NOT met'}: <= {GOAL})"
        )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    ok = True
    for engine_name in usable_engines(args.engines):
        ok = run(engine_name, args.small, args.big, args.requests) and ok
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
