"""How both command lines (``backchannel``, ``backchannel-server``) show their help, where
Typer has no setting for it: placeholders instead of Python types, and each command's help
paragraphs as flowing text."""

import inspect
import re
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
    paragraph is what a blank line ends, as in the command's own help. Kept as written: a
    paragraph marked ``\\b`` (Click's "do not rewrap"), one that is a list (a line starting
    with ``-``, ``*`` or a number and a full stop), and whatever follows ``\\f`` (hidden
    from help)."""
    if command.help:
        shown, cut, hidden = inspect.cleandoc(command.help).partition("\f")
        paragraphs = shown.split("\n\n")
        command.help = "\n\n".join(_flowed(p) for p in paragraphs) + cut + hidden
    for sub in getattr(command, "commands", {}).values():
        flow_help(sub)


_LIST_ITEM = re.compile(r"^\s*(?:[-*]|\d+\.)\s", re.MULTILINE)


def _flowed(paragraph: str) -> str:
    stripped = paragraph.lstrip()
    if stripped.startswith(("\b", "\\b")) or _LIST_ITEM.search(paragraph):
        return paragraph
    return " ".join(paragraph.split())


class FlowingHelp(TyperGroup):
    """A root command whose whole tree's help flows (``flow_help``): the groups are built
    before the root, so the root mends them all."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        flow_help(self)
