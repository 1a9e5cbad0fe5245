"""`backchannel-server`: migrate the database and serve the API."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app import migrate as migrations
from app.security_log import log_config
from app.settings import Settings, is_loopback
from app.version import describe

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="Run a Backchannel server.")


def _print_version(show: bool) -> None:
    if show:
        revisions = migrations.SCHEMA_REVISIONS
        typer.echo(describe("backchannel-server"))
        typer.echo(f"database schema revisions {revisions.oldest} to {revisions.newest}")
        raise typer.Exit()


@cli.callback()
def server(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Show the package, API, protocol and schema versions, then exit.",
        ),
    ] = False,
) -> None:
    """Run a Backchannel server."""


@contextmanager
def _engine() -> "Iterator[Engine]":
    from app.db import make_engine

    engine = make_engine(Settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@cli.command()
def migrate() -> None:
    """Upgrade the database in BACKCHANNEL_DATABASE_URL to the newest schema."""
    with _engine() as engine:
        unknown = set(migrations.database_revisions(engine)) - set(migrations.known_revisions())
    if unknown:
        typer.echo(
            f"the database is at schema revision {', '.join(sorted(unknown))}, which this "
            "release does not know: a newer release migrated it; migrate with that one",
            err=True,
        )
        raise typer.Exit(code=2)
    migrations.upgrade(Settings().database_url)
    typer.echo("database is at the newest revision")


@cli.command()
def schema() -> None:
    """The database's schema revision, and the revisions this server works with."""
    revisions = migrations.SCHEMA_REVISIONS
    with _engine() as engine:
        current = migrations.database_revisions(engine)
    typer.echo(f"database: {', '.join(current) or 'no schema'}")
    typer.echo(f"this server works with {revisions.oldest} to {revisions.newest}")


@cli.command()
def purge() -> None:
    """Wipe every warning past its expiry now (the server also does this periodically)."""
    from app.entries.purge import purge_all

    count = purge_all(Settings())
    typer.echo(f"expired entries wiped: {count}")


signing_app = typer.Typer(help="The server's tree-head signing key (audit log).")
cli.add_typer(signing_app, name="signing-key")


@contextmanager
def _signing_session() -> "Iterator[tuple[Session, Settings]]":
    from app.db import make_engine, make_session_factory

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine, write=True)() as session, session.begin():
            yield session, settings
    finally:
        engine.dispose()


@signing_app.command("show")
def signing_show() -> None:
    """Every tree-head key, oldest first: publish these so clients can check them."""
    from app.audit import signing
    from app.crypto import b64encode

    with _signing_session() as (session, settings):
        for row in signing.all_keys(session, settings):
            typer.echo(
                f"key {row.id}: {b64encode(row.public_key)} signs from {row.not_before}"
                + (" (announced by its predecessor)" if row.succession_signature else "")
            )


@signing_app.command("rotate")
def signing_rotate(
    notice_days: Annotated[
        int, typer.Option(min=0, max=365, help="Days before the new key starts signing.")
    ] = 14,
) -> None:
    """Announce a new tree-head key, signed by the current one; it signs after the notice."""
    from datetime import timedelta

    from app.audit import signing
    from app.crypto import b64encode

    with _signing_session() as (session, settings):
        row = signing.rotate(session, settings, notice=timedelta(days=notice_days))
        typer.echo(
            f"new key {row.id}: {b64encode(row.public_key)} signs from {row.not_before}; "
            "publish it with the old one"
        )


sessions_app = typer.Typer(help="Users' sessions.")
cli.add_typer(sessions_app, name="sessions")


@sessions_app.command("end")
def sessions_end(
    user: Annotated[str | None, typer.Option(help="End this user's sessions.")] = None,
    every_user: Annotated[bool, typer.Option("--all", help="End every user's sessions.")] = False,
) -> None:
    """End sessions now: one user's (--user NAME) or everyone's (--all)."""
    from app.accounts.sessions import end_sessions_by_operator
    from app.crypto import CryptoError, normalise_username
    from app.db import make_engine, make_session_factory, session_scope
    from app.errors import UserNotFound

    if (user is None) == (not every_user):
        typer.echo("give either --user NAME or --all", err=True)
        raise typer.Exit(code=2)
    engine = make_engine(Settings().database_url)
    try:
        username = None if user is None else normalise_username(user)
        with session_scope(make_session_factory(engine, write=True)) as session:
            ended = end_sessions_by_operator(session, username=username)
    except (CryptoError, UserNotFound):
        typer.echo(f"no such user: {user}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()
    typer.echo(f"sessions ended: {ended}")


@cli.command("web-hashes")
def web_hashes() -> None:
    """SHA-256 of every file the web client is made of, as published in docs/web-assets.sha256."""
    from app.web import asset_hashes

    typer.echo(asset_hashes(), nl=False)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API and the web client."""
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    settings = Settings()
    if settings.uses_development_secret and not is_loopback(host):
        typer.echo(
            "refusing to listen on a non-loopback address with the development secret: "
            "set BACKCHANNEL_SECRET_KEY to a long random value",
            err=True,
        )
        raise typer.Exit(code=2)
    # Each worker checks again at startup; this check only says it once, without a traceback.
    with _engine() as engine:
        try:
            migrations.check_schema(engine)
        except migrations.SchemaOutOfRange as exc:
            typer.echo(f"refusing to start: {exc}", err=True)
            raise typer.Exit(code=2) from None
        except SQLAlchemyError:
            pass  # unreachable now: the app starts degraded and health says so
    uvicorn.run("app.main:create_app", **uvicorn_options(host=host, port=port, workers=workers))


def uvicorn_options(*, host: str, port: int, workers: int) -> dict[str, Any]:
    """How `serve` runs uvicorn; the HTTP benchmarks run their apps with exactly these."""
    return {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "loop": "uvloop",
        "http": "httptools",
        # The app reads X-Forwarded-For itself, from BACKCHANNEL_TRUSTED_PROXIES only
        # (app.main); uvicorn's own handling would trust any loopback peer.
        "proxy_headers": False,
        "server_header": False,
        "log_level": "info",
        # The app's loggers as JSON lines with UTC times on stderr (docs/operations.md, Logs).
        "log_config": log_config(),
    }


def main() -> None:
    cli()
