"""The `backchannel` entry point: the root command and its groups, one module each."""

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer import _click as click  # Typer carries its own Click; its errors are these

from app.cli_help import FlowingHelp
from app.client.cli import (
    accounts,
    audit,
    circles,
    entries,
    live,
    moderation,
    sealed,
    takedown,
    web,
)
from app.client.cli.context import state
from app.client.cli.output import usage_error
from app.version import describe


class Root(FlowingHelp):
    """The root command: a usage error (an unknown option, a missing argument) is one line,
    ``error [usage] …`` with where to find help, or with ``--json`` a JSON document on
    stderr; never a box. Its help as both command lines show theirs (``app.cli_help``)."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            help_text = exc.ctx.get_help() if exc.ctx is not None else ""
            if help_text:
                click.echo(help_text)
            code = 0
        except click.exceptions.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "backchannel"
            usage_error(exc.format_message(), f"{where} --help", as_json="--json" in argv)
            code = 2
        except typer.Abort:
            click.echo("Aborted.", err=True)
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code or 0)


app = typer.Typer(
    cls=Root, add_completion=False, no_args_is_help=True, help="Backchannel whisper network."
)


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


for module in (accounts, circles, entries, live, sealed, moderation, takedown, audit, web):
    app.add_typer(module.app)


def main() -> None:
    app()
