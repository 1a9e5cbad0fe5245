"""The `backchannel` entry point: the root command and its groups, one module each."""

from typing import Annotated

import typer

from app.client.cli import accounts, audit, circles, entries, moderation, takedown
from app.client.cli.context import state

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Backchannel whisper network.")


@app.callback()
def _main(
    server: Annotated[
        str | None,
        typer.Option(envvar="BACKCHANNEL_SERVER", help="Server URL (default: the profile's)."),
    ] = None,
) -> None:
    state.server = server


for module in (accounts, circles, entries, moderation, takedown, audit):
    app.add_typer(module.app)


def main() -> None:
    app()
