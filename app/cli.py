"""`backchannel-server`: migrate the database and serve the API."""

from typing import Annotated

import typer

from app import migrate as migrations
from app.settings import Settings, is_loopback

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="Run a Backchannel server.")


@cli.command()
def migrate() -> None:
    """Upgrade the database in BACKCHANNEL_DATABASE_URL to the newest schema."""
    migrations.upgrade(Settings().database_url)
    typer.echo("database is at the newest revision")


@cli.command()
def purge() -> None:
    """Wipe every warning past its expiry now (the server also does this periodically)."""
    from app.entries.purge import purge_all

    count = purge_all(Settings())
    typer.echo(f"expired entries wiped: {count}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API (and, once built, the web client)."""
    import uvicorn

    settings = Settings()
    if settings.uses_development_secret and not is_loopback(host):
        typer.echo(
            "refusing to listen on a non-loopback address with the development secret: "
            "set BACKCHANNEL_SECRET_KEY to a long random value",
            err=True,
        )
        raise typer.Exit(code=2)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        proxy_headers=True,
        server_header=False,
        log_level="info",
    )


def main() -> None:
    cli()
