"""`backchannel-server`: migrate the database and serve the API."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app import migrate as migrations
from app.cli_help import FlowingHelp
from app.security_log import log_config
from app.settings import Settings, is_loopback
from app.version import describe

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

cli = typer.Typer(
    cls=FlowingHelp, add_completion=False, no_args_is_help=True, help="Run a Backchannel server."
)


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
def web_hashes(
    release_key: Annotated[
        Path | None,
        typer.Option(
            help="Sign a release manifest with this release key file (never on a server)."
        ),
    ] = None,
    release: Annotated[
        int | None, typer.Option(min=1, help="The release number: higher than every earlier one.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Where to write the signed manifest (with --release-key).")
    ] = None,
    rotation: Annotated[
        list[Path] | None,
        typer.Option(
            help="A rotation statement to carry (oldest first), from `release-key rotate`."
        ),
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="The version named (default: the package's).")
    ] = None,
) -> None:
    """SHA-256 of every file the web client is made of (docs/web-assets.sha256); with
    --release-key, the signed release manifest a server then serves (docs/protocol.md §35)."""
    from app.web import asset_hashes

    if release_key is None:
        if release is not None or output is not None or rotation:
            typer.echo("--release, --output and --rotation need --release-key", err=True)
            raise typer.Exit(code=2)
        typer.echo(asset_hashes(), nl=False)
        return
    if release is None or output is None:
        typer.echo("a signed release needs --release N and --output FILE", err=True)
        raise typer.Exit(code=2)
    from app.crypto import CryptoError
    from app.version import PACKAGE_VERSION
    from app.web_release import signed_release, summary

    try:
        signed = signed_release(
            release_key,
            release=release,
            version=version or PACKAGE_VERSION,
            rotations=rotation or [],
        )
    except (CryptoError, OSError) as exc:
        typer.echo(f"not signed: {exc}", err=True)
        raise typer.Exit(code=1) from None
    output.write_bytes(signed.to_bytes())
    typer.echo(summary(signed))


release_key_app = typer.Typer(no_args_is_help=True, help="The web release key (kept off servers).")
cli.add_typer(release_key_app, name="release-key")


@release_key_app.command("new")
def release_key_new(
    path: Annotated[Path, typer.Argument(help="Key file to create (mode 0600).")],
) -> None:
    """Make a release key; print its public key and fingerprint (for the release notes)."""
    from app.web_release import describe_key, new_release_key

    try:
        public = new_release_key(path)
    except FileExistsError:
        typer.echo(f"{path} exists: a release key is never overwritten", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(describe_key(public))


@release_key_app.command("show")
def release_key_show(path: Annotated[Path, typer.Argument(help="A release key file.")]) -> None:
    """Print a release key's public key and fingerprint."""
    from app.crypto import CryptoError
    from app.crypto.release import release_public_key
    from app.web_release import describe_key, read_release_key

    try:
        typer.echo(describe_key(release_public_key(read_release_key(path))))
    except (CryptoError, OSError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from None


@release_key_app.command("rotate")
def release_key_rotate(
    old: Annotated[Path, typer.Option("--from", help="The current release key file.")],
    new: Annotated[Path, typer.Option("--to", help="The next release key file.")],
    output: Annotated[Path, typer.Option(help="Where to write the rotation statement.")],
) -> None:
    """The old key's signed statement that the new key follows it (§35.3); every later
    release signed by the new key carries it (`web-hashes --rotation`)."""
    from app.crypto import CryptoError
    from app.web_release import rotation_statement

    try:
        statement = rotation_statement(old, new)
    except (CryptoError, OSError) as exc:
        typer.echo(f"no statement: {exc}", err=True)
        raise typer.Exit(code=1) from None
    output.write_bytes(statement)
    typer.echo(f"wrote {output}")


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
    from app.crypto import CryptoError
    from app.web import ReleaseMismatch, load_release

    try:
        load_release(settings.web_release)
    except (ReleaseMismatch, CryptoError, OSError) as exc:
        typer.echo(f"refusing to start: BACKCHANNEL_WEB_RELEASE: {exc}", err=True)
        raise typer.Exit(code=2) from None
    uvicorn.run(
        "app.main:create_app",
        **uvicorn_options(host=host, port=port, workers=workers, settings=settings),
    )


def uvicorn_options(
    *, host: str, port: int, workers: int, settings: Settings | None = None
) -> dict[str, Any]:
    """How `serve` runs uvicorn; the HTTP benchmarks run their apps with exactly these."""
    settings = settings or Settings()
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
        # The app's loggers as JSON lines with UTC times on stderr (docs/operations.md, Logs);
        # no address in any line unless BACKCHANNEL_LOG_ADDRESSES, none in the access log.
        "log_config": log_config(addresses=settings.log_addresses),
        "access_log": settings.access_log,
        "limit_concurrency": settings.max_concurrency,
    }


def main() -> None:
    cli()
