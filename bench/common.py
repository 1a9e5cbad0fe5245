"""Database helpers shared by the benchmarks: a fresh, migrated database per measurement."""

import contextlib
import os
import tempfile
from collections.abc import Iterator

import psycopg
from sqlalchemy.engine import make_url

from app.migrate import upgrade

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("BACKCHANNEL_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def pg_admin(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_unavailable(url: str) -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        with psycopg.connect(pg_admin(url), autocommit=True, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return None


def usable_engines(names: str) -> list[str]:
    """The engines asked for (comma-separated), without PostgreSQL when it does not answer
    (said so); its version is printed when it does."""
    engines = [e.strip() for e in names.split(",") if e.strip()]
    if "postgresql" in engines:
        why = postgres_unavailable(postgres_url())
        if why:
            print(f"PostgreSQL skipped: {why}")
            engines.remove("postgresql")
        else:
            print(f"PostgreSQL {postgres_version(postgres_url())}")
    return engines


def postgres_version(url: str) -> str:
    with psycopg.connect(pg_admin(url), autocommit=True, connect_timeout=3) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


@contextlib.contextmanager
def fresh_database(engine_name: str, tag: str = "", base: str | None = None) -> Iterator[str]:
    """A migrated, empty database, removed afterwards (SQLite file or ``bc_bench_<pid>`` on
    ``base``, by default ``postgres_url()``)."""
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bc-bench-") as tmp:
            url = f"sqlite:///{tmp}/bench{tag}.db"
            upgrade(url)
            yield url
        return
    base = base or postgres_url()
    name = f"bc_bench_{os.getpid()}{tag}"
    admin = pg_admin(base)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
