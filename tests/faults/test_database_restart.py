"""PostgreSQL stopped and started again under load, behind one live server process.

Three members post and read warnings through the SDK, without pause, while the database
goes down (an immediate shutdown: backends killed mid-transaction, like a crash) and comes
back. Every request ends promptly, either in success or in a clean ``503
database_unavailable``; the same server process serves again as soon as the database is
back (the pool pings a connection the server closed, ``app.db._ping_when_idle``); every
acknowledged warning is there exactly once, readable and verified; and no warning is
half-stored.

The database is a throwaway cluster on its own port, so no other test's server restarts.
"""

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.circles.models import Circle
from app.client.entries import Entries
from app.client.errors import ApiError, ClientError
from app.db import make_engine
from app.entries.models import Entry
from app.migrate import upgrade
from tests.conftest import REQUIRE_POSTGRES, Person, _free_port
from tests.faults.conftest import ServerProcess, circle_of, register

OUTAGE_SECONDS = 1.5
SLOWEST_ANSWER_SECONDS = 10.0  # a request that waits longer than this counts as a hang


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary directory (as ``postgres`` when root)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="bc-faults-pg-"))
        self.port = _free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user is not None:
            shutil.chown(self.root, self.user, self.user)
        self._run("initdb", "-D", "data", "-U", "postgres", "-A", "trust", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(self.bindir / tool), *args],
            cwd=self.root,
            user=self.user,
            group=self.user,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", "data", "-l", "log", "-o", options, "-w", "start")

    def crash(self) -> None:
        """Immediate shutdown: backends die without finishing, recovery runs on start."""
        self._run("pg_ctl", "-D", "data", "-m", "immediate", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        with suppress(subprocess.CalledProcessError):  # already stopped
            self._run("pg_ctl", "-D", "data", "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _bindir()
    if bindir is None or not (bindir / "initdb").exists():
        if REQUIRE_POSTGRES:
            pytest.fail("PostgreSQL is required but its server binaries (initdb) are not found")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")
    cluster = PrivatePostgres(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@dataclass(frozen=True)
class Outcome:
    who: str
    operation: str  # post | read
    text: str | None  # the warning a post tried to store
    status: int
    code: str | None
    at: float
    seconds: float


class Load:
    """Members posting and reading without pause, each on their own thread and connection."""

    def __init__(self, people: list[Person], circle_id: uuid.UUID) -> None:
        self.circle_id = circle_id
        self.outcomes: list[Outcome] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(p,)) for p in people]

    def _record(
        self, who: str, operation: str, text: str | None, call: Callable[[], object]
    ) -> None:
        started = time.monotonic()
        try:
            call()
            status, code = 200, None
        except ApiError as exc:
            status, code = exc.status, exc.code
        except ClientError as exc:  # unreachable, timed out, or a failed check: never expected
            status, code = 0, f"{type(exc).__name__}: {exc}"
        self.outcomes.append(
            Outcome(who, operation, text, status, code, started, time.monotonic() - started)
        )
        if status != 200:
            time.sleep(0.02)  # a client backs off a little before it tries again

    def _run(self, person: Person) -> None:
        entries = Entries(person.circles)
        path = f"/v1/circles/{self.circle_id}/entries"
        read = partial(person.client.request, "GET", path, params={"after": 0, "limit": 50})
        for n in itertools.count():
            if self.stop.is_set():
                return
            text = f"{person.name} warning {n}"
            post = partial(
                entries.post, self.circle_id, subject="Jan Novák", text=text, categories=["other"]
            )
            self._record(person.name, "post", text, post)
            self._record(person.name, "read", None, read)

    def posted_since(self, moment: float) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in list(self.outcomes):
            if o.operation == "post" and o.status == 200 and o.at >= moment:
                counts[o.who] = counts.get(o.who, 0) + 1
        return counts

    def wait_for_posts(self, moment: float, people: int, each: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            counts = self.posted_since(moment)
            if len(counts) == people and min(counts.values()) >= each:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"successful posts since then: {counts}")
            time.sleep(0.05)


def stored_entries(database_url: str, circle_id: uuid.UUID) -> tuple[list[int], int, list[int]]:
    """(every entry's seq, the circle's seq counter, every entry's change number, the
    circle's change counter) as stored."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            seqs = list(
                session.scalars(
                    select(Entry.seq).where(Entry.circle_id == circle_id).order_by(Entry.seq)
                )
            )
            circle = session.get_one(Circle, circle_id)
            changes = list(
                session.scalars(
                    select(Entry.change_seq)
                    .where(Entry.circle_id == circle_id)
                    .order_by(Entry.change_seq)
                )
            )
            return seqs, circle.entry_seq, changes, circle.change_seq
    finally:
        engine.dispose()


def test_postgres_restart_under_load_loses_nothing_acknowledged(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    url = private_postgres.create_database("backchannel")
    upgrade(url)
    server = ServerProcess(url, tmp_path)
    server.start()
    try:
        people = [register(server.url, name) for name in ("alice", "bob", "carol")]
        cid = circle_of(*people)
        load = Load(people, cid)
        for thread in load.threads:
            thread.start()
        try:
            began = time.monotonic()
            load.wait_for_posts(began, len(people), each=2, timeout=20)

            crashing = time.monotonic()
            private_postgres.crash()
            health_down = httpx.get(f"{server.url}/healthz", timeout=5)
            time.sleep(OUTAGE_SECONDS)
            private_postgres.start()
            up = time.monotonic()

            # The same process serves again, without a restart, for every member.
            load.wait_for_posts(up, len(people), each=3, timeout=20)
        finally:
            load.stop.set()
            for thread in load.threads:
                thread.join(timeout=30)
        assert server.running and server.starts == 1
        assert (health_down.status_code, health_down.json()) == (503, {"status": "unavailable"})
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200

        outcomes = load.outcomes
        failed = [o for o in outcomes if o.status != 200]
        assert failed, "no request met the outage"
        # Only what met the outage failed: once the database is back, nothing does.
        assert all(o.at + o.seconds >= crashing and o.at < up for o in failed), failed
        assert {(o.status, o.code) for o in failed} == {(503, "database_unavailable")}, failed
        slowest = max(o.seconds for o in outcomes)
        assert slowest < SLOWEST_ANSWER_SECONDS, slowest

        # Nothing acknowledged is lost; what failed is either all there or not at all.
        acknowledged = [o.text for o in outcomes if o.operation == "post" and o.status == 200]
        attempted = {o.text for o in outcomes if o.operation == "post"}
        stored = [e.text for e in Entries(people[0].circles).pages(cid)]  # opened and verified
        assert len(stored) == len(set(stored))
        assert set(acknowledged) <= set(stored) <= attempted
        seqs, counter, changes, change_counter = stored_entries(url, cid)
        assert seqs == list(range(1, counter + 1)) and len(seqs) == len(stored)
        # Every post was one change, stamped under the same lock as its seq.
        assert changes == seqs and change_counter == counter

        # And everyone carries on.
        for person in people:
            Entries(person.circles).post(
                cid, subject="Jan Novák", text=f"{person.name} after", categories=["other"]
            )
        assert len(list(Entries(people[1].circles).pages(cid))) == len(stored) + len(people)
    finally:
        server.stop()


def test_a_postgres_restart_while_idle_goes_unnoticed(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    """The pooled connections die with the database; the pool sees their sockets closed,
    pings them and replaces them, so the first request after the restart already succeeds."""
    url = private_postgres.create_database("backchannel")
    upgrade(url)
    server = ServerProcess(url, tmp_path)
    server.start()
    try:
        alice = register(server.url, "alice")
        cid = circle_of(alice)
        entries = Entries(alice.circles)
        entries.post(cid, subject="Jan Novák", text="before", categories=["other"])

        private_postgres.crash()
        private_postgres.start()

        entries.post(cid, subject="Jan Novák", text="after", categories=["other"])
        assert [e.text for e in entries.pages(cid)] == ["before", "after"]
        assert server.running and server.starts == 1
    finally:
        server.stop()
