"""The hot paths against the same-semantics ceiling (issue 19), as ratios measured in one run.

Run from the repository root::

    .venv/bin/python -m bench.http_ceiling                         # both engines, 1 and 2 workers
    .venv/bin/python -m bench.http_ceiling --engines sqlite --workers 1 --rounds 2

The ceiling is ``bench.ceiling``: a plain Starlette app on the raw drivers (``sqlite3``;
psycopg async for PostgreSQL), no ORM and no cache, doing the same work per request and
answering byte for byte what the real server answers (``tests/test_ceiling.py``). Both serve
the same database with the same settings, as uvicorn child processes started with
``app.cli.uvicorn_options`` (uvloop, httptools, access log on) and the same number of workers.

Goals (issue 19), each the median of the per-round ratios, real ÷ ceiling req/s:

* ``feed``: an authenticated page of the 50 newest entries: >= 0.5;
* ``post``: posting an entry (guard, body checks, idempotency, Ed25519, inserts): >= 0.5;
* ``me``: ``GET /v1/me`` (the session check and the account's JSON): >= 0.35;
* ``post_tail``: the real server's post p99 at 16 connections <= 5x its p50;
* ``workers``: with 2 workers, neither the feed nor the post ratio more than 10 % below 1 worker's;
* ``flood``: feed p99 while 50 clients hammer the login endpoint <= 3x the idle p99.

The load comes from ``bench.loadgen`` in its own process; each round measures real and ceiling
alternately, so both sides of a ratio see the same machine. docs/benchmarks.md has the method
and the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.client.circles import Circles
from app.client.entries import Entries
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.crypto import AccountKeys, b64encode
from app.crypto import b64encode as b64
from app.crypto.entries import (
    ENTRY,
    EnvelopeContext,
    author_tag,
    seal,
    sign_terms,
    signing_key_for,
)
from bench.common import fresh_database, usable_engines
from bench.entries_sync import free_port, payload, post_payload
from bench.loadgen import Generator, LoadResult, idle_then_flooded, request_bytes

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-http-ceiling-secret-key-long-enough-x"
PASSPHRASE = "ceiling horse battery staple"
PAGE = 50
GOALS = {
    "feed": (">=", 0.5),
    "post": (">=", 0.5),
    "me": (">=", 0.35),
    "post_tail": ("<=", 5.0),
    "flood": ("<=", 3.0),
}
WORKER_DROP = 0.10  # with 2 workers a ratio may be at most 10 % below 1 worker's


# -- the servers -----------------------------------------------------------------------------


def serve(kind: str, port: int, workers: int, loop: str) -> None:
    import uvicorn

    from app.cli import uvicorn_options

    if os.environ.get("BENCH_INLINE_THREADS"):  # experiment: no worker-thread hops at all
        import anyio.to_thread

        async def run_inline(func: Any, *args: Any, **_kw: Any) -> Any:
            return func(*args)

        anyio.to_thread.run_sync = run_inline  # type: ignore[assignment]
    options = uvicorn_options(host="127.0.0.1", port=port, workers=workers)
    options["loop"] = loop
    target = "app.main:create_app" if kind == "real" else "bench.ceiling:create_ceiling"
    uvicorn.run(target, **options)


@dataclass
class Server:
    kind: str
    port: int
    child: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.child.terminate()
        try:
            self.child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()


def start(kind: str, workers: int, loop: str, env: dict[str, str]) -> Server:
    port = free_port()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.http_ceiling",
            "--serve",
            kind,
            str(port),
            str(workers),
            loop,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,  # uvicorn's access log: same cost for both, not read
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180  # a busy shared VM can take a minute to spawn workers
    probe = "/healthz" if kind == "real" else "/v1/me"
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=2).status_code in (200, 401):
                return Server(kind, port, child)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            raise RuntimeError(f"the {kind} server did not start")
        time.sleep(0.1)


# -- the world: alice, her circle, a page of 50, and entries ready to post -------------------


@dataclass
class World:
    token: str
    circle_id: uuid.UUID
    feed_path: str
    feed_body: bytes
    login_body: bytes
    post_bodies: list[bytes] = field(default_factory=list)
    posted_response: bytes = b""


def build_world(base_url: str, posts: int) -> World:
    http = httpx.Client(timeout=60)
    client = Client(base_url, http=http)
    account = client.register("alice", PASSPHRASE)
    circles = Circles(
        client, username=account.username, identity=account.identity, trust=TrustStore.in_memory()
    )
    circle = circles.create("ceiling circle", "HTTP benchmark")
    entries = Entries(circles)
    # Every fourth anonymous: 15, within a member's default 16 anonymous tokens a week (§38).
    for i in range(PAGE + 10):
        post_payload(entries, circle.circle_id, i, anonymous=i % 4 == 3)
    path = f"/v1/circles/{circle.circle_id}/entries?limit={PAGE}"
    page = http.get(base_url + path, headers={"authorization": f"Bearer {account.token}"})
    page.raise_for_status()
    if len(page.json()["entries"]) != PAGE:
        raise RuntimeError("the feed page does not hold 50 entries")
    params = http.get(f"{base_url}/v1/auth/params", params={"username": "alice"}).json()
    from app.crypto import KdfParams, b64decode

    kdf = KdfParams(
        opslimit=int(params["opslimit"]),
        memlimit=int(params["memlimit"]),
        algorithm=str(params["algorithm"]),
    )
    keys = AccountKeys.from_passphrase(PASSPHRASE, b64decode(params["salt"]), kdf)
    login = json.dumps({"username": "alice", "auth_key": b64encode(keys.auth_key)}).encode()
    world = World(account.token, circle.circle_id, path, page.content, login)
    verified = circles.sync(circle.circle_id)
    # Real named envelopes, each with its own entry id (an anonymous one goes with a token and
    # no session, §38: another route).
    for i in range(posts):
        body = payload(i, anonymous=False)
        entry_id = uuid.uuid4()
        context = EnvelopeContext(ENTRY, circle.circle_id, verified.epoch, entry_id)
        signing = signing_key_for(account.identity, context, anonymous=False)
        envelope = seal(body, key=verified.key, context=context, signing_key=signing)
        tag = author_tag(account.identity, circle_id=circle.circle_id, entry_id=entry_id)
        expires_at = int(time.time()) + 730 * 86_400
        terms = sign_terms(
            signing, circle_id=circle.circle_id, entry_id=entry_id, tag=tag, expires_at=expires_at
        )
        world.post_bodies.append(
            json.dumps(
                {
                    "entry_id": str(entry_id),
                    "epoch": verified.epoch,
                    "anonymous": False,
                    **Entries._envelope_json(envelope),
                    "author_tag": b64(tag),
                    "expires_at": expires_at,
                    "terms_signature": b64(terms),
                }
            ).encode()
        )
    # What the real server answers to a post, for the bare one to send back.
    first = http.post(
        f"{base_url}/v1/circles/{circle.circle_id}/entries",
        content=world.post_bodies.pop(),
        headers={"authorization": f"Bearer {account.token}", "content-type": "application/json"},
    )
    if first.status_code != 201:
        raise RuntimeError(f"posting failed: {first.status_code} {first.text}")
    world.posted_response = first.content
    http.close()
    return world


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Cell:
    engine: str
    workers: int
    loop: str
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def median(self, key: str) -> float:
        return statistics.median(r[key] for r in self.rounds)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants (uvicorn's workers), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


def throughput(
    gen: Generator,
    server: Server,
    requests: list[bytes],
    args: argparse.Namespace,
    *,
    expect: int | None = None,
) -> LoadResult:
    """Also sets ``result.cpu_per_request``: the server's CPU seconds per answer, which a busy
    machine disturbs less than requests per second."""
    cpu = cpu_seconds(server.child.pid)
    result = gen.start(
        server.port,
        requests,
        connections=args.connections,
        seconds=args.seconds,
        max_requests=args.max_requests,
    ).result()
    if expect is not None:
        if set(result.statuses) != {expect}:
            raise RuntimeError(f"{server.kind}: expected only {expect}, got {result.statuses}")
    elif result.ok() != result.requests:
        raise RuntimeError(f"{server.kind}: non-2xx responses {result.statuses}")
    result.cpu_per_request = (cpu_seconds(server.child.pid) - cpu) / max(1, result.requests)
    return result


def measure_cell(
    engine: str, workers: int, loop: str, args: argparse.Namespace, gen: Generator, flood: Generator
) -> Cell:
    cell = Cell(engine, workers, loop)
    per_round = args.max_requests
    posts_needed = 2 * args.rounds * per_round + 1
    with fresh_database(engine, tag=f"_{workers}{loop[:2]}") as url:
        env = {"BACKCHANNEL_DATABASE_URL": url, "BACKCHANNEL_SECRET_KEY": SECRET}
        real = start("real", workers, loop, env)
        ceiling = None
        try:
            world = build_world(f"http://127.0.0.1:{real.port}", posts_needed)
            ceiling = start("ceiling", workers, loop, env)
            servers = {"real": real, "ceiling": ceiling}
            feed = [request_bytes("GET", world.feed_path, token=world.token)]
            whoami = [request_bytes("GET", "/v1/me", token=world.token)]
            post_path = f"/v1/circles/{world.circle_id}/entries"
            login = [request_bytes("POST", "/v1/auth/login", body=world.login_body)]
            for r in range(args.rounds):
                row: dict[str, Any] = {"load": os.getloadavg()[0]}
                for name, requests in (("me", whoami), ("feed", feed)):
                    for kind, server in servers.items():
                        got = throughput(gen, server, requests, args)
                        row[f"{name}_{kind}"] = got.per_second
                        row[f"{name}_{kind}_cpu"] = got.cpu_per_request
                    row[name] = row[f"{name}_real"] / row[f"{name}_ceiling"]
                    row[f"{name}_cpu"] = row[f"{name}_ceiling_cpu"] / row[f"{name}_real_cpu"]
                for k, (kind, server) in enumerate(servers.items()):
                    first = (2 * r + k) * per_round
                    bodies = world.post_bodies[first : first + per_round]
                    requests = [
                        request_bytes("POST", post_path, token=world.token, body=b) for b in bodies
                    ]
                    got = throughput(gen, server, requests, args)
                    row[f"post_{kind}"] = got.per_second
                    row[f"post_{kind}_cpu"] = got.cpu_per_request
                    row[f"post_{kind}_p50"] = got.percentile(50)
                    row[f"post_{kind}_p99"] = got.percentile(99)
                row["post"] = row["post_real"] / row["post_ceiling"]
                row["post_cpu"] = row["post_ceiling_cpu"] / row["post_real_cpu"]
                row["post_tail"] = row["post_real_p99"] / row["post_real_p50"]
                # Feed p99, one request at a time: idle, then under a login flood.
                idle, busy, logins = idle_then_flooded(
                    gen,
                    flood,
                    real.port,
                    feed,
                    login,
                    seconds=args.seconds,
                    flood_clients=args.flood_clients,
                )
                row.update(
                    idle_p99=idle.percentile(99),
                    busy_p99=busy.percentile(99),
                    busy_errors=busy.requests - busy.ok(),
                    flood=busy.percentile(99) / idle.percentile(99),
                    logins_per_second=logins.per_second,
                    login_statuses=dict(logins.statuses),
                )
                cell.rounds.append(row)
                print(
                    f"  {engine} workers={workers} round {r + 1} (load {row['load']:.1f}): "
                    f"me {row['me_real']:.0f}/{row['me_ceiling']:.0f} = {row['me']:.2f} "
                    f"(cpu {cpu_text(row, 'me')}); "
                    f"feed {row['feed_real']:.0f}/{row['feed_ceiling']:.0f} = {row['feed']:.2f} "
                    f"(cpu {cpu_text(row, 'feed')}); "
                    f"post {row['post_real']:.0f}/{row['post_ceiling']:.0f} = {row['post']:.2f} "
                    f"(cpu {cpu_text(row, 'post')}) "
                    f"(p50/p99 {row['post_real_p50'] * 1e3:.1f}/{row['post_real_p99'] * 1e3:.1f} "
                    f"ms = {row['post_tail']:.1f}x; ceiling {row['post_ceiling_p50'] * 1e3:.1f}/"
                    f"{row['post_ceiling_p99'] * 1e3:.1f}); "
                    f"flood p99 {busy.percentile(99) * 1e3:.1f}/{idle.percentile(99) * 1e3:.1f} ms "
                    f"= {row['flood']:.2f} ({logins.per_second:.0f} logins/s)",
                    flush=True,
                )
        finally:
            real.stop()
            if ceiling is not None:
                ceiling.stop()
    return cell


def cpu_text(row: dict[str, Any], name: str) -> str:
    """Server CPU µs per request, real/ceiling, and the ceiling's ÷ the real's."""
    real, ceiling = row[f"{name}_real_cpu"] * 1e6, row[f"{name}_ceiling_cpu"] * 1e6
    return f"{real:.0f}/{ceiling:.0f} us = {row[f'{name}_cpu']:.2f}"


def verdict(key: str, value: float) -> str:
    op, goal = GOALS[key]
    met = value >= goal if op == ">=" else value <= goal
    return "met" if met else "NOT met"


def worker_drops(cells: list[Cell]) -> list[tuple[str, str, float, bool]]:
    """(engine, ratio, 2-worker ratio ÷ 1-worker ratio, met) for every engine measured both ways."""
    out = []
    by = {(c.engine, c.workers): c for c in cells}
    for (engine, workers), two in by.items():
        one = by.get((engine, 1))
        if workers != 2 or one is None:
            continue
        for key in ("feed", "post"):
            change = two.median(key) / one.median(key)
            out.append((engine, key, change, change >= 1 - WORKER_DROP))
    return out


def report(cells: list[Cell], args: argparse.Namespace) -> str:
    lines = [
        f"bench.http_ceiling: {args.rounds} rounds x {args.seconds:.0f} s (max "
        f"{args.max_requests} requests), {args.connections} connections, flood "
        f"{args.flood_clients} login clients; Python {platform.python_version()}, "
        f"load avg {os.getloadavg()[0]:.1f}",
        "",
        "Ratios are real / ceiling req/s (the goals); in brackets the same ratio from server CPU "
        "per request (ceiling / real), which a busy machine disturbs less.",
        "",
        "| engine | workers | load | GET /v1/me real/ceiling req/s | **me** (>= 0.35) "
        "| feed real/ceiling | **feed** (>= 0.5) | post real/ceiling | **post** (>= 0.5) "
        "| post p50/p99 ms | **post tail** (<= 5) | feed p99 idle/flood ms | **flood** (<= 3) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        lines.append(
            f"| {c.engine} | {c.workers} | {min(r['load'] for r in c.rounds):.1f}-"
            f"{max(r['load'] for r in c.rounds):.1f} "
            f"| {c.median('me_real'):.0f} / {c.median('me_ceiling'):.0f} "
            f"| **{c.median('me'):.2f}** {verdict('me', c.median('me'))} "
            f"({c.median('me_cpu'):.2f}) "
            f"| {c.median('feed_real'):.0f} / {c.median('feed_ceiling'):.0f} "
            f"| **{c.median('feed'):.2f}** {verdict('feed', c.median('feed'))} "
            f"({c.median('feed_cpu'):.2f}) "
            f"| {c.median('post_real'):.0f} / {c.median('post_ceiling'):.0f} "
            f"| **{c.median('post'):.2f}** {verdict('post', c.median('post'))} "
            f"({c.median('post_cpu'):.2f}) "
            f"| {c.median('post_real_p50') * 1e3:.1f} / {c.median('post_real_p99') * 1e3:.1f} "
            f"| **{c.median('post_tail'):.1f}** {verdict('post_tail', c.median('post_tail'))} "
            f"| {c.median('idle_p99') * 1e3:.1f} / {c.median('busy_p99') * 1e3:.1f} "
            f"| **{c.median('flood'):.2f}** {verdict('flood', c.median('flood'))} |"
        )
    for engine, key, change, met in worker_drops(cells):
        lines.append(
            f"\n{engine}: {key} ratio with 2 workers = {change:.2f}x the 1-worker ratio "
            f"(goal >= {1 - WORKER_DROP:.2f}): {'met' if met else 'NOT met'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", nargs=4, metavar=("KIND", "PORT", "WORKERS", "LOOP"))
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--max-requests", type=int, default=6000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--flood-clients", type=int, default=50)
    parser.add_argument("--json", help="also write the per-round figures here")
    args = parser.parse_args(argv)
    if args.serve:
        kind, port, workers, loop = args.serve
        serve(kind, int(port), int(workers), loop)
        return 0
    engines = usable_engines(args.engines)
    gen, flood = Generator(), Generator()
    cells: list[Cell] = []
    try:
        for engine in engines:
            for workers in [int(w) for w in args.workers.split(",")]:
                cells.append(measure_cell(engine, workers, "uvloop", args, gen, flood))
    finally:
        gen.close()
        flood.close()
    text = report(cells, args)
    print()
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps([c.__dict__ for c in cells], indent=1))
    met = all(verdict(k, c.median(k)) == "met" for c in cells for k in GOALS)
    met = met and all(ok for *_, ok in worker_drops(cells))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
