"""The `backchannel` entry point: the root command and its groups, one module each."""

from typing import Annotated

import typer

from app.client.cli import accounts, audit, circles, entries, moderation, sealed, takedown, web
from app.client.cli.context import state
from app.version import describe

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Backchannel whisper network.")


def _print_version(show: bool) -> None:
    if show:
        typer.echo(describe("backchannel"))
        raise typer.Exit()


@app.callback()
def _main(
    server: Annotated[
        str | None,
        typer.Option(envvar="BACKCHANNEL_SERVER", help="Server URL (default: the profile's)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Show the package, API and protocol versions, then exit.",
        ),
    ] = False,
) -> None:
    state.server = server


for module in (accounts, circles, entries, sealed, moderation, takedown, audit, web):
    app.add_typer(module.app)


def main() -> None:
    app()
