"""How both command lines (``backchannel``, ``backchannel-server``) show their help, where
Typer has no setting for it: placeholders instead of Python types, and each command's help
paragraphs as flowing text."""

import inspect
from typing import Any

from typer import _click as click  # Typer carries its own Click
from typer.core import TyperArgument, TyperGroup, TyperOption


def _placeholder(self: click.Parameter, ctx: click.Context) -> str | None:
    """Help shows ``--subject TEXT``-style placeholders, not Python types (``<list[str]>``,
    ``<bool>``)."""
    if getattr(self, "is_flag", False):
        return None
    if self.metavar is not None:
        return self.metavar
    name = (self.name or "value").upper()
    return f"{name}…" if getattr(self, "multiple", False) else name


# Both parameter classes take the same placeholder, in whichever command line imports this.
TyperOption.display_type_rich = _placeholder  # type: ignore[method-assign]
TyperArgument.display_type_rich = _placeholder  # type: ignore[method-assign]


def flow_help(command: click.Command) -> None:
    """Each command's help paragraphs as flowing text: in a group's list of commands Typer
    keeps a docstring's line breaks, so at 80 columns its lines broke mid-sentence. A
    paragraph is what a blank line ends, as in the command's own help; one that starts with
    ``\\b`` is kept as written."""
    if command.help:
        paragraphs = inspect.cleandoc(command.help).split("\n\n")
        command.help = "\n\n".join(
            p if p.startswith("\b") else " ".join(p.split()) for p in paragraphs
        )
    for sub in getattr(command, "commands", {}).values():
        flow_help(sub)


class FlowingHelp(TyperGroup):
    """A root command whose whole tree's help flows (``flow_help``): the groups are built
    before the root, so the root mends them all."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        flow_help(self)
