"""Test fixtures: every test runs on SQLite and PostgreSQL, schemas come from Alembic.

Each engine has a template migrated once per run with ``alembic upgrade head``;
each test gets a fresh copy (a file copy for SQLite, ``CREATE DATABASE ...
TEMPLATE`` for PostgreSQL), so tests are isolated and the real migrations are
what get tested.
"""

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from app.client.sdk import Client
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.settings import Settings

POSTGRES_URL = os.environ.get("BACKCHANNEL_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("BACKCHANNEL_REQUIRE_POSTGRES") == "1"
ENGINES = ["sqlite", "postgresql"]
TEST_SECRET = "test-secret-key-that-is-long-enough-for-tests"


def _pg_admin_url() -> str:
    assert POSTGRES_URL
    return make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url_for(database: str) -> str:
    assert POSTGRES_URL
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


def _pg_execute(sql: str) -> None:
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:  # fold the WAL into the main file before copying it
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("BACKCHANNEL_REQUIRE_POSTGRES=1 but BACKCHANNEL_TEST_POSTGRES_URL is unset")
        pytest.skip("set BACKCHANNEL_TEST_POSTGRES_URL to run the PostgreSQL tests")
    name = f"bc_template_{os.getpid()}"
    try:
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}"')
        _pg_execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    upgrade(_pg_url_for(name))
    yield name
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "backchannel.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"bc_test_{uuid.uuid4().hex[:12]}"
    _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    yield _pg_url_for(name)
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(database_url: str, **overrides: Any) -> Settings:
    # Server-side hashing is cheap in tests; the client's Argon2id floor is real.
    cheap = {
        "server_hash_time_cost": 1,
        "server_hash_memory_kib": 1024,
        "takedown_work": 1,  # a proof of work is 8 evaluations
    }
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,  # type: ignore[arg-type]
        **(cheap | overrides),
    )


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., FastAPI]]:
    """More apps over this test's database, each with its own settings overrides (the
    database is shared with ``app``, so one test can serve the same rows two ways)."""
    made: list[FastAPI] = []

    def factory(**overrides: Any) -> FastAPI:
        application = create_app(make_settings(database_url, **overrides))
        made.append(application)
        return application

    yield factory
    for application in made:
        application.state.engine.dispose()


@pytest.fixture
def engine(app: FastAPI) -> Engine:
    """The app's own engine, for tests that inspect or tamper with stored rows."""
    result: Engine = app.state.engine
    return result


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def make_client(http: TestClient) -> Callable[..., Client]:
    """An SDK client speaking HTTP to the in-process app."""

    def factory(token: str | None = None) -> Client:
        return Client("http://testserver", token=token, http=http)

    return factory


# None contains a username: the clients refuse such a passphrase (ASVS 6.2.11).
PASSPHRASES = {
    "alice": "correct horse battery amber",
    "bob": "staple paperclip river bend",
    "carol": "lantern orchard frost meadow",
}


def passphrase_for(username: str) -> str:
    return PASSPHRASES.get(username, "quartz-vellum 7731 kite")


def sign_up(client: Client, username: str) -> Client:
    """Register a user through the real API; the client is then logged in as them."""
    account = client.register(username, passphrase_for(username))
    client.account = account  # type: ignore[attr-defined]
    return client


@pytest.fixture
def register(make_client: Callable[..., Client]) -> Callable[..., Client]:
    """Register a user through the real API; return a client logged in as them."""
    return lambda username: sign_up(make_client(), username)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI, **options: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a loopback port (``options``: more uvicorn settings)."""
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The same app served by uvicorn on a loopback port, for end-to-end CLI tests."""
    with serving(app) as url:
        yield url


class Person:
    """A registered user with an SDK client, circle helper and in-memory trust store."""

    def __init__(self, client: Client) -> None:
        from app.client.circles import Circles
        from app.client.trust import TrustStore

        account = client.account  # type: ignore[attr-defined]
        self.client = client
        self.account = account
        self.name: str = account.username
        self.circles = Circles(
            client,
            username=account.username,
            identity=account.identity,
            trust=TrustStore.in_memory(),
        )

    @property
    def fingerprint(self) -> str:
        return str(self.account.fingerprint)


@pytest.fixture
def person(register: Callable[..., Client]) -> Callable[[str], Person]:
    return lambda name: Person(register(name))


class World:
    """alice owns a circle; bob is a member; carol is an admin; dave is pending; erin was
    removed; frank is an outsider."""

    def __init__(self, person: Callable[[str], Person]) -> None:
        self.alice, self.bob, self.carol = person("alice"), person("bob"), person("carol")
        self.dave, self.erin, self.frank = person("dave"), person("erin"), person("frank")
        circle = self.alice.circles.create("Film crews Berlin", "warnings")
        self.circle_id = circle.circle_id
        for joiner, role in (
            (self.bob, "member"),
            (self.carol, "admin"),
            (self.dave, "member"),
            (self.erin, "member"),
        ):
            invite, _ = self.alice.circles.create_invite(self.circle_id, role=role)
            joiner.circles.join(str(invite))
            if joiner is not self.dave:
                self.alice.circles.confirm(
                    self.circle_id, joiner.name, fingerprint=joiner.fingerprint
                )
        self.alice.circles.remove(self.circle_id, "erin")

    def open_anonymous(self) -> None:
        """alice (an admin) makes the moderation key and signs the epoch's token key, which
        anonymous posting needs (docs/protocol.md §38)."""
        from app.client.anon import Anonymous

        Anonymous(self.alice.circles).set_up(self.circle_id)

    def everyone(self) -> dict[str, Person]:
        return {
            "owner": self.alice,
            "admin": self.carol,
            "member": self.bob,
            "pending": self.dave,
            "removed": self.erin,
            "outsider": self.frank,
        }


@pytest.fixture
def world(person: Callable[[str], Person]) -> World:
    return World(person)
