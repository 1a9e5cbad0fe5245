"""End-to-end cost of a circle key rotation, from 100 to 10,000 members.

Run from the repository root::

    .venv/bin/python -m bench.rotation                 # SQLite, and PostgreSQL if reachable
    .venv/bin/python -m bench.rotation --sizes 10000 --runs 5 --engines sqlite
    .venv/bin/python -m bench.rotation --profile --sizes 10000 --runs 1   # cProfile, all threads

What is measured (and what is not) is described in docs/benchmarks.md. In short:

* the server is the real app (``create_app``) served by uvicorn on 127.0.0.1 (in a child
  process, or in a thread with ``--server thread``), on a freshly migrated database: a SQLite
  file in a temporary directory, and a temporary PostgreSQL database ``bc_bench_<pid>`` when
  ``BACKCHANNEL_BENCH_POSTGRES_URL`` (or the default URL) answers;
* the owner registers through the API (real Argon2id) and creates the circle through the API
  with a real signed record 0; the other N-1 members (real identities), their memberships, a
  signed record 1 listing all N members and their epoch-0 wraps are inserted directly (setup,
  not measured);
* each measured rotation is an owner's client over HTTP with httpx, in two variants:
  ``steps`` does the work step by step and times each (fetch the circle, the newest record and
  the members; check every member's keys against the fingerprint in the signed record;
  generate a key; seal N wraps; sign the next record; seal the previous key; upload; wait for
  the 200), and ``sdk`` runs the reference client's ``Circles.rotate``. Rotations are chained
  on the same circle (record seq and epoch +1 each time).

The exit status is 1 if a 10,000-member rotation took longer than 3 s.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine, event, insert, select, update

from app.accounts.models import User
from app.circles.models import Circle, KeyRecordRow, Membership, Wrap
from app.client.circles import Circles
from app.client.sdk import Client
from app.client.trust import TrustStore
from app.crypto import IdentityKeys, PublicIdentity, b64decode, b64encode, fingerprint
from app.crypto.bundle import BUNDLE_BYTES
from app.crypto.circles import (
    CircleKey,
    KeyRecord,
    RecordMember,
    seal_circle_meta,
    seal_previous_key,
    seal_wrap,
)
from app.db import make_engine, utcnow
from app.main import create_app
from app.settings import Settings
from bench.common import fresh_database, usable_engines

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-long-enough-xxxxxxxx"
OWNER = "owner"
OWNER_PASSPHRASE = "bench passphrase horse battery"
DEFAULT_SIZES = (100, 1000, 5000, 10000)
TARGET_SECONDS = 3.0
ROTATE_PATH_SUFFIX = "/rotate"

PHASES = ("fetch", "verify", "seal", "sign", "encode", "upload")
PHASE_TITLES = {
    "fetch": "GET circle + latest record + members (HTTP + JSON parse)",
    "verify": "parse/verify record, check every member's keys against its fingerprint",
    "seal": "generate key, seal N wraps",
    "sign": "build + sign record, seal previous key",
    "encode": "build the JSON body (base64 + json.dumps)",
    "upload": "POST /rotate until the 200 (upload + server)",
}


# -- timing helpers ------------------------------------------------------------------------


class Stopwatch:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()
        self.start = self._last

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now

    @property
    def total(self) -> float:
        return self._last - self.start


class ServerTimer:
    """ASGI wrapper (outermost, around the app's own middleware) that reports on every response,
    in headers, how long the server took (request start to response start), its CPU time, and
    the time spent inside database calls (SQLAlchemy cursor hooks). One request at a time.
    Headers work the same whether the server runs in a thread or in its own process."""

    def __init__(self, app: Any, engine: Engine) -> None:
        self.app = app
        self.db_seconds = 0.0
        self.db_statements = 0
        self._active = False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(
        self, conn: Any, cursor: Any, statement: Any, params: Any, context: Any, executemany: bool
    ) -> None:
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def _after(
        self, conn: Any, cursor: Any, statement: Any, params: Any, context: Any, executemany: bool
    ) -> None:
        started = conn.info["bench_t0"].pop()
        if self._active:
            self.db_seconds += time.perf_counter() - started
            self.db_statements += 1

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, cpu_started = time.perf_counter(), time.process_time()
        self.db_seconds, self.db_statements, self._active = 0.0, 0, True

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                self._active = False
                figures = {
                    SERVER_SECONDS: time.perf_counter() - started,
                    SERVER_CPU: time.process_time() - cpu_started,
                    DB_SECONDS: self.db_seconds,
                    DB_STATEMENTS: self.db_statements,
                }
                headers = list(message.get("headers", []))
                headers += [(k.encode(), f"{v:.6f}".encode()) for k, v in figures.items()]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            self._active = False


SERVER_SECONDS = "x-bench-server-seconds"
SERVER_CPU = "x-bench-server-cpu-seconds"
DB_SECONDS = "x-bench-db-seconds"
DB_STATEMENTS = "x-bench-db-statements"


@dataclass
class ServerFigures:
    seconds: float = 0.0
    cpu: float = 0.0
    db_seconds: float = 0.0
    db_statements: int = 0

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> ServerFigures:
        return cls(
            float(headers.get(SERVER_SECONDS, 0)),
            float(headers.get(SERVER_CPU, 0)),
            float(headers.get(DB_SECONDS, 0)),
            int(float(headers.get(DB_STATEMENTS, 0))),
        )


# -- databases -----------------------------------------------------------------------------


# -- server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    url: str
    in_process: bool  # a uvicorn thread in this process, or a uvicorn child process
    stop: Callable[[], None]


def _serve(database_url: str, port: int) -> uvicorn.Server:
    settings = Settings(database_url=database_url, secret_key=SECRET)
    app = create_app(settings)
    config = uvicorn.Config(
        ServerTimer(app, app.state.engine),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    return uvicorn.Server(config)


def start_server(database_url: str, *, in_process: bool) -> LiveServer:
    """Uvicorn serving ``create_app`` on a free loopback port: in a child process by default
    (the server's heap, GC and interpreter are its own, as in production), or in a thread of
    this process (needed for ``--profile``)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    if in_process:
        server = _serve(database_url, port)
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

        def stop_thread() -> None:
            server.should_exit = True
            thread.join(timeout=30)

        return LiveServer(url, True, stop_thread)

    child = subprocess.Popen(
        [sys.executable, "-m", "bench.rotation", "--serve", database_url, str(port)],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            raise RuntimeError("the uvicorn child process did not start")
        time.sleep(0.1)

    def stop_child() -> None:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    return LiveServer(url, False, stop_child)


# -- the world: owner through the API, everyone else through the factory --------------------


@dataclass
class World:
    engine_name: str
    size: int
    circle_id: uuid.UUID
    owner: str
    identity: IdentityKeys
    token: str
    key: CircleKey  # the current epoch's key, as the owner's client holds it
    setup_seconds: dict[str, float] = field(default_factory=dict)


def _api_retry(what: str, call: Callable[[], Any], *, attempts: int = 5, wait: float = 60.0) -> Any:
    """The API is being written concurrently: on a server error, wait and try again."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            status = getattr(exc, "status", None) or getattr(
                getattr(exc, "response", None), "status_code", None
            )
            if attempt == attempts or (status is not None and status < 500 and status != 404):
                raise
            print(
                f"  {what} failed ({type(exc).__name__}: {exc}); retrying in {wait:.0f}s",
                file=sys.stderr,
            )
            time.sleep(wait)
    raise AssertionError("unreachable")


def _member_name(i: int) -> str:
    return f"m{i:05d}"


def build_world(engine_name: str, size: int, database_url: str, base_url: str) -> World:
    timings: dict[str, float] = {}

    # 1. The owner registers through the real API (client-side Argon2id, server-side Argon2).
    t = time.perf_counter()
    with Client(base_url) as client:
        account = _api_retry("register", lambda: client.register(OWNER, OWNER_PASSPHRASE))
    timings["register"] = time.perf_counter() - t
    identity = account.identity
    owner_fp = account.fingerprint

    # 2. The circle, with a real signed record 0, through the API.
    t = time.perf_counter()
    circle_id = uuid.uuid4()
    key = CircleKey.generate()
    record0 = KeyRecord(
        circle_id, 0, 0, key.key_id, (RecordMember(OWNER, owner_fp, "owner"),), None, OWNER
    )
    body = {
        "circle_id": str(circle_id),
        "record": record0.to_bytes().decode(),
        "signature": b64encode(record0.sign(identity)),
        "wrap": b64encode(
            seal_wrap(
                key, circle_id=circle_id, epoch=0, recipient=bytes(identity.box_key.public_key)
            )
        ),
        "meta": b64encode(
            seal_circle_meta(key, circle_id=circle_id, epoch=0, meta={"name": f"bench {size}"})
        ),
    }
    with Client(base_url, token=account.token) as client:
        _api_retry("create circle", lambda: client.request("POST", "/v1/circles", json=body))
    timings["create_circle"] = time.perf_counter() - t

    # 3. N-1 more members with real identities (the factory: setup, not measured).
    t = time.perf_counter()
    others = []
    for i in range(1, size):
        public = IdentityKeys.generate().public()
        others.append((_member_name(i), public))
    timings["generate_identities"] = time.perf_counter() - t

    t = time.perf_counter()
    engine = make_engine(database_url)
    now = utcnow()
    user_rows: list[dict[str, Any]] = []
    for name, public in others:
        user_rows.append(
            {
                "id": uuid.uuid4(),
                "username": name,
                "kdf_salt": secrets.token_bytes(16),
                "kdf_opslimit": 3,
                "kdf_memlimit": 64 * 1024 * 1024,
                "auth_hash": "$argon2id$bench-not-a-real-hash",
                "x25519_public": public.x25519_public,
                "ed25519_public": public.ed25519_public,
                "x25519_signature": public.x25519_signature,
                "key_bundle": secrets.token_bytes(BUNDLE_BYTES),
                "recovery_auth_hash": "$argon2id$bench-not-a-real-hash",
                "recovery_bundle": secrets.token_bytes(BUNDLE_BYTES),
                "created_at": now,
                "credentials_changed_at": now,
            }
        )
    members = sorted(
        [RecordMember(OWNER, owner_fp, "owner")]
        + [RecordMember(name, public.fingerprint(), "member") for name, public in others]
    )
    record1 = KeyRecord(circle_id, 1, 0, key.key_id, tuple(members), record0.hash(), OWNER)
    with engine.begin() as conn:
        owner_id = conn.execute(select(User.id).where(User.username == OWNER)).scalar_one()
        if user_rows:
            conn.execute(insert(User), user_rows)
            conn.execute(
                insert(Membership),
                [
                    {
                        "circle_id": circle_id,
                        "user_id": row["id"],
                        "role": "member",
                        "status": "active",
                        "invite_id": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for row in user_rows
                ],
            )
            conn.execute(
                insert(Wrap),
                [
                    {
                        "circle_id": circle_id,
                        "epoch": 0,
                        "user_id": row["id"],
                        "wrap": secrets.token_bytes(124),
                    }
                    for row in user_rows
                ],
            )
        conn.execute(
            insert(KeyRecordRow),
            [
                {
                    "circle_id": circle_id,
                    "seq": 1,
                    "epoch": 0,
                    "record": record1.to_bytes(),
                    "signature": record1.sign(identity),
                    "signer_id": owner_id,
                    "created_at": now,
                }
            ],
        )
        conn.execute(update(Circle).where(Circle.id == circle_id).values(record_seq=1))
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    timings["insert_rows"] = time.perf_counter() - t
    return World(engine_name, size, circle_id, OWNER, identity, account.token, key, timings)


# -- one measured rotation -----------------------------------------------------------------


@dataclass
class Result:
    client: str  # "steps" (the brief's steps, timed one by one) or "sdk" (Circles.rotate)
    engine: str
    size: int
    run: int
    total: float
    phases: dict[str, float]
    server_seconds: float
    db_seconds: float
    db_statements: int
    body_bytes: int
    epoch: int
    cpu_seconds: float  # CPU time of the client and of the server during the rotation
    load_before: float  # 1-minute load average when the rotation started


def rotate_once(
    world: World,
    http: httpx.Client,
    server: LiveServer,
    run: int,
    log: ServerLog,
    *,
    verify_identities: bool,
) -> Result:
    """One rotation exactly as the owner's client performs it; every step is timed."""
    cid = world.circle_id
    log.reset()
    load_before = os.getloadavg()[0]
    cpu_start = time.process_time()
    clock = Stopwatch()

    # fetch: where the circle is, the record that authorises us, and who is in it.
    circle = _get(http, f"/v1/circles/{cid}")
    seq, epoch = int(circle["record_seq"]), int(circle["epoch"])
    records = _get(http, f"/v1/circles/{cid}/records", params={"after": seq - 1})
    members_json = _get(http, f"/v1/circles/{cid}/members")
    clock.lap("fetch")

    # verify: the latest record is signed by someone it lists as admin with that key, and every
    # active member's published keys hash to the fingerprint that record lists for them.
    latest_json = records[-1]
    if int(latest_json["seq"]) != seq:
        raise RuntimeError(f"expected record {seq}, the server returned {latest_json['seq']}")
    latest = KeyRecord.parse(latest_json["record"].encode("utf-8"))
    signer = _identity(latest_json["signer_identity"])
    by_user = {m.user: m for m in latest.members}
    listed_signer = by_user.get(latest.signer)
    if listed_signer is None or listed_signer.fp != signer.fingerprint():
        raise RuntimeError("the latest record's signer is not who it lists")
    latest.verify_signature(b64decode(latest_json["signature"]), signer)
    recipients: list[tuple[str, bytes]] = []
    for m in members_json:
        if m["status"] != "active":
            continue
        ident = m["identity"]
        x_pub = b64decode(ident["x25519_public"])
        ed_pub = b64decode(ident["ed25519_public"])
        if verify_identities:
            _identity(ident).verify()
        listed = by_user.get(m["username"])
        if listed is None or listed.fp != fingerprint(ed_pub, x_pub):
            raise RuntimeError(f"{m['username']}'s keys do not match the signed record")
        recipients.append((m["username"], x_pub))
    if len(recipients) != len(by_user):
        raise RuntimeError("the active members are not the members of the signed record")
    clock.lap("verify")

    # seal: a fresh key for epoch + 1, sealed to every member.
    new_epoch = epoch + 1
    new_key = CircleKey.generate()
    wraps = [
        (name, seal_wrap(new_key, circle_id=cid, epoch=new_epoch, recipient=x_pub))
        for name, x_pub in recipients
    ]
    clock.lap("seal")

    # sign: the next record lists the same members; the previous key rides along.
    record = KeyRecord(
        cid, seq + 1, new_epoch, new_key.key_id, latest.members, latest.hash(), world.owner
    )
    record_text = record.to_bytes().decode("utf-8")
    signature = record.sign(world.identity)
    prev_box = seal_previous_key(new_key, world.key, circle_id=cid, epoch=new_epoch)
    clock.lap("sign")

    body = json.dumps(
        {
            "record": record_text,
            "signature": b64encode(signature),
            "wraps": [{"username": name, "wrap": b64encode(w)} for name, w in wraps],
            "prev_key_box": b64encode(prev_box),
        },
        separators=(",", ":"),
    ).encode("utf-8")
    clock.lap("encode")

    response = http.post(
        f"/v1/circles/{cid}/rotate", content=body, headers={"content-type": "application/json"}
    )
    if response.status_code != 200:
        raise RuntimeError(f"rotate returned {response.status_code}: {response.text[:500]}")
    out = response.json()
    clock.lap("upload")
    cpu_seconds = time.process_time() - cpu_start

    if int(out["epoch"]) != new_epoch or int(out["record_seq"]) != seq + 1:
        raise RuntimeError(f"the server did not move to epoch {new_epoch}: {out}")
    world.key = new_key
    figures = log.rotate
    if not server.in_process:  # a thread's CPU time is already in this process's
        cpu_seconds += log.cpu
    return Result(
        "steps",
        world.engine_name,
        world.size,
        run,
        clock.total,
        dict(clock.laps),
        figures.seconds,
        figures.db_seconds,
        figures.db_statements,
        len(body),
        new_epoch,
        cpu_seconds,
        load_before,
    )


SDK_PHASES = ("sync", "build", "upload")
SDK_PHASE_TITLES = {
    "sync": "Circles.sync: GET circle, records, keys; check the pinned record; open the keys",
    "build": "GET members, verify each identity (Ed25519) and fingerprint, seal N wraps, sign",
    "upload": "POST /rotate until the 200 (upload + server)",
}


class ServerLog:
    """An httpx response hook that collects the server's figures for each response."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, ServerFigures]] = []

    def __call__(self, response: httpx.Response) -> None:
        self.entries.append(
            (response.request.url.path, ServerFigures.from_headers(response.headers))
        )

    def reset(self) -> None:
        self.entries.clear()

    @property
    def rotate(self) -> ServerFigures:
        found = [f for path, f in self.entries if path.endswith(ROTATE_PATH_SUFFIX)]
        return found[-1] if found else ServerFigures()

    @property
    def cpu(self) -> float:
        return sum(f.cpu for _, f in self.entries)


def rotate_once_sdk(
    world: World, circles: Circles, server: LiveServer, run: int, log: ServerLog
) -> Result:
    """The reference client's own rotation: ``Circles.rotate`` is exactly these three steps
    (sync, build the rotation, POST); they are called one by one to time them."""
    cid = world.circle_id
    log.reset()
    load_before = os.getloadavg()[0]
    cpu_start = time.process_time()
    clock = Stopwatch()
    circle = circles.sync(cid)
    clock.lap("sync")
    body = circles._rotation(circle, without=None)
    clock.lap("build")
    out = circles.client.request("POST", f"/v1/circles/{cid}/rotate", json=body)
    clock.lap("upload")
    cpu_seconds = time.process_time() - cpu_start
    new_epoch = circle.epoch + 1
    if int(out["epoch"]) != new_epoch:
        raise RuntimeError(f"the server did not move to epoch {new_epoch}: {out}")
    figures = log.rotate
    if not server.in_process:  # a thread's CPU time is already in this process's
        cpu_seconds += log.cpu
    return Result(
        "sdk",
        world.engine_name,
        world.size,
        run,
        clock.total,
        dict(clock.laps),
        figures.seconds,
        figures.db_seconds,
        figures.db_statements,
        len(json.dumps(body, separators=(",", ":"))),
        new_epoch,
        cpu_seconds,
        load_before,
    )


def sdk_catch_up(world: World, circles: Circles) -> None:
    """Not measured: bring the device's pin up to the newest record (as a client that has
    synced since the last change would be) and hand the current key to the steps client."""
    world.key = circles.sync(world.circle_id).key


def _get(http: httpx.Client, path: str, params: dict[str, Any] | None = None) -> Any:
    response = http.get(path, params=params)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} returned {response.status_code}: {response.text[:300]}")
    return response.json()


def _identity(data: dict[str, str]) -> PublicIdentity:
    return PublicIdentity(
        x25519_public=b64decode(data["x25519_public"]),
        ed25519_public=b64decode(data["ed25519_public"]),
        x25519_signature=b64decode(data["x25519_signature"]),
    )


# -- profiling: cProfile in every thread (client, uvicorn's loop, the sync-endpoint workers) ----


class ThreadProfiles:
    """The stdlib profilers see one thread, and the server's work happens in uvicorn's event
    loop thread and in the worker threads that run sync endpoints. Installed before the server
    starts, this gives each new thread its own ``cProfile.Profile``; the client's (main thread)
    profile covers the measured rotations only. cProfile slows pure-Python code down, so read
    the profile for proportions, not for absolute times."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.server: list[tuple[str, cProfile.Profile]] = []
        self.client = cProfile.Profile()

    def install(self) -> None:
        threading.setprofile(self._bootstrap)

    def uninstall(self) -> None:
        threading.setprofile(None)

    def _bootstrap(self, frame: Any, event: str, arg: Any) -> None:
        sys.setprofile(None)
        profile = cProfile.Profile()
        with self.lock:
            self.server.append((threading.current_thread().name, profile))
        profile.enable()

    def report(self, top: int = 35) -> str:
        out = io.StringIO()
        for title, profiles in (
            ("CLIENT (main thread, measured rotations only)", [self.client]),
            ("SERVER (all server threads, whole run incl. setup)", [p for _, p in self.server]),
        ):
            if not profiles:
                continue
            stats = pstats.Stats(profiles[0], stream=out)
            for extra in profiles[1:]:
                with contextlib.suppress(TypeError):  # a thread that never ran Python
                    stats.add(extra)
            out.write(f"\n===== {title}: by cumulative time =====\n")
            stats.sort_stats("cumulative").print_stats(top)
            out.write(f"\n===== {title}: by own time =====\n")
            stats.sort_stats("tottime").print_stats(top)
        return out.getvalue()


# -- driver --------------------------------------------------------------------------------


def _cpu_idle_fraction(sample: float = 1.0) -> float:
    """Share of all CPUs idle over ``sample`` seconds (Linux /proc/stat); 1.0 elsewhere."""

    def read() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    try:
        idle0, total0 = read()
        time.sleep(sample)
        idle1, total1 = read()
    except (OSError, ValueError, IndexError):
        return 1.0
    return (idle1 - idle0) / max(total1 - total0, 1)


def wait_for_idle(limit: float, threshold: float = 0.9) -> None:
    """On a shared machine, wait (up to ``limit`` seconds) until the CPUs are mostly idle."""
    deadline = time.monotonic() + limit
    while (idle := _cpu_idle_fraction()) < threshold:
        if time.monotonic() > deadline:
            print(f"  (CPUs still busy: {idle:.0%} idle; measuring anyway)", flush=True)
            return
        print(f"  (waiting for idle CPUs: {idle:.0%} idle)", flush=True)
        time.sleep(4)


def code_version() -> str:
    """The commit measured, and whether app/ differs from it (read-only git commands)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "app"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    return commit + (" with uncommitted changes in app/" if dirty else "")


def runs_for(size: int, override: int | None) -> int:
    if override is not None:
        return override
    return 5 if size <= 1000 else 3


def run_engine(
    engine_name: str,
    sizes: list[int],
    runs: int | None,
    *,
    clients: list[str],
    verify_identities: bool,
    profile: bool,
    in_process: bool,
    wait_idle: float = 0.0,
) -> list[Result]:
    results: list[Result] = []
    for size in sizes:
        with fresh_database(engine_name) as url:
            profiles = ThreadProfiles() if profile else None
            if profiles:
                profiles.install()
            server = start_server(url, in_process=in_process or profile)
            try:
                world = build_world(engine_name, size, url, server.url)
                setup = ", ".join(f"{k} {v:.2f}s" for k, v in world.setup_seconds.items())
                print(f"[{engine_name} N={size}] setup: {setup}", flush=True)
                headers = {"Authorization": f"Bearer {world.token}"}
                log = ServerLog()
                http = httpx.Client(
                    base_url=server.url,
                    headers=headers,
                    timeout=120,
                    event_hooks={"response": [log]},
                )
                sdk_http = httpx.Client(timeout=120, event_hooks={"response": [log]})
                sdk_client = Client(server.url, token=world.token, http=sdk_http)
                circles = Circles(
                    sdk_client,
                    username=world.owner,
                    identity=world.identity,
                    trust=TrustStore.in_memory(),
                )
                try:
                    for client in clients:
                        if client == "sdk":
                            sdk_catch_up(world, circles)
                        for run in range(1, runs_for(size, runs) + 1):
                            if wait_idle:
                                wait_for_idle(wait_idle)
                            if profiles:
                                profiles.client.enable()
                            try:
                                if client == "sdk":
                                    result = rotate_once_sdk(world, circles, server, run, log)
                                else:
                                    result = rotate_once(
                                        world,
                                        http,
                                        server,
                                        run,
                                        log,
                                        verify_identities=verify_identities,
                                    )
                            finally:
                                if profiles:
                                    profiles.client.disable()
                            results.append(result)
                            print(_row(result), flush=True)
                            if client == "sdk":
                                sdk_catch_up(world, circles)
                finally:
                    http.close()
                    sdk_http.close()
            finally:
                server.stop()
                if profiles:
                    profiles.uninstall()
            if profiles:
                print(
                    f"\n##### profile: {engine_name}, {size} members "
                    "(cProfile overhead inflates pure-Python code) #####"
                )
                print(profiles.report(), flush=True)
    return results


def _row(r: Result) -> str:
    phases = " ".join(f"{p}={v * 1000:7.1f}" for p, v in r.phases.items())
    return (
        f"  {r.client} run {r.run}: total {r.total:6.3f}s | {phases} ms"
        f" | server {r.server_seconds:6.3f}s"
        f" (db {r.db_seconds:6.3f}s, {r.db_statements} stmts) | body {r.body_bytes / 1e6:.2f} MB"
        f" | cpu {r.cpu_seconds:6.3f}s | load {r.load_before:.2f}"
    )


def summary_table(results: list[Result], client: str) -> str:
    """One Markdown table for one client mode; phase columns are that mode's steps."""
    phases = SDK_PHASES if client == "sdk" else PHASES
    titles = {"seal": "seal wraps", "upload": "upload + server"}
    groups: dict[tuple[str, int], list[Result]] = collections.defaultdict(list)
    for r in results:
        if r.client == client:
            groups[(r.engine, r.size)].append(r)
    head = (
        "| engine | members | runs | median total (s) | max total (s) | "
        + " | ".join(titles.get(p, p) for p in phases)
        + " | of which server | of which DB | body (MB) | µs per member | CPU client+server (s) "
        "| load avg |"
    )
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for (engine, size), rs in groups.items():

        def med(value: Callable[[Result], float], rs: list[Result] = rs) -> float:
            return statistics.median(value(r) for r in rs)

        total = med(lambda r: r.total)
        cells = [
            engine,
            f"{size:,}",
            str(len(rs)),
            f"{total:.3f}",
            f"{max(r.total for r in rs):.3f}",
            *(f"{statistics.median(r.phases[p] for r in rs) * 1000:.0f} ms" for p in phases),
            f"{med(lambda r: r.server_seconds) * 1000:.0f} ms",
            f"{med(lambda r: r.db_seconds) * 1000:.0f} ms",
            f"{med(lambda r: r.body_bytes) / 1e6:.2f}",
            f"{total / size * 1e6:.0f}",
            f"{med(lambda r: r.cpu_seconds):.3f}",
            f"{max(r.load_before for r in rs):.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.rotation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated circle sizes (default: %(default)s)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="rotations per size (default: 5 up to 1,000 members, else 3)",
    )
    parser.add_argument(
        "--engines",
        default="sqlite,postgresql",
        help="sqlite, postgresql or both (PostgreSQL is skipped if unreachable)",
    )
    parser.add_argument(
        "--server",
        choices=("process", "thread"),
        default="process",
        help="run uvicorn in a child process (default) or in a thread of this process "
        "(--profile always uses a thread)",
    )
    parser.add_argument(
        "--serve", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--clients",
        default="steps,sdk",
        help="steps (the rotation done step by step, each timed), sdk (the reference "
        "client's Circles.rotate), or both (default: %(default)s)",
    )
    parser.add_argument(
        "--verify-identities",
        action="store_true",
        help="also verify every member's identity signature (Ed25519) on the client, as "
        "docs/protocol.md §4 asks of every identity a client receives (the fingerprint check "
        "alone already binds both keys to the signed record); off by default",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile every thread (client and server) and print where the time goes",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each rotation, wait up to SECONDS for the CPUs to be 90%% idle "
        "(for shared machines; default: do not wait)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    args = parser.parse_args(argv)
    if args.serve:  # the child process of --server process
        _serve(args.serve[0], int(args.serve[1])).run()
        return 0
    # SIGTERM unwinds like Ctrl-C, so temporary databases and the server process are removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    if not set(clients) <= {"steps", "sdk"}:
        parser.error("--clients takes steps, sdk or both")
    print(f"Backchannel rotation benchmark — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    engines = usable_engines(",".join(engines))
    import sqlite3

    print(f"SQLite {sqlite3.sqlite_version}")
    print(f"code: {code_version()}")
    server_mode = "thread" if args.profile else args.server
    where = "a thread of this process" if server_mode == "thread" else "a child process"
    print(f"server: uvicorn in {where}")

    results: list[Result] = []
    for engine_name in engines:
        results += run_engine(
            engine_name,
            sizes,
            args.runs,
            clients=clients,
            verify_identities=args.verify_identities,
            profile=args.profile,
            in_process=args.server == "thread",
            wait_idle=args.wait_idle,
        )

    for client in clients:
        print(
            f"\nclient: {client} — "
            + (
                "; ".join(
                    f"{p}: {t}"
                    for p, t in (SDK_PHASE_TITLES if client == "sdk" else PHASE_TITLES).items()
                )
            )
        )
        print(summary_table(results, client))
    worst = [r for r in results if r.size >= 10000 and r.total > TARGET_SECONDS]
    if any(r.size >= 10000 for r in results):
        print(
            f"\n10,000-member target ≤ {TARGET_SECONDS:.0f} s: "
            + ("MET" if not worst else f"MISSED in {len(worst)} run(s)")
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump([r.__dict__ for r in results], fh, indent=1)
    return 1 if worst else 0


if __name__ == "__main__":
    raise SystemExit(main())
