"""A full read of a circle after 50 new warnings, with 1,000 and with 10,000 in its history
(issue 14 item 4): ``Entries.read_all`` brings the device's copy up to date and reads it.

Run from the repository root::

    .venv/bin/python -m bench.full_read                        # SQLite and PostgreSQL (if up)
    .venv/bin/python -m bench.full_read --engines sqlite --runs 3

Target: the read after ``--new`` new warnings costs about the same at 10,000 as at 1,000
(ratio of medians; aim <= 1.2).

What is measured (docs/benchmarks.md has the method and the numbers):

* the real app served by uvicorn in a child process (``bench.entries_sync.start_server``) on
  a freshly migrated database; alice and bob register through the API (real Argon2id);
  alice makes two circles and brings bob into each; a few warnings are posted through the
  SDK and the rest of each history is sealed with ``app.crypto.entries.seal`` (real
  signatures and encryption) and inserted with SQL (``bench.entries_sync.insert_sealed``),
  setup, not timed;
* alice reads each circle once in full (``read_all`` with an empty copy: every warning
  fetched, verified and opened; reported, not the target), then, per run and circle, bob
  posts ``--new`` warnings through the SDK (not timed) and alice's next ``read_all`` is
  timed: the circle sync, the changes fetched since the copy's cursor (the new warnings),
  each verified and opened, and the whole circle returned as ``ReadEntry`` objects, oldest
  first. Two copies: ``memory`` (the SDK default, ``MemoryCache``; the browser keeps the
  same in memory) and ``file`` (the CLI's encrypted ``FileCache``, read and written on
  every read);
* the medians (and p90 with ``--runs`` >= 5) in milliseconds, and the big/small ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from app.client.cache import FileCache, MemoryCache, WarningCache
from app.client.entries import Entries
from bench.common import fresh_database, usable_engines
from bench.entries_sync import (
    CircleWorld,
    build_circle,
    insert_sealed,
    post_payload,
    seal_bulk,
    start_server,
)

GOAL = 1.2


def run(engine_name: str, small: int, big: int, new: int, runs: int) -> bool:
    sizes = {"small": small, "big": big}
    timings: dict[tuple[str, str], list[float]] = {}
    with fresh_database(engine_name) as url, tempfile.TemporaryDirectory() as tmp:
        server = start_server(url)
        try:
            first = build_circle(server.url)
            alice, bob = first.people["alice"], first.people["bob"]
            worlds = {"small": first}
            second = alice.circles.create("bench circle 2", "full read benchmark").circle_id
            invite, _ = alice.circles.create_invite(second, role="member")
            bob.circles.join(str(invite))
            alice.circles.confirm(second, "bob", fingerprint=bob.account.fingerprint)
            worlds["big"] = CircleWorld(second, first.people, alice, 0)
            started = time.perf_counter()
            for name, size in sizes.items():
                insert_sealed(url, worlds[name], seal_bulk(worlds[name], size))
            print(
                f"  {engine_name}: histories of {small:,} and {big:,} in "
                f"{time.perf_counter() - started:.1f} s (setup)"
            )
            caches: dict[str, WarningCache] = {
                "memory": MemoryCache(),
                "file": FileCache(
                    Path(tmp) / "cache",
                    identity=alice.account.identity,
                    username="alice",
                    server=server.url,
                ),
            }
            readers = {kind: Entries(alice.circles, cache=cache) for kind, cache in caches.items()}
            for name in sizes:
                for kind, reader in readers.items():
                    begun = time.perf_counter()
                    held = len(reader.read_all(worlds[name].circle_id))
                    print(
                        f"    first read, {kind:6} {name:5}: {held:>6,} warnings in "
                        f"{(time.perf_counter() - begun) * 1000:8.0f} ms (empty copy)"
                    )
            poster = Entries(bob.circles)
            for run_no in range(runs):
                for name in sizes:
                    cid = worlds[name].circle_id
                    for n in range(new):
                        post_payload(poster, cid, run_no * new + n, anonymous=n % 3 == 2)
                    for kind, reader in readers.items():
                        begun = time.perf_counter()
                        read = reader.read_all(cid)
                        elapsed = (time.perf_counter() - begun) * 1000
                        assert len(read) == sizes[name] + (run_no + 1) * new
                        timings.setdefault((kind, name), []).append(elapsed)
        finally:
            server.stop()
    met = True
    print(f"  {engine_name}: a full read after {new} new warnings, median / p90 ms, {runs} runs")
    for kind in ("memory", "file"):
        small_t, big_t = timings[(kind, "small")], timings[(kind, "big")]
        ratio = statistics.median(big_t) / statistics.median(small_t)
        ok = ratio <= GOAL
        met = met and (ok or kind == "file")
        p90 = (lambda t: statistics.quantiles(t, n=10)[-1]) if runs >= 5 else max
        print(
            f"    {kind:6} {small:>7,}: {statistics.median(small_t):7.1f} / {p90(small_t):7.1f}"
            f"   {big:>7,}: {statistics.median(big_t):7.1f} / {p90(big_t):7.1f}"
            f"   ratio {ratio:.2f} ({'met' if ok else 'NOT met'}: <= {GOAL})"
        )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    ok = True
    for engine_name in usable_engines(args.engines):
        ok = run(engine_name, args.small, args.big, args.new, args.runs) and ok
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
