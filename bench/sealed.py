"""Sealed warnings (docs/protocol.md §36): filing one against posting a normal warning, and
the server's match detection at 1,000 and 100,000 sealed warnings in a circle.

Run from the repository root::

    .venv/bin/python -m bench.sealed                       # 9 rounds; 1,000 and 100,000
    .venv/bin/python -m bench.sealed --rounds 5 --sizes 1000,100000 --engines sqlite,postgresql

* ``file``: the real app (``create_app``) served by uvicorn on 127.0.0.1 in a thread, on a
  fresh SQLite file. bob, a member, posts a normal warning (``Entries.post``: sync, seal,
  POST) and files a sealed one (``Sealed.seal``: sync, the settings chain and its signature,
  the moderation key, the VOPRF round trip with its proof check, six tags' polynomials,
  sealing, POST and the server's match), alternately, each about a new name (subject and two
  aliases), so nothing matches. The ratio is taken inside each round; the median over rounds
  is reported. Goal (issue 18): at most 2x.
* ``match``: on a migrated database (SQLite file; PostgreSQL when it answers), N filings of
  one circle with four random tags each are inserted directly (setup), then the server's own
  match step (``app.sealed.service._match``) is timed for a tag held by one other member (the
  common case: it counts and finds k not reached). Goal: at 100,000 at most 1.2x of at 1,000.

* ``cli`` (``--cli-rounds N``, 0 to skip): the same, but each post and each filing is a cold
  ``backchannel`` process (``post`` and ``seal`` with ``--json``: interpreter start,
  imports, unlocking the device's keys, sync, the requests), against the same uvicorn
  thread, alternately, timed from outside (wall clock). The setup runs through the CLI too.
  Goal: at most 2x.

* ``--phases``: the ``file`` run also times each request inside the server (a middleware
  around routing, the session check, the use case and the commit) and prints the medians by
  route, so a filing's two writes can be set beside a post's one.

Machine load (``uptime``) is printed beside the figures. Exit status 1 if a goal is missed.
"""

import argparse
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.circles.models import Circle, Membership
from app.client.circles import Circles
from app.client.entries import Entries
from app.client.moderation import Moderation
from app.client.sdk import Client
from app.client.sealed import Sealed
from app.client.trust import TrustStore
from app.db import make_engine, utcnow
from app.main import create_app
from app.sealed import service
from app.sealed.models import SealedFiling, SealedTag
from app.settings import Settings
from bench.common import fresh_database, usable_engines

SECRET = "bench-sealed-secret-key-0123456789abcdef"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        secret_key=SECRET,  # type: ignore[arg-type,unused-ignore]
        server_hash_time_cost=1,
        server_hash_memory_kib=1024,
    )


def _timed(app: FastAPI, phases: dict[str, list[float]]) -> FastAPI:
    """Time each request inside the server (routing, session check, use case, commit), by the
    route's last path segment: where a filing's time goes beside a post's."""

    async def timer(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        name = f"{request.method} {request.url.path.rsplit('/', 1)[-1]}"
        phases.setdefault(name, []).append(time.perf_counter() - start)
        return response

    app.middleware("http")(timer)
    return app


@contextlib.contextmanager
def _serving(url: str, phases: dict[str, list[float]] | None = None) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(_settings(url))
    if phases is not None:
        app = _timed(app, phases)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def _person(base: str, name: str) -> Circles:
    client = Client(base)
    account = client.register(name, "quartz-vellum 7731 kite")
    return Circles(client, username=name, identity=account.identity, trust=TrustStore.in_memory())


def bench_file(rounds: int, *, phases: bool = False) -> float:
    timings: dict[str, list[float]] | None = {} if phases else None
    with fresh_database("sqlite", "file") as url, _serving(url, timings) as base:
        alice, bob = _person(base, "alice"), _person(base, "bob")
        circle = alice.create("Bench circle")
        invite, _ = alice.create_invite(circle.circle_id)
        bob.join(str(invite))
        alice.confirm(circle.circle_id, "bob", fingerprint=bob.fingerprint)
        Sealed(Moderation(alice)).configure(circle.circle_id, evaluations_per_day=100)
        entries, sealed = Entries(bob), Sealed(Moderation(bob))
        ratios, posts, seals = [], [], []
        for i in range(rounds + 1):
            fields: dict[str, Any] = {
                "subject": f"Person {i} Example",
                "aliases": [f"P. Example {i}", f"pexample{i}"],
                "categories": ["harassment"],
                "text": "He followed me home after the conference dinner. " * 8,
            }
            start = time.perf_counter()
            entries.post(circle.circle_id, **fields)
            post = time.perf_counter() - start
            start = time.perf_counter()
            sealed.seal(circle.circle_id, **{**fields, "subject": f"Other {i} Example"})
            seal = time.perf_counter() - start
            if i:  # the first round warms caches and connections
                posts.append(post)
                seals.append(seal)
                ratios.append(seal / post)
            elif timings is not None:
                timings.clear()
    for name, values in sorted((timings or {}).items()):
        if name.startswith(("POST", "GET")) and len(values) >= rounds:
            print(f"  in the server: {name[:40]:40s} {statistics.median(values) * 1000:6.2f} ms")
    ratio = statistics.median(ratios)
    print(
        f"file: post {statistics.median(posts) * 1000:.1f} ms, seal "
        f"{statistics.median(seals) * 1000:.1f} ms, median ratio {ratio:.2f}x over {rounds} "
        f"rounds (goal <= 2x); {_load()}"
    )
    return ratio


def _cli(base: str, home: str, *args: str) -> Any:
    env = {
        **os.environ,
        "BACKCHANNEL_SERVER": base,
        "BACKCHANNEL_HOME": home,
        "BACKCHANNEL_PASSPHRASE": "quartz-vellum 7731 kite",
    }
    done = subprocess.run(
        # what the installed ``backchannel`` script runs
        [sys.executable, "-c", "from app.client.cli.main import main; main()", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_cli(rounds: int) -> float:
    with (
        fresh_database("sqlite", "cli") as url,
        _serving(url) as base,
        tempfile.TemporaryDirectory() as root,
    ):
        home = {who: os.path.join(root, who) for who in ("alice", "bob")}
        _cli(base, home["alice"], "register", "alice")
        fingerprint = _cli(base, home["bob"], "register", "bob")["fingerprint"]
        cid = _cli(base, home["alice"], "circle", "create", "Bench circle")["circle_id"]
        invite = _cli(base, home["alice"], "invite", "create", cid)["invite"]
        _cli(base, home["bob"], "join", invite)
        _cli(base, home["alice"], "member", "confirm", cid, "bob", "--fingerprint", fingerprint)
        _cli(base, home["alice"], "sealed", "settings", cid, "--evaluations-per-day", "100")
        ratios, posts, seals = [], [], []
        for i in range(rounds + 1):
            fields = ["--category", "harassment", "--text", "He followed me home. " * 8]
            aliases = ["--alias", f"P. Example {i}", "--alias", f"pexample{i}"]
            start = time.perf_counter()
            _cli(base, home["bob"], "post", cid, "--subject", f"Person {i} Ex", *aliases, *fields)
            post = time.perf_counter() - start
            start = time.perf_counter()
            _cli(base, home["bob"], "seal", cid, "--subject", f"Other {i} Ex", *aliases, *fields)
            seal = time.perf_counter() - start
            if i:  # the first round: bob's device has not verified the sealed settings yet
                posts.append(post)
                seals.append(seal)
                ratios.append(seal / post)
    ratio = statistics.median(ratios)
    print(
        f"cli (cold processes): post {statistics.median(posts) * 1000:.0f} ms, seal "
        f"{statistics.median(seals) * 1000:.0f} ms, median ratio {ratio:.2f}x over {rounds} "
        f"rounds (goal <= 2x); {_load()}"
    )
    return ratio


def _fill(session: Session, circle_id: uuid.UUID, filer: uuid.UUID, count: int) -> None:
    now = utcnow()
    for start in range(0, count, 5000):
        ids = [uuid.uuid4() for _ in range(min(5000, count - start))]
        session.execute(
            insert(SealedFiling),
            [
                {
                    "id": fid,
                    "circle_id": circle_id,
                    "filer_id": filer,
                    "k": 2,
                    "generation": 0,
                    "record": b"x",
                    "signature": bytes(64),
                    "status": "open",
                    "created_at": now,
                    "updated_at": now,
                }
                for fid in ids
            ],
        )
        session.execute(
            insert(SealedTag),
            [
                {"filing_id": fid, "tag": secrets.token_bytes(32), "circle_id": circle_id, "k": 2}
                for fid in ids
                for _ in range(4)
            ],
        )
    session.commit()


@contextlib.contextmanager
def _filled(engine_name: str, size: int) -> Iterator[tuple[Session, uuid.UUID, SealedFiling]]:
    """A database whose circle holds ``size`` filings of one member, four tags each, and a
    probe filing of a second member whose tag nobody else has (k = 3: no match opens)."""
    with fresh_database(engine_name, f"sealed{size}") as url:
        engine = make_engine(url)
        with Session(engine) as session:
            now = utcnow()
            users = [
                User(
                    username=f"u{i}",
                    auth_hash="x",
                    kdf_salt=bytes(16),
                    kdf_opslimit=3,
                    kdf_memlimit=64 * 1024 * 1024,
                    x25519_public=secrets.token_bytes(32),
                    ed25519_public=secrets.token_bytes(32),
                    x25519_signature=bytes(64),
                    key_bundle=b"x",
                    recovery_auth_hash="x",
                    recovery_bundle=b"x",
                    created_at=now,
                    credentials_changed_at=now,
                )
                for i in range(2)
            ]
            session.add_all(users)
            session.flush()
            circle = Circle(
                id=uuid.uuid4(),
                epoch=0,
                record_seq=0,
                event_seq=-1,
                meta_epoch=0,
                meta_ciphertext=b"x",
                created_at=now,
            )
            session.add(circle)
            session.flush()
            session.add_all(
                Membership(
                    circle_id=circle.id,
                    user_id=user.id,
                    role="member",
                    status="active",
                    created_at=now,
                    updated_at=now,
                )
                for user in users
            )
            session.commit()
            _fill(session, circle.id, users[0].id, size)
            probe = SealedFiling(
                id=uuid.uuid4(),
                circle_id=circle.id,
                filer_id=users[1].id,
                k=3,
                generation=0,
                record=b"x",
                signature=bytes(64),
                status="open",
                created_at=now,
                updated_at=now,
            )
            session.add(probe)
            session.add(
                SealedTag(filing_id=probe.id, tag=secrets.token_bytes(32), circle_id=circle.id, k=3)
            )
            session.commit()
            yield session, circle.id, probe
        engine.dispose()


def _time_match(session: Session, circle_id: uuid.UUID, probe: SealedFiling, repeats: int) -> float:
    tag = session.scalars(select(SealedTag.tag).where(SealedTag.filing_id == probe.id)).one()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        service._match(session, circle_id=circle_id, k=3, tags=[tag], filing_id=probe.id)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_match(engine_name: str, sizes: list[int], rounds: int, repeats: int) -> float:
    """Both sizes are filled first, then measured alternately, so both see the same load;
    the ratio is taken inside each round and its median reported."""
    with contextlib.ExitStack() as stack:
        worlds = [stack.enter_context(_filled(engine_name, size)) for size in sizes]
        ratios, medians = [], {size: [] for size in sizes}  # type: dict[int, list[float]]
        for _ in range(rounds):
            found = [_time_match(*world, repeats) for world in worlds]
            for size, value in zip(sizes, found, strict=True):
                medians[size].append(value)
            ratios.append(found[-1] / found[0])
    for size in sizes:
        print(
            f"match {engine_name} {size:>7,} filings: "
            f"{statistics.median(medians[size]) * 1e6:.0f} us median; {_load()}"
        )
    ratio = statistics.median(ratios)
    print(
        f"match {engine_name}: {sizes[-1]:,} / {sizes[0]:,} = {ratio:.2f}x, median of {rounds} "
        f"rounds of {repeats} (goal <= 1.2x)"
    )
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--skip-file", action="store_true")
    parser.add_argument("--cli-rounds", type=int, default=5)
    parser.add_argument("--skip-match", action="store_true")
    parser.add_argument(
        "--phases", action="store_true", help="also time each request inside the server"
    )
    args = parser.parse_args(argv)
    ok = True
    if not args.skip_file:
        ok &= bench_file(args.rounds, phases=args.phases) <= 2.0
    if args.cli_rounds:
        ok &= bench_cli(args.cli_rounds) <= 2.0
    if args.skip_match:
        return 0 if ok else 1
    sizes = [int(s) for s in args.sizes.split(",")]
    for engine_name in usable_engines(args.engines):
        ok &= bench_match(engine_name, sizes, args.rounds, args.repeats) <= 1.2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
