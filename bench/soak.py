"""A bounded soak: a mixed workload of real SDK clients against a live server, with faults,
and an oracle at the end (issue 14).

Run from the repository root::

    .venv/bin/python -m bench.soak                          # 10 minutes, PostgreSQL if it answers
    .venv/bin/python -m bench.soak --minutes 30 --engine postgresql --json var/soak.json
    .venv/bin/python -m bench.soak --minutes 1 --engine sqlite --no-restart-postgres

The server is ``backchannel-server serve --workers 2`` on a fresh migrated database (a SQLite
file, or a ``bc_bench_<pid>`` database on ``BACKCHANNEL_BENCH_POSTGRES_URL``). 12 people in 3
circles, driven by 8 threads (``bench.soak_drivers``), each person with their own SDK objects.
The faults, at fixed points of the run: one worker SIGKILLed (30 %), the whole server
restarted (55 %), and on PostgreSQL the cluster restarted (75 %; ``pg_ctlcluster ... restart``:
the machine's shared cluster, so every other database on it loses its connections too; pass
``--no-restart-postgres`` to leave it alone). Then ``bench.soak_oracle`` checks the end state.

Every minute: the actions that ended (and those acknowledged), p50 and p99 per kind, and the
server's memory (the resident sets of the server process and its workers). The exit status
is 1 on any violation of the oracle.
"""

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import fresh_database, usable_engines
from bench.soak_drivers import Driver, Log
from bench.soak_oracle import check
from bench.soak_server import Server, restart_postgres
from bench.soak_world import CircleState, Person, World

PEOPLE = 12
DRIVERS = 8


def _setup(world: World, url: str) -> None:
    """12 people; circle k is owned by person 4k and starts with persons 4k..4k+5 (mod 12);
    its deputy is the next one; the other six come and go."""
    names = [f"soak{n:02d}" for n in range(PEOPLE)]
    for name in names:
        world.people[name] = Person(url, name)
    for k in range(3):
        core = [names[(4 * k + i) % PEOPLE] for i in range(6)]
        churn = [n for n in names if n not in core]
        owner = world.people[core[0]]
        circle_id = owner.circles.create(f"Soak circle {k}", "soak").circle_id
        state = CircleState(circle_id, core[0], core[1], core, churn)
        state.members.add(core[0])
        state.admins.add(core[0])
        for name in core[1:]:
            joiner = world.people[name]
            invite, _ = owner.circles.create_invite(circle_id)
            joiner.circles.join(str(invite))
            owner.circles.confirm(circle_id, name, fingerprint=joiner.fingerprint)
            state.members.add(name)
            for kind in ("invite_created", "invite_redeemed", "member_confirmed"):
                world.acked[(circle_id, kind)] += 1
        owner.moderation.ensure_key(circle_id)  # reports need the circle's moderation key
        world.circles[circle_id] = state


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] if xs else float("nan")


def _minutes(
    log: Log,
    memory: list[tuple[float, float]],
    loads: list[tuple[float, float]],
    seconds: float,
) -> list[dict[str, Any]]:
    out = []
    for minute in range(max(1, round(seconds / 60))):
        window = [s for s in log.samples if minute * 60 <= s.at < (minute + 1) * 60]
        kinds: dict[str, list[float]] = defaultdict(list)
        for s in window:
            if s.outcome == "ok":
                kinds[s.kind].append(s.seconds * 1000)
        rss = [m for t, m in memory if minute * 60 <= t < (minute + 1) * 60]
        load = [x for t, x in loads if minute * 60 <= t < (minute + 1) * 60]
        out.append(
            {
                "minute": minute + 1,
                "actions": len(window),
                "ok": sum(len(v) for v in kinds.values()),
                "rss_mib": round(max(rss), 1) if rss else None,
                "load": round(statistics.mean(load), 1) if load else None,
                "ms": {
                    k: [round(_percentile(v, 50)), round(_percentile(v, 99)), len(v)]
                    for k, v in sorted(kinds.items())
                },
            }
        )
    return out


def run(
    *,
    seconds: float,
    engine: str,
    port: int,
    workers: int = 2,
    restart_pg: bool = True,
    logs: Path | None = None,
    quiet: bool = False,
    postgres_url: str | None = None,
) -> dict[str, Any]:
    """One soak; the result (per-minute figures, outcomes, the oracle's figures and every
    violation found)."""

    def say(text: str) -> None:
        if not quiet:
            print(text, flush=True)

    logs = logs or Path(tempfile.mkdtemp(prefix="bc-soak-"))
    faults = [(0.30, "kill_worker"), (0.55, "restart_server")]
    if engine == "postgresql" and restart_pg:
        faults.append((0.75, "restart_postgres"))
    tag = f"_soak_{uuid.uuid4().hex[:6]}"
    with fresh_database(engine, tag=tag, base=postgres_url) as database_url:
        server = Server(database_url, port, workers, logs)
        server.start()
        try:
            world = World()
            setup_started = time.monotonic()
            _setup(world, server.url)
            took = time.monotonic() - setup_started
            say(f"setup: {len(world.people)} people, 3 circles, {took:.0f} s")
            log = Log()
            stop = threading.Event()
            deadline = time.monotonic() + seconds
            names = sorted(world.people)
            drivers = [
                Driver(world, log, [world.people[n] for n in names[d::DRIVERS]], seed=d)
                for d in range(DRIVERS)
            ]
            threads = [
                threading.Thread(target=d.run, args=(deadline, stop), daemon=True) for d in drivers
            ]
            for t in threads:
                t.start()
            memory: list[tuple[float, float]] = []
            loads: list[tuple[float, float]] = []  # the machine's 1-minute load average
            done_faults: list[dict[str, Any]] = []
            pending = list(faults)
            while time.monotonic() < deadline:
                elapsed = time.monotonic() - log.started
                memory.append((elapsed, server.rss_mib()))
                loads.append((elapsed, os.getloadavg()[0]))
                if pending and elapsed >= pending[0][0] * seconds:
                    _, fault = pending.pop(0)
                    at = round(elapsed, 1)
                    if fault == "kill_worker":
                        detail: Any = server.kill_worker()
                    elif fault == "restart_server":
                        detail = round(server.restart(), 1)
                    else:
                        detail = round(restart_postgres(), 1)
                    done_faults.append({"fault": fault, "at_s": at, "detail": detail})
                    say(f"{at:6.0f} s  {fault} ({detail})")
                if int(elapsed) % 60 == 0 and elapsed > 1:
                    say(f"{elapsed:6.0f} s  {len(log.samples)} actions, {memory[-1][1]:.0f} MiB")
                time.sleep(1.0)
            stop.set()
            for t in threads:
                t.join(timeout=120)
            minutes = _minutes(log, memory, loads, seconds)
            violations = list(log.violations)
            figures = check(world, server, violations)
        finally:
            server.stop()
    outcomes = log.outcomes()
    return {
        "engine": engine,
        "workers": workers,
        "seconds": seconds,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "faults": done_faults,
        "outcomes": dict(outcomes.most_common()),
        "minutes": minutes,
        "oracle": figures,
        "violations": violations,
        "logs": str(logs),
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        f"soak: {result['engine']}, {result['workers']} workers, {result['seconds'] / 60:.0f} min,"
        f" load average at the end {', '.join(f'{x:.1f}' for x in result['load_average'])}"
        f" on {result['cpus']} CPUs",
        f"faults: {result['faults']}",
        f"outcomes: {result['outcomes']}",
        "",
        "minute  actions  ok/min  RSS MiB  load  p50/p99 ms per kind",
    ]
    for m in result["minutes"]:
        kinds = "  ".join(f"{k} {a}/{b}" for k, (a, b, _) in m["ms"].items())
        lines.append(
            f"{m['minute']:>6}  {m['actions']:>7}  {m['ok']:>6}  {m['rss_mib'] or 0:>7.0f}"
            f"  {m['load'] or 0:>4.1f}  {kinds}"
        )
    minutes = result["minutes"]
    if len(minutes) >= 10:
        first = statistics.mean(m["ok"] for m in minutes[:5])
        last = statistics.mean(m["ok"] for m in minutes[-5:])
        lines.append(f"throughput: last 5 min / first 5 min = {last / first:.2f}")
    lines.append(f"oracle: {result['oracle']}")
    if result["violations"]:
        lines.append(f"VIOLATIONS ({len(result['violations'])}):")
        lines += [f"  {v}" for v in result["violations"][:50]]
    else:
        lines.append("oracle: no violation")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--engine", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--no-restart-postgres", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    engine = args.engine
    if engine == "postgresql" and not usable_engines("postgresql"):
        engine = "sqlite"
        print("running on SQLite instead")
    result = run(
        seconds=args.minutes * 60,
        engine=engine,
        port=args.port or _free_port(),
        workers=args.workers,
        restart_pg=not args.no_restart_postgres,
    )
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))
    return 1 if result["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
