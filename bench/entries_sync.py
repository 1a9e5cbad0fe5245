"""Client sync + decrypt + verify of 10,000 warnings, against the raw PyNaCl cost of that crypto.

Run from the repository root::

    .venv/bin/python -m bench.entries_sync                      # SQLite and PostgreSQL (if up)
    .venv/bin/python -m bench.entries_sync --engines sqlite --runs 5
    .venv/bin/python -m bench.entries_sync --engines sqlite --runs 3 --profile   # + pyinstrument

Target (warnings issue): syncing, decrypting and verifying 10,000 entries with the SDK takes
at most 1.5x the raw PyNaCl cost of the same crypto, both measured in the same run.

What is measured (docs/benchmarks.md has the method and the numbers):

* the server is the real app (``create_app``) served by uvicorn on 127.0.0.1 in a child
  process, on a freshly migrated database (a SQLite file in a temporary directory, or a
  temporary PostgreSQL database ``bc_bench_<pid>`` that is dropped afterwards);
* alice and bob register through the API (real Argon2id), alice creates the circle through the
  SDK, invites and confirms bob; each posts a few named and anonymous warnings with
  ``Entries.post`` (the real format, checked by the server). The rest of the 10,000 are sealed
  with the same ``app.crypto.entries.seal`` (real signatures, named by alice or bob, or
  anonymous with the per-entry derived key) and inserted with SQL into ``entries``
  with sequential ``seq`` and ``change_seq``; the circle's counters are updated (setup, not timed);
* (a) ``sdk``: ``Entries(circles).pages(circle_id, page_size=500)`` (the SDK default) consumed
  to the end (circle sync, 21 HTTP pages, JSON, base64, verify, decrypt, commitment, payload
  checks);
* (b) ``raw``: the same 10,000 envelopes, with nacl.bindings only, in a tight loop:
  ``crypto_sign_open`` (Ed25519), ``crypto_aead_xchacha20poly1305_ietf_decrypt`` and
  ``crypto_generichash_blake2b_salt_personal`` (the franking commitment) per entry; inputs
  (signed message, associated data, key) are prepared before the clock starts;
* (c) ``open``: ``Entries.open`` over the 10,000 rows fetched beforehand (client-side crypto +
  parsing only, no HTTP); (d) ``fetch``: the 50 pages fetched with ``client.request`` only
  (HTTP + server + JSON decoding), with the server's own time per request from a header.
"""

# ruff: noqa: B023  (stage_breakdown: each lambda runs at once, inside its loop iteration)
from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import nacl
import nacl.bindings as sodium
from sqlalchemy import Engine, event, insert, select, update

from app.accounts.models import User
from app.circles.models import Circle
from app.client.circles import Circles, VerifiedCircle
from app.client.entries import Entries, ReadEntry
from app.client.sdk import Account, Client
from app.client.trust import TrustStore
from app.crypto import b64decode, labels
from app.crypto.entries import (
    BUCKETS,
    ENTRY,
    Envelope,
    EnvelopeContext,
    check_entry_body,
    open_envelope,
    seal,
    signing_key_for,
)
from app.db import make_engine, utcnow
from app.entries.models import Entry
from app.settings import Settings
from bench.common import (
    fresh_database,
    postgres_unavailable,
    postgres_url,
)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-long-enough-xxxxxxxx"
PASSPHRASES = {"alice": "bench horse battery staple", "bob": "bench paperclip river bend"}
TARGET_RATIO = 1.5
PAGE_SIZE = 500  # the SDK default

SERVER_SECONDS = "x-bench-server-seconds"
SERVER_CPU = "x-bench-server-cpu-seconds"
DB_SECONDS = "x-bench-db-seconds"
DB_STATEMENTS = "x-bench-db-statements"


# -- databases -----------------------------------------------------------------------------


def git_head() -> str:
    """The commit measured (read-only git call); the working tree may differ."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def bench_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=SECRET,  # type: ignore[arg-type,unused-ignore]
        server_hash_time_cost=1,
        server_hash_memory_kib=1024,
    )


# -- the server (a child process) ------------------------------------------------------------


class ServerTimer:
    """Outermost ASGI wrapper: reports in response headers how long the server took (request
    start to response start) and the time spent in database calls. One request at a time."""

    def __init__(self, app: Any, engine: Engine) -> None:
        self.app = app
        self.db_seconds = 0.0
        self.db_statements = 0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def _after(self, conn: Any, *_args: Any) -> None:
        self.db_seconds += time.perf_counter() - conn.info["bench_t0"].pop()
        self.db_statements += 1

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, cpu_started = time.perf_counter(), time.process_time()
        self.db_seconds, self.db_statements = 0.0, 0

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                figures = {
                    SERVER_SECONDS: f"{time.perf_counter() - started:.6f}",
                    SERVER_CPU: f"{time.process_time() - cpu_started:.6f}",
                    DB_SECONDS: f"{self.db_seconds:.6f}",
                    DB_STATEMENTS: str(self.db_statements),
                }
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in figures.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed_send)


def serve(database_url: str, port: int, profile_out: str | None) -> None:
    """The child process: uvicorn on 127.0.0.1:port; with ``profile_out``, every request runs
    on the event-loop thread (FastAPI's threadpool replaced by a direct call) so that one
    pyinstrument profiler sees all of the server's work; written out on SIGTERM."""
    import uvicorn

    from app.main import create_app

    profiler = None
    if profile_out:
        import anyio.to_thread

        async def run_inline(func: Callable[..., Any], *args: Any, **_kw: Any) -> Any:
            return func(*args)

        anyio.to_thread.run_sync = run_inline  # type: ignore[assignment]
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="disabled")

    app = create_app(bench_settings(database_url))
    config = uvicorn.Config(
        ServerTimer(app, app.state.engine),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises SIGTERM after its shutdown (killing us before the profile is written):
    # stop it through should_exit instead.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    if profiler is not None:
        profiler.start()
    server.run()
    if profiler is not None and profile_out:
        profiler.stop()
        Path(profile_out).write_text(profiler.output_text(unicode=True, color=False))
    app.state.engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    child: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.child.terminate()
        try:
            self.child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()


def start_server(database_url: str, *, profile_out: str | None = None) -> LiveServer:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "bench.entries_sync", "--serve", database_url, str(port)]
    if profile_out:
        args += ["--server-profile", profile_out]
    child = subprocess.Popen(args, cwd=ROOT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return LiveServer(url, child)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            raise RuntimeError("the uvicorn child process did not start")
        time.sleep(0.1)


# -- people and the circle, through the real API --------------------------------------------


@dataclass
class Person:
    name: str
    account: Account
    client: Client
    circles: Circles
    server_seconds: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    db_seconds: list[float] = field(default_factory=list)

    def reset_server_figures(self) -> None:
        self.server_seconds.clear()
        self.server_cpu.clear()
        self.db_seconds.clear()


def person(base_url: str, name: str) -> Person:
    """Register through the API (client-side Argon2id) and return an SDK client for them.

    The httpx client records the server's own time for each response (from ServerTimer)."""
    seconds: list[float] = []
    cpu: list[float] = []
    db: list[float] = []

    def record(response: httpx.Response) -> None:
        if SERVER_SECONDS in response.headers:
            seconds.append(float(response.headers[SERVER_SECONDS]))
            cpu.append(float(response.headers[SERVER_CPU]))
            db.append(float(response.headers[DB_SECONDS]))

    http = httpx.Client(timeout=120, event_hooks={"response": [record]})
    client = Client(base_url, http=http)
    account = client.register(name, PASSPHRASES.get(name, "bench passphrase words"))
    circles = Circles(
        client, username=account.username, identity=account.identity, trust=TrustStore.in_memory()
    )
    return Person(name, account, client, circles, seconds, cpu, db)


@dataclass
class CircleWorld:
    circle_id: uuid.UUID
    people: dict[str, Person]
    reader: Person  # alice: the one who syncs
    posted_via_api: int


def build_circle(base_url: str, *, names: tuple[str, ...] = ("alice", "bob")) -> CircleWorld:
    """alice creates a circle through the SDK; the others join by invite and are confirmed."""
    people = {n: person(base_url, n) for n in names}
    alice = people[names[0]]
    circle = alice.circles.create("bench circle", "entries benchmark")
    for name in names[1:]:
        invite, _ = alice.circles.create_invite(circle.circle_id, role="member")
        people[name].circles.join(str(invite))
        alice.circles.confirm(circle.circle_id, name, fingerprint=people[name].account.fingerprint)
    return CircleWorld(circle.circle_id, people, alice, 0)


SUBJECTS = ("Jan Novák", "Martin Keller", "Sophie Laurent", "Piotr Zieliński", "Ana Ortiz")
TEXT = (
    "He cornered me at the wrap party and would not let me leave the room; two others saw it. "
    "Later he sent messages at night about my contract renewal. Avoid working alone with him."
)


def payload(i: int, *, anonymous: bool) -> dict[str, Any]:
    """A realistic warning body; with the 32-byte opening it pads to the 512-byte bucket."""
    return {
        "v": 1,
        "subject": f"{SUBJECTS[i % len(SUBJECTS)]} {i}",
        "aliases": [f"JN{i}"] if i % 3 == 0 else [],
        "categories": ["harassment", "intimidation"] if i % 2 else ["other"],
        "severity": ("concern", "serious", "severe")[i % 3],
        "affiliation": "Studio Babelsberg" if i % 4 == 0 else None,
        "happened": f"20{18 + i % 7}-{1 + i % 12:02d}",
        "contact": None,
        "text": TEXT,
        "attribution": "anonymous" if anonymous else "named",
    }


def post_payload(entries: Entries, circle_id: uuid.UUID, i: int, *, anonymous: bool) -> None:
    """Post ``payload(i)`` through the real API with the SDK."""
    body = payload(i, anonymous=anonymous)
    entries.post(
        circle_id,
        subject=body["subject"],
        aliases=body["aliases"],
        text=body["text"],
        categories=body["categories"],
        severity=body["severity"],
        affiliation=body["affiliation"],
        happened=body["happened"],
        anonymous=anonymous,
    )


def post_via_api(world: CircleWorld, per_person: int = 3) -> None:
    """A few warnings through the real API (named and anonymous, by each person)."""
    n = 0
    for p in world.people.values():
        entries = Entries(p.circles)
        for k in range(per_person):
            post_payload(entries, world.circle_id, n, anonymous=k % 2 == 1)
            n += 1
    world.posted_via_api = n


@dataclass
class Sealed:
    entry_id: uuid.UUID
    author: str
    anonymous: bool
    envelope: Envelope


def seal_bulk(world: CircleWorld, count: int, *, start: int = 0) -> list[Sealed]:
    """Real envelopes made with app.crypto.entries.seal: named by each person in turn, and every
    third anonymous (signed with the per-entry derived key)."""
    circle = world.reader.circles.sync(world.circle_id)
    names = list(world.people)
    out: list[Sealed] = []
    for j in range(count):
        i = start + j
        author = world.people[names[i % len(names)]]
        anonymous = i % 3 == 2
        entry_id = uuid.uuid4()
        context = EnvelopeContext(ENTRY, world.circle_id, circle.epoch, entry_id)
        signing = signing_key_for(author.account.identity, context, anonymous=anonymous)
        body = payload(i, anonymous=anonymous)
        envelope = seal(body, key=circle.key, context=context, signing_key=signing)
        if len(envelope.ciphertext) != 528:
            raise RuntimeError(f"unexpected ciphertext size {len(envelope.ciphertext)}")
        out.append(Sealed(entry_id, author.name, anonymous, envelope))
    return out


def insert_sealed(database_url: str, world: CircleWorld, sealed: list[Sealed]) -> None:
    """Direct SQL: entries with sequential seq (each its own change), then the counters."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            ids = dict(conn.execute(select(User.username, User.id)).all())
            seq = conn.execute(
                select(Circle.entry_seq).where(Circle.id == world.circle_id)
            ).scalar_one()
            epoch = conn.execute(
                select(Circle.epoch).where(Circle.id == world.circle_id)
            ).scalar_one()
            now = utcnow()
            entry_rows: list[dict[str, Any]] = []
            for item in sealed:
                seq += 1
                e = item.envelope
                entry_rows.append(
                    {
                        "id": item.entry_id,
                        "circle_id": world.circle_id,
                        "seq": seq,
                        "epoch": epoch,
                        "author_id": ids[item.author],
                        "anonymous": item.anonymous,
                        "author_key": e.author_key,
                        "commitment": e.commitment,
                        "nonce": e.nonce,
                        "ciphertext": e.ciphertext,
                        "signature": e.signature,
                        "status": "live",
                        "corroboration_count": 0,
                        "created_at": now,
                        "expires_at": now + timedelta(days=730),
                        "wiped_at": None,
                        "change_seq": seq,
                    }
                )
            for i in range(0, len(entry_rows), 2000):
                conn.execute(insert(Entry), entry_rows[i : i + 2000])
            conn.execute(
                update(Circle)
                .where(Circle.id == world.circle_id)
                .values(entry_seq=seq, change_seq=seq)
            )
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("ANALYZE entries")
    finally:
        engine.dispose()


# -- the four measurements ------------------------------------------------------------------


def fetch_rows(reader: Person, circle_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every entry row, oldest first, exactly as Entries.pages requests them (no crypto)."""
    rows: list[dict[str, Any]] = []
    cursor = 0
    while True:
        page = reader.client.request(
            "GET", f"/v1/circles/{circle_id}/entries", params={"after": cursor, "limit": PAGE_SIZE}
        )
        rows += page["entries"]
        if len(page["entries"]) < PAGE_SIZE:
            return rows
        cursor = int(page["entries"][-1]["seq"])


@dataclass
class RawInput:
    smessage: bytes  # signature || signed message, what crypto_sign_open takes
    author_key: bytes
    ciphertext: bytes
    ad: bytes
    nonce: bytes
    body_end: int  # where the JSON body ends inside the padded plaintext
    commitment: bytes


def raw_inputs(circle: VerifiedCircle, rows: list[dict[str, Any]]) -> tuple[bytes, list[RawInput]]:
    """Everything the raw loop needs, prepared (and checked once) before any clock starts."""
    key = circle.key.entry_key
    out = []
    for row in rows:
        env = Envelope(
            b64decode(row["author_key"]),
            b64decode(row["commitment"]),
            b64decode(row["nonce"]),
            b64decode(row["ciphertext"]),
            b64decode(row["signature"]),
        )
        ctx = EnvelopeContext(
            ENTRY, circle.circle_id, int(row["epoch"]), uuid.UUID(row["entry_id"])
        )
        ad = ctx.associated_data(env.author_key, env.commitment)
        padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            env.ciphertext, ad, env.nonce, key
        )
        end = len(padded.rstrip(b"\x00")) - 1
        out.append(
            RawInput(
                env.signature + env.signed_message(ctx),
                env.author_key,
                env.ciphertext,
                ad,
                env.nonce,
                end,
                env.commitment,
            )
        )
    return key, out


@dataclass
class Timing:
    wall: float
    cpu: float  # this process's CPU time (robust against other load on the machine)
    server_wall: float = 0.0  # the server's own time, summed over the requests
    server_cpu: float = 0.0
    server_db: float = 0.0
    requests: int = 0


class Clock:
    def __init__(self, reader: Person | None = None) -> None:
        self.reader = reader

    def __enter__(self) -> Clock:
        if self.reader is not None:
            self.reader.reset_server_figures()
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        wall, cpu = time.perf_counter() - self.t0, time.process_time() - self.c0
        self.timing = Timing(wall, cpu)
        if self.reader is not None:
            r = self.reader
            self.timing.server_wall = sum(r.server_seconds)
            self.timing.server_cpu = sum(r.server_cpu)
            self.timing.server_db = sum(r.db_seconds)
            self.timing.requests = len(r.server_seconds)


def raw_crypto(key: bytes, inputs: list[RawInput]) -> Timing:
    """(b): Ed25519 verify + XChaCha20-Poly1305 decrypt + BLAKE2b commitment, nacl.bindings."""
    sign_open = sodium.crypto_sign_open
    decrypt = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt
    blake = sodium.crypto_generichash_blake2b_salt_personal
    person_ = labels.PERSON_FRANKING
    with Clock() as clock:
        for x in inputs:
            sign_open(x.smessage, x.author_key)
            padded = decrypt(x.ciphertext, x.ad, x.nonce, key)
            digest = blake(padded[32 : x.body_end], digest_size=32, key=padded[:32], person=person_)
            if digest != x.commitment:
                raise RuntimeError("commitment mismatch")
    return clock.timing


def sdk_sync(reader: Person, circle_id: uuid.UUID, expected: int) -> Timing:
    """(a): a fresh Entries (so the member list is fetched too) over the reader's Circles."""
    with Clock(reader) as clock:
        read: list[ReadEntry] = list(Entries(reader.circles).pages(circle_id, page_size=PAGE_SIZE))
    if len(read) != expected or any(r.text != TEXT for r in read):
        raise RuntimeError(f"read {len(read)} entries, expected {expected}")
    return clock.timing


def ready_entries(
    reader: Person, circle_id: uuid.UUID, rows: list[dict[str, Any]]
) -> tuple[Entries, VerifiedCircle]:
    """A fresh Entries with the circle synced and its member cache warm (by opening one named
    entry: one HTTP request), so what is timed next is client-side work only."""
    entries = Entries(reader.circles)
    circle = reader.circles.sync(circle_id)
    entries.open(circle, next(r for r in rows if r["author"] is not None))
    return entries, circle


def open_only(reader: Person, circle_id: uuid.UUID, rows: list[dict[str, Any]]) -> Timing:
    """(c): Entries.open over pre-fetched rows; circle sync and member list done beforehand."""
    entries, circle = ready_entries(reader, circle_id, rows)
    with Clock() as clock:
        read = [entries.open(circle, row) for row in rows]
    if len(read) != len(rows):
        raise RuntimeError("open lost entries")
    return clock.timing


def interleaved(
    reader: Person,
    circle_id: uuid.UUID,
    rows: list[dict[str, Any]],
    key: bytes,
    inputs: list[RawInput],
    chunk: int = 250,
) -> tuple[Timing, Timing, Timing]:
    """(c), the prototype of the fixed open, and (b), alternating every ``chunk`` entries so
    that all three see the same machine load."""
    entries, circle = ready_entries(reader, circle_id, rows)
    # the prototype's member keys: the same list the SDK fetched, fetched once beforehand
    authors = {m.username: m.identity.ed25519_public for m in reader.circles.members(circle_id)}
    totals = [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    for i in range(0, len(rows), chunk):
        part = rows[i : i + chunk]
        with Clock() as clock:
            for row in part:
                entries.open(circle, row)
        with Clock() as proto:
            prototype_open(authors, circle, part)
        raw = raw_crypto(key, inputs[i : i + chunk])
        for total, t in zip(totals, (clock.timing, proto.timing, raw), strict=True):
            total[0] += t.wall
            total[1] += t.cpu
    sdk, fixed, raw_t = (Timing(w, c) for w, c in totals)
    return sdk, fixed, raw_t


def fetch_only(reader: Person, circle_id: uuid.UUID) -> Timing:
    """(d): the pages only (HTTP + server + JSON decoding), with the server's own figures."""
    with Clock(reader) as clock:
        fetch_rows(reader, circle_id)
    return clock.timing


def stage_breakdown(
    reader: Person,
    circle_id: uuid.UUID,
    rows: list[dict[str, Any]],
    key: bytes,
    inputs: list[RawInput],
    repeats: int = 3,
) -> dict[str, tuple[float, float | None]]:
    """Where Entries.open spends its time: the SDK's steps, each over all rows, next to the
    raw binding doing the same crypto. CPU seconds, the best of ``repeats`` passes."""
    import nacl.secret
    from nacl.encoding import RawEncoder
    from nacl.signing import VerifyKey

    from app.client.entries import _envelope
    from app.crypto.circles import load_json
    from app.crypto.entries import unpad, verify_commitment

    circle = reader.circles.sync(circle_id)
    entries, _ = ready_entries(reader, circle_id, rows)
    ck = circle.key
    best: dict[str, list[float]] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        t = time.process_time()
        value = fn()
        best.setdefault(name, []).append(time.process_time() - t)
        return value

    sign_open = sodium.crypto_sign_open
    decrypt = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt
    blake = sodium.crypto_generichash_blake2b_salt_personal
    person_ = labels.PERSON_FRANKING
    for _ in range(repeats):
        envs = timed("b64", lambda: [_envelope(r) for r in rows])
        ctxs = timed(
            "ctx",
            lambda: [
                EnvelopeContext(ENTRY, circle.circle_id, int(r["epoch"]), uuid.UUID(r["entry_id"]))
                for r in rows
            ],
        )
        msgs = timed("msg", lambda: [e.signed_message(c) for e, c in zip(envs, ctxs, strict=True)])
        timed(
            "verify",
            lambda: [
                VerifyKey(e.author_key).verify(m, e.signature)
                for e, m in zip(envs, msgs, strict=True)
            ],
        )
        timed("raw verify", lambda: [sign_open(x.smessage, x.author_key) for x in inputs])
        ads = timed(
            "ad",
            lambda: [
                c.associated_data(e.author_key, e.commitment)
                for e, c in zip(envs, ctxs, strict=True)
            ],
        )
        padded = timed(
            "decrypt",
            lambda: [
                nacl.secret.Aead(ck.entry_key).decrypt(
                    e.ciphertext, ad, e.nonce, encoder=RawEncoder
                )
                for e, ad in zip(envs, ads, strict=True)
            ],
        )
        raw_padded = timed(
            "raw decrypt", lambda: [decrypt(x.ciphertext, x.ad, x.nonce, key) for x in inputs]
        )
        plains = timed("unpad", lambda: [unpad(p) for p in padded])
        timed(
            "commit",
            lambda: [
                verify_commitment(p[32:], p[:32], e.commitment)
                for p, e in zip(plains, envs, strict=True)
            ],
        )
        timed(
            "raw commit",
            lambda: [
                blake(p[32 : x.body_end], digest_size=32, key=p[:32], person=person_)
                for p, x in zip(raw_padded, inputs, strict=True)
            ],
        )
        timed("json", lambda: [check_entry_body(load_json(p[32:])) for p in plains])
        timed(
            "open_envelope",
            lambda: [
                open_envelope(e, keys=circle.keys, context=c)
                for e, c in zip(envs, ctxs, strict=True)
            ],
        )
        timed("Entries.open", lambda: [entries.open(circle, r) for r in rows])
        timed("raw loop", lambda: raw_crypto(key, inputs))
    m = {k: min(v) for k, v in best.items()}
    return {
        "base64: `_envelope` (5 strict b64decode: decode + re-encode check)": (m["b64"], None),
        "`EnvelopeContext(...)` + `uuid.UUID(entry_id)`": (m["ctx"], None),
        "signed message (AD + nonce + ciphertext concat)": (m["msg"], None),
        "Ed25519: `VerifyKey(pk).verify(msg, sig)`": (m["verify"], m["raw verify"]),
        "associated data again (built twice per entry)": (m["ad"], None),
        "XChaCha20-Poly1305: `Aead(key).decrypt` (new Aead per entry)": (
            m["decrypt"],
            m["raw decrypt"],
        ),
        "`unpad`": (m["unpad"], None),
        "BLAKE2b commitment: `verify_commitment` (nacl.hash.blake2b)": (
            m["commit"],
            m["raw commit"],
        ),
        "`load_json` + `check_entry_body`": (m["json"], None),
        "= `open_envelope` alone (over decoded envelopes)": (m["open_envelope"], None),
        "= `Entries.open` (everything, from the JSON row)": (m["Entries.open"], m["raw loop"]),
    }


def prototype_open(
    authors: dict[str, bytes], circle: VerifiedCircle, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """NOT the SDK: what Entries.open could cost with the suggested fixes (same checks: strict
    canonical base64, signature, AEAD, commitment, JSON, payload, named author's key). Used
    only to size the fixes; the target is judged on the SDK."""
    import binascii
    import hmac
    import json

    from app.crypto.circles import _reject_number

    sign_open = sodium.crypto_sign_open
    decrypt = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt
    blake = sodium.crypto_generichash_blake2b_salt_personal
    a2b, b2a = binascii.a2b_base64, binascii.b2a_base64
    person_ = labels.PERSON_FRANKING
    sig_ctx = labels.ENVELOPE_SIGNATURE_CONTEXT
    prefix = labels.ENTRY_AD_PREFIX + circle.circle_id.bytes
    keys = {epoch: k.entry_key for epoch, k in circle.keys.items()}  # derived once

    def d(text: str) -> bytes:
        raw = a2b(text, strict_mode=True)
        if b2a(raw, newline=False) != text.encode():  # canonical
            raise ValueError("not canonical base64")
        return raw

    out = []
    for row in rows:
        pk, commit = d(row["author_key"]), d(row["commitment"])
        nonce, ct, sig = d(row["nonce"]), d(row["ciphertext"]), d(row["signature"])
        epoch = int(row["epoch"])
        ad = prefix + epoch.to_bytes(8, "big") + uuid.UUID(row["entry_id"]).bytes + pk + commit
        sign_open(sig + sig_ctx + ad + nonce + ct, pk)  # built once, used for sig and AEAD
        if row["anonymous"] == (row["author"] is not None):
            raise ValueError("author leak")
        padded = decrypt(ct, ad, nonce, keys[epoch])
        end = padded.rstrip(b"\x00")
        if len(padded) not in BUCKETS or not end.endswith(b"\x80"):
            raise ValueError("bad padding")
        opening, body_bytes = end[:32], end[32:-1]
        if not hmac.compare_digest(
            blake(body_bytes, digest_size=32, key=opening, person=person_), commit
        ):
            raise ValueError("commitment")
        body = check_entry_body(
            json.loads(body_bytes, parse_float=_reject_number, parse_constant=_reject_number)
        )
        if (body["attribution"] == "anonymous") != bool(row["anonymous"]):
            raise ValueError("attribution changed")
        if body["attribution"] == "named" and authors.get(row["author"]) != pk:
            raise ValueError("author")
        out.append(body)
    return out


def pipelined_sync(reader: Person, circle_id: uuid.UUID, expected: int) -> Timing:
    """NOT the SDK: Entries.pages with the next page fetched in a thread while this one is
    verified (PyNaCl's cffi calls release the GIL). Sizes the "overlap HTTP" fix."""
    from concurrent.futures import ThreadPoolExecutor

    entries = Entries(reader.circles)
    with Clock(reader) as clock, ThreadPoolExecutor(1) as pool:
        circle = reader.circles.sync(circle_id)

        def get(after: int) -> dict[str, Any]:
            page: dict[str, Any] = reader.client.request(
                "GET",
                f"/v1/circles/{circle_id}/entries",
                params={"after": after, "limit": PAGE_SIZE},
            )
            return page

        pending = pool.submit(get, 0)
        read = []
        while True:
            rows = pending.result()["entries"]
            if len(rows) == PAGE_SIZE:
                pending = pool.submit(get, int(rows[-1]["seq"]))
            read += [entries.open(circle, row) for row in rows]
            if len(rows) < PAGE_SIZE:
                break
    if len(read) != expected:
        raise RuntimeError("pipelined sync lost entries")
    return clock.timing


# -- profiles -------------------------------------------------------------------------------


def profile_client(reader: Person, circle_id: uuid.UUID, rows: list[dict[str, Any]]) -> str:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return cprofile_client(reader, circle_id, rows)
    out = []
    profiler = Profiler(interval=0.0002)
    entries, circle = ready_entries(reader, circle_id, rows)
    profiler.start()
    for row in rows:
        entries.open(circle, row)
    profiler.stop()
    out.append("### client: Entries.open over the pre-fetched rows\n")
    out.append(profiler.output_text(unicode=True, color=False))
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in Entries(reader.circles).pages(circle_id, page_size=PAGE_SIZE):
        pass
    profiler.stop()
    out.append("### client: Entries.pages end to end (client process only)\n")
    out.append(profiler.output_text(unicode=True, color=False))
    return "\n".join(out)


def cprofile_client(reader: Person, circle_id: uuid.UUID, rows: list[dict[str, Any]]) -> str:
    import cProfile
    import io
    import pstats

    entries, circle = ready_entries(reader, circle_id, rows)
    prof = cProfile.Profile()
    prof.enable()
    for row in rows:
        entries.open(circle, row)
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
    return buf.getvalue()


def profile_server(database_url: str, world: CircleWorld, expected: int) -> str:
    """One SDK sync against a server child that runs every request on one thread under
    pyinstrument (so its times are a little lower than the threadpool's)."""
    with tempfile.TemporaryDirectory(prefix="bc-bench-prof-") as tmp:
        path = Path(tmp) / "server.txt"
        server = start_server(database_url, profile_out=str(path))
        try:
            reader = world.reader
            client = Client(server.url, token=reader.client.token)
            circles = Circles(
                client,
                username=reader.name,
                identity=reader.account.identity,
                trust=TrustStore.in_memory(),
            )
            read = sum(1 for _ in Entries(circles).pages(world.circle_id, page_size=PAGE_SIZE))
            if read != expected:
                raise RuntimeError("profiled sync read the wrong number of entries")
            client.close()
        finally:
            server.stop()
        return path.read_text() if path.exists() else "(no server profile written)"


# -- the run --------------------------------------------------------------------------------


@dataclass
class EngineResult:
    engine: str
    entries: int
    setup: dict[str, float]
    sdk: list[Timing] = field(default_factory=list)
    raw: list[Timing] = field(default_factory=list)
    open: list[Timing] = field(default_factory=list)
    fetch: list[Timing] = field(default_factory=list)
    inter_open: list[Timing] = field(default_factory=list)
    inter_raw: list[Timing] = field(default_factory=list)
    inter_proto: list[Timing] = field(default_factory=list)
    pipelined: list[Timing] = field(default_factory=list)
    load: list[float] = field(default_factory=list)
    stages: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    profile: str = ""


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def med(timings: list[Timing], attr: str = "wall") -> float:
    return float(statistics.median(getattr(t, attr) for t in timings))


def run_engine(engine_name: str, n: int, runs: int, profile: bool) -> EngineResult:
    setup: dict[str, float] = {}
    with fresh_database(engine_name) as url:
        t = time.perf_counter()
        server = start_server(url)
        setup["start server"] = time.perf_counter() - t
        try:
            t = time.perf_counter()
            world = build_circle(server.url)
            setup["register 2 users (Argon2id), create circle, invite + confirm"] = (
                time.perf_counter() - t
            )
            t = time.perf_counter()
            post_via_api(world)
            setup[f"post {world.posted_via_api} entries via the API"] = time.perf_counter() - t
            # The API-posted ones must read back through the SDK before we trust the factory.
            check = list(Entries(world.reader.circles).pages(world.circle_id))
            if len(check) != world.posted_via_api:
                raise RuntimeError("the API-posted entries did not read back")
            t = time.perf_counter()
            sealed = seal_bulk(world, n - world.posted_via_api, start=world.posted_via_api)
            setup["seal the rest with app.crypto.entries.seal"] = time.perf_counter() - t
            t = time.perf_counter()
            insert_sealed(url, world, sealed)
            setup["SQL insert"] = time.perf_counter() - t
            del sealed
            result = EngineResult(engine_name, n, setup)
            reader, cid = world.reader, world.circle_id

            rows = fetch_rows(reader, cid)
            if len(rows) != n:
                raise RuntimeError(f"fetched {len(rows)} rows, expected {n}")
            circle = reader.circles.sync(cid)
            key, inputs = raw_inputs(circle, rows)
            sdk_sync(reader, cid, n)  # warm-up: imports, caches, connections
            raw_crypto(key, inputs)
            for run in range(runs):
                result.load.append(os.getloadavg()[0])
                gc.collect()
                result.raw.append(raw_crypto(key, inputs))
                gc.collect()
                result.sdk.append(sdk_sync(reader, cid, n))
                gc.collect()
                result.open.append(open_only(reader, cid, rows))
                gc.collect()
                result.fetch.append(fetch_only(reader, cid))
                gc.collect()
                c, fixed, b = interleaved(reader, cid, rows, key, inputs)
                result.inter_open.append(c)
                result.inter_proto.append(fixed)
                result.inter_raw.append(b)
                gc.collect()
                result.pipelined.append(pipelined_sync(reader, cid, n))
                a, r, o, f = result.sdk[-1], result.raw[-1], result.open[-1], result.fetch[-1]
                print(
                    f"  [{engine_name}] run {run + 1}/{runs} (load {result.load[-1]:.2f}): "
                    f"sdk {a.wall:.3f}s (client cpu {a.cpu:.3f}s, server cpu {a.server_cpu:.3f}s)"
                    f" raw {r.wall:.3f}s (cpu {r.cpu:.3f}s) open {o.wall:.3f}s "
                    f"(cpu {o.cpu:.3f}s) fetch {f.wall:.3f}s (server {f.server_wall:.3f}s, "
                    f"db {f.server_db:.3f}s) interleaved open/fixed/raw cpu {c.cpu:.3f}/"
                    f"{fixed.cpu:.3f}/{b.cpu:.3f}s pipelined {result.pipelined[-1].wall:.3f}s",
                    file=sys.stderr,
                )
            result.stages = stage_breakdown(reader, cid, rows, key, inputs)
            if profile:
                result.profile = profile_client(reader, cid, rows)
        finally:
            server.stop()
        if profile:
            result.profile += "\n### server: one Entries.pages sync (all requests on one thread)\n"
            result.profile += profile_server(url, world, n)
        for p in world.people.values():
            p.client.close()
    return result


def report(results: list[EngineResult], runs: int) -> str:
    lines = [
        f"Commit {git_head()}. Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, PyNaCl {nacl.__version__}. Medians of {runs} runs. "
        "Wall = elapsed time; CPU = this (client) process's CPU time.",
        "",
        "| engine | entries | (a) SDK `pages()` wall | (b) raw PyNaCl wall | **(a)/(b)** "
        "| (a) client CPU + server CPU | (c) `Entries.open` only | **(c)/(b)** "
        "| (d) fetch only (HTTP + server + JSON) | server time in (d) | DB time in (d) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        a, b, c, d = med(r.sdk), med(r.raw), med(r.open), med(r.fetch)
        lines.append(
            f"| {r.engine} | {r.entries:,} | {a:.3f} s | {b:.3f} s | **{a / b:.2f}x** "
            f"| {med(r.sdk, 'cpu'):.3f} s + {med(r.sdk, 'server_cpu'):.3f} s "
            f"| {c:.3f} s | **{c / b:.2f}x** | {d:.3f} s ({r.fetch[0].requests} requests) "
            f"| {med(r.fetch, 'server_wall'):.3f} s | {med(r.fetch, 'server_db'):.3f} s |"
        )
    lines += [
        "",
        "Client-side only, CPU time, the three interleaved every 250 entries (same machine "
        "load for all); the prototype is NOT the SDK (see `prototype_open`), it sizes the fixes:",
        "",
        "| engine | (c) `Entries.open` | (b) raw PyNaCl | **(c)/(b)** | per-run (c)/(b) "
        "| prototype open with fixes | prototype/(b) |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in results:
        c, b, f = med(r.inter_open, "cpu"), med(r.inter_raw, "cpu"), med(r.inter_proto, "cpu")
        per = ", ".join(
            f"{x.cpu / y.cpu:.2f}" for x, y in zip(r.inter_open, r.inter_raw, strict=True)
        )
        lines.append(
            f"| {r.engine} | {c:.3f} s | {b:.3f} s | **{c / b:.2f}x** | {per} "
            f"| {f:.3f} s | {f / b:.2f}x |"
        )
    lines += [
        "",
        "Prototype of overlapping HTTP with verification (next page fetched in a thread while "
        "the current one is opened; NOT the SDK), wall:",
        "",
        "| engine | (a) SDK `pages()` | pipelined prototype | pipelined/(b) |",
        "|---|---:|---:|---:|",
    ]
    for r in results:
        a, pl, b = med(r.sdk), med(r.pipelined), med(r.raw)
        lines.append(f"| {r.engine} | {a:.3f} s | {pl:.3f} s | {pl / b:.2f}x |")
    lines += ["", "Per run, wall: (a)/(b) and (c)/(b), with the 1-minute load average:", ""]
    for r in results:
        per = "; ".join(
            f"{a.wall / b.wall:.2f} / {c.wall / b.wall:.2f} (load {ld:.1f})"
            for a, b, c, ld in zip(r.sdk, r.raw, r.open, r.load, strict=True)
        )
        lines.append(f"* {r.engine}: {per}")
    for r in results:
        lines += [
            "",
            f"Stage breakdown of `Entries.open` ({r.engine}, {r.entries:,} rows, CPU seconds, "
            "best of 3), next to the raw binding for the same crypto:",
            "",
            "| stage | SDK CPU s | µs/entry | raw binding CPU s | µs/entry |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, (sdk_s, raw_s) in r.stages.items():
            raw_txt = (
                f"{raw_s:.3f} | {raw_s / r.entries * 1e6:.1f}" if raw_s is not None else "- | -"
            )
            lines.append(f"| {name} | {sdk_s:.3f} | {sdk_s / r.entries * 1e6:.1f} | {raw_txt} |")
        lines += [
            "",
            "Setup (not measured): " + "; ".join(f"{k} {v:.1f} s" for k, v in r.setup.items()),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="pyinstrument, client and server")
    parser.add_argument("--profile-file", help="write the profiles here instead of stdout")
    parser.add_argument(
        "--serve", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--server-profile", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.server_profile)
        return 0

    results = []
    for engine_name in [e.strip() for e in args.engines.split(",") if e.strip()]:
        if engine_name == "postgresql":
            why = postgres_unavailable(postgres_url())
            if why:
                print(f"PostgreSQL skipped: {why}", file=sys.stderr)
                continue
        print(f"{engine_name}: building {args.entries:,} entries ...", file=sys.stderr)
        results.append(run_engine(engine_name, args.entries, args.runs, args.profile))
    text = report(results, args.runs)
    print(text)
    met = all(med(r.sdk) / med(r.raw) <= TARGET_RATIO for r in results)
    print(f"\nTarget (a)/(b) <= {TARGET_RATIO}: {'met' if met else 'NOT met'}")
    if args.profile:
        profiles = "\n\n".join(f"## {r.engine}\n\n{r.profile}" for r in results)
        if args.profile_file:
            Path(args.profile_file).write_text(profiles)
            print(f"profiles written to {args.profile_file}")
        else:
            print("\n" + profiles)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
