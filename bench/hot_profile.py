"""Server CPU per request of the hot paths, in-process: the real app and the ceiling (issue 19).

Run from the repository root::

    .venv/bin/python -m bench.hot_profile                          # SQLite, me, feed and post
    .venv/bin/python -m bench.hot_profile --engine postgresql --routes me --profile me

Where ``bench.http_ceiling`` measures the servers as clients see them (uvicorn, HTTP, 16
connections), this calls both ASGI apps directly, one request at a time, on the world that
bench builds (alice, her circle, 60 warnings, sealed posts ready to send), and reports the
process CPU per request of each, in batches that alternate real and ceiling so both sides of
a ratio see the same machine (this VM's CPU speed drifts by tens of percent from one minute
to the next). No HTTP parsing, no access log and no load generator are in these figures, so
its ratios are stricter than the served ones: uvicorn adds the same 100 to 150 µs to both
sides. ``--profile ROUTE`` then prints a cProfile of that route on the real app.

Used to choose and check each change of issue 19 (docs/benchmarks.md); not a goal itself.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import http_ceiling
from bench.common import fresh_database

ASGI = Callable[
    [dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


def _scope(method: str, path: str, token: str, body: bytes | None) -> dict[str, Any]:
    route, _, query = path.partition("?")
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]
    if body is not None:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }


async def _call(app: ASGI, scope: dict[str, Any], body: bytes | None) -> int:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body or b"", "more_body": False}
        await asyncio.sleep(3600)  # pragma: no cover - a finished request never asks again
        return {"type": "http.disconnect"}

    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--routes", default="me,feed,post")
    parser.add_argument("--batch", type=int, default=100, help="requests per batch")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--profile", choices=["me", "feed", "post"])
    parser.add_argument("--sort", default="cumulative", help="the profile's order (tottime…)")
    args = parser.parse_args(argv)
    routes = args.routes.split(",")
    posts = 2 * args.batch * (args.rounds + 2) + 10 if "post" in routes or args.profile else 1
    with fresh_database(args.engine, tag="_hot") as url:
        env = {"BACKCHANNEL_DATABASE_URL": url, "BACKCHANNEL_SECRET_KEY": http_ceiling.SECRET}
        server = http_ceiling.start("real", 1, "uvloop", env)
        try:
            world = http_ceiling.build_world(f"http://127.0.0.1:{server.port}", posts)
        finally:
            server.stop()
        os.environ.update(env)
        import uvloop

        from app.main import create_app
        from bench.ceiling import create_ceiling

        apps: dict[str, ASGI] = {"real": create_app(), "ceiling": create_ceiling()}
        post_path = f"/v1/circles/{world.circle_id}/entries"
        bodies = iter(world.post_bodies)

        def request(route: str) -> tuple[dict[str, Any], bytes | None]:
            if route == "me":
                return _scope("GET", "/v1/me", world.token, None), None
            if route == "feed":
                return _scope("GET", world.feed_path, world.token, None), None
            body = next(bodies)
            return _scope("POST", post_path, world.token, body), body

        async def batch(kind: str, route: str) -> float:
            started = time.process_time()
            for _ in range(args.batch):
                scope, body = request(route)
                status = await _call(apps[kind], scope, body)
                if status not in (200, 201):
                    raise RuntimeError(f"{kind} {route}: {status}")
            return (time.process_time() - started) / args.batch * 1e6

        async def run() -> None:
            cpu: dict[tuple[str, str], list[float]] = {}
            for route in routes:  # warm both
                for kind in apps:
                    await batch(kind, route)
            for _ in range(args.rounds):
                for route in routes:
                    for kind in apps:
                        cpu.setdefault((kind, route), []).append(await batch(kind, route))
            print(
                f"{args.engine}: server CPU per request, median of {args.rounds} batches "
                f"of {args.batch} (load {os.getloadavg()[0]:.1f})"
            )
            for route in routes:
                real = statistics.median(cpu[("real", route)])
                ceiling = statistics.median(cpu[("ceiling", route)])
                ratios = [
                    c / r
                    for c, r in zip(cpu[("ceiling", route)], cpu[("real", route)], strict=True)
                ]
                spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
                print(
                    f"  {route:5} real {real:7.0f} us  ceiling {ceiling:6.0f} us  "
                    f"ratio {statistics.median(ratios):.2f} (batches {spread})"
                )
            if args.profile:
                profile = cProfile.Profile()
                profile.enable()
                await batch("real", args.profile)
                profile.disable()
                stats = pstats.Stats(profile, stream=sys.stdout)
                stats.sort_stats(args.sort).print_stats(40)

        uvloop.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
