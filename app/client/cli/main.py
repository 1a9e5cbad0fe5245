"""The `backchannel` entry point: the root command and its groups, one module each."""

import inspect
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer import _click as click  # Typer carries its own Click; its errors are these
from typer.core import TyperArgument, TyperGroup, TyperOption

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


class Root(TyperGroup):
    """The root command: a usage error (an unknown option, a missing argument) is one line,
    ``error [usage] …`` with where to find help, or with ``--json`` a JSON document on
    stderr; never a box."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_help(self)

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


def _plain_help(command: click.Command) -> None:
    """Each command's help paragraphs as flowing text: in a group's list of commands Typer
    keeps a docstring's line breaks, so at 80 columns its lines broke mid-sentence. Typer
    has no setting for this; the groups are built before the root, so the root mends them
    all. A paragraph is what a blank line ends, as in the command's own help."""
    if command.help:
        paragraphs = inspect.cleandoc(command.help).split("\n\n")
        command.help = "\n\n".join(
            p if p.startswith("\b") else " ".join(p.split()) for p in paragraphs
        )
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


def _placeholder(self: click.Parameter, ctx: click.Context) -> str | None:
    """Help shows ``--subject TEXT``-style placeholders, not Python types (``<list[str]>``)."""
    if getattr(self, "is_flag", False):
        return None
    if self.metavar is not None:
        return self.metavar
    name = (self.name or "value").upper()
    return f"{name}…" if getattr(self, "multiple", False) else name


# Typer has no setting for this; both parameter classes take the same placeholder.
TyperOption.display_type_rich = _placeholder  # type: ignore[method-assign]
TyperArgument.display_type_rich = _placeholder  # type: ignore[method-assign]

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
