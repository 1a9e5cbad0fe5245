"""Fault tests run the server as a real process, so it can be killed and started again.

``ServerProcess`` starts ``backchannel-server serve`` (or ``tests.faults.halting_server``,
which freezes one request at a chosen point of its transaction) on a loopback port,
against the test's own database; ``kill()`` is SIGKILL, with no chance to clean up.
People are registered through the SDK over real HTTP with the real KDF.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.client.sdk import Client
from tests.conftest import TEST_SECRET, Person, _free_port, passphrase_for

REPO = Path(__file__).resolve().parents[2]
SERVER = shutil.which("backchannel-server", path=str(Path(sys.executable).parent))


def server_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "BACKCHANNEL_DATABASE_URL": database_url,
        "BACKCHANNEL_SECRET_KEY": TEST_SECRET,
        "BACKCHANNEL_SERVER_HASH_TIME_COST": "1",
        "BACKCHANNEL_SERVER_HASH_MEMORY_KIB": "1024",
        "BACKCHANNEL_PURGE_INTERVAL_SECONDS": "0",
    }


class ServerProcess:
    """One server process at a time on a fixed port, so clients keep their base URL."""

    def __init__(self, database_url: str, logs: Path) -> None:
        self.database_url = database_url
        self.logs = logs
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.ready = logs / "halted"
        self.starts = 0

    def start(self, *, halt: tuple[str, str, str] | None = None) -> None:
        """Serve; with ``halt=(method, path_regex, point)`` freeze the first matching request."""
        assert self.process is None
        assert SERVER is not None, "backchannel-server is not installed in this environment"
        if halt is None:
            command = [SERVER, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        else:
            self.ready.unlink(missing_ok=True)
            command = [sys.executable, "-m", "tests.faults.halting_server", str(self.port)]
            command += [*halt, str(self.ready)]
        self.starts += 1
        log = (self.logs / f"server-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            command, cwd=REPO, env=server_env(self.database_url), stdout=log, stderr=log
        )
        log.close()
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at startup:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{self.log()}")
            time.sleep(0.05)

    def wait_halted(self, timeout: float = 20) -> str:
        """Block until the marked request is frozen at its point; return the point."""
        deadline = time.monotonic() + timeout
        while not self.ready.exists():
            assert self.process is not None and self.process.poll() is None, self.log()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the request never reached its halt point:\n{self.log()}")
            time.sleep(0.01)
        return self.ready.read_text()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no rollback, no response."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        assert self.process.returncode == -signal.SIGKILL
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.logs.glob("server-*.log"))
        )


def assert_writes_uncommitted(database_url: str, *tables: str) -> None:
    """While a request is frozen before its commit: its transaction is open and holds its
    writes, so the kill lands in the middle of the use case, not before or after it."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        conn = sqlite3.connect(url.database, timeout=0)
        try:  # the frozen transaction holds the one write lock
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                conn.execute("BEGIN IMMEDIATE")
        finally:
            conn.close()
        return
    with psycopg.connect(database_url) as pg:
        written = pg.execute(
            "SELECT l.relation::regclass::text FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE a.datname = current_database() AND a.state = 'idle in transaction'"
            " AND l.mode = 'RowExclusiveLock'"
        ).fetchall()
    assert set(tables) <= {table for (table,) in written}


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server process for this test's database (stopped before the database is dropped)."""
    logs = tmp_path / f"server-{uuid.uuid4().hex[:6]}"
    logs.mkdir()
    process = ServerProcess(database_url, logs)
    yield process
    process.stop()


def register(url: str, name: str) -> Person:
    """A person registered over HTTP with the real KDF, with an in-memory trust store."""
    client = Client(url, timeout=20)
    passphrase = passphrase_for(name)
    client.account = client.register(name, passphrase)  # type: ignore[attr-defined]
    return Person(client)


def circle_of(owner: Person, *members: Person, admins: tuple[Person, ...] = ()) -> uuid.UUID:
    """A circle owned by ``owner`` with ``members`` (and ``admins``) invited and confirmed."""
    circle_id = owner.circles.create("Film crews Berlin", "warnings").circle_id
    for joiner in (*members, *admins):
        role = "admin" if joiner in admins else "member"
        invite, _ = owner.circles.create_invite(circle_id, role=role)
        joiner.circles.join(str(invite))
        owner.circles.confirm(circle_id, joiner.name, fingerprint=joiner.fingerprint)
    return circle_id
